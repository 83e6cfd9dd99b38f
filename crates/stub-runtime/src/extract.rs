//! Reading the request's parts: `api-version`, and path, query, header and cookie parameters as JSON
//! values for the validators (credentials are [`crate::security`]'s).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::Uri;
use axum::http::header::{AsHeaderName, COOKIE, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use crate::{API_VERSION_HEADER, ApiVersion, Rejection, RouterConfig, Validator};

/// Answers 426 if the request declares an `api-version` older than `config.min_api_version`, 400 if the header
/// cannot be read as a version. No header, or no minimum configured: served.
pub fn check_api_version(headers: &HeaderMap, config: &RouterConfig) -> Result<(), Rejection> {
    let Some(value) = single_header(headers, &API_VERSION_HEADER)? else {
        return Ok(());
    };
    let declared = value.to_str().ok().and_then(parse_version).ok_or_else(|| {
        Rejection::bad_request("the api-version header is not a version (expected MAJOR.MINOR.PATCH)")
    })?;
    match &config.min_api_version {
        Some(min) if declared < *min => Err(Rejection::upgrade_required(&declared, min)),
        _ => Ok(()),
    }
}

/// `1`, `1.2` and `1.2.3` (with optional pre-release) all read as versions; missing parts count as zero.
pub(crate) fn parse_version(text: &str) -> Option<ApiVersion> {
    let text = text.trim_ascii();
    // The full form, which clients send, is read as it is: padding every version first (a formatted copy) cost 1.0 k
    // instructions per 422 of secrets-server (47.0 k against 46.0 k, 2 %) and 0.7 k per create (callgrind).
    if let Ok(version) = ApiVersion::parse(text) {
        return Some(version);
    }
    let (core, rest) = text.split_at(text.find(['-', '+']).unwrap_or(text.len()));
    let padding = match core.split('.').count() {
        1 => ".0.0",
        2 => ".0",
        _ => return None,
    };
    ApiVersion::parse(&format!("{core}{padding}{rest}")).ok()
}

/// The request's `Accept` header as text, for [`Context::preferred`](crate::Context::preferred); several headers are
/// joined as one list, as HTTP allows.
pub fn accept(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// At most one value of a header: two are ambiguous, so 400.
pub(crate) fn single_header<K>(headers: &HeaderMap, name: K) -> Result<Option<&HeaderValue>, Rejection>
where
    K: AsHeaderName + std::fmt::Display + Copy,
{
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (first, None) => Ok(first),
        (Some(_), Some(_)) => Err(Rejection::bad_request(format!(
            "the {name} header is given more than once"
        ))),
        (None, Some(_)) => unreachable!("an iterator yields nothing after its end"),
    }
}

/// The matched path parameters, percent-decoded.
pub async fn path_params(parts: &mut Parts) -> Result<HashMap<String, String>, Rejection> {
    let params = RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|_| Rejection::bad_request("a path parameter is not valid percent-encoded UTF-8"))?;
    Ok(params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

/// A request's query parameters or cookies as decoded `(name, value)` pairs, in order; the generated handler asks
/// for each declared parameter in the shape its style gives it.
#[derive(Clone, Debug)]
pub struct Pairs {
    what: &'static str,
    pairs: Vec<(String, String)>,
}

/// The query string's parameters, percent-decoded (`+` is a space).
pub fn query(uri: &Uri) -> Pairs {
    let pairs = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    Pairs {
        what: "query parameter",
        pairs,
    }
}

/// The cookies of every `Cookie` header (`a=1; b=2`), as sent (cookie values are not percent-decoded, per RFC
/// 6265; surrounding double quotes are dropped). A header that is not visible ASCII is a 400.
pub fn cookies(headers: &HeaderMap) -> Result<Pairs, Rejection> {
    let mut pairs = Vec::new();
    for value in headers.get_all(COOKIE) {
        let text = value
            .to_str()
            .map_err(|_| Rejection::bad_request("the Cookie header is not visible ASCII"))?;
        for cookie in text.split(';') {
            if let Some((name, value)) = cookie.split_once('=') {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                pairs.push((name.trim().to_owned(), value.to_owned()));
            }
        }
    }
    Ok(Pairs { what: "cookie", pairs })
}

impl Pairs {
    /// What the pairs are, for messages: `query parameter` or `cookie`.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The one value of `name`; given twice is ambiguous, so a 400.
    pub fn single(&self, name: &str) -> Result<Option<String>, Rejection> {
        let mut values = self.pairs.iter().filter(|(key, _)| key == name);
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some((_, value)), None) => Ok(Some(value.clone())),
            (Some(_), Some(_)) => Err(Rejection::bad_request(format!(
                "{} `{name}` is given more than once",
                self.what
            ))),
        }
    }

    /// Every value of a repeated key (`ids=1&ids=2`, an exploded `form` array); `None` when there is none.
    pub fn repeated(&self, name: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect();
        (!values.is_empty()).then_some(values)
    }

    /// The `name[key]=value` pairs of a `deepObject` parameter; `None` when there is none, a key given twice is a 400.
    pub fn deep_object(&self, name: &str) -> Result<Option<Vec<(String, String)>>, Rejection> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for (key, value) in &self.pairs {
            let Some(field) = key
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('['))
                .and_then(|rest| rest.strip_suffix(']'))
            else {
                continue;
            };
            if fields.iter().any(|(seen, _)| seen == field) {
                return Err(Rejection::bad_request(format!(
                    "{} `{name}[{field}]` is given more than once",
                    self.what
                )));
            }
            fields.push((field.to_owned(), value.clone()));
        }
        Ok((!fields.is_empty()).then_some(fields))
    }
}

/// A header parameter's value; two values, or one that is not visible ASCII, is a 400.
pub fn header_param(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, Rejection> {
    match single_header(headers, name)? {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.to_owned()))
            .map_err(|_| Rejection::bad_request(format!("the {name} header is not visible ASCII"))),
    }
}

/// The JSON type a parameter's schema declares; raw text is converted to it before validation.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    /// Kept as text.
    String,
    /// Read as an integer when it is one.
    Integer,
    /// Read as a number when it is one.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A schema of several JSON types (an untyped `enum: [true, false, 0, 1]`): `true` or `false`, else a number,
    /// else text.
    Any,
}

/// A parameter's text as the JSON value its schema expects; text that does not convert stays a string, so the
/// validator reports the type error with the parameter's `loc`.
pub fn coerce(raw: String, kind: ParamKind) -> Value {
    let converted = match kind {
        ParamKind::String => None,
        ParamKind::Integer => raw.parse::<i64>().ok().map(Value::from),
        ParamKind::Number => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        ParamKind::Boolean => boolean(&raw),
        ParamKind::Any => boolean(&raw)
            .or_else(|| raw.parse::<i64>().ok().map(Value::from))
            .or_else(|| {
                raw.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            }),
    };
    converted.unwrap_or(Value::String(raw))
}

fn boolean(raw: &str) -> Option<Value> {
    match raw {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// The items of a delimited array parameter (`1,2,3`); an empty value is an empty array.
pub fn split(raw: &str, delimiter: char) -> Vec<String> {
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(delimiter).map(str::to_owned).collect()
}

/// A header or path object in the `simple` style as `(key, value)` pairs: alternating keys and values
/// (`color,red,size,3`), or, exploded, `key=value` items (`color=red,size=3`; an item without `=` is a key with an
/// empty value). A key without its value (`color`) has an empty one.
pub fn simple_object(raw: &str, explode: bool) -> Vec<(String, String)> {
    let items = split(raw, ',');
    if explode {
        items
            .into_iter()
            .map(|item| match item.split_once('=') {
                Some((key, value)) => (key.to_owned(), value.to_owned()),
                None => (item, String::new()),
            })
            .collect()
    } else {
        items
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair.get(1).cloned().unwrap_or_default()))
            .collect()
    }
}

/// An array parameter's items, each converted as [`coerce`] does.
pub fn coerce_items(items: Vec<String>, kind: ParamKind) -> Value {
    Value::Array(items.into_iter().map(|item| coerce(item, kind)).collect())
}

/// A `deepObject` parameter's fields as an object: declared properties converted to their kind, others kept as text
/// (for the validator to judge).
pub fn coerce_fields(fields: Vec<(String, String)>, kinds: &[(&str, ParamKind)]) -> Value {
    let object: Map<String, Value> = fields
        .into_iter()
        .map(|(key, raw)| {
            let value = match kinds.iter().find(|(name, _)| *name == key) {
                Some((_, kind)) => coerce(raw, *kind),
                None => Value::String(raw),
            };
            (key, value)
        })
        .collect();
    Value::Object(object)
}

/// One parameter into `object` (the path, query, header or cookie part being validated): its raw text `raw`, when
/// present, made a JSON value by `coerce`, walked by `check` at `loc: [part, name]` and inserted under `name`; when
/// absent and `required`, a `missing` violation. What generated handlers call for each parameter.
pub fn param<R>(
    cx: &mut Validator,
    object: &mut Map<String, Value>,
    name: &'static str,
    raw: Option<R>,
    required: bool,
    coerce: impl FnOnce(R) -> Value,
    check: impl FnOnce(&mut Validator, &Value),
) {
    match raw {
        Some(raw) => {
            let value = coerce(raw);
            cx.enter(name);
            check(cx, &value);
            cx.leave();
            object.insert(name.to_owned(), value);
        }
        None if required => cx.missing(name),
        None => {}
    }
}

/// A `content: application/json` parameter's value, or `None` after recording `json_invalid` at the current place.
pub fn json_param(raw: &str, cx: &mut Validator) -> Option<Value> {
    match serde_json::from_str(raw) {
        Ok(value) => Some(value),
        Err(_) => {
            cx.fail("json_invalid", "must be valid JSON");
            None
        }
    }
}

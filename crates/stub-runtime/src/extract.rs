//! Reading the request's parts: the request id, `api-version`, the bearer token, and path, query and header
//! parameters as JSON values for the validators.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::Uri;
use axum::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use serde_json::Value;

use crate::{API_VERSION_HEADER, ApiVersion, Rejection, RequestId, RouterConfig};

/// The request id the router's middleware stored on the request (a fresh one outside the router, e.g. in tests).
pub fn request_id(parts: &Parts) -> RequestId {
    parts
        .extensions
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(RequestId::generate)
}

/// Answers 426 if the request declares an `api-version` older than `config.min_api_version`, 400 if the header
/// cannot be read as a version. No header, or no minimum configured: served.
pub fn check_api_version(headers: &HeaderMap, config: &RouterConfig) -> Result<(), Rejection> {
    let Some(value) = single_header(headers, API_VERSION_HEADER)? else {
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
    let text = text.trim();
    let core_len = text.find(['-', '+']).unwrap_or(text.len());
    let parts = text[..core_len].split('.').count();
    let padded = match parts {
        1 => format!("{}.0.0{}", &text[..core_len], &text[core_len..]),
        2 => format!("{}.0{}", &text[..core_len], &text[core_len..]),
        _ => text.to_owned(),
    };
    ApiVersion::parse(&padded).ok()
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

/// The bearer token of `Authorization: Bearer <token>` (scheme matched case-insensitively), or a 401.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, Rejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(AUTHORIZATION) {
            Rejection::unauthorized("more than one Authorization header")
        } else {
            Rejection::unauthorized("missing bearer token in the Authorization header")
        });
    };
    let malformed = || Rejection::unauthorized("the Authorization header must be `Bearer <token>`");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(char::is_whitespace) {
        return Err(malformed());
    }
    Ok(token)
}

/// At most one value of a header: two are ambiguous, so 400.
pub(crate) fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h HeaderValue>, Rejection> {
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

/// The declared query parameters; undeclared ones are ignored, a declared one given twice is a 400.
pub fn query_params(uri: &Uri, declared: &[&'static str]) -> Result<HashMap<&'static str, String>, Rejection> {
    let mut found = HashMap::new();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if let Some(name) = declared.iter().find(|name| **name == key)
            && found.insert(*name, value.into_owned()).is_some()
        {
            return Err(Rejection::bad_request(format!(
                "query parameter `{name}` is given more than once"
            )));
        }
    }
    Ok(found)
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
        ParamKind::Boolean => match raw.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
    };
    converted.unwrap_or(Value::String(raw))
}

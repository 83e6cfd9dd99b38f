//! The hand-written half of the stub: the error envelope, request context, and the extraction and validation
//! helpers that the generated router calls. Generated code reaches everything here through one path (`crate::runtime`
//! in this crate), so the same generator output compiles against it from any crate.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

pub use semver::Version as ApiVersion;

/// The request header that carries the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The request header in which clients declare the API version they were built for.
pub const API_VERSION_HEADER: &str = "api-version";
/// The default limit on request bodies, as the spec documents it.
pub const DEFAULT_BODY_LIMIT: usize = 262_144;

/// Settings of the generated router.
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// Requests with a larger body are answered 413 before the body is parsed.
    pub body_limit: usize,
    /// When set, a request that declares an older `api-version` is answered 426. Requests without the header are
    /// always served.
    pub min_api_version: Option<ApiVersion>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            min_api_version: None,
        }
    }
}

/// Identifies one request in logs and in the `x-request-id` response header; 5xx details name it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id a client sent, if it is short and plain enough to repeat in headers and logs.
    fn from_client(value: &str) -> Option<Self> {
        let sane = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        sane.then(|| Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What every operation receives besides its typed inputs.
#[derive(Clone, Debug)]
pub struct Context<C> {
    /// What `authenticate` returned; `()` for operations without security requirements.
    pub caller: C,
    /// The id of this request, for logs and 5xx details.
    pub request_id: RequestId,
}

/// One place in a request: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Loc {
    /// An object key, or the request part (`body`, `path`, `query`, `header`).
    Key(String),
    /// An array index.
    Index(usize),
}

impl From<&str> for Loc {
    fn from(key: &str) -> Self {
        Self::Key(key.to_owned())
    }
}

impl From<&String> for Loc {
    fn from(key: &String) -> Self {
        Self::Key(key.clone())
    }
}

impl From<usize> for Loc {
    fn from(index: usize) -> Self {
        Self::Index(index)
    }
}

/// One violation of the request schema, serialized as the spec's `ErrorDetail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Where, from the request part down.
    pub loc: Vec<Loc>,
    /// What is wrong; never contains the submitted value.
    pub msg: String,
    /// The pydantic-style kind (the spec's `ErrorDetail.type` lists them).
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// An error answer in the envelope (`ErrorResponse`): the one conversion from a failure to HTTP, used by the router
/// for every rejection and by implementers for theirs.
#[derive(Clone, Debug)]
pub struct Rejection {
    status: StatusCode,
    kind: Cow<'static, str>,
    detail: String,
    errors: Vec<Violation>,
    retry_after: Option<u32>,
}

impl Rejection {
    /// Any status with any `type`; prefer the named constructors.
    pub fn new(status: StatusCode, kind: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind: kind.into(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", detail)
    }

    /// 401 `authentication_error`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", detail)
    }

    /// 403 `permission_error`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", detail)
    }

    /// 404 `not_found_error`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found_error", detail)
    }

    /// 405 `method_not_allowed_error`; the router adds the `Allow` header.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed_error",
            "this method is not allowed on this path; see the Allow header",
        )
    }

    /// 409 `already_exists_error`.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "already_exists_error", detail)
    }

    /// 413 `request_too_large_error`.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large_error",
            format!("request body is larger than {limit} bytes"),
        )
    }

    /// 422 `validation_error` listing every violation.
    pub fn validation(errors: Vec<Violation>) -> Self {
        let only_body = errors
            .iter()
            .all(|e| e.loc.first() == Some(&Loc::Key("body".to_owned())));
        let detail = if only_body {
            "request body does not match the schema"
        } else {
            "request does not match the schema"
        };
        Self {
            errors,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", detail)
        }
    }

    /// 426 `upgrade_required`.
    pub fn upgrade_required(declared: &ApiVersion, required: &ApiVersion) -> Self {
        Self::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            format!(
                "api-version {declared} is no longer served; upgrade the client to api-version {required} or later"
            ),
        )
    }

    /// 429 `rate_limit_error` with `Retry-After`.
    pub fn too_many_requests(retry_after_secs: u32) -> Self {
        let retry_after_secs = retry_after_secs.max(1);
        let detail = format!("rate limit exceeded for this token; retry after {retry_after_secs} seconds");
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", detail)
        }
    }

    /// 500 `internal_error`: names the request id, never the cause (log that with the id).
    pub fn internal(request_id: &RequestId) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("internal error (request id {request_id})"),
        )
    }

    /// 502 `storage_error`: the secret store failed.
    pub fn storage(request_id: &RequestId) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "storage_error",
            format!("the secret store failed (request id {request_id})"),
        )
    }

    /// 504 `timeout_error`: the secret store did not answer in time.
    pub fn timeout(request_id: &RequestId, waited_secs: u64) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout_error",
            format!("the secret store did not answer within {waited_secs} seconds (request id {request_id})"),
        )
    }

    /// The envelope as the spec's `ErrorResponse` type (any type of that shape), for the error variants of the
    /// generated response enums: `CreateSecretFromPresetResponse::Conflict(rejection.to_envelope()?)`.
    pub fn to_envelope<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::to_value(self.envelope()).and_then(serde_json::from_value)
    }

    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            code: self.status.as_u16(),
            detail: &self.detail,
            kind: &self.kind,
            errors: &self.errors,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The envelope's `type`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The envelope's `detail`.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The envelope's `errors` (only on 422).
    pub fn errors(&self) -> &[Violation] {
        &self.errors
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.kind, self.detail)
    }
}

impl std::error::Error for Rejection {}

#[derive(Serialize)]
struct Envelope<'a> {
    code: u16,
    detail: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [Violation],
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut response = json(self.status.as_u16(), &self.envelope());
        if let Some(secs) = self.retry_after {
            header(&mut response, "retry-after", secs);
        }
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is never read, so the connection cannot carry another request: say so, or a
            // client that pools connections sends its next request into a closing socket.
            response
                .headers_mut()
                .insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A JSON response; generated `IntoResponse` impls build every body through here.
pub fn json(status: u16, body: &impl Serialize) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(err) => {
            // Only our own types are serialized here, so this is a bug; the body would not say more than this.
            tracing::error!(error = %err, "response body cannot be serialized");
            let body = br#"{"code":500,"detail":"internal error","type":"internal_error"}"#;
            let mut response = Response::new(Body::from(&body[..]));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }
}

/// A response without a body (204 and the like).
pub fn empty(status: u16) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// Sets a documented response header; a value that cannot be a header is left out and logged.
pub fn header(response: &mut Response, name: &'static str, value: impl fmt::Display) {
    match HeaderValue::try_from(value.to_string()) {
        Ok(value) => {
            response.headers_mut().insert(HeaderName::from_static(name), value);
        }
        Err(_) => tracing::error!(header = name, "response header value is not valid in HTTP; left out"),
    }
}

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
fn parse_version(text: &str) -> Option<ApiVersion> {
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
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h HeaderValue>, Rejection> {
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

/// Reads a JSON request body: 413 over `limit`, 400 for a missing or wrong `Content-Type`, invalid JSON, duplicate
/// keys, trailing bytes, or (when `object`) a value that is not an object. `None` only for an empty optional body.
/// No detail ever quotes the body: only line, column and category.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    required: bool,
    object: bool,
) -> Result<Option<Value>, Rejection> {
    let declared_len = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > limit as u64) {
        return Err(Rejection::payload_too_large(limit));
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(Rejection::payload_too_large(limit));
        }
        Err(_) => return Err(Rejection::bad_request("request body could not be read")),
    };
    if bytes.is_empty() && !required {
        return Ok(None);
    }
    check_content_type(headers)?;
    let value = parse_strict(&bytes)?;
    if object && !value.is_object() {
        return Err(Rejection::bad_request("request body is not a JSON object"));
    }
    Ok(Some(value))
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Rejection> {
    let wrong = || Rejection::bad_request("Content-Type must be application/json");
    let value = single_header(headers, CONTENT_TYPE.as_str())?.ok_or_else(wrong)?;
    let value = value.to_str().map_err(|_| wrong())?.to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    let json = essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json") && !sub.contains('/'));
    let utf8 = parts.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim() == "charset" => value.trim().trim_matches('"') == "utf-8",
        _ => true,
    });
    if json && utf8 { Ok(()) } else { Err(wrong()) }
}

/// Parses JSON like `serde_json::from_slice::<Value>`, but rejects duplicate object keys (serde_json would keep the
/// last one silently, so what we validate could differ from what another parser reads).
fn parse_strict(bytes: &[u8]) -> Result<Value, Rejection> {
    serde_json::from_slice::<StrictValue>(bytes)
        .map(|v| v.0)
        .map_err(|err| {
            let (line, column) = (err.line(), err.column());
            // serde_json's own messages can quote the input, so only its category and position are used.
            let detail = match err.classify() {
                serde_json::error::Category::Data => {
                    format!("request body has a duplicate object key at line {line} column {column}")
                }
                serde_json::error::Category::Eof => {
                    format!("request body is not valid JSON: unexpected end at line {line} column {column}")
                }
                _ if err.to_string().starts_with("trailing characters") => {
                    format!("request body has bytes after the JSON value at line {line} column {column}")
                }
                _ => format!("request body is not valid JSON: syntax error at line {line} column {column}"),
            };
            Rejection::bad_request(detail)
        })
}

struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(A::Error::custom("duplicate key"));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Deserializes a validated part of the request into its generated type. Validation should have caught anything
/// this rejects; if not, the answer is still a 422 that does not echo the value (serde's message might).
pub fn typed<T: DeserializeOwned>(value: Value, part: &'static str) -> Result<T, Rejection> {
    serde_json::from_value(value).map_err(|err| {
        tracing::warn!(part, category = ?err.classify(), "request passed validation but does not deserialize");
        Rejection::validation(vec![Violation {
            loc: vec![Loc::Key(part.to_owned())],
            msg: "does not match the schema".to_owned(),
            kind: "value_error",
        }])
    })
}

/// A `pattern` from the spec, compiled on first use (the generator checked that it compiles).
pub struct Pattern {
    source: &'static str,
    regex: OnceLock<regex::Regex>,
}

impl Pattern {
    /// A pattern for a `static`.
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            regex: OnceLock::new(),
        }
    }

    fn is_match(&self, text: &str) -> bool {
        self.regex
            .get_or_init(|| regex::Regex::new(self.source).expect("the generator checked every pattern"))
            .is_match(text)
    }
}

/// Collects every violation of a request, with its `loc`; generated validators drive it.
#[derive(Debug, Default)]
pub struct Validator {
    loc: Vec<Loc>,
    errors: Vec<Violation>,
}

impl Validator {
    /// An empty validator at the request's root.
    pub fn new() -> Self {
        Self::default()
    }

    /// Descends into a request part, object key or array index.
    pub fn enter(&mut self, segment: impl Into<Loc>) {
        self.loc.push(segment.into());
    }

    /// Undoes the last `enter`.
    pub fn leave(&mut self) {
        self.loc.pop();
    }

    /// Records a violation at the current place.
    pub fn fail(&mut self, kind: &'static str, msg: impl Into<String>) {
        self.errors.push(Violation {
            loc: self.loc.clone(),
            msg: msg.into(),
            kind,
        });
    }

    /// Records a missing required key or parameter.
    pub fn missing(&mut self, key: &str) {
        self.enter(key);
        self.fail("missing", "field required");
        self.leave();
    }

    /// `true` if `value` is null (and records `null_type` unless the schema is nullable).
    fn null(&mut self, value: &Value, nullable: bool) -> bool {
        if value.is_null() && !nullable {
            self.fail("null_type", "must not be null");
        }
        value.is_null()
    }

    /// A schema without a type: only null is checked.
    pub fn any(&mut self, value: &Value, nullable: bool) {
        self.null(value, nullable);
    }

    /// The string, or `None` after recording why not.
    pub fn string<'v>(&mut self, value: &'v Value, nullable: bool) -> Option<&'v str> {
        if self.null(value, nullable) {
            return None;
        }
        let text = value.as_str();
        if text.is_none() {
            self.fail("string_type", "must be a string");
        }
        text
    }

    /// The integer, or `None` after recording why not.
    pub fn integer(&mut self, value: &Value, nullable: bool) -> Option<i128> {
        if self.null(value, nullable) {
            return None;
        }
        let n = value
            .as_i64()
            .map(i128::from)
            .or_else(|| value.as_u64().map(i128::from));
        if n.is_none() {
            self.fail("int_type", "must be an integer");
        }
        n
    }

    /// The number, or `None` after recording why not.
    pub fn number(&mut self, value: &Value, nullable: bool) -> Option<f64> {
        if self.null(value, nullable) {
            return None;
        }
        let n = value.as_f64();
        if n.is_none() {
            self.fail("number_type", "must be a number");
        }
        n
    }

    /// The boolean, or `None` after recording why not.
    pub fn boolean(&mut self, value: &Value, nullable: bool) -> Option<bool> {
        if self.null(value, nullable) {
            return None;
        }
        let b = value.as_bool();
        if b.is_none() {
            self.fail("bool_type", "must be a boolean");
        }
        b
    }

    /// The object, or `None` after recording why not.
    pub fn object<'v>(&mut self, value: &'v Value, nullable: bool) -> Option<&'v Map<String, Value>> {
        if self.null(value, nullable) {
            return None;
        }
        let object = value.as_object();
        if object.is_none() {
            self.fail("object_type", "must be an object");
        }
        object
    }

    /// The array, or `None` after recording why not.
    pub fn array<'v>(&mut self, value: &'v Value, nullable: bool) -> Option<&'v [Value]> {
        if self.null(value, nullable) {
            return None;
        }
        let items = value.as_array().map(Vec::as_slice);
        if items.is_none() {
            self.fail("array_type", "must be an array");
        }
        items
    }

    /// Every key in `required` is present.
    pub fn required(&mut self, object: &Map<String, Value>, required: &[&str]) {
        for key in required {
            if !object.contains_key(*key) {
                self.missing(key);
            }
        }
    }

    /// No key outside `known` (`additionalProperties: false`).
    pub fn no_extra(&mut self, object: &Map<String, Value>, known: &[&str]) {
        for key in object.keys().filter(|key| !known.contains(&key.as_str())) {
            self.enter(key);
            self.fail("extra_forbidden", "extra fields not permitted");
            self.leave();
        }
    }

    /// A string `enum`.
    pub fn one_of_str(&mut self, text: &str, allowed: &[&str]) {
        if !allowed.contains(&text) {
            let list: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
            self.fail("enum", format!("must be one of {}", list.join(", ")));
        }
    }

    /// An integer `enum`.
    pub fn one_of_int(&mut self, n: i128, allowed: &[i128]) {
        if !allowed.contains(&n) {
            let list: Vec<String> = allowed.iter().map(i128::to_string).collect();
            self.fail("enum", format!("must be one of {}", list.join(", ")));
        }
    }

    /// `minLength`, counted in characters.
    pub fn min_length(&mut self, text: &str, min: usize) {
        if text.chars().count() < min {
            self.fail(
                "string_too_short",
                format!("must have at least {min} character{}", plural(min)),
            );
        }
    }

    /// `maxLength`, counted in characters.
    pub fn max_length(&mut self, text: &str, max: usize) {
        // Cheap first: a string of at most `max` bytes has at most `max` characters.
        if text.len() > max && text.chars().count() > max {
            self.fail(
                "string_too_long",
                format!("must have at most {max} character{}", plural(max)),
            );
        }
    }

    /// `pattern`.
    pub fn pattern(&mut self, text: &str, pattern: &Pattern) {
        // A value already too short or too long gets that one clear error, not a pattern error on top (pydantic
        // reports one constraint per value, too).
        if self.errors.last().is_some_and(|e| e.loc == self.loc) {
            return;
        }
        if !pattern.is_match(text) {
            self.fail(
                "string_pattern_mismatch",
                format!("must match the pattern `{}`", pattern.source),
            );
        }
    }

    /// `format: uuid`.
    pub fn uuid(&mut self, text: &str) {
        if uuid::Uuid::parse_str(text).is_err() {
            self.fail("uuid_parsing", "must be a UUID");
        }
    }

    /// `format: date-time` (RFC 3339).
    pub fn date_time(&mut self, text: &str) {
        if chrono::DateTime::parse_from_rfc3339(text).is_err() {
            self.fail("datetime_parsing", "must be an RFC 3339 date-time");
        }
    }

    /// `format: date` (RFC 3339 full-date).
    pub fn date(&mut self, text: &str) {
        if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
            self.fail("date_parsing", "must be an RFC 3339 full-date (YYYY-MM-DD)");
        }
    }

    /// `minimum` / `exclusiveMinimum` of an integer.
    pub fn int_minimum(&mut self, n: i128, min: i128, exclusive: bool) {
        if exclusive && n <= min {
            self.fail("greater_than", format!("must be greater than {min}"));
        } else if n < min {
            self.fail("greater_than_equal", format!("must be greater than or equal to {min}"));
        }
    }

    /// `maximum` / `exclusiveMaximum` of an integer.
    pub fn int_maximum(&mut self, n: i128, max: i128, exclusive: bool) {
        if exclusive && n >= max {
            self.fail("less_than", format!("must be less than {max}"));
        } else if n > max {
            self.fail("less_than_equal", format!("must be less than or equal to {max}"));
        }
    }

    /// `minimum` / `exclusiveMinimum` of a number.
    pub fn minimum(&mut self, x: f64, min: f64, exclusive: bool) {
        if exclusive && x <= min {
            self.fail("greater_than", format!("must be greater than {min}"));
        } else if x < min {
            self.fail("greater_than_equal", format!("must be greater than or equal to {min}"));
        }
    }

    /// `maximum` / `exclusiveMaximum` of a number.
    pub fn maximum(&mut self, x: f64, max: f64, exclusive: bool) {
        if exclusive && x >= max {
            self.fail("less_than", format!("must be less than {max}"));
        } else if x > max {
            self.fail("less_than_equal", format!("must be less than or equal to {max}"));
        }
    }

    /// `multipleOf`.
    pub fn multiple_of(&mut self, x: f64, factor: f64) {
        let ratio = x / factor;
        if (ratio - ratio.round()).abs() > 1e-9 {
            self.fail("multiple_of", format!("must be a multiple of {factor}"));
        }
    }

    /// `minItems`.
    pub fn min_items(&mut self, items: &[Value], min: usize) {
        if items.len() < min {
            self.fail("too_short", format!("must have at least {min} item{}", plural(min)));
        }
    }

    /// `maxItems`.
    pub fn max_items(&mut self, items: &[Value], max: usize) {
        if items.len() > max {
            self.fail("too_long", format!("must have at most {max} item{}", plural(max)));
        }
    }

    /// `Ok` if nothing was recorded, else a 422 listing every violation.
    pub fn finish(self) -> Result<(), Rejection> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Rejection::validation(self.errors))
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The router's 404 for paths no operation serves.
pub async fn not_found(uri: Uri) -> Rejection {
    Rejection::not_found(format!("no route for {}", uri.path()))
}

/// The router's 405; axum adds `Allow` to every 405 that a method router answers.
pub async fn method_not_allowed() -> Rejection {
    Rejection::method_not_allowed()
}

/// Marks the response `CatchPanicLayer` builds, so the request-context middleware (which knows the request id)
/// turns it into the enveloped 500.
#[derive(Clone, Copy)]
struct Panicked;

fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The payload is not logged: a panic message can quote anything the handler had in hand.
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(Panicked);
    response
}

/// Wraps the generated routes with what every response needs: panic recovery, the request id and a span.
pub fn layers(routes: Router) -> Router {
    routes
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(request_context))
}

/// Assigns the request id (the client's if sane), runs the request in a span with method, path, id, status and
/// latency (never headers or bodies), turns a caught panic into the enveloped 500, and sets `x-request-id`.
async fn request_context(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::from_client)
        .unwrap_or_else(RequestId::generate);
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    if response.extensions().get::<Panicked>().is_some() {
        span.in_scope(|| tracing::error!("handler panicked"));
        response = Rejection::internal(&id).into_response();
    }
    let value = HeaderValue::try_from(id.as_str()).expect("request ids are plain ASCII");
    response.headers_mut().insert(REQUEST_ID_HEADER, value);
    span.record("status", response.status().as_u16());
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    span.in_scope(|| tracing::info!("request finished"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("1.10.0").unwrap() > parse_version("1.9").unwrap());
        assert_eq!(parse_version("2").unwrap(), ApiVersion::new(2, 0, 0));
        assert!(parse_version("one").is_none());
    }

    #[test]
    fn content_types() {
        let ok = [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=\"UTF-8\"",
            "application/merge-patch+json",
        ];
        let bad = [
            "text/plain",
            "application/json; charset=latin1",
            "application/jsonx",
            "",
        ];
        for (value, expect) in ok.iter().map(|v| (v, true)).chain(bad.iter().map(|v| (v, false))) {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            assert_eq!(check_content_type(&headers).is_ok(), expect, "{value}");
        }
    }
}

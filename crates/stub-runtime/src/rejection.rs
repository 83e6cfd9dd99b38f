//! The error envelope `{code, detail, type, errors?}` and the one conversion from a failure to HTTP, plus the
//! response helpers that generated `IntoResponse` impls call.

use std::borrow::Cow;
use std::fmt;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::http::header::{CONNECTION, CONTENT_TYPE, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{ApiVersion, RequestId};

/// One place in a request: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Loc {
    /// An object key, or the request part (`body`, `path`, `query`, `header`). Borrowed when it comes from the spec
    /// (every key a generated validator names), so walking a body allocates only for the keys a client made up.
    Key(Cow<'static, str>),
    /// An array index.
    Index(usize),
}

impl From<&'static str> for Loc {
    fn from(key: &'static str) -> Self {
        Self::Key(Cow::Borrowed(key))
    }
}

impl From<&String> for Loc {
    fn from(key: &String) -> Self {
        Self::Key(Cow::Owned(key.clone()))
    }
}

impl From<String> for Loc {
    fn from(key: String) -> Self {
        Self::Key(Cow::Owned(key))
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
    /// What is wrong; never contains the submitted value. Borrowed when the generator or the runtime wrote it.
    pub msg: Cow<'static, str>,
    /// The pydantic-style kind (the spec's `ErrorDetail.type` lists them).
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// An error answer in the envelope: the one conversion from a failure to HTTP. The router builds one for every
/// rejection it makes; implementers return one (`Err(rejection)`, usually through `?` and a `From` impl of their
/// own) for theirs.
///
/// Like dropshot's `HttpError`, it carries a public part (status, `type`, `detail`, `errors`) and, separately, an
/// internal cause that is logged once, with the request id, when the router answers; the cause is never sent. The
/// envelope's `code` is always the HTTP status: nothing can set one without the other.
///
/// Its fields are boxed: a rejection travels through every `?` of a request, and every `Result<_, Rejection>` (and
/// every handler future that holds one across an await) is a pointer wide rather than a hundred bytes; only the
/// answers that are errors pay the allocation.
#[derive(Clone, Debug)]
pub struct Rejection(Box<Fields>);

#[derive(Clone, Debug)]
struct Fields {
    status: StatusCode,
    kind: Cow<'static, str>,
    detail: Cow<'static, str>,
    errors: Vec<Violation>,
    retry_after: Option<u32>,
    close: bool,
    cause: Option<String>,
}

impl Rejection {
    /// Any status with any `type`; prefer the named constructors. A status outside 400–599 is not an error: it
    /// becomes 500, and the mistake is logged when the router answers.
    pub fn new(status: StatusCode, kind: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        let (status, cause) = if status.is_client_error() || status.is_server_error() {
            (status, None)
        } else {
            let cause = format!("a rejection was built with the non-error status {status}");
            (StatusCode::INTERNAL_SERVER_ERROR, Some(cause))
        };
        Self(Box::new(Fields {
            status,
            kind: kind.into(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            close: false,
            cause,
        }))
    }

    /// Attaches the internal cause: logged once with the request id when the router answers, never sent.
    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.0.cause = Some(cause.to_string());
        self
    }

    /// 400 `invalid_request_error`.
    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", detail)
    }

    /// 401 `authentication_error`.
    pub fn unauthorized(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", detail)
    }

    /// 403 `permission_error`.
    pub fn forbidden(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", detail)
    }

    /// 404 `not_found_error`.
    pub fn not_found(detail: impl Into<Cow<'static, str>>) -> Self {
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
    pub fn conflict(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, "already_exists_error", detail)
    }

    /// 413 `request_too_large_error`. The rest of the body is never read, so the answer says
    /// `Connection: close`.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large_error",
            format!("request body is larger than {limit} bytes"),
        )
        .closing()
    }

    /// 415 `unsupported_media_type_error`.
    pub fn unsupported_media_type(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type_error",
            detail,
        )
    }

    /// 422 `validation_error` listing every violation.
    pub fn validation(errors: Vec<Violation>) -> Self {
        let only_body = errors.iter().all(|e| e.loc.first() == Some(&Loc::Key("body".into())));
        let detail = if only_body {
            "request body does not match the schema"
        } else {
            "request does not match the schema"
        };
        let mut rejection = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", detail);
        rejection.0.errors = errors;
        rejection
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
        let detail = format!("rate limit exceeded; retry after {retry_after_secs} seconds");
        let mut rejection = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", detail);
        rejection.0.retry_after = Some(retry_after_secs);
        rejection
    }

    /// 500 `internal_error`. The answer names the request id, never the cause; the cause is logged with the id.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error").with_cause(cause)
    }

    /// 502 with the given `type`: a service this server depends on failed. `what` is public (say which service,
    /// not why); the cause is logged.
    pub fn bad_gateway(
        kind: impl Into<Cow<'static, str>>,
        what: impl Into<Cow<'static, str>>,
        cause: impl fmt::Display,
    ) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, kind, what).with_cause(cause)
    }

    /// 504 with the given `type`: a service this server depends on did not answer in time.
    pub fn gateway_timeout(
        kind: impl Into<Cow<'static, str>>,
        what: impl Into<Cow<'static, str>>,
        cause: impl fmt::Display,
    ) -> Self {
        Self::new(StatusCode::GATEWAY_TIMEOUT, kind, what).with_cause(cause)
    }

    /// The HTTP status, which is also the envelope's `code`.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The envelope's `type`.
    pub fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The envelope's `detail` (a 5xx answer adds the request id to it).
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// The envelope's `errors` (only on 422).
    pub fn errors(&self) -> &[Violation] {
        &self.0.errors
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after(&self) -> Option<u32> {
        self.0.retry_after
    }

    /// The internal cause, if any: for logs and tests, never for a response.
    pub fn cause(&self) -> Option<&str> {
        self.0.cause.as_deref()
    }

    /// Asks the answer to close the connection (the body will not be read, so the connection cannot carry another
    /// request).
    pub fn closing(mut self) -> Self {
        self.0.close = true;
        self
    }

    /// The answer to `request_id`: logs the cause once (5xx at error level, anything else at info), names the id
    /// in a 5xx `detail`, and renders the envelope. The router calls this for every rejection.
    pub fn into_response_for(self, request_id: &RequestId) -> Response {
        if let Some(cause) = &self.0.cause {
            if self.0.status.is_server_error() {
                tracing::error!(%request_id, status = self.0.status.as_u16(), kind = %self.0.kind, %cause, "request failed");
            } else {
                tracing::info!(%request_id, status = self.0.status.as_u16(), kind = %self.0.kind, %cause, "request rejected");
            }
        }
        if self.0.status.is_server_error() {
            let mut answer = self;
            answer.0.detail = format!("{} (request id {request_id})", answer.0.detail).into();
            answer.0.cause = None;
            return answer.render();
        }
        self.render()
    }

    fn render(&self) -> Response {
        let mut response = Response::new(Body::from(self.envelope()));
        *response.status_mut() = self.0.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(secs) = self.0.retry_after {
            header(&mut response, "retry-after", secs);
        }
        if self.0.close {
            // A client that pools connections would otherwise send its next request into a closing socket.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.0.status.as_u16(), self.0.kind, self.0.detail)
    }
}

impl std::error::Error for Rejection {}

impl Rejection {
    /// The envelope as JSON, `{"code", "detail", "type", "errors"?}` in that order (the spec's `ErrorResponse`, byte
    /// for byte what serde_json writes: tested), written straight into a buffer of the right size. Kept by hand for
    /// its measured cost: a derived `Serialize` through `serde_json::to_vec` took about 3 k more instructions per 422
    /// of `secrets-server` (7 % of the 44.3 k it spends on one; callgrind, 400 requests, mostly serde_json's
    /// byte-by-byte escape scan and its growing buffer).
    fn envelope(&self) -> Vec<u8> {
        let estimate = 48
            + self.0.detail.len()
            + self.0.kind.len()
            + self
                .0
                .errors
                .iter()
                .map(|v| 32 + v.msg.len() + v.kind.len() + v.loc.iter().map(|l| 4 + loc_len(l)).sum::<usize>())
                .sum::<usize>();
        let mut out = Vec::with_capacity(estimate);
        out.extend_from_slice(b"{\"code\":");
        write_uint(&mut out, self.0.status.as_u16().into());
        out.extend_from_slice(b",\"detail\":");
        json_string(&mut out, &self.0.detail);
        out.extend_from_slice(b",\"type\":");
        json_string(&mut out, &self.0.kind);
        if !self.0.errors.is_empty() {
            out.extend_from_slice(b",\"errors\":[");
            for (i, violation) in self.0.errors.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"loc\":[");
                for (j, loc) in violation.loc.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    match loc {
                        Loc::Key(key) => json_string(&mut out, key),
                        Loc::Index(index) => write_uint(&mut out, *index),
                    }
                }
                out.extend_from_slice(b"],\"msg\":");
                json_string(&mut out, &violation.msg);
                out.extend_from_slice(b",\"type\":");
                json_string(&mut out, violation.kind);
                out.push(b'}');
            }
            out.push(b']');
        }
        out.push(b'}');
        out
    }
}

fn loc_len(loc: &Loc) -> usize {
    match loc {
        Loc::Key(key) => key.len(),
        Loc::Index(_) => 20,
    }
}

fn write_uint(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// `text` as a JSON string, escaped as serde_json escapes it: `"`, `\\` and control characters only.
fn json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    // Most texts need no escape: one pass without an early exit (the compiler vectorises it; an eight-bytes-at-a-time
    // version measured more instructions), then one copy.
    let plain = !bytes
        .iter()
        .fold(false, |seen, &b| seen | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Outside the router (in tests, or a hand-written route): the envelope without a request id. A 5xx or a
/// rejection with a cause is also handed, in the response's extensions, to the router's layers, which answer it
/// again with the request id and log the cause.
impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut response = self.render();
        if self.0.cause.is_some() || self.0.status.is_server_error() {
            response.extensions_mut().insert(Pending(self));
        }
        response
    }
}

/// A rejection answered by `IntoResponse`, waiting for the layer that knows the request id.
#[derive(Clone)]
pub(crate) struct Pending(pub(crate) Rejection);

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

/// A JSON response with the documented media type as its `Content-Type` (`application/problem+json`, …).
pub fn json_as(status: u16, body: &impl Serialize, content_type: &'static str) -> Response {
    let mut response = json(status, body);
    // `json` already says `application/json`, the common case.
    if response.status().as_u16() == status && content_type != "application/json" {
        set_content_type(&mut response, content_type);
    }
    response
}

/// A text response (`text/*`).
pub fn text(status: u16, body: String, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    set_content_type(&mut response, content_type);
    response
}

/// A response of raw bytes in the documented media type.
pub fn bytes(status: u16, body: Bytes, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    set_content_type(&mut response, content_type);
    response
}

fn set_content_type(response: &mut Response, content_type: &'static str) {
    match HeaderValue::from_str(content_type) {
        Ok(value) => {
            response.headers_mut().insert(CONTENT_TYPE, value);
        }
        Err(_) => tracing::error!(content_type, "documented media type is not a header value; left out"),
    }
}

/// The status an implementer chose for a range (`Some(4)` for `4XX`) or `default` (`None`) answer, if it is one
/// that answer documents.
pub fn checked_status(status: u16, hundreds: Option<u16>) -> Option<u16> {
    let valid = match hundreds {
        Some(hundreds) => status / 100 == hundreds,
        None => (100..600).contains(&status),
    };
    valid.then_some(status)
}

/// The answer when [`checked_status`] refuses: an enveloped 500 (an answer must not claim a status it does not
/// document, and its body would not be the envelope).
pub fn undocumented_status(status: u16) -> Response {
    Rejection::internal(format!(
        "the implementation answered {status}, which this response does not document"
    ))
    .into_response()
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

//! What every drive test of `corpus/drive/` shares (`cargo xtask corpus` copies it beside each as
//! `tests/drive/support.rs`): building a request, sending it through a generated router with `oneshot`, and checking
//! a table of cases against the answers, every mismatch reported at once.

// Each drive test uses part of this module; what one leaves unused is not dead.
#![allow(dead_code)]

use std::fmt;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

/// Implements trait methods that no case drives, each answering a fixed 501 in the envelope:
/// `not_driven! { method(ContextType, ArgumentType, …) -> ResponseType; … }`.
#[allow(unused_macros)]
macro_rules! not_driven {
    ($($method:ident($($argument:ty),* $(,)?) -> $response:ty;)*) => {$(
        async fn $method(&self, $(_: $argument),*) -> Result<$response, stub_runtime::Rejection> {
            Err(stub_runtime::Rejection::new(
                axum::http::StatusCode::NOT_IMPLEMENTED,
                "not_implemented_error",
                "no case drives this operation",
            ))
        }
    )*};
}
#[allow(unused_imports)]
pub(crate) use not_driven;

/// A request of a case.
pub struct Request {
    method: &'static str,
    uri: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

pub fn get(uri: impl Into<String>) -> Request {
    request("GET", uri)
}

pub fn post(uri: impl Into<String>) -> Request {
    request("POST", uri)
}

pub fn delete(uri: impl Into<String>) -> Request {
    request("DELETE", uri)
}

pub fn request(method: &'static str, uri: impl Into<String>) -> Request {
    Request {
        method,
        uri: uri.into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// A part of a multipart body: name, file name, content type, content.
pub type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// The boundary of every multipart body built here.
const BOUNDARY: &str = "drive-boundary";

impl Request {
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    pub fn basic(self, user: &str, password: &str) -> Self {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header("authorization", format!("Basic {encoded}"))
    }

    /// A body of any media type.
    pub fn body(self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let mut request = self.header("content-type", content_type);
        request.body = body.into();
        request
    }

    /// An `application/x-www-form-urlencoded` body, as written.
    pub fn form(self, body: &str) -> Self {
        self.body("application/x-www-form-urlencoded", body)
    }

    pub fn json(self, body: Value) -> Self {
        self.body("application/json", body.to_string())
    }

    /// A `multipart/form-data` body of these parts.
    pub fn multipart(self, parts: &[Part<'_>]) -> Self {
        let mut body = Vec::new();
        for (name, file_name, content_type, content) in parts {
            body.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").bytes());
            if let Some(file_name) = file_name {
                body.extend(format!("; filename=\"{file_name}\"").bytes());
            }
            if let Some(content_type) = content_type {
                body.extend(format!("\r\nContent-Type: {content_type}").bytes());
            }
            body.extend(b"\r\n\r\n");
            body.extend(*content);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{BOUNDARY}--\r\n").bytes());
        self.body(&format!("multipart/form-data; boundary={BOUNDARY}"), body)
    }
}

/// What a case expects back; built with [`answers`], [`answers_text`], [`answers_empty`], [`rejected`] and
/// [`invalid`].
#[derive(Debug, PartialEq)]
pub enum Expect {
    /// A documented answer with a JSON body: status and the whole body.
    Json(u16, Value),
    /// A documented answer with another body: status, `Content-Type` and the body as text.
    Text(u16, String, String),
    /// A documented answer without a body.
    Empty(u16),
    /// A rejection in the envelope: status, `type`, and the `loc` of each listed violation (as JSON, sorted).
    Rejected(u16, String, Vec<String>),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Json(status, body) => write!(f, "{status} {body}"),
            Expect::Text(status, content_type, body) => write!(f, "{status} {content_type} {body:?}"),
            Expect::Empty(status) => write!(f, "{status} without a body"),
            Expect::Rejected(status, kind, locs) => write!(f, "{status} {kind} {locs:?}"),
        }
    }
}

pub fn answers(status: u16, body: Value) -> Expect {
    Expect::Json(status, body)
}

pub fn answers_text(status: u16, content_type: &str, body: &str) -> Expect {
    Expect::Text(status, content_type.to_owned(), body.to_owned())
}

pub fn answers_empty(status: u16) -> Expect {
    Expect::Empty(status)
}

/// A rejection without violations.
pub fn rejected(status: u16, kind: &str) -> Expect {
    Expect::Rejected(status, kind.to_owned(), Vec::new())
}

/// A 422 listing a violation at each of these `loc`s (JSON, such as `["body","msisdn"]`).
pub fn invalid(locs: &[&str]) -> Expect {
    let mut locs: Vec<String> = locs.iter().map(|loc| (*loc).to_owned()).collect();
    locs.sort_unstable();
    Expect::Rejected(422, "validation_error".to_owned(), locs)
}

/// Sends every case through `app` and fails, listing every case whose answer differs, when any does.
pub async fn check(app: &axum::Router, cases: Vec<(&str, Request, Expect)>) {
    let mut mismatches = Vec::new();
    for (name, request, expected) in cases {
        let what = format!("{name}: {} {}", request.method, request.uri);
        let got = answer(app, request).await;
        if got != expected {
            mismatches.push(format!("{what}\n    expected {expected}\n    got      {got}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} case(s) answered otherwise:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The answer to one request, in the shape of the `Expect` it should match. A JSON body that is the envelope
/// (`code` equal to the status, a `detail`, nothing else but `type` and `errors`) becomes `Rejected`; any other
/// JSON stays `Json`, so a malformed envelope mismatches.
async fn answer(app: &axum::Router, request: Request) -> Expect {
    let mut builder = axum::http::Request::builder().method(request.method).uri(&request.uri);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let response = app
        .clone()
        .oneshot(builder.body(Body::from(request.body)).expect("a valid request"))
        .await
        .expect("the router is infallible");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.to_str().expect("an ASCII Content-Type").to_owned());
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a readable body")
        .to_bytes();
    match content_type {
        None if bytes.is_empty() => Expect::Empty(status),
        Some(content_type) if content_type == "application/json" => {
            let body: Value = serde_json::from_slice(&bytes).expect("a JSON body");
            envelope(status, &body).unwrap_or(Expect::Json(status, body))
        }
        content_type => Expect::Text(
            status,
            content_type.unwrap_or_default(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ),
    }
}

/// `Rejected` when `body` is the envelope for this status.
fn envelope(status: u16, body: &Value) -> Option<Expect> {
    let object = body.as_object()?;
    let well_formed = body["code"] == status
        && body["detail"].as_str().is_some_and(|detail| !detail.is_empty())
        && object
            .keys()
            .all(|key| ["code", "detail", "type", "errors"].contains(&key.as_str()));
    if !well_formed {
        return None;
    }
    let mut locs: Vec<String> = match body.get("errors") {
        None => Vec::new(),
        Some(errors) => errors
            .as_array()?
            .iter()
            .map(|error| error["loc"].to_string())
            .collect(),
    };
    locs.sort_unstable();
    Some(Expect::Rejected(status, body["type"].as_str()?.to_owned(), locs))
}

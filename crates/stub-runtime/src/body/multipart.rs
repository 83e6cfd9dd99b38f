//! `multipart/*` bodies, handed to the implementer as a stream of parts: a thin wrapper over axum's `Multipart`
//! (multer) whose errors are rejections in the envelope, and whose body limit is the router's.

use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderMap};

use super::check_declared_length;
use crate::Rejection;

/// The parts of a `multipart/*` request body, read one after the other with [`Multipart::next_part`]. The router's
/// body limit applies to the whole body as it is read: going over it is a 413.
#[derive(Debug)]
pub struct Multipart {
    inner: axum::extract::Multipart,
    limit: usize,
}

impl Multipart {
    /// 413 when the declared length is over `limit`, 400 when the `Content-Type` has no boundary.
    pub(super) async fn new(headers: &HeaderMap, body: Body, limit: usize) -> Result<Self, Rejection> {
        check_declared_length(&body, limit)?;
        let mut request = Request::new(body);
        if let Some(value) = headers.get(CONTENT_TYPE) {
            request.headers_mut().insert(CONTENT_TYPE, value.clone());
        }
        // Without this axum would apply its own default limit (2 MB) instead of the router's.
        DefaultBodyLimit::max(limit).apply(&mut request);
        let inner = axum::extract::Multipart::from_request(request, &())
            .await
            .map_err(|_| Rejection::bad_request("the multipart Content-Type has no valid boundary"))?;
        Ok(Self { inner, limit })
    }

    /// The next part, or `None` after the last one; a malformed body is a 400, one over the limit a 413.
    pub async fn next_part(&mut self) -> Result<Option<Part<'_>>, Rejection> {
        let limit = self.limit;
        match self.inner.next_field().await {
            Ok(field) => Ok(field.map(|inner| Part { inner, limit })),
            Err(err) => Err(rejection(&err, limit)),
        }
    }
}

/// One part of a [`Multipart`] body.
#[derive(Debug)]
pub struct Part<'a> {
    inner: Field<'a>,
    limit: usize,
}

impl Part<'_> {
    /// The `name` of its `Content-Disposition` (the form field).
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The `filename` of its `Content-Disposition`.
    pub fn file_name(&self) -> Option<&str> {
        self.inner.file_name()
    }

    /// Its `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type()
    }

    /// All of its headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The next chunk of its content, or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Rejection> {
        let limit = self.limit;
        self.inner.chunk().await.map_err(|err| rejection(&err, limit))
    }

    /// All of its content.
    pub async fn bytes(self) -> Result<Bytes, Rejection> {
        let limit = self.limit;
        self.inner.bytes().await.map_err(|err| rejection(&err, limit))
    }

    /// All of its content as text; 400 when it is not UTF-8.
    pub async fn text(self) -> Result<String, Rejection> {
        let bytes = self.bytes().await?;
        String::from_utf8(Vec::from(bytes))
            .map_err(|_| Rejection::bad_request("a multipart part is not valid UTF-8 text"))
    }
}

/// multer's messages can name fields but never hold content; they stay in the cause, logged, not sent.
fn rejection(err: &MultipartError, limit: usize) -> Rejection {
    match err.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Rejection::payload_too_large(limit),
        status if status.is_client_error() => {
            Rejection::bad_request("the multipart body is malformed").with_cause(err.body_text())
        }
        _ => Rejection::bad_request("request body could not be read").with_cause(err.body_text()),
    }
}

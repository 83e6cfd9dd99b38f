//! What every request carries besides its typed inputs: the router's settings, the request id and the context
//! handed to each operation.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};

pub use semver::Version as ApiVersion;

/// The request header that carries the request id, both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The request header in which clients declare the API version they were built for.
pub const API_VERSION_HEADER: HeaderName = HeaderName::from_static("api-version");
/// The default limit on request bodies, as the spec documents it.
pub const DEFAULT_BODY_LIMIT: usize = 262_144;
/// The default time an answer waits for the rest of a body it does not use (see [`RouterConfig::drain_timeout`]).
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings of the generated router.
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// Requests with a larger body are answered 413 before the body is parsed.
    pub body_limit: usize,
    /// When set, a request that declares an older `api-version` is answered 426. Requests without the header are
    /// always served.
    pub min_api_version: Option<ApiVersion>,
    /// An answer sent before the body is read (401, 403, 404, 405, 426, 429, …) first reads and discards the body,
    /// so that the connection stays usable; a body that has not arrived within this time is left unread and the
    /// answer says `Connection: close`. It bounds how long a slow client holds the task.
    pub drain_timeout: Duration,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            min_api_version: None,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

tokio::task_local! {
    /// The id of the request whose route is being polled: set by the request-context layer around every poll, read
    /// by the [`RequestId`] extractor. A task-local rather than a request extension, which costs every request a map
    /// of its own.
    pub(crate) static CURRENT_REQUEST: RequestId;
}

/// Identifies one request in logs and in the `x-request-id` response header; 5xx details name it. The router's
/// layer ([`crate::layers`]) gives every request one; a handler takes it as an extractor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
// Shared, not owned: the id is cloned into the context and every log line of the request.
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(Arc::from(uuid::Uuid::new_v4().to_string()))
    }

    /// The id a client sent, if it is short and plain enough to repeat in headers and logs.
    pub(crate) fn from_client(value: &str) -> Option<Self> {
        let sane = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        sane.then(|| Self(Arc::from(value)))
    }

    /// The id the router's layer gives a request with these headers: the client's `x-request-id` if it is short and
    /// plain enough, else a fresh one. For layers outside the router that answer on its behalf.
    pub fn for_request(headers: &HeaderMap) -> Self {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(Self::from_client)
            .unwrap_or_else(Self::generate)
    }

    /// The id of the request being handled (the one the router's layer assigned), or a fresh one outside the
    /// router (in tests, say).
    pub fn current() -> Self {
        CURRENT_REQUEST
            .try_with(Self::clone)
            .unwrap_or_else(|_| Self::generate())
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

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::current())
    }
}

/// What every operation receives besides its typed inputs.
#[derive(Clone, Debug)]
pub struct Context<C> {
    /// What `authenticate` returned; an `Option` where security is optional (`None`: no credentials were sent); `()` for
    /// operations without security requirements.
    pub caller: C,
    /// The id of this request, for logs and 5xx details.
    pub request_id: RequestId,
    /// The request's `Accept` header, if it had one (see [`Context::preferred`]).
    pub accept: Option<String>,
}

impl<C> Context<C> {
    /// Of the media types an answer is documented in, the one the request's `Accept` header prefers (highest
    /// q-value, then the order given); the first when there is no `Accept`; `None` when it accepts none of them.
    pub fn preferred<'m>(&self, offered: &[&'m str]) -> Option<&'m str> {
        let Some(accept) = &self.accept else {
            return offered.first().copied();
        };
        let ranges: Vec<(String, f32)> = accept
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next()?.to_ascii_lowercase();
                let q = parts
                    .filter_map(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                    .next()
                    .unwrap_or(1.0);
                (!media.is_empty()).then_some((media, q))
            })
            .collect();
        let quality = |offer: &str| {
            let offer = offer.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            let (kind, _) = offer.split_once('/').unwrap_or((offer.as_str(), ""));
            // The most specific matching range decides.
            ranges
                .iter()
                .filter_map(|(range, q)| {
                    let specificity = if *range == offer {
                        3
                    } else if range.strip_suffix("/*") == Some(kind) {
                        2
                    } else if range == "*/*" {
                        1
                    } else {
                        return None;
                    };
                    Some((specificity, *q))
                })
                .max_by_key(|(specificity, _)| *specificity)
                .map_or(0.0, |(_, q)| q)
        };
        let mut best: Option<(&'m str, f32)> = None;
        for offer in offered {
            let q = quality(offer);
            if q > 0.0 && best.is_none_or(|(_, best_q)| q > best_q) {
                best = Some((offer, q));
            }
        }
        best.map(|(offer, _)| offer)
    }
}

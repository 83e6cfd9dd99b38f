//! What every request carries besides its typed inputs: the router's settings, the request id and the context
//! handed to each operation.

use std::fmt;

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
    pub(crate) fn from_client(value: &str) -> Option<Self> {
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
    /// What `authenticate` returned; an `Option` where security is optional (`None`: no credentials were sent); `()` for
    /// operations without security requirements.
    pub caller: C,
    /// The id of this request, for logs and 5xx details.
    pub request_id: RequestId,
}

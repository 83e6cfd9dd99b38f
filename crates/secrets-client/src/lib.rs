//! Typed Rust client for the user-secrets API, generated from `openapi.yaml` by progenitor.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use secrets_client::{Client, types::Provider};
//!
//! let client = Client::with_bearer_token("http://127.0.0.1:8080", "st_...")?;
//! let secret = client
//!     .create_secret_from_preset()
//!     .body_map(|b| b.provider(Provider::Openai).value("sk-proj-..."))
//!     .send()
//!     .await?;
//! println!("stored {} as {}", secret.name, secret.masked_value);
//! # Ok(()) }
//! ```

#[rustfmt::skip]
#[allow(missing_docs, clippy::all, unused_qualifications)]
mod generated;
mod secret;

use std::time::Duration;

pub use generated::*;
pub use secret::SecretValue;

/// How long a request may take in all, connection included, before it fails with a timeout error.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long establishing a connection may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    /// A client for the server at `base_url` (scheme, host, port; no trailing path) that sends
    /// `Authorization: Bearer <token>` on every request, with [`DEFAULT_TIMEOUT`] and HTTPS through rustls.
    ///
    /// Fails if the token cannot be sent in an HTTP header (it contains control characters or non-ASCII).
    pub fn with_bearer_token(base_url: &str, token: &str) -> Result<Self, BuildError> {
        let mut auth =
            reqwest::header::HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| BuildError::InvalidToken)?;
        // Keeps the token out of reqwest's Debug output and HTTP/2 header compression tables.
        auth.set_sensitive(true);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(DEFAULT_TIMEOUT)
            .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
            .build()
            .map_err(BuildError::Http)?;
        Ok(Self::new_with_client(base_url, http))
    }
}

/// Why [`Client::with_bearer_token`] could not build a client.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// The token has characters an HTTP header cannot carry. The token itself is not shown.
    InvalidToken,
    /// reqwest could not build its HTTP client (for example, TLS could not be initialised).
    Http(reqwest::Error),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidToken => f.write_str("bearer token contains characters not allowed in an HTTP header"),
            Self::Http(err) => write!(f, "cannot build the HTTP client: {err}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidToken => None,
            Self::Http(err) => Some(err),
        }
    }
}

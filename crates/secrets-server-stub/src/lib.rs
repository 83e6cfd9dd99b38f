//! Server stub for the user-secrets API, generated from `openapi.yaml`: the schema types (shared with the client),
//! the [`SecretsApi`] trait with one method per operation, a response enum per operation, and [`router`], which owns
//! extraction, authentication, validation and every rejection (all in the `ErrorResponse` envelope). Operations
//! answer documented errors by returning `Err(Rejection)`; the runtime is the `stub-runtime` crate, re-exported as
//! [`runtime`].
//!
//! ```no_run
//! # use std::sync::Arc;
//! use secrets_server_stub::{Context, CreateSecretFromPresetResponse, Rejection, RequestId, RouterConfig, SecretsApi};
//! use secrets_server_stub::types;
//!
//! struct Server;
//!
//! impl SecretsApi for Server {
//!     type Caller = String;
//!
//!     async fn authenticate(&self, token: &str, _request_id: &RequestId) -> Result<String, Rejection> {
//!         if token == "st_demo" { Ok("alice".into()) } else { Err(Rejection::unauthorized("unknown token")) }
//!     }
//!
//!     async fn create_secret_from_preset(
//!         &self,
//!         ctx: Context<String>,
//!         body: types::PresetSecretRequest,
//!     ) -> Result<CreateSecretFromPresetResponse, Rejection> {
//!         Err(Rejection::conflict(format!("{} already holds a secret for {:?}", ctx.caller, body.provider)))
//!     }
//! }
//!
//! let app: axum::Router = secrets_server_stub::router(Arc::new(Server), RouterConfig::default());
//! ```

#![deny(missing_docs)]

#[rustfmt::skip]
#[allow(missing_docs, clippy::all, unused_qualifications, unused_imports, dead_code)]
mod generated;
mod secret;

pub use generated::*;
pub use secret::SecretValue;
pub use stub_runtime as runtime;
pub use stub_runtime::{Context, Rejection, RequestId, RouterConfig};

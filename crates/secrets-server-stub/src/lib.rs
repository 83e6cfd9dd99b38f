//! Server stub for the user-secrets API, generated from `openapi.yaml`: the schema types (shared with the client),
//! the [`SecretsApi`] trait with one method per operation, a response enum per operation, and [`router`], which owns
//! extraction, authentication, validation and every rejection (all in the `ErrorResponse` envelope).
//!
//! ```no_run
//! # use std::sync::Arc;
//! use secrets_server_stub::{Context, CreateSecretFromPresetResponse, Rejection, RouterConfig, SecretsApi, types};
//!
//! struct Server;
//!
//! impl SecretsApi for Server {
//!     type Caller = String;
//!
//!     async fn authenticate(&self, token: &str) -> Result<String, Rejection> {
//!         if token == "st_demo" { Ok("alice".into()) } else { Err(Rejection::unauthorized("unknown token")) }
//!     }
//!
//!     async fn create_secret_from_preset(
//!         &self,
//!         ctx: Context<String>,
//!         body: types::PresetSecretRequest,
//!     ) -> CreateSecretFromPresetResponse {
//!         let rejection = Rejection::internal(&ctx.request_id);
//!         CreateSecretFromPresetResponse::InternalServerError(rejection.to_envelope().expect("the envelope's shape"))
//!     }
//! }
//!
//! let app: axum::Router = secrets_server_stub::router(Arc::new(Server), RouterConfig::default());
//! ```

#![deny(missing_docs)]

#[rustfmt::skip]
#[allow(missing_docs, clippy::all, unused_qualifications, unused_imports, dead_code)]
mod generated;
pub mod runtime;
mod secret;

pub use generated::*;
pub use runtime::{Context, Rejection, RequestId, RouterConfig};
pub use secret::SecretValue;

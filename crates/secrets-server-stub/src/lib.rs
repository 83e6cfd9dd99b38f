//! Server stub for the user-secrets API, generated from `openapi.yaml`: the schema types (shared with the client),
//! the [`SecretsApi`] trait with one method per operation, a response enum per operation, and [`router`], which owns
//! extraction, authentication, validation and every rejection (all in the `ErrorResponse` envelope).
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
//!     ) -> CreateSecretFromPresetResponse {
//!         CreateSecretFromPresetResponse::InternalServerError(Rejection::internal(&ctx.request_id).into())
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

impl From<Rejection> for types::ErrorResponse {
    /// The envelope a rejection answers with, for the error variants of the response enums.
    fn from(rejection: Rejection) -> Self {
        rejection
            .to_envelope()
            .expect("the runtime's envelope has the shape of the spec's ErrorResponse")
    }
}

#[cfg(test)]
mod tests {
    use super::{Rejection, runtime, types};

    #[test]
    fn rejections_convert_to_the_spec_envelope() {
        let envelope: types::ErrorResponse = Rejection::conflict("a secret named X already exists").into();
        assert_eq!((envelope.code, envelope.type_.as_str()), (409, "already_exists_error"));
        let validation = Rejection::validation(vec![runtime::Violation {
            loc: vec!["body".into(), 3.into()],
            msg: "field required".into(),
            kind: "missing",
        }]);
        let envelope: types::ErrorResponse = validation.into();
        assert_eq!(envelope.errors[0].loc[1].to_string(), "3");
    }
}

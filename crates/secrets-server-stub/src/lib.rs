//! Server stub for the user-secrets API, generated from `openapi.yaml`: the schema types (shared with the client),
//! the [`SecretsApi`] trait with one method per operation, a response enum per operation, and [`router`], which owns
//! extraction, authentication, validation and every rejection (all in the `ErrorResponse` envelope). Operations
//! answer documented errors by returning `Err(Rejection)`; the runtime is the `stub-runtime` crate, re-exported as
//! [`runtime`].
//!
//! ```no_run
//! # use std::sync::Arc;
//! use secrets_server_stub::*;
//!
//! struct Server;
//!
//! impl SecretsApi for Server {
//!     type Caller = String;
//!
//!     async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
//!         if credentials.bearer()? == "st_demo" { Ok("alice".into()) } else { Err(Rejection::unauthorized("unknown token")) }
//!     }
//!
//!     async fn list_secrets(&self, _ctx: Context<String>) -> Result<ListSecretsResponse, Rejection> {
//!         Ok(ListSecretsResponse::Ok(types::SecretListResponse { secrets: vec![], total: 0 }))
//!     }
//!
//!     async fn get_provider_presets(&self, _: Context<String>) -> Result<GetProviderPresetsResponse, Rejection> {
//!         Ok(GetProviderPresetsResponse::Ok(types::ProviderPresetsResponse { presets: vec![] }))
//!     }
//!
//!     async fn create_secret(
//!         &self,
//!         ctx: Context<String>,
//!         body: types::CreateSecretRequest,
//!     ) -> Result<CreateSecretResponse, Rejection> {
//!         Err(Rejection::conflict(format!("{} already holds a secret named {}", ctx.caller, *body.name)))
//!     }
//!
//!     async fn create_secret_from_preset(
//!         &self,
//!         ctx: Context<String>,
//!         body: types::PresetSecretRequest,
//!     ) -> Result<CreateSecretFromPresetResponse, Rejection> {
//!         Err(Rejection::conflict(format!("{} already holds a secret for {:?}", ctx.caller, body.provider)))
//!     }
//!
//!     async fn get_secret(&self, _: Context<String>, _: GetSecretPath) -> Result<GetSecretResponse, Rejection> {
//!         Err(Rejection::not_found("no secret with this id"))
//!     }
//!
//!     async fn update_secret(
//!         &self,
//!         _: Context<String>,
//!         _: UpdateSecretPath,
//!         _: types::UpdateSecretRequest,
//!     ) -> Result<UpdateSecretResponse, Rejection> {
//!         Err(Rejection::not_found("no secret with this id"))
//!     }
//!
//!     async fn delete_secret(&self, _: Context<String>, _: DeleteSecretPath) -> Result<DeleteSecretResponse, Rejection> {
//!         Err(Rejection::not_found("no secret with this id"))
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
pub use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use http_body_util::BodyExt as _;
    use stub_runtime::{ApiVersion, Violation};

    use super::{CreateSecretFromPresetResponse, Rejection, RequestId, types};

    /// Every answer the stub can give: each rejection constructor (what documented errors are made of) and each
    /// variant of the response enum, with the status it must carry.
    fn answers() -> Vec<(axum::response::Response, u16)> {
        let id = RequestId::generate();
        let v = ApiVersion::new(1, 0, 0);
        let created: types::UserSecret = serde_json::from_value(serde_json::json!({
            "id": "3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90", "name": "OPENAI_API_KEY", "provider": "openai",
            "masked_value": "sk-••••", "created_at": "2026-11-27T09:30:00Z", "updated_at": "2026-11-27T09:30:00Z"
        }))
        .unwrap();
        let violation = Violation {
            loc: vec!["body".into(), 3.into()],
            msg: "field required".into(),
            kind: "missing",
        };
        vec![
            (Rejection::bad_request("x").into_response_for(&id), 400),
            (Rejection::unauthorized("x").into_response_for(&id), 401),
            (Rejection::forbidden("x").into_response_for(&id), 403),
            (Rejection::not_found("x").into_response_for(&id), 404),
            (Rejection::method_not_allowed().into_response_for(&id), 405),
            (Rejection::conflict("x").into_response_for(&id), 409),
            (Rejection::payload_too_large(1).into_response_for(&id), 413),
            (Rejection::validation(vec![violation]).into_response_for(&id), 422),
            (Rejection::upgrade_required(&v, &v).into_response_for(&id), 426),
            (Rejection::too_many_requests(1).into_response_for(&id), 429),
            (Rejection::internal("cause").into_response_for(&id), 500),
            (
                Rejection::bad_gateway("storage_error", "the store failed", "cause").into_response_for(&id),
                502,
            ),
            (
                Rejection::gateway_timeout("timeout_error", "too slow", "cause").into_response_for(&id),
                504,
            ),
            (CreateSecretFromPresetResponse::Created(created).into_response(), 201),
        ]
    }

    #[tokio::test]
    async fn every_answer_has_its_status_and_every_error_is_the_spec_envelope() {
        for (response, status) in answers() {
            assert_eq!(response.status().as_u16(), status);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            if status >= 400 {
                let envelope: types::ErrorResponse = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|err| panic!("{status}: not the spec's ErrorResponse: {err}"));
                assert_eq!(
                    i64::from(envelope.code),
                    i64::from(status),
                    "{status}: body code differs from the status"
                );
            }
        }
    }
}

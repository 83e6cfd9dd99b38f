//! Baseline (f) of `cargo xtask bench`: openapi-generator's rust-axum server for openapi.yaml (generated at bench
//! time into target/bench/f/gen) over the least implementation of its traits, the counterpart of `secrets-bench
//! serve --variant stub`. Usage: `secrets-bench-f --listen 127.0.0.1:PORT`.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum_extra::extract::CookieJar;
use headers::Host;
use http::{HeaderMap, Method};
use secrets_openapi_axum::apis::secrets::{
    CreateSecretFromPresetResponse, CreateSecretResponse, DeleteSecretResponse, GetProviderPresetsResponse,
    GetSecretResponse, ListSecretsResponse, Secrets, UpdateSecretResponse,
};
use secrets_openapi_axum::apis::{ApiAuthBasic, ApiKeyAuthHeader, BasicAuthKind, ErrorHandler};
use secrets_openapi_axum::models;

/// The same canned 201 body as `secrets-bench` (`serve::CREATED_BODY`; a test there keeps the two equal).
const CREATED_BODY: &str = r#"{"id":"3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90","name":"OPENAI_API_KEY","provider":"openai","masked_value":"sk-pro••••789","created_at":"2026-11-27T09:30:00Z","updated_at":"2026-11-27T09:30:00Z"}"#;

/// Any non-empty bearer token is a caller; every create that passes the generated validation answers the same 201,
/// and every other operation the same canned secret (only the create route is measured against (f)).
struct Trivial {
    created: models::UserSecret,
}

#[async_trait]
impl ApiAuthBasic for Trivial {
    type Claims = ();

    // The generated router hands over the whole header map and the header's name: parsing is the implementor's.
    // Same rule as the project's stub: one `Bearer <token>` header, scheme case-insensitive, token non-empty.
    async fn extract_claims_from_auth_header(&self, kind: BasicAuthKind, headers: &HeaderMap, key: &str) -> Option<()> {
        if kind != BasicAuthKind::Bearer {
            return None;
        }
        let mut values = headers.get_all(key).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return None;
        };
        let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(char::is_whitespace))
            .then_some(())
    }
}

// The spec's second scheme, `X-API-Key`: one non-empty header, as the project's stub reads it.
#[async_trait]
impl ApiKeyAuthHeader for Trivial {
    type Claims = ();

    async fn extract_claims_from_header(&self, headers: &HeaderMap, key: &str) -> Option<()> {
        let mut values = headers.get_all(key).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return None;
        };
        (!value.to_str().ok()?.trim().is_empty()).then_some(())
    }
}

// The default handler (500 on an `Err`) is never reached: the implementation below never fails.
#[async_trait]
impl ErrorHandler for Trivial {}

#[async_trait]
impl Secrets for Trivial {
    type Claims = ();

    async fn create_secret_from_preset(
        &self,
        _method: &Method,
        _host: &Host,
        _cookies: &CookieJar,
        _claims: &(),
        _body: &models::PresetSecretRequest,
    ) -> Result<CreateSecretFromPresetResponse, ()> {
        Ok(CreateSecretFromPresetResponse::Status201_TheSecretWasStored(
            self.created.clone(),
        ))
    }

    async fn create_secret(
        &self,
        _method: &Method,
        _host: &Host,
        _cookies: &CookieJar,
        _claims: &(),
        _body: &models::CreateSecretRequest,
    ) -> Result<CreateSecretResponse, ()> {
        Ok(CreateSecretResponse::Status201_TheSecretWasStored(self.created.clone()))
    }

    async fn list_secrets(
        &self,
        _method: &Method,
        _host: &Host,
        _cookies: &CookieJar,
        _claims: &(),
    ) -> Result<ListSecretsResponse, ()> {
        Ok(ListSecretsResponse::Status200_TheCaller(models::SecretListResponse {
            secrets: vec![self.created.clone()],
            total: 1,
        }))
    }

    async fn get_provider_presets(
        &self,
        _method: &Method,
        _host: &Host,
        _cookies: &CookieJar,
        _claims: &(),
    ) -> Result<GetProviderPresetsResponse, ()> {
        Ok(GetProviderPresetsResponse::Status200_ThePresets(
            models::ProviderPresetsResponse { presets: Vec::new() },
        ))
    }

    async fn get_secret(
        &self,
        _method: &Method,
        _host: &Host,
        _cookies: &CookieJar,
        _claims: &(),
        _path: &models::GetSecretPathParams,
    ) -> Result<GetSecretResponse, ()> {
        Ok(GetSecretResponse::Status200_TheSecret(self.created.clone()))
    }

    async fn update_secret(
        &self,
        _method: &Method,
        _host: &Host,
        _cookies: &CookieJar,
        _claims: &(),
        _path: &models::UpdateSecretPathParams,
        _body: &models::UpdateSecretRequest,
    ) -> Result<UpdateSecretResponse, ()> {
        Ok(UpdateSecretResponse::Status200_TheValueWasReplaced(self.created.clone()))
    }

    async fn delete_secret(
        &self,
        _method: &Method,
        _host: &Host,
        _cookies: &CookieJar,
        _claims: &(),
        _path: &models::DeleteSecretPathParams,
    ) -> Result<DeleteSecretResponse, ()> {
        Ok(DeleteSecretResponse::Status204_TheSecretWasDeleted)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listen: SocketAddr = match args.as_slice() {
        [flag, addr] if flag == "--listen" => addr.parse()?,
        _ => return Err("usage: secrets-bench-f --listen IP:PORT".into()),
    };
    let api = Arc::new(Trivial {
        created: serde_json::from_str(CREATED_BODY)?,
    });
    // The same runtime shape as `secrets-bench serve` and `secrets-server`: one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let app = secrets_openapi_axum::server::new::<_, Trivial, (), ()>(api);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        eprintln!("secrets-bench-f: serving on http://{listen}");
        axum::serve(listener, app).await?;
        Ok(())
    })
}

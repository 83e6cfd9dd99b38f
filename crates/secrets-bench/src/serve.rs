//! `secrets-bench serve`: the comparison servers. `baseline` is the least an axum server can do for the route;
//! `stub` is the generated router over a trivial in-memory `SecretsApi`, so the gap between them is the stub's cost
//! (on `create_secret_from_preset` and `create_secret`; `baseline` serves only the first).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::http::{StatusCode, header};
use axum::routing::post;
use secrets_server_stub::{
    Context, CreateSecretFromPresetResponse, CreateSecretResponse, Credentials, DeleteSecretPath, DeleteSecretResponse,
    GetProviderPresetsResponse, GetSecretPath, GetSecretResponse, ListSecretsResponse, Rejection, RequestId,
    RouterConfig, SecretsApi, UpdateSecretPath, UpdateSecretResponse, types,
};

/// The route every variant serves, as the spec names it.
pub(crate) const PATH: &str = "/api/v1/user/secrets/preset";

/// A valid `UserSecret`, so the generated client can decode the baseline's answer.
pub(crate) const CREATED_BODY: &str = r#"{"id":"3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90","name":"OPENAI_API_KEY","provider":"openai","masked_value":"sk-pro••••789","created_at":"2026-11-27T09:30:00Z","updated_at":"2026-11-27T09:30:00Z"}"#;

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Variant {
    /// A bare hand-written axum handler answering a fixed 201 JSON body.
    Baseline,
    /// The generated router over [`InMemory`]: every byte of work beyond the baseline is the stub's.
    Stub,
}

#[derive(clap::Args)]
pub(crate) struct Args {
    #[arg(long, value_enum)]
    variant: Variant,
    /// Address to listen on, e.g. 127.0.0.1:8081.
    #[arg(long)]
    listen: SocketAddr,
    /// Tokio worker threads; 1 is a current-thread runtime. Without it, one per core, like `secrets-server`.
    #[arg(long)]
    threads: Option<usize>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    // By default the same runtime shape as `secrets-server` (`#[tokio::main]`: one worker per core), so only the
    // router differs. The client figures serve on one thread (see `client::runtime`).
    let runtime = crate::client::runtime(args.threads.unwrap_or(0))?;
    runtime.block_on(async {
        let app = match args.variant {
            Variant::Baseline => axum::Router::new().route(PATH, post(baseline)),
            Variant::Stub => secrets_server_stub::router(Arc::new(InMemory::new()?), RouterConfig::default()),
        };
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        eprintln!("secrets-bench: serving on http://{}", args.listen);
        axum::serve(listener, app).await?;
        Ok(())
    })
}

async fn baseline() -> (StatusCode, [(header::HeaderName, &'static str); 1], &'static str) {
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        CREATED_BODY,
    )
}

/// The least a `SecretsApi` can do: any non-empty token is a caller, every valid create answers the same 201 (the
/// other operations answer the same canned secret; only the create route is measured).
struct InMemory {
    created: types::UserSecret,
}

impl InMemory {
    fn new() -> anyhow::Result<Self> {
        let created = serde_json::from_str(CREATED_BODY).context("the canned 201 body")?;
        Ok(Self { created })
    }
}

impl SecretsApi for InMemory {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        if credentials.bearer()?.is_empty() {
            Err(Rejection::unauthorized("empty bearer token"))
        } else {
            Ok(())
        }
    }

    async fn create_secret_from_preset(
        &self,
        _ctx: Context<()>,
        _body: types::PresetSecretRequest,
    ) -> Result<CreateSecretFromPresetResponse, Rejection> {
        Ok(CreateSecretFromPresetResponse::Created(self.created.clone()))
    }

    async fn list_secrets(&self, _ctx: Context<()>) -> Result<ListSecretsResponse, Rejection> {
        Ok(ListSecretsResponse::Ok(types::SecretListResponse {
            secrets: vec![self.created.clone()],
            total: 1,
        }))
    }

    async fn get_provider_presets(&self, _ctx: Context<()>) -> Result<GetProviderPresetsResponse, Rejection> {
        Ok(GetProviderPresetsResponse::Ok(types::ProviderPresetsResponse {
            presets: Vec::new(),
        }))
    }

    async fn create_secret(
        &self,
        _ctx: Context<()>,
        _body: types::CreateSecretRequest,
    ) -> Result<CreateSecretResponse, Rejection> {
        Ok(CreateSecretResponse::Created(self.created.clone()))
    }

    async fn get_secret(&self, _ctx: Context<()>, _path: GetSecretPath) -> Result<GetSecretResponse, Rejection> {
        Ok(GetSecretResponse::Ok(self.created.clone()))
    }

    async fn update_secret(
        &self,
        _ctx: Context<()>,
        _path: UpdateSecretPath,
        _body: types::UpdateSecretRequest,
    ) -> Result<UpdateSecretResponse, Rejection> {
        Ok(UpdateSecretResponse::Ok(self.created.clone()))
    }

    async fn delete_secret(
        &self,
        _ctx: Context<()>,
        _path: DeleteSecretPath,
    ) -> Result<DeleteSecretResponse, Rejection> {
        Ok(DeleteSecretResponse::NoContent)
    }
}

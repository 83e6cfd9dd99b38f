//! Prometheus metrics for `serve --metrics-listen`: metrics-exporter-prometheus's recorder, rendered as `GET /metrics`
//! on a listener of its own, the store's call latency by backend ([`Timed`]) and the token cache's hits and misses.
//! The per-operation request metrics are stub-runtime's (`stub_runtime::layers::metric`).
//!
//! Every label is drawn from a fixed set (operation ids, status classes, backend and call names, `hit`/`miss`): a
//! metric never carries a token, a secret's name or its value.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use secrets_server_stub::runtime::layers::metric as request_metric;

use crate::crypto::{Keyring, Sealed};
use crate::store::{
    Backend, KeyCheckError, KeyStore, NewSecret, NewValue, SecretRow, SecretStore, StoreError, TokenRow, TokenStore,
};
use crate::tokens::{Scope, TokenHash};

/// Histogram of store calls' latency in seconds, labelled `backend` (`sqlite`, `postgres`) and `call` (the store
/// method: `insert_secret`, `token_by_hash`, …).
pub const STORE_DURATION: &str = "secrets_store_call_duration_seconds";
/// Counter of token lookups, labelled `result`: `hit` (answered from the token cache) or `miss` (asked of the
/// database).
pub const TOKEN_CACHE: &str = "secrets_token_cache_lookups_total";

/// Upper bounds of every histogram's buckets, in seconds: from a cached read (~100 µs) past the default store
/// timeout (5 s).
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder's upkeep runs (what `PrometheusBuilder::install` would schedule).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The metrics listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// `--metrics-listen` could not be bound.
    #[error("cannot serve metrics on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    /// A recorder was already installed in this process.
    #[error("cannot install the metrics recorder: {0}")]
    Install(#[from] metrics::SetRecorderError<PrometheusRecorder>),
}

/// The recorder every metric goes to: histograms rendered as Prometheus histograms with [`BUCKETS`] (not the
/// exporter's default summaries), every metric described.
pub(crate) fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .expect("the bucket list is not empty")
        .build_recorder()
}

/// Describes the metrics to the installed recorder (help text and unit).
pub(crate) fn describe() {
    request_metric::describe();
    metrics::describe_histogram!(
        STORE_DURATION,
        metrics::Unit::Seconds,
        "Time a store call took, by backend and call"
    );
    metrics::describe_counter!(
        TOKEN_CACHE,
        "Token lookups, by whether the token cache answered (hit or miss)"
    );
}

/// The bound metrics listener, its recorder installed.
pub struct Exporter {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    handle: PrometheusHandle,
}

impl Exporter {
    /// Binds `addr` and installs the recorder for the whole process: from here on every metric is recorded.
    pub async fn start(addr: SocketAddr) -> Result<Exporter, MetricsError> {
        let bind_err = |source| MetricsError::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let recorder = recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder)?;
        describe();
        Ok(Exporter { listener, addr, handle })
    }

    /// Where it listens (the port chosen, for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `GET /metrics` (the text format) in the background, for as long as the process runs, and keeps the
    /// recorder's upkeep.
    pub fn spawn(self) {
        let Exporter { listener, handle, .. } = self;
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let handle = handle.clone();
                async move {
                    (
                        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                        handle.render(),
                    )
                }
            }),
        );
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the metrics listener failed");
            }
        });
    }
}

/// Counts one token lookup: answered by the cache (`hit`) or not.
pub(crate) fn token_cache_lookup(hit: bool) {
    metrics::counter!(TOKEN_CACHE, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

/// A backend whose every call is timed into [`STORE_DURATION`]: the one place store latency is measured, whichever
/// backend is inside.
#[derive(Debug)]
pub(crate) struct Timed {
    inner: Box<dyn Backend>,
}

impl Timed {
    /// Times the calls of `inner`.
    pub(crate) fn new(inner: Box<dyn Backend>) -> Self {
        Self { inner }
    }

    /// Runs `call`'s future and records how long it took (a call abandoned midway records nothing).
    async fn time<T>(&self, call: &'static str, future: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let answer = future.await;
        metrics::histogram!(STORE_DURATION, "backend" => self.inner.name(), "call" => call)
            .record(started.elapsed().as_secs_f64());
        answer
    }
}

impl Backend for Timed {
    fn settings(&self) -> &'static str {
        self.inner.settings()
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[async_trait]
impl SecretStore for Timed {
    async fn insert_secret(&self, secret: NewSecret) -> Result<(), StoreError> {
        self.time("insert_secret", self.inner.insert_secret(secret)).await
    }

    async fn sealed_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<Sealed>, StoreError> {
        self.time("sealed_secret", self.inner.sealed_secret(owner, id)).await
    }

    async fn list_secrets(&self, owner: &str) -> Result<Vec<SecretRow>, StoreError> {
        self.time("list_secrets", self.inner.list_secrets(owner)).await
    }

    async fn secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<SecretRow>, StoreError> {
        self.time("secret", self.inner.secret(owner, id)).await
    }

    async fn update_secret(
        &self,
        owner: &str,
        id: uuid::Uuid,
        value: NewValue,
    ) -> Result<Option<SecretRow>, StoreError> {
        self.time("update_secret", self.inner.update_secret(owner, id, value))
            .await
    }

    async fn delete_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<String>, StoreError> {
        self.time("delete_secret", self.inner.delete_secret(owner, id)).await
    }
}

#[async_trait]
impl TokenStore for Timed {
    async fn insert_token(
        &self,
        id: String,
        user: String,
        scope: Scope,
        hash: TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.time(
            "insert_token",
            self.inner.insert_token(id, user, scope, hash, expires_at),
        )
        .await
    }

    async fn token_by_hash(&self, hash: TokenHash) -> Result<Option<TokenRow>, StoreError> {
        self.time("token_by_hash", self.inner.token_by_hash(hash)).await
    }

    async fn revoke_token(&self, id: Option<String>, hash: Option<TokenHash>) -> Result<Option<TokenRow>, StoreError> {
        self.time("revoke_token", self.inner.revoke_token(id, hash)).await
    }

    async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.time("tokens", self.inner.tokens()).await
    }

    async fn touch_token(&self, id: String, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.time("touch_token", self.inner.touch_token(id, at)).await
    }
}

#[async_trait]
impl KeyStore for Timed {
    async fn known_key_ids(&self) -> Result<Vec<String>, StoreError> {
        self.time("known_key_ids", self.inner.known_key_ids()).await
    }

    async fn check_keyring(&self, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError> {
        self.time("check_keyring", self.inner.check_keyring(keyring)).await
    }

    async fn reencrypt_all(&self, keyring: &Keyring) -> Result<usize, StoreError> {
        self.time("reencrypt_all", self.inner.reencrypt_all(keyring)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Database, Store};

    /// Store calls on a timed SQLite store, and what the scrape then says: each call's latency as a bucketed
    /// histogram under `backend="sqlite"`, and each token lookup as a cache hit or miss (the first of a token misses).
    #[test]
    fn store_calls_and_token_lookups_are_rendered_as_histograms_and_counters() {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::Sqlite(dir.path().join("secrets.db"));
        let token = crate::tokens::generate().unwrap();
        let unknown = crate::tokens::generate().unwrap();
        let recorder = recorder();
        let handle = recorder.handle();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        metrics::with_local_recorder(&recorder, || {
            runtime.block_on(async {
                let store = Store::open(&database, Duration::from_secs(5)).await.unwrap().timed();
                store
                    .insert_token(token.id.clone(), "alice".into(), Scope::Read, token.hash, None)
                    .await
                    .unwrap();
                for hash in [token.hash, token.hash, token.hash, unknown.hash, unknown.hash] {
                    store.token_by_hash(hash).await.unwrap();
                }
                for _ in 0..2 {
                    store.list_secrets("alice").await.unwrap();
                }
            })
        });
        let scrape = handle.render();
        let expected = [
            (
                r#"secrets_store_call_duration_seconds_count{backend="sqlite",call="insert_token"}"#,
                1,
            ),
            (
                r#"secrets_store_call_duration_seconds_count{backend="sqlite",call="token_by_hash"}"#,
                5,
            ),
            (
                r#"secrets_store_call_duration_seconds_count{backend="sqlite",call="list_secrets"}"#,
                2,
            ),
            (
                r#"secrets_store_call_duration_seconds_bucket{backend="sqlite",call="list_secrets",le="+Inf"}"#,
                2,
            ),
            (r#"secrets_token_cache_lookups_total{result="hit"}"#, 3),
            (r#"secrets_token_cache_lookups_total{result="miss"}"#, 2),
        ];
        for (series, value) in expected {
            let line = format!("{series} {value}");
            assert!(scrape.lines().any(|l| l == line), "no line {line:?} in:\n{scrape}");
        }
        assert!(
            scrape.contains(r#"le="0.0001""#) && !scrape.contains("quantile="),
            "histograms are rendered with buckets, not as summaries:\n{scrape}"
        );
        let other_calls = scrape
            .lines()
            .filter(|l| l.starts_with("secrets_store_call_duration_seconds_count"))
            .count();
        assert_eq!(other_calls, 3, "only the calls made are timed:\n{scrape}");
    }
}

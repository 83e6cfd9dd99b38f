//! The PostgreSQL backend, for several server instances sharing one database.
//!
//! Driver: tokio-postgres with a deadpool pool (async end to end, no compile-time database; see ARCHITECTURE.md).
//! Every API call is one statement in its own implicit transaction, so PostgreSQL's row locks and the
//! `UNIQUE (owner, name)` index settle races between instances, and `synchronous_commit=on` (set on every
//! connection) means a statement returns only once its commit is flushed.
//!
//! Deadlines: waiting for a pooled connection is bounded by the store timeout on the client; a statement by
//! `statement_timeout` and `lock_timeout` on the server, set to the same timeout. A write is never abandoned by the
//! client once sent: the server cancels it (nothing committed) and the caller gets [`StoreError::Timeout`], so a
//! 504 never hides a late commit.
//!
//! Submodules: `schema` the tables and their migrations, `tokens` token rows, `epoch` the poller that lets token
//! lookups be cached, `keys` key checks and re-encryption, `tls` TLS as the URL's `sslmode` and `sslrootcert` ask.
//! The pool, the error mapping and the secrets queries (all scoped to their owner) live here.

mod epoch;
mod keys;
mod schema;
#[cfg(test)]
mod tests;
mod tls;
#[cfg(test)]
mod token_tests;
mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime};
use tokio::time::Instant;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};

use super::{Backend, DbError, NewSecret, NewValue, SecretRow, SecretStore, StoreError};
use crate::crypto::{self, Sealed};
use epoch::{PolledCache, poll_epoch};
pub use tls::TlsError;

/// Connections one instance opens at most.
const MAX_CONNECTIONS: usize = 16;

/// The columns [`secret_row`] reads, in its order.
const SECRET_COLUMNS: &str = "id, name, provider, masked_value, created_at, updated_at";

/// The PostgreSQL store.
pub(super) struct PgStore {
    pool: Pool,
    location: String,
    timeout: Duration,
    tokens: Arc<Mutex<PolledCache>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A connection URL as logs may show it: user, hosts, ports and database, never the password or options.
pub(super) fn describe(url: &str) -> String {
    let (url, _) = tls::take_tls_params(url);
    let Ok(config) = url.parse::<tokio_postgres::Config>() else {
        return "(an unparsable postgres:// URL)".to_owned();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .unwrap_or(&5432);
            match host {
                tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{dbname}", hosts.join(","))
}

/// Maps a driver error to the store's kinds: cancelled by the deadline is a timeout, a lost or refused connection or
/// an exhausted server is unavailable, anything else a bug.
fn pg_error(e: tokio_postgres::Error) -> StoreError {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection itself failed (closed, refused, I/O).
        return StoreError::Unavailable(e.into());
    };
    let class = &code.code()[..2];
    if *code == SqlState::QUERY_CANCELED || *code == SqlState::LOCK_NOT_AVAILABLE {
        StoreError::Timeout(Duration::ZERO)
    } else if matches!(class, "08" | "53" | "57" | "58" | "XX") {
        // connection exception, insufficient resources (disk full), operator intervention, system error, internal
        StoreError::Unavailable(e.into())
    } else {
        StoreError::Database(e.into())
    }
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Timeout(_) => StoreError::Timeout(Duration::ZERO),
        PoolError::Backend(e) => pg_error(e),
        other => StoreError::Task(other.to_string()),
    }
}

impl PgStore {
    /// Connects to `url`, migrates the schema, and starts the token-epoch poller.
    pub(super) async fn open(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let location = describe(url);
        let open_err = |source: DbError| StoreError::Open {
            location: location.clone(),
            source,
        };
        let (url, tls) = tls::take_tls_params(url);
        let (ssl_mode, connector) = tls.connector().map_err(|e| open_err(e.into()))?;
        let mut config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| open_err(e.into()))?;
        config.ssl_mode(ssl_mode);
        let millis = timeout.as_millis();
        let options = format!(
            "{} -c synchronous_commit=on -c statement_timeout={millis} -c lock_timeout={millis}",
            config.get_options().unwrap_or("")
        );
        config.options(options.trim_start());
        config.connect_timeout(timeout);
        if config.get_application_name().is_none() {
            config.application_name("secrets-server");
        }
        let manager = Manager::from_config(
            config,
            connector,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(MAX_CONNECTIONS)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let store = Self {
            pool,
            location: location.clone(),
            timeout,
            tokens: Arc::default(),
        };
        store.migrate().await.map_err(|e| match e {
            StoreError::Unavailable(source) | StoreError::Database(source) => StoreError::Open {
                location: location.clone(),
                source,
            },
            StoreError::Timeout(_) => StoreError::Timeout(timeout),
            other => other,
        })?;
        tokio::spawn(poll_epoch(store.pool.clone(), Arc::downgrade(&store.tokens)));
        Ok(store)
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(|e| match pool_error(e) {
            StoreError::Timeout(_) => StoreError::Timeout(self.timeout),
            other => other,
        })
    }

    /// The error a call reports, naming the promised timeout rather than the driver's.
    fn fail(&self, e: tokio_postgres::Error) -> StoreError {
        match pg_error(e) {
            StoreError::Timeout(_) => StoreError::Timeout(self.timeout),
            other => other,
        }
    }

    /// Runs one read statement, bounded by the store timeout on the client too: a read may be abandoned.
    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        let deadline = Instant::now() + self.timeout;
        let work = async {
            let client = self.client().await?;
            let statement = client.prepare_cached(sql).await.map_err(|e| self.fail(e))?;
            client.query(&statement, params).await.map_err(|e| self.fail(e))
        };
        tokio::time::timeout_at(deadline, work)
            .await
            .map_err(|_| StoreError::Timeout(self.timeout))?
    }
}

impl Backend for PgStore {
    fn settings(&self) -> &'static str {
        "PostgreSQL (synchronous_commit=on)"
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}

#[async_trait]
impl SecretStore for PgStore {
    async fn insert_secret(&self, secret: NewSecret) -> Result<(), StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO secrets (id, owner, name, provider, masked_value, key_id, nonce, ciphertext, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .await
            .map_err(|e| self.fail(e))?;
        client
            .execute(
                &statement,
                &[
                    &secret.id,
                    &secret.owner,
                    &secret.name,
                    &secret.provider,
                    &secret.masked_value,
                    &secret.sealed.key_id,
                    &secret.sealed.nonce.as_slice(),
                    &secret.sealed.ciphertext,
                    &secret.created_at,
                ],
            )
            .await
            .map_err(|e| {
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                    StoreError::Conflict
                } else {
                    self.fail(e)
                }
            })?;
        Ok(())
    }

    async fn sealed_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<Sealed>, StoreError> {
        let rows = self
            .query(
                "SELECT key_id, nonce, ciphertext FROM secrets WHERE owner = $1 AND id = $2",
                &[&owner, &id],
            )
            .await?;
        rows.first().map(|row| sealed(row, 0)).transpose()
    }

    async fn list_secrets(&self, owner: &str) -> Result<Vec<SecretRow>, StoreError> {
        let rows = self
            .query(
                &format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE owner = $1 ORDER BY name COLLATE \"C\""),
                &[&owner],
            )
            .await?;
        rows.iter().map(secret_row).collect()
    }

    async fn secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<SecretRow>, StoreError> {
        let rows = self
            .query(
                &format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE owner = $1 AND id = $2"),
                &[&owner, &id],
            )
            .await?;
        rows.first().map(secret_row).transpose()
    }

    /// One statement: the row lock orders concurrent updates, and `updated_at` moves at least a microsecond past
    /// the stored one.
    async fn update_secret(
        &self,
        owner: &str,
        id: uuid::Uuid,
        value: NewValue,
    ) -> Result<Option<SecretRow>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "UPDATE secrets SET masked_value = $3, key_id = $4, nonce = $5, ciphertext = $6, \
                 updated_at = greatest($7, updated_at + interval '1 microsecond') \
                 WHERE owner = $1 AND id = $2 RETURNING {SECRET_COLUMNS}"
            ))
            .await
            .map_err(|e| self.fail(e))?;
        let row = client
            .query_opt(
                &statement,
                &[
                    &owner,
                    &id,
                    &value.masked_value,
                    &value.sealed.key_id,
                    &value.sealed.nonce.as_slice(),
                    &value.sealed.ciphertext,
                    &value.at,
                ],
            )
            .await
            .map_err(|e| self.fail(e))?;
        row.as_ref().map(secret_row).transpose()
    }

    async fn delete_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("DELETE FROM secrets WHERE owner = $1 AND id = $2 RETURNING name")
            .await
            .map_err(|e| self.fail(e))?;
        let row = client
            .query_opt(&statement, &[&owner, &id])
            .await
            .map_err(|e| self.fail(e))?;
        Ok(row.map(|row| row.get(0)))
    }
}

/// A sealed value from three columns starting at `at` (`key_id`, `nonce`, `ciphertext`).
fn sealed(row: &Row, at: usize) -> Result<Sealed, StoreError> {
    let nonce: &[u8] = col(row, at + 1)?;
    Ok(Sealed {
        key_id: col(row, at)?,
        nonce: crypto::nonce_from_slice(nonce)?,
        ciphertext: col(row, at + 2)?,
    })
}

fn secret_row(row: &Row) -> Result<SecretRow, StoreError> {
    Ok(SecretRow {
        id: col(row, 0)?,
        name: col(row, 1)?,
        provider: col(row, 2)?,
        masked_value: col(row, 3)?,
        created_at: col(row, 4)?,
        updated_at: col(row, 5)?,
    })
}

/// Column `i`, or [`StoreError::Malformed`] if it does not have the type the schema gives it.
fn col<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|_| StoreError::Malformed(format!("column {} has an unexpected type", row.columns()[i].name())))
}

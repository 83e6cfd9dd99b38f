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
//! Token lookups are cached like SQLite's, but against a `token_epoch` polled every [`EPOCH_POLL`] by a background
//! task: a cached answer is used only while the last poll is younger than [`EPOCH_FRESH`], so a revocation through
//! any instance is refused by every instance within a second.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime};
use tokio::time::Instant;
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use super::keycheck;
use super::token_cache::TokenCache;
use super::{KeyCheckError, NewSecret, NewValue, SecretRow, StoreError, TokenRow, timestamp};
use crate::crypto::{self, Keyring, Sealed};
use crate::tokens::{Scope, TokenHash};

/// Connections one instance opens at most.
const MAX_CONNECTIONS: usize = 16;
/// How often the token epoch is read.
const EPOCH_POLL: Duration = Duration::from_millis(200);
/// How old the last epoch read may be for cached token lookups to be trusted.
const EPOCH_FRESH: Duration = Duration::from_millis(750);
/// Serialises migrations of one database across instances starting at once (`pg_advisory_xact_lock`).
const MIGRATION_LOCK: i64 = 0x05EC_2E75_0001;

/// Every migration, oldest first, as `(version, what it does, SQL)`; recorded in `schema_migrations`.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "the secrets, tokens and key_checks tables",
    "
CREATE TABLE secrets (
    id           UUID PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    provider     TEXT,
    masked_value TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    nonce        BYTEA NOT NULL,
    ciphertext   BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (owner, name)
);
CREATE INDEX secrets_key_id ON secrets (key_id);
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    \"user\"     TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    hash       BYTEA NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
-- Bumped by every change to `tokens`, so instances can cache lookups and still see a revocation within a second.
CREATE TABLE token_epoch (id INTEGER PRIMARY KEY CHECK (id = 0), epoch BIGINT NOT NULL);
INSERT INTO token_epoch (id, epoch) VALUES (0, 0);
CREATE FUNCTION bump_token_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE token_epoch SET epoch = epoch + 1 WHERE id = 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OR DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION bump_token_epoch();
CREATE TABLE key_checks (
    key_id     TEXT PRIMARY KEY,
    nonce      BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
",
)];

/// The columns [`secret_row`] reads, in its order.
const SECRET_COLUMNS: &str = "id, name, provider, masked_value, created_at, updated_at";
/// The columns [`token_row`] reads, in its order.
const TOKEN_COLUMNS: &str = "id, \"user\", scope, hash, created_at, revoked_at";

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

/// The token cache and when its epoch was last read.
#[derive(Default)]
struct PolledCache {
    cache: TokenCache,
    polled: Option<Instant>,
}

impl PolledCache {
    fn fresh(&self) -> bool {
        self.polled.is_some_and(|at| at.elapsed() < EPOCH_FRESH)
    }
}

/// A connection URL as logs may show it: user, hosts, ports and database, never the password or options.
pub(super) fn describe(url: &str) -> String {
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
        let open_err = |source: tokio_postgres::Error| StoreError::Open {
            location: location.clone(),
            source: source.into(),
        };
        let mut config: tokio_postgres::Config = url.parse().map_err(open_err)?;
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
            NoTls,
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

    /// The same store with another timeout for calls that set it themselves (key checks and rotation).
    pub(super) fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
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

    /// Applies the migrations this database lacks, one instance at a time.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.batch_execute(&format!(
            "SET LOCAL client_min_messages = warning;
             SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             );"
        ))
        .await
        .map_err(pg_error)?;
        let found: i64 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])
            .await
            .map_err(pg_error)
            .and_then(|row| col(&row, 0))?;
        let known = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
        if found > known {
            return Err(StoreError::TooNew {
                location: self.location.clone(),
                found,
                known,
            });
        }
        for (version, does, sql) in MIGRATIONS.iter().filter(|(version, _, _)| *version > found) {
            tx.batch_execute(sql).await.map_err(pg_error)?;
            tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version])
                .await
                .map_err(pg_error)?;
            tracing::info!(version, "database migrated: {does}");
        }
        tx.commit().await.map_err(pg_error)
    }

    pub(super) async fn insert_secret(&self, secret: NewSecret) -> Result<(), StoreError> {
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

    /// Runs one read statement, bounded by the store timeout on the client too: a read may be abandoned.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
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

    pub(super) async fn sealed_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<Sealed>, StoreError> {
        let rows = self
            .query(
                "SELECT key_id, nonce, ciphertext FROM secrets WHERE owner = $1 AND id = $2",
                &[&owner, &id],
            )
            .await?;
        rows.first().map(|row| sealed(row, 0)).transpose()
    }

    pub(super) async fn list_secrets(&self, owner: &str) -> Result<Vec<SecretRow>, StoreError> {
        let rows = self
            .query(
                &format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE owner = $1 ORDER BY name COLLATE \"C\""),
                &[&owner],
            )
            .await?;
        rows.iter().map(secret_row).collect()
    }

    pub(super) async fn secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<SecretRow>, StoreError> {
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
    pub(super) async fn update_secret(
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

    pub(super) async fn delete_secret(&self, owner: &str, id: uuid::Uuid) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("DELETE FROM secrets WHERE owner = $1 AND id = $2")
            .await
            .map_err(|e| self.fail(e))?;
        let deleted = client
            .execute(&statement, &[&owner, &id])
            .await
            .map_err(|e| self.fail(e))?;
        Ok(deleted > 0)
    }

    pub(super) async fn insert_token(
        &self,
        id: String,
        user: String,
        scope: Scope,
        hash: TokenHash,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO tokens (id, \"user\", scope, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&id, &user, &scope.as_str(), &hash.as_slice(), &Utc::now()],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    pub(super) async fn token_by_hash(&self, hash: TokenHash) -> Result<Option<TokenRow>, StoreError> {
        let epoch = {
            let polled = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if polled.fresh()
                && let Some(row) = polled.cache.get(&hash)
            {
                return Ok(row);
            }
            polled.fresh().then(|| polled.cache.epoch())
        };
        let rows = self
            .query(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1"),
                &[&hash.as_slice()],
            )
            .await?;
        let row = rows.first().map(token_row).transpose()?;
        if let Some(epoch) = epoch {
            let mut polled = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            polled.cache.put(epoch, hash, row.clone());
        }
        Ok(row)
    }

    pub(super) async fn revoke_token(
        &self,
        id: Option<String>,
        hash: Option<TokenHash>,
    ) -> Result<Option<TokenRow>, StoreError> {
        let client = self.client().await?;
        let hash = hash.as_ref().map(|h| h.as_slice());
        let row = client
            .query_opt(
                &format!(
                    "UPDATE tokens SET revoked_at = $1 WHERE (id = $2 OR hash = $3) AND revoked_at IS NULL \
                     RETURNING {TOKEN_COLUMNS}"
                ),
                &[&Utc::now(), &id, &hash],
            )
            .await
            .map_err(|e| self.fail(e))?;
        row.as_ref().map(token_row).transpose()
    }

    pub(super) async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = self
            .query(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"),
                &[],
            )
            .await?;
        rows.iter().map(token_row).collect()
    }

    pub(super) async fn known_key_ids(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .query(
                "SELECT key_id FROM key_checks UNION SELECT key_id FROM secrets ORDER BY key_id",
                &[],
            )
            .await?;
        rows.iter().map(|row| col(row, 0)).collect()
    }

    /// This store's timeout for the statements and locks of one transaction (maintenance runs with its own).
    fn local_timeouts(&self) -> String {
        let ms = self.timeout.as_millis();
        format!("SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms};")
    }

    /// Records `kid`'s key check unless the database already has one (another instance may have just written it).
    async fn record_key_check(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        keyring: &Keyring,
        kid: &str,
    ) -> Result<(), StoreError> {
        let record = keyring.key_check(kid)?;
        tx.execute(
            "INSERT INTO key_checks (key_id, nonce, ciphertext, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key_id) DO NOTHING",
            &[
                &record.key_id,
                &record.nonce.as_slice(),
                &record.ciphertext,
                &Utc::now(),
            ],
        )
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// In one transaction that holds `key_checks` exclusively, so two instances starting with a new key record it
    /// once.
    pub(super) async fn check_keyring(&self, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.fail(e))?;
        tx.batch_execute(&format!(
            "{} LOCK TABLE key_checks IN EXCLUSIVE MODE;",
            self.local_timeouts()
        ))
        .await
        .map_err(|e| self.fail(e))?;
        // 1. every key id the database has a record of must still name the same key, if the keyring holds it
        let records = tx
            .query("SELECT key_id, nonce, ciphertext FROM key_checks", &[])
            .await
            .map_err(|e| self.fail(e))?
            .iter()
            .map(|row| sealed(row, 0))
            .collect::<Result<Vec<_>, _>>()?;
        keycheck::verify_records(keyring, &records)?;
        // 2. every key id used by stored secrets must be in the keyring and decrypt one of them
        let samples = tx
            .query(
                "SELECT DISTINCT ON (key_id) key_id, nonce, ciphertext, owner, id FROM secrets ORDER BY key_id",
                &[],
            )
            .await
            .map_err(|e| self.fail(e))?;
        for row in &samples {
            let sample = sealed(row, 0)?;
            let id: uuid::Uuid = col(row, 4)?;
            keycheck::verify_used(keyring, &sample.key_id, col(row, 3)?, &id.to_string(), &sample)?;
        }
        // 3. record a key check for each key id seen for the first time
        let mut checked = Vec::new();
        for kid in keyring.ids() {
            self.record_key_check(&tx, keyring, kid).await?;
            checked.push(kid.to_owned());
        }
        tx.commit().await.map_err(|e| self.fail(e))?;
        Ok(checked)
    }

    /// In one transaction: concurrent writes from running instances wait on the row locks, then proceed.
    pub(super) async fn reencrypt_all(&self, keyring: &Keyring) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.fail(e))?;
        tx.batch_execute(&self.local_timeouts())
            .await
            .map_err(|e| self.fail(e))?;
        let current = keyring.current().id().to_owned();
        self.record_key_check(&tx, keyring, &current).await?;
        let rows = tx
            .query(
                "SELECT key_id, nonce, ciphertext, owner, id FROM secrets WHERE key_id <> $1 FOR UPDATE",
                &[&current],
            )
            .await
            .map_err(|e| self.fail(e))?;
        let update = tx
            .prepare("UPDATE secrets SET key_id = $1, nonce = $2, ciphertext = $3 WHERE id = $4")
            .await
            .map_err(|e| self.fail(e))?;
        for row in &rows {
            let id: uuid::Uuid = col(row, 4)?;
            let resealed = keycheck::reseal(keyring, col(row, 3)?, &id.to_string(), &sealed(row, 0)?)?;
            tx.execute(
                &update,
                &[&resealed.key_id, &resealed.nonce.as_slice(), &resealed.ciphertext, &id],
            )
            .await
            .map_err(|e| self.fail(e))?;
        }
        tx.commit().await.map_err(|e| self.fail(e))?;
        Ok(rows.len())
    }
}

/// Reads `token_epoch` every [`EPOCH_POLL`] until the store is dropped.
async fn poll_epoch(pool: Pool, tokens: Weak<Mutex<PolledCache>>) {
    let mut tick = tokio::time::interval(EPOCH_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        let Some(tokens) = tokens.upgrade() else {
            return;
        };
        // A cached lookup is trusted for EPOCH_FRESH from when this read was sent, not answered: a revocation
        // committed after it was sent is then refused at most EPOCH_FRESH later, however slow the answer.
        let sent = Instant::now();
        let read = async {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_one("SELECT epoch FROM token_epoch WHERE id = 0", &[])
                .await
                .map_err(pg_error)?;
            col::<i64>(&row, 0)
        };
        match read.await {
            Ok(epoch) => {
                let mut polled = tokens.lock().unwrap_or_else(|e| e.into_inner());
                polled.cache.observe(epoch);
                polled.polled = Some(sent);
                if failing {
                    tracing::info!("token epoch readable again; token lookups cached again");
                    failing = false;
                }
            }
            Err(e) if !failing => {
                tracing::warn!(error = %e, "cannot read the token epoch; every token lookup goes to the database");
                failing = true;
            }
            Err(_) => {}
        }
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

fn token_row(row: &Row) -> Result<TokenRow, StoreError> {
    let scope: &str = col(row, 2)?;
    let created_at: DateTime<Utc> = col(row, 4)?;
    let revoked_at: Option<DateTime<Utc>> = col(row, 5)?;
    Ok(TokenRow {
        id: col(row, 0)?,
        user: col(row, 1)?,
        scope: scope
            .parse()
            .map_err(|_| StoreError::Malformed("a stored token scope is not read or write".into()))?,
        hash: col(row, 3)?,
        created_at: timestamp(created_at),
        revoked_at: revoked_at.map(timestamp),
    })
}

/// Column `i`, or [`StoreError::Malformed`] if it does not have the type the schema gives it.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|_| StoreError::Malformed(format!("column {} has an unexpected type", row.columns()[i].name())))
}

//! The SQLite backend: one file holding encrypted secrets, token hashes and key-check records.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a commit is fsynced before it returns and a 201 survives
//! SIGKILL or power loss. Concurrency: one writer thread owns the only writing connection (SQLite admits one writer
//! at a time anyway) and commits in groups: it takes every write queued while the previous commit was being
//! fsynced and runs them in one transaction, each inside its own savepoint, so one fsync acknowledges many
//! requests and one failing write (a duplicate name) rolls back alone. Reads use a small pool of connections,
//! which WAL lets run beside the writer, on tokio's blocking pool. Every call is bounded by the store timeout, and
//! SQLite's busy timeout is set to what is left of it, so a database locked by another process answers
//! [`StoreError::Timeout`]. A write that times out is never committed late: the writer and the waiter race for one
//! flag, and the writer runs the write only if it wins.
//!
//! Submodules: `schema` the tables, their migrations and connection settings, `writer` the group-commit writer,
//! `tokens` token rows, `keys` key checks and re-encryption. Secrets queries (insert, list, get, update, delete, all
//! scoped to their owner) live here.

mod keys;
mod schema;
#[cfg(test)]
mod tests;
mod tokens;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, ErrorCode, OptionalExtension as _, params};
use tokio::time::Instant;

use super::token_cache::TokenCache;
use super::{Backend, NewSecret, NewValue, SecretRow, SecretStore, StoreError, timestamp};
use crate::crypto::{self, Sealed};
use schema::{create_private, migrate, open_connection};
use writer::{Job, writer_loop};

/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 8;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let Some(code) = e.sqlite_error_code() else {
            return StoreError::Database(e.into());
        };
        match code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Timeout(Duration::ZERO),
            ErrorCode::SystemIoFailure
            | ErrorCode::DatabaseCorrupt
            | ErrorCode::NotADatabase
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::PermissionDenied
            | ErrorCode::FileLockingProtocolFailed
            | ErrorCode::NoLargeFileSupport => StoreError::Unavailable(e.into()),
            _ => StoreError::Database(e.into()),
        }
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// The columns [`raw_secret`] reads, in its order.
const SECRET_COLUMNS: &str = "id, name, provider, masked_value, created_at, updated_at";

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: mpsc::Sender<(Job, Instant)>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// The connection that reads `token_epoch` in place before each cached token lookup, and the cache, under one
    /// lock (see `tokens`).
    tokens: Mutex<(Connection, TokenCache)>,
    timeout: Duration,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`; `timeout` bounds every later call.
    pub fn open(path: &Path, timeout: Duration) -> Result<Self, StoreError> {
        let open_err = |source: rusqlite::Error| StoreError::Open {
            location: path.display().to_string(),
            source: source.into(),
        };
        create_private(path).map_err(|source| StoreError::Create {
            path: path.display().to_string(),
            source,
        })?;
        let conn = open_connection(path, timeout).map_err(open_err)?;
        migrate(&conn, path)?;
        let (writer, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("secrets-store-writer".to_owned())
            .spawn(move || writer_loop(conn, jobs))
            .map_err(|source| StoreError::Create {
                path: path.display().to_string(),
                source,
            })?;
        let probe = open_connection(path, timeout).map_err(open_err)?;
        Ok(Self {
            path: path.to_owned(),
            tokens: Mutex::new((probe, TokenCache::default())),
            writer,
            readers: Arc::new(Mutex::new(Vec::new())),
            timeout,
        })
    }

    /// Runs `f` on a reader connection, within the store timeout.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let (readers, path) = (Arc::clone(&self.readers), self.path.clone());
        let task = tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&path, timeout)?,
            };
            conn.busy_timeout(deadline.saturating_duration_since(Instant::now()))?;
            let result = f(&conn);
            let mut idle = readers.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            result
        });
        match tokio::time::timeout_at(deadline, task).await {
            Ok(joined) => joined
                .map_err(|e| StoreError::Task(e.to_string()))?
                .map_err(|e| with_timeout(e, timeout)),
            Err(_) => Err(StoreError::Timeout(timeout)),
        }
    }
}

impl Backend for SqliteStore {
    fn settings(&self) -> &'static str {
        "SQLite (WAL, synchronous=FULL)"
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn insert_secret(&self, secret: NewSecret) -> Result<(), StoreError> {
        self.write(move |tx| {
            let created = timestamp(secret.created_at);
            tx.prepare_cached(
                "INSERT INTO secrets (id, owner, name, provider, masked_value, key_id, nonce, ciphertext, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            )?
            .execute(params![
                secret.id.to_string(),
                secret.owner,
                secret.name,
                secret.provider,
                secret.masked_value,
                secret.sealed.key_id,
                secret.sealed.nonce.as_slice(),
                secret.sealed.ciphertext,
                created,
            ])
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn sealed_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<Sealed>, StoreError> {
        let owner = owner.to_owned();
        self.read(move |conn| {
            let row = conn
                .prepare_cached("SELECT key_id, nonce, ciphertext FROM secrets WHERE owner = ?1 AND id = ?2")?
                .query_row(params![owner, id.to_string()], sealed_from_row)
                .optional()?;
            row.map(|(key_id, nonce, ciphertext)| to_sealed(key_id, &nonce, ciphertext))
                .transpose()
        })
        .await
    }

    // The `UNIQUE (owner, name)` index serves the order.
    async fn list_secrets(&self, owner: &str) -> Result<Vec<SecretRow>, StoreError> {
        let owner = owner.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SECRET_COLUMNS} FROM secrets WHERE owner = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map([owner], raw_secret)?.collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(RawSecret::parse).collect()
        })
        .await
    }

    async fn secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<SecretRow>, StoreError> {
        let owner = owner.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {SECRET_COLUMNS} FROM secrets WHERE owner = ?1 AND id = ?2"
            ))?
            .query_row(params![owner, id.to_string()], raw_secret)
            .optional()?
            .map(RawSecret::parse)
            .transpose()
        })
        .await
    }

    async fn update_secret(
        &self,
        owner: &str,
        id: uuid::Uuid,
        value: NewValue,
    ) -> Result<Option<SecretRow>, StoreError> {
        let owner = owner.to_owned();
        self.write(move |tx| {
            let previous: Option<String> = tx
                .prepare_cached("SELECT updated_at FROM secrets WHERE owner = ?1 AND id = ?2")?
                .query_row(params![owner, id.to_string()], |row| row.get(0))
                .optional()?;
            let Some(previous) = previous else {
                return Ok(None);
            };
            let updated_at = value.at.max(parse_time(&previous)? + TimeDelta::microseconds(1));
            tx.prepare_cached(&format!(
                "UPDATE secrets SET masked_value = ?3, key_id = ?4, nonce = ?5, ciphertext = ?6, updated_at = ?7 \
                 WHERE owner = ?1 AND id = ?2 RETURNING {SECRET_COLUMNS}"
            ))?
            .query_row(
                params![
                    owner,
                    id.to_string(),
                    value.masked_value,
                    value.sealed.key_id,
                    value.sealed.nonce.as_slice(),
                    value.sealed.ciphertext,
                    timestamp(updated_at),
                ],
                raw_secret,
            )
            .optional()?
            .map(RawSecret::parse)
            .transpose()
        })
        .await
    }

    async fn delete_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<String>, StoreError> {
        let owner = owner.to_owned();
        self.write(move |tx| {
            let name = tx
                .prepare_cached("DELETE FROM secrets WHERE owner = ?1 AND id = ?2 RETURNING name")?
                .query_row(params![owner, id.to_string()], |row| row.get(0))
                .optional()?;
            Ok(name)
        })
        .await
    }
}

/// A secret row as SQLite returns it, before its id and times are parsed.
struct RawSecret {
    id: String,
    name: String,
    provider: Option<String>,
    masked_value: String,
    created_at: String,
    updated_at: String,
}

fn raw_secret(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawSecret> {
    Ok(RawSecret {
        id: row.get(0)?,
        name: row.get(1)?,
        provider: row.get(2)?,
        masked_value: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

impl RawSecret {
    fn parse(self) -> Result<SecretRow, StoreError> {
        Ok(SecretRow {
            id: uuid::Uuid::parse_str(&self.id)
                .map_err(|_| StoreError::Malformed("a secret id is not a UUID".into()))?,
            name: self.name,
            provider: self.provider,
            masked_value: self.masked_value,
            created_at: parse_time(&self.created_at)?,
            updated_at: parse_time(&self.updated_at)?,
        })
    }
}

/// Reads a time written by [`timestamp`].
fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Malformed("a stored time is not RFC 3339".into()))
}

/// SQLite's busy handler reports no duration: a timeout names the store timeout the caller was promised.
fn with_timeout(e: StoreError, timeout: Duration) -> StoreError {
    match e {
        StoreError::Timeout(_) => StoreError::Timeout(timeout),
        other => other,
    }
}

type SealedRow = (String, Vec<u8>, Vec<u8>);

fn sealed_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SealedRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn to_sealed(key_id: String, nonce: &[u8], ciphertext: Vec<u8>) -> Result<Sealed, StoreError> {
    Ok(Sealed {
        nonce: crypto::nonce_from_slice(nonce)?,
        key_id,
        ciphertext,
    })
}

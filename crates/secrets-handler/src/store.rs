//! The secret store: one SQLite file holding encrypted secrets, token hashes and key-check records.
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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension as _, params};
use tokio::time::Instant;

use crate::crypto::{self, CryptoError, Keyring, Sealed};
use crate::tokens::{Scope, TokenHash};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS secrets (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    provider     TEXT NOT NULL,
    masked_value TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    nonce        BLOB NOT NULL,
    ciphertext   BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (owner, name)
) STRICT;
CREATE INDEX IF NOT EXISTS secrets_key_id ON secrets (key_id);
CREATE TABLE IF NOT EXISTS tokens (
    id         TEXT PRIMARY KEY,
    user       TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    hash       BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
-- Bumped by every change to `tokens`, so servers can cache lookups and still see a revocation at once.
CREATE TABLE IF NOT EXISTS token_epoch (id INTEGER PRIMARY KEY CHECK (id = 0), epoch INTEGER NOT NULL) STRICT;
INSERT OR IGNORE INTO token_epoch (id, epoch) VALUES (0, 0);
CREATE TRIGGER IF NOT EXISTS tokens_inserted AFTER INSERT ON tokens BEGIN UPDATE token_epoch SET epoch = epoch + 1; END;
CREATE TRIGGER IF NOT EXISTS tokens_updated AFTER UPDATE ON tokens BEGIN UPDATE token_epoch SET epoch = epoch + 1; END;
CREATE TRIGGER IF NOT EXISTS tokens_deleted AFTER DELETE ON tokens BEGIN UPDATE token_epoch SET epoch = epoch + 1; END;
CREATE TABLE IF NOT EXISTS key_checks (
    key_id     TEXT PRIMARY KEY,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
";

/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 8;
/// Token lookups remembered at most (unknown tokens included); the cache starts over when full.
const MAX_CACHED_TOKENS: usize = 10_000;
/// Writes committed together at most: bounds the latency one fsync adds to the first of them.
const MAX_GROUP: usize = 256;

/// Errors from the store. The API maps them to statuses in one place (`api`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or prepared at startup.
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    /// The database file could not be created.
    #[error("cannot create database {path}: {source}")]
    Create { path: String, source: std::io::Error },
    /// The store did not answer in time (locked by another writer, or overloaded). Nothing was written.
    #[error("the store did not answer within {0:?}")]
    Timeout(Duration),
    /// The row would break `UNIQUE(owner, name)`.
    #[error("a secret with this name already exists for this owner")]
    Conflict,
    /// SQLite reported an I/O error, corruption, a full disk or an unreadable file.
    #[error("the database failed: {0}")]
    Unavailable(#[source] rusqlite::Error),
    /// A stored value cannot be decrypted or has the wrong shape.
    #[error("a stored value cannot be read: {0}")]
    Unreadable(#[from] CryptoError),
    /// Any other database error: a bug rather than an outage.
    #[error("database error: {0}")]
    Database(#[source] rusqlite::Error),
    /// The blocking task panicked or was cancelled.
    #[error("a store task failed: {0}")]
    Task(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let Some(code) = e.sqlite_error_code() else {
            return StoreError::Database(e);
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
            | ErrorCode::NoLargeFileSupport => StoreError::Unavailable(e),
            _ => StoreError::Database(e),
        }
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// The keyring does not fit the data already stored; the server must not start.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    /// Stored values name a key id the keyring lacks.
    #[error("stored secrets are encrypted with key {0}, which the keyring does not hold")]
    MissingKey(String),
    /// The keyring holds a different key under an id already used by this database.
    #[error("key {0} in the keyring is not the key {0} this database was written with (it cannot decrypt stored data)")]
    WrongKey(String),
    /// The store failed while checking.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A secret to insert. Owner and id are also bound into the ciphertext's associated data.
#[derive(Debug)]
pub struct NewSecret {
    /// Random id, also the response's `id`.
    pub id: uuid::Uuid,
    /// The token's user.
    pub owner: String,
    /// The preset's environment-variable name.
    pub name: String,
    /// The provider's wire name, e.g. `openai`.
    pub provider: String,
    /// From [`crate::mask::mask`].
    pub masked_value: String,
    /// The encrypted value.
    pub sealed: Sealed,
    /// Creation time, also `updated_at`.
    pub created_at: DateTime<Utc>,
}

/// One row of `tokens`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// Public id, `tok_…`.
    pub id: String,
    /// The owner of the secrets this token reaches.
    pub user: String,
    /// What it may do.
    pub scope: Scope,
    /// SHA-256 of the token.
    pub hash: Vec<u8>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was revoked (RFC 3339), if it was.
    pub revoked_at: Option<String>,
}

/// The SQLite secret store. Cheap to share behind an `Arc`.
pub struct Store {
    path: PathBuf,
    writer: mpsc::Sender<(Job, Instant)>,
    readers: Arc<Mutex<Vec<Connection>>>,
    tokens: Mutex<TokenCache>,
    timeout: Duration,
}

/// Token lookups already made, valid while `token_epoch` is unchanged. Checking the epoch is one indexed read on a
/// connection of its own, run in place: much cheaper than a trip to the blocking pool, which a lookup costs.
struct TokenCache {
    probe: Connection,
    epoch: i64,
    entries: std::collections::HashMap<TokenHash, Option<TokenRow>>,
}

impl TokenCache {
    /// The cached lookup, if the tokens table has not changed since it was made.
    fn get(&mut self, hash: &TokenHash) -> Result<Option<Option<TokenRow>>, StoreError> {
        let epoch: i64 = self
            .probe
            .prepare_cached("SELECT epoch FROM token_epoch WHERE id = 0")?
            .query_row([], |r| r.get(0))?;
        if epoch != self.epoch {
            self.entries.clear();
            self.epoch = epoch;
        }
        Ok(self.entries.get(hash).cloned())
    }

    /// Remembers a lookup made at `epoch` (a lookup that raced a change is dropped, not cached).
    fn put(&mut self, epoch: i64, hash: TokenHash, row: Option<TokenRow>) {
        if epoch != self.epoch {
            return;
        }
        if self.entries.len() >= MAX_CACHED_TOKENS {
            self.entries.clear();
        }
        self.entries.insert(hash, row);
    }
}

/// One queued write. The writer thread calls it with the open group transaction (`None` if the group could not
/// start); it runs the write in a savepoint and returns what to do once the group's commit succeeded or failed.
type Job = Box<dyn FnOnce(Option<&Connection>, &GroupStart) -> Finish + Send>;
type Finish = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;

/// Why a group could not start, handed to each of its writes.
enum GroupStart {
    Started,
    Failed(rusqlite::Error),
}

const PENDING: u8 = 0;
const CLAIMED: u8 = 1;
const ABANDONED: u8 = 2;

/// The writer thread: takes the first queued write, then everything queued behind it, and commits them together.
fn writer_loop(conn: Connection, jobs: mpsc::Receiver<(Job, Instant)>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Wait for another process's lock no longer than the most patient write in the group.
        let deadline = group
            .iter()
            .map(|(_, deadline)| *deadline)
            .max()
            .expect("a group is never empty");
        let started = conn
            .busy_timeout(deadline.saturating_duration_since(Instant::now()))
            .and_then(|()| conn.execute_batch("BEGIN IMMEDIATE"));
        let start = match started {
            Ok(()) => GroupStart::Started,
            Err(e) => GroupStart::Failed(e),
        };
        let live = matches!(start, GroupStart::Started).then_some(&conn);
        let finishes: Vec<Finish> = group.into_iter().map(|(job, _)| job(live, &start)).collect();
        if live.is_none() {
            finishes.into_iter().for_each(|finish| finish(Ok(())));
            continue;
        }
        let committed = conn.execute_batch("COMMIT");
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for finish in finishes {
            finish(committed.as_ref().copied());
        }
    }
}

/// Runs one write of a group in its own savepoint, so that its failure rolls back only its own changes.
fn run_in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.execute_batch("SAVEPOINT write")?;
    match f(conn) {
        Ok(value) => {
            conn.execute_batch("RELEASE write")?;
            Ok(value)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO write; RELEASE write")?;
            Err(e)
        }
    }
}

/// The error a write reports when its group failed as a whole; `rusqlite::Error` is not `Clone`, so the error is
/// rebuilt from its SQLite code, which is what the mapping to statuses looks at.
fn group_error(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            StoreError::from(rusqlite::Error::SqliteFailure(*code, msg.clone()))
        }
        other => StoreError::Task(other.to_string()),
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Creates a missing database file readable by its owner only; SQLite gives `-wal` and `-shm` the same mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// Formats a time the way the database stores it.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn open_connection(path: &Path, timeout: Duration) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(timeout)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal_mode = %mode, "SQLite refused WAL mode; writes are still durable but readers will block");
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the database at `path`; `timeout` bounds every later call.
    pub fn open(path: &Path, timeout: Duration) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        create_private(path).map_err(|source| StoreError::Create {
            path: path.display().to_string(),
            source,
        })?;
        let conn = open_connection(path, timeout).map_err(open_err)?;
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        let (writer, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("secrets-store-writer".to_owned())
            .spawn(move || writer_loop(conn, jobs))
            .map_err(|source| StoreError::Create {
                path: path.display().to_string(),
                source,
            })?;
        let probe = open_connection(path, timeout).map_err(open_err)?;
        let tokens = Mutex::new(TokenCache {
            probe,
            epoch: -1,
            entries: Default::default(),
        });
        Ok(Self {
            path: path.to_owned(),
            tokens,
            writer,
            readers: Arc::new(Mutex::new(Vec::new())),
            timeout,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same store with another timeout (long-running maintenance such as key rotation).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs `f` inside the writer's next group transaction (in a savepoint of its own), within the store timeout.
    /// Returns once the group is committed; on [`StoreError::Timeout`] nothing of `f` was committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let claim = Arc::new(AtomicU8::new(PENDING));
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let job_claim = Arc::clone(&claim);
        let job: Job = Box::new(move |conn: Option<&Connection>, start: &GroupStart| -> Finish {
            let outcome = match (conn, start) {
                (_, GroupStart::Failed(e)) => Err(group_error(e)),
                (None, GroupStart::Started) => Err(StoreError::Task("the group has no connection".to_owned())),
                (Some(conn), GroupStart::Started) => {
                    if job_claim
                        .compare_exchange(PENDING, CLAIMED, Ordering::SeqCst, Ordering::SeqCst)
                        .is_err()
                    {
                        // The waiter gave up: it already answered 504, so this write must not happen.
                        return Box::new(|_| {});
                    }
                    run_in_savepoint(conn, f)
                }
            };
            Box::new(move |committed| {
                let answer = match (outcome, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(e)) => Err(group_error(e)),
                    (Err(e), _) => Err(e),
                };
                let _ = reply.send(answer.map_err(|e| with_timeout(e, timeout)));
            })
        });
        self.writer
            .send((job, deadline))
            .map_err(|_| StoreError::Task("the writer thread has stopped".to_owned()))?;
        tokio::pin!(answer);
        match tokio::time::timeout_at(deadline, &mut answer).await {
            Ok(answered) => answered.map_err(|_| StoreError::Task("the writer dropped a write".to_owned()))?,
            Err(_)
                if claim
                    .compare_exchange(PENDING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok() =>
            {
                Err(StoreError::Timeout(timeout))
            }
            // The writer already runs it: its outcome, committed or not, is the answer.
            Err(_) => answer
                .await
                .map_err(|_| StoreError::Task("the writer dropped a write".to_owned()))?,
        }
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

    /// Inserts a secret; [`StoreError::Conflict`] if the owner already has one with this name.
    pub async fn insert_secret(&self, secret: NewSecret) -> Result<(), StoreError> {
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

    /// The sealed value of `owner`'s secret `id`, if there is one.
    pub async fn sealed_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<Sealed>, StoreError> {
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

    /// Inserts a new token's hash.
    pub async fn insert_token(
        &self,
        id: String,
        user: String,
        scope: Scope,
        hash: TokenHash,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO tokens (id, user, scope, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, user, scope.as_str(), hash.as_slice(), timestamp(Utc::now())],
            )?;
            Ok(())
        })
        .await
    }

    /// The token with this hash, revoked or not.
    pub async fn token_by_hash(&self, hash: TokenHash) -> Result<Option<TokenRow>, StoreError> {
        let epoch = {
            let mut cache = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(row) = cache.get(&hash)? {
                return Ok(row);
            }
            cache.epoch
        };
        let row = self
            .read(move |conn| {
                Ok(conn
                    .prepare_cached("SELECT id, user, scope, hash, created_at, revoked_at FROM tokens WHERE hash = ?1")?
                    .query_row([hash.as_slice()], token_from_row)
                    .optional()?)
            })
            .await?;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(epoch, hash, row.clone());
        Ok(row)
    }

    /// Revokes the token with this id or hash; the revoked row, or `None` if no live token matched.
    pub async fn revoke_token(
        &self,
        id: Option<String>,
        hash: Option<TokenHash>,
    ) -> Result<Option<TokenRow>, StoreError> {
        self.write(move |tx| {
            let now = timestamp(Utc::now());
            Ok(tx
                .prepare(
                    "UPDATE tokens SET revoked_at = ?1 WHERE (id = ?2 OR hash = ?3) AND revoked_at IS NULL \
                     RETURNING id, user, scope, hash, created_at, revoked_at",
                )?
                .query_row(params![now, id, hash.as_ref().map(|h| h.as_slice())], token_from_row)
                .optional()?)
        })
        .await
    }

    /// Every token, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare("SELECT id, user, scope, hash, created_at, revoked_at FROM tokens ORDER BY created_at, id")?;
            let rows = stmt.query_map([], token_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Key ids this database has seen (key-check records and stored secrets), sorted.
    pub async fn known_key_ids(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare("SELECT key_id FROM key_checks UNION SELECT key_id FROM secrets ORDER BY key_id")?;
            let ids = stmt
                .query_map([], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
        .await
    }

    /// Checks `keyring` against the data already stored and records a key check for each new key id.
    ///
    /// Fails if stored secrets name a key id the keyring lacks, or if a key id the database knows now names another
    /// key (its key-check record, or one secret encrypted with it, does not decrypt). Returns the key ids checked.
    pub async fn check_keyring(&self, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError> {
        let keyring = keyring.clone();
        self.write(move |tx| Ok(check_keyring(tx, &keyring))).await?
    }

    /// Re-encrypts every secret with `keyring`'s current key in one transaction; the number of secrets rewritten.
    pub async fn reencrypt_all(&self, keyring: &Keyring) -> Result<usize, StoreError> {
        let keyring = keyring.clone();
        self.write(move |tx| {
            let current = keyring.current().id().to_owned();
            if !has_key_check(tx, &current)? {
                insert_key_check(tx, &keyring, &current)?;
            }
            let rows = tx
                .prepare("SELECT id, owner, key_id, nonce, ciphertext FROM secrets WHERE key_id <> ?1")?
                .query_map([&current], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                })?
                .collect::<Result<Vec<(String, String, String, Vec<u8>, Vec<u8>)>, _>>()?;
            let mut update = tx.prepare("UPDATE secrets SET key_id = ?1, nonce = ?2, ciphertext = ?3 WHERE id = ?4")?;
            for (id, owner, key_id, nonce, ciphertext) in &rows {
                let secret_id = uuid::Uuid::parse_str(id).map_err(|_| CryptoError::Undecryptable(key_id.clone()))?;
                let aad = crypto::secret_aad(owner, secret_id);
                let sealed = to_sealed(key_id.clone(), nonce, ciphertext.clone())?;
                let plain = keyring.open(&sealed, &aad)?;
                let resealed = keyring.seal(&plain, &aad)?;
                update.execute(params![
                    resealed.key_id,
                    resealed.nonce.as_slice(),
                    resealed.ciphertext,
                    id
                ])?;
            }
            Ok(rows.len())
        })
        .await
    }
}

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

fn token_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    let scope: String = row.get(2)?;
    Ok(TokenRow {
        id: row.get(0)?,
        user: row.get(1)?,
        scope: scope
            .parse()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))?,
        hash: row.get(3)?,
        created_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}

fn has_key_check(tx: &Connection, kid: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_row("SELECT 1 FROM key_checks WHERE key_id = ?1", [kid], |_| Ok(()))
        .optional()?
        .is_some())
}

fn insert_key_check(tx: &Connection, keyring: &Keyring, kid: &str) -> Result<(), StoreError> {
    let record = keyring.key_check(kid)?;
    tx.execute(
        "INSERT INTO key_checks (key_id, nonce, ciphertext, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            record.key_id,
            record.nonce.as_slice(),
            record.ciphertext,
            timestamp(Utc::now())
        ],
    )?;
    Ok(())
}

fn check_keyring(tx: &Connection, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError> {
    let wrong = |kid: &str| KeyCheckError::WrongKey(kid.to_owned());
    // 1. every key id the database has a record of must still name the same key, if the keyring holds it
    let records = tx
        .prepare("SELECT key_id, nonce, ciphertext FROM key_checks")
        .map_err(StoreError::from)?
        .query_map([], sealed_from_row)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(StoreError::from)?;
    for (kid, nonce, ciphertext) in records {
        if !keyring.ids().any(|k| k == kid) {
            continue;
        }
        let record = to_sealed(kid.clone(), &nonce, ciphertext)?;
        keyring.verify_key_check(&record).map_err(|_| wrong(&kid))?;
    }
    // 2. every key id used by stored secrets must be in the keyring and decrypt one of them
    let used: Vec<String> = tx
        .prepare("SELECT DISTINCT key_id FROM secrets")
        .map_err(StoreError::from)?
        .query_map([], |row| row.get(0))
        .and_then(Iterator::collect)
        .map_err(StoreError::from)?;
    for kid in &used {
        if !keyring.ids().any(|k| k == kid) {
            return Err(KeyCheckError::MissingKey(kid.clone()));
        }
        let (id, owner, nonce, ciphertext): (String, String, Vec<u8>, Vec<u8>) = tx
            .query_row(
                "SELECT id, owner, nonce, ciphertext FROM secrets WHERE key_id = ?1 LIMIT 1",
                [kid],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(StoreError::from)?;
        let secret_id = uuid::Uuid::parse_str(&id).map_err(|_| wrong(kid))?;
        let sealed = to_sealed(kid.clone(), &nonce, ciphertext)?;
        keyring
            .open(&sealed, &crypto::secret_aad(&owner, secret_id))
            .map_err(|_| wrong(kid))?;
    }
    // 3. record a key check for each key id seen for the first time
    let mut checked = Vec::new();
    for kid in keyring.ids() {
        if !has_key_check(tx, kid)? {
            insert_key_check(tx, keyring, kid)?;
        }
        checked.push(kid.to_owned());
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens;

    const K1: &str = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const K1_OTHER: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    struct Fixture {
        _dir: tempfile::TempDir,
        path: PathBuf,
        store: Store,
        keyring: Keyring,
    }

    fn fixture(timeout: Duration) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.db");
        let store = Store::open(&path, timeout).unwrap();
        Fixture {
            _dir: dir,
            path,
            store,
            keyring: Keyring::parse(K1, "test").unwrap(),
        }
    }

    fn secret(keyring: &Keyring, owner: &str, name: &str, value: &str) -> NewSecret {
        let id = uuid::Uuid::new_v4();
        NewSecret {
            id,
            owner: owner.to_owned(),
            name: name.to_owned(),
            provider: "openai".to_owned(),
            masked_value: crate::mask::mask(value),
            sealed: keyring.seal(value.as_bytes(), &crypto::secret_aad(owner, id)).unwrap(),
            created_at: Utc::now(),
        }
    }

    async fn value_of(f: &Fixture, keyring: &Keyring, owner: &str, id: uuid::Uuid) -> Result<String, StoreError> {
        let sealed = f.store.sealed_secret(owner, id).await?.expect("row exists");
        let plain = keyring.open(&sealed, &crypto::secret_aad(owner, id))?;
        Ok(String::from_utf8(plain.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn durability_pragmas() {
        let f = fixture(Duration::from_secs(5));
        // Asked on the writer's own connection: `synchronous` is a per-connection setting.
        let (mode, sync) = f
            .store
            .write(|conn| {
                let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                Ok((mode, sync))
            })
            .await
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2), "WAL with synchronous=FULL");
    }

    /// `(owner, name, expected)`, inserted in order into one store.
    #[tokio::test]
    async fn unique_per_owner_and_name() {
        let f = fixture(Duration::from_secs(5));
        let cases = [
            ("alice", "OPENAI_API_KEY", true),
            ("alice", "OPENAI_API_KEY", false),
            ("alice", "GITHUB_TOKEN", true),
            ("bob", "OPENAI_API_KEY", true),
            ("bob", "OPENAI_API_KEY", false),
        ];
        for (i, (owner, name, ok)) in cases.into_iter().enumerate() {
            let result = f.store.insert_secret(secret(&f.keyring, owner, name, "sk-value")).await;
            match (ok, result) {
                (true, Ok(())) | (false, Err(StoreError::Conflict)) => {}
                (_, other) => panic!("case {i} ({owner}, {name}): {other:?}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_creates_give_exactly_one_success() {
        let f = Arc::new(fixture(Duration::from_secs(10)));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let f = Arc::clone(&f);
                tokio::spawn(async move {
                    f.store
                        .insert_secret(secret(&f.keyring, "alice", "OPENAI_API_KEY", "v"))
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(
            results.iter().all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict))),
            "{results:?}"
        );
    }

    #[tokio::test]
    async fn values_are_private_to_their_row() {
        let f = fixture(Duration::from_secs(5));
        let (a, b) = (
            secret(&f.keyring, "alice", "A", "alice-value"),
            secret(&f.keyring, "bob", "A", "bob-value"),
        );
        let (a_id, b_id) = (a.id, b.id);
        f.store.insert_secret(a).await.unwrap();
        f.store.insert_secret(b).await.unwrap();
        assert_eq!(value_of(&f, &f.keyring, "alice", a_id).await.unwrap(), "alice-value");
        assert!(
            f.store.sealed_secret("bob", a_id).await.unwrap().is_none(),
            "owners see only their own rows"
        );
        // copy alice's ciphertext into bob's row: it must not decrypt there
        let conn = Connection::open(&f.path).unwrap();
        conn.execute(
            "UPDATE secrets SET (key_id, nonce, ciphertext) = (SELECT key_id, nonce, ciphertext FROM secrets WHERE id = ?1) \
             WHERE id = ?2",
            [a_id.to_string(), b_id.to_string()],
        )
        .unwrap();
        let err = value_of(&f, &f.keyring, "bob", b_id).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Unreadable(CryptoError::Undecryptable(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn tokens_insert_find_revoke() {
        let f = fixture(Duration::from_secs(5));
        let t = tokens::generate().unwrap();
        let u = tokens::generate().unwrap();
        f.store
            .insert_token(t.id.clone(), "alice".into(), Scope::Read, t.hash)
            .await
            .unwrap();
        f.store
            .insert_token(u.id.clone(), "bob".into(), Scope::Write, u.hash)
            .await
            .unwrap();
        let row = f.store.token_by_hash(t.hash).await.unwrap().unwrap();
        assert_eq!(
            (row.user.as_str(), row.scope, row.revoked_at.is_none()),
            ("alice", Scope::Read, true)
        );
        assert!(tokens::verify(&row.hash, &t.hash));
        assert!(
            f.store
                .token_by_hash(tokens::hash("st_unknown"))
                .await
                .unwrap()
                .is_none()
        );
        // (revoke by id, revoke by hash, expected revoked id)
        let cases = [
            (Some(t.id.clone()), None, Some(t.id.clone())),
            (Some(t.id.clone()), None, None),
            (None, Some(u.hash), Some(u.id.clone())),
            (None, Some(u.hash), None),
            (Some("tok_unknown".to_owned()), None, None),
        ];
        for (i, (id, hash, expected)) in cases.into_iter().enumerate() {
            let revoked = f.store.revoke_token(id, hash).await.unwrap();
            assert_eq!(revoked.map(|r| r.id), expected, "case {i}");
        }
        let listed = f.store.tokens().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|r| r.revoked_at.is_some()));
        assert!(
            f.store
                .token_by_hash(t.hash)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
    }

    #[tokio::test]
    async fn locked_database_times_out_and_stores_nothing() {
        let f = fixture(Duration::from_millis(300));
        let other = Connection::open(&f.path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = std::time::Instant::now();
        let err = f
            .store
            .insert_secret(secret(&f.keyring, "alice", "A", "v"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Timeout(d) if d == Duration::from_millis(300)),
            "{err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        other.execute_batch("ROLLBACK").unwrap();
        let count: i64 = other
            .query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 0);
        // and the store works again once the lock is gone
        f.store
            .insert_secret(secret(&f.keyring, "alice", "A", "v"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn keyring_checks() {
        let f = fixture(Duration::from_secs(5));
        assert_eq!(f.store.check_keyring(&f.keyring).await.unwrap(), ["k1"]);
        let s = secret(&f.keyring, "alice", "A", "v");
        f.store.insert_secret(s).await.unwrap();
        // (keyring, expected error) against a database written with K1
        let k2_only = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
        let cases = [
            (K1, None),
            (
                K1_OTHER,
                Some(
                    "key k1 in the keyring is not the key k1 this database was written with (it cannot decrypt stored data)",
                ),
            ),
            (
                k2_only,
                Some("stored secrets are encrypted with key k1, which the keyring does not hold"),
            ),
        ];
        for (text, expected) in cases {
            let ring = Keyring::parse(text, "test").unwrap();
            let result = f.store.check_keyring(&ring).await;
            assert_eq!(result.err().map(|e| e.to_string()).as_deref(), expected, "{text:.3}");
        }
    }

    #[tokio::test]
    async fn rotation_reencrypts_everything_and_old_data_stays_readable() {
        let f = fixture(Duration::from_secs(5));
        let old = f.keyring.clone();
        let mut ids = Vec::new();
        for (owner, value) in [("alice", "a-value"), ("bob", "b-value"), ("carol", "c-value")] {
            let s = secret(&old, owner, "OPENAI_API_KEY", value);
            ids.push((owner, s.id, value));
            f.store.insert_secret(s).await.unwrap();
        }
        let rotated = old.with_new_key().unwrap();
        assert_eq!(f.store.reencrypt_all(&rotated).await.unwrap(), 3);
        assert_eq!(
            f.store.reencrypt_all(&rotated).await.unwrap(),
            0,
            "a second run has nothing left to do"
        );
        for (owner, id, value) in &ids {
            assert_eq!(f.store.sealed_secret(owner, *id).await.unwrap().unwrap().key_id, "k2");
            assert_eq!(value_of(&f, &rotated, owner, *id).await.unwrap(), *value);
        }
        f.store.check_keyring(&rotated).await.unwrap();
        // the old key alone no longer fits: the data now needs k2
        assert!(matches!(f.store.check_keyring(&old).await, Err(KeyCheckError::MissingKey(k)) if k == "k2"));
    }

    #[test]
    fn sqlite_errors_map_to_store_errors() {
        use rusqlite::ffi;
        let failure = |code| rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
        // (primary result code, expected variant)
        let cases = [
            (ffi::SQLITE_BUSY, "timeout"),
            (ffi::SQLITE_LOCKED, "timeout"),
            (ffi::SQLITE_IOERR, "unavailable"),
            (ffi::SQLITE_CORRUPT, "unavailable"),
            (ffi::SQLITE_NOTADB, "unavailable"),
            (ffi::SQLITE_FULL, "unavailable"),
            (ffi::SQLITE_CANTOPEN, "unavailable"),
            (ffi::SQLITE_CONSTRAINT, "database"),
            (ffi::SQLITE_MISUSE, "database"),
        ];
        for (code, expected) in cases {
            let got = match StoreError::from(failure(code)) {
                StoreError::Timeout(_) => "timeout",
                StoreError::Unavailable(_) => "unavailable",
                StoreError::Database(_) => "database",
                other => panic!("{code}: {other:?}"),
            };
            assert_eq!(got, expected, "sqlite code {code}");
        }
    }
}

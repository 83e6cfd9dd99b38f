//! The secret store: encrypted secrets, token hashes and key-check records, in SQLite (one file, the embedded
//! default) or PostgreSQL (shared by several server instances). `--database` picks the backend by its form: a
//! `postgres://` or `postgresql://` URL, or a file path.
//!
//! Both backends keep the same promises: uniqueness per owner and name is enforced by the database, an answer is
//! sent only once its change is durable, a timed-out write is never committed late, only ciphertext is stored, and
//! the schema is versioned and migrated at start. The contract is written once, as the traits [`SecretStore`],
//! [`TokenStore`] and [`KeyStore`]; [`Store`] holds one backend behind them.
//!
//! Submodules: `sqlite` and `postgres` (one backend each, split alike: the store and its secrets, then `schema`,
//! `tokens` and `keys`), `token_cache` (token lookups both remember) and `keycheck` (the keyring checks both run on
//! their rows).

mod keycheck;
mod postgres;
mod sqlite;
mod token_cache;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret as _, SecretString};

use crate::crypto::{CryptoError, Keyring, Sealed};
use crate::tokens::{Scope, TokenHash};
use postgres::PgStore;
pub use postgres::TlsError;
pub use sqlite::SqliteStore;

/// Where the data lives, as `--database` names it.
#[derive(Clone)]
pub enum Database {
    /// A SQLite file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL. It may hold a password, so it is never shown: [`Database::describe`] is.
    Postgres(SecretString),
}

impl Database {
    /// Reads `--database`: a `postgres://` or `postgresql://` URL, or else a file path.
    pub fn parse(text: &str) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(SecretString::from(text.to_owned()))
        } else {
            Database::Sqlite(PathBuf::from(text))
        }
    }

    /// The database as messages and logs name it: the path, or the URL without its password and options.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => postgres::describe(url.expose_secret()),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::str::FromStr for Database {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Database::parse(text))
    }
}

/// A driver error from either backend.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    #[error(transparent)]
    PostgresTls(#[from] TlsError),
}

/// Errors from the store. The API maps them to statuses in one place (`api`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, reached or migrated at startup. Its cause is the error's source, not part
    /// of its message, so that `secrets-server`'s one-line `{:#}` names it once.
    #[error("cannot open database {location}")]
    Open { location: String, source: DbError },
    /// The database file could not be created (the cause as for `Open`).
    #[error("cannot create database {path}")]
    Create { path: String, source: std::io::Error },
    /// The database was migrated by a newer release; this one must not write to it.
    #[error(
        "database {location} has schema version {found}, newer than the {known} this secrets-server knows; \
         run a release at least as new as the one that migrated it"
    )]
    TooNew { location: String, found: i64, known: i64 },
    /// The store did not answer in time (locked by another writer, or overloaded). Nothing was written.
    #[error("the store did not answer within {0:?}")]
    Timeout(Duration),
    /// The row would break `UNIQUE(owner, name)`.
    #[error("a secret with this name already exists for this owner")]
    Conflict,
    /// The database reported an I/O error, corruption, a full disk, or could not be reached.
    #[error("the database failed: {0}")]
    Unavailable(#[source] DbError),
    /// A stored value cannot be decrypted or has the wrong shape.
    #[error("a stored value cannot be read: {0}")]
    Unreadable(#[from] CryptoError),
    /// A stored row's metadata cannot be read (an unparsable time, an unknown provider).
    #[error("a stored row is malformed: {0}")]
    Malformed(String),
    /// Any other database error: a bug rather than an outage.
    #[error("database error: {0}")]
    Database(#[source] DbError),
    /// A task or the connection pool failed.
    #[error("a store task failed: {0}")]
    Task(String),
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
    /// The environment-variable name (the preset's, or the caller's choice).
    pub name: String,
    /// The provider's wire name, e.g. `openai`; `None` for a custom secret stored without one.
    pub provider: Option<String>,
    /// From [`crate::mask::mask`].
    pub masked_value: String,
    /// The encrypted value.
    pub sealed: Sealed,
    /// Creation time, also `updated_at`.
    pub created_at: DateTime<Utc>,
}

/// A stored secret's metadata, as the API answers it (never the value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRow {
    /// The secret's id.
    pub id: uuid::Uuid,
    /// The environment-variable name.
    pub name: String,
    /// The provider's wire name, if any.
    pub provider: Option<String>,
    /// The masked value.
    pub masked_value: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When its value was last replaced (`created_at` until then).
    pub updated_at: DateTime<Utc>,
}

/// A new value for an existing secret, sealed for its owner and id with the current key.
#[derive(Debug)]
pub struct NewValue {
    /// From [`crate::mask::mask`].
    pub masked_value: String,
    /// The encrypted value.
    pub sealed: Sealed,
    /// When the update was asked for; the stored `updated_at` is later than the previous one in any case.
    pub at: DateTime<Utc>,
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
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it stops working; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last authenticated a request, to within [`LAST_USED_EVERY`]; `None`: never (or not since this was
    /// recorded).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// How stale a token's recorded last use may be: it is written at most once per token in this time, never once per
/// request, so a busy token costs one write a minute (`TokenStore::touch_token`, `crate::usage`).
pub const LAST_USED_EVERY: Duration = Duration::from_secs(60);

/// Formats a time the way SQLite stores it: fixed width, so that times compare as text.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The store, on whichever backend `--database` named. Cheap to share behind an `Arc`.
///
/// It derefs to its [`Backend`], so `store.insert_secret(..)` calls the backend's own method: the contract below
/// is written once, as three traits (one per kind of row), and each backend implements each in the module of the
/// same name.
#[derive(Debug)]
pub struct Store(Box<dyn Backend>);

impl Store {
    /// Opens (creating or migrating if needed) `database`; `timeout` bounds every later call.
    pub async fn open(database: &Database, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self(match database {
            Database::Sqlite(path) => Box::new(SqliteStore::open(path, timeout)?),
            Database::Postgres(url) => Box::new(PgStore::open(url.expose_secret(), timeout).await?),
        }))
    }

    /// The same store with every call timed into the store metrics (`secrets_store_call_duration_seconds`).
    pub fn timed(self) -> Self {
        Self(Box::new(crate::prometheus::Timed::new(self.0)))
    }
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// A storage backend: everything [`Store`] offers.
///
/// The traits use `async_trait` because a native `async fn` in a trait cannot be called through `dyn`; it boxes
/// each call's future.
pub trait Backend: SecretStore + TokenStore + KeyStore + std::fmt::Debug {
    /// The backend's name and durability settings, for the startup log.
    fn settings(&self) -> &'static str;

    /// The backend's name as the store metrics label it: `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
}

/// Secrets, each scoped to its owner.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Inserts a secret; [`StoreError::Conflict`] if the owner already has one with this name.
    async fn insert_secret(&self, secret: NewSecret) -> Result<(), StoreError>;

    /// The sealed value of `owner`'s secret `id`, if there is one.
    async fn sealed_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<Sealed>, StoreError>;

    /// `owner`'s secrets, sorted by name (bytewise).
    async fn list_secrets(&self, owner: &str) -> Result<Vec<SecretRow>, StoreError>;

    /// `owner`'s secret `id`; `None` if there is none (unknown, deleted, or another owner's: the same answer).
    async fn secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<SecretRow>, StoreError>;

    /// Replaces the value of `owner`'s secret `id`; the updated row, or `None` if there is none. Never inserts, so
    /// an update racing a delete cannot bring the secret back.
    ///
    /// `updated_at` becomes the later of `value.at` and one microsecond after the stored `updated_at` (stored times
    /// have microseconds): two updates within one microsecond, or a clock that stepped back, still move it forward,
    /// and it is always later than `created_at`.
    async fn update_secret(
        &self,
        owner: &str,
        id: uuid::Uuid,
        value: NewValue,
    ) -> Result<Option<SecretRow>, StoreError>;

    /// Deletes `owner`'s secret `id` and returns its name (for the audit log); `None` if there was none.
    async fn delete_secret(&self, owner: &str, id: uuid::Uuid) -> Result<Option<String>, StoreError>;
}

/// API tokens, stored as hashes.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Inserts a new token's hash; `expires_at` `None`: it never expires.
    async fn insert_token(
        &self,
        id: String,
        user: String,
        scope: Scope,
        hash: TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    /// The token with this hash, revoked or not. Cached; a revocation by any process is seen within a second.
    async fn token_by_hash(&self, hash: TokenHash) -> Result<Option<TokenRow>, StoreError>;

    /// Revokes the token with this id or hash; the revoked row, or `None` if no live token matched.
    async fn revoke_token(&self, id: Option<String>, hash: Option<TokenHash>) -> Result<Option<TokenRow>, StoreError>;

    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError>;

    /// Records that token `id` was used at `at`, unless its recorded last use is less than [`LAST_USED_EVERY`]
    /// before `at` (another instance recorded it): the condition is part of the write, so instances sharing a
    /// database write at most once a minute between them. Whether it wrote. Does not bump the token epoch, so
    /// cached lookups stay cached.
    async fn touch_token(&self, id: String, at: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// Master-key bookkeeping: key-check records, and re-encryption under a new key.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Key ids this database has seen (key-check records and stored secrets), sorted.
    async fn known_key_ids(&self) -> Result<Vec<String>, StoreError>;

    /// Checks `keyring` against the data already stored and records a key check for each new key id.
    ///
    /// Fails if stored secrets name a key id the keyring lacks, or if a key id the database knows now names another
    /// key (its key-check record, or one secret encrypted with it, does not decrypt). Returns the key ids checked.
    async fn check_keyring(&self, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError>;

    /// Re-encrypts every secret with `keyring`'s current key in one transaction; the number of secrets rewritten.
    async fn reencrypt_all(&self, keyring: &Keyring) -> Result<usize, StoreError>;
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    /// The stored coalescing rule, on either backend: one token's uses as `(seconds after the first, whether
    /// `touch_token` writes)`. Two instances using a token at once are two calls at one time: one writes.
    pub(in crate::store) async fn check_touch_is_coalesced(store: &dyn Backend) {
        let token = crate::tokens::generate().unwrap();
        store
            .insert_token(token.id.clone(), "alice".into(), Scope::Read, token.hash, None)
            .await
            .unwrap();
        let start = DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z").unwrap().to_utc();
        let cases = [
            (0.0, true),
            (0.0, false),
            (30.0, false),
            (59.999_999, false),
            (60.0, true),
            (61.0, false),
            (-10.0, false),
            (3_600.0, true),
        ];
        for (i, (secs, expected)) in cases.into_iter().enumerate() {
            let at = start + TimeDelta::microseconds((secs * 1e6_f64) as i64);
            let wrote = store.touch_token(token.id.clone(), at).await.unwrap();
            assert_eq!(wrote, expected, "case {i}: a use {secs} s after the first");
        }
        let row = store
            .tokens()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.id == token.id)
            .unwrap();
        assert_eq!(row.last_used_at, Some(start + TimeDelta::hours(1)));
        assert!(!store.touch_token("tok_unknown".into(), start).await.unwrap());
    }

    #[test]
    fn database_argument_picks_the_backend_and_never_shows_a_password() {
        let cases = [
            ("./secrets.db", "sqlite", "./secrets.db"),
            ("/var/lib/secrets/db", "sqlite", "/var/lib/secrets/db"),
            (
                "postgres://app:hunter2@db.internal:5433/secrets",
                "postgres",
                "postgres://app@db.internal:5433/secrets",
            ),
            (
                "postgresql://app:hunter2@localhost/secrets?sslmode=disable",
                "postgres",
                "postgres://app@localhost:5432/secrets",
            ),
            (
                "postgres://app:hunter2@db1:5433,db2/secrets?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3",
                "postgres",
                "postgres://app@db1:5433,db2:5432/secrets",
            ),
        ];
        for (text, backend, shown) in cases {
            let database = Database::parse(text);
            let kind = match database {
                Database::Sqlite(_) => "sqlite",
                Database::Postgres(_) => "postgres",
            };
            assert_eq!(kind, backend, "{text}");
            assert_eq!(database.describe(), shown, "{text}");
            assert!(!format!("{database:?}").contains("hunter2"), "{text}");
        }
    }
}

//! The SQL schema and its versioned migrations, applied at start by one instance at a time.
//!
//! The schema version is the highest row of `schema_migrations`; instances starting at once take turns on an
//! advisory lock, so each migration runs once.

use super::{PgStore, col, pg_error};
use crate::store::StoreError;

/// Serialises migrations of one database across instances starting at once (`pg_advisory_xact_lock`).
const MIGRATION_LOCK: i64 = 0x05EC_2E75_0001;

/// Every migration, oldest first, as `(version, what it does, SQL)`; recorded in `schema_migrations`.
pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
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
    ),
    (
        2,
        "tokens.expires_at and tokens.last_used_at",
        // Recording a use must not bump the token epoch (every instance would drop its cached lookups once a minute
        // per busy token), so the trigger now names the columns that change what a token may do.
        "
ALTER TABLE tokens ADD COLUMN expires_at TIMESTAMPTZ, ADD COLUMN last_used_at TIMESTAMPTZ;
DROP TRIGGER tokens_changed ON tokens;
CREATE TRIGGER tokens_changed
    AFTER INSERT OR DELETE OR UPDATE OF id, \"user\", scope, hash, created_at, revoked_at, expires_at ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION bump_token_epoch();
",
    ),
];

impl PgStore {
    /// Applies the migrations this database lacks, one instance at a time.
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
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
}

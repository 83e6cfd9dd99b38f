//! The SQL schema and its versioned migrations, and opening or creating the database file and its connections with
//! the store's settings.
//!
//! The schema version is SQLite's `user_version`. Releases before versioning left it at 0; their files hold the
//! tables of version 1 (perhaps with the older `provider NOT NULL`), which is why version 1 is written with
//! `IF NOT EXISTS` and version 2 checks before it rebuilds: both are no-ops where their change is already there.
//! Later versions run only on files that carry an older version, so they are plain changes.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::StoreError;

/// One schema change: its version, what it does (logged), and how.
struct Migration {
    version: i64,
    does: &'static str,
    apply: fn(&Connection) -> rusqlite::Result<()>,
}

/// Every migration, oldest first; a database at version `n` runs those after `n`, in one transaction.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        does: "the secrets, tokens and key_checks tables",
        apply: |conn| conn.execute_batch(SCHEMA),
    },
    Migration {
        version: 2,
        does: "secrets.provider nullable (custom secrets)",
        apply: |conn| {
            if provider_not_null(conn)? {
                conn.execute_batch(NULLABLE_PROVIDER)?;
            }
            Ok(())
        },
    },
    Migration {
        version: 3,
        does: "tokens.expires_at and tokens.last_used_at",
        apply: |conn| conn.execute_batch(TOKEN_LIFETIME),
    },
];

/// The schema version this release writes.
pub(super) const LATEST: i64 = 3;

/// Version 1, as releases before versioning created it (but with `provider` nullable, as they did by then).
pub(in crate::store) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS secrets (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    provider     TEXT,
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

/// Brings the database to [`LATEST`], under the write lock (another process may be migrating it too); refuses one
/// that a newer release has migrated further.
pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let open_err = |source: rusqlite::Error| StoreError::Open {
        location: path.display().to_string(),
        source: source.into(),
    };
    let version = |conn: &Connection| conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0));
    let found = version(conn).map_err(open_err)?;
    if found == LATEST {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(open_err)?;
    let migrated = version(conn).map_err(open_err).and_then(|found| {
        if found > LATEST {
            return Err(StoreError::TooNew {
                location: path.display().to_string(),
                found,
                known: LATEST,
            });
        }
        for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
            (migration.apply)(conn)
                .and_then(|()| conn.pragma_update(None, "user_version", migration.version))
                .map_err(open_err)?;
            tracing::info!(version = migration.version, "database migrated: {}", migration.does);
        }
        Ok(())
    });
    match migrated {
        Ok(()) => conn.execute_batch("COMMIT").map_err(open_err),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The rebuild: same columns, `provider` nullable; ids, values and times copied as they are.
const NULLABLE_PROVIDER: &str = "
CREATE TABLE secrets_migrated (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    provider     TEXT,
    masked_value TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    nonce        BLOB NOT NULL,
    ciphertext   BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (owner, name)
) STRICT;
INSERT INTO secrets_migrated (id, owner, name, provider, masked_value, key_id, nonce, ciphertext, created_at, updated_at)
    SELECT id, owner, name, provider, masked_value, key_id, nonce, ciphertext, created_at, updated_at FROM secrets;
DROP TABLE secrets;
ALTER TABLE secrets_migrated RENAME TO secrets;
CREATE INDEX IF NOT EXISTS secrets_key_id ON secrets (key_id);
";

/// Expiry and last use. Recording a use must not bump the token epoch (every server would drop its cached lookups
/// once a minute per busy token), so the update trigger now names the columns that change what a token may do.
const TOKEN_LIFETIME: &str = "
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
DROP TRIGGER tokens_updated;
CREATE TRIGGER tokens_updated AFTER UPDATE OF id, user, scope, hash, created_at, revoked_at, expires_at ON tokens
    BEGIN UPDATE token_epoch SET epoch = epoch + 1; END;
";

fn provider_not_null(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT \"notnull\" FROM pragma_table_info('secrets') WHERE name = 'provider'",
        [],
        |row| row.get::<_, i64>(0),
    )
    .map(|notnull| notnull != 0)
}

/// Creates a missing database file readable by its owner only; SQLite gives `-wal` and `-shm` the same mode.
pub(super) fn create_private(path: &Path) -> std::io::Result<()> {
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

/// Opens one connection with the store's durability settings (WAL, `synchronous=FULL`); writer, token probe and
/// readers all use it.
pub(super) fn open_connection(path: &Path, timeout: Duration) -> rusqlite::Result<Connection> {
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

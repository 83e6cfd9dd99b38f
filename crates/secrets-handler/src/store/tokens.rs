//! Token rows, and the cache that spares most token lookups a trip to the blocking pool.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension as _, params};

use super::{Store, StoreError, timestamp};
use crate::tokens::{Scope, TokenHash};

/// Token lookups remembered at most (unknown tokens included); the cache starts over when full.
const MAX_CACHED_TOKENS: usize = 10_000;

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

/// Token lookups already made, valid while `token_epoch` is unchanged. Checking the epoch is one indexed read on a
/// connection of its own, run in place: much cheaper than a trip to the blocking pool, which a lookup costs.
pub(super) struct TokenCache {
    probe: Connection,
    epoch: i64,
    entries: std::collections::HashMap<TokenHash, Option<TokenRow>>,
}

impl TokenCache {
    /// An empty cache whose epoch no table has, so the first lookup reads the real one.
    pub(super) fn new(probe: Connection) -> Self {
        Self {
            probe,
            epoch: -1,
            entries: Default::default(),
        }
    }

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

impl Store {
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

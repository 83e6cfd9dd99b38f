//! Token rows. A cached lookup is checked against `token_epoch` first, one indexed read on a connection of its own
//! run in place (much cheaper than a trip to the blocking pool), so a revocation is seen at once.

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{OptionalExtension as _, params};

use super::{SqliteStore, StoreError};
use crate::store::{TokenRow, TokenStore, timestamp};
use crate::tokens::{Scope, TokenHash};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, id: String, user: String, scope: Scope, hash: TokenHash) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO tokens (id, user, scope, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, user, scope.as_str(), hash.as_slice(), timestamp(Utc::now())],
            )?;
            Ok(())
        })
        .await
    }

    async fn token_by_hash(&self, hash: TokenHash) -> Result<Option<TokenRow>, StoreError> {
        let epoch = {
            let mut guard = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            let (probe, cache) = &mut *guard;
            let epoch: i64 = probe
                .prepare_cached("SELECT epoch FROM token_epoch WHERE id = 0")?
                .query_row([], |r| r.get(0))?;
            cache.observe(epoch);
            if let Some(row) = cache.get(&hash) {
                return Ok(row);
            }
            epoch
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
            .1
            .put(epoch, hash, row.clone());
        Ok(row)
    }

    async fn revoke_token(&self, id: Option<String>, hash: Option<TokenHash>) -> Result<Option<TokenRow>, StoreError> {
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

    async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
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

//! Token rows. A cached lookup is checked against `token_epoch` first, one indexed read on a connection of its own
//! run in place (much cheaper than a trip to the blocking pool), so a revocation is seen at once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension as _, params};

use super::{SqliteStore, StoreError};
use crate::store::{LAST_USED_EVERY, TokenRow, TokenStore, timestamp};
use crate::tokens::{Scope, TokenHash};

/// The columns [`token_from_row`] reads, in its order.
const TOKEN_COLUMNS: &str = "id, user, scope, hash, created_at, revoked_at, expires_at, last_used_at";

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(
        &self,
        id: String,
        user: String,
        scope: Scope,
        hash: TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO tokens (id, user, scope, hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    user,
                    scope.as_str(),
                    hash.as_slice(),
                    timestamp(Utc::now()),
                    expires_at.map(timestamp)
                ],
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
                    .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1"))?
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
                .prepare(&format!(
                    "UPDATE tokens SET revoked_at = ?1 WHERE (id = ?2 OR hash = ?3) AND revoked_at IS NULL \
                     RETURNING {TOKEN_COLUMNS}"
                ))?
                .query_row(params![now, id, hash.as_ref().map(|h| h.as_slice())], token_from_row)
                .optional()?)
        })
        .await
    }

    async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"))?;
            let rows = stmt.query_map([], token_from_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn touch_token(&self, id: String, at: DateTime<Utc>) -> Result<bool, StoreError> {
        // Stored times are fixed-width RFC 3339 text, so `<` on the text is `<` on the times.
        let before = at - LAST_USED_EVERY;
        self.write(move |tx| {
            let written = tx.execute(
                "UPDATE tokens SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
                params![timestamp(at), id, timestamp(before)],
            )?;
            Ok(written > 0)
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
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, Type::Text, Box::new(e)))?,
        hash: row.get(3)?,
        created_at: time(row, 4)?.ok_or(rusqlite::Error::InvalidColumnType(4, "created_at".into(), Type::Null))?,
        revoked_at: time(row, 5)?,
        expires_at: time(row, 6)?,
        last_used_at: time(row, 7)?,
    })
}

/// A time column written by [`timestamp`], or NULL.
fn time(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    row.get::<_, Option<String>>(index)?
        .map(|text| {
            DateTime::parse_from_rfc3339(&text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
        })
        .transpose()
}

//! Token rows. A lookup is answered from the cache while the epoch poller (`epoch`) vouches for it, else from the
//! database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::{PgStore, col};
use crate::store::{LAST_USED_EVERY, StoreError, TokenRow, TokenStore};
use crate::tokens::{Scope, TokenHash};

/// The columns [`token_row`] reads, in its order.
const TOKEN_COLUMNS: &str = "id, \"user\", scope, hash, created_at, revoked_at, expires_at, last_used_at";

#[async_trait]
impl TokenStore for PgStore {
    async fn insert_token(
        &self,
        id: String,
        user: String,
        scope: Scope,
        hash: TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO tokens (id, \"user\", scope, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &user, &scope.as_str(), &hash.as_slice(), &Utc::now(), &expires_at],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn token_by_hash(&self, hash: TokenHash) -> Result<Option<TokenRow>, StoreError> {
        let epoch = {
            let polled = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if !polled.fresh() {
                // The cache is not trusted until the epoch is read again: a miss.
                crate::prometheus::token_cache_lookup(false);
                None
            } else if let Some(row) = polled.cache.get(&hash) {
                return Ok(row);
            } else {
                Some(polled.cache.epoch())
            }
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

    async fn revoke_token(&self, id: Option<String>, hash: Option<TokenHash>) -> Result<Option<TokenRow>, StoreError> {
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

    async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = self
            .query(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"),
                &[],
            )
            .await?;
        rows.iter().map(token_row).collect()
    }

    async fn touch_token(&self, id: String, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let written = client
            .execute(
                "UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
                &[&at, &id, &(at - LAST_USED_EVERY)],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(written > 0)
    }
}

fn token_row(row: &Row) -> Result<TokenRow, StoreError> {
    let scope: &str = col(row, 2)?;
    Ok(TokenRow {
        id: col(row, 0)?,
        user: col(row, 1)?,
        scope: scope
            .parse()
            .map_err(|_| StoreError::Malformed("a stored token scope is not read or write".into()))?,
        hash: col(row, 3)?,
        created_at: col(row, 4)?,
        revoked_at: col(row, 5)?,
        expires_at: col(row, 6)?,
        last_used_at: col(row, 7)?,
    })
}

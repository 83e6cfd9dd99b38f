//! Token lookups already made, remembered while the tokens table is unchanged (its `token_epoch`, which every
//! change to `tokens` bumps but a recorded use), so that most requests authenticate without a trip to the database.
//!
//! A remembered row is the row as read; what depends on the clock is judged on every request (`api::admit` compares
//! `expires_at` with now), so a token expires on time while cached. A recorded use does not change what a token may
//! do, so the remembered `last_used_at` may be stale: `token list` reads the table.

use std::collections::HashMap;

use super::TokenRow;
use crate::tokens::TokenHash;

/// Token lookups remembered at most (unknown tokens included); the cache starts over when full.
const MAX_CACHED_TOKENS: usize = 10_000;

/// Lookups made at one epoch of the tokens table.
pub(super) struct TokenCache {
    epoch: i64,
    entries: HashMap<TokenHash, Option<TokenRow>>,
}

impl Default for TokenCache {
    /// An empty cache at an epoch no table has, so the first observed epoch starts it.
    fn default() -> Self {
        Self {
            epoch: -1,
            entries: HashMap::new(),
        }
    }
}

impl TokenCache {
    /// Moves to `epoch`, the table's epoch just read, forgetting every lookup if the table changed since.
    pub(super) fn observe(&mut self, epoch: i64) {
        if epoch != self.epoch {
            self.entries.clear();
            self.epoch = epoch;
        }
    }

    /// The epoch the remembered lookups were made at.
    pub(super) fn epoch(&self) -> i64 {
        self.epoch
    }

    /// The remembered lookup, if any (`Some(None)`: the token is known not to exist); counted as a hit or a miss.
    pub(super) fn get(&self, hash: &TokenHash) -> Option<Option<TokenRow>> {
        let found = self.entries.get(hash).cloned();
        crate::prometheus::token_cache_lookup(found.is_some());
        found
    }

    /// Remembers a lookup made at `epoch`; dropped if the table changed meanwhile (it may be stale).
    pub(super) fn put(&mut self, epoch: i64, hash: TokenHash, row: Option<TokenRow>) {
        if epoch != self.epoch {
            return;
        }
        if self.entries.len() >= MAX_CACHED_TOKENS {
            self.entries.clear();
        }
        self.entries.insert(hash, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_of_epoch_forgets_and_a_stale_lookup_is_not_kept() {
        let hash = crate::tokens::hash("st_example");
        let mut cache = TokenCache::default();
        cache.observe(3);
        cache.put(3, hash, None);
        assert_eq!(cache.get(&hash), Some(None), "remembered at its epoch");
        cache.observe(4);
        assert_eq!(cache.get(&hash), None, "a new epoch forgets it");
        cache.put(3, hash, None);
        assert_eq!(cache.get(&hash), None, "a lookup made before the change is not kept");
    }
}

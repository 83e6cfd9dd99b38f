//! When each token was last used: recorded off the request path, at most once per token per [`LAST_USED_EVERY`].
//!
//! Two rules keep it to one write a minute, never one per request. This process issues a write for a token only if
//! it has not issued one in the last minute (`claim`), and the write itself is conditional on the stored time
//! being a minute old (`TokenStore::touch_token`), so instances sharing a database write once between them. The
//! write runs in a task of its own: a slow or failing database never delays or fails a request, and a failure is
//! logged, not answered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::time::Instant;

use crate::store::{LAST_USED_EVERY, Store};

/// Token ids remembered before the ones older than [`LAST_USED_EVERY`] are dropped.
const MAX_REMEMBERED: usize = 10_000;

/// Records tokens' last use in the store.
pub struct LastUsed {
    store: Arc<Store>,
    /// When this process last issued a write for each token id.
    issued: Mutex<HashMap<String, Instant>>,
}

impl LastUsed {
    /// A recorder writing to `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// Notes that `token_id` authenticated a request just now; returns at once.
    pub fn record(&self, token_id: &str) {
        let due = claim(
            &mut self.issued.lock().unwrap_or_else(|e| e.into_inner()),
            token_id,
            Instant::now(),
        );
        if !due {
            return;
        }
        let store = Arc::clone(&self.store);
        let token_id = token_id.to_owned();
        tokio::spawn(async move {
            if let Err(error) = store.touch_token(token_id.clone(), Utc::now()).await {
                // Not retried before the next minute: a database that fails is not sent one write per request.
                tracing::warn!(%token_id, %error, "cannot record when the token was last used");
            }
        });
    }
}

/// Whether a write for `token_id` is due at `now`: none was issued in the last [`LAST_USED_EVERY`]. If so, `now` is
/// noted as issued before the write is sent, so requests arriving meanwhile do not send another.
fn claim(issued: &mut HashMap<String, Instant>, token_id: &str, now: Instant) -> bool {
    if issued
        .get(token_id)
        .is_some_and(|&at| now.saturating_duration_since(at) < LAST_USED_EVERY)
    {
        return false;
    }
    if issued.len() >= MAX_REMEMBERED {
        issued.retain(|_, at| now.saturating_duration_since(*at) < LAST_USED_EVERY);
    }
    issued.insert(token_id.to_owned(), now);
    true
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// One process's requests, in order, as `(token id, seconds since the first, whether a write is issued)`.
    #[test]
    fn at_most_one_write_per_token_per_minute() {
        let cases = [
            ("tok_a", 0.0, true),
            ("tok_a", 0.0, false),
            ("tok_a", 1.0, false),
            ("tok_b", 1.0, true),
            ("tok_a", 59.999, false),
            ("tok_a", 60.0, true),
            ("tok_b", 60.0, false),
            ("tok_a", 61.0, false),
            ("tok_b", 61.0, true),
            ("tok_a", 119.0, false),
            ("tok_a", 600.0, true),
        ];
        let start = Instant::now();
        let mut issued = HashMap::new();
        for (i, (token, at, expected)) in cases.into_iter().enumerate() {
            let now = start + Duration::from_secs_f64(at);
            assert_eq!(claim(&mut issued, token, now), expected, "case {i}: {token} at {at} s");
        }
    }

    /// Full of tokens not used for a minute, the map drops them rather than grow; recent ones are kept.
    #[test]
    fn old_entries_are_dropped_when_full() {
        let start = Instant::now();
        let mut issued = HashMap::new();
        for i in 0..MAX_REMEMBERED {
            assert!(claim(&mut issued, &format!("tok_{i}"), start));
        }
        let later = start + LAST_USED_EVERY;
        assert!(claim(&mut issued, "tok_recent", later - Duration::from_secs(1)));
        assert!(claim(&mut issued, "tok_new", later));
        assert_eq!(issued.len(), 2, "the {MAX_REMEMBERED} old entries are gone");
        assert!(
            !claim(&mut issued, "tok_recent", later),
            "a recent one is still remembered"
        );
    }
}

//! The token-epoch poller. `token_epoch` is bumped by every change to `tokens` but a recorded use; a background task
//! reads it every [`EPOCH_POLL`], and a cached token lookup is trusted only while the last read is younger than
//! [`EPOCH_FRESH`], so a revocation through any instance is refused by every instance within a second.

use std::sync::{Mutex, Weak};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::time::Instant;

use super::{col, pg_error, pool_error};
use crate::store::token_cache::TokenCache;

/// How often the token epoch is read.
const EPOCH_POLL: Duration = Duration::from_millis(200);
/// How old the last epoch read may be for cached token lookups to be trusted.
const EPOCH_FRESH: Duration = Duration::from_millis(750);

/// The token cache and when its epoch was last read.
#[derive(Default)]
pub(super) struct PolledCache {
    pub(super) cache: TokenCache,
    polled: Option<Instant>,
}

impl PolledCache {
    /// Whether the last epoch read is recent enough to trust the cache.
    pub(super) fn fresh(&self) -> bool {
        self.polled.is_some_and(|at| at.elapsed() < EPOCH_FRESH)
    }
}

/// Reads `token_epoch` every [`EPOCH_POLL`] until the store is dropped.
pub(super) async fn poll_epoch(pool: Pool, tokens: Weak<Mutex<PolledCache>>) {
    let mut tick = tokio::time::interval(EPOCH_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        let Some(tokens) = tokens.upgrade() else {
            return;
        };
        // A cached lookup is trusted for EPOCH_FRESH from when this read was sent, not answered: a revocation
        // committed after it was sent is then refused at most EPOCH_FRESH later, however slow the answer.
        let sent = Instant::now();
        let read = async {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_one("SELECT epoch FROM token_epoch WHERE id = 0", &[])
                .await
                .map_err(pg_error)?;
            col::<i64>(&row, 0)
        };
        match read.await {
            Ok(epoch) => {
                let mut polled = tokens.lock().unwrap_or_else(|e| e.into_inner());
                polled.cache.observe(epoch);
                polled.polled = Some(sent);
                if failing {
                    tracing::info!("token epoch readable again; token lookups cached again");
                    failing = false;
                }
            }
            Err(e) if !failing => {
                tracing::warn!(error = %e, "cannot read the token epoch; every token lookup goes to the database");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

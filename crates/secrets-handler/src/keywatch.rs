//! The keyring a running server encrypts with, reloaded when the key file changes (`key rotate` replaces it), so that
//! every instance sharing the file writes with the new key within a second, without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use crate::crypto::Keyring;
use crate::store::{KeyCheckError, Store};

/// How often the key file's metadata is read.
const POLL: Duration = Duration::from_millis(250);

/// The keyring in use; replaced whole, so a request seals with one keyring from start to end.
#[derive(Debug)]
pub struct LiveKeyring(RwLock<Arc<Keyring>>);

impl LiveKeyring {
    /// Starts with `keyring`.
    pub fn new(keyring: Keyring) -> Self {
        Self(RwLock::new(Arc::new(keyring)))
    }

    /// The keyring to use now.
    pub fn get(&self) -> Arc<Keyring> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn replace(&self, keyring: Keyring) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keyring);
    }
}

/// What identifies one version of the file: a replacement by rename changes the inode, an edit in place the time or
/// length.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(&meta),
    })
}

/// Watches `path` until the process ends; on a change, loads the file, checks it against the database, and makes it
/// the keyring in use. A file that drops a key in use, or does not fit the database, is refused (logged) and the
/// keyring in use stays; a check the database could not answer is tried again at the next poll.
pub fn watch(path: PathBuf, live: Arc<LiveKeyring>, store: Arc<Store>) {
    tokio::spawn(async move {
        let mut seen = stamp(&path);
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = stamp(&path);
            if now.is_none() || now == seen {
                continue;
            }
            if reload(&path, &live, &store).await {
                seen = now;
            }
        }
    });
}

/// One reload attempt; false if it should be tried again.
async fn reload(path: &Path, live: &LiveKeyring, store: &Store) -> bool {
    let file = path.display();
    let new = match Keyring::load_file(path) {
        Ok(Some(keyring)) => keyring,
        // replaced while being read, or unreadable for a moment: the next poll tries again
        Ok(None) => return false,
        Err(e) => {
            tracing::error!(key_file = %file, error = %e, "the key file changed but cannot be read; keeping the keys in use");
            return true;
        }
    };
    let old = live.get();
    if let Some(dropped) = old.ids().find(|id| !new.ids().any(|n| n == *id)) {
        tracing::error!(key_file = %file, key = dropped, "the key file changed and no longer holds key {dropped}; keeping the keys in use");
        return true;
    }
    match store.check_keyring(&new).await {
        Ok(_) => {}
        Err(KeyCheckError::Store(e)) => {
            tracing::warn!(key_file = %file, error = %e, "cannot check the changed key file against the database yet");
            return false;
        }
        Err(e) => {
            tracing::error!(key_file = %file, error = %e, "the changed key file does not fit the database; keeping the keys in use");
            return true;
        }
    }
    let writes_with = new.current().id().to_owned();
    live.replace(new);
    tracing::info!(key_file = %file, writes_with, "key file reloaded");
    true
}

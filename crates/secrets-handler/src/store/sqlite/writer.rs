//! The group-commit writer: one thread owns the only writing connection and commits every write queued behind the
//! first in one transaction, each in a savepoint of its own; [`SqliteStore::write`] queues a write and waits for it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, mpsc};

use rusqlite::Connection;
use tokio::time::Instant;

use super::{SqliteStore, StoreError, with_timeout};

/// Writes committed together at most: bounds the latency one fsync adds to the first of them.
const MAX_GROUP: usize = 256;

/// One queued write. The writer thread calls it with the open group transaction (`None` if the group could not
/// start); it runs the write in a savepoint and returns what to do once the group's commit succeeded or failed.
pub(super) type Job = Box<dyn FnOnce(Option<&Connection>, &GroupStart) -> Finish + Send>;
pub(super) type Finish = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;

/// Why a group could not start, handed to each of its writes.
pub(super) enum GroupStart {
    Started,
    Failed(rusqlite::Error),
}

/// Who decides a queued write's fate once its waiter's deadline passes. A write that times out must never be committed
/// late (the client was told 504, nothing stored), so the writer, about to run it, and the waiter, about to give up,
/// race for this one flag: exactly one of [`Claim::claim_for_writer`] and [`Claim::abandon`] succeeds.
struct Claim(AtomicU8);

impl Claim {
    const PENDING: u8 = 0;
    const CLAIMED: u8 = 1;
    const ABANDONED: u8 = 2;

    fn new() -> Self {
        Self(AtomicU8::new(Self::PENDING))
    }

    /// The writer's side: true if it may run the write, false if the waiter already gave up.
    fn claim_for_writer(&self) -> bool {
        self.0
            .compare_exchange(Self::PENDING, Self::CLAIMED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The waiter's side, at its deadline: true if the write will never run, false if the writer already runs it.
    fn abandon(&self) -> bool {
        self.0
            .compare_exchange(Self::PENDING, Self::ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

/// The writer thread: takes the first queued write, then everything queued behind it, and commits them together.
pub(super) fn writer_loop(conn: Connection, jobs: mpsc::Receiver<(Job, Instant)>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Wait for another process's lock no longer than the most patient write in the group.
        let deadline = group
            .iter()
            .map(|(_, deadline)| *deadline)
            .max()
            .expect("a group is never empty");
        let started = conn
            .busy_timeout(deadline.saturating_duration_since(Instant::now()))
            .and_then(|()| conn.execute_batch("BEGIN IMMEDIATE"));
        let start = match started {
            Ok(()) => GroupStart::Started,
            Err(e) => GroupStart::Failed(e),
        };
        let live = matches!(start, GroupStart::Started).then_some(&conn);
        let finishes: Vec<Finish> = group.into_iter().map(|(job, _)| job(live, &start)).collect();
        if live.is_none() {
            finishes.into_iter().for_each(|finish| finish(Ok(())));
            continue;
        }
        let committed = conn.execute_batch("COMMIT");
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for finish in finishes {
            finish(committed.as_ref().copied());
        }
    }
}

/// Runs one write of a group in its own savepoint, so that its failure rolls back only its own changes.
fn run_in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.execute_batch("SAVEPOINT write")?;
    match f(conn) {
        Ok(value) => {
            conn.execute_batch("RELEASE write")?;
            Ok(value)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO write; RELEASE write")?;
            Err(e)
        }
    }
}

/// The error a write reports when its group failed as a whole; `rusqlite::Error` is not `Clone`, so the error is
/// rebuilt from its SQLite code, which is what the mapping to statuses looks at.
fn group_error(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            StoreError::from(rusqlite::Error::SqliteFailure(*code, msg.clone()))
        }
        other => StoreError::Task(other.to_string()),
    }
}

impl SqliteStore {
    /// Runs `f` inside the writer's next group transaction (in a savepoint of its own), within the store timeout.
    /// Returns once the group is committed; on [`StoreError::Timeout`] nothing of `f` was committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let timeout = self.timeout;
        let deadline = Instant::now() + timeout;
        let claim = Arc::new(Claim::new());
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let job_claim = Arc::clone(&claim);
        let job: Job = Box::new(move |conn: Option<&Connection>, start: &GroupStart| -> Finish {
            let outcome = match (conn, start) {
                (_, GroupStart::Failed(e)) => Err(group_error(e)),
                (None, GroupStart::Started) => Err(StoreError::Task("the group has no connection".to_owned())),
                (Some(conn), GroupStart::Started) => {
                    if !job_claim.claim_for_writer() {
                        // The waiter gave up: it already answered 504, so this write must not happen.
                        return Box::new(|_| {});
                    }
                    run_in_savepoint(conn, f)
                }
            };
            Box::new(move |committed| {
                let answer = match (outcome, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(e)) => Err(group_error(e)),
                    (Err(e), _) => Err(e),
                };
                let _ = reply.send(answer.map_err(|e| with_timeout(e, timeout)));
            })
        });
        self.writer
            .send((job, deadline))
            .map_err(|_| StoreError::Task("the writer thread has stopped".to_owned()))?;
        tokio::pin!(answer);
        match tokio::time::timeout_at(deadline, &mut answer).await {
            Ok(answered) => answered.map_err(|_| StoreError::Task("the writer dropped a write".to_owned()))?,
            Err(_) if claim.abandon() => Err(StoreError::Timeout(timeout)),
            // The writer already runs it: its outcome, committed or not, is the answer.
            Err(_) => answer
                .await
                .map_err(|_| StoreError::Task("the writer dropped a write".to_owned()))?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Claim;

    /// Whichever side moves first wins, and the other learns it lost.
    #[test]
    fn claim_has_one_winner() {
        let claim = Claim::new();
        assert!(claim.claim_for_writer());
        assert!(!claim.abandon(), "a write the writer runs can no longer time out");
        let claim = Claim::new();
        assert!(claim.abandon());
        assert!(!claim.claim_for_writer(), "an abandoned write is never run");
    }
}

//! Token lifetime through the real binary: `token create --expires-in/--expires-at`, an expired token refused with a
//! 401 that says so even while its lookup is cached, `token list`'s expiry and last use, the measured number of
//! `last_used_at` writes for many requests over two instances (one per token a minute, never one per request), and a
//! failing write that neither delays nor fails a request.
//!
//! On SQLite or, under `E2E_DATABASE=postgres`, on PostgreSQL. `E2E_LAST_USED_SECS` stretches the measurement (3 s
//! by default; 65 s covers a second minute).

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};

use crate::harness::{Server, answer, on_postgres, postgres};

/// A server with no rate limit on a fresh database, and how to run SQL in that database; `None` where PostgreSQL is
/// asked for but not installed (the harness said so).
fn server() -> Option<(Server, Sql)> {
    server_with(&[])
}

/// As [`server`], with more `serve` arguments.
fn server_with(args: &[&str]) -> Option<(Server, Sql)> {
    let args = [&["--rate-limit", "0"][..], args].concat();
    if on_postgres() {
        let cluster = postgres()?;
        let url = cluster.create_database("lifetime").unwrap();
        let db = url.rsplit('/').next().unwrap().to_owned();
        let server = Server::start_on(Some(url), None, &args);
        return Some((server, Sql::Postgres(db)));
    }
    let server = Server::start_with(&args);
    let path = server.database();
    Some((server, Sql::Sqlite(path)))
}

/// The test's own statements, beside the servers.
enum Sql {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Sql {
    /// Runs `sql` (statements separated by `;`, or one query answering one number).
    fn run(&self, sqlite: &str, postgres_sql: &str) -> String {
        match self {
            Sql::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                if sqlite.trim_start().starts_with("SELECT") {
                    conn.query_row(sqlite, [], |r| r.get::<_, i64>(0)).unwrap().to_string()
                } else {
                    conn.execute_batch(sqlite).unwrap();
                    String::new()
                }
            }
            Sql::Postgres(db) => postgres().unwrap().psql(db, postgres_sql).unwrap(),
        }
    }

    /// Counts, in the database itself, every row write to `tokens.last_used_at` (and, on PostgreSQL, every
    /// `UPDATE` statement naming it, whether it wrote or not).
    fn count_last_used_writes(&self) {
        self.run(
            "CREATE TABLE last_used_writes (n INTEGER NOT NULL);
             INSERT INTO last_used_writes VALUES (0);
             CREATE TRIGGER count_last_used AFTER UPDATE OF last_used_at ON tokens
                 BEGIN UPDATE last_used_writes SET n = n + 1; END;",
            "CREATE TABLE last_used_writes (rows BIGINT NOT NULL, statements BIGINT NOT NULL);
             INSERT INTO last_used_writes VALUES (0, 0);
             CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN UPDATE last_used_writes SET rows = rows + 1; RETURN NULL; END $$;
             CREATE FUNCTION count_statements() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN UPDATE last_used_writes SET statements = statements + 1; RETURN NULL; END $$;
             CREATE TRIGGER count_rows AFTER UPDATE OF last_used_at ON tokens
                 FOR EACH ROW EXECUTE FUNCTION count_rows();
             CREATE TRIGGER count_statements AFTER UPDATE OF last_used_at ON tokens
                 FOR EACH STATEMENT EXECUTE FUNCTION count_statements();",
        );
    }

    /// Holds a lock that blocks the write of any token's `last_used_at` (and no read) until the guard is dropped:
    /// SQLite's write lock, or PostgreSQL's row locks on `tokens`.
    async fn block_token_writes(&self) -> Box<dyn std::any::Any> {
        match self {
            Sql::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                Box::new(conn)
            }
            Sql::Postgres(db) => {
                let url = postgres().unwrap().url(db);
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client
                    .batch_execute("BEGIN; SELECT id FROM tokens FOR UPDATE")
                    .await
                    .unwrap();
                Box::new(client)
            }
        }
    }

    /// Rows written to `last_used_at` so far.
    fn last_used_writes(&self) -> u64 {
        self.run("SELECT n FROM last_used_writes", "SELECT rows FROM last_used_writes")
            .parse()
            .unwrap()
    }
}

/// `token list`'s line for `user`, split into its columns.
fn listed(server: &Server, user: &str) -> Vec<String> {
    let out = server.admin(&["token", "list"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let header: Vec<&str> = text
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        [
            "ID",
            "SCOPE",
            "STATUS",
            "CREATED",
            "EXPIRES",
            "LAST USED",
            "REVOKED",
            "USER"
        ],
        "{text}"
    );
    text.lines()
        .find(|line| line.ends_with(&format!(" {user}")))
        .unwrap_or_else(|| panic!("no token of {user} in {text}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A token created with `args` after `token create --user USER`, or the command's stderr if it failed.
fn create(server: &Server, user: &str, args: &[&str]) -> Result<String, String> {
    let out = server
        .command(&[&["token", "create", "--user", user][..], args].concat())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap().trim().to_owned())
    } else {
        Err(String::from_utf8(out.stderr).unwrap())
    }
}

#[tokio::test]
async fn an_expired_token_is_refused_even_while_its_lookup_is_cached() {
    let Some((server, _)) = server() else { return };
    let expires = Utc::now() + chrono::TimeDelta::seconds(3);
    let expires_text = expires.to_rfc3339_opts(SecondsFormat::Micros, true);
    let short = create(&server, "short", &["--expires-at", &expires_text]).unwrap();
    let long = create(&server, "long", &["--expires-in", "90d"]).unwrap();
    let forever = server.token("forever", "read");

    // (user, token, status before its expiry, status after)
    let cases = [
        ("short", &short, 200, 401),
        ("long", &long, 200, 200),
        ("forever", &forever, 200, 200),
    ];
    let clients: Vec<_> = cases.iter().map(|(_, token, _, _)| server.client(token)).collect();
    for ((user, _, before, _), client) in cases.iter().zip(&clients) {
        // Twice: the second is answered from the token cache.
        for _ in 0..2 {
            assert_eq!(answer(client.list_secrets().send().await).0, *before, "{user} before");
        }
    }
    let wait = (expires - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(100);
    tokio::time::sleep(wait).await;
    for ((user, _, _, after), client) in cases.iter().zip(&clients) {
        let (status, envelope) = answer(client.list_secrets().send().await);
        assert_eq!(status, *after, "{user} after: {envelope:?}");
        if let Some(envelope) = envelope {
            assert_eq!(envelope.type_, "authentication_error");
            let second = expires.to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(
                envelope.detail,
                format!("the token expired at {second}; create a new one")
            );
        }
    }

    // `token list`: status, expiry and last use (recorded off the request path, so perhaps a moment later).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut columns = listed(&server, "short");
    while columns[5] == "-" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        columns = listed(&server, "short");
    }
    assert_eq!(
        (columns[2].as_str(), columns[4].as_str()),
        ("expired", &*expires.to_rfc3339_opts(SecondsFormat::Secs, true))
    );
    assert!(columns[5].starts_with("20"), "short was used: {columns:?}");
    let long_columns = listed(&server, "long");
    let in_90_days = (Utc::now() + chrono::TimeDelta::days(90))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(long_columns[2], "active");
    assert!(long_columns[4].starts_with(&in_90_days), "{long_columns:?}");
    let forever_columns = listed(&server, "forever");
    assert_eq!(
        (forever_columns[2].as_str(), forever_columns[4].as_str()),
        ("active", "-")
    );

    // A time already past is refused at creation, and the two flags do not go together.
    let past = create(&server, "late", &["--expires-at", "2020-01-01T00:00:00Z"]).unwrap_err();
    assert!(
        past.contains("the token would expire at 2020-01-01T00:00:00Z, which has passed"),
        "{past}"
    );
    let both = create(
        &server,
        "both",
        &["--expires-in", "1d", "--expires-at", "2030-01-01T00:00:00Z"],
    )
    .unwrap_err();
    assert!(both.contains("cannot be used with"), "{both}");
}

/// Many requests with two tokens, spread over two instances of one database, write `last_used_at` once per token
/// for each minute they span: counted by triggers in the database itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn last_use_is_written_once_a_minute_not_once_a_request() {
    let Some((a, sql)) = server() else { return };
    let b = a.instance(&["--rate-limit", "0"]);
    sql.count_last_used_writes();
    let tokens = [a.token("busy-1", "read"), a.token("busy-2", "read")];
    let secs: u64 = std::env::var("E2E_LAST_USED_SECS").map_or(3, |s| s.parse().unwrap());
    let until = Instant::now() + Duration::from_secs(secs);
    let sent = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let server = if i % 2 == 0 { &a } else { &b };
            let client = server.client(&tokens[(i / 2) % 2]);
            let sent = Arc::clone(&sent);
            tokio::spawn(async move {
                while Instant::now() < until {
                    assert_eq!(answer(client.list_secrets().send().await).0, 200);
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    // The last writes were sent off the request path: give them a moment to land.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes = sql.last_used_writes();
    let requests = sent.load(Ordering::Relaxed);
    let statements = match &sql {
        Sql::Postgres(_) => sql.run("", "SELECT statements FROM last_used_writes"),
        Sql::Sqlite(_) => "(not counted on SQLite)".to_owned(),
    };
    let _ = writeln!(
        std::io::stderr(),
        "MEASURED last_used_at over {secs} s, 2 tokens, 2 instances, {}: {requests} requests, {writes} row writes, \
         {statements} UPDATE statements",
        if on_postgres() { "PostgreSQL" } else { "SQLite" },
    );
    assert!(requests >= 100, "only {requests} requests were sent");
    let minutes = secs / 60 + 1;
    assert!(
        (2..=2 * minutes).contains(&writes),
        "{writes} writes for {requests} requests: expected one per token per minute ({minutes} minute(s))"
    );
    for token in ["busy-1", "busy-2"] {
        assert!(listed(&a, token)[5].starts_with("20"), "{token}'s last use is recorded");
    }
}

/// A last-use write that cannot be made (the rows are locked past the store timeout) neither delays nor fails the
/// request that caused it: the request is answered before the write gives up, and the failure is a warning in the
/// log, not an answer. It is not retried per request.
#[tokio::test]
async fn a_failing_last_use_write_neither_delays_nor_fails_the_request() {
    const WARNING: &str = "cannot record when the token was last used";
    let Some((server, sql)) = server_with(&["--store-timeout", "1s"]) else {
        return;
    };
    let client = server.client(&server.token("locked-out", "read"));
    let lock = sql.block_token_writes().await;
    for i in 0..3 {
        assert_eq!(answer(client.list_secrets().send().await).0, 200, "request {i}");
    }
    assert!(
        !server.logs().contains(WARNING),
        "the requests were answered only after the write gave up"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.logs().contains(WARNING) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(lock);
    let logs = server.logs();
    assert_eq!(
        logs.matches(WARNING).count(),
        1,
        "one write was tried, and failed:\n{logs}"
    );
    assert_eq!(answer(client.list_secrets().send().await).0, 200);
    assert_eq!(listed(&server, "locked-out")[5], "-", "not retried within the minute");
}

//! Several `secrets-server` instances on one PostgreSQL database: races settled by the database, a revocation and a
//! key rotation seen by every running instance within a second, one instance's SIGKILL losing nothing, and
//! PostgreSQL's own failures answered 502/504 in the envelope.
//!
//! Each test has a database of its own in the shared throwaway cluster (see `harness::postgres`); where PostgreSQL
//! is not installed they say so and return, except in CI.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrets_client::Error;
use secrets_client::types::Provider;
use throwaway_postgres::{Cluster, Options};

use crate::harness::{Op, PROVIDERS, Server, answer, create, create_custom, postgres};

/// A server on a new database of the shared cluster; `None` (the test returns) without PostgreSQL.
fn pg_server(args: &[&str]) -> Option<Server> {
    let url = postgres()?.create_database("instances").unwrap();
    Some(Server::start_on(Some(url), None, args))
}

fn status<T>(sent: Result<secrets_client::ResponseValue<T>, Error<secrets_client::types::ErrorResponse>>) -> u16 {
    answer(sent).0
}

#[tokio::test]
async fn duplicate_creates_spread_over_two_instances_have_one_winner() {
    let Some(a) = pg_server(&["--rate-limit", "0"]) else {
        return;
    };
    let b = a.instance(&["--rate-limit", "0"]);
    let token = a.token("racer", "write");
    let clients = [Arc::new(a.client(&token)), Arc::new(b.client(&token))];
    let attempts: Vec<_> = (0..64)
        .map(|i| {
            let client = Arc::clone(&clients[i % 2]);
            tokio::spawn(async move { status(create(&client, Provider::Openai, "sk-two-instances-race").await) })
        })
        .collect();
    let mut statuses = HashMap::new();
    for attempt in attempts {
        *statuses.entry(attempt.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses, HashMap::from([(201, 1), (409, 63)]));
    assert_eq!(a.secret_count("racer").await, 1);
}

/// Sends `list` to `server` until it answers 401; how long that took from `since`.
async fn refused_after(server: &Server, token: &str, since: Instant) -> Duration {
    let client = server.client(token);
    loop {
        let answered = status(client.list_secrets().send().await);
        if answered == 401 {
            return since.elapsed();
        }
        assert_eq!(answered, 200);
        assert!(since.elapsed() < Duration::from_secs(10), "still accepted after 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_revocation_through_one_instance_is_refused_by_every_instance_within_a_second() {
    let Some(a) = pg_server(&["--rate-limit", "0"]) else {
        return;
    };
    let b = a.instance(&["--rate-limit", "0"]);
    let token = a.token("ivan", "write");
    for server in [&a, &b] {
        // warm both instances' token caches
        for _ in 0..3 {
            assert_eq!(status(server.client(&token).list_secrets().send().await), 200);
        }
    }
    b.admin(&["token", "revoke", &token]);
    let revoked = Instant::now();
    let (in_a, in_b) = tokio::join!(refused_after(&a, &token, revoked), refused_after(&b, &token, revoked));
    eprintln!("revocation refused after {in_a:?} (instance a) and {in_b:?} (instance b)");
    for (instance, took) in [("a", in_a), ("b", in_b)] {
        assert!(
            took < Duration::from_secs(1),
            "instance {instance} accepted the revoked token for {took:?}"
        );
    }
}

/// Creates custom secrets through `client` until `stop`; the acknowledged ones as (id, value).
async fn create_until(
    client: secrets_client::Client,
    tag: String,
    stop: Arc<tokio::sync::Notify>,
) -> Vec<(uuid::Uuid, String)> {
    let mut acknowledged = Vec::new();
    let stopped = stop.notified();
    tokio::pin!(stopped);
    for i in 0.. {
        let name = format!("LOAD_{}_{i}", tag.to_uppercase());
        let value = format!("sk-load-{tag}-{i}-{}", uuid::Uuid::new_v4());
        tokio::select! {
            () = &mut stopped => break,
            sent = create_custom(&client, &name, &value) => match sent {
                Ok(created) => acknowledged.push((created.id, value)),
                // the instance was killed mid-request: that change may or may not have happened
                Err(Error::CommunicationError(_)) => {}
                Err(other) => panic!("create {name}: {other}"),
            },
        }
    }
    acknowledged
}

#[tokio::test]
async fn key_rotation_under_load_reaches_every_instance_within_a_second() {
    let Some(a) = pg_server(&["--rate-limit", "0"]) else {
        return;
    };
    let b = a.instance(&["--rate-limit", "0"]);
    let token = a.token("grace", "write");
    let stop = Arc::new(tokio::sync::Notify::new());
    let loads: Vec<_> = [(&a, "a"), (&b, "b")]
        .into_iter()
        .map(|(server, tag)| tokio::spawn(create_until(server.client(&token), tag.to_owned(), Arc::clone(&stop))))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let key_file = a.key_file();
    a.admin(&["key", "rotate", "--key-file", key_file.to_str().unwrap()]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let store = a.store().await;
    for (server, name) in [(&a, "AFTER_ROTATION_A"), (&b, "AFTER_ROTATION_B")] {
        let created = create_custom(&server.client(&token), name, "sk-after-rotation")
            .await
            .unwrap();
        let sealed = store.sealed_secret("grace", created.id).await.unwrap().unwrap();
        assert_eq!(
            sealed.key_id, "k2",
            "{name}: a running instance still seals with the old key"
        );
    }
    stop.notify_waiters();
    let mut acknowledged = Vec::new();
    for load in loads {
        acknowledged.extend(load.await.unwrap());
    }
    assert!(
        acknowledged.len() > 20,
        "only {} creates under load",
        acknowledged.len()
    );
    for (id, value) in &acknowledged {
        assert_eq!(a.stored_value("grace", *id).await.as_ref(), Some(value), "{id}");
    }
    for server in [&a, &b] {
        assert!(server.logs().contains("key file reloaded"), "{}", server.logs());
    }
    eprintln!(
        "key rotation under load: {} secrets created meanwhile, all decrypt",
        acknowledged.len()
    );
}

#[tokio::test]
async fn sigkill_of_one_instance_loses_nothing_and_the_other_keeps_serving() {
    let Some(mut a) = pg_server(&["--rate-limit", "0"]) else {
        return;
    };
    let b = a.instance(&["--rate-limit", "0"]);
    let users = a.tokens("crash", 8);
    let stop = Arc::new(tokio::sync::Notify::new());
    let loads: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, (user, token))| {
            let server = if i % 2 == 0 { &a } else { &b };
            let load = create_until(server.client(token), format!("U{i}"), Arc::clone(&stop));
            (user.clone(), i % 2 == 1, tokio::spawn(load))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    a.kill();
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.notify_waiters();
    let mut total = 0;
    for (user, on_b, load) in loads {
        let acknowledged = load.await.unwrap();
        if on_b {
            assert!(
                acknowledged.len() > 5,
                "{user} on the surviving instance: only {}",
                acknowledged.len()
            );
        }
        // Every acknowledged create is there and decrypts, read back through the instance still running.
        let client = b.client(&users.iter().find(|(u, _)| *u == user).unwrap().1);
        let listed = client.list_secrets().send().await.unwrap().into_inner();
        for (id, value) in &acknowledged {
            assert!(
                listed.secrets.iter().any(|s| s.id == *id),
                "{user}: acknowledged {id} is gone"
            );
            assert_eq!(b.stored_value(&user, *id).await.as_ref(), Some(value));
        }
        total += acknowledged.len();
    }
    eprintln!("SIGKILL of one of two instances: {total} acknowledged creates verified");
}

/// PostgreSQL's failures in the envelope: a lock held past `--store-timeout` answers 504 and stores nothing; a
/// database that went away answers 502. Never a 500, never the driver's message.
#[tokio::test]
async fn postgres_failures_answer_504_and_502() {
    let Some(cluster) = postgres().map(|_| Cluster::start(Options::default()).unwrap()) else {
        return;
    };
    let url = cluster.create_database("failures").unwrap();
    let server = Server::start_on(
        Some(url.clone()),
        None,
        &["--rate-limit", "0", "--store-timeout", "300ms"],
    );
    let client = server.client(&server.token("heidi", "write"));
    assert_eq!(status(create(&client, PROVIDERS[0], "sk-before-lock").await), 201);

    let (mut blocker, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let lock = blocker.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE secrets IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    for op in [Op::CreatePreset, Op::List] {
        let (status, err) = op
            .send(&client, uuid::Uuid::nil(), "X", Provider::Github, "sk-locked-canary")
            .await;
        let err = err.unwrap_or_else(|| panic!("{op:?}: answered {status} while locked"));
        assert_eq!((status, err.type_.as_str()), (504, "timeout_error"), "{op:?}");
    }
    lock.rollback().await.unwrap();
    let names: Vec<String> = client
        .list_secrets()
        .send()
        .await
        .unwrap()
        .into_inner()
        .secrets
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["OPENAI_API_KEY"], "the timed-out create stored nothing");

    drop(blocker);
    drop(cluster);
    for op in [Op::CreatePreset, Op::List] {
        let (status, err) = op
            .send(&client, uuid::Uuid::nil(), "X", Provider::Github, "sk-gone-canary")
            .await;
        let err = err.unwrap_or_else(|| panic!("{op:?}: answered {status} without a database"));
        assert!(
            matches!(
                (err.code, err.type_.as_str()),
                (502, "storage_error") | (504, "timeout_error")
            ),
            "{op:?}: {} {}",
            err.code,
            err.type_
        );
        assert!(err.detail.contains("request id"), "{op:?}: {}", err.detail);
    }
    assert!(!server.logs().contains("sk-gone-canary"));
}

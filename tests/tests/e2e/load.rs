//! Concurrency, crash durability and plaintext at rest, under load from several users at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use secrets_client::Error;

use crate::harness::{PROVIDERS, Server, create, sqlite};

#[tokio::test]
async fn concurrent_identical_creates_store_exactly_one() {
    let server = Server::start();
    let client = Arc::new(server.client(&server.token("racer", "write")));
    let attempts: Vec<_> = (0..64)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                match create(&client, PROVIDERS[0], "sk-race-condition-value").await {
                    Ok(created) => created.status().as_u16(),
                    Err(Error::ErrorResponse(err)) => err.status().as_u16(),
                    Err(other) => panic!("no answer: {other}"),
                }
            })
        })
        .collect();
    let mut statuses = HashMap::new();
    for attempt in attempts {
        *statuses.entry(attempt.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses, HashMap::from([(201, 1), (409, 63)]));
    let rows: i64 = sqlite(&server.database())
        .query_row("SELECT count(*) FROM secrets WHERE owner = 'racer'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

/// Kills the server with SIGKILL at random moments under concurrent load; every 201 must survive.
#[tokio::test]
async fn every_acknowledged_create_survives_sigkill() {
    const KILLS: usize = 5;
    const WORKERS: usize = 8;
    let mut server = Server::start();
    let users = server.tokens("crash", 160);
    // (user, token, provider index) still to create, shared by the workers.
    let todo: Vec<(String, String, usize)> = users
        .iter()
        .flat_map(|(u, t)| (0..4).map(move |p| (u.clone(), t.clone(), p)))
        .collect();
    let todo = Arc::new(std::sync::Mutex::new(todo));
    let mut acknowledged: Vec<(String, uuid::Uuid, String)> = Vec::new();

    for round in 0..=KILLS {
        let url = server.url();
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let todo = todo.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let mut acked = Vec::new();
                    loop {
                        let Some((user, token, p)) = todo.lock().unwrap().pop() else {
                            break;
                        };
                        let client = secrets_client::Client::with_bearer_token(&url, &token).unwrap();
                        let value = format!("sk-crash-{user}-{p}-{}", uuid::Uuid::new_v4());
                        match create(&client, PROVIDERS[p], &value).await {
                            Ok(created) => acked.push((user, created.id, value)),
                            // Answered but not stored (409 after a retry of an unacknowledged create).
                            Err(Error::ErrorResponse(_)) => {}
                            // The server died mid-request: the outcome is unknown, so it is not counted.
                            Err(_) => break,
                        }
                    }
                    acked
                })
            })
            .collect();
        if round < KILLS {
            let pause = rand::rng().random_range(50..400);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            server.kill();
        }
        for worker in workers {
            acknowledged.extend(worker.await.unwrap());
        }
        server.spawn().expect("restart after SIGKILL");
    }
    server.stop();

    assert!(
        acknowledged.len() > 100,
        "only {} creates were acknowledged",
        acknowledged.len()
    );
    for (user, id, value) in &acknowledged {
        assert_eq!(
            server.stored_value(user, *id).await.as_deref(),
            Some(value.as_str()),
            "{user} {id}"
        );
    }
    let db = sqlite(&server.database());
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    eprintln!(
        "crash durability: {KILLS} SIGKILLs survived, {} acknowledged creates verified",
        acknowledged.len()
    );
}

#[tokio::test]
async fn a_thousand_random_values_never_reach_disk_or_logs_in_plaintext() {
    let mut server = Server::start();
    let users = server.tokens("bulk", 250);
    let mut values = Vec::with_capacity(1000);
    let mut tasks = Vec::new();
    for (_, token) in &users {
        let client = server.client(token);
        let batch: Vec<String> = (0..4)
            .map(|_| {
                let mut rng = rand::rng();
                (0..rng.random_range(12..64))
                    .map(|_| rng.random_range(b'!'..=b'~') as char)
                    .collect()
            })
            .collect();
        values.extend(batch.iter().cloned());
        tasks.push(tokio::spawn(async move {
            for (provider, value) in PROVIDERS.into_iter().zip(&batch) {
                let created = create(&client, provider, value).await.unwrap();
                assert_eq!(created.status().as_u16(), 201);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(values.len(), 1000);
    let running = server.database_text();
    server.stop();
    let stopped = server.database_text();
    let logs = server.logs();
    for value in &values {
        for (file, bytes) in running.iter().chain(&stopped) {
            assert!(!bytes.contains(value.as_str()), "{file} holds a plaintext value");
        }
        assert!(!logs.contains(value.as_str()), "the log holds a plaintext value");
    }
}

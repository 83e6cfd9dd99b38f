//! The whole user-secrets resource through the generated client: list, presets, custom and preset creates, get,
//! update and delete, with every documented answer of each operation.

use secrets_client::types::{ErrorResponse, Provider, UserSecretProvider};
use secrets_client::{Client, Error};

use crate::harness::{Op, PROVIDERS, Server, create, create_custom, sqlite_only, update};

/// The typed envelope of a failed call, with its status.
fn envelope<T: std::fmt::Debug>(sent: Result<T, Error<ErrorResponse>>) -> (u16, ErrorResponse) {
    match sent {
        Err(Error::ErrorResponse(err)) => (err.status().as_u16(), err.into_inner()),
        Ok(ok) => panic!("expected an error, got {ok:?}"),
        Err(other) => panic!("expected the error envelope, got {other}"),
    }
}

async fn names(client: &Client) -> Vec<String> {
    let listed = client.list_secrets().send().await.unwrap().into_inner();
    assert_eq!(listed.total, listed.secrets.len() as i64);
    listed.secrets.into_iter().map(|s| s.name).collect()
}

async fn configured(client: &Client) -> Vec<(Provider, String, bool)> {
    let presets = client.get_provider_presets().send().await.unwrap().into_inner();
    presets
        .presets
        .into_iter()
        .map(|p| (p.provider, p.env_var_name, p.configured))
        .collect()
}

#[tokio::test]
async fn create_list_get_update_delete() {
    let server = Server::start();
    let client = server.client(&server.token("alice", "write"));
    assert!(names(&client).await.is_empty());

    let custom = create_custom(&client, "WANDB_API_KEY", "wandb-secret-value-1234")
        .await
        .unwrap();
    assert_eq!(custom.status().as_u16(), 201);
    assert_eq!((custom.name.as_str(), custom.provider), ("WANDB_API_KEY", None));
    assert_eq!(custom.created_at, custom.updated_at);
    let with_provider = client
        .create_secret()
        .body_map(|b| b.name("GH_TOKEN_CI").value("ghp-ci-value").provider(Provider::Github))
        .send()
        .await
        .unwrap();
    assert_eq!(with_provider.provider, Some(UserSecretProvider::Github));
    let preset = create(&client, Provider::Anthropic, "sk-ant-value-0123456789")
        .await
        .unwrap();
    assert_eq!(
        names(&client).await,
        ["ANTHROPIC_API_KEY", "GH_TOKEN_CI", "WANDB_API_KEY"],
        "sorted by name"
    );
    let expected: Vec<(Provider, String, bool)> = [
        (Provider::Openai, "OPENAI_API_KEY", false),
        (Provider::Anthropic, "ANTHROPIC_API_KEY", true),
        (Provider::Github, "GITHUB_TOKEN", false),
        (Provider::Tinker, "TINKER_API_KEY", false),
    ]
    .into_iter()
    .map(|(p, n, c)| (p, n.to_owned(), c))
    .collect();
    assert_eq!(configured(&client).await, expected);

    let got = client.get_secret().secret_id(custom.id).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(
        serde_json::to_value(&*got).unwrap(),
        serde_json::to_value(&*custom).unwrap(),
        "get answers what create did"
    );

    let updated = update(&client, custom.id, "rotated-wandb-value-9876").await.unwrap();
    assert_eq!(updated.status().as_u16(), 200);
    assert_eq!((updated.id, updated.name.as_str()), (custom.id, "WANDB_API_KEY"));
    assert_eq!(updated.created_at, custom.created_at);
    assert!(updated.updated_at > updated.created_at);
    assert_eq!(updated.masked_value, "rot••••876");
    assert_ne!(updated.masked_value, custom.masked_value);
    assert_eq!(
        server.stored_value("alice", custom.id).await.as_deref(),
        Some("rotated-wandb-value-9876")
    );
    let again = client.get_secret().secret_id(custom.id).send().await.unwrap();
    assert_eq!(
        again.updated_at, updated.updated_at,
        "get answers the stored update time"
    );

    let deleted = client.delete_secret().secret_id(preset.id).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    assert_eq!(names(&client).await, ["GH_TOKEN_CI", "WANDB_API_KEY"]);
    assert!(!configured(&client).await.iter().any(|(_, _, c)| *c));
    for op in [Op::Delete, Op::Get, Op::Update] {
        let (status, err) = op.send(&client, preset.id, "X", Provider::Openai, "v").await;
        let err = err.unwrap();
        assert_eq!(
            (status, err.type_.as_str()),
            (404, "not_found_error"),
            "{op:?} after delete"
        );
    }
    assert_eq!(server.stored_value("alice", preset.id).await, None);
    // the name is free again
    assert_eq!(
        create(&client, Provider::Anthropic, "sk-ant-2")
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
}

/// Presets and custom secrets share one namespace per caller; other callers are unaffected.
#[tokio::test]
async fn presets_and_custom_names_conflict() {
    let server = Server::start();
    let alice = server.client(&server.token("alice", "write"));
    let bob = server.client(&server.token("bob", "write"));
    // (who, custom name or preset, expected status), in order
    let steps: [(&Client, Result<&str, Provider>, u16); 7] = [
        (&alice, Ok("OPENAI_API_KEY"), 201),
        (&alice, Err(Provider::Openai), 409),
        (&alice, Ok("OPENAI_API_KEY"), 409),
        (&alice, Err(Provider::Github), 201),
        (&alice, Ok("GITHUB_TOKEN"), 409),
        (&bob, Err(Provider::Openai), 201),
        (&bob, Ok("GITHUB_TOKEN"), 201),
    ];
    for (i, (client, what, status)) in steps.into_iter().enumerate() {
        let sent = match what {
            Ok(name) => create_custom(client, name, "sk-value-123").await,
            Err(provider) => create(client, provider, "sk-value-123").await,
        };
        let got = match sent {
            Ok(ok) => ok.status().as_u16(),
            Err(err) => {
                let (code, body) = envelope::<()>(Err(err));
                assert_eq!(body.type_, "already_exists_error", "step {i}");
                assert!(!body.detail.contains("sk-value"), "step {i}: echo");
                code
            }
        };
        assert_eq!(got, status, "step {i}: {what:?}");
    }
    let presets = configured(&alice).await;
    let flags: Vec<bool> = presets.iter().map(|(_, _, c)| *c).collect();
    assert_eq!(
        flags,
        [true, false, true, false],
        "a custom OPENAI_API_KEY configures the openai preset"
    );
}

/// Another caller's id, an unknown id and a deleted id answer the same 404, byte for byte; nothing of the other
/// caller's secret changes.
#[tokio::test]
async fn other_callers_secrets_are_not_found() {
    let server = Server::start();
    let alice = server.client(&server.token("alice", "write"));
    let mallory = server.client(&server.token("mallory", "write"));
    let theirs = create(&alice, Provider::Openai, "sk-alice-only-0123456789")
        .await
        .unwrap();
    let gone = create(&mallory, Provider::Github, "ghp-deleted").await.unwrap();
    mallory.delete_secret().secret_id(gone.id).send().await.unwrap();
    let unknown = uuid::Uuid::new_v4();

    for op in [Op::Get, Op::Update, Op::Delete] {
        let mut bodies = Vec::new();
        for (case, id) in [
            ("another caller's", theirs.id),
            ("unknown", unknown),
            ("deleted", gone.id),
        ] {
            let (status, err) = op
                .send(&mallory, id, "X", Provider::Openai, "sk-mallory-overwrite")
                .await;
            let err = err.unwrap_or_else(|| panic!("{op:?} {case}: answered {status}"));
            assert_eq!(
                (status, err.code, err.type_.as_str()),
                (404, 404, "not_found_error"),
                "{op:?} {case}"
            );
            bodies.push(serde_json::to_string(&err).unwrap());
        }
        assert!(
            bodies.windows(2).all(|w| w[0] == w[1]),
            "{op:?}: bodies differ: {bodies:?}"
        );
    }
    assert!(names(&mallory).await.is_empty());
    assert_eq!(
        server.stored_value("alice", theirs.id).await.as_deref(),
        Some("sk-alice-only-0123456789"),
        "untouched"
    );
    let still = alice.get_secret().secret_id(theirs.id).send().await.unwrap();
    assert_eq!(still.updated_at, theirs.updated_at);
}

/// A `read` token lists, gets and reads presets; every write answers 403 and changes nothing.
#[tokio::test]
async fn read_tokens_read_and_never_write() {
    let server = Server::start();
    let writer = server.client(&server.token("carol", "write"));
    let reader = server.client(&server.token("carol", "read"));
    let secret = create(&writer, Provider::Tinker, "tinker-value-0123").await.unwrap();
    for op in Op::ALL {
        let (status, err) = op
            .send(&reader, secret.id, "READER_KEY", Provider::Openai, "v-reader")
            .await;
        if op.writes() {
            let err = err.unwrap();
            assert_eq!((status, err.type_.as_str()), (403, "permission_error"), "{op:?}");
        } else {
            assert_eq!(status, 200, "{op:?}: {err:?}");
        }
    }
    assert_eq!(names(&reader).await, ["TINKER_API_KEY"]);
    assert_eq!(
        server.stored_value("carol", secret.id).await.as_deref(),
        Some("tinker-value-0123")
    );
}

/// The answers every operation shares: 401, 426 and 429, in the envelope.
#[tokio::test]
async fn every_operation_answers_401_426_and_429() {
    let strict = Server::start_with(&["--rate-limit", "0", "--min-api-version", "2.0.0"]);
    let old_client = strict.client(&strict.token("dan", "write"));
    let limited = Server::start_with(&["--rate-limit", "1", "--rate-burst", "1"]);
    // The api-version is checked before the token, so 401 is asked of the server that serves 1.0.0.
    let anyone = limited.client("st_not-a-real-token");
    for op in Op::ALL {
        let id = uuid::Uuid::new_v4();
        let (status, err) = op.send(&anyone, id, "SOME_KEY", Provider::Openai, "v").await;
        assert_eq!(
            (status, err.unwrap().type_.as_str()),
            (401, "authentication_error"),
            "{op:?}"
        );
        let (status, err) = op.send(&old_client, id, "SOME_KEY", Provider::Openai, "v").await;
        let err = err.unwrap();
        assert_eq!((status, err.type_.as_str()), (426, "upgrade_required"), "{op:?}");
        assert!(err.detail.contains("2.0.0"), "{op:?}: {}", err.detail);
        // A fresh token per operation: its burst of 1 is spent by the first request, the second is limited.
        let client = limited.client(&limited.token("erin", "write"));
        let _ = op.send(&client, id, "SOME_KEY", Provider::Openai, "v").await;
        let (status, err) = op.send(&client, id, "SOME_KEY", Provider::Openai, "v").await;
        assert_eq!(
            (status, err.unwrap().type_.as_str()),
            (429, "rate_limit_error"),
            "{op:?}"
        );
    }
}

/// The store's failures: a malformed stored row answers 502 to the reads that meet it, a locked store 504 to
/// writes; neither changes anything.
#[tokio::test]
async fn store_failures_answer_502_and_504() {
    if sqlite_only("corrupting a row and locking the file (PostgreSQL's own 502/504: the `instances` tests)") {
        return;
    }
    let server = Server::start_with(&["--rate-limit", "0", "--store-timeout", "300ms"]);
    let client = server.client(&server.token("frank", "write"));
    let secret = create(&client, Provider::Openai, "sk-store-failure-value")
        .await
        .unwrap();
    let db = rusqlite::Connection::open(server.database()).unwrap();

    db.execute(
        "UPDATE secrets SET created_at = 'not a time' WHERE id = ?1",
        [secret.id.to_string()],
    )
    .unwrap();
    for op in [Op::List, Op::Get, Op::Presets] {
        let (status, err) = op.send(&client, secret.id, "X", Provider::Openai, "v").await;
        let err = err.unwrap_or_else(|| panic!("{op:?}: answered {status}"));
        assert_eq!((status, err.type_.as_str()), (502, "storage_error"), "{op:?}");
        assert!(err.detail.contains("request id"), "{op:?}: {}", err.detail);
    }
    db.execute(
        "UPDATE secrets SET created_at = updated_at WHERE id = ?1",
        [secret.id.to_string()],
    )
    .unwrap();

    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    for op in [Op::Create, Op::CreatePreset, Op::Update, Op::Delete] {
        let (status, err) = op
            .send(&client, secret.id, "LOCKED_KEY", Provider::Github, "sk-locked")
            .await;
        let err = err.unwrap_or_else(|| panic!("{op:?}: answered {status}"));
        assert_eq!((status, err.type_.as_str()), (504, "timeout_error"), "{op:?}");
    }
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        names(&client).await,
        ["OPENAI_API_KEY"],
        "nothing was created or deleted"
    );
    assert_eq!(
        server.stored_value("frank", secret.id).await.as_deref(),
        Some("sk-store-failure-value"),
        "nothing was updated"
    );
}

/// An update seals with the server's current key: after a key is added (and the server restarted), the updated
/// secret moves to it while the others stay readable under the old one.
#[tokio::test]
async fn updates_encrypt_with_the_current_key() {
    let mut server = Server::start();
    let token = server.token("grace", "write");
    let client = server.client(&token);
    let mut ids = Vec::new();
    for provider in PROVIDERS {
        ids.push(create(&client, provider, "sk-old-key-value").await.unwrap().id);
    }
    server.stop();
    let mut keys = std::fs::read_to_string(server.key_file()).unwrap();
    keys.push_str("k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n");
    std::fs::write(server.key_file(), keys).unwrap();
    server.spawn().unwrap();
    let client = server.client(&token);
    update(&client, ids[0], "sk-new-key-value").await.unwrap();
    server.stop();
    let store = server.store().await;
    for (i, id) in ids.iter().enumerate() {
        let sealed = store.sealed_secret("grace", *id).await.unwrap().unwrap();
        assert_eq!(sealed.key_id, if i == 0 { "k2" } else { "k1" }, "secret {i}");
    }
    assert_eq!(
        server.stored_value("grace", ids[0]).await.as_deref(),
        Some("sk-new-key-value")
    );
    assert_eq!(
        server.stored_value("grace", ids[1]).await.as_deref(),
        Some("sk-old-key-value")
    );
}

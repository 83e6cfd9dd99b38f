//! The preset operation as a client sees it: every documented answer, typed, plus restart and key checks (the other
//! operations are in `resource`).

use secrets_client::types::{ErrorResponse, Provider};
use secrets_client::{Error, ResponseValue};

use crate::harness::{PROVIDERS, Server, create, sqlite_only};

type Sent = Result<ResponseValue<secrets_client::types::UserSecret>, Error<ErrorResponse>>;

/// The typed envelope of a failed call, with its status.
fn envelope(sent: Sent) -> (u16, ErrorResponse) {
    match sent {
        Err(Error::ErrorResponse(err)) => (err.status().as_u16(), err.into_inner()),
        Ok(ok) => panic!("expected an error, got {}", ok.status()),
        Err(other) => panic!("expected the error envelope, got {other}"),
    }
}

#[tokio::test]
async fn create_answers_201_then_409() {
    let server = Server::start();
    let client = server.client(&server.token("alice", "write"));

    for (provider, name) in [
        (Provider::Openai, "OPENAI_API_KEY"),
        (Provider::Anthropic, "ANTHROPIC_API_KEY"),
        (Provider::Github, "GITHUB_TOKEN"),
        (Provider::Tinker, "TINKER_API_KEY"),
    ] {
        let value = "example";
        let created = create(&client, provider, value).await.unwrap();
        assert_eq!(created.status().as_u16(), 201);
        assert_eq!(
            (created.name.as_str(), created.provider.map(|p| p.to_string())),
            (name, Some(provider.to_string()))
        );
        assert_eq!(created.masked_value, "e••••", "7 characters reveal at most one");
        assert_eq!(created.created_at, created.updated_at);
        assert_eq!(server.stored_value("alice", created.id).await.as_deref(), Some(value));

        let (status, err) = envelope(create(&client, provider, "another").await);
        assert_eq!(
            (status, err.code, err.type_.as_str()),
            (409, 409, "already_exists_error")
        );
        assert!(err.detail.contains(name), "{}", err.detail);
    }

    // Secrets are private to their owner: bob's OPENAI_API_KEY does not collide with alice's.
    let bob = server.client(&server.token("bob", "write"));
    assert_eq!(
        create(&bob, Provider::Openai, "bobs").await.unwrap().status().as_u16(),
        201
    );
}

/// (case, server flags, which token, value) → (status, type)
type ErrorCase = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    u16,
    &'static str,
);

const ERRORS: &[ErrorCase] = &[
    (
        "unknown token",
        &[],
        "wrong",
        "sk-canary-1",
        401,
        "authentication_error",
    ),
    (
        "revoked token",
        &[],
        "revoked",
        "sk-canary-2",
        401,
        "authentication_error",
    ),
    ("read-only token", &[], "read", "sk-canary-3", 403, "permission_error"),
    ("empty value", &[], "write", "", 422, "validation_error"),
    (
        "old client",
        &["--min-api-version", "2.0.0"],
        "write",
        "sk-canary-4",
        426,
        "upgrade_required",
    ),
];

#[tokio::test]
async fn errors_arrive_as_the_typed_envelope() {
    for (case, flags, token_kind, value, status, kind) in ERRORS {
        let mut args = vec!["--rate-limit", "0"];
        args.extend_from_slice(flags);
        let server = Server::start_with(&args);
        let token = match *token_kind {
            "wrong" => "st_not-a-real-token".to_owned(),
            "revoked" => {
                let token = server.token("carol", "write");
                let out = server.command(&["token", "revoke", &token]).output().unwrap();
                assert!(out.status.success(), "{case}: revoke failed");
                token
            }
            scope => server.token("carol", scope),
        };
        let (got, err) = envelope(create(&server.client(&token), Provider::Github, value).await);
        assert_eq!(
            (got, err.code, err.type_.as_str()),
            (*status, i32::from(*status), *kind),
            "{case}"
        );
        if !value.is_empty() {
            assert!(!err.detail.contains(value), "{case}: detail echoes the value");
        }
        if *status == 426 {
            assert!(err.detail.contains("2.0.0"), "{case}: {}", err.detail);
        }
    }
}

#[tokio::test]
async fn several_violations_in_one_answer() {
    let server = Server::start();
    let token = server.token("dave", "write");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/user/secrets/preset", server.url()))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "provider": "gitlab", "value": "", "extra": "sk-canary-5" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let err: ErrorResponse = response.json().await.unwrap();
    let mut found: Vec<(String, String)> = err
        .errors
        .iter()
        .map(|e| (e.loc.iter().map(ToString::to_string).collect(), e.type_.clone()))
        .collect();
    found.sort();
    let expected = [
        ("bodyextra", "extra_forbidden"),
        ("bodyprovider", "enum"),
        ("bodyvalue", "string_too_short"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(found, expected);
    assert!(!serde_json::to_string(&err).unwrap().contains("sk-canary-5"));
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let server = Server::start_with(&["--rate-limit", "1", "--rate-burst", "2"]);
    let client = server.client(&server.token("erin", "write"));
    let mut limited = None;
    for _ in 0..6 {
        if let Err(Error::ErrorResponse(err)) = create(&client, Provider::Openai, "sk-canary-6").await
            && err.status().as_u16() == 429
        {
            limited = Some(err);
            break;
        }
    }
    let err = limited.expect("six requests at a limit of 1/s with burst 2 were never limited");
    let retry_after: u32 = err.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!((err.code, err.type_.as_str()), (429, "rate_limit_error"));
}

#[tokio::test]
async fn restart_keeps_secrets_and_a_wrong_key_refuses_to_start() {
    let mut server = Server::start();
    let token = server.token("frank", "write");
    let value = "sk-proj-restart-canary-0123456789";
    let created = create(&server.client(&token), Provider::Anthropic, value)
        .await
        .unwrap();
    server.stop();

    assert_eq!(server.stored_value("frank", created.id).await.as_deref(), Some(value));
    server.spawn().unwrap();
    let (status, _) = envelope(create(&server.client(&token), Provider::Anthropic, value).await);
    assert_eq!(status, 409, "the secret survived the restart");
    server.stop();

    let original = std::fs::read(server.key_file()).unwrap();
    let other = Server::start();
    std::fs::copy(other.key_file(), server.key_file()).unwrap();
    let err = server
        .spawn()
        .expect_err("started with a key that cannot decrypt the stored data");
    assert!(err.contains("exited"), "{err}");
    let logs = server.logs();
    assert!(logs.contains("k1"), "the refusal names the key id: {logs}");

    std::fs::write(server.key_file(), original).unwrap();
    server.spawn().unwrap();
}

#[tokio::test]
async fn plaintext_is_nowhere_on_disk_or_in_logs() {
    let mut server = Server::start();
    let token = server.token("grace", "write");
    let client = server.client(&token);
    let values: Vec<String> = (0..4)
        .map(|i| format!("sk-plaintext-canary-{i}-{}", uuid::Uuid::new_v4()))
        .collect();
    for (provider, value) in PROVIDERS.into_iter().zip(&values) {
        assert_eq!(create(&client, provider, value).await.unwrap().status().as_u16(), 201);
    }
    // While running (WAL not yet checkpointed) and after a clean stop.
    for phase in ["running", "stopped"] {
        for (file, bytes) in server.database_text() {
            for value in &values {
                assert!(
                    !bytes.contains(value.as_str()),
                    "{phase}: {file} holds a plaintext value"
                );
            }
            assert!(!bytes.contains(token.as_str()), "{phase}: {file} holds the token");
        }
        server.stop();
    }
    use std::os::unix::fs::PermissionsExt as _;
    let files = if server.is_postgres() {
        vec![server.key_file()]
    } else {
        vec![server.database(), server.key_file()]
    };
    for file in files {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is readable by others", file.display());
    }
    let logs = server.logs();
    assert!(logs.contains("listening"), "the log was captured: {logs}");
    assert!(!logs.contains('\u{1b}'), "terminal colour codes in a log file");
    for value in &values {
        assert!(!logs.contains(value.as_str()), "the log holds a plaintext value");
    }
    assert!(!logs.contains(&token), "the log holds the token");
}

/// The spec's 504: another writer holds the database longer than `--store-timeout`; nothing is stored.
#[tokio::test]
async fn a_locked_store_answers_504_and_stores_nothing() {
    if sqlite_only("another process locking the file (PostgreSQL's own 504: the `instances` tests)") {
        return;
    }
    let server = Server::start_with(&["--rate-limit", "0", "--store-timeout", "300ms"]);
    let client = server.client(&server.token("heidi", "write"));
    let blocker = rusqlite::Connection::open(server.database()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, err) = envelope(create(&client, Provider::Openai, "sk-timeout-canary").await);
    assert_eq!((status, err.code, err.type_.as_str()), (504, 504, "timeout_error"));
    assert!(err.detail.contains("request id"), "{}", err.detail);
    blocker.execute_batch("ROLLBACK").unwrap();
    let created = create(&client, Provider::Openai, "sk-timeout-canary").await.unwrap();
    assert_eq!(
        created.status().as_u16(),
        201,
        "the timed-out create left nothing behind"
    );
}

/// Token lookups are cached; a revocation from the CLI must still take effect on the very next request (on
/// PostgreSQL, within a second).
#[tokio::test]
async fn revoking_a_token_in_use_takes_effect_at_once() {
    let server = Server::start();
    let token = server.token("ivan", "write");
    let client = server.client(&token);
    assert_eq!(
        create(&client, Provider::Openai, "sk-revoke-canary-1")
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
    let out = server.command(&["token", "revoke", &token]).output().unwrap();
    assert!(out.status.success(), "revoke failed");
    if server.is_postgres() {
        // PostgreSQL instances learn of token changes by polling, within a second (see `instances`).
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let (status, err) = envelope(create(&client, Provider::Github, "sk-revoke-canary-2").await);
    assert_eq!((status, err.type_.as_str()), (401, "authentication_error"));
    // And a token created while the server runs is accepted at once.
    let fresh = server.client(&server.token("ivan", "write"));
    assert_eq!(
        create(&fresh, Provider::Github, "sk-revoke-canary-3")
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
}

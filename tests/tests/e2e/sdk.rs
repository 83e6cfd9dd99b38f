//! The platform's Python SDK (PyPI `dreadnode` 2.0.52, `dreadnode/app/api/client.py`, `ApiClient`) as it calls the
//! seven operations: its headers (the token in `X-API-Key`, no `api-version`), its paths under `/api/v1`, its JSON
//! bodies, and the statuses it maps to exceptions (401, 404, 409, 429), reading `detail` from the envelope.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::Server;

/// Request headers, as (name, value).
type Headers<'a> = &'a [(&'a str, &'a str)];

/// Sends one request exactly as `ApiClient.request` does: httpx with the client's default headers, `json=` bodies.
async fn sdk(server: &Server, key: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    sdk_with(server, &[("X-API-Key", key)], method, path, body).await
}

async fn sdk_with(server: &Server, auth: Headers<'_>, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method, format!("{}/api/v1{path}", server.url()))
        .header("User-Agent", "dreadnode-sdk/2.0.52")
        .header("Accept", "application/json")
        .header("X-Dreadnode-Network", "public");
    for (name, value) in auth {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The SDK's seven secrets calls, in the order a user would make them, and the exceptions it maps.
#[tokio::test]
async fn the_platform_sdk_calls_every_operation_with_x_api_key() {
    let server = Server::start();
    let key = server.token("sdk-user", "write");

    let (status, presets) = sdk(&server, &key, Method::GET, "/user/secrets/presets", None).await;
    assert_eq!(status, 200, "{presets}");
    assert_eq!(presets["presets"].as_array().map(Vec::len), Some(4), "{presets}");

    let preset = json!({"provider": "openai", "value": "sk-proj-sdk-value"});
    let (status, created) = sdk(&server, &key, Method::POST, "/user/secrets/preset", Some(preset)).await;
    assert_eq!(
        (status, created["name"].as_str()),
        (201, Some("OPENAI_API_KEY")),
        "{created}"
    );

    let custom = json!({"name": "WANDB_API_KEY", "value": "wandb-sdk-value"});
    let (status, custom) = sdk(&server, &key, Method::POST, "/user/secrets", Some(custom)).await;
    assert_eq!(status, 201, "{custom}");
    let id = custom["id"].as_str().unwrap().to_owned();

    let (status, list) = sdk(&server, &key, Method::GET, "/user/secrets", None).await;
    assert_eq!((status, list["total"].as_u64()), (200, Some(2)), "{list}");

    let (status, got) = sdk(&server, &key, Method::GET, &format!("/user/secrets/{id}"), None).await;
    assert_eq!((status, got["name"].as_str()), (200, Some("WANDB_API_KEY")), "{got}");

    let rotated = json!({"value": "wandb-rotated-value"});
    let (status, updated) = sdk(
        &server,
        &key,
        Method::PUT,
        &format!("/user/secrets/{id}"),
        Some(rotated),
    )
    .await;
    assert_eq!((status, updated["id"].as_str()), (200, Some(id.as_str())), "{updated}");

    let (status, _) = sdk(&server, &key, Method::DELETE, &format!("/user/secrets/{id}"), None).await;
    assert_eq!(status, 204);

    // NotFoundError and ConflictError: the SDK reads `detail`.
    let (status, gone) = sdk(&server, &key, Method::GET, &format!("/user/secrets/{id}"), None).await;
    assert_eq!(status, 404, "{gone}");
    assert!(gone["detail"].as_str().is_some_and(|d| !d.is_empty()), "{gone}");
    let again = json!({"provider": "openai", "value": "sk-proj-other"});
    let (status, conflict) = sdk(&server, &key, Method::POST, "/user/secrets/preset", Some(again)).await;
    assert_eq!(
        (status, conflict["type"].as_str()),
        (409, Some("already_exists_error")),
        "{conflict}"
    );
    assert!(
        conflict["detail"].as_str().unwrap().contains("OPENAI_API_KEY"),
        "{conflict}"
    );
}

/// Either header authenticates the same caller with the same scopes; two different tokens are refused.
#[tokio::test]
async fn x_api_key_and_bearer_are_one_caller_and_two_different_tokens_are_refused() {
    let server = Server::start();
    let writer = server.token("alice", "write");
    let reader = server.token("alice", "read");
    let bearer = format!("Bearer {writer}");
    let mut changed = writer.clone().into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'0' { b'1' } else { b'0' };
    let changed = String::from_utf8(changed).unwrap();

    let body = json!({"name": "ALICE_KEY", "value": "alice-value"});
    let (status, created) = sdk(&server, &writer, Method::POST, "/user/secrets", Some(body)).await;
    assert_eq!(status, 201, "{created}");

    // (headers, expected status, what the detail says)
    let cases: [(Headers<'_>, u16, &str); 7] = [
        (&[("Authorization", &bearer)], 200, ""),
        (&[("X-API-Key", &writer)], 200, ""),
        (&[("Authorization", &bearer), ("X-API-Key", &writer)], 200, ""),
        (
            &[("Authorization", &bearer), ("X-API-Key", &reader)],
            401,
            "different tokens",
        ),
        (&[("X-API-Key", &changed)], 401, "checksum"),
        (&[("X-API-Key", "st_not-a-token")], 401, "unknown or revoked"),
        (&[], 401, "X-API-Key"),
    ];
    for (headers, status, detail) in cases {
        let (got, body) = sdk_with(&server, headers, Method::GET, "/user/secrets", None).await;
        assert_eq!(got, status, "{headers:?}: {body}");
        if status == 200 {
            assert_eq!(body["total"].as_u64(), Some(1), "{body}");
        } else {
            assert_eq!(body["type"].as_str(), Some("authentication_error"), "{body}");
            assert!(body["detail"].as_str().unwrap().contains(detail), "{headers:?}: {body}");
        }
    }
    // The read token's scope holds through X-API-Key too: 403 on a write.
    let body = json!({"name": "READER_KEY", "value": "reader-value"});
    let (status, refused) = sdk(&server, &reader, Method::POST, "/user/secrets", Some(body)).await;
    assert_eq!(
        (status, refused["type"].as_str()),
        (403, Some("permission_error")),
        "{refused}"
    );
}

/// The rate limit counts a token's requests whichever header carries it (the SDK's 429 path).
#[tokio::test]
async fn x_api_key_requests_share_the_token_rate_limit() {
    let server = Server::start_with(&["--rate-limit", "1", "--rate-burst", "2"]);
    let key = server.token("bob", "read");
    let bearer = format!("Bearer {key}");
    let mut statuses = Vec::new();
    for headers in [
        [("X-API-Key", key.as_str())],
        [("Authorization", bearer.as_str())],
        [("X-API-Key", key.as_str())],
    ] {
        let (status, body) = sdk_with(&server, &headers, Method::GET, "/user/secrets", None).await;
        if status == 429 {
            assert_eq!(body["type"].as_str(), Some("rate_limit_error"), "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 429]);
}

/// A token of the format before the checksum (`st_` + 43 base64url characters), as the previous release stored it,
/// keeps working, through either header, until it is revoked.
#[tokio::test]
async fn tokens_issued_before_the_checksum_keep_working_until_revoked() {
    let server = Server::start();
    let legacy = format!("st_{}", "Zq9-_x".repeat(7) + "A");
    assert_eq!(legacy.len(), 46);
    let store = server.store().await;
    let hash = secrets_handler::tokens::hash(&legacy);
    store
        .insert_token(
            "tok_0123456789ab".into(),
            "carol".into(),
            secrets_handler::tokens::Scope::Read,
            hash,
            None,
        )
        .await
        .unwrap();
    let bearer = format!("Bearer {legacy}");
    for headers in [[("X-API-Key", legacy.as_str())], [("Authorization", bearer.as_str())]] {
        let (status, body) = sdk_with(&server, &headers, Method::GET, "/user/secrets", None).await;
        assert_eq!(status, 200, "{headers:?}: {body}");
    }
    server.admin(&["token", "revoke", "tok_0123456789ab"]);
    // A revocation is seen within a second (PostgreSQL instances poll the token epoch).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let (status, body) = sdk(&server, &legacy, Method::GET, "/user/secrets", None).await;
        if status == 401 {
            assert!(
                body["detail"].as_str().unwrap().contains("unknown or revoked"),
                "{body}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {status} after the revocation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

//! Written as a crate that depends on `secrets-client` would test its own code: `store_openai_key` is that crate's
//! function, and the typed mocks stand in for the server, for a success and for an error in the envelope.

use secrets_client::types::{ErrorResponse, Provider, UserSecret};
use secrets_client::{Client, Error};
use secrets_client_mock::MockServerExt as _;

/// The code under test: stores the OpenAI key and answers its masked value, or one line for the user.
async fn store_openai_key(client: &Client, key: &str) -> Result<String, String> {
    match client
        .create_secret_from_preset()
        .body_map(|b| b.provider(Provider::Openai).value(key))
        .send()
        .await
    {
        Ok(secret) => Ok(secret.into_inner().masked_value),
        Err(Error::ErrorResponse(answer)) => Err(format!("{} {}: {}", answer.status(), answer.type_, answer.detail)),
        Err(other) => Err(format!("unexpected: {other}")),
    }
}

fn stored() -> UserSecret {
    serde_json::from_value(serde_json::json!({
        "id": "3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90",
        "name": "OPENAI_API_KEY",
        "provider": "openai",
        "masked_value": "sk-pro••••789",
        "created_at": "2026-11-27T09:30:00Z",
        "updated_at": "2026-11-27T09:30:00Z",
    }))
    .unwrap()
}

fn conflict() -> ErrorResponse {
    serde_json::from_value(serde_json::json!({
        "code": 409,
        "detail": "the caller already has a secret named OPENAI_API_KEY",
        "type": "already_exists_error",
    }))
    .unwrap()
}

/// What the mock answers, and what the function must return for it.
type Case = (Result<UserSecret, ErrorResponse>, Result<&'static str, &'static str>);

#[tokio::test]
async fn stores_the_key_or_says_why_not() {
    let cases: [Case; 2] = [
        (Ok(stored()), Ok("sk-pro••••789")),
        (
            Err(conflict()),
            Err("409 Conflict already_exists_error: the caller already has a secret named OPENAI_API_KEY"),
        ),
    ];
    for (answer, expected) in cases {
        let server = httpmock::MockServer::start_async().await;
        let mock = server.create_secret_from_preset(|when, then| {
            // Only the request the function should send: the openai preset, with the key as the value.
            when.into_inner()
                .json_body_includes(r#"{"provider":"openai","value":"sk-test-123"}"#);
            match &answer {
                Ok(secret) => {
                    then.created(secret);
                }
                Err(envelope) => {
                    then.conflict(envelope);
                }
            }
        });
        let client = Client::with_bearer_token(&server.base_url(), "st_test").unwrap();
        let got = store_openai_key(&client, "sk-test-123").await;
        assert_eq!(got.as_deref().map_err(String::as_str), expected);
        mock.assert_async().await;
    }
}

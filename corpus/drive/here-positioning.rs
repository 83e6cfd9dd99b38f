//! Drives the stub of here-positioning at run time: every operation accepts either an API key in the `apiKey` query
//! parameter or a bearer access token, two alternative requirements tried in order; the cases check which one
//! reached `authenticate`, and the 401s of missing, malformed and refused credentials.
//!
//! Kinds: api key in query, http bearer

mod support;

use std::sync::Arc;

use corpus_here_positioning::{self as stub, types};
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, check, get, not_driven, post, rejected};

struct Trivial;

impl stub::Api for Trivial {
    /// `key:<key>` or `token:<token>`: which alternative was satisfied, and with what.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        let caller = match credentials.iter().next() {
            Some(Credential::ApiKey {
                scheme: "APIKey",
                name: "apiKey",
                value,
            }) => format!("key:{value}"),
            Some(Credential::Bearer {
                scheme: "AccessToken",
                token,
            }) => format!("token:{token}"),
            _ => return Err(Rejection::unauthorized("no credential of a known scheme")),
        };
        if caller.ends_with(":revoked") {
            return Err(Rejection::unauthorized("revoked credential"));
        }
        Ok(caller)
    }

    async fn get_health(&self, ctx: Context<String>) -> Result<stub::GetHealthResponse, Rejection> {
        Ok(stub::GetHealthResponse::Ok(types::ApiHealthStatus {
            status: Some(format!("ok for {}", ctx.caller)),
        }))
    }

    async fn get_api_version(&self, ctx: Context<String>) -> Result<stub::GetApiVersionResponse, Rejection> {
        Ok(stub::GetApiVersionResponse::Ok(types::ApiVersion {
            api_version: Some("2.1.0".to_owned()),
            service_version: Some(ctx.caller),
        }))
    }

    not_driven! {
        post_locate(Context<String>, stub::PostLocateQuery, stub::PostLocateHeaders, types::Locate)
            -> stub::PostLocateResponse;
    }
}

fn health(caller: &str) -> serde_json::Value {
    serde_json::json!({ "status": format!("ok for {caller}") })
}

#[tokio::test]
async fn api_key_in_query_or_bearer_token() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        ("an API key", get("/health?apiKey=k1"), answers(200, health("key:k1"))),
        (
            "an API key among other parameters, percent-encoded",
            get("/health?lang=en&apiKey=k%2B2"),
            answers(200, health("key:k+2")),
        ),
        (
            "a bearer token",
            get("/health").bearer("t1"),
            answers(200, health("token:t1")),
        ),
        (
            "both: the first requirement listed wins",
            get("/health?apiKey=k1").bearer("t1"),
            answers(200, health("key:k1")),
        ),
        (
            "another operation",
            get("/version").bearer("t2"),
            answers(
                200,
                serde_json::json!({ "apiVersion": "2.1.0", "serviceVersion": "token:t2" }),
            ),
        ),
        (
            "a key authenticate refuses",
            get("/health?apiKey=revoked"),
            rejected(401, "authentication_error"),
        ),
        (
            "a token authenticate refuses",
            get("/health").bearer("revoked"),
            rejected(401, "authentication_error"),
        ),
        ("neither", get("/health"), rejected(401, "authentication_error")),
        (
            "an empty key",
            get("/health?apiKey="),
            rejected(401, "authentication_error"),
        ),
        (
            "the key twice",
            get("/health?apiKey=a&apiKey=b"),
            rejected(401, "authentication_error"),
        ),
        (
            "a bearer header without a token",
            get("/health").header("authorization", "Bearer"),
            rejected(401, "authentication_error"),
        ),
        (
            "the key in a header rather than the query",
            get("/health").header("apiKey", "k1"),
            rejected(401, "authentication_error"),
        ),
        (
            "no credentials, before the body is read",
            post("/locate").json(serde_json::json!({})),
            rejected(401, "authentication_error"),
        ),
    ];
    check(&app, cases).await;
}

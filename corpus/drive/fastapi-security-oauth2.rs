//! Drives the stub of fastapi-security-oauth2 at run time: the OpenAPI 3.1 document FastAPI exports for the OAuth2
//! password-flow app of its documentation (`docs_src/security/tutorial003.py`). Its token endpoint takes the form
//! body of `OAuth2PasswordRequestForm`, whose optional fields pydantic writes as `anyOf: [X, {type: null}]` (one with
//! a pattern, `^password$`) and whose `scope` has a default; `/users/me` requires the OAuth2 scheme, whose access
//! token arrives as a bearer credential. The cases check the decoded form, the pattern inside the `anyOf`, and the
//! token accepted and refused.
//!
//! Kinds: form body, oauth2

mod support;

use std::sync::Arc;

use corpus_fastapi_security_oauth2::{self as stub, types};
use serde_json::json;
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, check, get, invalid, post, rejected};

struct Trivial;

impl stub::Api for Trivial {
    /// The user the access token names.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        match credentials.get("OAuth2PasswordBearer") {
            Some(Credential::Bearer { token, .. }) if token.starts_with("token-") => {
                Ok(token["token-".len()..].to_owned())
            }
            _ => Err(Rejection::unauthorized("unknown access token")),
        }
    }

    /// A token for the user whose password is their name backwards, echoing what the form carried.
    async fn login_token_post(
        &self,
        _ctx: Context<()>,
        body: types::BodyLoginTokenPost,
    ) -> Result<stub::LoginTokenPostResponse, Rejection> {
        if body.password != body.username.chars().rev().collect::<String>() {
            return Err(Rejection::unauthorized("incorrect username or password"));
        }
        Ok(stub::LoginTokenPostResponse::Ok(json!({
            "access_token": format!("token-{}", body.username),
            "token_type": "bearer",
            "grant_type": body.grant_type.as_deref(),
            "scope": body.scope,
            "client_id": body.client_id,
        })))
    }

    async fn read_users_me_users_me_get(
        &self,
        ctx: Context<String>,
    ) -> Result<stub::ReadUsersMeUsersMeGetResponse, Rejection> {
        Ok(stub::ReadUsersMeUsersMeGetResponse::Ok(
            json!({ "username": ctx.caller }),
        ))
    }
}

fn token(user: &str, grant_type: Option<&str>, scope: &str, client_id: Option<&str>) -> serde_json::Value {
    json!({
        "access_token": format!("token-{user}"),
        "token_type": "bearer",
        "grant_type": grant_type,
        "scope": scope,
        "client_id": client_id,
    })
}

#[tokio::test]
async fn the_password_form_decoded_and_validated() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "the required fields; scope takes its default",
            post("/token").form("username=johndoe&password=eodnhoj"),
            answers(200, token("johndoe", None, "", None)),
        ),
        (
            "every field, the optional ones given a value",
            post("/token").form("grant_type=password&username=alice&password=ecila&scope=me+items&client_id=cli"),
            answers(200, token("alice", Some("password"), "me items", Some("cli"))),
        ),
        (
            "a grant type that the pattern inside the anyOf refuses",
            post("/token").form("grant_type=client_credentials&username=alice&password=ecila"),
            invalid(&[r#"["body","grant_type"]"#]),
        ),
        (
            "the required fields missing",
            post("/token").form("scope=me"),
            invalid(&[r#"["body","password"]"#, r#"["body","username"]"#]),
        ),
        (
            "a wrong password: the implementation's 401",
            post("/token").form("username=alice&password=alice"),
            rejected(401, "authentication_error"),
        ),
        (
            "a JSON body where the form is expected",
            post("/token").json(json!({ "username": "alice", "password": "ecila" })),
            rejected(415, "unsupported_media_type_error"),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn oauth2_access_token_accepted_or_refused() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "the token the form gave",
            get("/users/me").bearer("token-alice"),
            answers(200, json!({ "username": "alice" })),
        ),
        (
            "a token authenticate refuses",
            get("/users/me").bearer("forged"),
            rejected(401, "authentication_error"),
        ),
        ("no token", get("/users/me"), rejected(401, "authentication_error")),
        (
            "basic credentials, which the scheme does not take",
            get("/users/me").basic("alice", "ecila"),
            rejected(401, "authentication_error"),
        ),
    ];
    check(&app, cases).await;
}

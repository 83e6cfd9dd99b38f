//! Drives the stub of xero-identity at run time: both operations require its oauth2 scheme, whose access token
//! arrives as a bearer credential under the scheme's name; the cases check that token reaching `authenticate`, the
//! caller reaching the operation, a typed query and path, and the documented 204 and 404 without a body.
//!
//! Kinds: oauth2

mod support;

use std::sync::Arc;

use corpus_xero_identity::{self as stub, types};
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, answers_empty, check, delete, get, invalid, rejected};

struct Trivial;

/// The one connection that exists.
const CONNECTION: &str = "00000000-0000-4000-8000-000000000001";

impl stub::Api for Trivial {
    /// The tenant the access token belongs to.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        match credentials.get("OAuth2") {
            Some(Credential::Bearer { token, .. }) if token.starts_with("xero-") => {
                Ok(token["xero-".len()..].to_owned())
            }
            _ => Err(Rejection::unauthorized("unknown access token")),
        }
    }

    /// One connection of the caller's tenant, carrying the `authEventId` it was filtered by.
    async fn get_connections(
        &self,
        ctx: Context<String>,
        query: stub::GetConnectionsQuery,
    ) -> Result<stub::GetConnectionsResponse, Rejection> {
        Ok(stub::GetConnectionsResponse::Ok(vec![types::Connection {
            auth_event_id: query.auth_event_id,
            tenant_name: Some(ctx.caller),
            ..types::Connection::default()
        }]))
    }

    async fn delete_connection(
        &self,
        _ctx: Context<String>,
        path: stub::DeleteConnectionPath,
    ) -> Result<stub::DeleteConnectionResponse, Rejection> {
        Ok(if path.id.to_string() == CONNECTION {
            stub::DeleteConnectionResponse::NoContent
        } else {
            stub::DeleteConnectionResponse::NotFound
        })
    }
}

const EVENT: &str = "0d3f8a1e-52b6-4c1a-9f0e-5a7c2b9d4e61";

#[tokio::test]
async fn typed_query_and_path_behind_the_token() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "the caller's connections",
            get("/Connections").bearer("xero-acme"),
            answers(200, serde_json::json!([{ "tenantName": "acme" }])),
        ),
        (
            "filtered by an auth event",
            get(format!("/Connections?authEventId={EVENT}")).bearer("xero-acme"),
            answers(200, serde_json::json!([{ "authEventId": EVENT, "tenantName": "acme" }])),
        ),
        (
            "an auth event that is not a UUID",
            get("/Connections?authEventId=yesterday").bearer("xero-acme"),
            invalid(&[r#"["query","authEventId"]"#]),
        ),
        (
            "deleting the connection: the documented 204",
            delete(format!("/Connections/{CONNECTION}")).bearer("xero-acme"),
            answers_empty(204),
        ),
        (
            "deleting another: the documented 404, without a body",
            delete(format!("/Connections/{EVENT}")).bearer("xero-acme"),
            answers_empty(404),
        ),
        (
            "an id that is not a UUID",
            delete("/Connections/42").bearer("xero-acme"),
            invalid(&[r#"["path","id"]"#]),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn oauth2_access_token_accepted_or_refused() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "a token of another tenant",
            get("/Connections").bearer("xero-globex"),
            answers(200, serde_json::json!([{ "tenantName": "globex" }])),
        ),
        (
            "the scheme name is case-insensitive",
            get("/Connections").header("authorization", "bearer xero-acme"),
            answers(200, serde_json::json!([{ "tenantName": "acme" }])),
        ),
        (
            "a token authenticate refuses",
            get("/Connections").bearer("expired"),
            rejected(401, "authentication_error"),
        ),
        ("no token", get("/Connections"), rejected(401, "authentication_error")),
        (
            "no token, on a path that would be a 422",
            delete("/Connections/42"),
            rejected(401, "authentication_error"),
        ),
        (
            "two tokens in one header",
            get("/Connections").header("authorization", "Bearer xero-a xero-b"),
            rejected(401, "authentication_error"),
        ),
        (
            "basic credentials, a scheme the spec defines but no operation requires",
            get("/Connections").basic("acme", "secret"),
            rejected(401, "authentication_error"),
        ),
    ];
    check(&app, cases).await;
}

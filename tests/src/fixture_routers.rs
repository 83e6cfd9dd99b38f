//! The fixture stubs' routers at run time: what the stub of `openapi.yaml` cannot show (path, query and header
//! parameters, integer `loc` indices, 204, optional bodies, `security: []`); security schemes and parameter styles
//! have a module each.

mod parameters;
mod security;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use secrets_server_stub::{Context, Credentials, Rejection, RequestId, RouterConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::fixtures::{nested_objects_arrays_enums as nested, no_body_and_optional_body as bodies};
use crate::fixtures::{params_path_query_header as params, unsecured_operation as unsecured};

struct Fixture;

async fn authenticate(credentials: Credentials) -> Result<(), Rejection> {
    if credentials.bearer()? == "good" {
        Ok(())
    } else {
        Err(Rejection::unauthorized("unknown token"))
    }
}

impl params::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn get_thing(
        &self,
        _ctx: Context<()>,
        path: params::GetThingPath,
        query: params::GetThingQuery,
        headers: params::GetThingHeaders,
    ) -> Result<params::GetThingResponse, Rejection> {
        let label = format!("{:?} {:?} {:?}", query.limit, query.verbose, headers.x_trace);
        Ok(params::GetThingResponse::Ok(params::types::Thing {
            id: path.thing_id,
            label,
        }))
    }
}

impl nested::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn create_order(
        &self,
        _ctx: Context<()>,
        body: nested::types::Order,
    ) -> Result<nested::CreateOrderResponse, Rejection> {
        Ok(nested::CreateOrderResponse::Created(body))
    }
}

impl bodies::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn list_notes(&self, _ctx: Context<()>) -> Result<bodies::ListNotesResponse, Rejection> {
        Ok(bodies::ListNotesResponse::Ok(Vec::new()))
    }

    async fn touch_notes(
        &self,
        _ctx: Context<()>,
        body: Option<bodies::types::Note>,
    ) -> Result<bodies::TouchNotesResponse, Rejection> {
        let text = body.map_or_else(|| "blank".parse().unwrap(), |note| note.text);
        Ok(bodies::TouchNotesResponse::Ok(bodies::types::Note { text }))
    }
}

impl unsecured::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn health(&self, _ctx: Context<()>) -> Result<unsecured::HealthResponse, Rejection> {
        Ok(unsecured::HealthResponse::Ok(unsecured::types::Status { ok: true }))
    }

    async fn admin_status(&self, _ctx: Context<()>) -> Result<unsecured::AdminStatusResponse, Rejection> {
        Ok(unsecured::AdminStatusResponse::Ok(unsecured::types::Status {
            ok: true,
        }))
    }
}

async fn call(
    app: axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let response = app.oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `(loc, type)` of every listed violation.
fn violations(envelope: &Value) -> Vec<(String, String)> {
    let errors = envelope["errors"].as_array().cloned().unwrap_or_default();
    errors
        .iter()
        .map(|e| (e["loc"].to_string(), e["type"].as_str().unwrap().to_owned()))
        .collect()
}

const AUTH: (&str, &str) = ("authorization", "Bearer good");
const ID: &str = "3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90";

#[tokio::test]
async fn parameters_are_typed_and_validated_with_their_loc() {
    let app = params::router(Arc::new(Fixture), RouterConfig::default());
    let uri = format!("/things/{ID}?limit=5&verbose=true&unknown=1");
    let (status, body) = call(app.clone(), "GET", &uri, &[AUTH, ("x-trace", "t1")], None).await;
    assert_eq!(
        (status, body["label"].as_str()),
        (200, Some(r#"5 Some(true) Some("t1")"#)),
        "{body}"
    );

    let uri = "/things/not-a-uuid?limit=abc&verbose=maybe&ratio=x";
    let (status, body) = call(app.clone(), "GET", uri, &[AUTH, ("x-trace", &"x".repeat(33))], None).await;
    assert_eq!(status, 422, "{body}");
    let expected = [
        (r#"["path","thing_id"]"#, "uuid_parsing"),
        (r#"["query","verbose"]"#, "bool_type"),
        (r#"["query","limit"]"#, "int_type"),
        (r#"["query","ratio"]"#, "number_type"),
        (r#"["header","x-trace"]"#, "string_too_long"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(violations(&body), expected);

    let (status, body) = call(app.clone(), "GET", &format!("/things/{ID}?limit=0"), &[AUTH], None).await;
    assert_eq!(
        (status, violations(&body)),
        (422, vec![(r#"["query","limit"]"#.into(), "greater_than_equal".into())])
    );
    let (status, body) = call(app.clone(), "GET", &format!("/things/{ID}"), &[AUTH], None).await;
    assert_eq!(
        (status, violations(&body)),
        (422, vec![(r#"["query","limit"]"#.into(), "missing".into())])
    );
    let (status, _) = call(
        app.clone(),
        "GET",
        &format!("/things/{ID}?limit=1&limit=2"),
        &[AUTH],
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = call(app, "GET", &format!("/things/{ID}?limit=1"), &[], None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn nested_violations_carry_integer_indices() {
    let app = nested::router(Arc::new(Fixture), RouterConfig::default());
    let order = json!({
        "customer": { "name": "Ann", "address": { "city": 7 } },
        "lines": [{ "sku": "a", "quantity": 1 }, { "sku": "b", "quantity": 3 }, { "quantity": 2 }],
        "priority": "urgent",
        "tags": ["gift", "loud"],
        "labels": { "a": "x", "b": 2 },
    });
    let (status, body) = call(app.clone(), "POST", "/orders", &[AUTH], Some(order)).await;
    assert_eq!(status, 422, "{body}");
    let mut got = violations(&body);
    got.sort();
    let mut expected: Vec<(String, String)> = [
        (r#"["body","customer","address","city"]"#, "string_type"),
        (r#"["body","lines",1,"quantity"]"#, "enum"),
        (r#"["body","lines",2,"sku"]"#, "missing"),
        (r#"["body","priority"]"#, "enum"),
        (r#"["body","tags",1]"#, "enum"),
        (r#"["body","labels","b"]"#, "string_type"),
    ]
    .iter()
    .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
    .collect();
    expected.sort();
    assert_eq!(got, expected);

    let empty = json!({ "customer": { "name": "Ann" }, "lines": [], "priority": "low" });
    let (status, body) = call(app.clone(), "POST", "/orders", &[AUTH], Some(empty)).await;
    assert_eq!(
        (status, violations(&body)),
        (422, vec![(r#"["body","lines"]"#.into(), "too_short".into())])
    );

    let good = json!({ "customer": { "name": "Ann" }, "lines": [{ "sku": "a", "quantity": 5 }], "priority": "low" });
    let (status, body) = call(app, "POST", "/orders", &[AUTH], Some(good)).await;
    assert_eq!((status, &body["priority"]), (201, &json!("low")), "{body}");
}

#[tokio::test]
async fn optional_bodies_and_bodyless_operations() {
    let app = bodies::router(Arc::new(Fixture), RouterConfig::default());
    let (status, body) = call(app.clone(), "POST", "/notes", &[AUTH], None).await;
    assert_eq!((status, &body["text"]), (200, &json!("blank")));
    let (status, body) = call(app.clone(), "POST", "/notes", &[AUTH], Some(json!({ "text": "hi" }))).await;
    assert_eq!((status, &body["text"]), (200, &json!("hi")));
    let (status, body) = call(app.clone(), "POST", "/notes", &[AUTH], Some(json!({ "text": "" }))).await;
    assert_eq!(
        (status, violations(&body)),
        (422, vec![(r#"["body","text"]"#.into(), "string_too_short".into())])
    );
    let (status, body) = call(app, "GET", "/notes", &[AUTH], None).await;
    assert_eq!((status, body), (200, json!([])));
}

#[tokio::test]
async fn security_empty_skips_authentication() {
    let app = unsecured::router(Arc::new(Fixture), RouterConfig::default());
    assert_eq!(call(app.clone(), "GET", "/health", &[], None).await.0, 200);
    assert_eq!(call(app.clone(), "GET", "/admin/status", &[], None).await.0, 401);
    assert_eq!(call(app, "GET", "/admin/status", &[AUTH], None).await.0, 200);
}

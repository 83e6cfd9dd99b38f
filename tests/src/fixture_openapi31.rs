//! The `openapi31_schemas` and `openapi31_document` fixtures at run time: an OpenAPI 3.1 document validated with its
//! 3.1 meaning (`const` as pydantic's `literal_error`, numeric exclusive bounds as `greater_than`/`less_than`,
//! values of several types, `Optional[X]`, `unevaluatedProperties` alone and beside `oneOf`, a value that must be
//! `null`), a path item from `components.pathItems` served, a `mutualTLS` scheme beside a bearer one, and a generic
//! `$dynamicRef` bound to its items' type.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use tower::ServiceExt;

use crate::fixtures::openapi31_document as document;
use crate::fixtures::openapi31_schemas as fx;

struct Items;

impl fx::Api for Items {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Ok(())
    }

    async fn put_item(
        &self,
        _ctx: Context<()>,
        _path: fx::PutItemPath,
        _query: fx::PutItemQuery,
        body: fx::types::Item,
    ) -> Result<fx::PutItemResponse, Rejection> {
        Ok(fx::PutItemResponse::Ok(body))
    }

    async fn put_picture(
        &self,
        _ctx: Context<()>,
        _path: fx::PutPicturePath,
        _body: stub_runtime::Bytes,
    ) -> Result<fx::PutPictureResponse, Rejection> {
        Ok(fx::PutPictureResponse::NoContent)
    }
}

/// Sends `uri` a body of `overrides` merged over a valid item; the status and the `(loc, type)` of every violation.
async fn put(uri: &str, overrides: Value) -> (u16, Vec<(String, String)>) {
    let mut body = json!({ "kind": "item", "name": "lamp", "price": 10.5 });
    for (key, value) in overrides.as_object().unwrap() {
        body[key] = value.clone();
    }
    let app = fx::router(Arc::new(Items), RouterConfig::default());
    let request = Request::put(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let answer: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let errors = answer["errors"].as_array().cloned().unwrap_or_default();
    let violations = errors
        .iter()
        .map(|e| (e["loc"].to_string(), e["type"].as_str().unwrap().to_owned()))
        .collect();
    (status, violations)
}

/// `(loc, type)` of the violations a case expects.
type Expected = &'static [(&'static str, &'static str)];

const ITEM: &str = "/items/6f1c1c7e-6f5b-4a53-9d8e-2a4b1d0c9e11";

#[tokio::test]
async fn openapi_31_schemas_are_validated_with_their_31_meaning() {
    let ok: Expected = &[];
    let cases: Vec<(String, Value, u16, Expected)> = vec![
        (ITEM.to_owned(), json!({}), 200, ok),
        (
            ITEM.to_owned(),
            json!({ "kind": "thing" }),
            422,
            &[(r#"["body","kind"]"#, "literal_error")],
        ),
        (
            ITEM.to_owned(),
            json!({ "price": 0 }),
            422,
            &[(r#"["body","price"]"#, "greater_than")],
        ),
        (
            ITEM.to_owned(),
            json!({ "price": 1000 }),
            422,
            &[(r#"["body","price"]"#, "less_than")],
        ),
        (
            ITEM.to_owned(),
            json!({ "note": null, "size": null, "place": null }),
            200,
            ok,
        ),
        (
            ITEM.to_owned(),
            json!({ "note": 5 }),
            422,
            &[(r#"["body","note"]"#, "string_type")],
        ),
        (
            ITEM.to_owned(),
            json!({ "size": 0 }),
            422,
            &[(r#"["body","size"]"#, "greater_than_equal")],
        ),
        (ITEM.to_owned(), json!({ "code": "ab" }), 200, ok),
        (ITEM.to_owned(), json!({ "code": 42 }), 200, ok),
        (
            ITEM.to_owned(),
            json!({ "code": "a" }),
            422,
            &[(r#"["body","code"]"#, "union_no_match")],
        ),
        (
            ITEM.to_owned(),
            json!({ "code": 100 }),
            422,
            &[(r#"["body","code"]"#, "union_no_match")],
        ),
        (
            ITEM.to_owned(),
            json!({ "code": true }),
            422,
            &[(r#"["body","code"]"#, "union_no_match")],
        ),
        (
            ITEM.to_owned(),
            json!({ "place": { "city": "Oslo" }, "origin": { "city": "Rome" } }),
            200,
            ok,
        ),
        (
            ITEM.to_owned(),
            json!({ "place": {} }),
            422,
            &[(r#"["body","place","city"]"#, "missing")],
        ),
        (
            ITEM.to_owned(),
            json!({ "tags": ["a", ""] }),
            422,
            &[(r#"["body","tags",1]"#, "string_too_short")],
        ),
        (ITEM.to_owned(), json!({ "extra": [1, "two"] }), 200, ok),
        (
            ITEM.to_owned(),
            json!({ "other": 1 }),
            422,
            &[(r#"["body","other"]"#, "extra_forbidden")],
        ),
        (ITEM.to_owned(), json!({ "err": null }), 200, ok),
        (
            ITEM.to_owned(),
            json!({ "err": 0 }),
            422,
            &[(r#"["body","err"]"#, "none_required")],
        ),
        // `unevaluatedProperties: false` beside `oneOf: [Round, Square]`: only the chosen option's properties.
        (
            ITEM.to_owned(),
            json!({ "shape": { "form": "round", "radius": 1.5 } }),
            200,
            ok,
        ),
        (
            ITEM.to_owned(),
            json!({ "shape": { "form": "square", "side": 2 } }),
            200,
            ok,
        ),
        (
            ITEM.to_owned(),
            json!({ "shape": { "form": "round", "side": 2 } }),
            422,
            &[(r#"["body","shape"]"#, "union_no_match")],
        ),
        (
            ITEM.to_owned(),
            json!({ "shape": { "form": "round", "radius": 1, "colour": "red" } }),
            422,
            &[(r#"["body","shape"]"#, "union_no_match")],
        ),
        (format!("{ITEM}?limit=1"), json!({}), 200, ok),
        (
            format!("{ITEM}?limit=0"),
            json!({}),
            422,
            &[(r#"["query","limit"]"#, "greater_than")],
        ),
    ];
    for (uri, overrides, status, expected) in cases {
        let (got_status, got) = put(&uri, overrides.clone()).await;
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(loc, kind)| ((*loc).to_owned(), (*kind).to_owned()))
            .collect();
        assert_eq!((got_status, got), (status, expected), "{uri} {overrides}");
    }
}

struct Pings;

impl document::Api for Pings {
    /// The schemes of the credentials handed over, the satisfied requirement's first.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        let schemes: Vec<&str> = credentials
            .iter()
            .chain(credentials.also_sent())
            .map(Credential::scheme)
            .collect();
        Ok(schemes.join(" "))
    }

    async fn secure_ping(&self, ctx: Context<String>) -> Result<document::SecurePingResponse, Rejection> {
        Ok(document::SecurePingResponse::Ok(ctx.caller))
    }

    /// The generic `Page` bound to `Ping` by `$dynamicRef`: its items are typed `Ping`.
    async fn page_pings(&self, _ctx: Context<()>) -> Result<document::PagePingsResponse, Rejection> {
        let at = "2026-01-02T03:04:05Z".parse().unwrap();
        Ok(document::PagePingsResponse::Ok(document::types::PagePingsResponse {
            items: vec![document::types::Ping { at }],
        }))
    }

    async fn list_pings(&self, _ctx: Context<()>) -> Result<document::ListPingsResponse, Rejection> {
        Ok(document::ListPingsResponse::Ok(Vec::new()))
    }

    /// An operation without `responses` (3.1) answers any status: 204 when a kind was given, 205 when not.
    async fn clear_pings(
        &self,
        _ctx: Context<()>,
        query: document::ClearPingsQuery,
    ) -> Result<document::ClearPingsResponse, Rejection> {
        let status = if query.kind.flatten().is_some() { 204 } else { 205 };
        Ok(document::ClearPingsResponse::Default { status })
    }
}

/// pydantic's `Optional[Kind]` query parameter (`anyOf: [Kind, null]`), on an operation without `responses`.
#[tokio::test]
async fn an_optional_enum_parameter_and_an_operation_without_responses_are_served() {
    // (query, status, violation `loc` and type if 422)
    type Violation = Option<(Value, &'static str)>;
    let cases: [(&str, u16, Violation); 4] = [
        ("", 205, None),
        ("?kind=echo", 204, None),
        ("?kind=reply", 204, None),
        ("?kind=shout", 422, Some((json!(["query", "kind"]), "enum"))),
    ];
    for (query, status, violation) in cases {
        let app = document::router(Arc::new(Pings), RouterConfig::default());
        let uri = format!("/pings/clear{query}");
        let response = app
            .oneshot(Request::post(&uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{uri}");
        if let Some((loc, kind)) = violation {
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["errors"][0]["loc"], loc, "{uri}: {body}");
            assert_eq!(body["errors"][0]["type"], kind, "{uri}: {body}");
        }
    }
}

#[tokio::test]
async fn a_path_item_from_components_is_served() {
    let app = document::router(Arc::new(Pings), RouterConfig::default());
    let response = app
        .oneshot(Request::get("/pings").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"[]");
}

/// `security: [{tls}, {token}]`: the router cannot see a TLS client certificate, so a bearer token is tried first and
/// decides when sent; without one, the `mutualTLS` requirement is counted presented by the TLS layer.
#[tokio::test]
async fn a_mutual_tls_scheme_is_handed_over_after_the_ones_the_router_checks() {
    let cases: [(Option<&str>, u16, &str); 3] = [
        (None, 200, "\"tls\""),
        (Some("Bearer t"), 200, "\"token tls\""),
        // A malformed token beside a satisfied requirement does not decide, as for any two alternatives.
        (Some("Bearer"), 200, "\"tls\""),
    ];
    for (authorization, status, body) in cases {
        let app = document::router(Arc::new(Pings), RouterConfig::default());
        let mut request = Request::get("/pings/secure");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = app.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{authorization:?}");
        let got = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(std::str::from_utf8(&got).unwrap(), body, "{authorization:?}");
    }
}

#[tokio::test]
async fn a_generic_bound_by_dynamic_ref_is_served_with_its_items_type() {
    let app = document::router(Arc::new(Pings), RouterConfig::default());
    let response = app
        .oneshot(Request::get("/pings/page").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"items":[{"at":"2026-01-02T03:04:05Z"}]}"#);
}

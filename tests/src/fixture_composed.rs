//! The `composed_schemas` fixture at run time: allOf, discriminated and plain unions, maps, enums of numbers and
//! booleans, uniqueItems, minProperties and a schema without `type`, each violation listed with its `loc` and type.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stub_runtime::{Context, Credentials, Rejection, RequestId, RouterConfig};
use tower::ServiceExt;

use crate::fixtures::composed_schemas as fx;

struct Pets;

impl fx::Api for Pets {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Ok(())
    }

    async fn add_pet(&self, _ctx: Context<()>, body: fx::types::NewPet) -> Result<fx::AddPetResponse, Rejection> {
        Ok(fx::AddPetResponse::Created(body))
    }
}

/// Posts `body` merged over a valid pet; the status and the `(loc, type)` of every violation.
async fn add(overrides: Value) -> (u16, Vec<(String, String)>) {
    let mut body = json!({ "name": "Rex", "kind": { "petType": "Dog", "bark": true } });
    for (key, value) in overrides.as_object().unwrap() {
        body[key] = value.clone();
    }
    let app = fx::router(Arc::new(Pets), RouterConfig::default());
    let request = Request::post("/pets")
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

#[tokio::test]
async fn composed_schemas_are_validated_with_every_violation() {
    let ok: Expected = &[];
    let cases: Vec<(Value, u16, Expected)> = vec![
        (json!({}), 201, ok),
        (json!({ "kind": { "petType": "Cat", "lives": 3 } }), 201, ok),
        (
            json!({ "kind": { "petType": "Cat", "lives": 10 } }),
            422,
            &[(r#"["body","kind","lives"]"#, "less_than_equal")],
        ),
        (
            json!({ "kind": { "petType": "Bird" } }),
            422,
            &[(r#"["body","kind","petType"]"#, "union_tag_invalid")],
        ),
        (
            json!({ "kind": { "bark": true } }),
            422,
            &[(r#"["body","kind","petType"]"#, "missing")],
        ),
        (json!({ "kind": [] }), 422, &[(r#"["body","kind"]"#, "object_type")]),
        (json!({ "shape": { "radius": 1.5 } }), 201, ok),
        (json!({ "shape": null }), 201, ok),
        (
            json!({ "shape": {} }),
            422,
            &[(r#"["body","shape"]"#, "union_no_match")],
        ),
        (json!({ "counts": { "a": 1 } }), 201, ok),
        (
            json!({ "counts": { "a": -1 } }),
            422,
            &[(r#"["body","counts","a"]"#, "greater_than_equal")],
        ),
        (json!({ "weight": 1.5, "indoor": true }), 201, ok),
        (json!({ "weight": 2.0 }), 422, &[(r#"["body","weight"]"#, "enum")]),
        (json!({ "indoor": false }), 422, &[(r#"["body","indoor"]"#, "enum")]),
        (json!({ "comparator": "<=" }), 201, ok),
        (
            json!({ "comparator": "==" }),
            422,
            &[(r#"["body","comparator"]"#, "enum")],
        ),
        (json!({ "tags": ["a", "b"] }), 201, ok),
        (
            json!({ "tags": ["a", "a"] }),
            422,
            &[(r#"["body","tags"]"#, "unique_items")],
        ),
        (json!({ "labels": {} }), 422, &[(r#"["body","labels"]"#, "too_short")]),
        (
            json!({ "notes": { "text": "hi" }, "metadata": { "any": [1, "two"] } }),
            201,
            ok,
        ),
        (
            json!({ "notes": {} }),
            422,
            &[(r#"["body","notes","text"]"#, "missing")],
        ),
        (json!({ "parent": null }), 201, ok),
        (
            json!({ "parent": {} }),
            422,
            &[(r#"["body","parent","name"]"#, "missing")],
        ),
        (
            json!({ "name": "", "tags": "x" }),
            422,
            &[
                (r#"["body","name"]"#, "string_too_short"),
                (r#"["body","tags"]"#, "array_type"),
            ],
        ),
    ];
    for (overrides, status, violations) in cases {
        let (got, listed) = add(overrides.clone()).await;
        let expected: Vec<(String, String)> = violations.iter().map(|(l, t)| (l.to_string(), t.to_string())).collect();
        assert_eq!((got, &listed), (status, &expected), "{overrides}");
    }
}

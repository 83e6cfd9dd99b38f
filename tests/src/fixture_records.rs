//! The `required_names_without_properties` fixture at run time: a required name no property declares (`id` beside
//! `_id`) is left out of the shared type but still required by the validator.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stub_runtime::{Context, Credentials, Rejection, RequestId, RouterConfig};
use tower::ServiceExt;

use crate::fixtures::required_names_without_properties as fx;

struct Records;

impl fx::Api for Records {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Ok(())
    }

    async fn create_record(
        &self,
        _ctx: Context<()>,
        body: fx::types::Record,
    ) -> Result<fx::CreateRecordResponse, Rejection> {
        Ok(fx::CreateRecordResponse::Created(body))
    }
}

/// Posts `body`; the status and the answer.
async fn create(body: Value) -> (u16, Value) {
    let app = fx::router(Arc::new(Records), RouterConfig::default());
    let request = Request::post("/records")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_required_name_without_a_property_is_still_required() {
    let cases: Vec<(Value, u16, Value)> = vec![
        // The type has no field for `id`: it is required on the wire and not typed.
        (
            json!({ "id": 7, "_id": "a", "name": "n" }),
            201,
            json!({ "_id": "a", "name": "n" }),
        ),
        (json!({ "id": "x", "name": "n" }), 201, json!({ "name": "n" })),
        (
            json!({ "_id": "a", "name": "n" }),
            422,
            json!([{ "loc": ["body", "id"], "type": "missing" }]),
        ),
        (
            json!({ "id": 1 }),
            422,
            json!([{ "loc": ["body", "name"], "type": "missing" }]),
        ),
    ];
    for (body, status, expected) in cases {
        let (got, answer) = create(body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        if status == 201 {
            assert_eq!(answer, expected, "{body}");
        } else {
            let errors: Vec<Value> = answer["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| json!({ "loc": e["loc"], "type": e["type"] }))
                .collect();
            assert_eq!(Value::Array(errors), expected, "{body}: {answer}");
        }
    }
}

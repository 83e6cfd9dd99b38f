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

mod names {
    //! The `colliding_schema_names` fixture: `PetDTO` and `PetDto` are two types, and the discriminator still picks
    //! the renamed one by the name it was written with.

    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use stub_runtime::{Context, Credentials, Rejection, RequestId, RouterConfig};
    use tower::ServiceExt;

    use crate::fixtures::colliding_schema_names as fx;

    struct Pets;

    impl fx::Api for Pets {
        type Caller = ();

        async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
            Ok(())
        }

        async fn add_pet(&self, _ctx: Context<()>, body: fx::types::Pet) -> Result<fx::AddPetResponse, Rejection> {
            Ok(fx::AddPetResponse::Created(body))
        }
    }

    /// typify's own `ServerStatus` (the enum of `Server.status`) keeps its name; the component is `ServerStatus2`.
    #[test]
    fn a_component_named_like_a_typify_type_is_renamed() {
        let server = fx::types::Server {
            status: Some(fx::types::ServerStatus::Up),
        };
        let status = fx::types::ServerStatus2 { since: None };
        assert_eq!(serde_json::to_value(&server).unwrap(), json!({ "status": "up" }));
        assert_eq!(serde_json::to_value(&status).unwrap(), json!({}));
    }

    /// `(loc, type)` of the violations a case expects.
    type Expected = &'static [(&'static str, &'static str)];

    #[tokio::test]
    async fn colliding_schema_names_are_two_types_chosen_by_their_written_names() {
        let cases: Vec<(Value, u16, Expected)> = vec![
            (json!({ "kind": "PetDTO", "name": "Rex" }), 201, &[]),
            (json!({ "kind": "PetDto", "id": 3 }), 201, &[]),
            (
                json!({ "kind": "PetDto", "id": 0 }),
                422,
                &[(r#"["body","id"]"#, "greater_than_equal")],
            ),
            (
                json!({ "kind": "PetDTO", "name": "" }),
                422,
                &[(r#"["body","name"]"#, "string_too_short")],
            ),
            (
                json!({ "kind": "PetDto2", "id": 3 }),
                422,
                &[(r#"["body","kind"]"#, "union_tag_invalid")],
            ),
        ];
        for (body, status, expected) in cases {
            let app = fx::router(Arc::new(Pets), RouterConfig::default());
            let request = Request::post("/pets")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let got = response.status().as_u16();
            let answer: Value =
                serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
            assert_eq!(got, status, "{body}: {answer}");
            if status == 201 {
                assert_eq!(answer, body);
            } else {
                let errors: Vec<(String, String)> = answer["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| (e["loc"].to_string(), e["type"].as_str().unwrap().to_owned()))
                    .collect();
                let expected: Vec<(String, String)> = expected
                    .iter()
                    .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
                    .collect();
                assert_eq!(errors, expected, "{body}: {answer}");
            }
        }
    }
}

//! The `required_names_without_properties` and `colliding_schema_names` fixtures at run time: a required name no
//! property declares (`id` beside `_id`) is left out of the shared type but still required by the validator; two
//! schemas whose Rust names collide are two types, chosen by the names they were written with.

use std::sync::Arc;

use serde_json::{Value, json};
use stub_runtime::{Context, Credentials, Rejection, RequestId, RouterConfig};

use crate::fixture_routers::{call, violations};
use crate::fixtures::colliding_schema_names as names;
use crate::fixtures::required_names_without_properties as records;

struct Fixture;

impl records::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Ok(())
    }

    async fn create_record(
        &self,
        _ctx: Context<()>,
        body: records::types::Record,
    ) -> Result<records::CreateRecordResponse, Rejection> {
        Ok(records::CreateRecordResponse::Created(body))
    }
}

impl names::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Ok(())
    }

    async fn add_pet(&self, _ctx: Context<()>, body: names::types::Pet) -> Result<names::AddPetResponse, Rejection> {
        Ok(names::AddPetResponse::Created(body))
    }
}

/// (body, status, the answer for a 201 or the `(loc, type)` of every violation for a 422)
type Case = (Value, u16, Value);

/// Posts each body to `uri` of `app`; a 201 must echo `answer`, a 422 list exactly the violations in `answer`.
async fn table(app: axum::Router, uri: &str, cases: Vec<Case>) {
    for (body, status, expected) in cases {
        let (got, answer) = call(app.clone(), "POST", uri, &[], Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {answer}");
        if status == 201 {
            assert_eq!(answer, expected, "{body}");
        } else {
            let expected: Vec<(String, String)> = expected
                .as_array()
                .unwrap()
                .iter()
                .map(|pair| (pair[0].to_string(), pair[1].as_str().unwrap().to_owned()))
                .collect();
            assert_eq!(violations(&answer), expected, "{body}: {answer}");
        }
    }
}

#[tokio::test]
async fn a_required_name_without_a_property_is_still_required() {
    let app = records::router(Arc::new(Fixture), RouterConfig::default());
    table(
        app,
        "/records",
        vec![
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
                json!([[["body", "id"], "missing"]]),
            ),
            (json!({ "id": 1 }), 422, json!([[["body", "name"], "missing"]])),
        ],
    )
    .await;
}

#[tokio::test]
async fn colliding_schema_names_are_two_types_chosen_by_their_written_names() {
    let app = names::router(Arc::new(Fixture), RouterConfig::default());
    let rex = json!({ "kind": "PetDTO", "name": "Rex" });
    let three = json!({ "kind": "PetDto", "id": 3 });
    table(
        app,
        "/pets",
        vec![
            (rex.clone(), 201, rex),
            (three.clone(), 201, three),
            (
                json!({ "kind": "PetDto", "id": 0 }),
                422,
                json!([[["body", "id"], "greater_than_equal"]]),
            ),
            (
                json!({ "kind": "PetDTO", "name": "" }),
                422,
                json!([[["body", "name"], "string_too_short"]]),
            ),
            (
                json!({ "kind": "PetDto2", "id": 3 }),
                422,
                json!([[["body", "kind"], "union_tag_invalid"]]),
            ),
        ],
    )
    .await;
}

/// typify's own `ServerStatus` (the enum of `Server.status`) keeps its name; the component is `ServerStatus2`.
#[test]
fn a_component_named_like_a_typify_type_is_renamed() {
    let server = names::types::Server {
        status: Some(names::types::ServerStatus::Up),
    };
    let status = names::types::ServerStatus2 { since: None };
    assert_eq!(serde_json::to_value(&server).unwrap(), json!({ "status": "up" }));
    assert_eq!(serde_json::to_value(&status).unwrap(), json!({}));
}

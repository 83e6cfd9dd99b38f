//! Drives the stub of openlinksw-osdb at run time: executing an action answers a `2XX` range whose status the
//! implementation picks (here the action id), or the `default` error; unloading a service answers 200 or `default`.
//! A status outside what the variant documents becomes an enveloped 500.
//!
//! Kinds: range status, default response

mod support;

use std::sync::Arc;

use corpus_openlinksw_osdb::{self as stub, types};
use stub_runtime::{Bytes, Context, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, answers_text, check, delete, get, invalid, not_driven, post, rejected, request};

struct Trivial;

/// The `default` answer with the error model's body.
fn error(status: u16, api: &str, response: String) -> (u16, types::ErrorModel) {
    let body = types::ErrorModel {
        api: Some(api.to_owned()),
        method: None,
        response: Some(response),
        status: types::ErrorModelStatus::Error,
    };
    (status, body)
}

impl stub::Api for Trivial {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Err(Rejection::unauthorized("no operation of this spec is secured"))
    }

    /// A numeric action id is the status of the range answer, whose body names the service and echoes the
    /// action-specific properties; any other action id is the `default` 404.
    async fn execute_action(
        &self,
        _ctx: Context<()>,
        path: stub::ExecuteActionPath,
        body: Option<types::ExecBody>,
    ) -> Result<stub::ExecuteActionResponse, Rejection> {
        let Ok(status) = path.action_id.parse::<u16>() else {
            let (status, body) = error(
                404,
                "exec",
                format!("no action {} in {}", path.action_id, path.service_id),
            );
            return Ok(stub::ExecuteActionResponse::Default { status, body });
        };
        let properties = body.map(|body| {
            (
                body.action_specific_property1,
                body.action_specific_property2,
                body.osdb_output_type.map(|kind| kind.to_string()),
            )
        });
        let body = Bytes::from(format!("{} ran with {properties:?}", path.service_id));
        Ok(stub::ExecuteActionResponse::AnySuccess { status, body })
    }

    /// `ldp` is loaded; `teapot` answers the `default` response with 418; anything else with 404.
    async fn unload_service(
        &self,
        _ctx: Context<()>,
        path: stub::UnloadServicePath,
    ) -> Result<stub::UnloadServiceResponse, Rejection> {
        let (status, body) = match path.service_id.as_str() {
            "ldp" => {
                return Ok(stub::UnloadServiceResponse::Ok(types::UnloadServiceResponse {
                    api: "/osdb/api/v1/services".to_owned(),
                    method: "unload_service".to_owned(),
                    response: "unloaded ldp".to_owned(),
                    status: types::UnloadServiceResponseStatus::Success,
                }));
            }
            "teapot" => error(418, "unload", "a teapot".to_owned()),
            other => error(404, "unload", format!("no service {other}")),
        };
        Ok(stub::UnloadServiceResponse::Default { status, body })
    }

    not_driven! {
        list_actions(Context<()>, stub::ListActionsPath) -> stub::ListActionsResponse;
        describe_action(Context<()>, stub::DescribeActionPath) -> stub::DescribeActionResponse;
        action_help(Context<()>, stub::ActionHelpPath) -> stub::ActionHelpResponse;
        login(Context<()>) -> stub::LoginResponse;
        logout(Context<()>) -> stub::LogoutResponse;
        list_services(Context<()>) -> stub::ListServicesResponse;
        load_service(Context<()>, Option<types::LoadServiceBody>) -> stub::LoadServiceResponse;
        describe_service(Context<()>, stub::DescribeServicePath) -> stub::DescribeServiceResponse;
    }
}

const OCTETS: &str = "application/octet-stream";

fn error_body(api: &str, response: &str) -> serde_json::Value {
    serde_json::json!({ "api": api, "response": response, "status": "error" })
}

#[tokio::test]
async fn range_status_chosen_by_the_implementation() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let exec = |action: &str| format!("/api/v1/actions/uber/{action}/exec");
    let cases = vec![
        (
            "200, the body echoed",
            post(exec("200")).json(serde_json::json!({
                "action_specific_property1": "37.77",
                "osdb:output_type": "url_only",
            })),
            answers_text(
                200,
                OCTETS,
                r#"uber ran with Some((Some("37.77"), None, Some("url_only")))"#,
            ),
        ),
        (
            "202, without a body (it is optional)",
            post(exec("202")),
            answers_text(202, OCTETS, "uber ran with None"),
        ),
        (
            "299, the top of the range",
            post(exec("299")).json(serde_json::json!({})),
            answers_text(299, OCTETS, "uber ran with Some((None, None, None))"),
        ),
        (
            "404 is outside 2XX: the router answers 500",
            post(exec("404")),
            rejected(500, "internal_error"),
        ),
        (
            "the default answer",
            post(exec("products")),
            answers(404, error_body("exec", "no action products in uber")),
        ),
        (
            "a body outside the schema",
            post(exec("200"))
                .json(serde_json::json!({ "osdb:output_type": "everything", "action_specific_property2": 7 })),
            invalid(&[
                r#"["body","action_specific_property2"]"#,
                r#"["body","osdb:output_type"]"#,
            ]),
        ),
        (
            "a body that is not JSON",
            post(exec("200")).body("application/json", "{"),
            rejected(400, "invalid_request_error"),
        ),
        (
            "another method",
            get(exec("200")),
            rejected(405, "method_not_allowed_error"),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn default_response_with_any_status() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let service = |id: &str| format!("/api/v1/services/{id}");
    let cases = vec![
        (
            "the documented 200",
            delete(service("ldp")),
            answers(
                200,
                serde_json::json!({
                    "api": "/osdb/api/v1/services",
                    "method": "unload_service",
                    "response": "unloaded ldp",
                    "status": "success",
                }),
            ),
        ),
        (
            "default, 404",
            delete(service("csv")),
            answers(404, error_body("unload", "no service csv")),
        ),
        (
            "default, 418",
            delete(service("teapot")),
            answers(418, error_body("unload", "a teapot")),
        ),
        (
            "an operation no case drives",
            get(service("ldp")),
            rejected(501, "not_implemented_error"),
        ),
        (
            "no such route",
            request("PATCH", "/api/v2/services"),
            rejected(404, "not_found_error"),
        ),
    ];
    check(&app, cases).await;
}

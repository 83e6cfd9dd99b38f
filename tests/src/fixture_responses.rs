//! The `responses_default_ranges_media` fixture at run time: `default` and range answers carry their status (and
//! refuse one they do not document), a body documented in several media types is sent in the one the
//! implementation chose, an inline response schema is a named shared type, and an operation without an operationId
//! and a `$ref`'d path item are routed.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stub_runtime::{Context, Credentials, Rejection, RequestId, RouterConfig};
use tower::ServiceExt;

use crate::fixtures::responses_default_ranges_media as fx;

/// Answers by report id: each id picks one documented answer.
struct Reports;

impl fx::Api for Reports {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Ok(())
    }

    async fn health(&self, _ctx: Context<()>) -> Result<fx::HealthResponse, Rejection> {
        Ok(fx::HealthResponse::NoContent)
    }

    async fn post_reports(
        &self,
        _ctx: Context<()>,
        body: fx::types::Report,
    ) -> Result<fx::PostReportsResponse, Rejection> {
        Ok(fx::PostReportsResponse::Created {
            body: fx::types::PostReportsResponse {
                id: body.id,
                status: fx::types::PostReportsResponseStatus::Queued,
            },
            location: format!("/reports/{}", body.id),
        })
    }

    async fn rename_report(
        &self,
        _ctx: Context<()>,
        path: fx::RenameReportPath,
        body: fx::types::RenameReportBody,
    ) -> Result<fx::RenameReportResponse, Rejection> {
        Ok(fx::RenameReportResponse::Ok(fx::types::Report {
            id: path.id,
            title: body.title.to_string(),
        }))
    }

    async fn get_report(&self, ctx: Context<()>, path: fx::GetReportPath) -> Result<fx::GetReportResponse, Rejection> {
        use fx::{GetReportOkBody as Body, GetReportResponse as R};
        let problem = |title: &str| fx::types::Problem {
            title: title.to_owned(),
            status: None,
        };
        Ok(match path.id {
            1 => R::Ok(Body::ApplicationJson(fx::types::Report {
                id: 1,
                title: "one".to_owned(),
            })),
            2 => R::Ok(Body::TextPlain("report two".to_owned())),
            3 => R::Ok(Body::ApplicationPdf(Bytes::from_static(b"%PDF-1.7"))),
            // The media type the request's Accept prefers.
            8 => match ctx.preferred(&["application/json", "text/plain", "application/pdf"]) {
                Some("text/plain") => R::Ok(Body::TextPlain("report eight".to_owned())),
                Some("application/pdf") => R::Ok(Body::ApplicationPdf(Bytes::from_static(b"%PDF-1.7"))),
                _ => R::Ok(Body::ApplicationJson(fx::types::Report {
                    id: 8,
                    title: "eight".to_owned(),
                })),
            },
            4 => R::AnyClientError {
                status: 404,
                body: problem("no such report"),
            },
            // A range answer with a status outside its range is a bug: 500, never a 200 with an error body.
            5 => R::AnyClientError {
                status: 200,
                body: problem("wrong"),
            },
            6 => R::Default {
                status: 503,
                body: problem("maintenance"),
            },
            _ => R::Default {
                status: 1000,
                body: problem("not a status"),
            },
        })
    }
}

async fn send(method: &str, uri: &str, body: Option<Value>) -> (u16, String, Bytes, Option<String>) {
    send_accepting(method, uri, body, None).await
}

async fn send_accepting(
    method: &str,
    uri: &str,
    body: Option<Value>,
    accept: Option<&str>,
) -> (u16, String, Bytes, Option<String>) {
    let app = fx::router(Arc::new(Reports), RouterConfig::default());
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let response = app.oneshot(request.body(body).unwrap()).await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, content_type, location) = (response.status().as_u16(), header("content-type"), header("location"));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type.unwrap_or_default(), bytes, location)
}

#[tokio::test]
async fn every_documented_answer_keeps_its_status_and_media_type() {
    // (report id, status, content type, body starts with)
    let cases = [
        (1, 200, "application/json", r#"{"id":1"#),
        (2, 200, "text/plain", "report two"),
        (3, 200, "application/pdf", "%PDF"),
        (4, 404, "application/problem+json", r#"{"title":"no such report""#),
        (5, 500, "application/json", r#"{"code":500"#),
        (6, 503, "application/json", r#"{"title":"maintenance""#),
        (7, 500, "application/json", r#"{"code":500"#),
    ];
    for (id, status, content_type, start) in cases {
        let (got, got_type, body, _) = send("GET", &format!("/reports/{id}"), None).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!((got, got_type.as_str()), (status, content_type), "report {id}: {body}");
        assert!(body.starts_with(start), "report {id}: {body}");
    }
}

#[tokio::test]
async fn the_implementation_can_answer_in_the_media_type_accept_prefers() {
    // (Accept, content type)
    let cases = [
        (None, "application/json"),
        (Some("text/plain"), "text/plain"),
        (Some("application/pdf, text/plain;q=0.5"), "application/pdf"),
    ];
    for (accept, content_type) in cases {
        let (status, got, _, _) = send_accepting("GET", "/reports/8", None, accept).await;
        assert_eq!((status, got.as_str()), (200, content_type), "{accept:?}");
    }
}

#[tokio::test]
async fn unnamed_operations_inline_responses_and_refd_path_items_are_served() {
    let (status, content_type, body, location) =
        send("POST", "/reports", Some(json!({ "id": 9, "title": "nine" }))).await;
    assert_eq!((status, content_type.as_str()), (201, "application/json"));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({ "id": 9, "status": "queued" })
    );
    assert_eq!(location.as_deref(), Some("/reports/9"));

    let (status, _, body, _) = send("POST", "/reports", Some(json!({ "id": "nine" }))).await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));

    // An inline request body: a named shared type, validated like any other.
    let cases = [
        (json!({ "title": "new" }), 200, None),
        (
            json!({ "title": "" }),
            422,
            Some((r#"["body","title"]"#, "string_too_short")),
        ),
        (
            json!({ "title": "x", "extra": 1 }),
            422,
            Some((r#"["body","extra"]"#, "extra_forbidden")),
        ),
    ];
    for (body, status, violation) in cases {
        let (got, _, answer, _) = send("PATCH", "/reports/4", Some(body.clone())).await;
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(got, status, "{body}: {answer}");
        if let Some((loc, kind)) = violation {
            assert_eq!(answer["errors"][0]["loc"].to_string(), loc, "{answer}");
            assert_eq!(answer["errors"][0]["type"], kind, "{answer}");
        }
    }

    let (status, _, body, _) = send("GET", "/health", None).await;
    assert_eq!((status, body.len()), (204, 0));
}

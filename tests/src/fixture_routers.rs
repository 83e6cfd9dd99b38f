//! The fixture stubs' routers at run time: what the stub of `openapi.yaml` cannot show (path, query and header
//! parameters, integer `loc` indices, 204, optional bodies, `security: []`, bodies in other media types and in
//! several); security schemes and parameter styles have a module each.

mod parameters;
mod security;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stub_runtime::{Context, Credentials, Rejection, RequestId, RouterConfig};
use tower::ServiceExt;

use crate::fixtures::unsecured_operation as unsecured;
use crate::fixtures::{body_bytes_and_text as blobs, body_form_urlencoded as form, body_multipart as uploads};
use crate::fixtures::{body_several_media_types as several, nested_objects_arrays_enums as nested};
use crate::fixtures::{no_body_and_optional_body as bodies, params_path_query_header as params};

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
        let label = format!(
            "{:?} {:?} {:?} {:?}",
            query.limit, query.verbose, headers.x_trace, query.delivered
        );
        // Two parameters whose names differ only in case are two fields.
        let label = match (query.ratio, query.ratio_2) {
            (None, None) => label,
            (ratio, ratio_2) => format!("{label} {ratio:?} {ratio_2:?}"),
        };
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

pub(crate) async fn call(
    app: axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut headers = headers.to_vec();
    let body = match body {
        Some(body) => {
            headers.push(("content-type", "application/json"));
            body.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    send(app, method, uri, &headers, body).await
}

/// Any request with the given headers and body bytes; the answer's status and JSON body (`null` when not JSON).
async fn send(
    app: axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Vec<u8>>,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .oneshot(request.body(Body::from(body.into())).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `(loc, type)` of every listed violation.
pub(crate) fn violations(envelope: &Value) -> Vec<(String, String)> {
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
        (200, Some(r#"5 Some(true) Some("t1") None"#)),
        "{body}"
    );
    let uri = format!("/things/{ID}?limit=5&ratio=1.5&Ratio=x");
    let (status, body) = call(app.clone(), "GET", &uri, &[AUTH], None).await;
    assert_eq!(
        (status, body["label"].as_str()),
        (200, Some(r#"5 None None None Some(1.5) Some("x")"#)),
        "{body}"
    );
    // An untyped enum of several JSON types: the text is read as a boolean, else a number, and must be a member.
    for (delivered, expected) in [
        ("true", "Some(Bool(true))"),
        ("0", "Some(Number(0))"),
        ("1", "Some(Number(1))"),
    ] {
        let uri = format!("/things/{ID}?limit=5&delivered={delivered}");
        let (status, body) = call(app.clone(), "GET", &uri, &[AUTH], None).await;
        assert_eq!(
            (status, body["label"].as_str()),
            (200, Some(format!("5 None None {expected}").as_str())),
            "{body}"
        );
    }
    for delivered in ["2", "yes", "TRUE"] {
        let uri = format!("/things/{ID}?limit=5&delivered={delivered}");
        let (status, body) = call(app.clone(), "GET", &uri, &[AUTH], None).await;
        assert_eq!(
            (status, violations(&body)),
            (422, vec![(r#"["query","delivered"]"#.into(), "enum".into())]),
            "{delivered}: {body}"
        );
    }

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

impl form::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn sign_up(&self, _ctx: Context<()>, body: form::types::Signup) -> Result<form::SignUpResponse, Rejection> {
        Ok(form::SignUpResponse::Created(body))
    }
}

/// One line per part: `name:file name:length`.
async fn describe_parts(mut parts: stub_runtime::Multipart) -> Result<Vec<String>, Rejection> {
    let mut lines = Vec::new();
    while let Some(part) = parts.next_part().await? {
        let name = part.name().unwrap_or_default().to_owned();
        let file = part.file_name().unwrap_or_default().to_owned();
        lines.push(format!("{name}:{file}:{}", part.bytes().await?.len()));
    }
    Ok(lines)
}

impl uploads::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn upload(
        &self,
        _ctx: Context<()>,
        body: stub_runtime::Multipart,
    ) -> Result<uploads::UploadResponse, Rejection> {
        let parts = describe_parts(body).await?;
        Ok(uploads::UploadResponse::Ok(uploads::types::Summary { parts }))
    }
}

fn blob_summary(kind: &str, size: usize) -> blobs::types::Summary {
    blobs::types::Summary {
        kind: kind.to_owned(),
        size: size as i64,
    }
}

impl blobs::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn put_blob(
        &self,
        _ctx: Context<()>,
        body: stub_runtime::Bytes,
    ) -> Result<blobs::PutBlobResponse, Rejection> {
        Ok(blobs::PutBlobResponse::Ok(blob_summary("blob", body.len())))
    }

    async fn put_avatar(
        &self,
        _ctx: Context<()>,
        body: stub_runtime::Bytes,
    ) -> Result<blobs::PutAvatarResponse, Rejection> {
        Ok(blobs::PutAvatarResponse::Ok(blob_summary("avatar", body.len())))
    }

    async fn post_document(
        &self,
        _ctx: Context<()>,
        body: Option<stub_runtime::Bytes>,
    ) -> Result<blobs::PostDocumentResponse, Rejection> {
        let summary = body.map_or_else(|| blob_summary("none", 0), |body| blob_summary("pdf", body.len()));
        Ok(blobs::PostDocumentResponse::Ok(summary))
    }

    async fn post_anything(
        &self,
        _ctx: Context<()>,
        body: stub_runtime::Bytes,
    ) -> Result<blobs::PostAnythingResponse, Rejection> {
        Ok(blobs::PostAnythingResponse::Ok(blob_summary("anything", body.len())))
    }

    async fn post_order(
        &self,
        _ctx: Context<()>,
        body: stub_runtime::Bytes,
    ) -> Result<blobs::PostOrderResponse, Rejection> {
        Ok(blobs::PostOrderResponse::Ok(blob_summary("xml", body.len())))
    }

    async fn post_report(
        &self,
        _ctx: Context<()>,
        body: stub_runtime::Bytes,
    ) -> Result<blobs::PostReportResponse, Rejection> {
        Ok(blobs::PostReportResponse::Ok(blob_summary("csv", body.len())))
    }

    async fn post_memo(&self, _ctx: Context<()>, body: String) -> Result<blobs::PostMemoResponse, Rejection> {
        Ok(blobs::PostMemoResponse::Ok(blob_summary(&body, body.len())))
    }
}

impl several::Api for Fixture {
    type Caller = ();

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        authenticate(credentials).await
    }

    async fn create_item(
        &self,
        _ctx: Context<()>,
        body: several::CreateItemBody,
    ) -> Result<several::CreateItemResponse, Rejection> {
        let item = |item: several::types::Item| format!("{}:{:?}", *item.name, item.count);
        let (variant, detail) = match body {
            several::CreateItemBody::Json(it) => ("json", item(it)),
            several::CreateItemBody::VndItemJson(it) => ("vnd", item(it)),
            several::CreateItemBody::Form(it) => ("form", item(it)),
            several::CreateItemBody::Multipart(parts) => ("multipart", describe_parts(parts).await?.join(",")),
            several::CreateItemBody::Text(text) => ("text", text),
            several::CreateItemBody::Bytes(bytes) => ("bytes", bytes.len().to_string()),
        };
        let received = several::types::Received {
            variant: variant.to_owned(),
            detail,
        };
        Ok(several::CreateItemResponse::Created(received))
    }

    async fn replace_item(
        &self,
        _ctx: Context<()>,
        body: Option<several::ReplaceItemBody>,
    ) -> Result<several::ReplaceItemResponse, Rejection> {
        let (variant, detail) = match body {
            None => ("none", String::new()),
            Some(several::ReplaceItemBody::Json(item)) => ("json", (*item.name).clone()),
            Some(several::ReplaceItemBody::Text(text)) => ("text", text),
        };
        let received = several::types::Received {
            variant: variant.to_owned(),
            detail,
        };
        Ok(several::ReplaceItemResponse::Ok(received))
    }
}

/// A request of a body table: Content-Type (if any), body, and the expected status and answer.
type BodyCase = (Option<&'static str>, Vec<u8>, u16, Value);

/// Sends each case to one route. A success's answer is its JSON body; a rejection's is `{"type": …}`, plus on a 422
/// its violations as `[loc, type]` pairs, sorted.
async fn body_table(app: &axum::Router, method: &str, uri: &str, cases: Vec<BodyCase>) {
    for (content_type, body, status, expect) in cases {
        let headers: Vec<(&str, &str)> = content_type.map(|value| ("content-type", value)).into_iter().collect();
        let (got_status, got) = send(app.clone(), method, uri, &headers, body.clone()).await;
        let got = if got_status < 400 {
            got
        } else {
            let mut errors = violations(&got);
            errors.sort();
            if errors.is_empty() {
                json!({ "type": got["type"] })
            } else {
                json!({ "type": got["type"], "errors": errors })
            }
        };
        let request = format!("{method} {uri} {content_type:?} {:?}", String::from_utf8_lossy(&body));
        assert_eq!((got_status, got), (status, expect), "{request}");
    }
}

fn rejected(kind: &str) -> Value {
    json!({ "type": kind })
}

/// A 422 listing these `(loc, type)` violations, in sorted order.
fn invalid(errors: &[(&str, &str)]) -> Value {
    json!({ "type": "validation_error", "errors": errors })
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

#[tokio::test]
async fn form_bodies_are_converted_validated_and_typed() {
    let app = form::router(Arc::new(Fixture), RouterConfig::default());
    let signup = json!({ "name": "Ann Lee", "age": 30, "ratio": 0.5, "newsletter": true, "tags": ["news", "offers"] });
    let cases: Vec<BodyCase> = vec![
        (
            FORM,
            b"name=Ann+Lee&age=30&ratio=0.5&newsletter=true&tags=news&tags=offers".to_vec(),
            201,
            signup,
        ),
        (
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"age=0&name=%C3%A9".to_vec(),
            201,
            json!({ "name": "é", "age": 0 }),
        ),
        (
            FORM,
            b"name=&age=x&newsletter=maybe&tags=news&tags=spam&extra=1".to_vec(),
            422,
            invalid(&[
                (r#"["body","age"]"#, "int_type"),
                (r#"["body","extra"]"#, "extra_forbidden"),
                (r#"["body","name"]"#, "string_too_short"),
                (r#"["body","newsletter"]"#, "bool_type"),
                (r#"["body","tags",1]"#, "enum"),
            ]),
        ),
        (
            FORM,
            Vec::new(),
            422,
            invalid(&[(r#"["body","age"]"#, "missing"), (r#"["body","name"]"#, "missing")]),
        ),
        (
            FORM,
            b"name=a&age=1&labels%5Brank%5D=2&labels[color]=red".to_vec(),
            201,
            json!({ "name": "a", "age": 1, "labels": { "rank": 2, "color": "red" } }),
        ),
        (
            FORM,
            b"name=a&age=1&labels[rank]=0&labels[size]=9".to_vec(),
            422,
            invalid(&[
                (r#"["body","labels","rank"]"#, "greater_than_equal"),
                (r#"["body","labels","size"]"#, "extra_forbidden"),
            ]),
        ),
        (
            FORM,
            b"name=a&age=1&labels=red".to_vec(),
            422,
            invalid(&[(r#"["body","labels"]"#, "object_type")]),
        ),
        (
            FORM,
            b"name=a&age=1&labels[rank]=1&labels[rank]=2".to_vec(),
            400,
            rejected("invalid_request_error"),
        ),
        (
            FORM,
            b"name=a&name=b&age=1".to_vec(),
            400,
            rejected("invalid_request_error"),
        ),
        (
            Some("application/json"),
            br#"{"name":"a","age":1}"#.to_vec(),
            415,
            rejected("unsupported_media_type_error"),
        ),
        (None, b"name=a&age=1".to_vec(), 400, rejected("invalid_request_error")),
    ];
    body_table(&app, "POST", "/signups", cases).await;
}

/// A multipart body with boundary `XyZ`: a `note` field and a `file` of `file_len` bytes.
fn multipart_body(file_len: usize) -> Vec<u8> {
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".to_vec();
    body.extend_from_slice(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n",
    );
    body.extend(std::iter::repeat_n(0x89, file_len));
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    body
}

const MULTIPART: Option<&str> = Some("multipart/form-data; boundary=XyZ");

#[tokio::test]
async fn multipart_parts_stream_to_the_implementer_within_the_limit() {
    let app = uploads::router(Arc::new(Fixture), RouterConfig::default());
    let cases: Vec<BodyCase> = vec![
        (
            MULTIPART,
            multipart_body(1000),
            200,
            json!({ "parts": ["note::5", "file:a.png:1000"] }),
        ),
        (
            Some("multipart/form-data"),
            multipart_body(10),
            400,
            rejected("invalid_request_error"),
        ),
        (
            MULTIPART,
            b"--XyZ\r\nnot a part".to_vec(),
            400,
            rejected("invalid_request_error"),
        ),
        (
            Some("application/json"),
            b"{}".to_vec(),
            415,
            rejected("unsupported_media_type_error"),
        ),
        (None, multipart_body(10), 400, rejected("invalid_request_error")),
    ];
    body_table(&app, "POST", "/uploads", cases).await;

    // Over the limit while the implementer reads the parts, and when the declared length says so up front.
    let small = RouterConfig {
        body_limit: 512,
        ..RouterConfig::default()
    };
    let app = uploads::router(Arc::new(Fixture), small);
    let cases: Vec<BodyCase> = vec![
        (
            MULTIPART,
            multipart_body(100),
            200,
            json!({ "parts": ["note::5", "file:a.png:100"] }),
        ),
        (
            MULTIPART,
            multipart_body(1000),
            413,
            rejected("request_too_large_error"),
        ),
    ];
    body_table(&app, "POST", "/uploads", cases).await;
    let length = multipart_body(1000).len().to_string();
    let headers = [
        ("content-type", MULTIPART.unwrap()),
        ("content-length", length.as_str()),
    ];
    let (status, body) = send(app, "POST", "/uploads", &headers, multipart_body(1000)).await;
    assert_eq!((status, &body["type"]), (413, &json!("request_too_large_error")));
}

#[tokio::test]
async fn binary_bodies_are_bytes_and_text_bodies_utf8_strings() {
    let app = blobs::router(Arc::new(Fixture), RouterConfig::default());
    let summary = |kind: &str, size: usize| json!({ "kind": kind, "size": size });
    let not_utf8 = vec![0x00, 0x9f, 0x92, 0x96];
    let unsupported = || rejected("unsupported_media_type_error");
    let bad_request = || rejected("invalid_request_error");
    let tables: Vec<(&str, &str, Vec<BodyCase>)> = vec![
        (
            "PUT",
            "/blobs",
            vec![
                (
                    Some("application/octet-stream"),
                    not_utf8.clone(),
                    200,
                    summary("blob", 4),
                ),
                (Some("application/octet-stream"), Vec::new(), 200, summary("blob", 0)),
                (Some("text/plain"), b"x".to_vec(), 415, unsupported()),
                (None, b"x".to_vec(), 400, bad_request()),
            ],
        ),
        (
            "PUT",
            "/avatar",
            vec![
                (Some("image/png"), not_utf8.clone(), 200, summary("avatar", 4)),
                (Some("image/svg+xml"), b"<svg/>".to_vec(), 200, summary("avatar", 6)),
                (Some("video/mp4"), b"x".to_vec(), 415, unsupported()),
            ],
        ),
        (
            "POST",
            "/documents",
            vec![
                (Some("application/pdf"), b"%PDF".to_vec(), 200, summary("pdf", 4)),
                (None, Vec::new(), 200, summary("none", 0)),
                (Some("application/pdf"), Vec::new(), 200, summary("none", 0)),
            ],
        ),
        (
            "POST",
            "/anything",
            vec![
                (Some("foo/bar"), b"abc".to_vec(), 200, summary("anything", 3)),
                (
                    Some("application/json; charset=latin1"),
                    b"abc".to_vec(),
                    200,
                    summary("anything", 3),
                ),
                (None, b"abc".to_vec(), 400, bad_request()),
            ],
        ),
        (
            "POST",
            "/orders",
            vec![
                (Some("application/xml"), b"<order/>".to_vec(), 200, summary("xml", 8)),
                (Some("application/json"), b"{}".to_vec(), 415, unsupported()),
            ],
        ),
        (
            "POST",
            "/reports",
            vec![
                (Some("text/csv"), b"kind,size\na,1\n".to_vec(), 200, summary("csv", 14)),
                (Some("text/plain"), b"a".to_vec(), 415, unsupported()),
            ],
        ),
        (
            "POST",
            "/memos",
            vec![
                (
                    Some("text/plain"),
                    "héllo".as_bytes().to_vec(),
                    200,
                    summary("héllo", 6),
                ),
                (Some("text/plain; charset=UTF-8"), b"hi".to_vec(), 200, summary("hi", 2)),
                (Some("text/plain"), not_utf8, 400, bad_request()),
                (
                    Some("text/plain"),
                    b"hello world".to_vec(),
                    422,
                    invalid(&[(r#"["body"]"#, "string_too_long")]),
                ),
                (Some("text/plain; charset=latin1"), b"hi".to_vec(), 415, unsupported()),
                (Some("text/csv"), b"hi".to_vec(), 415, unsupported()),
            ],
        ),
    ];
    for (method, uri, cases) in tables {
        body_table(&app, method, uri, cases).await;
    }
}

#[tokio::test]
async fn several_media_types_are_chosen_by_content_type() {
    let app = several::router(Arc::new(Fixture), RouterConfig::default());
    let received = |variant: &str, detail: &str| json!({ "variant": variant, "detail": detail });
    let cases: Vec<BodyCase> = vec![
        (
            Some("application/json"),
            br#"{"name":"a","count":2}"#.to_vec(),
            201,
            received("json", "a:Some(2)"),
        ),
        (
            Some("application/vnd.item+json"),
            br#"{"name":"b"}"#.to_vec(),
            201,
            received("vnd", "b:None"),
        ),
        // Any other JSON type goes to the first JSON media type.
        (
            Some("application/merge-patch+json"),
            br#"{"name":"c"}"#.to_vec(),
            201,
            received("json", "c:None"),
        ),
        (FORM, b"name=d&count=4".to_vec(), 201, received("form", "d:Some(4)")),
        (
            MULTIPART,
            multipart_body(3),
            201,
            received("multipart", "note::5,file:a.png:3"),
        ),
        (Some("text/plain"), b"plain".to_vec(), 201, received("text", "plain")),
        (
            Some("application/octet-stream"),
            vec![1, 2, 3],
            201,
            received("bytes", "3"),
        ),
        (
            Some("application/json"),
            br#"{"name":""}"#.to_vec(),
            422,
            invalid(&[(r#"["body","name"]"#, "string_too_short")]),
        ),
        (
            FORM,
            b"count=x".to_vec(),
            422,
            invalid(&[(r#"["body","count"]"#, "int_type"), (r#"["body","name"]"#, "missing")]),
        ),
        (
            Some("application/json"),
            b"{".to_vec(),
            400,
            rejected("invalid_request_error"),
        ),
        (
            Some("image/png"),
            vec![1],
            415,
            rejected("unsupported_media_type_error"),
        ),
        (
            Some("not a media type"),
            vec![1],
            415,
            rejected("unsupported_media_type_error"),
        ),
        (
            None,
            br#"{"name":"a"}"#.to_vec(),
            400,
            rejected("invalid_request_error"),
        ),
    ];
    body_table(&app, "POST", "/items", cases).await;

    let cases: Vec<BodyCase> = vec![
        (None, Vec::new(), 200, received("none", "")),
        (Some("text/plain"), Vec::new(), 200, received("none", "")),
        (Some("text/plain"), b"x".to_vec(), 200, received("text", "x")),
        (
            Some("application/json"),
            br#"{"name":"e"}"#.to_vec(),
            200,
            received("json", "e"),
        ),
        (
            Some("application/json"),
            b"{}".to_vec(),
            422,
            invalid(&[(r#"["body","name"]"#, "missing")]),
        ),
        (
            Some("text/csv"),
            b"x".to_vec(),
            415,
            rejected("unsupported_media_type_error"),
        ),
    ];
    body_table(&app, "PUT", "/items", cases).await;
}

/// `lane: { type: integer, minimum: 1, not: { minimum: 13, maximum: 13 } }` (an untyped `not` of bounds, as public
/// specs write it): 13 is refused, as is anything below 1.
#[test]
fn an_untyped_not_of_bounds_beside_an_integer() {
    use crate::fixtures::string_formats_and_bounds::validators::validate_event;
    let event = |lane: i64| {
        json!({
            "id": "0b8a3c4e-6f5d-4e1a-9b7c-2d3e4f5a6b7c", "at": "2026-11-28T10:00:00Z", "day": "2026-11-28",
            "code": "AB", "score": 1, "weight": 1.0, "lane": lane,
        })
    };
    for (lane, valid) in [(1, true), (12, true), (13, false), (14, true), (0, false)] {
        let mut cx = stub_runtime::Validator::new();
        validate_event(&event(lane), &mut cx);
        assert_eq!(cx.finish().is_ok(), valid, "lane {lane}");
    }
}

/// `handle: { pattern: '^(?!admin)[a-z]+$' }`: a look-ahead, checked by the ECMA-262 engine.
#[test]
fn a_pattern_with_a_look_ahead() {
    use crate::fixtures::string_formats_and_bounds::validators::validate_event;
    let event = |handle: &str| {
        json!({
            "id": "0b8a3c4e-6f5d-4e1a-9b7c-2d3e4f5a6b7c", "at": "2026-11-28T10:00:00Z", "day": "2026-11-28",
            "code": "AB", "score": 1, "weight": 1.0, "handle": handle,
        })
    };
    for (handle, valid) in [
        ("bob", true),
        ("administrator", false),
        ("admin", false),
        ("xadmin", true),
        ("Bob", false),
    ] {
        let mut cx = stub_runtime::Validator::new();
        validate_event(&event(handle), &mut cx);
        let errors = cx.finish().err().map(|rejection| rejection.to_string());
        assert_eq!(errors.is_none(), valid, "handle {handle}: {errors:?}");
    }
}

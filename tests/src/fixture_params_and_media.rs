//! The `param_composed_schema`, `param_form_object` and `body_json_and_plus_json` fixtures at run time: composed
//! parameter schemas (one value or several), object query parameters in the `form` style and object header and path
//! parameters in the `simple` style, and a JSON body whose
//! `application/json`, `application/*+json` and `+json` media types the `Content-Type` chooses among.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stub_runtime::{Context, Credentials, Rejection, RequestId, RouterConfig};
use tower::ServiceExt;

use crate::fixtures::body_json_and_plus_json as media;
use crate::fixtures::param_composed_schema as composed;
use crate::fixtures::param_form_object as form;

/// What the implementation received, as JSON, for the test to read back.
#[derive(Default)]
struct Seen(Mutex<Vec<Value>>);

impl Seen {
    fn record(&self, value: Value) {
        self.0.lock().unwrap().push(value);
    }
}

async fn no_caller() -> Result<(), Rejection> {
    Ok(())
}

impl composed::Api for Seen {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        no_caller().await
    }

    async fn get_labels(
        &self,
        _ctx: Context<()>,
        path: composed::GetLabelsPath,
        query: composed::GetLabelsQuery,
    ) -> Result<composed::GetLabelsResponse, Rejection> {
        self.record(json!({ "names": path.names, "tag": query.tag, "since": query.since }));
        Ok(composed::GetLabelsResponse::NoContent)
    }
}

impl form::Api for Seen {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        no_caller().await
    }

    async fn find_shirts(
        &self,
        _ctx: Context<()>,
        query: form::FindShirtsQuery,
    ) -> Result<form::FindShirtsResponse, Rejection> {
        self.record(json!({ "filter": query.filter, "at": query.at }));
        Ok(form::FindShirtsResponse::NoContent)
    }

    async fn find_shirt_at(
        &self,
        _ctx: Context<()>,
        path: form::FindShirtAtPath,
        headers: form::FindShirtAtHeaders,
    ) -> Result<form::FindShirtAtResponse, Rejection> {
        self.record(
            json!({ "spot": path.spot, "filter": headers.x_filter, "at": headers.x_at, "sizes": headers.x_sizes }),
        );
        Ok(form::FindShirtAtResponse::NoContent)
    }
}

impl media::Api for Seen {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        no_caller().await
    }

    async fn patch_thing(
        &self,
        _ctx: Context<()>,
        _path: media::PatchThingPath,
        body: media::PatchThingBody,
    ) -> Result<media::PatchThingResponse, Rejection> {
        self.record(match body {
            media::PatchThingBody::Json(thing) => json!({ "json": thing }),
            media::PatchThingBody::AnyJson(thing) => json!({ "any_json": thing }),
            media::PatchThingBody::MergePatchJson(patch) => json!({ "merge_patch": patch }),
        });
        Ok(media::PatchThingResponse::Ok(media::types::Thing {
            name: "ok".to_owned(),
        }))
    }
}

/// The status, and what the implementation received (on success) or the `(loc, type)` of every violation.
async fn send(router: axum::Router, seen: &Seen, request: Request<Body>) -> (u16, Value) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    if status < 300 {
        return (status, seen.0.lock().unwrap().pop().unwrap_or(Value::Null));
    }
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    let violations = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["loc"], e["type"]]))
        .collect();
    (status, Value::Array(violations))
}

#[tokio::test]
async fn composed_parameters_are_one_value_or_several() {
    let cases = [
        (
            "/labels/a?tag=ab",
            204,
            json!({ "names": "a", "tag": "ab", "since": null }),
        ),
        (
            "/labels/a,b?tag=ab&tag=cd",
            204,
            json!({ "names": ["a", "b"], "tag": ["ab", "cd"], "since": null }),
        ),
        (
            "/labels/a?since=5",
            204,
            json!({ "names": "a", "tag": null, "since": 5 }),
        ),
        (
            "/labels/a?since=2024-01-02",
            204,
            json!({ "names": "a", "tag": null, "since": "2024-01-02" }),
        ),
        ("/labels/a?tag=a", 422, json!([[["query", "tag"], "union_no_match"]])),
        (
            "/labels/a?tag=ab&tag=c",
            422,
            json!([[["query", "tag"], "union_no_match"]]),
        ),
        (
            "/labels/a?since=-1",
            422,
            json!([[["query", "since"], "union_no_match"]]),
        ),
    ];
    for (uri, status, expected) in cases {
        let seen = Arc::new(Seen::default());
        let router = composed::router(Arc::clone(&seen), RouterConfig::default());
        let request = Request::get(uri).body(Body::empty()).unwrap();
        assert_eq!(send(router, &seen, request).await, (status, expected), "{uri}");
    }
}

#[tokio::test]
async fn object_query_parameters_in_the_form_style() {
    let cases = [
        ("/shirts", 204, json!({ "filter": null, "at": null })),
        (
            "/shirts?color=red&size=3&at=lat,59.9,lon,10.7",
            204,
            json!({ "filter": { "color": "red", "size": 3 }, "at": { "lat": 59.9, "lon": 10.7 } }),
        ),
        (
            "/shirts?size=0",
            422,
            json!([[["query", "filter", "size"], "greater_than_equal"]]),
        ),
        (
            "/shirts?color=green",
            422,
            json!([[["query", "filter", "color"], "enum"]]),
        ),
        ("/shirts?at=lat,1", 422, json!([[["query", "at", "lon"], "missing"]])),
    ];
    for (uri, status, expected) in cases {
        let seen = Arc::new(Seen::default());
        let router = form::router(Arc::clone(&seen), RouterConfig::default());
        let request = Request::get(uri).body(Body::empty()).unwrap();
        assert_eq!(send(router, &seen, request).await, (status, expected), "{uri}");
    }
}

/// `X-Filter` and `X-Sizes` (an inline schema) are exploded (`color=red,size=3`); `X-At` and the path's `spot` are not
/// (`lat,1,lon,2`).
#[tokio::test]
async fn object_header_and_path_parameters_in_the_simple_style() {
    let spot = json!({ "lat": 1.0, "lon": 2.0 });
    let cases = [
        (
            &[][..],
            204,
            json!({ "spot": spot, "filter": null, "at": null, "sizes": null }),
        ),
        (
            &[
                ("x-filter", "color=red,size=3"),
                ("x-at", "lat,59.9,lon,10.7"),
                ("x-sizes", "min=38,max=44"),
            ][..],
            204,
            json!({
                "spot": spot,
                "filter": { "color": "red", "size": 3 },
                "at": { "lat": 59.9, "lon": 10.7 },
                "sizes": { "min": 38, "max": 44 }
            }),
        ),
        (
            &[("x-sizes", "max=61")][..],
            422,
            json!([[["header", "X-Sizes", "max"], "less_than_equal"]]),
        ),
        (
            &[("x-filter", "size=0,color=green")][..],
            422,
            json!([
                [["header", "X-Filter", "color"], "enum"],
                [["header", "X-Filter", "size"], "greater_than_equal"]
            ]),
        ),
        (
            &[("x-at", "lat,one,lon,2")][..],
            422,
            json!([[["header", "X-At", "lat"], "number_type"]]),
        ),
        (
            &[("x-at", "lat,1")][..],
            422,
            json!([[["header", "X-At", "lon"], "missing"]]),
        ),
    ];
    for (headers, status, expected) in cases {
        let seen = Arc::new(Seen::default());
        let router = form::router(Arc::clone(&seen), RouterConfig::default());
        let mut request = Request::get("/shirts/lat,1,lon,2");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::empty()).unwrap();
        assert_eq!(send(router, &seen, request).await, (status, expected), "{headers:?}");
    }
    let seen = Arc::new(Seen::default());
    let router = form::router(Arc::clone(&seen), RouterConfig::default());
    let request = Request::get("/shirts/lat,1").body(Body::empty()).unwrap();
    assert_eq!(
        send(router, &seen, request).await,
        (422, json!([[["path", "spot", "lon"], "missing"]]))
    );
}

#[tokio::test]
async fn json_media_types_are_chosen_by_content_type() {
    let cases = [
        (
            "application/json",
            json!({ "name": "a" }),
            200,
            json!({ "json": { "name": "a" } }),
        ),
        (
            "application/merge-patch+json",
            json!({ "name": null }),
            200,
            json!({ "merge_patch": {} }),
        ),
        // Another `+json` type: the `application/*+json` range (the first JSON range, as the runtime chooses).
        (
            "application/vnd.thing+json",
            json!({ "name": "a" }),
            200,
            json!({ "any_json": { "name": "a" } }),
        ),
        (
            "application/vnd.thing+json",
            json!({}),
            422,
            json!([[["body", "name"], "missing"]]),
        ),
    ];
    for (content_type, body, status, expected) in cases {
        let seen = Arc::new(Seen::default());
        let router = media::router(Arc::clone(&seen), RouterConfig::default());
        let request = Request::patch("/things/1")
            .header("content-type", content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        assert_eq!(send(router, &seen, request).await, (status, expected), "{content_type}");
    }
}

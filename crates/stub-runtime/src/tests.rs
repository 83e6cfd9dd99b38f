//! The runtime's invariants, as tables: every rejection's envelope `code` is its HTTP status; versions and content
//! types parse as documented; a body is walked for every violation, then decoded.

use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

use crate::body::check_content_type;
use crate::extract::parse_version;
use crate::{ApiVersion, JsonObject, JsonValue, Loc, Rejection, RequestId, Tree, Validator, Violation, decode_json};

/// Every constructor, with the status it must answer.
fn every_rejection() -> Vec<(Rejection, u16)> {
    let v = ApiVersion::new(1, 0, 0);
    vec![
        (Rejection::bad_request("x"), 400),
        (Rejection::unauthorized("x"), 401),
        (Rejection::forbidden("x"), 403),
        (Rejection::not_found("x"), 404),
        (Rejection::method_not_allowed(), 405),
        (Rejection::conflict("x"), 409),
        (Rejection::payload_too_large(10), 413),
        (Rejection::unsupported_media_type("x"), 415),
        (Rejection::validation(vec![]), 422),
        (Rejection::upgrade_required(&v, &v), 426),
        (Rejection::too_many_requests(3), 429),
        (Rejection::internal("cause"), 500),
        (
            Rejection::bad_gateway("storage_error", "the store failed", "cause"),
            502,
        ),
        (
            Rejection::gateway_timeout("timeout_error", "the store timed out", "cause"),
            504,
        ),
        (Rejection::new(StatusCode::IM_A_TEAPOT, "teapot", "x"), 418),
        // Not an error status: becomes a 500, never a 2xx with an error body.
        (Rejection::new(StatusCode::OK, "ok", "x"), 500),
        (Rejection::new(StatusCode::MOVED_PERMANENTLY, "moved", "x"), 500),
        (Rejection::forbidden("x").with_cause("why"), 403),
    ]
}

async fn body_of(response: axum::response::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn envelope_code_is_always_the_status() {
    let id = RequestId::generate();
    for (rejection, status) in every_rejection() {
        for response in [
            rejection.clone().into_response(),
            rejection.clone().into_response_for(&id),
        ] {
            let (got, body) = body_of(response).await;
            assert_eq!(got, status, "{rejection}");
            assert_eq!(
                body["code"],
                json!(status),
                "{rejection}: body code differs from the status"
            );
            assert!(
                body["type"].is_string() && body["detail"].is_string(),
                "{rejection}: {body}"
            );
        }
    }
}

/// The envelope is written by hand; byte for byte it is what serde_json writes for the spec's `ErrorResponse`
/// (field order, escapes, `errors` left out when empty).
#[tokio::test]
async fn the_envelope_is_the_json_serde_would_write() {
    #[derive(serde::Serialize)]
    struct Expected<'a> {
        code: u16,
        detail: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        errors: &'a [Violation],
    }
    let violation = |loc: Vec<Loc>, msg: &str| Violation {
        loc,
        msg: msg.to_owned().into(),
        kind: "enum",
    };
    let awkward = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} backspace \u{8} feed \u{c} return \r del \u{7f} é 🔑 </script>";
    let mut cases = vec![
        Rejection::bad_request("plain"),
        Rejection::bad_request(awkward),
        Rejection::validation(vec![
            violation(
                vec![Loc::from("body"), Loc::from("provider")],
                "must be one of 'openai', 'github'",
            ),
            violation(
                vec![Loc::from("body"), Loc::Key(awkward.to_owned().into()), Loc::Index(0)],
                awkward,
            ),
            violation(vec![Loc::from("query"), Loc::Index(usize::MAX)], ""),
        ]),
        Rejection::new(StatusCode::IM_A_TEAPOT, awkward.to_owned(), "x"),
    ];
    // Every character that needs an escape, and some that do not, at every position of texts up to 17 characters.
    let specials = (0u8..0x20)
        .map(char::from)
        .chain(['"', '\\', ' ', '!', '#', '[', ']', '\u{7f}', 'é', '🔑']);
    for special in specials {
        for len in 1..=17 {
            for at in 0..len {
                let text: String = (0..len).map(|i| if i == at { special } else { 'a' }).collect();
                cases.push(Rejection::bad_request(text));
            }
        }
    }
    for rejection in cases {
        let expected = serde_json::to_vec(&Expected {
            code: rejection.status().as_u16(),
            detail: rejection.detail(),
            kind: rejection.kind(),
            errors: rejection.errors(),
        })
        .unwrap();
        let response = rejection.clone().into_response();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(&expected),
            "{rejection}"
        );
    }
}

#[tokio::test]
async fn server_errors_name_the_request_id_and_never_the_cause() {
    let id = RequestId::generate();
    for (rejection, status) in every_rejection().into_iter().filter(|(_, s)| *s >= 500) {
        let (_, body) = body_of(rejection.into_response_for(&id)).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(id.as_str()), "{status}: {detail}");
        assert!(
            !body.to_string().contains("cause"),
            "{status}: the cause leaked: {body}"
        );
    }
}

#[test]
fn versions_compare_numerically() {
    assert!(parse_version("1.10.0").unwrap() > parse_version("1.9").unwrap());
    assert_eq!(parse_version("2").unwrap(), ApiVersion::new(2, 0, 0));
    assert!(parse_version("one").is_none());
    // One, two or three parts, padded to three: with three it must agree with semver on every one.
    for text in [
        "1.0.0",
        "0.0.0",
        "10.20.30",
        "01.0.0",
        "1.00.0",
        "1.0.0-beta",
        "1.2.3+build",
        "1..0",
        " 1.2.3 ",
        "1.2.3.4",
        "18446744073709551615.0.0",
        "18446744073709551616.0.0",
        "v1.2.3",
        "1.2.x",
        "+1.2.3",
        "0.1.0",
        "100.0.7",
        "00.1.2",
        "1.2.",
        ".1.2",
        "1.2.3.",
        "1.2.03",
        "1.2.0-",
    ] {
        let four = text.trim().split('.').count() > 3;
        let semver = if four {
            None
        } else {
            ApiVersion::parse(text.trim()).ok()
        };
        assert_eq!(parse_version(text), semver, "{text:?}");
    }
}

#[test]
fn content_types() {
    let ok = [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=\"UTF-8\"",
        "application/merge-patch+json",
    ];
    let bad = [
        "text/plain",
        "application/json; charset=latin1",
        "application/jsonx",
        "",
    ];
    for (value, expect) in ok.iter().map(|v| (v, true)).chain(bad.iter().map(|v| (v, false))) {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        assert_eq!(check_content_type(&headers).is_ok(), expect, "{value}");
    }
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Thing {
    name: String,
}

/// The walk for `Thing`: an object with a required string `name` and nothing else.
fn check_thing<V: JsonValue>(v: &V, cx: &mut Validator) {
    if let Some(obj) = cx.object(v, false) {
        cx.required(obj, &["name"]);
        if let Some(v) = JsonObject::get(obj, "name") {
            cx.enter("name");
            cx.string(v, false);
            cx.leave();
        }
        cx.no_extra(obj, &["name"]);
    }
}

/// (body, what comes out: Ok(decoded) or the violations' (loc, type), or a 400)
#[test]
fn bodies_are_walked_then_decoded() {
    type Expect = Result<Option<Thing>, Result<Vec<(Vec<Loc>, &'static str)>, u16>>;
    let body = |key: &str| Loc::Key(key.to_owned().into());
    let thing = |name: &str| Thing { name: name.to_owned() };
    let cases: Vec<(&str, Expect)> = vec![
        (r#"{"name":"a"}"#, Ok(Some(thing("a")))),
        ("", Err(Err(400))),
        (r#"["name"]"#, Err(Ok(vec![(vec![body("body")], "object_type")]))),
        ("7", Err(Ok(vec![(vec![body("body")], "object_type")]))),
        (
            r#"{"name":1,"x":2}"#,
            Err(Ok(vec![
                (vec![body("body"), body("name")], "string_type"),
                (vec![body("body"), body("x")], "extra_forbidden"),
            ])),
        ),
        ("{}", Err(Ok(vec![(vec![body("body"), body("name")], "missing")]))),
        (r#"{"name":"a","name":"b"}"#, Err(Err(400))),
        // Keys and strings with escapes are read unescaped, duplicates included.
        (r#"{"na\u006de":"\u0061"}"#, Ok(Some(thing("a")))),
        (r#"{"name":"a","na\u006de":"b"}"#, Err(Err(400))),
        (
            r#"{"name":"\"","x\ty":2}"#,
            Err(Ok(vec![(vec![body("body"), body("x\ty")], "extra_forbidden")])),
        ),
        (r#"{"name":"a"} x"#, Err(Err(400))),
        (r#"{"name":"#, Err(Err(400))),
    ];
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (text, expect) in cases {
        let mut cx = Validator::new();
        let got = decode_json::<Thing>(&headers, text.as_bytes(), true, &mut cx, |v, cx| check_thing(v, cx));
        let got: Expect = match got {
            Err(rejection) => Err(Err(rejection.status().as_u16())),
            Ok(decoded) => match cx.finish() {
                Ok(()) => Ok(decoded),
                Err(rejection) => Err(Ok(rejection
                    .errors()
                    .iter()
                    .map(|Violation { loc, kind, .. }| (loc.clone(), *kind))
                    .collect())),
            },
        };
        assert_eq!(got, expect, "{text}");
    }
}

/// An untyped `enum` of several JSON types, and a 3.1 `type: 'null'` (no values, nullable): the violation's type and
/// message.
#[test]
fn literal_enums_and_null_only_values() {
    use crate::Literal;
    let several: &[Literal] = &[Literal::Bool(true), Literal::Integer(1), Literal::String("a")];
    /// (the value, nullable, the enum, the violation's type and message if any)
    type Case<'a> = (Value, bool, &'a [Literal], Option<(&'a str, &'a str)>);
    let cases: [Case<'_>; 6] = [
        (json!(1), false, several, None),
        (json!("a"), false, several, None),
        (json!(2), false, several, Some(("enum", "must be one of true, 1, 'a'"))),
        (json!(null), true, several, None),
        (json!(null), true, &[], None),
        (json!(0), true, &[], Some(("none_required", "must be null"))),
    ];
    for (value, nullable, allowed, expected) in cases {
        let mut cx = Validator::new();
        cx.one_of_literal(&value, nullable, allowed);
        let got = cx.finish().err().map(|rejection| {
            let violation = &rejection.errors()[0];
            (violation.kind, violation.msg.to_string())
        });
        let expected = expected.map(|(kind, msg)| (kind, msg.to_owned()));
        assert_eq!(got, expected, "{value} {allowed:?}");
    }
}

/// A `simple` object's text as pairs: keys and values alternating, or exploded `key=value` items.
#[test]
fn simple_objects_are_read_as_pairs() {
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let cases = [
        ("", false, vec![]),
        ("a,1,b,2", false, vec![pair("a", "1"), pair("b", "2")]),
        ("a,1,b", false, vec![pair("a", "1"), pair("b", "")]),
        ("a=1,b=x=y", true, vec![pair("a", "1"), pair("b", "x=y")]),
        ("a=1,b", true, vec![pair("a", "1"), pair("b", "")]),
    ];
    for (raw, explode, expected) in cases {
        assert_eq!(crate::simple_object(raw, explode), expected, "{raw} {explode}");
    }
}

#[test]
fn an_empty_optional_body_is_none() {
    let mut cx = Validator::new();
    let got = decode_json::<Thing>(&HeaderMap::new(), b"", false, &mut cx, |v, cx| check_thing(v, cx)).unwrap();
    assert_eq!(got, None);
    assert!(cx.finish().is_ok());
}

#[test]
fn the_preferred_media_type_follows_accept() {
    let offered = ["application/json", "text/plain", "application/pdf"];
    // (Accept, preferred)
    let cases = [
        (None, Some("application/json")),
        (Some("text/plain"), Some("text/plain")),
        (Some("text/*"), Some("text/plain")),
        (Some("application/pdf;q=0.9, text/plain;q=0.5"), Some("application/pdf")),
        (Some("*/*;q=0.1, text/plain"), Some("text/plain")),
        (Some("application/*"), Some("application/json")),
        (Some("image/png"), None),
        (Some("text/plain;q=0"), None),
    ];
    for (accept, preferred) in cases {
        let ctx = crate::Context {
            caller: (),
            request_id: RequestId::generate(),
            accept: accept.map(str::to_owned),
        };
        assert_eq!(ctx.preferred(&offered), preferred, "{accept:?}");
    }
}

/// A streamed body without a declared length: its chunks, then how it ends.
struct Streamed {
    chunks: std::collections::VecDeque<&'static [u8]>,
    then: End,
}

#[derive(Clone, Copy, Debug)]
enum End {
    Done,
    Fails,
    /// Never ends, like a client that stops sending.
    Hangs,
}

impl axum::body::HttpBody for Streamed {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(axum::body::Bytes::from_static(chunk)))));
        }
        match self.then {
            End::Done => Poll::Ready(None),
            End::Fails => Poll::Ready(Some(Err(std::io::Error::other("connection reset")))),
            End::Hangs => Poll::Pending,
        }
    }
}

fn streamed(chunks: &[&'static [u8]], then: End) -> axum::body::Body {
    axum::body::Body::new(Streamed {
        chunks: chunks.iter().copied().collect(),
        then,
    })
}

/// (case, body, drained): a body within the limit is read to its end; anything else is left for the answer to
/// close the connection on.
#[tokio::test]
async fn unused_bodies_are_drained_within_the_limit_or_closed_on() {
    use axum::body::Body;
    let config = crate::RouterConfig {
        body_limit: 8,
        drain_timeout: std::time::Duration::from_millis(50),
        ..crate::RouterConfig::default()
    };
    let cases: Vec<(&str, Body, bool)> = vec![
        ("no body", Body::empty(), true),
        ("declared, within the limit", Body::from("{}"), true),
        ("declared, exactly the limit", Body::from("12345678"), true),
        ("declared, over the limit", Body::from("123456789"), false),
        (
            "streamed, within the limit",
            streamed(&[b"1234", b"5678"], End::Done),
            true,
        ),
        (
            "streamed, over the limit",
            streamed(&[b"1234", b"56789"], End::Done),
            false,
        ),
        ("streamed, then a read error", streamed(&[b"12"], End::Fails), false),
        ("streamed, then nothing more", streamed(&[b"12"], End::Hangs), false),
    ];
    for (name, body, drained) in cases {
        let response = crate::answer_unread(Rejection::unauthorized("x").into_response(), body, &config).await;
        let close = response.headers().get("connection").is_some_and(|v| v == "close");
        assert_eq!(close, !drained, "{name}");
    }
}

/// (case, body, bytes read or the status of the refusal): every frame is read, in order, up to the limit.
#[tokio::test]
async fn bodies_are_read_whole_in_any_number_of_frames() {
    use axum::body::Body;
    // The bytes read, or the status of the refusal.
    type Read<'a> = Result<&'a [u8], u16>;
    let cases: Vec<(&str, Body, Read<'_>)> = vec![
        ("no body", Body::empty(), Ok(b"")),
        ("one frame", Body::from("{}"), Ok(b"{}")),
        ("declared, exactly the limit", Body::from("12345678"), Ok(b"12345678")),
        ("declared, over the limit", Body::from("123456789"), Err(413)),
        ("streamed, no frame", streamed(&[], End::Done), Ok(b"")),
        ("streamed, one frame", streamed(&[b"1234"], End::Done), Ok(b"1234")),
        (
            "streamed, two frames",
            streamed(&[b"1234", b"5678"], End::Done),
            Ok(b"12345678"),
        ),
        (
            "streamed, empty frames between",
            streamed(&[b"", b"12", b"", b"3", b"45"], End::Done),
            Ok(b"12345"),
        ),
        (
            "streamed, over the limit",
            streamed(&[b"1234", b"56789"], End::Done),
            Err(413),
        ),
        ("streamed, then a read error", streamed(&[b"12"], End::Fails), Err(400)),
    ];
    for (name, body, expected) in cases {
        let read = crate::read_body(body, 8).await;
        let read = read.as_ref().map(|bytes| &bytes[..]).map_err(|r| r.status().as_u16());
        assert_eq!(read, expected, "{name}");
    }
}

#[test]
fn credentials_never_show_their_secret_in_debug() {
    use crate::{Credential, Credentials};
    let credentials = Credentials::new(
        vec![
            Credential::Bearer {
                scheme: "bearer",
                token: "tok-SECRET".into(),
            },
            Credential::Basic {
                scheme: "basic",
                user: "ann".into(),
                password: "pw-SECRET".into(),
            },
            Credential::ApiKey {
                scheme: "key",
                name: "X-Key",
                value: "key-SECRET".into(),
            },
        ],
        vec!["read"],
    );
    let shown = format!("{credentials:?}");
    assert!(
        !shown.contains("SECRET") && shown.contains("ann") && shown.contains("X-Key"),
        "{shown}"
    );
    assert_eq!(credentials.bearer().unwrap(), "tok-SECRET");
    assert_eq!(credentials.get("key").map(Credential::scheme), Some("key"));
    let no_bearer = Credentials::from(Credential::ApiKey {
        scheme: "key",
        name: "X-Key",
        value: "v".into(),
    });
    assert_eq!(no_bearer.bearer().unwrap_err().status().as_u16(), 401);
}

/// The borrowed tree a JSON body is walked in reads every value as serde_json's `Value` does (a validator cannot
/// tell them apart), equality included, and refuses a repeated key however large the object.
#[test]
fn the_body_tree_reads_as_serde_json_values_do() {
    let texts = [
        "null",
        "true",
        "false",
        "0",
        "-0",
        "1",
        "1.0",
        "-1",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "-9223372036854775808",
        "1e3",
        "-2.5",
        r#""""#,
        r#""a\u00e9\n🔑""#,
        "[]",
        "[1,[2]]",
        "{}",
        r#"{"a":1,"b":[true,null]}"#,
        r#"{"b":[true,null],"a":1}"#,
        r#"{"a":1.0,"b":[true,null]}"#,
    ];
    let parse = |text: &'static str| {
        (
            serde_json::from_str::<Tree<'_>>(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap(),
        )
    };
    fn same<V: JsonValue, W: JsonValue>(a: &V, b: &W) -> bool {
        let objects = match (a.as_object(), b.as_object()) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                x.len() == y.len()
                    && x.entries()
                        .all(|(key, value)| y.get(key).is_some_and(|other| same(value, other)))
            }
            _ => false,
        };
        let arrays = match (a.as_array(), b.as_array()) {
            (None, None) => true,
            (Some(x), Some(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            _ => false,
        };
        a.is_null() == b.is_null()
            && a.as_str() == b.as_str()
            && a.as_i64() == b.as_i64()
            && a.as_u64() == b.as_u64()
            && a.as_f64().map(f64::to_bits) == b.as_f64().map(f64::to_bits)
            && a.as_bool() == b.as_bool()
            && objects
            && arrays
    }
    for text in texts {
        let (tree, value) = parse(text);
        assert!(same(&tree, &value), "{text}");
        for other in texts {
            let (other_tree, other_value) = parse(other);
            assert_eq!(tree == other_tree, value == other_value, "{text} == {other}");
        }
    }
    // A repeated key anywhere in objects small and large (past the linear check), nested or not.
    for size in [1, 2, 15, 16, 17, 40, 300] {
        let keys: Vec<String> = (0..size).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let object = format!("{{{}}}", keys.join(","));
        assert!(
            serde_json::from_str::<Tree<'_>>(&object).is_ok(),
            "{size} distinct keys"
        );
        for repeat in [0, size / 2, size - 1] {
            let again = format!(r#"{{{},"k{repeat}":0}}"#, keys.join(","));
            let err = serde_json::from_str::<Tree<'_>>(&again).unwrap_err();
            assert!(err.is_data(), "{size} keys, k{repeat} again: {err}");
            let nested = format!(r#"[{{"outer":{again}}}]"#);
            assert!(
                serde_json::from_str::<Tree<'_>>(&nested).unwrap_err().is_data(),
                "nested: {size}, k{repeat}"
            );
        }
    }
}

/// Each answer is counted under its route's operation (none for the fallbacks) and its status class, and timed.
#[test]
fn requests_are_counted_by_operation_and_status_class() {
    use axum::routing::get;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use tower::ServiceExt as _;

    use crate::layers::{StubState, metric};

    async fn panics() -> &'static str {
        panic!("the handler panics")
    }

    let routes = axum::Router::new()
        .route(
            "/ok",
            get(axum::handler::Handler::layer(
                || async { "fine" },
                crate::operation("get_ok"),
            ))
            .post(axum::handler::Handler::layer(
                || async { Rejection::conflict("taken").into_response() },
                crate::operation("post_ok"),
            )),
        )
        // A 5xx is answered again by the outer layer, with the request id: it keeps its operation.
        .route(
            "/fails",
            get(axum::handler::Handler::layer(
                || async { Rejection::internal("the store is down").into_response() },
                crate::operation("get_fails"),
            )),
        )
        // What panics never gives its answer to the operation's layer.
        .route(
            "/panics",
            get(axum::handler::Handler::layer(panics, crate::operation("get_panics"))),
        )
        .method_not_allowed_fallback(crate::method_not_allowed)
        .fallback(crate::not_found)
        .with_state(StubState::new(std::sync::Arc::new(()), Default::default()));
    let router = crate::layers(routes);
    let cases = [
        ("GET", "/ok", "get_ok", "2xx"),
        ("GET", "/ok", "get_ok", "2xx"),
        ("POST", "/ok", "post_ok", "4xx"),
        ("PUT", "/ok", "", "4xx"),
        ("GET", "/nowhere", "", "4xx"),
        ("GET", "/fails", "get_fails", "5xx"),
        ("GET", "/panics", "", "5xx"),
    ];
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            for (method, path, operation, _) in cases {
                let request = axum::http::Request::builder()
                    .method(method)
                    .uri(path)
                    .body(axum::body::Body::empty())
                    .unwrap();
                let response = router.clone().oneshot(request).await.unwrap();
                let marked = response.extensions().get::<crate::OperationId>().map(|id| id.0);
                assert_eq!(marked, Some(operation).filter(|o| !o.is_empty()), "{method} {path}");
            }
        })
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let value = |name: &str, operation: &str, status: &str| {
        snapshot.iter().find_map(|(key, _, _, value)| {
            let key = key.key();
            let labels: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
            (key.name() == name && labels == [("operation", operation), ("status", status)]).then_some(value)
        })
    };
    for (method, path, operation, status) in cases {
        let expected = cases.iter().filter(|c| c.2 == operation && c.3 == status).count() as u64;
        assert_eq!(
            value(metric::REQUESTS, operation, status),
            Some(&DebugValue::Counter(expected)),
            "{method} {path}"
        );
        match value(metric::DURATION, operation, status) {
            Some(DebugValue::Histogram(samples)) => assert_eq!(samples.len() as u64, expected, "{method} {path}"),
            other => panic!("{method} {path}: no duration histogram: {other:?}"),
        }
    }
}

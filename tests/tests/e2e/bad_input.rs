//! Hostile and malformed requests against the real server: each answers in the envelope and never echoes input.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::harness::Server;

const PATH: &str = "/api/v1/user/secrets/preset";
/// Stands for a fresh valid token in header values.
const TOKEN: &str = "{token}";
/// Distinctive enough that finding it in a response means the input was echoed.
const CANARY: &str = "sk-CANARY-7f3a9c";
const JSON: (&str, &str) = ("content-type", "application/json");
const AUTH: (&str, &str) = ("authorization", "Bearer {token}");

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Body,
    status: u16,
    kind: &'static str,
    /// The `loc` of the first error, for 422.
    loc: Option<&'static str>,
}

enum Body {
    Text(&'static str),
    Bytes(&'static [u8]),
    /// A valid body whose value has this many characters.
    ValueOfLength(usize),
    /// A JSON document of this many bytes.
    Huge(usize),
}

use Body::*;

const fn case(name: &'static str, body: Body, status: u16, kind: &'static str, loc: Option<&'static str>) -> Case {
    Case {
        name,
        method: "POST",
        path: PATH,
        headers: &[AUTH, JSON],
        body,
        status,
        kind,
        loc,
    }
}

const fn with_headers(mut case: Case, headers: &'static [(&'static str, &'static str)]) -> Case {
    case.headers = headers;
    case
}

const VALID: &str = r#"{"provider": "openai", "value": "sk-CANARY-7f3a9c"}"#;
const BAD: &str = "invalid_request_error";
const INVALID: &str = "validation_error";
const UNAUTH: &str = "authentication_error";

const CASES: &[Case] = &[
    // Not JSON, or not one JSON document: 400.
    case(
        "malformed json",
        Text(r#"{"provider": "openai", "value": sk-CANARY-7f3a9c}"#),
        400,
        BAD,
        None,
    ),
    case(
        "truncated json",
        Text(r#"{"provider": "openai", "value": "sk-CANARY-7f3a9c"#),
        400,
        BAD,
        None,
    ),
    case(
        "form encoded",
        Text("provider=openai&value=sk-CANARY-7f3a9c"),
        400,
        BAD,
        None,
    ),
    case("empty body", Text(""), 400, BAD, None),
    // Valid JSON that is not an object violates the schema: 422 at `loc: ["body"]`, as FastAPI answers.
    case(
        "array body",
        Text(r#"["openai", "sk-CANARY-7f3a9c"]"#),
        422,
        INVALID,
        Some("body"),
    ),
    case("string body", Text(r#""sk-CANARY-7f3a9c""#), 422, INVALID, Some("body")),
    case("number body", Text("42"), 422, INVALID, Some("body")),
    case("null body", Text("null"), 422, INVALID, Some("body")),
    case(
        "trailing bytes",
        Text(r#"{"provider": "openai", "value": "sk-CANARY-7f3a9c"} sk-CANARY-7f3a9c"#),
        400,
        BAD,
        None,
    ),
    case(
        "two objects",
        Text(r#"{"provider": "openai"}{"value": "sk-CANARY-7f3a9c"}"#),
        400,
        BAD,
        None,
    ),
    case(
        "invalid utf-8",
        Bytes(b"{\"provider\": \"openai\", \"value\": \"sk-CANARY-7f3a9c\xff\xfe\"}"),
        400,
        BAD,
        None,
    ),
    case(
        "duplicate keys",
        Text(r#"{"provider": "openai", "value": "sk-CANARY-7f3a9c", "value": "sk-CANARY-7f3a9c-2"}"#),
        400,
        BAD,
        None,
    ),
    // JSON of the wrong shape: 422, every violation, with loc.
    case(
        "provider is a number",
        Text(r#"{"provider": 1, "value": "sk-CANARY-7f3a9c"}"#),
        422,
        INVALID,
        Some("body.provider"),
    ),
    case(
        "provider is null",
        Text(r#"{"provider": null, "value": "sk-CANARY-7f3a9c"}"#),
        422,
        INVALID,
        Some("body.provider"),
    ),
    case(
        "value is a number",
        Text(r#"{"provider": "openai", "value": 7}"#),
        422,
        INVALID,
        Some("body.value"),
    ),
    case(
        "value is an object",
        Text(r#"{"provider": "openai", "value": {"k": "sk-CANARY-7f3a9c"}}"#),
        422,
        INVALID,
        Some("body.value"),
    ),
    case(
        "value is an array",
        Text(r#"{"provider": "openai", "value": ["sk-CANARY-7f3a9c"]}"#),
        422,
        INVALID,
        Some("body.value"),
    ),
    case(
        "unknown provider",
        Text(r#"{"provider": "sk-CANARY-7f3a9c", "value": "sk-CANARY-7f3a9c"}"#),
        422,
        INVALID,
        Some("body.provider"),
    ),
    case(
        "provider in capitals",
        Text(r#"{"provider": "OpenAI", "value": "sk-CANARY-7f3a9c"}"#),
        422,
        INVALID,
        Some("body.provider"),
    ),
    case(
        "missing provider",
        Text(r#"{"value": "sk-CANARY-7f3a9c"}"#),
        422,
        INVALID,
        Some("body.provider"),
    ),
    case(
        "missing value",
        Text(r#"{"provider": "openai"}"#),
        422,
        INVALID,
        Some("body.value"),
    ),
    case("empty object", Text("{}"), 422, INVALID, Some("body.provider")),
    case(
        "empty value",
        Text(r#"{"provider": "openai", "value": ""}"#),
        422,
        INVALID,
        Some("body.value"),
    ),
    case(
        "whitespace-only value",
        Text(r#"{"provider": "openai", "value": " \t "}"#),
        422,
        INVALID,
        Some("body.value"),
    ),
    case(
        "over-long value",
        ValueOfLength(16385),
        422,
        INVALID,
        Some("body.value"),
    ),
    case(
        "unknown field",
        Text(r#"{"provider": "openai", "value": "sk-CANARY-7f3a9c", "colour": 1}"#),
        422,
        INVALID,
        Some("body.colour"),
    ),
    // Size: the longest allowed value is served; a body over the limit is refused before it is read.
    case("longest allowed value", ValueOfLength(16384), 201, "", None),
    case("huge body", Huge(300_000), 413, "request_too_large_error", None),
    // Content types.
    with_headers(case("missing content type", Text(VALID), 400, BAD, None), &[AUTH]),
    with_headers(
        case("text/plain", Text(VALID), 400, BAD, None),
        &[AUTH, ("content-type", "text/plain")],
    ),
    with_headers(
        case("form content type", Text(VALID), 400, BAD, None),
        &[AUTH, ("content-type", "application/x-www-form-urlencoded")],
    ),
    with_headers(
        case("json with charset", Text(VALID), 201, "", None),
        &[AUTH, ("content-type", "application/json; charset=utf-8")],
    ),
    // Authorization.
    with_headers(case("no authorization", Text(VALID), 401, UNAUTH, None), &[JSON]),
    with_headers(
        case("no scheme", Text(VALID), 401, UNAUTH, None),
        &[("authorization", TOKEN), JSON],
    ),
    with_headers(
        case("lowercase scheme", Text(VALID), 201, "", None),
        &[("authorization", "bearer {token}"), JSON],
    ),
    with_headers(
        case("empty token", Text(VALID), 401, UNAUTH, None),
        &[("authorization", "Bearer "), JSON],
    ),
    with_headers(
        case("basic scheme", Text(VALID), 401, UNAUTH, None),
        &[("authorization", "Basic c2stQ0FOQVJZOng="), JSON],
    ),
    with_headers(
        case("two authorization headers", Text(VALID), 401, UNAUTH, None),
        &[AUTH, AUTH, JSON],
    ),
    with_headers(
        case("unknown token", Text(VALID), 401, UNAUTH, None),
        &[("authorization", "Bearer st_sk-CANARY-7f3a9c"), JSON],
    ),
    with_headers(
        case("non-ascii token", Text(VALID), 401, UNAUTH, None),
        &[("authorization", "Bearer st_\u{e9}t\u{e9}"), JSON],
    ),
    // api-version (this server serves 1.0.0 and later).
    with_headers(
        case("old api-version", Text(VALID), 426, "upgrade_required", None),
        &[AUTH, JSON, ("api-version", "0.9.0")],
    ),
    with_headers(
        case("current api-version", Text(VALID), 201, "", None),
        &[AUTH, JSON, ("api-version", "1.0.0")],
    ),
    with_headers(
        case("garbage api-version", Text(VALID), 400, BAD, None),
        &[AUTH, JSON, ("api-version", "sk-CANARY-7f3a9c")],
    ),
    // Routing.
    Case {
        path: "/api/v1/user/secrets/presets",
        ..case("unknown path", Text(VALID), 404, "not_found_error", None)
    },
    Case {
        path: "/api/v1/user/secrets/preset/",
        ..case("trailing slash", Text(VALID), 404, "not_found_error", None)
    },
    Case {
        path: "/",
        ..case("root", Text(VALID), 404, "not_found_error", None)
    },
    Case {
        method: "GET",
        ..case("GET", Text(""), 405, "method_not_allowed_error", None)
    },
    Case {
        method: "DELETE",
        ..case("DELETE", Text(VALID), 405, "method_not_allowed_error", None)
    },
    Case {
        method: "PUT",
        ..case("PUT", Text(VALID), 405, "method_not_allowed_error", None)
    },
];

#[tokio::test]
async fn bad_input_table() {
    assert!(CASES.len() >= 30);
    let server = Server::start_with(&["--rate-limit", "0", "--min-api-version", "1.0.0"]);
    let tokens = server.tokens("hostile", CASES.len());
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for (case, (_, token)) in CASES.iter().zip(&tokens) {
        let body: Vec<u8> = match &case.body {
            Text(text) => text.as_bytes().to_vec(),
            Bytes(bytes) => bytes.to_vec(),
            ValueOfLength(n) => {
                let value: String = CANARY.chars().cycle().take(*n).collect();
                serde_json::to_vec(&serde_json::json!({ "provider": "github", "value": value })).unwrap()
            }
            Huge(n) => format!(r#"{{"provider": "openai", "value": "{}"}}"#, "x".repeat(*n)).into_bytes(),
        };
        let mut headers = HeaderMap::new();
        for (name, value) in case.headers {
            let value = value.replace(TOKEN, token);
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
        }
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let response = http
            .request(method, format!("{}{}", server.url(), case.path))
            .headers(headers)
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(err) => {
                failures.push(format!("{}: no answer: {err}", case.name));
                continue;
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let mut check = |ok: bool, what: &str| {
            if !ok {
                failures.push(format!("{}: {what} (status {status}, body {text})", case.name));
            }
        };
        check(status == case.status, &format!("expected status {}", case.status));
        check(
            content_type.as_deref() == Some("application/json"),
            "content-type is not application/json",
        );
        check(!text.contains(CANARY), "the response echoes the submitted value");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if case.status == 201 {
            check(
                json["name"].is_string() && json.get("value").is_none(),
                "not the metadata",
            );
            continue;
        }
        check(
            json["code"] == case.status && json["type"] == case.kind,
            "wrong envelope code or type",
        );
        check(json["detail"].as_str().is_some_and(|d| !d.is_empty()), "no detail");
        if case.status == 405 {
            check(allow.as_deref() == Some("POST"), "no `Allow: POST`");
        }
        if let Some(loc) = case.loc {
            let first = json["errors"][0]["loc"].as_array().map(|parts| {
                parts
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
            });
            check(
                first.map(|parts| parts.join(".")).as_deref() == Some(loc),
                &format!("first loc is not {loc}"),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

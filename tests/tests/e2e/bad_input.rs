//! Hostile and malformed requests against the real server, for every path, method and body: each answers in the
//! envelope and never echoes input.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use secrets_client::types::Provider;

use crate::harness::{Server, create};

const PATH: &str = "/api/v1/user/secrets/preset";
const SECRETS: &str = "/api/v1/user/secrets";
/// In a path, stands for the id of a secret the case's own caller holds.
const MINE: &str = "/api/v1/user/secrets/{id}";
const UNKNOWN: &str = "/api/v1/user/secrets/3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90";
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
    /// The `Allow` header of a 405.
    allow: &'static str,
}

enum Body {
    Text(&'static str),
    /// A custom create whose name has this many characters.
    LongName(usize),
    /// An update whose value has this many characters.
    UpdateOfLength(usize),
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
        allow: "POST",
    }
}

/// A case against another path and method than the preset create's.
const fn at(mut case: Case, method: &'static str, path: &'static str) -> Case {
    case.method = method;
    case.path = path;
    case
}

const fn with_headers(mut case: Case, headers: &'static [(&'static str, &'static str)]) -> Case {
    case.headers = headers;
    case
}

const VALID: &str = r#"{"provider": "openai", "value": "sk-CANARY-7f3a9c"}"#;
const CUSTOM: &str = r#"{"name": "MY_SERVICE_TOKEN", "value": "sk-CANARY-7f3a9c"}"#;
const UPDATE: &str = r#"{"value": "sk-CANARY-7f3a9c-rotated"}"#;
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
        path: "/api/v1/user/secret/preset",
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
    // The custom create: a name is an environment-variable name, the provider optional but never null.
    at(case("custom create", Text(CUSTOM), 201, "", None), "POST", SECRETS),
    at(
        case(
            "custom create with a provider",
            Text(r#"{"name": "CI_GITHUB", "provider": "github", "value": "sk-CANARY-7f3a9c"}"#),
            201,
            "",
            None,
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, malformed",
            Text(r#"{"name": "A", "value": }"#),
            400,
            BAD,
            None,
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, no name",
            Text(r#"{"value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.name"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, lower-case name",
            Text(r#"{"name": "openai_api_key", "value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.name"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, name starts with a digit",
            Text(r#"{"name": "1PASSWORD", "value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.name"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, name with a dash",
            Text(r#"{"name": "MY-KEY", "value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.name"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, empty name",
            Text(r#"{"name": "", "value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.name"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, 129-character name",
            LongName(129),
            422,
            INVALID,
            Some("body.name"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case("custom create, 128-character name", LongName(128), 201, "", None),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, name is a number",
            Text(r#"{"name": 7, "value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.name"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, unknown provider",
            Text(r#"{"name": "MY_KEY", "provider": "gitlab", "value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.provider"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, null provider",
            Text(r#"{"name": "MY_KEY", "provider": null, "value": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.provider"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, no value",
            Text(r#"{"name": "MY_KEY"}"#),
            422,
            INVALID,
            Some("body.value"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, blank value",
            Text(r#"{"name": "MY_KEY", "value": "   "}"#),
            422,
            INVALID,
            Some("body.value"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, unknown field",
            Text(r#"{"name": "MY_KEY", "value": "sk-CANARY-7f3a9c", "note": "sk-CANARY-7f3a9c"}"#),
            422,
            INVALID,
            Some("body.note"),
        ),
        "POST",
        SECRETS,
    ),
    at(
        case("custom create, array body", Text("[]"), 422, INVALID, Some("body")),
        "POST",
        SECRETS,
    ),
    at(
        case(
            "custom create, huge body",
            Huge(300_000),
            413,
            "request_too_large_error",
            None,
        ),
        "POST",
        SECRETS,
    ),
    with_headers(
        at(
            case("custom create, no content type", Text(CUSTOM), 400, BAD, None),
            "POST",
            SECRETS,
        ),
        &[AUTH],
    ),
    // Reads.
    at(case("list", Text(""), 200, "", None), "GET", SECRETS),
    at(
        case("presets", Text(""), 200, "", None),
        "GET",
        "/api/v1/user/secrets/presets",
    ),
    at(case("get", Text(""), 200, "", None), "GET", MINE),
    with_headers(
        at(
            case("list, no authorization", Text(""), 401, UNAUTH, None),
            "GET",
            SECRETS,
        ),
        &[],
    ),
    with_headers(
        at(case("get, garbage api-version", Text(""), 400, BAD, None), "GET", MINE),
        &[AUTH, ("api-version", "sk-CANARY-7f3a9c")],
    ),
    with_headers(
        at(
            case("presets, old api-version", Text(""), 426, "upgrade_required", None),
            "GET",
            "/api/v1/user/secrets/presets",
        ),
        &[AUTH, ("api-version", "0.9.0")],
    ),
    // The by-id operations: a secret id is a UUID (422 at path.secret_id otherwise), and one nobody holds is 404.
    at(
        case("get, id not a uuid", Text(""), 422, INVALID, Some("path.secret_id")),
        "GET",
        "/api/v1/user/secrets/sk-CANARY-7f3a9c",
    ),
    at(
        case("get, numeric id", Text(""), 422, INVALID, Some("path.secret_id")),
        "GET",
        "/api/v1/user/secrets/42",
    ),
    at(
        case("delete, id not a uuid", Text(""), 422, INVALID, Some("path.secret_id")),
        "DELETE",
        "/api/v1/user/secrets/not-a-uuid",
    ),
    at(
        case(
            "update, id not a uuid",
            Text(UPDATE),
            422,
            INVALID,
            Some("path.secret_id"),
        ),
        "PUT",
        "/api/v1/user/secrets/not-a-uuid",
    ),
    at(
        case("get, unknown id", Text(""), 404, "not_found_error", None),
        "GET",
        UNKNOWN,
    ),
    at(
        case("update, unknown id", Text(UPDATE), 404, "not_found_error", None),
        "PUT",
        UNKNOWN,
    ),
    at(
        case("delete, unknown id", Text(""), 404, "not_found_error", None),
        "DELETE",
        UNKNOWN,
    ),
    at(
        case("get, upper-case id", Text(""), 404, "not_found_error", None),
        "GET",
        "/api/v1/user/secrets/2489E9AD-2EE2-8E00-8EC9-32D5F69181C0",
    ),
    at(case("update", Text(UPDATE), 200, "", None), "PUT", MINE),
    at(
        case("update, empty object", Text("{}"), 422, INVALID, Some("body.value")),
        "PUT",
        MINE,
    ),
    at(
        case(
            "update, empty value",
            Text(r#"{"value": ""}"#),
            422,
            INVALID,
            Some("body.value"),
        ),
        "PUT",
        MINE,
    ),
    at(
        case(
            "update, value is a number",
            Text(r#"{"value": 12345678}"#),
            422,
            INVALID,
            Some("body.value"),
        ),
        "PUT",
        MINE,
    ),
    at(
        case(
            "update, name is not updatable",
            Text(r#"{"value": "sk-CANARY-7f3a9c", "name": "OTHER"}"#),
            422,
            INVALID,
            Some("body.name"),
        ),
        "PUT",
        MINE,
    ),
    at(
        case(
            "update, over-long value",
            UpdateOfLength(16385),
            422,
            INVALID,
            Some("body.value"),
        ),
        "PUT",
        MINE,
    ),
    at(
        case("update, malformed", Text(r#"{"value": "#), 400, BAD, None),
        "PUT",
        MINE,
    ),
    at(
        case("update, huge body", Huge(300_000), 413, "request_too_large_error", None),
        "PUT",
        MINE,
    ),
    with_headers(
        at(case("update, text/plain", Text(UPDATE), 400, BAD, None), "PUT", MINE),
        &[AUTH, ("content-type", "text/plain")],
    ),
    at(case("delete", Text(""), 204, "", None), "DELETE", MINE),
    at(
        case("trailing slash on the list", Text(""), 404, "not_found_error", None),
        "GET",
        "/api/v1/user/secrets/",
    ),
    at(
        case("trailing slash after an id", Text(""), 404, "not_found_error", None),
        "GET",
        "/api/v1/user/secrets/3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90/",
    ),
    // Methods the new paths do not serve.
    Case {
        allow: "GET,HEAD,POST",
        ..at(
            case("DELETE the list", Text(""), 405, "method_not_allowed_error", None),
            "DELETE",
            SECRETS,
        )
    },
    Case {
        allow: "GET,HEAD,PUT,DELETE",
        ..at(
            case("PATCH a secret", Text(UPDATE), 405, "method_not_allowed_error", None),
            "PATCH",
            MINE,
        )
    },
    Case {
        allow: "GET,HEAD,PUT,DELETE",
        ..at(
            case("POST to a secret", Text(CUSTOM), 405, "method_not_allowed_error", None),
            "POST",
            UNKNOWN,
        )
    },
    Case {
        allow: "GET,HEAD",
        ..at(
            case("POST the presets", Text(VALID), 405, "method_not_allowed_error", None),
            "POST",
            "/api/v1/user/secrets/presets",
        )
    },
];

#[tokio::test]
async fn bad_input_table() {
    assert!(CASES.len() >= 90);
    let server = Server::start_with(&["--rate-limit", "0", "--min-api-version", "1.0.0"]);
    let tokens = server.tokens("hostile", CASES.len());
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for (case, (_, token)) in CASES.iter().zip(&tokens) {
        // Each case has a caller of its own; `{id}` is a secret that caller holds.
        let path = if case.path.contains("{id}") {
            let held = create(&server.client(token), Provider::Tinker, "sk-held-by-the-case")
                .await
                .unwrap();
            case.path.replace("{id}", &held.id.to_string())
        } else {
            case.path.to_owned()
        };
        let body: Vec<u8> = match &case.body {
            Text(text) => text.as_bytes().to_vec(),
            LongName(n) => {
                let name: String = std::iter::once('K').chain(std::iter::repeat('_')).take(*n).collect();
                serde_json::to_vec(&serde_json::json!({ "name": name, "value": CANARY })).unwrap()
            }
            UpdateOfLength(n) => {
                let value: String = CANARY.chars().cycle().take(*n).collect();
                serde_json::to_vec(&serde_json::json!({ "value": value })).unwrap()
            }
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
            .request(method, format!("{}{path}", server.url()))
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
        check(!text.contains(CANARY), "the response echoes the submitted value");
        if status == 204 {
            check(text.is_empty(), "a 204 with a body");
            continue;
        }
        check(
            content_type.as_deref() == Some("application/json"),
            "content-type is not application/json",
        );
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if (200..300).contains(&case.status) {
            let metadata = json["name"].is_string() || json["secrets"].is_array() || json["presets"].is_array();
            check(metadata && json.get("value").is_none(), "not the metadata");
            continue;
        }
        check(
            json["code"] == case.status && json["type"] == case.kind,
            "wrong envelope code or type",
        );
        check(json["detail"].as_str().is_some_and(|d| !d.is_empty()), "no detail");
        if case.status == 405 {
            check(
                allow.as_deref() == Some(case.allow),
                &format!("no `Allow: {}`", case.allow),
            );
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

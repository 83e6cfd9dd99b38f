//! The generated router end to end, through `tower::ServiceExt::oneshot`: every rejection class in the envelope,
//! the happy path, api-version, 405 `Allow`, panic recovery and request ids. A trivial in-memory implementation
//! stands in for the handler crate.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use secrets_server_stub::runtime::ApiVersion;
use secrets_server_stub::types::{
    CreateSecretRequest, PresetSecretRequest, Provider, ProviderPresetsResponse, SecretListResponse,
    UpdateSecretRequest, UserSecret, UserSecretProvider,
};
use secrets_server_stub::{
    Context, CreateSecretFromPresetResponse, CreateSecretResponse, Credentials, DeleteSecretPath, DeleteSecretResponse,
    GetProviderPresetsResponse, GetSecretPath, GetSecretResponse, ListSecretsResponse, Rejection, RequestId,
    RouterConfig, SecretsApi, UpdateSecretPath, UpdateSecretResponse,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const PATH: &str = "/api/v1/user/secrets/preset";
const CANARY: &str = "sk-SECRET-canary-123";
/// A value that makes the test implementation panic.
const PANIC: &str = "sk-SECRET-canary-123-panic";

#[derive(Default)]
struct InMemory {
    stored: Mutex<HashSet<(String, Provider)>>,
}

impl SecretsApi for InMemory {
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        match credentials.bearer()? {
            "good" => Ok("alice".to_owned()),
            "read-only" => Err(Rejection::forbidden(
                "this operation needs a token with the 'write' scope",
            )),
            "busy" => Err(Rejection::too_many_requests(2)),
            _ => Err(Rejection::unauthorized("unknown or revoked token")),
        }
    }

    async fn create_secret_from_preset(
        &self,
        ctx: Context<String>,
        body: PresetSecretRequest,
    ) -> Result<CreateSecretFromPresetResponse, Rejection> {
        assert!(
            body.value.expose_secret() != PANIC,
            "the test implementation was asked to panic"
        );
        let fresh = self.stored.lock().unwrap().insert((ctx.caller, body.provider));
        if !fresh {
            return Err(Rejection::conflict("a secret named OPENAI_API_KEY already exists"));
        }
        let now = chrono::Utc::now();
        Ok(CreateSecretFromPresetResponse::Created(UserSecret {
            id: uuid::Uuid::new_v4(),
            name: "OPENAI_API_KEY".to_owned(),
            provider: Some(match body.provider {
                Provider::Openai => UserSecretProvider::Openai,
                Provider::Anthropic => UserSecretProvider::Anthropic,
                Provider::Github => UserSecretProvider::Github,
                Provider::Tinker => UserSecretProvider::Tinker,
            }),
            masked_value: "sk-SE••••123".to_owned(),
            created_at: now,
            updated_at: now,
        }))
    }

    // The other operations only need to exist here: routing, extraction and validation are what this file tests.
    async fn list_secrets(&self, _ctx: Context<String>) -> Result<ListSecretsResponse, Rejection> {
        Ok(ListSecretsResponse::Ok(SecretListResponse {
            secrets: Vec::new(),
            total: 0,
        }))
    }

    async fn get_provider_presets(&self, _ctx: Context<String>) -> Result<GetProviderPresetsResponse, Rejection> {
        Ok(GetProviderPresetsResponse::Ok(ProviderPresetsResponse {
            presets: Vec::new(),
        }))
    }

    async fn create_secret(
        &self,
        _ctx: Context<String>,
        _body: CreateSecretRequest,
    ) -> Result<CreateSecretResponse, Rejection> {
        Err(Rejection::conflict("a secret with this name already exists"))
    }

    async fn get_secret(&self, _ctx: Context<String>, _path: GetSecretPath) -> Result<GetSecretResponse, Rejection> {
        Err(Rejection::not_found("no secret with this id"))
    }

    async fn update_secret(
        &self,
        _ctx: Context<String>,
        _path: UpdateSecretPath,
        _body: UpdateSecretRequest,
    ) -> Result<UpdateSecretResponse, Rejection> {
        Err(Rejection::not_found("no secret with this id"))
    }

    async fn delete_secret(
        &self,
        _ctx: Context<String>,
        _path: DeleteSecretPath,
    ) -> Result<DeleteSecretResponse, Rejection> {
        Ok(DeleteSecretResponse::NoContent)
    }
}

/// One request and what must come back.
struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    /// Raw header values so that malformed ones can be sent; `Authorization: Bearer good` and
    /// `Content-Type: application/json` are added unless the case names that header itself (an empty value: omit).
    headers: &'static [(&'static str, &'static [u8])],
    body: String,
    min_api_version: Option<&'static str>,
    status: u16,
    /// The envelope's `type`; `None` for success.
    kind: Option<&'static str>,
    /// `(loc, type)` of violations that must be listed.
    errors: &'static [(&'static str, &'static str)],
    /// Whether the answer says `Connection: close`: only when the body was not read and cannot be drained.
    close: bool,
}

fn ok_body() -> String {
    json!({ "provider": "openai", "value": CANARY }).to_string()
}

fn case(name: &'static str, status: u16, kind: Option<&'static str>) -> Case {
    Case {
        name,
        method: "POST",
        path: PATH,
        headers: &[],
        body: ok_body(),
        min_api_version: None,
        status,
        kind,
        errors: &[],
        close: false,
    }
}

/// A body over the default limit of 262144 bytes.
fn over_the_limit() -> String {
    json!({ "provider": "openai", "value": CANARY.repeat(20_000) }).to_string()
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: axum::Router, case: &Case) -> Answer {
    let mut request = Request::builder().method(case.method).uri(case.path);
    let named = |name: &str| case.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !named("authorization") {
        request = request.header("authorization", "Bearer good");
    }
    if !named("content-type") {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in case.headers.iter().filter(|(_, value)| !value.is_empty()) {
        request = request.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    let response = app
        .oneshot(request.body(Body::from(case.body.clone())).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

fn app(min_api_version: Option<&str>) -> axum::Router {
    let config = RouterConfig {
        min_api_version: min_api_version.map(|v| ApiVersion::parse(v).unwrap()),
        ..RouterConfig::default()
    };
    secrets_server_stub::router(Arc::new(InMemory::default()), config)
}

fn check(case: &Case, answer: &Answer) {
    let name = case.name;
    assert_eq!(answer.status.as_u16(), case.status, "{name}: {}", answer.body);
    assert!(answer.headers.contains_key("x-request-id"), "{name}: no x-request-id");
    assert!(
        !answer.body.contains("SECRET"),
        "{name}: the response echoes the submitted value: {}",
        answer.body
    );
    if case.status == 405 {
        assert_eq!(answer.headers["allow"], "POST", "{name}");
    }
    let close = answer.headers.get("connection").is_some_and(|v| v == "close");
    assert_eq!(close, case.close, "{name}: Connection: close");
    let Some(kind) = case.kind else { return };
    assert_eq!(answer.headers["content-type"], "application/json", "{name}");
    let envelope: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(envelope["code"], case.status, "{name}: {envelope}");
    assert_eq!(envelope["type"], kind, "{name}: {envelope}");
    assert!(envelope["detail"].is_string(), "{name}: {envelope}");
    for (loc, kind) in case.errors {
        let loc: Value = serde_json::from_str(loc).unwrap();
        let listed = envelope["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["loc"] == loc && e["type"] == *kind);
        assert!(listed, "{name}: no {kind} at {loc} in {envelope}");
    }
    if !case.errors.is_empty() {
        assert_eq!(
            envelope["errors"].as_array().unwrap().len(),
            case.errors.len(),
            "{name}: {envelope}"
        );
    }
}

#[tokio::test]
async fn every_request_is_answered_as_documented() {
    let cases = [
        case("created", 201, None),
        Case {
            name: "bearer scheme is case-insensitive",
            headers: &[("authorization", b"bEaReR good")],
            ..case("", 201, None)
        },
        Case {
            name: "charset utf-8 is json",
            headers: &[("content-type", b"application/json; charset=utf-8")],
            ..case("", 201, None)
        },
        Case {
            name: "+json suffix is json",
            headers: &[("content-type", b"application/vnd.secrets+json")],
            ..case("", 201, None)
        },
        // 401: the token is checked before the body is read.
        Case {
            name: "no authorization",
            headers: &[("authorization", b"")],
            body: "not json".into(),
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "basic scheme",
            headers: &[("authorization", b"Basic Z29vZA==")],
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "no scheme",
            headers: &[("authorization", b"good")],
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "empty token",
            headers: &[("authorization", b"Bearer ")],
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "non-ascii token",
            headers: &[("authorization", b"Bearer g\xc3\xb6od")],
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "unknown token",
            headers: &[("authorization", b"Bearer nope")],
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "two authorization headers",
            headers: &[("authorization", b"Bearer good"), ("authorization", b"Bearer good")],
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "read-only token",
            headers: &[("authorization", b"Bearer read-only")],
            ..case("", 403, Some("permission_error"))
        },
        Case {
            name: "rate limited",
            headers: &[("authorization", b"Bearer busy")],
            ..case("", 429, Some("rate_limit_error"))
        },
        // 400: the body cannot be read as a JSON object.
        Case {
            name: "no content-type",
            headers: &[("content-type", b"")],
            ..case("", 400, Some("invalid_request_error"))
        },
        Case {
            name: "text content-type",
            headers: &[("content-type", b"text/plain")],
            ..case("", 400, Some("invalid_request_error"))
        },
        Case {
            name: "latin1 charset",
            headers: &[("content-type", b"application/json; charset=latin1")],
            ..case("", 400, Some("invalid_request_error"))
        },
        Case {
            name: "malformed json",
            body: format!(r#"{{"provider": "openai", "value": "{CANARY}"#),
            ..case("", 400, Some("invalid_request_error"))
        },
        Case {
            name: "bare word",
            body: CANARY.into(),
            ..case("", 400, Some("invalid_request_error"))
        },
        Case {
            name: "empty body",
            body: String::new(),
            ..case("", 400, Some("invalid_request_error"))
        },
        // Valid JSON that is not an object violates the schema: 422 at `loc: ["body"]`, as FastAPI answers.
        Case {
            name: "array body",
            body: format!("[{}]", ok_body()),
            errors: &[(r#"["body"]"#, "object_type")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "string body",
            body: format!("\"{CANARY}\""),
            errors: &[(r#"["body"]"#, "object_type")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "trailing bytes",
            body: format!("{} {CANARY}", ok_body()),
            ..case("", 400, Some("invalid_request_error"))
        },
        Case {
            name: "duplicate key",
            body: format!(r#"{{"provider": "openai", "value": "x", "value": "{CANARY}"}}"#),
            ..case("", 400, Some("invalid_request_error"))
        },
        Case {
            name: "bad api-version",
            headers: &[("api-version", b"one")],
            ..case("", 400, Some("invalid_request_error"))
        },
        // 422: every violation at once, with loc and a pydantic-style type.
        Case {
            name: "wrong enum and missing value",
            body: json!({ "provider": CANARY }).to_string(),
            errors: &[(r#"["body","provider"]"#, "enum"), (r#"["body","value"]"#, "missing")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "extra field",
            body: json!({ "provider": "openai", "value": "x", "note": CANARY }).to_string(),
            errors: &[(r#"["body","note"]"#, "extra_forbidden")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "wrong types",
            body: json!({ "provider": 7, "value": [CANARY] }).to_string(),
            errors: &[
                (r#"["body","provider"]"#, "string_type"),
                (r#"["body","value"]"#, "string_type"),
            ],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "null value",
            body: json!({ "provider": "openai", "value": null }).to_string(),
            errors: &[(r#"["body","value"]"#, "null_type")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "empty value",
            body: json!({ "provider": "openai", "value": "" }).to_string(),
            errors: &[(r#"["body","value"]"#, "string_too_short")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "value too long in characters",
            // 16384 characters is the limit; these are 16385 two-byte characters.
            body: json!({ "provider": "openai", "value": format!("{CANARY}{}", "é".repeat(16385 - CANARY.len())) })
                .to_string(),
            errors: &[(r#"["body","value"]"#, "string_too_long")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "empty object",
            body: "{}".into(),
            errors: &[
                (r#"["body","provider"]"#, "missing"),
                (r#"["body","value"]"#, "missing"),
            ],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "too large",
            body: over_the_limit(),
            close: true,
            ..case("", 413, Some("request_too_large_error"))
        },
        // The by-id operations: the id is a UUID or a 422 at `loc: ["path", "secret_id"]`; a valid one reaches the API.
        Case {
            name: "secret id is not a uuid",
            method: "GET",
            path: "/api/v1/user/secrets/sk-SECRET-not-a-uuid",
            errors: &[(r#"["path","secret_id"]"#, "uuid_parsing")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "update of a secret id that is not a uuid",
            method: "PUT",
            path: "/api/v1/user/secrets/42",
            body: json!({ "value": CANARY }).to_string(),
            errors: &[(r#"["path","secret_id"]"#, "uuid_parsing")],
            ..case("", 422, Some("validation_error"))
        },
        Case {
            name: "upper-case uuid",
            method: "GET",
            path: "/api/v1/user/secrets/2489E9AD-2EE2-8E00-8EC9-32D5F69181C0",
            ..case("", 404, Some("not_found_error"))
        },
        Case {
            name: "delete by id",
            method: "DELETE",
            path: "/api/v1/user/secrets/3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90",
            ..case("", 204, None)
        },
        // Answers sent before the body is read drain it, so the connection stays usable; one over the limit is
        // not read, and the answer says so.
        Case {
            name: "unknown token, body over the limit",
            headers: &[("authorization", b"Bearer nope")],
            body: over_the_limit(),
            close: true,
            ..case("", 401, Some("authentication_error"))
        },
        Case {
            name: "rate limited, body over the limit",
            headers: &[("authorization", b"Bearer busy")],
            body: over_the_limit(),
            close: true,
            ..case("", 429, Some("rate_limit_error"))
        },
        Case {
            name: "unknown path, body over the limit",
            path: "/api/v1/user/secret/preset",
            body: over_the_limit(),
            close: true,
            ..case("", 404, Some("not_found_error"))
        },
        Case {
            name: "wrong method, body over the limit",
            method: "PUT",
            body: over_the_limit(),
            close: true,
            ..case("", 405, Some("method_not_allowed_error"))
        },
        // The router's own answers.
        Case {
            name: "unknown path",
            path: "/api/v1/user/secret/preset",
            ..case("", 404, Some("not_found_error"))
        },
        Case {
            name: "trailing slash",
            path: "/api/v1/user/secrets/preset/",
            ..case("", 404, Some("not_found_error"))
        },
        Case {
            name: "wrong method",
            method: "GET",
            ..case("", 405, Some("method_not_allowed_error"))
        },
        Case {
            name: "wrong method, no token",
            method: "DELETE",
            headers: &[("authorization", b"")],
            ..case("", 405, Some("method_not_allowed_error"))
        },
        // api-version
        Case {
            name: "older api-version",
            headers: &[("api-version", b"0.9.0")],
            min_api_version: Some("1.0.0"),
            ..case("", 426, Some("upgrade_required"))
        },
        Case {
            name: "numeric, not lexical",
            headers: &[("api-version", b"1.9.0")],
            min_api_version: Some("1.10.0"),
            ..case("", 426, Some("upgrade_required"))
        },
        Case {
            name: "same api-version",
            headers: &[("api-version", b"1.0.0")],
            min_api_version: Some("1.0.0"),
            ..case("", 201, None)
        },
        Case {
            name: "newer api-version",
            headers: &[("api-version", b"1.2")],
            min_api_version: Some("1.0.0"),
            ..case("", 201, None)
        },
        Case {
            name: "no api-version",
            min_api_version: Some("1.0.0"),
            ..case("", 201, None)
        },
    ];
    for case in &cases {
        let answer = send(app(case.min_api_version), case).await;
        check(case, &answer);
        if case.status == 429 {
            assert_eq!(answer.headers["retry-after"], "2", "{}", case.name);
        }
        if case.status == 426 {
            assert!(
                answer.body.contains(case.min_api_version.unwrap()),
                "{}: {}",
                case.name,
                answer.body
            );
        }
    }
}

#[tokio::test]
async fn second_create_conflicts() {
    let app = app(None);
    let first = send(app.clone(), &case("first", 201, None)).await;
    check(&case("first", 201, None), &first);
    let created: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(created["name"], "OPENAI_API_KEY");
    let conflict = case("second", 409, Some("already_exists_error"));
    check(&conflict, &send(app, &conflict).await);
}

#[tokio::test]
async fn a_panic_is_a_500_and_the_server_keeps_serving() {
    let app = app(None);
    let panics = Case {
        body: json!({ "provider": "openai", "value": PANIC }).to_string(),
        // Whether the body had been read when the handler panicked is unknown, so the connection is not reused.
        close: true,
        ..case("panic", 500, Some("internal_error"))
    };
    let answer = send(app.clone(), &panics).await;
    check(&panics, &answer);
    let id = answer.headers["x-request-id"].to_str().unwrap();
    let envelope: Value = serde_json::from_str(&answer.body).unwrap();
    assert!(envelope["detail"].as_str().unwrap().contains(id), "{envelope}");
    let after = case("after the panic", 201, None);
    check(&after, &send(app, &after).await);
}

#[tokio::test]
async fn request_ids_are_kept_when_sane_and_replaced_otherwise() {
    let kept = Case {
        headers: &[("x-request-id", b"req-42.a_b")],
        ..case("sane id", 201, None)
    };
    assert_eq!(send(app(None), &kept).await.headers["x-request-id"], "req-42.a_b");
    let replaced = Case {
        headers: &[("x-request-id", b"has spaces and \"quotes\"")],
        ..case("odd id", 201, None)
    };
    let answer = send(app(None), &replaced).await;
    let id = answer.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

//! `serve --metrics-listen`: a scripted session of every kind of answer (created, read, listed, a 404, 401s, a 422,
//! a 409, an unknown route), then a scrape of `/metrics` that must count exactly those requests by operation and
//! status class, time each in the latency histogram, time each store call under the backend in use, and count the
//! token cache's hits and misses; and a taken metrics address refused at start with one line.
//!
//! On SQLite or, under `E2E_DATABASE=postgres`, on PostgreSQL.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::harness::Server;

/// Who a request presents itself as.
#[derive(Clone, Copy, Debug)]
enum Auth {
    /// The session's write token.
    Token,
    /// The same token with one character changed: its checksum fails before any lookup.
    Mangled,
    /// A well-formed token the database does not hold: looked up, then refused.
    Unknown,
    /// No credentials.
    Nothing,
}

/// One request of the session: method, path (`{id}` is the first created secret), credentials, body, the status
/// it must get, the operation it must be counted under, and the store calls it makes, in order.
struct Step {
    method: Method,
    path: &'static str,
    auth: Auth,
    body: Option<Value>,
    status: u16,
    operation: &'static str,
    store: &'static [&'static str],
}

fn step(
    method: Method,
    path: &'static str,
    auth: Auth,
    body: Option<Value>,
    status: u16,
    operation: &'static str,
    store: &'static [&'static str],
) -> Step {
    Step {
        method,
        path,
        auth,
        body,
        status,
        operation,
        store,
    }
}

fn session() -> Vec<Step> {
    let value = |v: &str| Some(json!({ "name": "METRICS_ONE", "value": v }));
    use Auth::*;
    const SECRETS: &str = "/api/v1/user/secrets";
    const ONE: &str = "/api/v1/user/secrets/{id}";
    #[rustfmt::skip]
    let steps = vec![
        step(Method::POST, SECRETS, Token, value("metrics-value-1"), 201, "create_secret", &["token_by_hash", "insert_secret"]),
        step(Method::POST, "/api/v1/user/secrets/preset", Token, Some(json!({ "provider": "openai", "value": "sk-metrics-value-2" })), 201, "create_secret_from_preset", &["token_by_hash", "insert_secret"]),
        step(Method::GET, ONE, Token, None, 200, "get_secret", &["token_by_hash", "secret"]),
        step(Method::GET, SECRETS, Token, None, 200, "list_secrets", &["token_by_hash", "list_secrets"]),
        step(Method::GET, "/api/v1/user/secrets/presets", Token, None, 200, "get_provider_presets", &["token_by_hash", "list_secrets"]),
        step(Method::PUT, ONE, Token, Some(json!({ "value": "metrics-value-3" })), 200, "update_secret", &["token_by_hash", "update_secret"]),
        step(Method::GET, "/api/v1/user/secrets/00000000-0000-4000-8000-000000000000", Token, None, 404, "get_secret", &["token_by_hash", "secret"]),
        step(Method::GET, SECRETS, Mangled, None, 401, "list_secrets", &[]),
        step(Method::GET, SECRETS, Nothing, None, 401, "list_secrets", &[]),
        step(Method::GET, SECRETS, Unknown, None, 401, "list_secrets", &["token_by_hash"]),
        step(Method::POST, SECRETS, Token, Some(json!({ "name": "not an env name", "value": "metrics-value-4" })), 422, "create_secret", &["token_by_hash"]),
        step(Method::POST, SECRETS, Token, value("metrics-value-5"), 409, "create_secret", &["token_by_hash", "insert_secret"]),
        step(Method::DELETE, ONE, Token, None, 204, "delete_secret", &["token_by_hash", "delete_secret"]),
        step(Method::GET, "/api/v1/nowhere", Nothing, None, 404, "", &[]),
    ];
    steps
}

/// A free loopback port (as the harness picks the API's).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The scrape as `series → value`, each series as rendered (`name{label="…",…}`).
async fn scrape(port: u16) -> (String, BTreeMap<String, f64>) {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.unwrap();
    let series = text
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            (series.to_owned(), value.parse().unwrap())
        })
        .collect();
    (text, series)
}

#[tokio::test]
async fn metrics_count_a_scripted_session_exactly() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_with(&["--rate-limit", "0", "--metrics-listen", &listen]);
    let backend = if server.is_postgres() { "postgres" } else { "sqlite" };
    let token = server.token("metrics-user", "write");
    let mut mangled = token.clone().into_bytes();
    let last = mangled.len() - 1;
    mangled[last] = if mangled[last] == b'A' { b'B' } else { b'A' };
    let mangled = String::from_utf8(mangled).unwrap();
    let unknown = secrets_handler::tokens::generate()
        .unwrap()
        .token
        .expose_secret()
        .to_owned();

    let client = reqwest::Client::new();
    let mut id = String::new();
    for (i, step) in session().iter().enumerate() {
        let path = step.path.replace("{id}", &id);
        let mut request = client.request(step.method.clone(), format!("{}{path}", server.url()));
        request = match step.auth {
            Auth::Token => request.bearer_auth(&token),
            Auth::Mangled => request.bearer_auth(&mangled),
            Auth::Unknown => request.bearer_auth(&unknown),
            Auth::Nothing => request,
        };
        if let Some(body) = &step.body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        assert_eq!(status, step.status, "step {i}: {} {path}: {body}", step.method);
        if id.is_empty() && status == 201 {
            id = body["id"].as_str().unwrap().to_owned();
        }
    }

    // What the session must have recorded, derived from its table.
    let steps = session();
    let mut requests: BTreeMap<(&str, String), u64> = BTreeMap::new();
    let mut calls: BTreeMap<&str, u64> = BTreeMap::new();
    for step in &steps {
        *requests
            .entry((step.operation, format!("{}xx", step.status / 100)))
            .or_default() += 1;
        for call in step.store {
            *calls.entry(call).or_default() += 1;
        }
    }
    // At start: the keyring is checked against the (empty) database; after the token's first use, its last use is
    // recorded once, off the request path.
    calls.extend([("known_key_ids", 1), ("check_keyring", 1), ("touch_token", 1)]);
    let lookups = calls["token_by_hash"];

    // The last-use write runs in a task of its own: wait for it to be timed.
    let touched = format!(r#"secrets_store_call_duration_seconds_count{{backend="{backend}",call="touch_token"}}"#);
    let started = Instant::now();
    let (text, series) = loop {
        let (text, series) = scrape(port).await;
        if series.contains_key(&touched) || started.elapsed() > Duration::from_secs(5) {
            break (text, series);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let value = |name: &str| series.get(name).copied();

    for ((operation, class), count) in &requests {
        let labels = format!(r#"operation="{operation}",status="{class}""#);
        let expected = Some(*count as f64);
        assert_eq!(
            value(&format!("http_requests_total{{{labels}}}")),
            expected,
            "{labels}\n{text}"
        );
        assert_eq!(
            value(&format!("http_request_duration_seconds_count{{{labels}}}")),
            expected,
            "{labels}\n{text}"
        );
        assert_eq!(
            value(&format!(
                r#"http_request_duration_seconds_bucket{{{labels},le="+Inf"}}"#
            )),
            expected,
            "{labels}\n{text}"
        );
    }
    let counted: Vec<&String> = series
        .keys()
        .filter(|s| s.starts_with("http_requests_total{"))
        .collect();
    assert_eq!(counted.len(), requests.len(), "no other request series: {counted:?}");

    for (call, count) in &calls {
        let labels = format!(r#"backend="{backend}",call="{call}""#);
        assert_eq!(
            value(&format!("secrets_store_call_duration_seconds_count{{{labels}}}")),
            Some(*count as f64),
            "{labels}\n{text}"
        );
    }
    let timed: Vec<&String> = series
        .keys()
        .filter(|s| s.starts_with("secrets_store_call_duration_seconds_count{"))
        .collect();
    assert_eq!(timed.len(), calls.len(), "no other store series: {timed:?}");

    let hits = value(r#"secrets_token_cache_lookups_total{result="hit"}"#).unwrap_or(0.0);
    let misses = value(r#"secrets_token_cache_lookups_total{result="miss"}"#).unwrap_or(0.0);
    assert_eq!(hits + misses, lookups as f64, "every lookup is a hit or a miss\n{text}");
    if server.is_postgres() {
        // The cache is trusted only while the epoch poller's last read is fresh, which a loaded machine may delay:
        // at least the first lookup of each token misses.
        assert!(misses >= 2.0, "{text}");
    } else {
        // The first lookup of the session's token and of the unknown one miss; every later one hits.
        assert_eq!((hits, misses), ((lookups - 2) as f64, 2.0), "{text}");
    }

    for secret in [
        token.as_str(),
        mangled.as_str(),
        unknown.as_str(),
        "METRICS_ONE",
        "OPENAI_API_KEY",
        "metrics-value",
        "sk-metrics",
        "metrics-user",
    ] {
        assert!(!text.contains(secret), "the scrape shows {secret:?}");
    }
}

/// A metrics address already taken stops the start with one line that names it, before anything is served.
#[test]
fn a_taken_metrics_address_is_refused_at_start() {
    let server = Server::start();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let api = format!("127.0.0.1:{}", free_port());
    let out = server
        .command(&["serve", "--listen", &api, "--metrics-listen", &addr])
        .arg("--key-file")
        .arg(server.key_file())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("error: cannot serve metrics on {addr}: ")),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
}

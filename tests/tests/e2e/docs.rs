//! The API reference beside the API: the document the server was generated from, and `/docs` rendered by Redoc in
//! a real browser (headless Chromium), without a token and with nothing fetched from elsewhere.

use std::process::Command;
use std::time::Duration;

use secrets_handler::docs::OPENAPI_YAML;
use serde_json::Value;

use crate::harness::Server;

/// The spec, as the test reads it (not as the server serves it).
fn spec() -> Value {
    serde_yaml::from_str(OPENAPI_YAML).expect("openapi.yaml parses")
}

/// A served path: its content type, and whether its body is the expected one.
type Served = (&'static str, &'static str, fn(&[u8]) -> bool);

async fn get(server: &Server, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", server.url())).await.unwrap()
}

#[tokio::test]
async fn the_document_and_the_reference_are_served_without_a_token() {
    let server = Server::start();
    // (path, content type, what the body must be)
    let cases: [Served; 4] = [
        ("/openapi.yaml", "application/yaml", |body| {
            body == OPENAPI_YAML.as_bytes()
        }),
        ("/openapi.json", "application/json", |body| {
            serde_json::from_slice::<Value>(body).unwrap() == spec()
        }),
        ("/docs", "text/html; charset=utf-8", |body| {
            String::from_utf8_lossy(body).contains(r#"<redoc spec-url="/openapi.json"></redoc>"#)
        }),
        ("/docs/redoc.standalone.js", "text/javascript; charset=utf-8", |body| {
            body == include_bytes!("../../../crates/secrets-handler/assets/redoc/redoc.standalone.js")
        }),
    ];
    for (path, content_type, body_ok) in cases {
        let response = get(&server, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        assert!(response.headers().contains_key("x-request-id"), "{path}");
        let csp = response.headers().get("content-security-policy").cloned();
        assert!(body_ok(&response.bytes().await.unwrap()), "{path}: unexpected body");
        if path == "/docs" {
            let csp = csp.expect("the page has a content security policy");
            assert!(csp.to_str().unwrap().starts_with("default-src 'self'"), "{csp:?}");
        }
    }
}

#[tokio::test]
async fn without_docs_those_paths_are_not_found_and_other_methods_are_405() {
    let server = Server::start_with(&["--rate-limit", "0", "--no-docs"]);
    for path in ["/docs", "/openapi.json", "/openapi.yaml", "/docs/redoc.standalone.js"] {
        let response = get(&server, path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["type"], "not_found_error", "{path}");
    }
    let server = Server::start();
    let response = reqwest::Client::new()
        .post(format!("{}/docs", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET,HEAD");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "method_not_allowed_error");
}

/// Chromium under its Debian and other common names, or `CHROMIUM`.
fn chromium() -> Option<String> {
    let candidates = std::env::var("CHROMIUM")
        .into_iter()
        .chain(["chromium", "chromium-browser", "google-chrome"].map(String::from));
    candidates.into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    })
}

#[test]
fn chromium_renders_every_operation_summary() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: install chromium (.ci/run does)"
        );
        eprintln!("SKIPPED chromium_renders_every_operation_summary: no chromium on PATH (set CHROMIUM to its path)");
        return;
    };
    let server = Server::start();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .args([
            "120",
            &chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        // Virtual time runs the page's scripts (Redoc fetches /openapi.json and renders) before the DOM is dumped.
        .args([
            "--virtual-time-budget=20000",
            "--dump-dom",
            &format!("{}/docs", server.url()),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout)
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        .replace("&quot;", "\"");
    let spec = spec();
    let mut summaries = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(summary) = operation.get("summary").and_then(Value::as_str) {
                summaries.push(summary.to_owned());
            }
        }
    }
    assert_eq!(summaries.len(), 7, "every operation has a summary");
    let missing: Vec<&String> = summaries.iter().filter(|s| !dom.contains(s.as_str())).collect();
    assert!(
        missing.is_empty(),
        "not rendered: {missing:?}\n(the page has {} bytes)",
        dom.len()
    );
    // Redoc fetched the document from this server: its request is in the access log.
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        server.logs().contains("path=/openapi.json"),
        "Redoc did not fetch /openapi.json"
    );
}

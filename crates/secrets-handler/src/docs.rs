//! The API reference the server publishes beside the API: the OpenAPI document it was generated from
//! (`/openapi.yaml`, `/openapi.json`) and an HTML reference rendered from it by Redoc (`/docs`), all served from the
//! binary. Unauthenticated, outside the spec's operations, and off with `--no-docs`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrets_server_stub::RouterConfig;

/// The document the client and the stub were generated from (`cargo xtask codegen --check` keeps them in step).
pub const OPENAPI_YAML: &str = include_str!("../../../openapi.yaml");

/// Redoc's standalone bundle, vendored from npm (`assets/redoc/VERSION`; `assets/redoc/update.sh --check` proves
/// the bytes are the registry's).
const REDOC_JS: &str = include_str!("../assets/redoc/redoc.standalone.js");

/// The reference page: Redoc reads `/openapi.json` from this server.
const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>user-secrets API reference</title>
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"#;

/// Everything the page may load comes from this server; Redoc needs inline styles, `data:` images and a worker
/// from a `blob:` URL for its search index.
const DOCS_CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                        font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; \
                        frame-ancestors 'none'";

/// The spec as JSON, converted once at start-up.
#[derive(Debug, thiserror::Error)]
#[error("the embedded openapi.yaml does not convert to JSON")]
pub struct DocsError(#[source] serde_yaml::Error);

/// The reference's routes, wrapped like the API's (request id, span, panics) and answering 405 in the envelope.
pub fn routes(config: Arc<RouterConfig>) -> Result<Router, DocsError> {
    let document: serde_json::Value = serde_yaml::from_str(OPENAPI_YAML).map_err(DocsError)?;
    // Bytes: each answer shares the one rendering instead of copying it.
    let json = Bytes::from(serde_json::to_vec_pretty(&document).expect("a Value from YAML serialises"));
    let routes = Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move { answer("application/json", json) }
            }),
        )
        .route(
            "/openapi.yaml",
            get(|| async { answer("application/yaml", OPENAPI_YAML) }),
        )
        .route(
            "/docs",
            get(|| async {
                let mut response = answer("text/html; charset=utf-8", DOCS_HTML);
                response
                    .headers_mut()
                    .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
                response
            }),
        )
        .route(
            "/docs/redoc.standalone.js",
            get(|| async { answer("text/javascript; charset=utf-8", REDOC_JS) }),
        )
        .method_not_allowed_fallback(move |request: Request| {
            secrets_server_stub::runtime::method_not_allowed(axum::extract::State(Arc::clone(&config)), request)
        });
    Ok(secrets_server_stub::runtime::layers(routes))
}

fn answer(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut response = body.into().into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The document changes with the binary only; revalidating keeps a browser from showing a stale one.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

//! Drives the stub of codesearch-debian at run time: both searches require an API key in the `x-dcs-apikey` header.
//! `authenticate` refuses unknown keys (401 in the envelope); the operation answers the spec's own 403, without a
//! body, for a key that has expired, and echoes the query and the caller otherwise.
//!
//! Kinds: api key in header

mod support;

use std::sync::Arc;

use corpus_codesearch_debian::{self as stub, types};
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, answers_empty, check, get, invalid, rejected};

struct Trivial;

impl stub::Api for Trivial {
    /// The key, when it is one of ours.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        match credentials.get("api_key") {
            Some(Credential::ApiKey { name, value, .. }) if *name == "x-dcs-apikey" && value.starts_with("dcs-") => {
                Ok(value.clone())
            }
            _ => Err(Rejection::unauthorized("unknown API key")),
        }
    }

    /// One result whose context is the query and whose package is the caller's key.
    async fn search(&self, ctx: Context<String>, query: stub::SearchQuery) -> Result<stub::SearchResponse, Rejection> {
        if ctx.caller == "dcs-expired" {
            return Ok(stub::SearchResponse::Forbidden);
        }
        Ok(stub::SearchResponse::Ok(vec![result(&ctx.caller, query.query)]))
    }

    async fn searchperpackage(
        &self,
        ctx: Context<String>,
        query: stub::SearchperpackageQuery,
    ) -> Result<stub::SearchperpackageResponse, Rejection> {
        Ok(stub::SearchperpackageResponse::Ok(vec![types::PackageSearchResult {
            package: "by-package".to_owned(),
            results: vec![result(&ctx.caller, query.query)],
        }]))
    }
}

fn result(package: &str, context: String) -> types::SearchResult {
    types::SearchResult {
        context,
        context_after: Vec::new(),
        context_before: Vec::new(),
        line: 1,
        package: package.to_owned(),
        path: "debian/control".to_owned(),
    }
}

/// An answered result: typify leaves out the optional arrays when they are empty.
fn found(package: &str, context: &str) -> serde_json::Value {
    serde_json::json!({
        "context": context,
        "line": 1,
        "package": package,
        "path": "debian/control",
    })
}

const KEY: &str = "x-dcs-apikey";

#[tokio::test]
async fn api_key_header_accepted_or_refused() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "a known key, the query decoded",
            get("/search?query=who+knows%2E%2E%2E").header(KEY, "dcs-1"),
            answers(200, serde_json::json!([found("dcs-1", "who knows...")])),
        ),
        (
            "the other operation, with the same key",
            get("/searchperpackage?query=i3").header(KEY, "dcs-2"),
            answers(
                200,
                serde_json::json!([{ "package": "by-package", "results": [found("dcs-2", "i3")] }]),
            ),
        ),
        (
            "an expired key: the spec's 403",
            get("/search?query=x").header(KEY, "dcs-expired"),
            answers_empty(403),
        ),
        (
            "a key authenticate refuses",
            get("/search?query=x").header(KEY, "stolen"),
            rejected(401, "authentication_error"),
        ),
        ("no key", get("/search?query=x"), rejected(401, "authentication_error")),
        (
            "no key, and no query either",
            get("/search"),
            rejected(401, "authentication_error"),
        ),
        (
            "an empty key",
            get("/search?query=x").header(KEY, ""),
            rejected(401, "authentication_error"),
        ),
        (
            "the key twice",
            get("/search?query=x").header(KEY, "dcs-1").header(KEY, "dcs-2"),
            rejected(401, "authentication_error"),
        ),
        (
            "the key as a bearer token",
            get("/search?query=x").bearer("dcs-1"),
            rejected(401, "authentication_error"),
        ),
        (
            "the required query missing",
            get("/search").header(KEY, "dcs-1"),
            invalid(&[r#"["query","query"]"#]),
        ),
    ];
    check(&app, cases).await;
}

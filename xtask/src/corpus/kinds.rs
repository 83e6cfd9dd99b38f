//! The kinds of operation a spec contains that a drive test must send a request of: form and multipart bodies,
//! range and `default` responses, and each security scheme kind its operations require.

use std::collections::BTreeSet;
use std::fmt;

use anyhow::{Result, anyhow};
use serde_json::Value;

/// One kind, in the order `docs/corpus.md` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    FormBody,
    MultipartBody,
    RangeStatus,
    DefaultResponse,
    HttpBearer,
    HttpBasic,
    /// Any other HTTP `Authorization` scheme (`Digest`, OAuth 1.0a's `OAuth`, …).
    HttpOther,
    ApiKeyHeader,
    ApiKeyQuery,
    ApiKeyCookie,
    OAuth2,
    OpenIdConnect,
    /// A TLS client certificate (3.1's `mutualTLS`), which the router counts presented.
    MutualTls,
}

impl Kind {
    const ALL: [Kind; 13] = [
        Kind::FormBody,
        Kind::MultipartBody,
        Kind::RangeStatus,
        Kind::DefaultResponse,
        Kind::HttpBearer,
        Kind::HttpBasic,
        Kind::HttpOther,
        Kind::ApiKeyHeader,
        Kind::ApiKeyQuery,
        Kind::ApiKeyCookie,
        Kind::OAuth2,
        Kind::OpenIdConnect,
        Kind::MutualTls,
    ];

    /// The name in `docs/corpus.md` and on a drive file's `//! Kinds:` line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::FormBody => "form body",
            Kind::MultipartBody => "multipart body",
            Kind::RangeStatus => "range status",
            Kind::DefaultResponse => "default response",
            Kind::HttpBearer => "http bearer",
            Kind::HttpBasic => "http basic",
            Kind::HttpOther => "other http scheme",
            Kind::ApiKeyHeader => "api key in header",
            Kind::ApiKeyQuery => "api key in query",
            Kind::ApiKeyCookie => "api key in cookie",
            Kind::OAuth2 => "oauth2",
            Kind::OpenIdConnect => "openIdConnect",
            Kind::MutualTls => "mutual TLS",
        }
    }

    pub(crate) fn parse(name: &str) -> Result<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|kind| kind.name()).collect();
            anyhow!("unknown kind `{name}`; the kinds are: {}", names.join(", "))
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every kind the spec's operations contain. Security counts only the schemes some operation requires (its own
/// `security`, else the document's), as a scheme nobody requires is never read.
pub(crate) fn spec_kinds(doc: &Value) -> BTreeSet<Kind> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut kinds = BTreeSet::new();
    let operations = doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .map(|item| resolve(doc, item))
        .flat_map(|item| METHODS.iter().filter_map(|method| item.get(*method)));
    for operation in operations {
        let media = operation
            .get("requestBody")
            .map(|body| resolve(doc, body))
            .and_then(|body| body.get("content"))
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|content| content.keys());
        for media in media {
            let media = media.to_ascii_lowercase();
            if media == "application/x-www-form-urlencoded" {
                kinds.insert(Kind::FormBody);
            } else if media.starts_with("multipart/") {
                kinds.insert(Kind::MultipartBody);
            }
        }
        let statuses = operation
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|responses| responses.keys());
        for status in statuses {
            if status == "default" {
                kinds.insert(Kind::DefaultResponse);
            } else if matches!(status.as_bytes(), [b'1'..=b'5', b'X' | b'x', b'X' | b'x']) {
                kinds.insert(Kind::RangeStatus);
            }
        }
        let requirements = operation
            .get("security")
            .or_else(|| doc.get("security"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object);
        for name in requirements.flat_map(|requirement| requirement.keys()) {
            let scheme = doc
                .pointer("/components/securitySchemes")
                .and_then(|schemes| schemes.get(name))
                .map(|scheme| resolve(doc, scheme));
            if let Some(kind) = scheme.and_then(scheme_kind) {
                kinds.insert(kind);
            }
        }
    }
    kinds
}

fn scheme_kind(scheme: &Value) -> Option<Kind> {
    let field = |name: &str| scheme.get(name).and_then(Value::as_str);
    match field("type")? {
        "http" => match field("scheme")?.to_ascii_lowercase().as_str() {
            "bearer" => Some(Kind::HttpBearer),
            "basic" => Some(Kind::HttpBasic),
            _ => Some(Kind::HttpOther),
        },
        "apiKey" => match field("in")? {
            "header" => Some(Kind::ApiKeyHeader),
            "query" => Some(Kind::ApiKeyQuery),
            "cookie" => Some(Kind::ApiKeyCookie),
            _ => None,
        },
        "oauth2" => Some(Kind::OAuth2),
        "openIdConnect" => Some(Kind::OpenIdConnect),
        "mutualTLS" => Some(Kind::MutualTls),
        _ => None,
    }
}

/// The object a local `$ref` points to (JSON pointer escapes as written), or the value itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix('#'))
        .and_then(|pointer| doc.pointer(pointer))
        .unwrap_or(value)
}

//! Security at run time: every scheme kind reaches `authenticate` as a typed credential; alternatives, requirements
//! naming two schemes, optional security and `security: []` (with an `Authorization` header parameter passed
//! through); missing and malformed credentials are 401s in the envelope.

use std::sync::Arc;

use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};

use super::call;
use crate::fixtures::{security_alternatives as alternatives, security_schemes as schemes};

struct Fixture;

/// Every credential as `scheme:what:secret`, then the requirement's scopes; a secret `bad` is refused, as an
/// unknown token would be.
fn caller(credentials: &Credentials) -> Result<String, Rejection> {
    let mut read = Vec::new();
    for credential in credentials.iter() {
        read.push(match credential {
            Credential::Bearer { scheme, token } => format!("{scheme}:bearer:{token}"),
            Credential::Basic { scheme, user, password } => format!("{scheme}:basic:{user}:{password}"),
            Credential::Http {
                scheme,
                auth_scheme,
                credentials,
            } => format!("{scheme}:{auth_scheme}:{credentials}"),
            Credential::ApiKey { scheme, name, value } => format!("{scheme}:{name}:{value}"),
            Credential::MutualTls { scheme } => format!("{scheme}:mutual-tls"),
        });
    }
    if read.iter().any(|r| r.ends_with(":bad")) {
        return Err(Rejection::unauthorized("unknown credential"));
    }
    Ok(format!("{} [{}]", read.join(" + "), credentials.scopes().join(" ")))
}

macro_rules! who {
    ($module:ident, $($method:ident => $variant:ident),* $(,)?) => {
        $(
            async fn $method(&self, ctx: Context<String>) -> Result<$module::$variant, Rejection> {
                Ok($module::$variant::Ok($module::types::Who { caller: ctx.caller }))
            }
        )*
    };
}

impl schemes::Api for Fixture {
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        caller(&credentials)
    }

    who!(schemes,
        with_bearer => WithBearerResponse,
        with_basic => WithBasicResponse,
        with_header_key => WithHeaderKeyResponse,
        with_cookie_key => WithCookieKeyResponse,
        with_oauth => WithOauthResponse,
        with_oidc => WithOidcResponse,
        with_digest => WithDigestResponse,
    );

    async fn with_query_key(
        &self,
        ctx: Context<String>,
        query: schemes::WithQueryKeyQuery,
    ) -> Result<schemes::WithQueryKeyResponse, Rejection> {
        let caller = format!("{} page {:?}", ctx.caller, query.page);
        Ok(schemes::WithQueryKeyResponse::Ok(schemes::types::Who { caller }))
    }
}

impl alternatives::Api for Fixture {
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        caller(&credentials)
    }

    who!(alternatives, either => EitherResponse, both => BothResponse);

    async fn maybe(&self, ctx: Context<Option<String>>) -> Result<alternatives::MaybeResponse, Rejection> {
        let caller = ctx.caller.unwrap_or_else(|| "anonymous".to_owned());
        Ok(alternatives::MaybeResponse::Ok(alternatives::types::Who { caller }))
    }

    async fn open(
        &self,
        _ctx: Context<()>,
        headers: alternatives::OpenHeaders,
    ) -> Result<alternatives::OpenResponse, Rejection> {
        let caller = format!("header {:?}", headers.authorization);
        Ok(alternatives::OpenResponse::Ok(alternatives::types::Who { caller }))
    }
}

/// `user:pw`, base64.
const BASIC: &str = "Basic dXNlcjpwdw==";

/// One character more than the `Authorization` parameter's `maxLength`.
const TOO_LONG: &str = "Custom aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// (request line, headers, status, the caller on 200 or the envelope's `detail` otherwise).
type Case = (&'static str, &'static [(&'static str, &'static str)], u16, &'static str);

async fn check(app: axum::Router, cases: &[Case]) {
    for (line, headers, status, expected) in cases {
        let (method, uri) = line.split_once(' ').unwrap();
        let (got, body) = call(app.clone(), method, uri, headers, None).await;
        let text = if got == 200 { &body["caller"] } else { &body["detail"] };
        assert_eq!(
            (got, text.as_str().unwrap_or("")),
            (*status, *expected),
            "{line} {headers:?}: {body}"
        );
        if got == 401 {
            assert_eq!(body["type"], "authentication_error", "{line}");
        }
    }
}

#[tokio::test]
async fn every_scheme_kind_reaches_authenticate_as_a_typed_credential() {
    let app = schemes::router(Arc::new(Fixture), RouterConfig::default());
    check(
        app,
        &[
            (
                "GET /bearer",
                &[("authorization", "Bearer t1")],
                200,
                "bearer:bearer:t1 []",
            ),
            (
                "GET /bearer",
                &[("authorization", "bearer t1")],
                200,
                "bearer:bearer:t1 []",
            ),
            (
                "GET /bearer",
                &[],
                401,
                "missing bearer token in the Authorization header",
            ),
            (
                "GET /bearer",
                &[("authorization", BASIC)],
                401,
                "the Authorization header must be `Bearer <token>`",
            ),
            (
                "GET /bearer",
                &[("authorization", "Bearer bad")],
                401,
                "unknown credential",
            ),
            ("GET /basic", &[("authorization", BASIC)], 200, "basic:basic:user:pw []"),
            (
                "GET /basic",
                &[("authorization", "Basic !!")],
                401,
                "the Authorization header must be `Basic <base64 of user:password>`",
            ),
            (
                "GET /basic",
                &[("authorization", "Basic dXNlcg==")],
                401,
                "the Authorization header must be `Basic <base64 of user:password>`",
            ),
            (
                "GET /digest",
                &[(
                    "authorization",
                    r#"Digest username="u", realm="r", response="6629fae4""#,
                )],
                200,
                r#"digest:Digest:username="u", realm="r", response="6629fae4" []"#,
            ),
            (
                "GET /digest",
                &[("authorization", "digest  a=1 ")],
                200,
                "digest:Digest:a=1 []",
            ),
            (
                "GET /digest",
                &[("authorization", BASIC)],
                401,
                "the Authorization header must be `Digest <credentials>`",
            ),
            (
                "GET /digest",
                &[("authorization", "Digest ")],
                401,
                "the Authorization header must be `Digest <credentials>`",
            ),
            (
                "GET /digest",
                &[],
                401,
                "missing Digest credentials in the Authorization header",
            ),
            (
                "GET /header-key",
                &[("x-api-key", "k1")],
                200,
                "header_key:X-Api-Key:k1 []",
            ),
            (
                "GET /header-key",
                &[("authorization", "Bearer t1")],
                401,
                "missing API key in the X-Api-Key header",
            ),
            (
                "GET /query-key?api_key=k2&page=2",
                &[],
                200,
                "query_key:api_key:k2 [] page Some(2)",
            ),
            (
                "GET /query-key?api_key=a&api_key=b",
                &[],
                401,
                "the query parameter `api_key` is given more than once",
            ),
            (
                "GET /query-key?api_key=",
                &[],
                401,
                "the query parameter `api_key` is empty",
            ),
            (
                "GET /query-key",
                &[],
                401,
                "missing API key in the `api_key` query parameter",
            ),
            (
                "GET /cookie-key",
                &[("cookie", "other=1; session=k3")],
                200,
                "cookie_key:session:k3 []",
            ),
            (
                "GET /cookie-key",
                &[("cookie", "other=1")],
                401,
                "missing API key in the `session` cookie",
            ),
            (
                "GET /oauth",
                &[("authorization", "Bearer t2")],
                200,
                "oauth:bearer:t2 [things.read things.write]",
            ),
            (
                "GET /oidc",
                &[("authorization", "Bearer t3")],
                200,
                "oidc:bearer:t3 [openid]",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn the_first_satisfied_requirement_is_used_and_optional_security_serves_anonymous_callers() {
    let app = alternatives::router(Arc::new(Fixture), RouterConfig::default());
    check(
        app,
        &[
            (
                "GET /either",
                &[("authorization", "Bearer t")],
                200,
                "bearer:bearer:t []",
            ),
            ("GET /either", &[("x-api-key", "k")], 200, "key:X-Api-Key:k []"),
            (
                "GET /either",
                &[("authorization", "Bearer t"), ("x-api-key", "k")],
                200,
                "bearer:bearer:t []",
            ),
            // A malformed credential does not stop a later requirement from being satisfied...
            (
                "GET /either",
                &[("authorization", BASIC), ("x-api-key", "k")],
                200,
                "key:X-Api-Key:k []",
            ),
            // ...but is the answer when none is.
            (
                "GET /either",
                &[("authorization", BASIC)],
                401,
                "the Authorization header must be `Bearer <token>`",
            ),
            (
                "GET /either",
                &[],
                401,
                "missing bearer token in the Authorization header or API key in the X-Api-Key header",
            ),
            (
                "GET /both",
                &[("authorization", BASIC), ("x-api-key", "k")],
                200,
                "basic:basic:user:pw + key:X-Api-Key:k [admin]",
            ),
            (
                "GET /both",
                &[("x-api-key", "k")],
                401,
                "missing basic credentials in the Authorization header and API key in the X-Api-Key header",
            ),
            ("GET /maybe", &[], 200, "anonymous"),
            (
                "GET /maybe",
                &[("authorization", "Bearer t")],
                200,
                "bearer:bearer:t []",
            ),
            (
                "GET /maybe",
                &[("authorization", "Bearer bad")],
                401,
                "unknown credential",
            ),
            (
                "GET /maybe",
                &[("authorization", "Token t")],
                401,
                "the Authorization header must be `Bearer <token>`",
            ),
            (
                "GET /open",
                &[("authorization", "Custom abc")],
                200,
                r#"header Some("Custom abc")"#,
            ),
            ("GET /open", &[], 200, "header None"),
            (
                "GET /open",
                &[("authorization", TOO_LONG)],
                422,
                "request does not match the schema",
            ),
        ],
    )
    .await;
}

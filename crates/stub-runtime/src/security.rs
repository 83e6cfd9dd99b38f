//! Credentials: reading what an operation's security requirements ask for (bearer, basic and any other HTTP
//! `Authorization` scheme, API keys in a header, query parameter or cookie; a TLS client certificate is the TLS
//! layer's, before the router), trying the requirements in order, and the typed [`Credentials`] handed to
//! `authenticate`.

use std::fmt;

use axum::http::header::{AUTHORIZATION, HeaderMap};
use axum::http::request::Parts;
use base64::Engine as _;

use crate::Rejection;
use crate::extract::{Pairs, cookies, query, single_header};

/// Where an API key is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLocation {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// How a security scheme carries its credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemeKind {
    /// `Authorization: Bearer <token>` (HTTP bearer, oauth2, openIdConnect).
    Bearer,
    /// `Authorization: Basic <base64 of user:password>`.
    Basic,
    /// `Authorization: <auth_scheme> <credentials>` for any other HTTP scheme (`Digest`, `OAuth` 1.0a, `Mutual`,
    /// …): the credentials are handed over as written, for the implementation to verify.
    Http {
        /// The HTTP authentication scheme, as the spec names it (compared case-insensitively).
        auth_scheme: &'static str,
    },
    /// An API key of this name.
    ApiKey {
        /// Where it is read from.
        location: KeyLocation,
        /// The header, query parameter or cookie name.
        name: &'static str,
    },
    /// A TLS client certificate (OpenAPI's `mutualTLS`). TLS ends before the router, so the router cannot see the
    /// certificate: it reads nothing and counts the scheme presented ([`Credential::MutualTls`]). Verifying the
    /// certificate is the TLS terminator's job.
    MutualTls,
}

/// One scheme of a security requirement, as generated stubs declare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheme {
    /// Its name under `components/securitySchemes`.
    pub name: &'static str,
    /// How its credential is carried.
    pub kind: SchemeKind,
    /// The scopes the requirement lists for it.
    pub scopes: &'static [&'static str],
}

impl Scheme {
    /// An `http` `bearer` scheme (also how `oauth2` and `openIdConnect` are read).
    pub const fn bearer(name: &'static str, scopes: &'static [&'static str]) -> Self {
        Self {
            name,
            kind: SchemeKind::Bearer,
            scopes,
        }
    }

    /// An `http` `basic` scheme.
    pub const fn basic(name: &'static str, scopes: &'static [&'static str]) -> Self {
        Self {
            name,
            kind: SchemeKind::Basic,
            scopes,
        }
    }

    /// Any other `http` scheme: the credential is what follows `auth_scheme` in `Authorization`.
    pub const fn http(name: &'static str, auth_scheme: &'static str, scopes: &'static [&'static str]) -> Self {
        Self {
            name,
            kind: SchemeKind::Http { auth_scheme },
            scopes,
        }
    }

    /// A `mutualTLS` scheme: presented as far as the router can tell (see [`SchemeKind::MutualTls`]).
    pub const fn mutual_tls(name: &'static str, scopes: &'static [&'static str]) -> Self {
        Self {
            name,
            kind: SchemeKind::MutualTls,
            scopes,
        }
    }

    /// An `apiKey` scheme: the key is the header, query parameter or cookie `key`.
    pub const fn api_key(
        name: &'static str,
        location: KeyLocation,
        key: &'static str,
        scopes: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            kind: SchemeKind::ApiKey { location, name: key },
            scopes,
        }
    }
}

/// A credential read for one scheme. `Debug` never shows the secret part.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A bearer token (HTTP bearer, oauth2 or openIdConnect).
    Bearer {
        /// The scheme's name.
        scheme: &'static str,
        /// The token, without the `Bearer ` prefix.
        token: String,
    },
    /// HTTP basic credentials.
    Basic {
        /// The scheme's name.
        scheme: &'static str,
        /// The user id (before the first `:`).
        user: String,
        /// The password (after it).
        password: String,
    },
    /// The credentials of another HTTP authentication scheme.
    Http {
        /// The scheme's name.
        scheme: &'static str,
        /// The HTTP authentication scheme (`Digest`, `OAuth`, …).
        auth_scheme: &'static str,
        /// Everything after the authentication scheme in the `Authorization` header, trimmed.
        credentials: String,
    },
    /// An API key.
    ApiKey {
        /// The scheme's name.
        scheme: &'static str,
        /// The header, query parameter or cookie it came from.
        name: &'static str,
        /// The key.
        value: String,
    },
    /// A `mutualTLS` scheme, which the router cannot check: the TLS client certificate, if any, was verified (or
    /// not) by whatever terminated TLS before the router. An implementation serves it only where its deployment's
    /// TLS terminator requires and verifies client certificates.
    MutualTls {
        /// The scheme's name.
        scheme: &'static str,
    },
}

impl Credential {
    /// The name of the scheme it was read for.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Bearer { scheme, .. }
            | Self::Basic { scheme, .. }
            | Self::Http { scheme, .. }
            | Self::ApiKey { scheme, .. }
            | Self::MutualTls { scheme } => scheme,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer { scheme, .. } => f.debug_struct("Bearer").field("scheme", scheme).finish_non_exhaustive(),
            Self::Basic { scheme, user, .. } => f
                .debug_struct("Basic")
                .field("scheme", scheme)
                .field("user", user)
                .finish_non_exhaustive(),
            Self::Http {
                scheme, auth_scheme, ..
            } => f
                .debug_struct("Http")
                .field("scheme", scheme)
                .field("auth_scheme", auth_scheme)
                .finish_non_exhaustive(),
            Self::ApiKey { scheme, name, .. } => f
                .debug_struct("ApiKey")
                .field("scheme", scheme)
                .field("name", name)
                .finish_non_exhaustive(),
            Self::MutualTls { scheme } => f.debug_struct("MutualTls").field("scheme", scheme).finish(),
        }
    }
}

/// What `authenticate` receives: the credentials of the first security requirement the request satisfies, one per
/// scheme that requirement names, and the scopes it lists; and, apart, the credentials of the later requirements
/// the request satisfies too, so an implementation can refuse a request that sends two different ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    list: Vec<Credential>,
    scopes: Vec<&'static str>,
    also: Vec<Credential>,
}

impl Credentials {
    /// Credentials as the router would build them (for tests of an implementation).
    pub fn new(list: Vec<Credential>, scopes: Vec<&'static str>) -> Self {
        Self {
            list,
            scopes,
            also: Vec::new(),
        }
    }

    /// The same, with the credentials of later requirements the request also satisfies.
    pub fn with_also(mut self, also: Vec<Credential>) -> Self {
        self.also = also;
        self
    }

    /// The credentials of the later requirements (alternatives) the request also satisfies, well formed, in order.
    /// OpenAPI lets any one alternative authenticate; whether sending two is acceptable is the implementation's call.
    pub fn also_sent(&self) -> &[Credential] {
        &self.also
    }

    /// Every credential.
    pub fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.list.iter()
    }

    /// The credential of the scheme of this name, if the satisfied requirement names it.
    pub fn get(&self, scheme: &str) -> Option<&Credential> {
        self.list.iter().find(|c| c.scheme() == scheme)
    }

    /// The first bearer token, or a 401: what a bearer-only implementation needs.
    pub fn bearer(&self) -> Result<&str, Rejection> {
        self.list
            .iter()
            .find_map(|c| match c {
                Credential::Bearer { token, .. } => Some(token.as_str()),
                _ => None,
            })
            .ok_or_else(|| Rejection::unauthorized("missing bearer token in the Authorization header"))
    }

    /// The scopes the satisfied requirement lists (deduplicated); checking them is the implementation's business.
    pub fn scopes(&self) -> &[&'static str] {
        &self.scopes
    }
}

impl From<Credential> for Credentials {
    fn from(credential: Credential) -> Self {
        Self::new(vec![credential], Vec::new())
    }
}

/// The credentials of the first requirement (alternative) whose schemes are all present, or a 401: a malformed
/// credential's reason when one was seen, else what is missing.
pub fn credentials(parts: &Parts, alternatives: &[&[Scheme]]) -> Result<Credentials, Rejection> {
    optional_credentials(parts, alternatives)?.ok_or_else(|| {
        let wanted: Vec<String> = alternatives
            .iter()
            .map(|schemes| schemes.iter().map(describe).collect::<Vec<_>>().join(" and "))
            .collect();
        Rejection::unauthorized(format!("missing {}", wanted.join(" or ")))
    })
}

/// As [`credentials`] for optional security (`{}` among the requirements): `None` when no requirement is
/// satisfied and nothing malformed was sent. A malformed credential is still a 401: a caller who tried to
/// authenticate and failed is not served as anonymous.
pub fn optional_credentials(parts: &Parts, alternatives: &[&[Scheme]]) -> Result<Option<Credentials>, Rejection> {
    // Parsed once, and only when a scheme reads them.
    let mut query_pairs = None;
    let mut cookie_pairs = None;
    let mut satisfy = |schemes: &[Scheme]| -> Result<Option<Vec<Credential>>, Rejection> {
        let mut found = Vec::with_capacity(schemes.len());
        for scheme in schemes {
            let read = match scheme.kind {
                SchemeKind::Bearer => bearer(&parts.headers, scheme.name),
                SchemeKind::Basic => basic(&parts.headers, scheme.name),
                SchemeKind::Http { auth_scheme } => other_http(&parts.headers, scheme.name, auth_scheme),
                SchemeKind::MutualTls => Ok(Some(Credential::MutualTls { scheme: scheme.name })),
                SchemeKind::ApiKey { location, name } => {
                    let value = match location {
                        KeyLocation::Header => header_key(&parts.headers, name),
                        KeyLocation::Query => pair_key(query_pairs.get_or_insert_with(|| Ok(query(&parts.uri))), name),
                        KeyLocation::Cookie => {
                            pair_key(cookie_pairs.get_or_insert_with(|| cookies(&parts.headers)), name)
                        }
                    };
                    value.map(|value| {
                        value.map(|value| Credential::ApiKey {
                            scheme: scheme.name,
                            name,
                            value,
                        })
                    })
                }
            };
            match read? {
                Some(credential) => found.push(credential),
                None => return Ok(None),
            }
        }
        Ok(Some(found))
    };
    let mut malformed = None;
    let mut satisfied: Option<Credentials> = None;
    for schemes in alternatives {
        match (satisfy(schemes), &mut satisfied) {
            (Ok(Some(found)), None) => {
                let mut scopes: Vec<&'static str> = Vec::new();
                for scope in schemes.iter().flat_map(|s| s.scopes) {
                    if !scopes.contains(scope) {
                        scopes.push(scope);
                    }
                }
                satisfied = Some(Credentials::new(found, scopes));
            }
            (Ok(Some(found)), Some(first)) => {
                let new: Vec<Credential> = found
                    .into_iter()
                    .filter(|c| !first.list.contains(c) && !first.also.contains(c))
                    .collect();
                first.also.extend(new);
            }
            (Err(rejection), None) => {
                malformed.get_or_insert(rejection);
            }
            // Nothing sent for it, or malformed beside a satisfied requirement (which decides).
            (Ok(None), _) | (Err(_), Some(_)) => {}
        }
    }
    match (satisfied, malformed) {
        (Some(credentials), _) => Ok(Some(credentials)),
        (None, Some(rejection)) => Err(rejection),
        (None, None) => Ok(None),
    }
}

fn describe(scheme: &Scheme) -> String {
    match scheme.kind {
        SchemeKind::Bearer => "bearer token in the Authorization header".to_owned(),
        SchemeKind::Basic => "basic credentials in the Authorization header".to_owned(),
        SchemeKind::Http { auth_scheme } => format!("{auth_scheme} credentials in the Authorization header"),
        SchemeKind::MutualTls => "TLS client certificate".to_owned(),
        SchemeKind::ApiKey { location, name } => match location {
            KeyLocation::Header => format!("API key in the {name} header"),
            KeyLocation::Query => format!("API key in the `{name}` query parameter"),
            KeyLocation::Cookie => format!("API key in the `{name}` cookie"),
        },
    }
}

/// The `Authorization` header's `<scheme> <rest>` when its scheme is `expected` (case-insensitively); `None` when
/// there is no header. Any other scheme, or an empty rest, is malformed: `form` names the expected shape. `token68`:
/// the rest is one token (bearer, basic), with no white space inside.
fn authorization<'h>(
    headers: &'h HeaderMap,
    expected: &str,
    form: &str,
    token68: bool,
) -> Result<Option<&'h str>, Rejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Ok(None),
        (Some(value), None) => value,
        (Some(_), Some(_)) => return Err(Rejection::unauthorized("more than one Authorization header")),
    };
    let malformed = || Rejection::unauthorized(format!("the Authorization header must be `{form}`"));
    let value = value.to_str().map_err(|_| malformed())?;
    // `to_str` admits visible ASCII, space and tab only, so ASCII white space is all there is to trim.
    let (scheme, rest) = value.trim_ascii().split_once(' ').ok_or_else(malformed)?;
    let rest = rest.trim_ascii();
    if !scheme.eq_ignore_ascii_case(expected)
        || rest.is_empty()
        || (token68 && rest.bytes().any(|b| b.is_ascii_whitespace()))
    {
        return Err(malformed());
    }
    Ok(Some(rest))
}

fn bearer(headers: &HeaderMap, scheme: &'static str) -> Result<Option<Credential>, Rejection> {
    Ok(
        authorization(headers, "bearer", "Bearer <token>", true)?.map(|token| Credential::Bearer {
            scheme,
            token: token.to_owned(),
        }),
    )
}

fn basic(headers: &HeaderMap, scheme: &'static str) -> Result<Option<Credential>, Rejection> {
    const FORM: &str = "Basic <base64 of user:password>";
    let Some(encoded) = authorization(headers, "basic", FORM, true)? else {
        return Ok(None);
    };
    let malformed = || Rejection::unauthorized(format!("the Authorization header must be `{FORM}`"));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (user, password) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Some(Credential::Basic {
        scheme,
        user: user.to_owned(),
        password: password.to_owned(),
    }))
}

fn other_http(
    headers: &HeaderMap,
    scheme: &'static str,
    auth_scheme: &'static str,
) -> Result<Option<Credential>, Rejection> {
    let form = format!("{auth_scheme} <credentials>");
    Ok(
        authorization(headers, auth_scheme, &form, false)?.map(|credentials| Credential::Http {
            scheme,
            auth_scheme,
            credentials: credentials.to_owned(),
        }),
    )
}

fn header_key(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, Rejection> {
    let value = single_header(headers, name)
        .map_err(|_| Rejection::unauthorized(format!("the {name} header is given more than once")))?;
    let Some(value) = value else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        _ => Err(Rejection::unauthorized(format!(
            "the {name} header must hold an API key of visible ASCII"
        ))),
    }
}

fn pair_key(pairs: &Result<Pairs, Rejection>, name: &'static str) -> Result<Option<String>, Rejection> {
    let pairs = pairs.as_ref().map_err(Clone::clone)?;
    let what = pairs.what();
    match pairs.single(name) {
        Ok(Some(value)) if value.is_empty() => Err(Rejection::unauthorized(format!("the {what} `{name}` is empty"))),
        Ok(value) => Ok(value),
        Err(_) => Err(Rejection::unauthorized(format!(
            "the {what} `{name}` is given more than once"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEARER: Scheme = Scheme::bearer("bearerAuth", &[]);
    const API_KEY: Scheme = Scheme::api_key("apiKeyAuth", KeyLocation::Header, "X-API-Key", &[]);

    /// The schemes of the credentials handed over, and of those also sent.
    type Found = Option<(Vec<&'static str>, Vec<&'static str>)>;
    type Headers<'a> = &'a [(&'a str, &'a str)];
    type Alternatives<'a> = &'a [&'a [Scheme]];

    /// What alternatives `[bearer] or [X-API-Key]` read from `headers`.
    fn read(headers: Headers<'_>) -> Result<Found, String> {
        read_for(&[&[BEARER], &[API_KEY]], headers)
    }

    fn read_for(alternatives: Alternatives<'_>, headers: Headers<'_>) -> Result<Found, String> {
        let mut request = axum::http::Request::builder().uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        optional_credentials(&parts, alternatives)
            .map(|found| {
                found.map(|c| {
                    let schemes = |list: &[Credential]| list.iter().map(Credential::scheme).collect();
                    (schemes(&c.list), schemes(c.also_sent()))
                })
            })
            .map_err(|rejection| rejection.detail().to_owned())
    }

    /// Alternatives `[bearer] or [X-API-Key]`: the first satisfied decides; later satisfied ones are handed over apart.
    #[test]
    fn the_first_satisfied_alternative_decides_and_later_ones_are_also_sent() {
        let cases: [(Headers<'_>, Result<Found, &str>); 6] = [
            (&[], Ok(None)),
            (&[("authorization", "Bearer a")], Ok(Some((vec!["bearerAuth"], vec![])))),
            (&[("x-api-key", "a")], Ok(Some((vec!["apiKeyAuth"], vec![])))),
            (
                &[("authorization", "Bearer a"), ("x-api-key", "b")],
                Ok(Some((vec!["bearerAuth"], vec!["apiKeyAuth"]))),
            ),
            // A malformed later alternative does not undo a satisfied one, and is not handed over.
            (
                &[("authorization", "Bearer a"), ("x-api-key", " ")],
                Ok(Some((vec!["bearerAuth"], vec![]))),
            ),
            // A malformed earlier one is the 401 only when nothing is satisfied.
            (
                &[("authorization", "Bearer")],
                Err("the Authorization header must be `Bearer <token>`"),
            ),
        ];
        for (headers, expected) in cases {
            assert_eq!(read(headers), expected.map_err(str::to_owned), "{headers:?}");
        }
    }

    /// A `mutualTLS` scheme reads nothing and is always presented: alone it satisfies its requirement; beside a
    /// bearer scheme the bearer token decides.
    #[test]
    fn mutual_tls_is_presented_by_the_tls_layer() {
        const TLS: Scheme = Scheme::mutual_tls("tls", &[]);
        let cases: [(Alternatives<'_>, Headers<'_>, Result<Found, &str>); 4] = [
            (&[&[TLS]], &[], Ok(Some((vec!["tls"], vec![])))),
            (&[&[TLS, BEARER]], &[], Ok(None)),
            (
                &[&[TLS, BEARER]],
                &[("authorization", "Bearer a")],
                Ok(Some((vec!["tls", "bearerAuth"], vec![]))),
            ),
            (&[&[BEARER], &[TLS]], &[], Ok(Some((vec!["tls"], vec![])))),
        ];
        for (alternatives, headers, expected) in cases {
            let found = read_for(alternatives, headers);
            assert_eq!(found, expected.map_err(str::to_owned), "{alternatives:?} {headers:?}");
        }
        let missing = credentials(
            &axum::http::Request::builder().uri("/").body(()).unwrap().into_parts().0,
            &[&[TLS, BEARER]],
        );
        assert_eq!(
            missing.unwrap_err().detail(),
            "missing TLS client certificate and bearer token in the Authorization header"
        );
    }
}

//! Security requirements: which credentials an operation reads, as alternatives of schemes.

use openapiv3::{APIKeyLocation, Operation, SecurityScheme};

use super::Lowering;
use crate::Error;
use crate::ir::{Location, Scheme, SchemeKind, Security};
use crate::spec::pointer;

impl<'a> Lowering<'a> {
    /// The operation's requirements (its own, else the document's); `None` when it reads no credentials.
    pub(super) fn security(&self, op: &Operation, at: &str) -> Result<Option<Security>, Error> {
        let Some(requirements) = op.security.as_ref().or(self.spec.doc.security.as_ref()) else {
            return Ok(None);
        };
        let at = if op.security.is_some() {
            format!("{at}/security")
        } else {
            "/security".to_owned()
        };
        let mut security = Security {
            requirements: Vec::new(),
            optional: false,
        };
        for requirement in requirements {
            // `{}` is the anonymous alternative.
            if requirement.is_empty() {
                security.optional = true;
                continue;
            }
            let mut schemes = Vec::new();
            for (name, scopes) in requirement {
                schemes.push(Scheme {
                    name: name.clone(),
                    kind: self.scheme_kind(name, &at)?,
                    scopes: scopes.clone(),
                });
            }
            security.requirements.push(schemes);
        }
        // The router cannot see a TLS client certificate and counts it presented: alternatives it can check go first,
        // so a request that satisfies one is authenticated by what it sent.
        security
            .requirements
            .sort_by_key(|schemes| schemes.iter().any(|scheme| scheme.kind == SchemeKind::MutualTls));
        Ok((!security.requirements.is_empty()).then_some(security))
    }

    fn scheme_kind(&self, name: &str, at: &str) -> Result<SchemeKind, Error> {
        let scheme = self
            .components(at)?
            .security_schemes
            .get(name)
            .ok_or_else(|| self.fail(at, format!("security scheme `{name}` is not defined")))?;
        let (scheme, scheme_at) = self.resolve(
            scheme,
            pointer(&["components", "securitySchemes", name]),
            "securitySchemes",
            |c, n| c.security_schemes.get(n),
        )?;
        Ok(match scheme {
            // A 3.1 `mutualTLS` scheme, lowered (`crate::openapi31`).
            SecurityScheme::HTTP { extensions, .. } if extensions.contains_key(crate::openapi31::MUTUAL_TLS) => {
                SchemeKind::MutualTls
            }
            SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => SchemeKind::Bearer,
            SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => SchemeKind::Basic,
            SecurityScheme::HTTP { scheme, .. } if scheme.trim().is_empty() || scheme.contains(char::is_whitespace) => {
                return Err(self.fail(
                    &scheme_at,
                    format!("security scheme `{name}` is HTTP but its `scheme` `{scheme}` is not one word"),
                ));
            }
            // Digest, OAuth 1.0a, Mutual, …: the credentials are handed to `authenticate` as written.
            SecurityScheme::HTTP { scheme, .. } => SchemeKind::Http {
                auth_scheme: scheme.clone(),
            },
            // Both present their access token as a bearer token; the flows only tell clients how to get one.
            SecurityScheme::OAuth2 { .. } | SecurityScheme::OpenIDConnect { .. } => SchemeKind::Bearer,
            SecurityScheme::APIKey { location, name, .. } => SchemeKind::ApiKey {
                location: match location {
                    APIKeyLocation::Header => Location::Header,
                    APIKeyLocation::Query => Location::Query,
                    APIKeyLocation::Cookie => Location::Cookie,
                },
                name: name.clone(),
            },
        })
    }
}

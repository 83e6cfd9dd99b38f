//! Security requirements: which operations need credentials, and of which scheme.

use openapiv3::{Operation, SecurityScheme};

use super::Lowering;
use crate::Error;
use crate::spec::pointer;

impl<'a> Lowering<'a> {
    /// Whether the operation needs a bearer token; other schemes and optional security cannot be generated.
    pub(super) fn secured(&self, op: &Operation, at: &str) -> Result<bool, Error> {
        let requirements = op.security.as_ref().or(self.spec.doc.security.as_ref());
        let Some(requirements) = requirements.filter(|r| !r.is_empty()) else {
            return Ok(false);
        };
        let at = if op.security.is_some() {
            format!("{at}/security")
        } else {
            "/security".to_owned()
        };
        for requirement in requirements {
            if requirement.is_empty() {
                return Err(self.fail(&at, "optional security (`{}` beside a requirement) is not supported"));
            }
            for name in requirement.keys() {
                let scheme = self
                    .components(&at)?
                    .security_schemes
                    .get(name)
                    .ok_or_else(|| self.fail(&at, format!("security scheme `{name}` is not defined")))?;
                let (scheme, _) = self.resolve(
                    scheme,
                    pointer(&["components", "securitySchemes", name]),
                    "securitySchemes",
                    |c, n| c.security_schemes.get(n),
                )?;
                match scheme {
                    SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {}
                    _ => {
                        return Err(self.fail(
                            &at,
                            format!("security scheme `{name}` is not HTTP bearer; only bearer tokens are supported"),
                        ));
                    }
                }
            }
        }
        Ok(true)
    }
}

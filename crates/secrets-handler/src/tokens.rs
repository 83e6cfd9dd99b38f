//! Bearer tokens: `st_` + 32 random bytes (base64url), shown once, stored only as a SHA-256 hash.
//!
//! A presented token is hashed and looked up by its hash; the stored hash is then compared in constant time, so
//! neither the lookup nor the comparison depends on the secret bytes of a token the server knows.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Every token starts with this, so it is recognisable in a leaked file (secret scanners can match on it).
pub const TOKEN_PREFIX: &str = "st_";
/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;
/// Length of a token: the prefix and 43 base64url characters.
const TOKEN_LEN: usize = TOKEN_PREFIX.len() + 43;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// Read secrets' metadata.
    Read,
    /// Read and create secrets.
    Write,
}

impl Scope {
    /// The name stored in the database and shown on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is neither `read` nor `write`.
#[derive(Debug, thiserror::Error)]
#[error("unknown token scope {0:?}, expected read or write")]
pub struct UnknownScope(String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

/// The authenticated caller of a request: the `SecretsApi::Caller` of this implementation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's id (not the token), used as the rate-limit key and in logs.
    pub token_id: String,
    /// The user the token belongs to; secrets are private to this owner.
    pub user: String,
    /// What the token may do.
    pub scope: Scope,
}

/// A SHA-256 hash of a token: what the database stores.
pub type TokenHash = [u8; 32];

/// A freshly generated token. `Debug` shows the id only.
pub struct NewToken {
    /// A short public id, `tok_` + 12 hex digits, for `token list` and `token revoke`.
    pub id: String,
    /// The token itself, shown to the user once and then forgotten.
    pub token: SecretString,
    /// What the database stores.
    pub hash: TokenHash,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct RandomError;

/// Generates a new token and its id.
pub fn generate() -> Result<NewToken, RandomError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; TOKEN_BYTES]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| RandomError)?;
    let mut id_bytes = [0u8; 6];
    getrandom::fill(&mut id_bytes).map_err(|_| RandomError)?;
    let token = SecretString::from(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes.as_slice())));
    let id = format!(
        "tok_{}",
        id_bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = hash(token.expose_secret());
    Ok(NewToken { id, token, hash })
}

/// The SHA-256 hash of a token.
pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `presented` has the shape of a token (prefix and length); anything else is rejected without a lookup.
pub fn well_formed(presented: &str) -> bool {
    presented.len() == TOKEN_LEN
        && presented.starts_with(TOKEN_PREFIX)
        && presented[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Compares a stored hash with the hash of a presented token in constant time.
pub fn verify(stored: &[u8], presented: &TokenHash) -> bool {
    stored.ct_eq(presented.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let tokens: Vec<NewToken> = (0..32).map(|_| generate().unwrap()).collect();
        for (i, t) in tokens.iter().enumerate() {
            let secret = t.token.expose_secret();
            assert!(well_formed(secret), "token {i} has the wrong shape");
            assert_eq!(t.hash, hash(secret));
            assert!(t.id.starts_with("tok_") && t.id.len() == 16, "{}", t.id);
            for other in &tokens[i + 1..] {
                assert_ne!(t.hash, other.hash);
                assert_ne!(t.id, other.id);
            }
        }
    }

    #[test]
    fn hash_is_sha256() {
        // (input, hex SHA-256)
        let cases = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (
                "abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ];
        for (input, expected) in cases {
            let hex: String = hash(input).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, expected, "{input:?}");
        }
    }

    #[test]
    fn verify_compares_whole_hashes() {
        let stored = hash("st_known");
        let mut last_byte_differs = stored;
        last_byte_differs[31] ^= 1;
        // (stored bytes, presented hash, expected)
        let cases: [(&[u8], TokenHash, bool); 4] = [
            (&stored, stored, true),
            (&stored, hash("st_other"), false),
            (&stored, last_byte_differs, false),
            (&stored[..31], stored, false),
        ];
        for (i, (stored, presented, expected)) in cases.into_iter().enumerate() {
            assert_eq!(verify(stored, &presented), expected, "case {i}");
        }
    }

    #[test]
    fn shape_check() {
        let good = format!("st_{}", "A".repeat(43));
        let cases = [
            (good.as_str(), true),
            ("", false),
            ("st_", false),
            (&good[..good.len() - 1], false),
            (&format!("xx_{}", "A".repeat(43)), false),
            (&format!("st_{}!", "A".repeat(42)), false),
            (&format!("st_{}é", "A".repeat(41)), false),
        ];
        for (token, expected) in cases {
            assert_eq!(well_formed(token), expected, "{token:?}");
        }
    }

    #[test]
    fn scope_names() {
        for (name, scope) in [("read", Scope::Read), ("write", Scope::Write)] {
            assert_eq!(name.parse::<Scope>().unwrap(), scope);
            assert_eq!(scope.to_string(), name);
        }
        assert_eq!(
            "admin".parse::<Scope>().unwrap_err().to_string(),
            r#"unknown token scope "admin", expected read or write"#
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = generate().unwrap();
        let debug = format!("{t:?}");
        assert!(
            !debug.contains(t.token.expose_secret()) && debug.contains(&t.id),
            "{debug}"
        );
    }
}

//! Bearer tokens: `st_` + 36 random base62 characters + a 6-character base62 CRC32 of them (GitHub's token format),
//! shown once, stored only as a SHA-256 hash.
//!
//! The checksum lets secret scanners recognise a leaked token offline, and lets the server refuse a mistyped or
//! truncated one before any lookup. A presented token is hashed and looked up by its hash; the stored hash is then
//! compared in constant time, so neither the lookup nor the comparison depends on the secret bytes of a token the
//! server knows. Tokens of the format before the checksum (`st_` + 43 base64url characters) keep working.

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Every token starts with this, so it is recognisable in a leaked file (secret scanners can match on it).
pub const TOKEN_PREFIX: &str = "st_";
/// The regular expression a secret scanner matches tokens with (README.md publishes it).
pub const TOKEN_PATTERN: &str = "st_[0-9A-Za-z]{42}";
/// Random base62 characters in a token: 36, about 214 bits.
const RANDOM_CHARS: usize = 36;
/// Base62 characters of the CRC32 checksum (62^6 > 2^32).
const CHECKSUM_CHARS: usize = 6;
/// Length of a token: the prefix, the random part and the checksum.
const TOKEN_LEN: usize = TOKEN_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS;
/// Length of a token of the format before the checksum: the prefix and 43 base64url characters.
const LEGACY_TOKEN_LEN: usize = TOKEN_PREFIX.len() + 43;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

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
    let mut token = String::with_capacity(TOKEN_LEN);
    token.push_str(TOKEN_PREFIX);
    // Rejection sampling keeps every character equally likely: bytes of 248 and over (62 * 4) are drawn again.
    let mut bytes = zeroize::Zeroizing::new([0u8; 64]);
    while token.len() < TOKEN_PREFIX.len() + RANDOM_CHARS {
        getrandom::fill(bytes.as_mut_slice()).map_err(|_| RandomError)?;
        for &byte in bytes.iter().filter(|&&b| b < 248) {
            if token.len() == TOKEN_PREFIX.len() + RANDOM_CHARS {
                break;
            }
            token.push(char::from(BASE62[usize::from(byte % 62)]));
        }
    }
    let checksum = checksum(&token[TOKEN_PREFIX.len()..]);
    token.push_str(&checksum);
    let token = SecretString::from(token);
    let mut id_bytes = [0u8; 6];
    getrandom::fill(&mut id_bytes).map_err(|_| RandomError)?;
    let id = format!(
        "tok_{}",
        id_bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = hash(token.expose_secret());
    Ok(NewToken { id, token, hash })
}

/// The CRC32 of `random` in six base62 digits, most significant first.
fn checksum(random: &str) -> String {
    let mut value = crc32fast::hash(random.as_bytes());
    let mut digits = [b'0'; CHECKSUM_CHARS];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// The SHA-256 hash of a token.
pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Why a presented token was refused without a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Not the shape of any token this server issues.
    #[error("not a token")]
    Shape,
    /// The shape of a token, but its checksum does not match: mistyped or truncated.
    #[error("token checksum does not match")]
    Checksum,
}

/// Checks a presented token's shape and checksum; a token that fails is refused without a lookup. Tokens of the
/// format before the checksum pass on their shape alone.
pub fn check(presented: &str) -> Result<(), Malformed> {
    let Some(rest) = presented.strip_prefix(TOKEN_PREFIX) else {
        return Err(Malformed::Shape);
    };
    match presented.len() {
        TOKEN_LEN if rest.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            let (random, sum) = rest.split_at(RANDOM_CHARS);
            if checksum(random) == sum {
                Ok(())
            } else {
                Err(Malformed::Checksum)
            }
        }
        LEGACY_TOKEN_LEN
            if rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(())
        }
        _ => Err(Malformed::Shape),
    }
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
        let pattern = regex::Regex::new(&format!("^{TOKEN_PATTERN}$")).unwrap();
        let tokens: Vec<NewToken> = (0..32).map(|_| generate().unwrap()).collect();
        for (i, t) in tokens.iter().enumerate() {
            let secret = t.token.expose_secret();
            assert_eq!(check(secret), Ok(()), "token {i} has the wrong shape");
            assert!(
                pattern.is_match(secret),
                "token {i} does not match the published pattern"
            );
            assert_eq!(t.hash, hash(secret));
            assert!(t.id.starts_with("tok_") && t.id.len() == 16, "{}", t.id);
            for other in &tokens[i + 1..] {
                assert_ne!(t.hash, other.hash);
                assert_ne!(t.id, other.id);
            }
        }
    }

    /// Any one character changed, anywhere after the prefix, fails the checksum.
    #[test]
    fn one_changed_character_fails_the_checksum() {
        let token = generate().unwrap();
        let token = token.token.expose_secret();
        for at in TOKEN_PREFIX.len()..token.len() {
            for replacement in [b'0', b'z', b'Q'] {
                let mut changed = token.as_bytes().to_vec();
                if changed[at] == replacement {
                    continue;
                }
                changed[at] = replacement;
                let changed = String::from_utf8(changed).unwrap();
                assert_eq!(check(&changed), Err(Malformed::Checksum), "{at}");
            }
        }
    }

    #[test]
    fn checksum_is_the_crc32_in_base62() {
        // (random part, CRC32 as computed by zlib's crc32, its six base62 digits)
        let cases = [("", 0, "000000"), ("a", 0xe8b7_be43, "4GEHKN")];
        for (random, crc, digits) in cases {
            assert_eq!(crc32fast::hash(random.as_bytes()), crc, "{random:?}");
            assert_eq!(checksum(random), digits, "{random:?}");
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
        let random = "A".repeat(RANDOM_CHARS);
        let good = format!("st_{random}{}", checksum(&random));
        let legacy = format!("st_{}", "A-_".repeat(14) + "A");
        let last = if good.ends_with('0') { '1' } else { '0' };
        let cases = [
            (good.clone(), Ok(())),
            (legacy.clone(), Ok(())),
            (String::new(), Err(Malformed::Shape)),
            ("st_".to_owned(), Err(Malformed::Shape)),
            (good[..good.len() - 1].to_owned(), Err(Malformed::Shape)),
            (format!("xx_{}", &good[3..]), Err(Malformed::Shape)),
            (format!("{}!", &good[..good.len() - 1]), Err(Malformed::Shape)),
            (format!("{}é", &good[..good.len() - 2]), Err(Malformed::Shape)),
            (format!("{}{last}", &good[..good.len() - 1]), Err(Malformed::Checksum)),
            (format!("{}!", &legacy[..legacy.len() - 1]), Err(Malformed::Shape)),
        ];
        for (token, expected) in cases {
            assert_eq!(check(&token), expected, "{token:?}");
        }
    }
}

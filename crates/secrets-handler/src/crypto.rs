//! Encryption at rest: AES-256-GCM under a keyring of master keys; the newest key encrypts, every key decrypts.
//!
//! The keyring is text, one key a line, `kid:base64` where the base64 (standard alphabet, padded) holds 32 bytes:
//!
//! ```text
//! # secrets-server keyring. Keep it secret; the last line encrypts new values.
//! k1:q8Jp0mXh1n9C8TSK9xv7wz9Bq3fmAX8n2oV5wZ3yq9s=
//! k2:Xr6Q2ZQ9k0bB0gP3X1tV0m8H6x4kZq0e5yJ3mF2pQ8w=
//! ```
//!
//! It lives in the key file (`--key-file`, default `./secrets.key`, mode 0600) or, instead, in the environment
//! variable `SECRETS_MASTER_KEY` (the same lines, or separated by commas; a bare base64 key means `k1`).
//!
//! Every ciphertext is stored beside the id of the key that made it and a fresh random 96-bit nonce, and is bound by
//! its associated data to the owner and the secret id, so a ciphertext copied to another row does not decrypt.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// Bytes in a master key.
pub const KEY_LEN: usize = 32;
/// Bytes in an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;

/// The plaintext of a key-check record: proves at startup that a key id still names the same key.
const KEY_CHECK_PLAINTEXT: &[u8] = b"secrets-handler key check v1";

/// Errors encrypting or decrypting one value.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The value names a key id that the keyring does not hold.
    #[error("no key with id {0} in the keyring")]
    UnknownKey(String),
    /// Authentication failed: wrong key, wrong associated data or tampered bytes.
    #[error("the stored value does not decrypt with key {0}")]
    Undecryptable(String),
    /// The nonce column does not hold 12 bytes.
    #[error("the stored nonce has {0} bytes, expected 12")]
    BadNonce(usize),
    /// The operating system's random source failed.
    #[error("the operating system's random source failed")]
    Random,
}

/// Errors reading, parsing or writing a keyring.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The key file exists but cannot be read.
    #[error("cannot read key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// The key file cannot be written.
    #[error("cannot write key file {path}: {source}")]
    Write { path: String, source: std::io::Error },
    /// A line is not `kid:base64-of-32-bytes`. Never quotes the line: it holds key material.
    #[error("{origin} line {line}: {problem}")]
    Parse {
        origin: String,
        line: usize,
        problem: &'static str,
    },
    /// The text holds no key.
    #[error("{0} holds no key")]
    Empty(String),
    /// Two lines share a key id.
    #[error("{origin} names key id {kid} twice")]
    Duplicate { origin: String, kid: String },
    /// The operating system's random source failed.
    #[error("the operating system's random source failed")]
    Random,
}

/// One master key and its id. `Debug` shows the id only.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    bytes: Zeroizing<[u8; KEY_LEN]>,
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    fn new(id: String, bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let cipher = Aes256Gcm::new_from_slice(bytes.as_slice()).expect("a 32-byte key fits AES-256");
        Self { id, bytes, cipher }
    }

    /// The key id stored beside each ciphertext.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A ciphertext with what is needed to decrypt it (besides the key and the associated data).
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The id of the key that encrypted it.
    pub key_id: String,
    /// The random nonce used once for it.
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Several master keys; the last one encrypts. `Debug` shows key ids only.
#[derive(Clone, Debug)]
pub struct Keyring {
    keys: Vec<MasterKey>,
}

/// The associated data that binds a secret's ciphertext to its owner and id.
pub fn secret_aad(owner: &str, secret_id: uuid::Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + owner.len());
    aad.extend_from_slice(b"secrets-handler/secret/v1\0");
    aad.extend_from_slice(&u32::try_from(owner.len()).unwrap_or(u32::MAX).to_be_bytes());
    aad.extend_from_slice(owner.as_bytes());
    aad.extend_from_slice(secret_id.as_bytes());
    aad
}

fn key_check_aad(kid: &str) -> Vec<u8> {
    [b"secrets-handler/key-check/v1\0".as_slice(), kid.as_bytes()].concat()
}

fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

fn valid_kid(kid: &str) -> bool {
    (1..=32).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Keyring {
    /// A keyring with one fresh random key, `k1`.
    pub fn generate() -> Result<Self, KeyringError> {
        let bytes = Zeroizing::new(random::<KEY_LEN>().map_err(|_| KeyringError::Random)?);
        Ok(Self {
            keys: vec![MasterKey::new("k1".to_owned(), bytes)],
        })
    }

    /// Parses keyring text; `origin` names where it came from, for error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyringError> {
        let parse_err = |line, problem| KeyringError::Parse {
            origin: origin.to_owned(),
            line,
            problem,
        };
        let mut keys: Vec<MasterKey> = Vec::new();
        let entries = text
            .lines()
            .enumerate()
            .flat_map(|(i, line)| line.split(',').map(move |part| (i + 1, part)));
        for (line, entry) in entries {
            let entry = entry.trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let (kid, encoded) = match entry.split_once(':') {
                Some((kid, encoded)) => (kid.trim(), encoded.trim()),
                None => ("k1", entry),
            };
            if !valid_kid(kid) {
                return Err(parse_err(line, "key id must be 1 to 32 of A-Z a-z 0-9 - _"));
            }
            let decoded = Zeroizing::new(
                STANDARD
                    .decode(encoded)
                    .map_err(|_| parse_err(line, "key is not valid base64 (standard, padded)"))?,
            );
            let bytes: [u8; KEY_LEN] = decoded
                .as_slice()
                .try_into()
                .map_err(|_| parse_err(line, "key must decode to exactly 32 bytes"))?;
            if keys.iter().any(|k| k.id == kid) {
                return Err(KeyringError::Duplicate {
                    origin: origin.to_owned(),
                    kid: kid.to_owned(),
                });
            }
            keys.push(MasterKey::new(kid.to_owned(), Zeroizing::new(bytes)));
        }
        if keys.is_empty() {
            return Err(KeyringError::Empty(origin.to_owned()));
        }
        Ok(Self { keys })
    }

    /// Reads the key file at `path`; `Ok(None)` when it does not exist.
    pub fn load_file(path: &Path) -> Result<Option<Self>, KeyringError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(KeyringError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Self::parse(&text, &path.display().to_string()).map(Some)
    }

    /// The keyring as key-file text.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::from(
            "# secrets-server keyring: one `kid:base64` key a line; the last line encrypts new values.\n\
             # Keep this file secret (mode 0600) and back it up: without it the stored secrets are lost.\n",
        ));
        for key in &self.keys {
            text.push_str(&key.id);
            text.push(':');
            text.push_str(&Zeroizing::new(STANDARD.encode(key.bytes.as_slice())));
            text.push('\n');
        }
        text
    }

    /// Writes the keyring to `path`, which must not exist yet, with mode 0600.
    pub fn create_file(&self, path: &Path) -> Result<(), KeyringError> {
        let write_err = |source| KeyringError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut file = open_private(path, true).map_err(write_err)?;
        file.write_all(self.to_text().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(write_err)
    }

    /// Replaces the file at `path` atomically (write a 0600 temporary file beside it, fsync, rename, fsync the folder).
    pub fn replace_file(&self, path: &Path) -> Result<(), KeyringError> {
        let write_err = |source| KeyringError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut file = open_private(&tmp, false).map_err(write_err)?;
        file.write_all(self.to_text().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(write_err)?;
        std::fs::rename(&tmp, path).map_err(write_err)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(write_err)
    }

    /// The same keys plus a fresh one, `k<N+1>`, which becomes the key for writes.
    pub fn with_new_key(&self) -> Result<Self, KeyringError> {
        let next = self
            .keys
            .iter()
            .filter_map(|k| k.id.strip_prefix('k')?.parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let bytes = Zeroizing::new(random::<KEY_LEN>().map_err(|_| KeyringError::Random)?);
        let mut keys = self.keys.clone();
        keys.push(MasterKey::new(format!("k{next}"), bytes));
        Ok(Self { keys })
    }

    /// The key that encrypts new values: the last one.
    pub fn current(&self) -> &MasterKey {
        self.keys.last().expect("a keyring holds at least one key")
    }

    /// Every key id, oldest first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    fn get(&self, kid: &str) -> Result<&MasterKey, CryptoError> {
        self.keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or_else(|| CryptoError::UnknownKey(kid.to_owned()))
    }

    /// Encrypts `plaintext` with the current key and a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, CryptoError> {
        seal_with(self.current(), plaintext, aad)
    }

    /// Decrypts with the key the value names.
    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = self.get(&sealed.key_id)?;
        key.cipher
            .decrypt(
                &Nonce::from(sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Undecryptable(sealed.key_id.clone()))
    }

    /// A key-check record for key `kid`, stored so that a later start can tell whether `kid` still names this key.
    pub fn key_check(&self, kid: &str) -> Result<Sealed, CryptoError> {
        seal_with(self.get(kid)?, KEY_CHECK_PLAINTEXT, &key_check_aad(kid))
    }

    /// Whether `record` was made by the key this keyring holds under the record's id.
    pub fn verify_key_check(&self, record: &Sealed) -> Result<(), CryptoError> {
        let plain = self.open(record, &key_check_aad(&record.key_id))?;
        if plain.as_slice() == KEY_CHECK_PLAINTEXT {
            Ok(())
        } else {
            Err(CryptoError::Undecryptable(record.key_id.clone()))
        }
    }
}

fn seal_with(key: &MasterKey, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, CryptoError> {
    let nonce = random::<NONCE_LEN>()?;
    let ciphertext = key
        .cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad })
        .expect("AES-GCM encrypts any value shorter than 64 GiB");
    Ok(Sealed {
        key_id: key.id.clone(),
        nonce,
        ciphertext,
    })
}

/// Turns a nonce column into a nonce.
pub fn nonce_from_slice(bytes: &[u8]) -> Result<[u8; NONCE_LEN], CryptoError> {
    bytes.try_into().map_err(|_| CryptoError::BadNonce(bytes.len()))
}

fn open_private(path: &Path, create_new: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring(text: &str) -> Keyring {
        Keyring::parse(text, "test").unwrap()
    }

    const K1: &str = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const K1_OTHER: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    const K1_K2: &str =
        "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nk2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

    #[test]
    fn round_trips_values() {
        let ring = keyring(K1);
        let id = uuid::Uuid::new_v4();
        for value in ["x", "sk-proj-abc", "日本語のひみつ", &"p".repeat(16384)] {
            let aad = secret_aad("alice", id);
            let sealed = ring.seal(value.as_bytes(), &aad).unwrap();
            assert_eq!(sealed.ciphertext.len(), value.len() + 16);
            assert_eq!(ring.open(&sealed, &aad).unwrap().as_slice(), value.as_bytes());
        }
    }

    /// `(description, owner and id used to open)`: each differs from the sealing row and must fail.
    #[test]
    fn wrong_associated_data_fails() {
        let ring = keyring(K1);
        let (id, other_id) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let sealed = ring.seal(b"sk-value", &secret_aad("alice", id)).unwrap();
        let cases = [
            ("other owner", "bob", id),
            ("other secret id", "alice", other_id),
            ("both", "bob", other_id),
        ];
        for (what, owner, secret_id) in cases {
            let err = ring.open(&sealed, &secret_aad(owner, secret_id)).unwrap_err();
            assert!(matches!(err, CryptoError::Undecryptable(_)), "{what}: {err}");
        }
    }

    #[test]
    fn wrong_or_missing_key_fails() {
        let aad = secret_aad("alice", uuid::Uuid::nil());
        let sealed = keyring(K1).seal(b"sk-value", &aad).unwrap();
        // (keyring, what differs, whether the key id is absent rather than wrong)
        let cases = [
            (K1_OTHER, "another key under the same id", false),
            ("k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=", "key id absent", true),
        ];
        for (text, what, absent) in cases {
            match keyring(text).open(&sealed, &aad).unwrap_err() {
                CryptoError::UnknownKey(kid) => assert!(absent, "{what}: unknown key {kid}"),
                CryptoError::Undecryptable(kid) => {
                    assert!(!absent, "{what}: undecryptable with {kid}")
                }
                other => panic!("{what}: {other}"),
            }
        }
    }

    #[test]
    fn nonce_differs_per_write() {
        let ring = keyring(K1);
        let aad = secret_aad("alice", uuid::Uuid::nil());
        let sealed: Vec<Sealed> = (0..64).map(|_| ring.seal(b"same value", &aad).unwrap()).collect();
        for (i, a) in sealed.iter().enumerate() {
            for b in &sealed[i + 1..] {
                assert_ne!(a.nonce, b.nonce);
                assert_ne!(a.ciphertext, b.ciphertext);
            }
        }
    }

    #[test]
    fn newest_key_writes_and_old_keys_still_read() {
        let old = keyring(K1);
        let aad = secret_aad("alice", uuid::Uuid::nil());
        let before = old.seal(b"v", &aad).unwrap();
        let rotated = old.with_new_key().unwrap();
        assert_eq!(rotated.ids().collect::<Vec<_>>(), ["k1", "k2"]);
        let after = rotated.seal(b"v", &aad).unwrap();
        assert_eq!((before.key_id.as_str(), after.key_id.as_str()), ("k1", "k2"));
        assert_eq!(rotated.open(&before, &aad).unwrap().as_slice(), b"v");
        // the text form round-trips
        let reparsed = keyring(&rotated.to_text());
        assert_eq!(reparsed.open(&after, &aad).unwrap().as_slice(), b"v");
    }

    #[test]
    fn key_check_records() {
        let ring = keyring(K1_K2);
        for kid in ["k1", "k2"] {
            let record = ring.key_check(kid).unwrap();
            ring.verify_key_check(&record).unwrap();
            assert!(keyring(K1_OTHER).verify_key_check(&record).is_err(), "{kid}");
        }
    }

    /// `(keyring text, expected error message)`; no message may echo key material.
    #[test]
    fn parse_errors() {
        let cases = [
            ("", "test holds no key"),
            ("# only a comment\n", "test holds no key"),
            (
                "k1:not base64!",
                "test line 1: key is not valid base64 (standard, padded)",
            ),
            ("k1:AAAA", "test line 1: key must decode to exactly 32 bytes"),
            (
                "bad id:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "test line 1: key id must be 1 to 32 of A-Z a-z 0-9 - _",
            ),
            (&format!("{K1}\n{K1_OTHER}"), "test names key id k1 twice"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Keyring::parse(text, "test").unwrap_err().to_string(),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn parse_accepts_env_forms() {
        let bare = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(keyring(bare).ids().collect::<Vec<_>>(), ["k1"]);
        let commas = K1_K2.replace('\n', ",");
        assert_eq!(keyring(&commas).current().id(), "k2");
    }

    #[test]
    fn debug_shows_no_key_material() {
        let ring = keyring(K1_K2);
        let debug = format!("{ring:?}");
        assert!(
            debug.contains("k1") && !debug.contains("AAAA") && !debug.contains("bytes"),
            "{debug}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let ring = Keyring::generate().unwrap();
        ring.create_file(&path).unwrap();
        assert!(ring.create_file(&path).is_err(), "create_file never overwrites");
        ring.with_new_key().unwrap().replace_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = Keyring::load_file(&path).unwrap().unwrap();
        assert_eq!(loaded.ids().collect::<Vec<_>>(), ["k1", "k2"]);
        assert!(Keyring::load_file(&dir.path().join("absent")).unwrap().is_none());
    }
}

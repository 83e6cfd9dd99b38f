//! The store's tests: one fixture drives the public API, so they stay together rather than beside each submodule.

use super::*;
use crate::crypto::Keyring;
use crate::tokens::{self, Scope};

const K1: &str = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const K1_OTHER: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
    keyring: Keyring,
}

fn fixture(timeout: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.db");
    let store = Store::open(&path, timeout).unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
        keyring: Keyring::parse(K1, "test").unwrap(),
    }
}

fn secret(keyring: &Keyring, owner: &str, name: &str, value: &str) -> NewSecret {
    let id = uuid::Uuid::new_v4();
    NewSecret {
        id,
        owner: owner.to_owned(),
        name: name.to_owned(),
        provider: "openai".to_owned(),
        masked_value: crate::mask::mask(value),
        sealed: keyring.seal(value.as_bytes(), &crypto::secret_aad(owner, id)).unwrap(),
        created_at: Utc::now(),
    }
}

async fn value_of(f: &Fixture, keyring: &Keyring, owner: &str, id: uuid::Uuid) -> Result<String, StoreError> {
    let sealed = f.store.sealed_secret(owner, id).await?.expect("row exists");
    let plain = keyring.open(&sealed, &crypto::secret_aad(owner, id))?;
    Ok(String::from_utf8(plain.to_vec()).unwrap())
}

#[tokio::test]
async fn durability_pragmas() {
    let f = fixture(Duration::from_secs(5));
    // Asked on the writer's own connection: `synchronous` is a per-connection setting.
    let (mode, sync) = f
        .store
        .write(|conn| {
            let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
            Ok((mode, sync))
        })
        .await
        .unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2), "WAL with synchronous=FULL");
}

/// `(owner, name, expected)`, inserted in order into one store.
#[tokio::test]
async fn unique_per_owner_and_name() {
    let f = fixture(Duration::from_secs(5));
    let cases = [
        ("alice", "OPENAI_API_KEY", true),
        ("alice", "OPENAI_API_KEY", false),
        ("alice", "GITHUB_TOKEN", true),
        ("bob", "OPENAI_API_KEY", true),
        ("bob", "OPENAI_API_KEY", false),
    ];
    for (i, (owner, name, ok)) in cases.into_iter().enumerate() {
        let result = f.store.insert_secret(secret(&f.keyring, owner, name, "sk-value")).await;
        match (ok, result) {
            (true, Ok(())) | (false, Err(StoreError::Conflict)) => {}
            (_, other) => panic!("case {i} ({owner}, {name}): {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_give_exactly_one_success() {
    let f = Arc::new(fixture(Duration::from_secs(10)));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let f = Arc::clone(&f);
            tokio::spawn(async move {
                f.store
                    .insert_secret(secret(&f.keyring, "alice", "OPENAI_API_KEY", "v"))
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results.iter().all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict))),
        "{results:?}"
    );
}

#[tokio::test]
async fn values_are_private_to_their_row() {
    let f = fixture(Duration::from_secs(5));
    let (a, b) = (
        secret(&f.keyring, "alice", "A", "alice-value"),
        secret(&f.keyring, "bob", "A", "bob-value"),
    );
    let (a_id, b_id) = (a.id, b.id);
    f.store.insert_secret(a).await.unwrap();
    f.store.insert_secret(b).await.unwrap();
    assert_eq!(value_of(&f, &f.keyring, "alice", a_id).await.unwrap(), "alice-value");
    assert!(
        f.store.sealed_secret("bob", a_id).await.unwrap().is_none(),
        "owners see only their own rows"
    );
    // copy alice's ciphertext into bob's row: it must not decrypt there
    let conn = Connection::open(&f.path).unwrap();
    conn.execute(
        "UPDATE secrets SET (key_id, nonce, ciphertext) = (SELECT key_id, nonce, ciphertext FROM secrets WHERE id = ?1) \
         WHERE id = ?2",
        [a_id.to_string(), b_id.to_string()],
    )
    .unwrap();
    let err = value_of(&f, &f.keyring, "bob", b_id).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unreadable(CryptoError::Undecryptable(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn tokens_insert_find_revoke() {
    let f = fixture(Duration::from_secs(5));
    let t = tokens::generate().unwrap();
    let u = tokens::generate().unwrap();
    f.store
        .insert_token(t.id.clone(), "alice".into(), Scope::Read, t.hash)
        .await
        .unwrap();
    f.store
        .insert_token(u.id.clone(), "bob".into(), Scope::Write, u.hash)
        .await
        .unwrap();
    let row = f.store.token_by_hash(t.hash).await.unwrap().unwrap();
    assert_eq!(
        (row.user.as_str(), row.scope, row.revoked_at.is_none()),
        ("alice", Scope::Read, true)
    );
    assert!(tokens::verify(&row.hash, &t.hash));
    assert!(
        f.store
            .token_by_hash(tokens::hash("st_unknown"))
            .await
            .unwrap()
            .is_none()
    );
    // (revoke by id, revoke by hash, expected revoked id)
    let cases = [
        (Some(t.id.clone()), None, Some(t.id.clone())),
        (Some(t.id.clone()), None, None),
        (None, Some(u.hash), Some(u.id.clone())),
        (None, Some(u.hash), None),
        (Some("tok_unknown".to_owned()), None, None),
    ];
    for (i, (id, hash, expected)) in cases.into_iter().enumerate() {
        let revoked = f.store.revoke_token(id, hash).await.unwrap();
        assert_eq!(revoked.map(|r| r.id), expected, "case {i}");
    }
    let listed = f.store.tokens().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|r| r.revoked_at.is_some()));
    assert!(
        f.store
            .token_by_hash(t.hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
}

#[tokio::test]
async fn locked_database_times_out_and_stores_nothing() {
    let f = fixture(Duration::from_millis(300));
    let other = Connection::open(&f.path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let err = f
        .store
        .insert_secret(secret(&f.keyring, "alice", "A", "v"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    other.execute_batch("ROLLBACK").unwrap();
    let count: i64 = other
        .query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
    // and the store works again once the lock is gone
    f.store
        .insert_secret(secret(&f.keyring, "alice", "A", "v"))
        .await
        .unwrap();
}

#[tokio::test]
async fn keyring_checks() {
    let f = fixture(Duration::from_secs(5));
    assert_eq!(f.store.check_keyring(&f.keyring).await.unwrap(), ["k1"]);
    let s = secret(&f.keyring, "alice", "A", "v");
    f.store.insert_secret(s).await.unwrap();
    // (keyring, expected error) against a database written with K1
    let k2_only = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
    let cases = [
        (K1, None),
        (
            K1_OTHER,
            Some(
                "key k1 in the keyring is not the key k1 this database was written with (it cannot decrypt stored data)",
            ),
        ),
        (
            k2_only,
            Some("stored secrets are encrypted with key k1, which the keyring does not hold"),
        ),
    ];
    for (text, expected) in cases {
        let ring = Keyring::parse(text, "test").unwrap();
        let result = f.store.check_keyring(&ring).await;
        assert_eq!(result.err().map(|e| e.to_string()).as_deref(), expected, "{text:.3}");
    }
}

#[tokio::test]
async fn rotation_reencrypts_everything_and_old_data_stays_readable() {
    let f = fixture(Duration::from_secs(5));
    let old = f.keyring.clone();
    let mut ids = Vec::new();
    for (owner, value) in [("alice", "a-value"), ("bob", "b-value"), ("carol", "c-value")] {
        let s = secret(&old, owner, "OPENAI_API_KEY", value);
        ids.push((owner, s.id, value));
        f.store.insert_secret(s).await.unwrap();
    }
    let rotated = old.with_new_key().unwrap();
    assert_eq!(f.store.reencrypt_all(&rotated).await.unwrap(), 3);
    assert_eq!(
        f.store.reencrypt_all(&rotated).await.unwrap(),
        0,
        "a second run has nothing left to do"
    );
    for (owner, id, value) in &ids {
        assert_eq!(f.store.sealed_secret(owner, *id).await.unwrap().unwrap().key_id, "k2");
        assert_eq!(value_of(&f, &rotated, owner, *id).await.unwrap(), *value);
    }
    f.store.check_keyring(&rotated).await.unwrap();
    // the old key alone no longer fits: the data now needs k2
    assert!(matches!(f.store.check_keyring(&old).await, Err(KeyCheckError::MissingKey(k)) if k == "k2"));
}

#[test]
fn sqlite_errors_map_to_store_errors() {
    use rusqlite::ffi;
    let failure = |code| rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
    // (primary result code, expected variant)
    let cases = [
        (ffi::SQLITE_BUSY, "timeout"),
        (ffi::SQLITE_LOCKED, "timeout"),
        (ffi::SQLITE_IOERR, "unavailable"),
        (ffi::SQLITE_CORRUPT, "unavailable"),
        (ffi::SQLITE_NOTADB, "unavailable"),
        (ffi::SQLITE_FULL, "unavailable"),
        (ffi::SQLITE_CANTOPEN, "unavailable"),
        (ffi::SQLITE_CONSTRAINT, "database"),
        (ffi::SQLITE_MISUSE, "database"),
    ];
    for (code, expected) in cases {
        let got = match StoreError::from(failure(code)) {
            StoreError::Timeout(_) => "timeout",
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Database(_) => "database",
            other => panic!("{code}: {other:?}"),
        };
        assert_eq!(got, expected, "sqlite code {code}");
    }
}

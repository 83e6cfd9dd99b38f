//! The store's tests: one fixture drives the public API, so they stay together rather than beside each submodule.

use chrono::SubsecRound as _;

use super::SqliteStore as Store;
use super::schema::{LATEST, SCHEMA};
use super::*;
use crate::crypto::{CryptoError, Keyring};
use crate::store::{KeyCheckError, KeyStore as _, TokenStore as _};
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
        provider: Some("openai".to_owned()),
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
        .insert_token(t.id.clone(), "alice".into(), Scope::Read, t.hash, None)
        .await
        .unwrap();
    f.store
        .insert_token(u.id.clone(), "bob".into(), Scope::Write, u.hash, None)
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
async fn last_use_is_written_at_most_once_a_minute() {
    let f = fixture(Duration::from_secs(5));
    crate::store::tests::check_touch_is_coalesced(&f.store).await;
}

/// An expiry is stored and read back; recording a use does not bump the epoch, so the cached lookup (expiry
/// included) stays cached, while a revocation does.
#[tokio::test]
async fn expiry_is_kept_and_a_use_keeps_the_cache() {
    let f = fixture(Duration::from_secs(5));
    let epoch = || -> i64 {
        Connection::open(&f.path)
            .unwrap()
            .query_row("SELECT epoch FROM token_epoch", [], |r| r.get(0))
            .unwrap()
    };
    let t = tokens::generate().unwrap();
    let expires = Utc::now().trunc_subsecs(6) + TimeDelta::hours(1);
    f.store
        .insert_token(t.id.clone(), "alice".into(), Scope::Read, t.hash, Some(expires))
        .await
        .unwrap();
    let row = f.store.token_by_hash(t.hash).await.unwrap().unwrap();
    assert_eq!((row.expires_at, row.last_used_at), (Some(expires), None));
    let before = epoch();
    assert!(f.store.touch_token(t.id.clone(), Utc::now()).await.unwrap());
    assert_eq!(epoch(), before, "recording a use does not bump the token epoch");
    let cached = f.store.token_by_hash(t.hash).await.unwrap().unwrap();
    assert_eq!(
        (cached.expires_at, cached.last_used_at),
        (Some(expires), None),
        "answered from the cache, expiry included"
    );
    f.store.revoke_token(Some(t.id.clone()), None).await.unwrap();
    assert!(epoch() > before, "a revocation bumps it");
    let listed = f.store.tokens().await.unwrap();
    assert!(listed[0].last_used_at.is_some() && listed[0].revoked_at.is_some());
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

fn new_value(keyring: &Keyring, owner: &str, id: uuid::Uuid, value: &str, at: DateTime<Utc>) -> NewValue {
    NewValue {
        masked_value: crate::mask::mask(value),
        sealed: keyring.seal(value.as_bytes(), &crypto::secret_aad(owner, id)).unwrap(),
        at,
    }
}

/// Every query is scoped to its owner: another owner's id reads, updates and deletes as if it did not exist.
#[tokio::test]
async fn list_get_update_delete_per_owner() {
    let f = fixture(Duration::from_secs(5));
    let mut alice_ids = Vec::new();
    for name in ["ZED_TOKEN", "ANTHROPIC_API_KEY", "MY_KEY"] {
        let mut s = secret(&f.keyring, "alice", name, "a-value");
        if name == "MY_KEY" {
            s.provider = None;
        }
        alice_ids.push(s.id);
        f.store.insert_secret(s).await.unwrap();
    }
    let bob = secret(&f.keyring, "bob", "OPENAI_API_KEY", "b-value");
    let bob_id = bob.id;
    f.store.insert_secret(bob).await.unwrap();

    let names: Vec<String> = f
        .store
        .list_secrets("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["ANTHROPIC_API_KEY", "MY_KEY", "ZED_TOKEN"], "sorted by name");
    assert!(f.store.list_secrets("carol").await.unwrap().is_empty());
    let mine = f.store.secret("alice", alice_ids[2]).await.unwrap().unwrap();
    assert_eq!((mine.name.as_str(), mine.provider), ("MY_KEY", None));
    assert_eq!(mine.created_at, mine.updated_at);

    // (owner, id, expected to exist for that owner)
    let cases = [
        ("alice", alice_ids[0], true),
        ("bob", alice_ids[0], false),
        ("alice", bob_id, false),
        ("alice", uuid::Uuid::new_v4(), false),
    ];
    for (i, (owner, id, exists)) in cases.into_iter().enumerate() {
        assert_eq!(
            f.store.secret(owner, id).await.unwrap().is_some(),
            exists,
            "get, case {i}"
        );
        let updated = f
            .store
            .update_secret(owner, id, new_value(&f.keyring, owner, id, "new-value", Utc::now()))
            .await
            .unwrap();
        assert_eq!(updated.is_some(), exists, "update, case {i}");
    }
    assert_eq!(
        value_of(&f, &f.keyring, "alice", alice_ids[0]).await.unwrap(),
        "new-value"
    );
    assert_eq!(
        value_of(&f, &f.keyring, "bob", bob_id).await.unwrap(),
        "b-value",
        "bob's value untouched"
    );

    // (owner, id, the name of the secret deleted)
    let deletes = [
        ("bob", alice_ids[1], None),
        ("alice", alice_ids[1], Some("ANTHROPIC_API_KEY")),
        ("alice", alice_ids[1], None),
    ];
    for (i, (owner, id, deleted)) in deletes.into_iter().enumerate() {
        assert_eq!(
            f.store.delete_secret(owner, id).await.unwrap().as_deref(),
            deleted,
            "delete, case {i}"
        );
    }
    let left = f.store.update_secret(
        "alice",
        alice_ids[1],
        new_value(&f.keyring, "alice", alice_ids[1], "v", Utc::now()),
    );
    assert!(
        left.await.unwrap().is_none(),
        "an update never brings a deleted secret back"
    );
    // the name is free again
    f.store
        .insert_secret(secret(&f.keyring, "alice", "ANTHROPIC_API_KEY", "again"))
        .await
        .unwrap();
}

/// `updated_at` moves forward on every update, even at one and the same instant, and never before `created_at`.
#[tokio::test]
async fn updated_at_always_moves_forward() {
    let f = fixture(Duration::from_secs(5));
    let s = secret(&f.keyring, "alice", "A", "v");
    let (id, created) = (s.id, s.created_at.trunc_subsecs(6));
    f.store.insert_secret(s).await.unwrap();
    let frozen = created;
    let past = created - TimeDelta::hours(1);
    let mut last = created;
    // (the clock the update reads) — a frozen clock, a clock that stepped back, then a real one
    for (i, at) in [frozen, frozen, past, Utc::now()].into_iter().enumerate() {
        let row = f
            .store
            .update_secret("alice", id, new_value(&f.keyring, "alice", id, "v2", at))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.created_at, created, "update {i} kept created_at");
        assert!(
            row.updated_at > last,
            "update {i}: {} is not after {last}",
            row.updated_at
        );
        last = row.updated_at;
    }
}

/// A database written before custom secrets (`provider NOT NULL`) opens, keeps its secrets, and takes secrets
/// without a provider afterwards; opening it again changes nothing.
#[tokio::test]
async fn old_databases_are_migrated_and_keep_their_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.db");
    let keyring = Keyring::parse(K1, "test").unwrap();
    let old = secret(&keyring, "alice", "OPENAI_API_KEY", "old-value");
    let old_id = old.id;
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&SCHEMA.replacen("provider     TEXT,", "provider     TEXT NOT NULL,", 1))
            .unwrap();
        conn.execute(
            "INSERT INTO secrets VALUES (?1, 'alice', 'OPENAI_API_KEY', 'openai', ?2, ?3, ?4, ?5, ?6, ?6)",
            params![
                old_id.to_string(),
                old.masked_value,
                old.sealed.key_id,
                old.sealed.nonce.as_slice(),
                old.sealed.ciphertext,
                timestamp(old.created_at),
            ],
        )
        .unwrap();
    }
    for round in 0..2 {
        let store = Store::open(&path, Duration::from_secs(5)).unwrap();
        let f = Fixture {
            _dir: tempfile::tempdir().unwrap(),
            path: path.clone(),
            store,
            keyring: keyring.clone(),
        };
        assert_eq!(
            value_of(&f, &keyring, "alice", old_id).await.unwrap(),
            "old-value",
            "round {round}"
        );
        let row = f.store.secret("alice", old_id).await.unwrap().unwrap();
        assert_eq!(row.provider.as_deref(), Some("openai"));
        let mut custom = secret(&keyring, "alice", &format!("CUSTOM_{round}"), "c");
        custom.provider = None;
        f.store.insert_secret(custom).await.unwrap();
        assert_eq!(f.store.list_secrets("alice").await.unwrap().len(), round + 2);
        f.store.check_keyring(&keyring).await.unwrap();
    }
    let conn = Connection::open(&path).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let indexes: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'secrets'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        indexes, 3,
        "the primary key, UNIQUE (owner, name) and secrets_key_id indexes"
    );
}

/// A database migrated by a newer release is refused, not written to; one at the latest version opens as it is.
#[tokio::test]
async fn schema_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.db");
    drop(Store::open(&path, Duration::from_secs(5)).unwrap());
    let version = || -> i64 {
        Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(), LATEST, "a new file is created at the latest version");
    drop(Store::open(&path, Duration::from_secs(5)).unwrap());
    assert_eq!(version(), LATEST, "opening again changes nothing");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", LATEST + 1)
        .unwrap();
    let err = Store::open(&path, Duration::from_secs(5)).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, known, .. } if found == LATEST + 1 && known == LATEST),
        "{err}"
    );
}

/// A database file written by release 4940709 (before schema versions; see `tests/fixtures/release-4940709`)
/// opens, is migrated, and its secrets decrypt with its key file.
#[tokio::test]
async fn a_database_from_the_previous_release_keeps_its_secrets() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-4940709");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.db");
    std::fs::copy(fixture.join("secrets.db"), &path).unwrap();
    let keyring = Keyring::load_file(&fixture.join("secrets.key")).unwrap().unwrap();
    let store = Store::open(&path, Duration::from_secs(5)).unwrap();
    store.check_keyring(&keyring).await.unwrap();
    let rows = store.list_secrets("fixture-user").await.unwrap();
    let expected = [
        ("CUSTOM_FIXTURE_TOKEN", None, "custom-fixture-value-0002"),
        ("GITHUB_TOKEN", Some("github"), "ghp_fixture_github_0003_updated"),
        ("OPENAI_API_KEY", Some("openai"), "sk-fixture-openai-0001"),
    ];
    assert_eq!(rows.len(), expected.len());
    for (row, (name, provider, value)) in rows.iter().zip(expected) {
        assert_eq!((row.name.as_str(), row.provider.as_deref()), (name, provider));
        let sealed = store.sealed_secret("fixture-user", row.id).await.unwrap().unwrap();
        let plain = keyring
            .open(&sealed, &crypto::secret_aad("fixture-user", row.id))
            .unwrap();
        assert_eq!(plain.as_slice(), value.as_bytes(), "{name}");
    }
    let token = std::fs::read_to_string(fixture.join("token.txt")).unwrap();
    let row = store
        .token_by_hash(crate::tokens::hash(token.trim()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.user.as_str(), row.scope), ("fixture-user", Scope::Write));
    assert_eq!((row.expires_at, row.last_used_at), (None, None), "it never expires");
    assert!(store.touch_token(row.id.clone(), Utc::now()).await.unwrap());
    let version: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST);
}

/// A database file written by release dcbc553 (schema version 2, before token expiry; see
/// `tests/fixtures/release-dcbc553`) is migrated: its secrets decrypt, its tokens keep their scope and revocation
/// and never expire, a use is recorded without bumping the token epoch, and a revocation still bumps it. Opened
/// again, the migrated file is left as it is.
#[tokio::test]
async fn a_database_from_the_release_before_token_expiry_is_migrated() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-dcbc553");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.db");
    std::fs::copy(fixture.join("secrets.db"), &path).unwrap();
    let keyring = Keyring::load_file(&fixture.join("secrets.key")).unwrap().unwrap();
    let epoch = || -> i64 {
        Connection::open(&path)
            .unwrap()
            .query_row("SELECT epoch FROM token_epoch", [], |r| r.get(0))
            .unwrap()
    };
    let token = std::fs::read_to_string(fixture.join("token.txt")).unwrap();
    for round in 0..2 {
        let store = Store::open(&path, Duration::from_secs(5)).unwrap();
        store.check_keyring(&keyring).await.unwrap();
        let expected = [
            ("CUSTOM_FIXTURE_TOKEN", None, "custom-fixture-value-dcbc553"),
            ("OPENAI_API_KEY", Some("openai"), "sk-fixture-openai-dcbc553"),
        ];
        let rows = store.list_secrets("fixture-user").await.unwrap();
        assert_eq!(rows.len(), expected.len(), "round {round}");
        for (row, (name, provider, value)) in rows.iter().zip(expected) {
            assert_eq!((row.name.as_str(), row.provider.as_deref()), (name, provider));
            let sealed = store.sealed_secret("fixture-user", row.id).await.unwrap().unwrap();
            let plain = keyring
                .open(&sealed, &crypto::secret_aad("fixture-user", row.id))
                .unwrap();
            assert_eq!(plain.as_slice(), value.as_bytes(), "round {round}: {name}");
        }
        // (user, scope, revoked)
        let listed: Vec<_> = store
            .tokens()
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                assert_eq!(r.expires_at, None, "round {round}: {} never expires", r.user);
                (r.user, r.scope, r.revoked_at.is_some())
            })
            .collect();
        let users = [
            ("fixture-user".to_owned(), Scope::Write, false),
            ("fixture-reader".to_owned(), Scope::Read, false),
            ("fixture-revoked".to_owned(), Scope::Write, true),
        ];
        assert_eq!(listed, users, "round {round}");
        let row = store
            .token_by_hash(crate::tokens::hash(token.trim()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.user.as_str(), row.revoked_at), ("fixture-user", None));
        let before = epoch();
        let wrote = store.touch_token(row.id.clone(), Utc::now()).await.unwrap();
        assert_eq!(wrote, round == 0, "round {round}: written once a minute");
        assert_eq!(epoch(), before, "round {round}: a use leaves the epoch alone");
    }
    let store = Store::open(&path, Duration::from_secs(5)).unwrap();
    let before = epoch();
    assert!(
        store
            .revoke_token(None, Some(crate::tokens::hash(token.trim())))
            .await
            .unwrap()
            .is_some()
    );
    assert!(epoch() > before, "a revocation still bumps the epoch");
    let conn = Connection::open(&path).unwrap();
    let (version, integrity): (i64, String) = (
        conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap(),
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap(),
    );
    assert_eq!((version, integrity.as_str()), (LATEST, "ok"));
}

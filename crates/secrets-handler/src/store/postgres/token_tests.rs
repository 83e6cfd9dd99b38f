//! Token expiry and last use on PostgreSQL, against a throwaway cluster: a database at the schema of the release
//! before (version 1, with its tokens) is migrated, and the last-use write is coalesced in the database itself.

use std::time::Duration;

use chrono::{SubsecRound as _, TimeDelta, Utc};
use throwaway_postgres::{Cluster, Options};

use super::schema::MIGRATIONS;
use crate::store::{Database, Store};
use crate::tokens::{self, Scope};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_release_before_is_migrated_and_last_use_is_coalesced() {
    let cluster = match Cluster::start(Options::default()) {
        Ok(cluster) => cluster,
        Err(throwaway_postgres::Error::NotInstalled) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: {}", throwaway_postgres::Error::NotInstalled);
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let url = cluster.create_database("tokens").unwrap();
    let db = url.rsplit('/').next().unwrap();
    let psql = |sql: &str| cluster.psql(db, sql).unwrap();
    // The release before wrote version 1 (its migration, unchanged since) and these tokens.
    let (live, revoked) = (tokens::generate().unwrap(), tokens::generate().unwrap());
    let hex = |hash: &[u8]| hash.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let (version_1, _, schema_1) = MIGRATIONS[0];
    assert_eq!(version_1, 1);
    psql(&format!(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
         {schema_1}
         INSERT INTO schema_migrations (version) VALUES (1);
         INSERT INTO tokens (id, \"user\", scope, hash, created_at, revoked_at) VALUES
             ('{}', 'old-reader', 'read', '\\x{}', now() - interval '1 minute', NULL),
             ('{}', 'old-revoked', 'write', '\\x{}', now(), now());",
        live.id,
        hex(&live.hash),
        revoked.id,
        hex(&revoked.hash),
    ));
    let epoch = || psql("SELECT epoch FROM token_epoch").parse::<i64>().unwrap();
    let store = Store::open(&Database::parse(&url), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(psql("SELECT max(version) FROM schema_migrations"), "2");

    // (user, scope, revoked, expires)
    let listed: Vec<_> = store
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.user, r.scope, r.revoked_at.is_some(), r.expires_at))
        .collect();
    assert_eq!(
        listed,
        [
            ("old-reader".to_owned(), Scope::Read, false, None),
            ("old-revoked".to_owned(), Scope::Write, true, None),
        ]
    );
    let row = store.token_by_hash(live.hash).await.unwrap().unwrap();
    assert_eq!(
        (row.user.as_str(), row.expires_at, row.last_used_at),
        ("old-reader", None, None)
    );

    crate::store::tests::check_touch_is_coalesced(&*store).await;

    // A use leaves the epoch (and so every instance's cache) alone; an expiry is stored; a revocation bumps it.
    let before = epoch();
    assert!(store.touch_token(live.id.clone(), Utc::now()).await.unwrap());
    assert_eq!(epoch(), before, "recording a use does not bump the token epoch");
    let new = tokens::generate().unwrap();
    let expires = Utc::now().trunc_subsecs(6) + TimeDelta::days(90);
    store
        .insert_token(new.id.clone(), "new".into(), Scope::Write, new.hash, Some(expires))
        .await
        .unwrap();
    let row = store.token_by_hash(new.hash).await.unwrap().unwrap();
    assert_eq!(row.expires_at, Some(expires));
    let before = epoch();
    store.revoke_token(Some(live.id.clone()), None).await.unwrap();
    assert!(epoch() > before, "a revocation bumps it");
    drop(store);

    let again = Store::open(&Database::parse(&url), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        psql("SELECT count(*) FROM schema_migrations"),
        "2",
        "opened again, nothing more runs"
    );
    assert_eq!(again.tokens().await.unwrap().len(), 4);
}

//! Key checks: proving at startup that the keyring still decrypts what is stored, and re-encrypting under a new key.

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension as _, params};

use super::{SqliteStore, sealed_from_row, to_sealed};
use crate::crypto::Keyring;
use crate::store::keycheck;
use crate::store::{KeyCheckError, KeyStore, StoreError, timestamp};

#[async_trait]
impl KeyStore for SqliteStore {
    async fn known_key_ids(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare("SELECT key_id FROM key_checks UNION SELECT key_id FROM secrets ORDER BY key_id")?;
            let ids = stmt
                .query_map([], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
        .await
    }

    async fn check_keyring(&self, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError> {
        let keyring = keyring.clone();
        self.write(move |tx| Ok(check_keyring(tx, &keyring))).await?
    }

    async fn reencrypt_all(&self, keyring: &Keyring) -> Result<usize, StoreError> {
        let keyring = keyring.clone();
        self.write(move |tx| {
            let current = keyring.current().id().to_owned();
            if !has_key_check(tx, &current)? {
                insert_key_check(tx, &keyring, &current)?;
            }
            let rows = tx
                .prepare("SELECT id, owner, key_id, nonce, ciphertext FROM secrets WHERE key_id <> ?1")?
                .query_map([&current], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                })?
                .collect::<Result<Vec<(String, String, String, Vec<u8>, Vec<u8>)>, _>>()?;
            let mut update = tx.prepare("UPDATE secrets SET key_id = ?1, nonce = ?2, ciphertext = ?3 WHERE id = ?4")?;
            for (id, owner, key_id, nonce, ciphertext) in &rows {
                let sealed = to_sealed(key_id.clone(), nonce, ciphertext.clone())?;
                let resealed = keycheck::reseal(&keyring, owner, id, &sealed)?;
                update.execute(params![
                    resealed.key_id,
                    resealed.nonce.as_slice(),
                    resealed.ciphertext,
                    id
                ])?;
            }
            Ok(rows.len())
        })
        .await
    }
}

fn has_key_check(tx: &Connection, kid: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_row("SELECT 1 FROM key_checks WHERE key_id = ?1", [kid], |_| Ok(()))
        .optional()?
        .is_some())
}

fn insert_key_check(tx: &Connection, keyring: &Keyring, kid: &str) -> Result<(), StoreError> {
    let record = keyring.key_check(kid)?;
    tx.execute(
        "INSERT INTO key_checks (key_id, nonce, ciphertext, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            record.key_id,
            record.nonce.as_slice(),
            record.ciphertext,
            timestamp(Utc::now())
        ],
    )?;
    Ok(())
}

fn check_keyring(tx: &Connection, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError> {
    // 1. every key id the database has a record of must still name the same key, if the keyring holds it
    let records = tx
        .prepare("SELECT key_id, nonce, ciphertext FROM key_checks")
        .map_err(StoreError::from)?
        .query_map([], sealed_from_row)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(StoreError::from)?
        .into_iter()
        .map(|(kid, nonce, ciphertext)| to_sealed(kid, &nonce, ciphertext))
        .collect::<Result<Vec<_>, _>>()?;
    keycheck::verify_records(keyring, &records)?;
    // 2. every key id used by stored secrets must be in the keyring and decrypt one of them
    let used: Vec<String> = tx
        .prepare("SELECT DISTINCT key_id FROM secrets")
        .map_err(StoreError::from)?
        .query_map([], |row| row.get(0))
        .and_then(Iterator::collect)
        .map_err(StoreError::from)?;
    for kid in &used {
        let (id, owner, nonce, ciphertext): (String, String, Vec<u8>, Vec<u8>) = tx
            .query_row(
                "SELECT id, owner, nonce, ciphertext FROM secrets WHERE key_id = ?1 LIMIT 1",
                [kid],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(StoreError::from)?;
        let sample = to_sealed(kid.clone(), &nonce, ciphertext)?;
        keycheck::verify_used(keyring, kid, &owner, &id, &sample)?;
    }
    // 3. record a key check for each key id seen for the first time
    let mut checked = Vec::new();
    for kid in keyring.ids() {
        if !has_key_check(tx, kid)? {
            insert_key_check(tx, keyring, kid)?;
        }
        checked.push(kid.to_owned());
    }
    Ok(checked)
}

//! Key checks: proving at startup that the keyring still decrypts what is stored, and re-encrypting under a new key.
//! Each runs in one transaction, its statements bounded by the store timeout set on every connection (key rotation
//! opens its store with a longer one).

use async_trait::async_trait;
use chrono::Utc;

use super::{PgStore, col, sealed};
use crate::crypto::Keyring;
use crate::store::{KeyCheckError, KeyStore, StoreError, keycheck};

#[async_trait]
impl KeyStore for PgStore {
    async fn known_key_ids(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .query(
                "SELECT key_id FROM key_checks UNION SELECT key_id FROM secrets ORDER BY key_id",
                &[],
            )
            .await?;
        rows.iter().map(|row| col(row, 0)).collect()
    }

    /// In one transaction that holds `key_checks` exclusively, so two instances starting with a new key record it
    /// once.
    async fn check_keyring(&self, keyring: &Keyring) -> Result<Vec<String>, KeyCheckError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.fail(e))?;
        tx.batch_execute("LOCK TABLE key_checks IN EXCLUSIVE MODE")
            .await
            .map_err(|e| self.fail(e))?;
        // 1. every key id the database has a record of must still name the same key, if the keyring holds it
        let records = tx
            .query("SELECT key_id, nonce, ciphertext FROM key_checks", &[])
            .await
            .map_err(|e| self.fail(e))?
            .iter()
            .map(|row| sealed(row, 0))
            .collect::<Result<Vec<_>, _>>()?;
        keycheck::verify_records(keyring, &records)?;
        // 2. every key id used by stored secrets must be in the keyring and decrypt one of them
        let samples = tx
            .query(
                "SELECT DISTINCT ON (key_id) key_id, nonce, ciphertext, owner, id FROM secrets ORDER BY key_id",
                &[],
            )
            .await
            .map_err(|e| self.fail(e))?;
        for row in &samples {
            let sample = sealed(row, 0)?;
            let id: uuid::Uuid = col(row, 4)?;
            keycheck::verify_used(keyring, &sample.key_id, col(row, 3)?, &id.to_string(), &sample)?;
        }
        // 3. record a key check for each key id seen for the first time
        let mut checked = Vec::new();
        for kid in keyring.ids() {
            self.record_key_check(&tx, keyring, kid).await?;
            checked.push(kid.to_owned());
        }
        tx.commit().await.map_err(|e| self.fail(e))?;
        Ok(checked)
    }

    /// In one transaction: concurrent writes from running instances wait on the row locks, then proceed.
    async fn reencrypt_all(&self, keyring: &Keyring) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.fail(e))?;
        let current = keyring.current().id().to_owned();
        self.record_key_check(&tx, keyring, &current).await?;
        let rows = tx
            .query(
                "SELECT key_id, nonce, ciphertext, owner, id FROM secrets WHERE key_id <> $1 FOR UPDATE",
                &[&current],
            )
            .await
            .map_err(|e| self.fail(e))?;
        let update = tx
            .prepare("UPDATE secrets SET key_id = $1, nonce = $2, ciphertext = $3 WHERE id = $4")
            .await
            .map_err(|e| self.fail(e))?;
        for row in &rows {
            let id: uuid::Uuid = col(row, 4)?;
            let resealed = keycheck::reseal(keyring, col(row, 3)?, &id.to_string(), &sealed(row, 0)?)?;
            tx.execute(
                &update,
                &[&resealed.key_id, &resealed.nonce.as_slice(), &resealed.ciphertext, &id],
            )
            .await
            .map_err(|e| self.fail(e))?;
        }
        tx.commit().await.map_err(|e| self.fail(e))?;
        Ok(rows.len())
    }
}

impl PgStore {
    /// Records `kid`'s key check unless the database already has one (another instance may have just written it).
    async fn record_key_check(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        keyring: &Keyring,
        kid: &str,
    ) -> Result<(), StoreError> {
        let record = keyring.key_check(kid)?;
        tx.execute(
            "INSERT INTO key_checks (key_id, nonce, ciphertext, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key_id) DO NOTHING",
            &[
                &record.key_id,
                &record.nonce.as_slice(),
                &record.ciphertext,
                &Utc::now(),
            ],
        )
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }
}

//! The keyring checks and re-encryption both backends run: pure functions over the rows each one reads.

use super::{KeyCheckError, StoreError};
use crate::crypto::{self, CryptoError, Keyring, Sealed};

/// Every key-check record whose key id the keyring holds must still decrypt with the keyring's key of that id
/// (a record for a key the keyring lacks is another release's or an old key's, and is skipped).
pub(super) fn verify_records(keyring: &Keyring, records: &[Sealed]) -> Result<(), KeyCheckError> {
    for record in records {
        if keyring.ids().any(|k| k == record.key_id) {
            keyring
                .verify_key_check(record)
                .map_err(|_| KeyCheckError::WrongKey(record.key_id.clone()))?;
        }
    }
    Ok(())
}

/// Key `kid`, used by stored secrets, must be in the keyring and decrypt `sample`, one secret (its owner and id)
/// encrypted with it.
pub(super) fn verify_used(
    keyring: &Keyring,
    kid: &str,
    owner: &str,
    id: &str,
    sample: &Sealed,
) -> Result<(), KeyCheckError> {
    if !keyring.ids().any(|k| k == kid) {
        return Err(KeyCheckError::MissingKey(kid.to_owned()));
    }
    let wrong = || KeyCheckError::WrongKey(kid.to_owned());
    let secret_id = uuid::Uuid::parse_str(id).map_err(|_| wrong())?;
    keyring
        .open(sample, &crypto::secret_aad(owner, secret_id))
        .map_err(|_| wrong())?;
    Ok(())
}

/// A stored value (of `owner`'s secret `id`) re-encrypted with the keyring's current key.
pub(super) fn reseal(keyring: &Keyring, owner: &str, id: &str, sealed: &Sealed) -> Result<Sealed, StoreError> {
    let secret_id = uuid::Uuid::parse_str(id).map_err(|_| CryptoError::Undecryptable(sealed.key_id.clone()))?;
    let aad = crypto::secret_aad(owner, secret_id);
    let plain = keyring.open(sealed, &aad)?;
    Ok(keyring.seal(&plain, &aad)?)
}

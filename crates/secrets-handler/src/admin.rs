//! Administration commands: `token create|list|revoke` and `key rotate`.

use std::io::Write as _;
use std::time::Duration;

use secrecy::ExposeSecret as _;

use crate::cli::{KeyArgs, MASTER_KEY_ENV, TokenCommand};
use crate::crypto::Keyring;
use crate::server::{KeySource, ServerError, check_keyring, open_store};
use crate::store::Database;
use crate::tokens;

/// How long `key rotate` may hold the write lock: it rewrites every row in one transaction.
const ROTATE_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs a `token` subcommand. `token create` prints the token alone on stdout (so `$(…)` captures it) and
/// everything else on stderr; the token is not stored, only its hash.
pub async fn token(command: TokenCommand, database: &Database, store_timeout: Duration) -> Result<(), ServerError> {
    let store = open_store(database, store_timeout).await?;
    match command {
        TokenCommand::Create { user, scope, count } => {
            let users: Vec<String> = match count {
                None => vec![user],
                Some(n) => (1..=n.get()).map(|i| format!("{user}-{i}")).collect(),
            };
            for user in users {
                let new = tokens::generate().map_err(|_| crate::crypto::KeyringError::Random)?;
                store
                    .insert_token(new.id.clone(), user.clone(), scope, new.hash)
                    .await?;
                tracing::info!(token_id = %new.id, %user, %scope, "token created; it is shown once, below");
                let mut stdout = std::io::stdout().lock();
                // a closed stdout loses the token: the user must revoke it and create another, so say which
                if writeln!(stdout, "{}", new.token.expose_secret())
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    tracing::error!(token_id = %new.id, "cannot print the token; revoke this id and create another");
                }
            }
        }
        TokenCommand::List => {
            let rows = store.tokens().await?;
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(
                stdout,
                "{:<18} {:<6} {:<28} {:<28} USER",
                "ID", "SCOPE", "CREATED", "REVOKED"
            );
            for row in rows {
                let revoked = row.revoked_at.as_deref().unwrap_or("-");
                let _ = writeln!(
                    stdout,
                    "{:<18} {:<6} {:<28} {revoked:<28} {}",
                    row.id,
                    row.scope.as_str(),
                    row.created_at,
                    row.user
                );
            }
        }
        TokenCommand::Revoke { token_or_id } => {
            let is_token = token_or_id.starts_with(tokens::TOKEN_PREFIX);
            let (id, hash) = if is_token {
                (None, Some(tokens::hash(&token_or_id)))
            } else {
                (Some(token_or_id.clone()), None)
            };
            match store.revoke_token(id, hash).await? {
                Some(row) => tracing::info!(token_id = %row.id, user = %row.user, "token revoked"),
                // never echo a token back, not even in an error
                None if is_token => {
                    return Err(ServerError::NoSuchToken("the given token".to_owned()));
                }
                None => return Err(ServerError::NoSuchToken(token_or_id)),
            }
        }
    }
    Ok(())
}

/// `key rotate`: checks the current keyring, writes the key file with a new key appended (atomically, 0600),
/// then re-encrypts every stored value with the new key in one transaction. The key file is written first, so a
/// crash in between leaves an unused key, never data without its key. Old keys stay in the file and keep
/// decrypting. Running servers that read this key file see the new one and write with the new key within a second
/// (`keywatch`); servers on other machines need the new file copied to them first, since they must decrypt what
/// this re-encrypts.
pub async fn rotate(key: &KeyArgs, database: &Database) -> Result<(), ServerError> {
    if std::env::var_os(MASTER_KEY_ENV).is_some_and(|v| !v.is_empty()) {
        return Err(ServerError::RotateFromEnv);
    }
    let store = open_store(database, ROTATE_TIMEOUT).await?;
    let old =
        Keyring::load_file(&key.key_file)?.ok_or_else(|| ServerError::NoKeyFile(key.key_file.display().to_string()))?;
    check_keyring(&store, &old, &KeySource::File(key.key_file.clone()), database).await?;
    let new = old.with_new_key()?;
    new.replace_file(&key.key_file)?;
    tracing::info!(key_file = %key.key_file.display(), new_key = new.current().id(), "added a new master key");
    let count = store.reencrypt_all(&new).await?;
    tracing::info!(
        count,
        key = new.current().id(),
        "re-encrypted every stored secret with the new key"
    );
    Ok(())
}

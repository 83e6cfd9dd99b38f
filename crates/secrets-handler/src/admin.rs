//! Administration commands: `token create|list|revoke` and `key rotate`.

use std::io::Write as _;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::ExposeSecret as _;

use crate::cli::{KeyArgs, MASTER_KEY_ENV, TokenCommand};
use crate::crypto::Keyring;
use crate::server::{KeySource, ServerError, check_keyring, open_store};
use crate::store::{Database, TokenRow};
use crate::tokens;

/// How long `key rotate` may hold the write lock: it rewrites every row in one transaction.
const ROTATE_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs a `token` subcommand. `token create` prints the token alone on stdout (so `$(…)` captures it) and
/// everything else on stderr; the token is not stored, only its hash.
pub async fn token(command: TokenCommand, database: &Database, store_timeout: Duration) -> Result<(), ServerError> {
    let store = open_store(database, store_timeout).await?;
    match command {
        TokenCommand::Create {
            user,
            scope,
            count,
            expires_in,
            expires_at,
        } => {
            let now = Utc::now();
            let expires_at = match expires_in {
                Some(lifetime) => Some(now + lifetime),
                None => expires_at,
            };
            if let Some(at) = expires_at.filter(|at| *at <= now) {
                return Err(ServerError::ExpiryPast(shown(Some(at))));
            }
            let users: Vec<String> = match count {
                None => vec![user],
                Some(n) => (1..=n.get()).map(|i| format!("{user}-{i}")).collect(),
            };
            for user in users {
                let new = tokens::generate().map_err(|_| crate::crypto::KeyringError::Random)?;
                store
                    .insert_token(new.id.clone(), user.clone(), scope, new.hash, expires_at)
                    .await?;
                let expires = shown(expires_at);
                tracing::info!(token_id = %new.id, %user, %scope, %expires, "token created; it is shown once, below");
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
            let _ = stdout.write_all(listing(&rows, Utc::now()).as_bytes());
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

/// `token list`'s table: one line a token, times to the second in UTC, `-` for none.
fn listing(rows: &[TokenRow], now: DateTime<Utc>) -> String {
    let mut table = format!(
        "{:<18} {:<6} {:<8} {:<20} {:<20} {:<20} {:<20} USER\n",
        "ID", "SCOPE", "STATUS", "CREATED", "EXPIRES", "LAST USED", "REVOKED"
    );
    for row in rows {
        let status = match (row.revoked_at, row.expires_at) {
            (Some(_), _) => "revoked",
            (None, Some(at)) if at <= now => "expired",
            _ => "active",
        };
        table += &format!(
            "{:<18} {:<6} {status:<8} {:<20} {:<20} {:<20} {:<20} {}\n",
            row.id,
            row.scope.as_str(),
            shown(Some(row.created_at)),
            shown(row.expires_at),
            shown(row.last_used_at),
            shown(row.revoked_at),
            row.user
        );
    }
    table
}

/// A time as `token list` and logs show it: to the second, UTC; `-` for none.
fn shown(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
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

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::tokens::Scope;

    #[test]
    fn token_list_shows_status_expiry_and_last_use() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T12:00:00.25Z")
            .unwrap()
            .to_utc();
        let row = |id: &str, revoked: Option<i64>, expires: Option<i64>, used: Option<i64>| TokenRow {
            id: id.to_owned(),
            user: "alice".to_owned(),
            scope: Scope::Write,
            hash: vec![0; 32],
            created_at: now - TimeDelta::days(2),
            revoked_at: revoked.map(|s| now + TimeDelta::seconds(s)),
            expires_at: expires.map(|s| now + TimeDelta::seconds(s)),
            last_used_at: used.map(|s| now + TimeDelta::seconds(s)),
        };
        let rows = [
            row("tok_000000000001", None, None, None),
            row("tok_000000000002", None, Some(86_400), Some(-90)),
            row("tok_000000000003", None, Some(0), Some(-3_600)),
            row("tok_000000000004", Some(-60), Some(-1), None),
        ];
        let expected = "\
ID                 SCOPE  STATUS   CREATED              EXPIRES              LAST USED            REVOKED              USER
tok_000000000001   write  active   2026-12-02T12:00:00Z -                    -                    -                    alice
tok_000000000002   write  active   2026-12-02T12:00:00Z 2026-12-05T12:00:00Z 2026-12-04T11:58:30Z -                    alice
tok_000000000003   write  expired  2026-12-02T12:00:00Z 2026-12-04T12:00:00Z 2026-12-04T11:00:00Z -                    alice
tok_000000000004   write  revoked  2026-12-02T12:00:00Z 2026-12-04T11:59:59Z -                    2026-12-04T11:59:00Z alice
";
        assert_eq!(listing(&rows, now), expected);
    }
}

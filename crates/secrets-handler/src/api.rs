//! The `SecretsApi` implementation: authenticates bearer tokens (refusing expired ones, recording last use) and
//! rate-limits them, and lists, reads, creates, updates and deletes the caller's secrets; domain errors become the
//! envelope in one place, `From<Failure> for Rejection`, so operations use `?`.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, SubsecRound as _, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use secrets_server_stub::{
    Context, CreateSecretFromPresetResponse, CreateSecretResponse, Credential, Credentials, DeleteSecretPath,
    DeleteSecretResponse, GetProviderPresetsResponse, GetSecretPath, GetSecretResponse, ListSecretsResponse, Rejection,
    RequestId, SecretsApi, UpdateSecretPath, UpdateSecretResponse, types,
};

use crate::audit;
use crate::crypto::{self, CryptoError};
use crate::keywatch::LiveKeyring;
use crate::store::{NewSecret, NewValue, SecretRow, Store, StoreError, TokenRow};
use crate::tokens::{self, Caller, Scope, TokenHash};
use crate::usage::LastUsed;
use crate::{mask, preset};

/// The one 401 detail for unknown, revoked and malformed tokens: which of them it was is not the caller's business.
const UNKNOWN_TOKEN: &str = "unknown or revoked token";

/// Requests per second and burst allowed to each token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests allowed at once after a quiet period.
    pub burst: NonZeroU32,
}

/// The state behind the generated router.
pub struct Handler {
    store: Arc<Store>,
    keys: Arc<LiveKeyring>,
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    last_used: LastUsed,
}

impl Handler {
    /// A handler over `store` (whose timeout bounds every call), encrypting with the current key of the keyring in
    /// `keys` at the time; `rate_limit` `None` disables limiting.
    pub fn new(store: Arc<Store>, keys: Arc<LiveKeyring>, rate_limit: Option<RateLimit>) -> Self {
        let limiter =
            rate_limit.map(|r| DefaultKeyedRateLimiter::keyed(Quota::per_second(r.per_second).allow_burst(r.burst)));
        let last_used = LastUsed::new(Arc::clone(&store));
        Self {
            store,
            keys,
            limiter,
            last_used,
        }
    }
}

/// Why an operation failed; mapped to the envelope once, in `From<Failure> for Rejection`.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("this operation needs a token with the 'write' scope")]
    ReadOnlyToken,
    #[error("a secret named {0} already exists")]
    AlreadyExists(String),
    /// One answer for unknown, deleted and other callers' ids, so existence is never revealed.
    #[error("no secret with this id")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The one mapping from domain errors to the envelope, so operations use `?`. 5xx causes travel as the rejection's
/// internal cause: the router logs them once with the request id and never sends them.
impl From<Failure> for Rejection {
    fn from(failure: Failure) -> Self {
        match &failure {
            Failure::ReadOnlyToken => Rejection::forbidden(failure.to_string()),
            Failure::NotFound => Rejection::not_found(failure.to_string()),
            Failure::AlreadyExists(_) | Failure::Store(StoreError::Conflict) => {
                Rejection::conflict(failure.to_string())
            }
            Failure::Store(StoreError::Timeout(waited)) => {
                let what = match waited.as_secs_f64().ceil() as u64 {
                    0 => "the secret store did not answer in time".to_owned(),
                    secs => format!("the secret store did not answer within {secs} seconds"),
                };
                Rejection::gateway_timeout("timeout_error", what, failure)
            }
            Failure::Store(
                StoreError::Unavailable(_)
                | StoreError::Unreadable(_)
                | StoreError::Malformed(_)
                | StoreError::Open { .. }
                | StoreError::Create { .. }
                | StoreError::TooNew { .. },
            ) => Rejection::bad_gateway("storage_error", "the secret store failed", failure),
            Failure::Store(StoreError::Database(_) | StoreError::Task(_)) | Failure::Crypto(_) => {
                Rejection::internal(failure)
            }
        }
    }
}

/// A stored row as the spec's `UserSecret`.
fn user_secret(row: SecretRow) -> Result<types::UserSecret, Failure> {
    let provider = row
        .provider
        .as_deref()
        .map(|wire| {
            wire.parse::<types::UserSecretProvider>()
                .map_err(|_| StoreError::Malformed("a stored provider is not one of the presets".into()))
        })
        .transpose()?;
    Ok(types::UserSecret {
        id: row.id,
        name: row.name,
        provider,
        masked_value: row.masked_value,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn require_write(caller: &Caller) -> Result<(), Failure> {
    if caller.scope == Scope::Write {
        Ok(())
    } else {
        Err(Failure::ReadOnlyToken)
    }
}

impl Handler {
    /// Stores a new secret named `name`; the preset and custom creates differ only in where the name comes from.
    async fn create(
        &self,
        caller: &Caller,
        name: String,
        provider: Option<types::Provider>,
        value: &str,
    ) -> Result<types::UserSecret, Failure> {
        audit::secret_name(&name);
        require_write(caller)?;
        let id = uuid::Uuid::new_v4();
        // Microseconds: what the database keeps, so a later read answers the same time.
        let now = Utc::now().trunc_subsecs(6);
        let masked_value = mask::mask(value);
        let sealed = self
            .keys
            .get()
            .seal(value.as_bytes(), &crypto::secret_aad(&caller.user, id))?;
        let secret = NewSecret {
            id,
            owner: caller.user.clone(),
            name: name.clone(),
            provider: provider.map(|p| preset::wire_name(p).to_owned()),
            masked_value: masked_value.clone(),
            sealed,
            created_at: now,
        };
        match self.store.insert_secret(secret).await {
            Err(StoreError::Conflict) => return Err(Failure::AlreadyExists(name)),
            other => other?,
        }
        audit::secret_id(id);
        tracing::info!(secret_id = %id, owner = %caller.user, name, token_id = %caller.token_id, "secret created");
        Ok(types::UserSecret {
            id,
            name,
            provider: provider.map(preset::answered),
            masked_value,
            created_at: now,
            updated_at: now,
        })
    }

    async fn get(&self, caller: &Caller, id: uuid::Uuid) -> Result<types::UserSecret, Failure> {
        audit::secret_id(id);
        let row = self.store.secret(&caller.user, id).await?.ok_or(Failure::NotFound)?;
        audit::secret_name(&row.name);
        user_secret(row)
    }

    async fn update(&self, caller: &Caller, id: uuid::Uuid, value: &str) -> Result<types::UserSecret, Failure> {
        audit::secret_id(id);
        require_write(caller)?;
        let value = NewValue {
            masked_value: mask::mask(value),
            // Sealed with the current key, so an update also moves the secret off a rotated-out key.
            sealed: self
                .keys
                .get()
                .seal(value.as_bytes(), &crypto::secret_aad(&caller.user, id))?,
            at: Utc::now().trunc_subsecs(6),
        };
        let row = self
            .store
            .update_secret(&caller.user, id, value)
            .await?
            .ok_or(Failure::NotFound)?;
        audit::secret_name(&row.name);
        tracing::info!(secret_id = %id, owner = %caller.user, token_id = %caller.token_id, "secret updated");
        user_secret(row)
    }

    async fn delete(&self, caller: &Caller, id: uuid::Uuid) -> Result<(), Failure> {
        audit::secret_id(id);
        require_write(caller)?;
        let Some(name) = self.store.delete_secret(&caller.user, id).await? else {
            return Err(Failure::NotFound);
        };
        audit::secret_name(&name);
        tracing::info!(secret_id = %id, owner = %caller.user, token_id = %caller.token_id, "secret deleted");
        Ok(())
    }

    async fn list(&self, caller: &Caller) -> Result<types::SecretListResponse, Failure> {
        let secrets = self
            .store
            .list_secrets(&caller.user)
            .await?
            .into_iter()
            .map(user_secret)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(types::SecretListResponse {
            total: secrets.len() as i64,
            secrets,
        })
    }

    async fn presets(&self, caller: &Caller) -> Result<types::ProviderPresetsResponse, Failure> {
        let held = self.store.list_secrets(&caller.user).await?;
        let presets = preset::ALL
            .into_iter()
            .map(|provider| {
                let env_var_name = preset::secret_name(provider);
                types::ProviderPreset {
                    provider,
                    env_var_name: env_var_name.to_owned(),
                    // Any secret of that name counts: presets and custom secrets share one namespace.
                    configured: held.iter().any(|row| row.name == env_var_name),
                }
            })
            .collect();
        Ok(types::ProviderPresetsResponse { presets })
    }

    fn check_rate(&self, token_id: &str) -> Result<(), Rejection> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&token_id.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Rejection::too_many_requests(u32::try_from(wait.as_secs_f64().ceil() as u64).unwrap_or(u32::MAX))
        })
    }
}

/// The token row that may authenticate a request at `now`: one that exists, matches `hash`, is not revoked and has
/// not expired. The expiry is checked here on every request, not when the row is read, so a token expires on time
/// even while its lookup is cached.
fn admit(row: Option<TokenRow>, hash: &TokenHash, now: DateTime<Utc>) -> Result<TokenRow, Rejection> {
    let row = row
        .filter(|row| row.revoked_at.is_none() && tokens::verify(&row.hash, hash))
        .ok_or_else(|| Rejection::unauthorized(UNKNOWN_TOKEN))?;
    match row.expires_at {
        Some(expires_at) if expires_at <= now => Err(Rejection::unauthorized(format!(
            "the token expired at {}; create a new one",
            expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ))),
        _ => Ok(row),
    }
}

/// The token a request carries, as `Authorization: Bearer` or as `X-API-Key` (the platform's SDK sends the latter);
/// a request that sends both with different tokens is refused rather than served as either caller.
fn presented_token(credentials: &Credentials) -> Result<&str, Rejection> {
    let mut sent = credentials
        .iter()
        .chain(credentials.also_sent())
        .filter_map(|credential| match credential {
            Credential::Bearer { token, .. } => Some(token.as_str()),
            Credential::ApiKey { value, .. } => Some(value.as_str()),
            _ => None,
        });
    let token = sent
        .next()
        .ok_or_else(|| Rejection::unauthorized("missing bearer token in the Authorization header"))?;
    if sent.any(|other| other != token) {
        return Err(Rejection::unauthorized(
            "the Authorization and X-API-Key headers carry different tokens; send one",
        ));
    }
    Ok(token)
}

impl SecretsApi for Handler {
    type Caller = Caller;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<Caller, Rejection> {
        audit::authenticating();
        let token = presented_token(&credentials)?;
        match tokens::check(token) {
            Ok(()) => {}
            Err(tokens::Malformed::Checksum) => {
                return Err(Rejection::unauthorized(
                    "the token's checksum does not match: it was mistyped or truncated",
                ));
            }
            Err(tokens::Malformed::Shape) => return Err(Rejection::unauthorized(UNKNOWN_TOKEN)),
        }
        let hash = tokens::hash(token);
        // A store failure here is a 502/504, not a bad token: the token could not be checked.
        let row = self.store.token_by_hash(hash).await.map_err(Failure::Store)?;
        if let Some(genuine) = row.as_ref().filter(|row| tokens::verify(&row.hash, &hash)) {
            // Revoked and expired tokens too: the audit log says whose token was refused.
            audit::caller(&genuine.id, &genuine.user);
        }
        let row = admit(row, &hash, Utc::now())?;
        self.last_used.record(&row.id);
        self.check_rate(&row.id)?;
        Ok(Caller {
            token_id: row.id,
            user: row.user,
            scope: row.scope,
        })
    }

    async fn list_secrets(&self, ctx: Context<Caller>) -> Result<ListSecretsResponse, Rejection> {
        Ok(ListSecretsResponse::Ok(self.list(&ctx.caller).await?))
    }

    async fn get_provider_presets(&self, ctx: Context<Caller>) -> Result<GetProviderPresetsResponse, Rejection> {
        Ok(GetProviderPresetsResponse::Ok(self.presets(&ctx.caller).await?))
    }

    async fn create_secret(
        &self,
        ctx: Context<Caller>,
        body: types::CreateSecretRequest,
    ) -> Result<CreateSecretResponse, Rejection> {
        let name = String::from(body.name);
        let created = self
            .create(&ctx.caller, name, body.provider, body.value.expose_secret())
            .await?;
        Ok(CreateSecretResponse::Created(created))
    }

    async fn create_secret_from_preset(
        &self,
        ctx: Context<Caller>,
        body: types::PresetSecretRequest,
    ) -> Result<CreateSecretFromPresetResponse, Rejection> {
        let name = preset::secret_name(body.provider).to_owned();
        let created = self
            .create(&ctx.caller, name, Some(body.provider), body.value.expose_secret())
            .await?;
        Ok(CreateSecretFromPresetResponse::Created(created))
    }

    async fn get_secret(&self, ctx: Context<Caller>, path: GetSecretPath) -> Result<GetSecretResponse, Rejection> {
        Ok(GetSecretResponse::Ok(self.get(&ctx.caller, path.secret_id).await?))
    }

    async fn update_secret(
        &self,
        ctx: Context<Caller>,
        path: UpdateSecretPath,
        body: types::UpdateSecretRequest,
    ) -> Result<UpdateSecretResponse, Rejection> {
        let updated = self
            .update(&ctx.caller, path.secret_id, body.value.expose_secret())
            .await?;
        Ok(UpdateSecretResponse::Ok(updated))
    }

    async fn delete_secret(
        &self,
        ctx: Context<Caller>,
        path: DeleteSecretPath,
    ) -> Result<DeleteSecretResponse, Rejection> {
        self.delete(&ctx.caller, path.secret_id).await?;
        Ok(DeleteSecretResponse::NoContent)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    /// `(revoked, expires in seconds from now, presented hash matches, expected 401 detail or Ok)`.
    #[test]
    fn admit_refuses_unknown_revoked_and_expired_tokens() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T12:00:00.5Z").unwrap().to_utc();
        let hash = tokens::hash("st_example");
        let row = |revoked: bool, expires_in: Option<i64>, stored: TokenHash| TokenRow {
            id: "tok_000000000001".to_owned(),
            user: "alice".to_owned(),
            scope: Scope::Read,
            hash: stored.to_vec(),
            created_at: now - TimeDelta::days(1),
            revoked_at: revoked.then_some(now - TimeDelta::hours(1)),
            expires_at: expires_in.map(|s| now + TimeDelta::seconds(s)),
            last_used_at: None,
        };
        let expired = "the token expired at 2026-12-04T12:00:00Z; create a new one";
        let cases: [(Option<TokenRow>, Result<(), &str>); 8] = [
            (None, Err(UNKNOWN_TOKEN)),
            (Some(row(false, None, hash)), Ok(())),
            (Some(row(false, Some(1), hash)), Ok(())),
            (Some(row(false, Some(0), hash)), Err(expired)),
            (
                Some(row(false, Some(-3600), hash)),
                Err("the token expired at 2026-12-04T11:00:00Z; create a new one"),
            ),
            (Some(row(true, None, hash)), Err(UNKNOWN_TOKEN)),
            (Some(row(true, Some(-1), hash)), Err(UNKNOWN_TOKEN)),
            (Some(row(false, None, tokens::hash("st_other"))), Err(UNKNOWN_TOKEN)),
        ];
        for (i, (row, expected)) in cases.into_iter().enumerate() {
            let got = admit(row, &hash, now).map(|_| ()).map_err(|rejection| {
                assert_eq!(
                    (rejection.status().as_u16(), rejection.kind()),
                    (401, "authentication_error"),
                    "case {i}"
                );
                rejection.detail().to_owned()
            });
            assert_eq!(got, expected.map_err(str::to_owned), "case {i}");
        }
    }

    /// The token is the bearer token or the `X-API-Key`, whichever the request sent; two different ones are refused.
    #[test]
    fn presented_token_takes_either_header_and_refuses_two_different_tokens() {
        let bearer = |token: &str| Credential::Bearer {
            scheme: "bearerAuth",
            token: token.to_owned(),
        };
        let key = |value: &str| Credential::ApiKey {
            scheme: "apiKeyAuth",
            name: "X-API-Key",
            value: value.to_owned(),
        };
        let conflict = "the Authorization and X-API-Key headers carry different tokens; send one";
        // (the satisfied requirement's credentials, those also sent, expected token or 401 detail)
        let cases = [
            (vec![bearer("st_a")], vec![], Ok("st_a")),
            (vec![key("st_a")], vec![], Ok("st_a")),
            (vec![bearer("st_a")], vec![key("st_a")], Ok("st_a")),
            (vec![bearer("st_a")], vec![key("st_b")], Err(conflict)),
        ];
        for (i, (list, also, expected)) in cases.into_iter().enumerate() {
            let credentials = Credentials::new(list, Vec::new()).with_also(also);
            let got = presented_token(&credentials).map_err(|rejection| rejection.detail().to_owned());
            assert_eq!(got, expected.map_err(str::to_owned), "case {i}");
        }
    }
}

//! The `SecretsApi` implementation: authenticates and rate-limits bearer tokens, stores secrets; domain errors
//! become the envelope in one place, `From<Failure> for Rejection`, so operations use `?`.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{SubsecRound as _, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use secrets_server_stub::{
    Context, CreateSecretFromPresetResponse, Credentials, Rejection, RequestId, SecretsApi, types,
};

use crate::crypto::{self, CryptoError, Keyring};
use crate::store::{NewSecret, Store, StoreError};
use crate::tokens::{self, Caller, Scope};
use crate::{mask, preset};

/// The one 401 detail for unknown, revoked and malformed tokens: which of them it was is not the caller's business.
const UNKNOWN_TOKEN: &str = "unknown or revoked bearer token";

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
    keyring: Keyring,
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl Handler {
    /// A handler over `store` (whose timeout bounds every call), encrypting with `keyring`'s current key;
    /// `rate_limit` `None` disables limiting.
    pub fn new(store: Arc<Store>, keyring: Keyring, rate_limit: Option<RateLimit>) -> Self {
        let limiter =
            rate_limit.map(|r| DefaultKeyedRateLimiter::keyed(Quota::per_second(r.per_second).allow_burst(r.burst)));
        Self {
            store,
            keyring,
            limiter,
        }
    }
}

/// Why an operation failed; mapped to the envelope once, in `From<Failure> for Rejection`.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("this operation needs a token with the 'write' scope")]
    ReadOnlyToken,
    #[error("a secret named {0} already exists")]
    AlreadyExists(&'static str),
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
                | StoreError::Open { .. }
                | StoreError::Create { .. },
            ) => Rejection::bad_gateway("storage_error", "the secret store failed", failure),
            Failure::Store(StoreError::Database(_) | StoreError::Task(_)) | Failure::Crypto(_) => {
                Rejection::internal(failure)
            }
        }
    }
}

impl Handler {
    async fn create(
        &self,
        caller: &Caller,
        body: types::PresetSecretRequest,
    ) -> Result<types::UserSecretResponse, Failure> {
        if caller.scope != Scope::Write {
            return Err(Failure::ReadOnlyToken);
        }
        let name = preset::secret_name(body.provider);
        let id = uuid::Uuid::new_v4();
        let now = Utc::now().trunc_subsecs(6);
        let value = body.value.expose_secret();
        let masked_value = mask::mask(value);
        let sealed = self
            .keyring
            .seal(value.as_bytes(), &crypto::secret_aad(&caller.user, id))?;
        let secret = NewSecret {
            id,
            owner: caller.user.clone(),
            name: name.to_owned(),
            provider: preset::wire_name(body.provider).to_owned(),
            masked_value: masked_value.clone(),
            sealed,
            created_at: now,
        };
        match self.store.insert_secret(secret).await {
            Err(StoreError::Conflict) => return Err(Failure::AlreadyExists(name)),
            other => other?,
        }
        tracing::info!(secret_id = %id, owner = %caller.user, name, token_id = %caller.token_id, "secret created");
        Ok(types::UserSecretResponse {
            id,
            name: name.to_owned(),
            provider: body.provider,
            masked_value,
            created_at: now,
            updated_at: now,
        })
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

impl SecretsApi for Handler {
    type Caller = Caller;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<Caller, Rejection> {
        let token = credentials.bearer()?;
        if !tokens::well_formed(token) {
            return Err(Rejection::unauthorized(UNKNOWN_TOKEN));
        }
        let hash = tokens::hash(token);
        // A store failure here is a 502/504, not a bad token: the token could not be checked.
        let row = self.store.token_by_hash(hash).await.map_err(Failure::Store)?;
        let row = row
            .filter(|row| row.revoked_at.is_none() && tokens::verify(&row.hash, &hash))
            .ok_or_else(|| Rejection::unauthorized(UNKNOWN_TOKEN))?;
        self.check_rate(&row.id)?;
        Ok(Caller {
            token_id: row.id,
            user: row.user,
            scope: row.scope,
        })
    }

    async fn create_secret_from_preset(
        &self,
        ctx: Context<Caller>,
        body: types::PresetSecretRequest,
    ) -> Result<CreateSecretFromPresetResponse, Rejection> {
        let created = self.create(&ctx.caller, body).await?;
        Ok(CreateSecretFromPresetResponse::Created(created))
    }
}

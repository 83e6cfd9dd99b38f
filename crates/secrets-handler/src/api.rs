//! The `SecretsApi` implementation: authenticates and rate-limits bearer tokens, stores secrets; domain errors
//! become the envelope in one place, [`Failure::rejection`].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::{SubsecRound as _, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use secrets_server_stub::{Context, CreateSecretFromPresetResponse, Rejection, RequestId, SecretsApi, types};

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
    store_timeout: Duration,
}

impl Handler {
    /// A handler over `store`, encrypting with `keyring`'s current key; `rate_limit` `None` disables limiting.
    pub fn new(store: Arc<Store>, keyring: Keyring, rate_limit: Option<RateLimit>, store_timeout: Duration) -> Self {
        let limiter =
            rate_limit.map(|r| DefaultKeyedRateLimiter::keyed(Quota::per_second(r.per_second).allow_burst(r.burst)));
        Self {
            store,
            keyring,
            limiter,
            store_timeout,
        }
    }
}

/// Why an operation failed; mapped to the envelope once, in [`Failure::rejection`].
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

impl Failure {
    /// The one mapping from domain errors to the envelope. 5xx causes are logged with the request id (inside the
    /// router's request span), never sent.
    fn rejection(self, request_id: &RequestId, store_timeout: Duration) -> Rejection {
        let waited = store_timeout.as_secs_f64().ceil() as u64;
        let log = |what: &str| tracing::error!(%request_id, error = %self, "{what}");
        match &self {
            Failure::ReadOnlyToken => Rejection::forbidden(self.to_string()),
            Failure::AlreadyExists(_) | Failure::Store(StoreError::Conflict) => Rejection::conflict(self.to_string()),
            Failure::Store(StoreError::Timeout(_)) => {
                log("the secret store timed out");
                Rejection::timeout(request_id, waited)
            }
            Failure::Store(
                StoreError::Unavailable(_)
                | StoreError::Unreadable(_)
                | StoreError::Open { .. }
                | StoreError::Create { .. },
            ) => {
                log("the secret store failed");
                Rejection::storage(request_id)
            }
            Failure::Store(StoreError::Database(_) | StoreError::Task(_)) | Failure::Crypto(_) => {
                log("internal error");
                Rejection::internal(request_id)
            }
        }
    }

    /// The documented response for this failure: the variant is chosen by the envelope's status.
    fn into_response(self, request_id: &RequestId, store_timeout: Duration) -> CreateSecretFromPresetResponse {
        use CreateSecretFromPresetResponse as R;
        let rejection = self.rejection(request_id, store_timeout);
        let status = rejection.status().as_u16();
        let body = rejection.into();
        match status {
            403 => R::Forbidden(body),
            409 => R::Conflict(body),
            502 => R::BadGateway(body),
            504 => R::GatewayTimeout(body),
            _ => R::InternalServerError(body),
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

    async fn authenticate(&self, token: &str, request_id: &RequestId) -> Result<Caller, Rejection> {
        if !tokens::well_formed(token) {
            return Err(Rejection::unauthorized(UNKNOWN_TOKEN));
        }
        let hash = tokens::hash(token);
        let row = match self.store.token_by_hash(hash).await {
            Ok(row) => row,
            // The token could not be checked: a store failure (502/504), not a bad token.
            Err(e) => return Err(Failure::Store(e).rejection(request_id, self.store_timeout)),
        };
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
    ) -> CreateSecretFromPresetResponse {
        match self.create(&ctx.caller, body).await {
            Ok(created) => CreateSecretFromPresetResponse::Created(created),
            Err(failure) => failure.into_response(&ctx.request_id, self.store_timeout),
        }
    }
}

//! The `SecretsApi` implementation: authenticates and rate-limits bearer tokens, stores secrets; domain errors
//! become responses in one place, [`Failure::into_response`].

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

/// The caller as `authenticate` left it. A token lookup that failed in the store is carried here rather than
/// rejected in `authenticate`, because `authenticate` does not know the request id a 502/504 detail must name;
/// [`Authenticated::caller`] is the only way to the caller, so no operation can skip the check.
#[derive(Debug)]
pub struct Authenticated(Result<Caller, StoreError>);

impl Authenticated {
    /// The verified caller, or the store failure that kept the token from being verified.
    fn caller(&self) -> Result<&Caller, Failure> {
        self.0
            .as_ref()
            .map_err(|e| Failure::TokenLookup(e.to_string(), is_timeout(e)))
    }
}

fn is_timeout(e: &StoreError) -> bool {
    matches!(e, StoreError::Timeout(_))
}

/// Why an operation failed; mapped to a response once, in [`Failure::into_response`].
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("this operation needs a token with the 'write' scope")]
    ReadOnlyToken,
    #[error("a secret named {0} already exists")]
    AlreadyExists(&'static str),
    #[error("token lookup failed: {0}")]
    TokenLookup(String, bool),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl Failure {
    /// The one mapping from domain errors to responses. 5xx causes are logged with the request id (inside the
    /// router's request span), never sent.
    fn into_response(self, request_id: &RequestId, store_timeout: Duration) -> CreateSecretFromPresetResponse {
        use CreateSecretFromPresetResponse as R;
        let waited = store_timeout.as_secs_f64().ceil() as u64;
        let log = |what: &str| tracing::error!(%request_id, error = %self, "{what}");
        match &self {
            Failure::ReadOnlyToken => R::Forbidden(envelope(Rejection::forbidden(self.to_string()))),
            Failure::AlreadyExists(_) => R::Conflict(envelope(Rejection::conflict(self.to_string()))),
            Failure::Store(StoreError::Conflict) => R::Conflict(envelope(Rejection::conflict(self.to_string()))),
            Failure::Store(StoreError::Timeout(_)) | Failure::TokenLookup(_, true) => {
                log("the secret store timed out");
                R::GatewayTimeout(envelope(Rejection::timeout(request_id, waited)))
            }
            Failure::Store(StoreError::Unavailable(_) | StoreError::Unreadable(_) | StoreError::Open { .. })
            | Failure::TokenLookup(_, false) => {
                log("the secret store failed");
                R::BadGateway(envelope(Rejection::storage(request_id)))
            }
            Failure::Store(StoreError::Database(_) | StoreError::Task(_)) | Failure::Crypto(_) => {
                log("internal error");
                R::InternalServerError(envelope(Rejection::internal(request_id)))
            }
        }
    }
}

/// The envelope of a rejection, as the response enum's variants carry it.
// TODO: use the stub's `From<Rejection> for ErrorResponse` once it has one (its lib.rs doc example assumes it)
fn envelope(rejection: Rejection) -> types::ErrorResponse {
    types::ErrorResponse {
        code: i32::from(rejection.status().as_u16()),
        detail: rejection.detail().to_owned(),
        type_: rejection.kind().to_owned(),
        errors: Vec::new(),
    }
}

impl Handler {
    async fn create(
        &self,
        caller: &Authenticated,
        body: types::PresetSecretRequest,
    ) -> Result<types::UserSecretResponse, Failure> {
        let caller = caller.caller()?;
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
    type Caller = Authenticated;

    async fn authenticate(&self, token: &str) -> Result<Authenticated, Rejection> {
        if !tokens::well_formed(token) {
            return Err(Rejection::unauthorized(UNKNOWN_TOKEN));
        }
        let hash = tokens::hash(token);
        let row = match self.store.token_by_hash(hash).await {
            Ok(row) => row,
            Err(e) => return Ok(Authenticated(Err(e))),
        };
        let row = row
            .filter(|row| row.revoked_at.is_none() && tokens::verify(&row.hash, &hash))
            .ok_or_else(|| Rejection::unauthorized(UNKNOWN_TOKEN))?;
        self.check_rate(&row.id)?;
        Ok(Authenticated(Ok(Caller {
            token_id: row.id,
            user: row.user,
            scope: row.scope,
        })))
    }

    async fn create_secret_from_preset(
        &self,
        ctx: Context<Authenticated>,
        body: types::PresetSecretRequest,
    ) -> CreateSecretFromPresetResponse {
        match self.create(&ctx.caller, body).await {
            Ok(created) => CreateSecretFromPresetResponse::Created(created),
            Err(failure) => failure.into_response(&ctx.request_id, self.store_timeout),
        }
    }
}

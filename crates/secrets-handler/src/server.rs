//! Startup and serving: open the store, load and check the keyring, build the router, serve until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrets_server_stub::RouterConfig;
use zeroize::Zeroizing;

use crate::api::Handler;
use crate::audit::{self, AuditLog};
use crate::cli::{KeyArgs, MASTER_KEY_ENV, ServeArgs};
use crate::crypto::{Keyring, KeyringError};
use crate::keywatch::{self, LiveKeyring};
use crate::prometheus::Exporter;
use crate::store::{Database, KeyCheckError, Store, StoreError};

/// Why the server or an admin command could not run. Messages name the file or variable at fault, never a key.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The embedded API reference could not be prepared.
    #[error(transparent)]
    Docs(#[from] crate::docs::DocsError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keyring could not be read or written.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The keyring does not decrypt what the database holds.
    #[error("refusing to start: the master key from {origin} does not fit {database}")]
    KeyCheck {
        origin: String,
        database: String,
        source: Box<KeyCheckError>,
    },
    /// No keyring, but the database holds encrypted data.
    #[error(
        "refusing to start: {key_file} does not exist and {MASTER_KEY_ENV} is unset, but {database} holds data \
         encrypted with key(s) {kids}; restore the key file (or set {MASTER_KEY_ENV})"
    )]
    KeyLost {
        key_file: String,
        database: String,
        kids: String,
    },
    /// Rotation writes the key file, so it cannot rotate a keyring from the environment.
    #[error(
        "{MASTER_KEY_ENV} is set: `key rotate` adds the new key to the key file, so unset {MASTER_KEY_ENV} and \
         point --key-file at the keyring"
    )]
    RotateFromEnv,
    /// Rotation needs an existing keyring.
    #[error("no key file at {0}: nothing to rotate")]
    NoKeyFile(String),
    /// `token create` was given an expiry that has passed.
    #[error("the token would expire at {0}, which has passed")]
    ExpiryPast(String),
    /// `token revoke` found nothing to revoke.
    #[error("no live token matches {0}")]
    NoSuchToken(String),
    /// SIGHUP, which reopens the audit log, could not be listened for.
    #[error("cannot listen for SIGHUP to reopen the audit log: {0}")]
    Hangup(std::io::Error),
    /// Binding or serving failed.
    #[error("cannot serve on {addr}: {source}")]
    Serve { addr: String, source: std::io::Error },
    /// The metrics listener could not start.
    #[error(transparent)]
    Metrics(#[from] crate::prometheus::MetricsError),
}

/// Where the keyring came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `SECRETS_MASTER_KEY`.
    Env,
    /// The key file.
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => f.write_str(MASTER_KEY_ENV),
            KeySource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Opens (and migrates) the database, logging where it is.
pub async fn open_store(database: &Database, timeout: Duration) -> Result<Store, ServerError> {
    let store = Store::open(database, timeout).await?;
    tracing::info!(database = %database.describe(), "opened database: {}", store.settings());
    Ok(store)
}

/// Loads the keyring from `SECRETS_MASTER_KEY` or the key file. When neither exists and the database holds no
/// encrypted data, writes a new development key file (mode 0600) and warns.
pub async fn load_keyring(
    args: &KeyArgs,
    store: &Store,
    database: &Database,
) -> Result<(Keyring, KeySource), ServerError> {
    if let Some(text) = std::env::var_os(MASTER_KEY_ENV).filter(|v| !v.is_empty()) {
        let text = Zeroizing::new(text.to_string_lossy().into_owned());
        return Ok((Keyring::parse(&text, MASTER_KEY_ENV)?, KeySource::Env));
    }
    let source = KeySource::File(args.key_file.clone());
    if let Some(keyring) = Keyring::load_file(&args.key_file)? {
        return Ok((keyring, source));
    }
    let known = store.known_key_ids().await?;
    if !known.is_empty() {
        return Err(ServerError::KeyLost {
            key_file: args.key_file.display().to_string(),
            database: database.describe(),
            kids: known.join(", "),
        });
    }
    let keyring = Keyring::generate()?;
    keyring.create_file(&args.key_file)?;
    tracing::warn!(
        key_file = %args.key_file.display(),
        "WARNING: generated a new DEVELOPMENT master key; anyone who reads this file can decrypt the secrets. \
         In production provide the key file yourself or set {MASTER_KEY_ENV}, and back it up"
    );
    Ok((keyring, source))
}

/// Checks the keyring against the stored data; refuses with a clear message when it does not fit.
pub async fn check_keyring(
    store: &Store,
    keyring: &Keyring,
    source: &KeySource,
    database: &Database,
) -> Result<(), ServerError> {
    let checked = store
        .check_keyring(keyring)
        .await
        .map_err(|source_err| ServerError::KeyCheck {
            origin: source.to_string(),
            database: database.describe(),
            source: Box::new(source_err),
        })?;
    tracing::info!(keys = %checked.join(", "), writes_with = keyring.current().id(), from = %source, "master keys checked");
    Ok(())
}

/// `secrets-server serve`: runs until SIGINT or SIGTERM, then finishes in-flight requests and closes the database.
///
/// When the keys come from the key file, the file is watched: a `key rotate` seen there (run on this machine or
/// copied in) makes the new key the one new values are sealed with, within a second.
pub async fn serve(args: ServeArgs, database: &Database, store_timeout: Duration) -> Result<(), ServerError> {
    // Bound first, so that a taken address fails the start before anything else is done.
    let metrics = match args.metrics_listen {
        Some(addr) => Some(Exporter::start(addr).await?),
        None => None,
    };
    let mut store = open_store(database, store_timeout).await?;
    if metrics.is_some() {
        store = store.timed();
    }
    let store = Arc::new(store);
    let (keyring, source) = load_keyring(&args.key, &store, database).await?;
    check_keyring(&store, &keyring, &source, database).await?;
    let keys = Arc::new(LiveKeyring::new(keyring));
    if let KeySource::File(path) = &source {
        keywatch::watch(path.clone(), Arc::clone(&keys), Arc::clone(&store));
    }
    let handler = Handler::new(Arc::clone(&store), keys, args.rate_limit());
    let config = RouterConfig {
        min_api_version: args.min_api_version.clone(),
        ..RouterConfig::default()
    };
    let mut app = secrets_server_stub::router(Arc::new(handler), config.clone());
    let audit = args
        .audit_log
        .as_deref()
        .map(|path| AuditLog::open(audit::Target::parse(path), args.audit_required));
    if let Some(log) = &audit {
        app = audit::layer(app, Arc::clone(log));
        audit::reopen_on_hangup(Arc::clone(log)).map_err(ServerError::Hangup)?;
    }
    if !args.no_docs {
        // Merged in front of the API's router, whose 404 fallback still answers every other path.
        app = crate::docs::routes(Arc::new(config))?.merge(app);
    }
    let serve_err = |source| ServerError::Serve {
        addr: args.listen.to_string(),
        source,
    };
    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(serve_err)?;
    let addr = listener.local_addr().map_err(serve_err)?;
    if let Some(metrics) = metrics {
        let addr = metrics.addr();
        metrics.spawn();
        tracing::info!(%addr, "serving metrics on http://{addr}/metrics");
    }
    tracing::info!(
        %addr,
        rate_limit = ?args.rate_limit(),
        min_api_version = ?args.min_api_version.as_ref().map(ToString::to_string),
        store_timeout = ?store_timeout,
        docs = !args.no_docs,
        "listening on http://{addr}"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(serve_err)?;
    if let Some(log) = audit {
        log.close();
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: called before the listener is bound, a signal that arrives as soon as the port accepts
/// still shuts down gracefully (the process would otherwise die of it).
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let signals = signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
        async move {
            match signals {
                Ok((mut interrupt, mut terminate)) => tokio::select! {
                    _ = interrupt.recv() => tracing::info!("SIGINT received; shutting down"),
                    _ = terminate.recv() => tracing::info!("SIGTERM received; shutting down"),
                },
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGINT and SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("Ctrl-C received; shutting down"),
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    }
}

//! The hand-written side of the user-secrets API: implements the generated `SecretsApi` trait over an encrypted
//! store (SQLite or PostgreSQL), and provides the `secrets-server` binary's commands.
//!
//! Module map: [`preset`] provider → name, [`mask`] masked values, [`crypto`] AES-GCM and the keyring,
//! [`store`] SQLite and PostgreSQL, [`keywatch`] the keyring in use and its reloads, [`tokens`] bearer tokens, [`usage`] their last use, [`api`] the trait implementation and the one error-to-response
//! mapping, [`cli`] flags and environment, [`server`] startup and graceful shutdown, [`docs`] the API reference it publishes,
//! [`admin`] token and key commands, [`audit`] the audit log, [`prometheus`] the metrics of `serve --metrics-listen`.

pub mod admin;
pub mod api;
pub mod audit;
pub mod cli;
pub mod crypto;
pub mod docs;
pub mod keywatch;
pub mod mask;
pub mod preset;
pub mod prometheus;
pub mod server;
pub mod store;
pub mod tokens;
pub mod usage;

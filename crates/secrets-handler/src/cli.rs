//! Command line and configuration: clap, every flag with an environment-variable fallback.
//!
//! The master keyring is never a flag (it would show in `ps`): it is the key file, or `SECRETS_MASTER_KEY`.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use secrets_server_stub::runtime::ApiVersion;

use crate::api::RateLimit;
use crate::store::Database;
use crate::tokens::Scope;

/// The environment variable that may hold the keyring instead of the key file.
pub const MASTER_KEY_ENV: &str = "SECRETS_MASTER_KEY";

/// The user-secrets API server, and its token and key administration.
#[derive(Debug, Parser)]
#[command(name = "secrets-server", version)]
pub struct Cli {
    /// The database: a SQLite file, created if missing, or a `postgres://user:password@host/db` URL (several
    /// instances may share one PostgreSQL database).
    #[arg(
        long,
        global = true,
        env = "SECRETS_DATABASE",
        default_value = "./secrets.db",
        hide_env_values = true
    )]
    pub database: Database,
    /// The store timeout: how long a request may wait for the database, e.g. `5s`, `500ms`.
    #[arg(long, global = true, env = "SECRETS_STORE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub store_timeout: Duration,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Create, list and revoke bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the master keyring.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `secrets-server serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SECRETS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub key: KeyArgs,
    /// Answer 426 to clients that declare an older `api-version`.
    #[arg(long, env = "SECRETS_MIN_API_VERSION")]
    pub min_api_version: Option<ApiVersion>,
    /// Requests per second allowed to each token; 0 turns rate limiting off.
    #[arg(long, env = "SECRETS_RATE_LIMIT", default_value_t = 50)]
    pub rate_limit: u32,
    /// Requests each token may send at once after a quiet period [default: twice --rate-limit].
    #[arg(long, env = "SECRETS_RATE_BURST")]
    pub rate_burst: Option<NonZeroU32>,
    /// Do not serve the API reference (`/docs`, `/openapi.json`, `/openapi.yaml`).
    #[arg(long, env = "SECRETS_NO_DOCS")]
    pub no_docs: bool,
    /// Append one JSON line per API request that reached authentication to this file (`-`: standard output);
    /// reopened on SIGHUP.
    #[arg(long, env = "SECRETS_AUDIT_LOG", value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Answer 503 to every request while the audit log cannot be written.
    #[arg(long, env = "SECRETS_AUDIT_REQUIRED", requires = "audit_log")]
    pub audit_required: bool,
    /// Serve Prometheus metrics as `GET /metrics` on this address (a listener of its own) [default: off].
    #[arg(long, env = "SECRETS_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
}

impl ServeArgs {
    /// The per-token limit, `None` when off.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        let per_second = NonZeroU32::new(self.rate_limit)?;
        let burst = self
            .rate_burst
            .unwrap_or(per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1)));
        Some(RateLimit { per_second, burst })
    }
}

/// Where the master keyring lives.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The keyring file (`kid:base64` lines, mode 0600); created with a development key if missing and
    /// SECRETS_MASTER_KEY is unset. SECRETS_MASTER_KEY, when set, is used instead.
    #[arg(long, env = "SECRETS_KEY_FILE", default_value = "./secrets.key")]
    pub key_file: PathBuf,
}

/// `secrets-server token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once on stdout.
    Create {
        /// The user who owns the secrets this token reaches.
        #[arg(long)]
        user: String,
        /// What the token may do.
        #[arg(long, value_enum, default_value_t = Scope::Write)]
        scope: Scope,
        /// Create N users named USER-1 … USER-N instead, one token each, printed one per line (load tests).
        #[arg(long, value_name = "N")]
        count: Option<NonZeroU32>,
        /// The token stops working this long after it is created: a whole number and a unit, `m` (minutes), `h`,
        /// `d` or `w`, e.g. `90d`, `12h` [default: it never expires].
        #[arg(long, value_name = "LIFETIME", value_parser = parse_lifetime, conflicts_with = "expires_at")]
        expires_in: Option<Duration>,
        /// The token stops working at this time (RFC 3339, e.g. `2027-03-01T00:00:00Z`) [default: it never expires].
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        expires_at: Option<DateTime<Utc>>,
    },
    /// List tokens (ids, users, scopes, expiry, last use; never the tokens).
    List,
    /// Revoke a token, given the token itself or its id (`tok_…`).
    Revoke {
        /// The token (`st_…`) or its id (`tok_…`).
        token_or_id: String,
    },
}

/// `secrets-server key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Add a new master key to the key file and re-encrypt every stored value with it, in one transaction.
    Rotate {
        #[command(flatten)]
        key: KeyArgs,
    },
}

/// Reads `500ms`, `5s`, `2m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 5s or 500ms"))?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        other => {
            return Err(format!("unknown duration unit {other:?}, expected ms, s or m"));
        }
    };
    if duration.is_zero() {
        return Err("the duration must be more than zero".to_owned());
    }
    Ok(duration)
}

/// Reads a token lifetime: `30m`, `12h`, `90d`, `2w`.
pub fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a lifetime such as 90d or 12h"))?;
    let unit_secs = match unit {
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        other => return Err(format!("unknown lifetime unit {other:?}, expected m, h, d or w")),
    };
    match n.checked_mul(unit_secs) {
        Some(0) => Err("the lifetime must be more than zero".to_owned()),
        // No later than chrono's last representable time, whatever now is.
        Some(secs) if secs <= 100 * 365 * 86_400 => Ok(Duration::from_secs(secs)),
        _ => Err(format!("{text:?} is more than 100 years")),
    }
}

/// Reads an RFC 3339 time, e.g. `2027-03-01T00:00:00Z` or `2027-03-01T09:00:00+09:00`.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.to_utc())
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2027-03-01T00:00:00Z: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        let ok = [
            ("5s", 5_000),
            ("500ms", 500),
            ("2", 2_000),
            ("1m", 60_000),
            (" 3s ", 3_000),
        ];
        for (text, ms) in ok {
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        for text in ["", "s", "5h", "-1s", "0s", "1.5s"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    /// `(arguments, expected rate limit as (per second, burst))`.
    type ServeCase = (&'static [&'static str], Option<(u32, u32)>);

    #[test]
    fn serve_arguments() {
        let cases: [ServeCase; 3] = [
            (&["serve"], Some((50, 100))),
            (&["serve", "--rate-limit", "5", "--rate-burst", "7"], Some((5, 7))),
            (&["serve", "--rate-limit", "0"], None),
        ];
        for (args, expected) in cases {
            let cli = Cli::try_parse_from(std::iter::once("secrets-server").chain(args.iter().copied())).unwrap();
            let Command::Serve(serve) = cli.command else {
                panic!("{args:?} is not serve")
            };
            let got = serve.rate_limit().map(|r| (r.per_second.get(), r.burst.get()));
            assert_eq!(got, expected, "{args:?}");
        }
    }

    /// `(arguments, expected (audit log, required) or a refusal)`.
    #[test]
    fn audit_arguments() {
        type Audit = Option<(Option<&'static str>, bool)>;
        let cases: [(&[&str], Audit); 4] = [
            (&["serve"], Some((None, false))),
            (&["serve", "--audit-log", "-"], Some((Some("-"), false))),
            (
                &["serve", "--audit-log", "/var/log/a.log", "--audit-required"],
                Some((Some("/var/log/a.log"), true)),
            ),
            (&["serve", "--audit-required"], None),
        ];
        for (args, expected) in cases {
            let parsed = Cli::try_parse_from(std::iter::once("secrets-server").chain(args.iter().copied()));
            let got = parsed.ok().map(|cli| match cli.command {
                Command::Serve(serve) => (serve.audit_log, serve.audit_required),
                other => panic!("{args:?} parsed as {other:?}"),
            });
            assert_eq!(
                got,
                expected.map(|(log, required)| (log.map(PathBuf::from), required)),
                "{args:?}"
            );
        }
    }

    #[test]
    fn lifetimes() {
        let ok = [
            ("30m", 1_800),
            ("12h", 43_200),
            ("90d", 7_776_000),
            ("2w", 1_209_600),
            (" 1d ", 86_400),
        ];
        for (text, secs) in ok {
            assert_eq!(parse_lifetime(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for text in [
            "",
            "d",
            "90",
            "90s",
            "0d",
            "-1d",
            "1.5d",
            "90 d",
            "101000d",
            "99999999999999999999w",
        ] {
            assert!(parse_lifetime(text).is_err(), "{text}");
        }
    }

    /// `(arguments after token create --user alice, expected (expires in, expires at) or an error)`.
    #[test]
    fn token_create_expiry_arguments() {
        type Expiry = (Option<Duration>, Option<&'static str>);
        let cases: [(&[&str], Option<Expiry>); 5] = [
            (&[], Some((None, None))),
            (
                &["--expires-in", "90d"],
                Some((Some(Duration::from_secs(90 * 86_400)), None)),
            ),
            (
                &["--expires-at", "2027-03-01T09:00:00+09:00"],
                Some((None, Some("2027-03-01T00:00:00Z"))),
            ),
            (&["--expires-in", "90d", "--expires-at", "2027-03-01T00:00:00Z"], None),
            (&["--expires-at", "2027-03-01"], None),
        ];
        for (args, expected) in cases {
            let parsed = Cli::try_parse_from(
                ["secrets-server", "token", "create", "--user", "alice"]
                    .into_iter()
                    .chain(args.iter().copied()),
            );
            let got = parsed.ok().map(|cli| match cli.command {
                Command::Token(TokenCommand::Create {
                    expires_in, expires_at, ..
                }) => (expires_in, expires_at),
                other => panic!("{args:?} parsed as {other:?}"),
            });
            let expected =
                expected.map(|(within, at)| (within, at.map(|at| DateTime::parse_from_rfc3339(at).unwrap().to_utc())));
            assert_eq!(got, expected, "{args:?}");
        }
    }

    #[test]
    fn token_create_defaults_to_write() {
        let cli = Cli::try_parse_from(["secrets-server", "token", "create", "--user", "alice"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Token(TokenCommand::Create {
                scope: Scope::Write,
                ..
            })
        ));
    }
}

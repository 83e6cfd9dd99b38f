//! `secrets-server`: serves the user-secrets API and administers its tokens and master keys.
//!
//! Everything but argument parsing and logging setup lives in the library (`secrets_handler`), where tests reach it.

use clap::Parser as _;
use secrets_handler::cli::{Cli, Command, KeyCommand};
use secrets_handler::{admin, server};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr, so `token create` can print the token alone on stdout. RUST_LOG overrides `info`.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Serve(args) => server::serve(args, &cli.database, cli.store_timeout).await,
        Command::Token(command) => admin::token(command, &cli.database, cli.store_timeout).await,
        Command::Key(KeyCommand::Rotate { key }) => admin::rotate(&key, &cli.database).await,
    };
    // One line with the whole cause chain; no backtrace even where RUST_BACKTRACE is set.
    if let Err(err) = result.map_err(anyhow::Error::from) {
        eprintln!("error: {err:#}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

//! `secrets`: the user-secrets API from a shell (see the crate's library for how it works).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    secrets_cli::run(std::env::args_os()).await
}

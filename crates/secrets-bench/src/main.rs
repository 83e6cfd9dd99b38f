//! `secrets-bench`: the processes `cargo xtask bench` starts, each its own process so a server's RSS is its own.
//!
//! `serve` runs a comparison server, `load` drives an HTTP/1.1 server with keep-alive connections and prints
//! throughput and exact latency percentiles as JSON, `client` times the generated client against raw reqwest, and
//! `seed` stores the secrets the list and get figures read.

mod client;
mod load;
mod seed;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Benchmark processes started by `cargo xtask bench`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one comparison variant of `POST /api/v1/user/secrets/preset` until killed.
    Serve(serve::Args),
    /// Send requests over keep-alive connections; print one JSON line of results.
    Load(load::Args),
    /// Send requests through the generated client or raw reqwest; print one JSON line of results.
    Client(client::Args),
    /// Store one secret per preset for a token; print the id of one of them.
    Seed(seed::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve::run(&args),
        Command::Load(args) => load::run(&args),
        Command::Client(args) => client::run(&args),
        Command::Seed(args) => seed::run(&args),
    }
}

#[cfg(test)]
mod tests {
    /// Baseline (f) of `cargo xtask bench` is built outside the workspace, so it carries its own copy of the body.
    #[test]
    fn baseline_f_answers_the_same_created_body() {
        let main = include_str!("../baseline-f/main.rs");
        let copy = format!("const CREATED_BODY: &str = r#\"{}\"#;", crate::serve::CREATED_BODY);
        assert!(main.contains(&copy), "baseline-f/main.rs must hold {copy}");
    }
}

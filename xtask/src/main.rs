//! Project automation: `cargo xtask codegen [--check]`, `stub`, `corpus`, `contract`, `bench` (see README).

mod bench;
mod codegen;
mod contract;
mod corpus;
mod process;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Code generation allocates a token, a syntax node and a string at a time, millions of them for a large spec;
// glibc's allocator was a fifth of `cargo xtask stub`'s CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Project automation for the user-secrets workspace")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the client and server-stub crates from openapi.yaml, and report what the spec's change breaks.
    Codegen {
        /// Write nothing; fail if any generated file differs from what the spec produces.
        #[arg(long)]
        check: bool,
        /// The spec to read (default: openapi.yaml at the workspace root).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// What the change report compares the spec with: a file, or a git revision whose openapi.yaml is read
        /// (default: HEAD).
        #[arg(long, value_name = "REF|FILE")]
        base: Option<String>,
    },
    /// Generate a standalone server-stub crate (stub-gen over stub-runtime) for any OpenAPI 3.0 document.
    Stub {
        /// The spec to read.
        spec: PathBuf,
        /// The folder to write the crate into (created if missing; only changed files are rewritten).
        #[arg(long)]
        out: PathBuf,
        /// The crate's name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
        /// The component schema of the error envelope: error responses with this body are answered by returning a
        /// `Rejection` rather than as response-enum variants.
        #[arg(long)]
        envelope: Option<String>,
        /// Also generate typify's `types::builder` module: a builder per struct type (as progenitor's builder
        /// interface has); for the largest corpus spec, 37,000 of 98,000 lines.
        #[arg(long)]
        builders: bool,
    },
    /// Run the stub generator on the public specs of corpus/corpus.tsv, compile what it generates, write
    /// docs/corpus.md.
    Corpus {
        /// Write nothing to docs/; fail if docs/corpus.md is stale, a spec panics or a generated crate fails to compile.
        #[arg(long)]
        check: bool,
    },
    /// Fuzz the real server against openapi.yaml with schemathesis (installed into target/contract/venv).
    Contract {
        /// Random seed for schemathesis; a failure names the seed that reproduces it.
        #[arg(long, default_value_t = 20261127)]
        seed: u64,
        /// Test cases per operation and phase (schemathesis `--max-examples`).
        #[arg(long, default_value_t = 1000)]
        max_examples: u32,
        /// The backends to run against (PostgreSQL in a throwaway cluster).
        #[arg(long, value_enum, default_value = "both")]
        database: contract::Backends,
    },
    /// Measure codegen, server, client and memory against same-run baselines; write docs/benchmarks.md.
    Bench {
        /// Fewer, shorter runs (CI keeps the harness working); writes target/bench/benchmarks-quick.md.
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen { check, spec, base } => {
            let mode = if check {
                codegen::Mode::Check
            } else {
                codegen::Mode::Write
            };
            codegen::run(spec.as_deref(), mode, base.as_deref())
        }
        Command::Stub {
            spec,
            out,
            name,
            envelope,
            builders,
        } => codegen::stub::run(
            &spec,
            &out,
            name.as_deref(),
            codegen::stub::Options { envelope, builders },
        ),
        Command::Corpus { check } => corpus::run(&corpus::Options { check }),
        Command::Contract {
            seed,
            max_examples,
            database,
        } => contract::run(&contract::Options {
            seed,
            max_examples,
            database,
        }),
        Command::Bench { quick } => bench::run(&bench::Options { quick }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the root), else `target/` at the root. The
/// binaries `contract` and `bench` run, their state, and the corpus live there.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => project_root().join(dir),
        _ => project_root().join("target"),
    }
}

//! `cargo xtask contract`: schemathesis, pinned in a private virtualenv, against the real server on loopback: every
//! operation through the examples, coverage, fuzzing and stateful phases (the stateful phase follows the spec's
//! `links` from a create to get, update and delete), with two callers: schemathesis's `object_level_authorization`
//! replays one caller's reads as the other, and `contract/hooks.py` adds the writes (another caller's id must
//! answer 404 to get, update and delete alike). It runs once per backend: a SQLite file, then a database in a
//! throwaway PostgreSQL cluster (skipped with a message where PostgreSQL is not installed, except in CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use crate::process::{KillOnDrop, free_port, pinned_venv_tool, run_ok, wait_for_port};
use crate::{project_root, target_dir};

/// Pinned so a run is reproducible; bump deliberately.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// The callers whose tokens schemathesis sends: the first is its main identity, the other its peer.
const CALLERS: [&str; 2] = ["alice", "bob"];
/// The custom check: another caller's secret must not be readable, changeable or deletable.
const HOOKS: &str = include_str!("contract/hooks.py");

pub(crate) struct Options {
    pub(crate) seed: u64,
    pub(crate) max_examples: u32,
    pub(crate) database: Backends,
}

/// Which backends the contract runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Backends {
    Sqlite,
    Postgres,
    Both,
}

pub(crate) fn run(opts: &Options) -> Result<()> {
    let root = project_root();
    let work = target_dir().join("contract");
    let st = ensure_schemathesis(&work)?;
    let server_bin = build_server(&root)?;
    if opts.database != Backends::Postgres {
        let run_dir = work.join(format!("run-{}-sqlite", std::process::id()));
        std::fs::create_dir_all(&run_dir)?;
        let database = run_dir.join("secrets.db").display().to_string();
        run_against(opts, &root, &st, &server_bin, &run_dir, &database).context("on SQLite")?;
    }
    if opts.database != Backends::Sqlite {
        let cluster = match throwaway_postgres::Cluster::start(throwaway_postgres::Options::default()) {
            Ok(cluster) => cluster,
            Err(throwaway_postgres::Error::NotInstalled) if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "contract: SKIPPED on PostgreSQL: {}",
                    throwaway_postgres::Error::NotInstalled
                );
                return Ok(());
            }
            Err(e) => return Err(e).context("cannot start PostgreSQL for the contract run"),
        };
        let run_dir = work.join(format!("run-{}-postgres", std::process::id()));
        std::fs::create_dir_all(&run_dir)?;
        let database = cluster.create_database("contract")?;
        run_against(opts, &root, &st, &server_bin, &run_dir, &database).context("on PostgreSQL")?;
    }
    Ok(())
}

/// One schemathesis run against a server on `database` (a SQLite path or a PostgreSQL URL).
fn run_against(
    opts: &Options,
    root: &Path,
    st: &Path,
    server_bin: &Path,
    run_dir: &Path,
    database: &str,
) -> Result<()> {
    let backend = if database.starts_with("postgres://") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let key_file = run_dir.join("secrets.key");
    let mut tokens = Vec::new();
    for caller in CALLERS {
        let mut create = Command::new(server_bin);
        create.arg("--database").arg(database);
        create.args([
            "token",
            "create",
            "--user",
            &format!("contract-{caller}"),
            "--scope",
            "write",
        ]);
        let out = create
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run secrets-server token create")?;
        ensure!(out.status.success(), "secrets-server token create failed");
        tokens.push((caller, String::from_utf8(out.stdout)?.trim().to_owned()));
    }
    write_auth(run_dir, &tokens)?;
    std::fs::write(run_dir.join("contract_hooks.py"), HOOKS)?;

    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let mut serve = Command::new(server_bin);
    serve.arg("--database").arg(database);
    serve.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    serve.arg("--key-file").arg(&key_file);
    // Contract fuzzing is about shapes, not throttling: no rate limit, so 429 never hides a real answer.
    serve.args(["--rate-limit", "0"]);
    let log = std::fs::File::create(run_dir.join("server.log"))?;
    serve.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(log);
    let server = KillOnDrop(serve.spawn().context("cannot start secrets-server")?);
    wait_for_port(port, Duration::from_secs(30))?;

    let peer_tokens: Vec<String> = tokens.iter().map(|(name, token)| format!("{name}={token}")).collect();
    let out = Command::new(st)
        // Run inside the run directory: schemathesis and hypothesis keep state in the working directory, and the
        // hooks module is imported from it.
        .current_dir(run_dir)
        .env("SCHEMATHESIS_HOOKS", "contract_hooks")
        .env("PYTHONPATH", run_dir)
        .env("CONTRACT_TOKENS", peer_tokens.join(","))
        .env("CONTRACT_URL", &url)
        .arg("--config-file")
        .arg(run_dir.join("schemathesis.toml"))
        .arg("run")
        .arg(root.join("openapi.yaml"))
        .args(["--url", &url])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--seed", &opts.seed.to_string()])
        .args(["--max-examples", &opts.max_examples.to_string()])
        .args(["--workers", "2", "--no-color"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run schemathesis")?;
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    // The line after "Test cases:" reads like "1043 generated, 1043 passed".
    let cases = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Test cases"))
        .nth(1)
        .unwrap_or("no summary printed");
    let probed = std::fs::read_to_string(run_dir.join("probed-by-other-callers.txt"))
        .unwrap_or_default()
        .lines()
        .count();
    eprintln!(
        "contract on {backend}: seed {}; {}; {probed} created secrets probed by the other caller (get, update, delete); server log \
         in {}",
        opts.seed,
        cases.trim(),
        run_dir.display()
    );
    if !out.status.success() {
        bail!(
            "schemathesis reported failures; rerun with `cargo xtask contract --seed {}`",
            opts.seed
        );
    }
    ensure!(
        probed > 0,
        "the other-caller check (contract/hooks.py) never ran: no create answered 201"
    );
    Ok(())
}

/// The callers' tokens as a Web Fuzzing Commons auth document, and the config naming them peers (which turns on
/// `object_level_authorization`).
fn write_auth(run_dir: &Path, tokens: &[(&str, String)]) -> Result<()> {
    let auth: Vec<serde_json::Value> = tokens
        .iter()
        .map(|(name, token)| {
            serde_json::json!({
                "name": name,
                "fixedHeaders": [{ "name": "Authorization", "value": format!("Bearer {token}") }],
            })
        })
        .collect();
    let document = serde_json::json!({ "schemaVersion": "1.0.0", "auth": auth });
    std::fs::write(run_dir.join("auth.json"), serde_json::to_vec_pretty(&document)?)?;
    let peers: Vec<String> = tokens.iter().map(|(name, _)| format!("{name:?}")).collect();
    let config = format!(
        "# Written by `cargo xtask contract`.\n[auth.wfc]\npath = {:?}\npeers = [{}]\n",
        run_dir.join("auth.json").display().to_string(),
        peers.join(", ")
    );
    std::fs::write(run_dir.join("schemathesis.toml"), config)?;
    Ok(())
}

/// `target/contract/venv/bin/st`, with the pinned schemathesis.
fn ensure_schemathesis(work: &Path) -> Result<PathBuf> {
    pinned_venv_tool(&work.join("venv"), SCHEMATHESIS, "st")
}

fn build_server(root: &Path) -> Result<PathBuf> {
    run_ok(crate::process::cargo().current_dir(root).args([
        "build",
        "--quiet",
        "-p",
        "secrets-handler",
        "--bin",
        "secrets-server",
    ]))?;
    Ok(target_dir().join("debug/secrets-server"))
}

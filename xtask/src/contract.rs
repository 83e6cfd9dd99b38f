//! `cargo xtask contract`: schemathesis, pinned in a private virtualenv, against the real server on loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use crate::process::{KillOnDrop, free_port, pinned_venv_tool, run_ok, wait_for_port};
use crate::project_root;

/// Pinned so a run is reproducible; bump deliberately.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

pub(crate) struct Options {
    pub(crate) seed: u64,
    pub(crate) max_examples: u32,
}

pub(crate) fn run(opts: &Options) -> Result<()> {
    let root = project_root();
    let work = root.join("target/contract");
    let st = ensure_schemathesis(&work)?;
    let server_bin = build_server(&root)?;

    let run_dir = work.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&run_dir)?;
    let database = run_dir.join("secrets.db");
    let key_file = run_dir.join("secrets.key");
    let mut create = Command::new(&server_bin);
    create.arg("--database").arg(&database);
    create.args(["token", "create", "--user", "contract", "--scope", "write"]);
    let out = create
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run secrets-server token create")?;
    ensure!(out.status.success(), "secrets-server token create failed");
    let token = String::from_utf8(out.stdout)?.trim().to_owned();

    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let mut serve = Command::new(&server_bin);
    serve.arg("--database").arg(&database);
    serve.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    serve.arg("--key-file").arg(&key_file);
    // Contract fuzzing is about shapes, not throttling: no rate limit, so 429 never hides a real answer.
    serve.args(["--rate-limit", "0"]);
    let log = std::fs::File::create(run_dir.join("server.log"))?;
    serve.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(log);
    let server = KillOnDrop(serve.spawn().context("cannot start secrets-server")?);
    wait_for_port(port, Duration::from_secs(30))?;

    let out = Command::new(&st)
        // Run inside the run directory: schemathesis and hypothesis keep state in the working directory.
        .current_dir(&run_dir)
        .arg("run")
        .arg(root.join("openapi.yaml"))
        .args(["--url", &url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing"])
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
    eprintln!(
        "contract: seed {}; {}; server log in {}",
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
    Ok(())
}

/// `target/contract/venv/bin/st`, with the pinned schemathesis.
fn ensure_schemathesis(work: &Path) -> Result<PathBuf> {
    pinned_venv_tool(&work.join("venv"), SCHEMATHESIS, "st")
}

fn build_server(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_ok(Command::new(cargo).current_dir(root).args([
        "build",
        "--quiet",
        "-p",
        "secrets-handler",
        "--bin",
        "secrets-server",
    ]))?;
    Ok(root.join("target/debug/secrets-server"))
}

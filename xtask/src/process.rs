//! Child processes for every command: cargo, run-or-fail, loopback ports, servers killed on drop, pinned venvs.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

/// A `cargo` command: the cargo that runs xtask (`$CARGO`), so what xtask builds uses the same toolchain.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd` and fails, naming it, unless it exits 0.
pub(crate) fn run_ok(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("cannot run {cmd:?}"))?;
    ensure!(status.success(), "{cmd:?} failed with {status}");
    Ok(())
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub(crate) fn wait_for_port(port: u16, limit: Duration) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("no server listened on 127.0.0.1:{port} within {limit:?}")
}

/// Stops a server whatever happens to the run.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `venv/bin/<bin>` from a virtualenv at `venv` holding exactly `requirement`, created or reinstalled if not.
pub(crate) fn pinned_venv_tool(venv: &Path, requirement: &str, bin: &str) -> Result<PathBuf> {
    let tool = venv.join("bin").join(bin);
    let marker = venv.join(".pinned");
    if tool.exists() && std::fs::read_to_string(&marker).is_ok_and(|pin| pin == requirement) {
        return Ok(tool);
    }
    eprintln!("installing {requirement} into {}", venv.display());
    run_ok(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
    run_ok(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
    ]))?;
    std::fs::write(&marker, requirement)?;
    Ok(tool)
}

//! No `secrets-server` outlives the test that started it. Tests of this binary run again in a child test process
//! whose environment carries a unique tag (servers inherit it); once that process has exited, no process may carry
//! the tag. A test that leaks a server on purpose proves the check catches one.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::{SERVER_BIN_ENV, Server, server_bin};

const TAG_ENV: &str = "E2E_LEFTOVER_TAG";

/// The tests run again under the tag: the property tests (one server for many cases) and the harness's restart,
/// kill and panic paths.
const RERUN: &[&str] = &["props::arbitrary_byte_bodies", "leftovers::restarts_kills_and_panics"];

/// Starts, kills, restarts and stops servers, and panics in a test holding one: each process is gone afterwards.
#[test]
fn restarts_kills_and_panics() {
    let mut server = Server::start();
    let first = server.pid().unwrap();
    server.kill();
    server.spawn().unwrap();
    server.stop();
    server.spawn().unwrap();
    let other = Server::start();
    let pids = [first, server.pid().unwrap(), other.pid().unwrap()];
    drop(server);
    drop(other);
    let panicked = std::panic::catch_unwind(|| {
        let server = Server::start();
        panic!("a failing test holding server {:?}", server.pid());
    });
    assert!(panicked.is_err());
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "secrets-server {pid} still exists"
        );
    }
}

/// Leaks a server on purpose (never dropped, as a server kept in a static or a thread-local would be); only
/// [`a_leaked_server_is_caught`] runs it, under its tag.
#[test]
#[ignore = "leaks a secrets-server on purpose; run by a_leaked_server_is_caught"]
fn leaks_a_server() {
    std::mem::forget(Server::start());
}

#[test]
fn no_server_outlives_the_tests() {
    if std::env::var_os(TAG_ENV).is_some() {
        return; // the rerun itself
    }
    let leftovers = rerun(RERUN, false);
    assert!(
        leftovers.is_empty(),
        "processes outlived the tests that started them:\n{}",
        leftovers.join("\n")
    );
}

#[test]
fn a_leaked_server_is_caught() {
    if std::env::var_os(TAG_ENV).is_some() {
        return;
    }
    let leftovers = rerun(&["leftovers::leaks_a_server"], true);
    assert_eq!(leftovers.len(), 1, "the leak was not found: {leftovers:?}");
    assert!(leftovers[0].contains("secrets-server"), "{leftovers:?}");
}

/// Runs `tests` of this binary in a child process under a fresh tag; returns the processes (pid and command line)
/// still carrying the tag after it exited, killed and their temporary folders removed.
fn rerun(tests: &[&str], ignored: bool) -> Vec<String> {
    let tag = uuid::Uuid::new_v4().to_string();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(tests).args(["--exact", "--test-threads", "2"]);
    if ignored {
        cmd.arg("--ignored");
    }
    let out = cmd
        .env(TAG_ENV, &tag)
        .env(SERVER_BIN_ENV, server_bin())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("{} passed", tests.len())),
        "the rerun failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let found = tagged(&format!("{TAG_ENV}={tag}"));
    for (pid, cmdline) in &found {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        // The leaked server's temporary folder: the one holding its `--database`.
        let args: Vec<&str> = cmdline.split(' ').collect();
        if let Some(db) = args
            .windows(2)
            .find(|w| w[0] == "--database")
            .map(|w| PathBuf::from(w[1]))
            && let Some(dir) = db.parent().filter(|d| d.starts_with(std::env::temp_dir()))
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    found
        .into_iter()
        .map(|(pid, cmdline)| format!("{pid}: {cmdline}"))
        .collect()
}

/// Processes whose environment holds `needle` (`NAME=value`), with their command lines.
fn tagged(needle: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // Processes come and go, and some are not ours to read: skip what cannot be read.
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|var| var == needle.as_bytes()) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ").trim().to_owned();
            found.push((pid, cmdline));
        }
    }
    found
}

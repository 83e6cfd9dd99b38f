//! The drive tests: hand-written tests (`corpus/drive/<spec>.rs`, sharing `corpus/drive/support.rs`) that send
//! requests through a generated router with `oneshot`. Each is copied into its spec's crate as `tests/drive/`,
//! all are built by one cargo run in the corpus's target directory, then each test binary is run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use super::kinds::Kind;
use super::{Outcome, Row, attribute, crate_name, describe, write_if_changed};

/// Where the drive files are, from the project root.
pub(crate) const DIR: &str = "corpus/drive";
/// The module every drive file declares (`mod support;`); not a drive of its own.
const SUPPORT: &str = "support.rs";
/// The line of a drive file that names the kinds it sends a request of.
const KINDS_LINE: &str = "//! Kinds: ";
/// What a drive test needs beyond the stub's own dependencies (the runtime and serde): versions the project's lock
/// already holds, so nothing new is resolved or fetched.
const DEV_DEPENDENCIES: &str = "\n# Added by `cargo xtask corpus` for the drive test in tests/drive/.\n\
[dev-dependencies]\n\
axum = { version = \"0.8\", default-features = false }\n\
base64 = \"0.23\"\n\
http-body-util = \"0.1\"\n\
serde_json = \"1\"\n\
tokio = { version = \"1\", features = [\"macros\", \"rt\"] }\n\
tower = { version = \"0.5\", features = [\"util\"] }\n";

/// Every drive file, by spec name, and the support module they share.
pub(crate) struct Drives {
    pub(crate) support: String,
    pub(crate) specs: BTreeMap<String, Drive>,
}

/// One drive file: its text and the kinds its `//! Kinds:` line declares.
pub(crate) struct Drive {
    pub(crate) source: String,
    pub(crate) kinds: BTreeSet<Kind>,
}

/// Reads `corpus/drive/`: every `.rs` file but the support module drives the spec of its name.
pub(crate) fn read(root: &Path) -> Result<Drives> {
    let dir = root.join(DIR);
    let read = |path: &Path| std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()));
    let support = read(&dir.join(SUPPORT))?;
    let mut specs = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let Some(spec) = name.strip_suffix(".rs").filter(|_| name != SUPPORT) else {
            continue;
        };
        let source = read(&path)?;
        let kinds = parse_kinds(&format!("{DIR}/{name}"), &source)?;
        specs.insert(spec.to_owned(), Drive { source, kinds });
    }
    Ok(Drives { support, specs })
}

/// The kinds on the drive file's one `//! Kinds: a, b` line.
pub(crate) fn parse_kinds(file: &str, source: &str) -> Result<BTreeSet<Kind>> {
    let lines: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix(KINDS_LINE))
        .collect();
    let [line] = lines[..] else {
        bail!(
            "{file}: {} `{}` lines; write one, naming the kinds of request it sends",
            lines.len(),
            KINDS_LINE.trim_end()
        );
    };
    line.split(',')
        .map(|name| Kind::parse(name.trim()).with_context(|| format!("{file}: `{}` line", KINDS_LINE.trim_end())))
        .collect()
}

/// What is wrong with the drives before anything runs: a drive of a spec the manifest does not list, of a spec the
/// generator refuses, or whose declared kinds are not the kinds its spec contains. (A panic or a crate that does not
/// compile is reported as a defect already.)
pub(crate) fn problems(rows: &[Row], drives: &BTreeMap<String, Drive>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, drive) in drives {
        let file = format!("{DIR}/{name}.rs");
        let Some(row) = rows.iter().find(|row| row.entry.name == *name) else {
            problems.push(format!(
                "{file} drives `{name}`, which neither {} nor {} lists",
                super::MANIFEST,
                super::sources::MANIFEST
            ));
            continue;
        };
        if !matches!(row.outcome, Outcome::Compiles) && !row.outcome.is_defect() {
            let (result, reason) = describe(&row.outcome);
            problems.push(format!("{name}: driven by {file}, but {result}: {reason}"));
        }
        let undriven: Vec<&str> = row.kinds.difference(&drive.kinds).map(|kind| kind.name()).collect();
        if !undriven.is_empty() {
            problems.push(format!(
                "{name}: the spec has {} but {file} sends no request of it; drive it and name it on the `{}` line",
                undriven.join(", "),
                KINDS_LINE.trim_end()
            ));
        }
        let absent: Vec<&str> = drive.kinds.difference(&row.kinds).map(|kind| kind.name()).collect();
        if !absent.is_empty() {
            problems.push(format!(
                "{name}: {file} declares {}, which the spec does not have",
                absent.join(", ")
            ));
        }
    }
    problems
}

/// The member manifest of a driven crate: the dev-dependencies of its drive test added.
pub(crate) fn driven_manifest(member: &str) -> Result<String> {
    ensure!(
        !member.lines().any(|line| line.trim() == "[dev-dependencies]"),
        "the stub manifest already has `[dev-dependencies]`; update corpus/drive.rs"
    );
    Ok(format!("{member}{DEV_DEPENDENCIES}"))
}

/// Writes the drive test into a member crate as `tests/drive/` (verbatim, so line numbers are the drive file's), or
/// removes a stale one from a crate that is no longer driven.
pub(crate) fn write_tests(crate_dir: &Path, drive: Option<(&Drive, &str)>) -> Result<()> {
    let tests = crate_dir.join("tests");
    match drive {
        Some((drive, support)) => {
            write_if_changed(&tests.join("drive/main.rs"), &drive.source)?;
            write_if_changed(&tests.join("drive").join(SUPPORT), support)?;
            Ok(())
        }
        None if tests.exists() => {
            std::fs::remove_dir_all(&tests).with_context(|| format!("cannot remove {}", tests.display()))
        }
        None => Ok(()),
    }
}

/// Builds the drive tests of `members` in one cargo run (the corpus's target directory), then runs each test binary
/// in its crate's folder, as `cargo test` would. Per member: `Ok`, or why not (the first compile error, or the
/// failing tests).
pub(crate) fn run(work: &Path, members: &[String]) -> Result<BTreeMap<String, std::result::Result<(), String>>> {
    let mut cmd = crate::process::cargo();
    // The test binaries `cargo test --no-run` would build; but `cargo test` has no `--keep-going`, so one drive
    // test that does not compile would keep the others from being built, and so from running.
    cmd.current_dir(work)
        .args(["build", "--keep-going", "--message-format=json", "--test", "drive"])
        .arg("--target-dir")
        .arg(work.join("target"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for member in members {
        cmd.arg("--package").arg(crate_name(member));
    }
    let out = cmd.output().with_context(|| format!("cannot run {cmd:?}"))?;
    let messages = String::from_utf8_lossy(&out.stdout);
    let crates = std::fs::canonicalize(work.join("crates")).context("cannot find the corpus crates")?;
    let built = attribute(&messages, &crates, members, "test");
    let binaries = executables(&messages, &crates);
    if !out.status.success() && built.values().all(std::result::Result::is_ok) {
        bail!(
            "{cmd:?} failed with {} before any drive test failed to compile; see its output above",
            out.status
        );
    }
    let mut results = BTreeMap::new();
    for member in members {
        let result = match (&built[member], binaries.get(member)) {
            (Err(error), _) => Err(format!("does not compile: {error}")),
            (Ok(()), None) => Err("cargo reported no test binary".to_owned()),
            (Ok(()), Some(binary)) => run_binary(binary, &work.join("crates").join(member))
                .with_context(|| format!("cannot run the drive test of {member}"))?,
        };
        results.insert(member.clone(), result);
    }
    Ok(results)
}

/// The test binaries cargo built, by member.
fn executables(messages: &str, crates: &Path) -> BTreeMap<String, PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message.get("reason").and_then(Value::as_str) == Some("compiler-artifact"))
        .filter_map(|message| {
            let member = Path::new(message.get("manifest_path")?.as_str()?)
                .parent()?
                .strip_prefix(crates)
                .ok()?
                .to_string_lossy()
                .into_owned();
            let binary = PathBuf::from(message.get("executable")?.as_str()?);
            Some((member, binary))
        })
        .collect()
}

/// Runs one test binary; on failure its output goes to stderr and the answer names the failing tests.
fn run_binary(binary: &Path, dir: &Path) -> Result<std::result::Result<(), String>> {
    // The failing assertion lists every case that answered otherwise; a backtrace through the runtime adds nothing.
    let out = Command::new(binary)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if out.status.success() {
        return Ok(Ok(()));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    Ok(Err(failing_tests(&stdout).map_or_else(
        || format!("the test binary exited with {}; its output is above", out.status),
        |names| format!("{names} failed; the output is above"),
    )))
}

/// The names of the failing tests in libtest's output (its `---- name stdout ----` headings).
pub(crate) fn failing_tests(stdout: &str) -> Option<String> {
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("---- ")?.strip_suffix(" stdout ----"))
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

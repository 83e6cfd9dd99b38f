//! The binaries the bench runs: `secrets-server` and `secrets-bench` in release mode, and baseline (f),
//! openapi-generator's rust-axum server, generated at bench time and built outside the workspace.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};

use crate::codegen::write_if_changed;
use crate::process::{cargo, pinned_venv_tool, run_ok};
use crate::target_dir;

/// Pinned so a run is reproducible; bump deliberately.
const OPENAPI_GENERATOR: &str = "openapi-generator-cli==7.26.0";
/// The committed half of baseline (f): its Cargo.toml and main.rs, copied next to the generated crate.
const F_TEMPLATE: &str = "crates/secrets-bench/baseline-f";

pub(super) struct Bins {
    pub(super) bench: PathBuf,
    pub(super) server: PathBuf,
    /// Baseline (f), unless it could not be generated or built.
    pub(super) f: Option<PathBuf>,
}

/// Builds `secrets-bench` and `secrets-server` in release mode.
pub(super) fn build(root: &Path) -> Result<Bins> {
    run_ok(cargo().current_dir(root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "secrets-bench",
        "-p",
        "secrets-handler",
        "--bins",
    ]))?;
    let release = target_dir().join("release");
    Ok(Bins {
        bench: release.join("secrets-bench"),
        server: release.join("secrets-server"),
        f: None,
    })
}

/// `target/bench/venv/bin/openapi-generator-cli`, with the pinned version, installed unless it is already there.
pub(super) fn openapi_generator(work: &Path) -> Result<PathBuf> {
    pinned_venv_tool(&work.join("venv"), OPENAPI_GENERATOR, "openapi-generator-cli")
}

/// Baseline (f): generates openapi-generator's rust-axum crate from openapi.yaml into `target/bench/f/gen`, puts the
/// committed trivial implementation (`crates/secrets-bench/baseline-f`) beside it as the crate `target/bench/f`, and
/// builds that in release mode into `target/bench/f-target`. Files are only rewritten when their bytes change, so
/// a second run finds everything fresh and costs one generator run plus cargo's freshness check.
/// Returns the binary and a note on it for the details.
pub(super) fn build_f(root: &Path, work: &Path) -> Result<(PathBuf, String)> {
    let start = Instant::now();
    let cli = openapi_generator(work)?;
    let dir = work.join("f");
    let fresh = work.join("f-gen-new");
    let _ = std::fs::remove_dir_all(&fresh);
    let out = Command::new(&cli)
        .args([
            "generate",
            "-g",
            "rust-axum",
            "--additional-properties=packageName=secrets_openapi_axum",
        ])
        .arg("-i")
        .arg(root.join("openapi.yaml"))
        .arg("-o")
        .arg(&fresh)
        .output()
        .context("cannot run openapi-generator")?;
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.success(),
        "openapi-generator -g rust-axum failed ({}):\n{}",
        out.status,
        tail(&log, 20)
    );
    let warnings = generator_warnings(&log);
    sync_dir(&fresh, &dir.join("gen"))?;
    let _ = std::fs::remove_dir_all(&fresh);
    let template = root.join(F_TEMPLATE);
    write_if_changed(&dir.join("Cargo.toml"), std::fs::read(template.join("Cargo.toml.in"))?)?;
    write_if_changed(&dir.join("src/main.rs"), std::fs::read(template.join("main.rs"))?)?;

    let target = work.join("f-target");
    let out = cargo()
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .stdout(Stdio::null())
        .output()
        .context("cannot run cargo build for baseline (f)")?;
    ensure!(
        out.status.success(),
        "the generated rust-axum crate and its trivial implementation do not build ({}):\n{}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stderr), 40)
    );
    let mut note = format!(
        "### Baseline (f)\n\n`{OPENAPI_GENERATOR}` `-g rust-axum` from openapi.yaml into `target/bench/f/gen`, with the \
         trivial implementation of `{F_TEMPLATE}` (any non-empty bearer token; every create answers the canned 201), \
         built in release mode into `target/bench/f-target`; generate + build took {:.1} s in this run. Generator \
         warnings:\n\n",
        start.elapsed().as_secs_f64()
    );
    for (warning, count) in &warnings {
        writeln!(note, "- {}", counted(warning, *count))?;
    }
    note.push('\n');
    Ok((target.join("release/secrets-bench-f"), note))
}

/// Makes `to` hold exactly the files of `from`. Unchanged files keep their mtime, so cargo does not rebuild them.
fn sync_dir(from: &Path, to: &Path) -> Result<()> {
    let wanted = files_under(from)?;
    for rel in &wanted {
        write_if_changed(&to.join(rel), std::fs::read(from.join(rel))?)?;
    }
    if to.exists() {
        for rel in files_under(to)? {
            if !wanted.contains(&rel) {
                std::fs::remove_file(to.join(&rel))?;
            }
        }
    }
    Ok(())
}

/// Every file below `dir`, relative to it.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).with_context(|| format!("cannot list {}", current.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.strip_prefix(dir)?.to_path_buf());
            }
        }
    }
    Ok(files)
}

/// openapi-generator's warnings in its output `log`, each once with how many times it came, the most frequent first.
/// They say what it could not express as the spec says; the reader judges whether they matter.
pub(super) fn generator_warnings(log: &str) -> Vec<(&str, usize)> {
    let mut counts = BTreeMap::new();
    for warning in log
        .lines()
        .filter_map(|l| l.split_once(" WARN ").map(|(_, w)| w.trim()))
    {
        *counts.entry(warning).or_default() += 1;
    }
    let mut warnings: Vec<(&str, usize)> = counts.into_iter().collect();
    warnings.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
    warnings
}

/// A warning as the details list it: with its count when it came more than once.
pub(super) fn counted(warning: &str, count: usize) -> String {
    if count > 1 {
        format!("{warning} (×{count})")
    } else {
        warning.to_owned()
    }
}

/// The last `n` lines of a tool's output, for a defect message.
pub(super) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::generator_warnings;

    #[test]
    fn warnings_are_counted_most_frequent_first() {
        let cases: [(&str, &[(&str, usize)]); 3] = [
            ("", &[]),
            ("[main] INFO  o.o.codegen.DefaultGenerator - done\n", &[]),
            (
                "[main] WARN  o.o.c.l.R - b\n[main] INFO  x - WARN\n[main] WARN  o.o.c.l.R - a\n\
                 [main] WARN  o.o.c.l.R - b \n",
                &[("o.o.c.l.R - b", 2), ("o.o.c.l.R - a", 1)],
            ),
        ];
        for (log, expected) in cases {
            assert_eq!(generator_warnings(log), expected, "{log:?}");
        }
    }
}

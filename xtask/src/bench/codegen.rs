//! The codegen figures: `cargo xtask codegen --check` and `cargo xtask stub` on the largest corpus spec, end to
//! end, against openapi-generator on the same files. Goal: at least 20 times faster.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};

use super::Plan;
use super::builds::openapi_generator;
use super::report::{Goal, Report, Row};
use super::statistics::{list, median, secs};
use crate::process::cargo;
use crate::target_dir;

/// The goal of both end-to-end figures: openapi-generator's time over ours.
const GOAL: Goal = Goal::AtLeast(20.0);

pub(super) fn figures(root: &Path, work: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let spec_path = root.join("openapi.yaml");

    // In-process: exactly what `cargo xtask codegen` does before comparing bytes, in this (dev-profile) binary.
    let mut in_process = Vec::new();
    for _ in 0..plan.runs.max(5) {
        let start = Instant::now();
        let spec = crate::codegen::load(&spec_path)?;
        std::hint::black_box(crate::codegen::generate(root, &spec)?);
        in_process.push(start.elapsed().as_secs_f64());
    }

    // Whole process: what a developer waits for. One untimed run first so cargo's freshness check is warm.
    let cargo_check = || {
        let mut cmd = cargo();
        cmd.args(["xtask", "codegen", "--check"]);
        cmd
    };
    // By path, not `current_exe`: another `cargo xtask` in the same target dir may have replaced this binary.
    let bare_check = || {
        let mut cmd = Command::new(target_dir().join("debug/xtask"));
        cmd.args(["codegen", "--check"]);
        cmd
    };
    let (mut whole, mut bare) = (Vec::new(), Vec::new());
    match timed(root, &mut cargo_check()) {
        Ok(_) => {
            for _ in 0..plan.runs {
                whole.push(timed(root, &mut cargo_check())?);
                bare.push(timed(root, &mut bare_check())?);
            }
        }
        Err(err) => report.defects.push(format!(
            "codegen: `cargo xtask codegen --check` does not pass, so it was not timed: {err:#}"
        )),
    }

    // openapi-generator, same spec, both Rust generators (client and server, as ours makes both), each into a fresh
    // directory.
    let cli = openapi_generator(work)?;
    let mut generators: [(&str, Vec<f64>); 2] = [("rust-axum", Vec::new()), ("rust", Vec::new())];
    for i in 0..plan.generator_runs {
        for (name, times) in &mut generators {
            let out = work.join(format!("openapi-generator-{name}-{i}"));
            let _ = std::fs::remove_dir_all(&out);
            let mut cmd = Command::new(&cli);
            cmd.args(["generate", "-g", name, "-i"])
                .arg(&spec_path)
                .arg("-o")
                .arg(&out);
            times.push(timed(root, &mut cmd).with_context(|| format!("openapi-generator -g {name}"))?);
            let _ = std::fs::remove_dir_all(&out);
        }
    }

    let [(_, axum), (_, rust)] = &generators;
    let theirs = median(axum) + median(rust);
    let baseline = format!("{} (openapi-generator rust-axum + rust)", secs(theirs));
    let ours = median(&in_process);
    report.rows.push(Row {
        figure: "codegen in-process: parse + client + stub + format (dev-profile xtask)".into(),
        value: secs(ours),
        baseline: baseline.clone(),
        ratio: Some(theirs / ours),
        goal: None,
    });
    if !whole.is_empty() {
        let ours = median(&whole);
        report.rows.push(Row {
            figure: "codegen end to end: warm `cargo xtask codegen --check`".into(),
            value: secs(ours),
            baseline,
            ratio: Some(theirs / ours),
            goal: Some(GOAL),
        });
        report.rows.push(Row::info(
            "codegen: the xtask binary alone (`target/debug/xtask codegen --check`, no cargo)",
            secs(median(&bare)),
        ));
    }
    writeln!(
        report.details,
        "### Codegen samples (seconds)\n\n- in-process: {}\n- `cargo xtask codegen --check`: {}\n- xtask binary \
         alone: {}\n- openapi-generator rust-axum: {}\n- openapi-generator rust: {}\n",
        list(&in_process, 4),
        list(&whole, 4),
        list(&bare, 4),
        list(axum, 4),
        list(rust, 4),
    )?;
    Ok(())
}

/// Codegen of the largest corpus spec the stub generator serves: a warm `cargo xtask stub` (what a user runs) against
/// openapi-generator's rust-axum server generator on the same file. openapi-generator runs with
/// `--skip-validate-spec`, as public specs rarely pass its validator; if it still fails, the row says so.
pub(super) fn corpus_figures(root: &Path, work: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let (name, yaml) = crate::corpus::largest_served(root)?;
    let dir = work.join("corpus-codegen");
    std::fs::create_dir_all(&dir)?;
    let spec = dir.join(format!("{name}.yaml"));
    std::fs::write(&spec, &yaml)?;
    let lines = yaml.lines().count();
    let ours = |i: usize| {
        let mut cmd = cargo();
        cmd.args(["xtask", "stub"])
            .arg(&spec)
            .arg("--out")
            .arg(dir.join(format!("ours-{i}")))
            .args(["--name", "corpus-largest"]);
        cmd
    };
    timed(root, &mut ours(0))?; // warm: cargo's freshness check, the spec in the page cache
    let mut ours_times = Vec::new();
    for i in 1..=plan.runs {
        let _ = std::fs::remove_dir_all(dir.join(format!("ours-{i}")));
        ours_times.push(timed(root, &mut ours(i))?);
    }
    let cli = openapi_generator(work)?;
    let mut theirs_times = Vec::new();
    let mut theirs_failed = None;
    for i in 0..plan.generator_runs {
        let out = dir.join(format!("openapi-generator-{i}"));
        let _ = std::fs::remove_dir_all(&out);
        let mut cmd = Command::new(&cli);
        cmd.args(["generate", "-g", "rust-axum", "--skip-validate-spec", "-i"])
            .arg(&spec)
            .arg("-o")
            .arg(&out);
        match timed(root, &mut cmd) {
            Ok(t) => theirs_times.push(t),
            Err(err) => {
                theirs_failed = Some(format!("{err:#}"));
                break;
            }
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    let ours = median(&ours_times);
    let figure =
        format!("codegen end to end, largest corpus spec served ({name}, {lines} lines): warm `cargo xtask stub`");
    match theirs_failed {
        None => {
            let theirs = median(&theirs_times);
            report.rows.push(Row {
                figure,
                value: secs(ours),
                baseline: format!("{} (openapi-generator rust-axum)", secs(theirs)),
                ratio: Some(theirs / ours),
                goal: Some(GOAL),
            });
        }
        Some(why) => {
            report.rows.push(Row::info(figure, secs(ours)));
            report.rows.push(Row::info(
                format!("openapi-generator -g rust-axum on {name}"),
                format!("failed: {}", why.chars().take(120).collect::<String>()),
            ));
        }
    }
    writeln!(
        report.details,
        "### Codegen of the largest corpus spec served ({name}, {lines} lines; seconds)\n\n- `cargo xtask stub`: {}\n\
         - openapi-generator rust-axum: {}\n",
        list(&ours_times, 4),
        list(&theirs_times, 4),
    )?;
    Ok(())
}

/// Runs `cmd` in `root`, its output discarded: how long the whole process took, or why it failed.
fn timed(root: &Path, cmd: &mut Command) -> Result<f64> {
    cmd.current_dir(root).stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status().with_context(|| format!("cannot run {cmd:?}"))?;
    let elapsed = start.elapsed().as_secs_f64();
    ensure!(status.success(), "{cmd:?} failed with {status}");
    Ok(elapsed)
}

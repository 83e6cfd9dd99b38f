//! The codegen figures: `cargo xtask codegen --check`, and `cargo xtask stub` on the largest OpenAPI 3.0 and 3.1
//! corpus specs, end to end, against openapi-generator on the same files. Goal: at least 20 times faster.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};

use super::Plan;
use super::builds::{counted, generator_warnings, openapi_generator, tail};
use super::report::{Goal, Report, Row};
use super::statistics::{list, median, per_run_ratios, secs, spread};
use crate::corpus::Manifest;
use crate::process::cargo;
use crate::target_dir;

/// The goal of both end-to-end figures: openapi-generator's time over ours.
const GOAL: Goal = Goal::AtLeast(20.0);
/// How many of openapi-generator's distinct warnings on a corpus spec the details list, the most frequent first: on
/// asana most of its 87 are one per renamed field.
const LISTED_WARNINGS: usize = 15;

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

/// Codegen of the largest spec of one corpus manifest that the stub generator serves: a warm `cargo xtask stub`
/// (what a user runs) against openapi-generator's rust-axum server generator on the same file, the two alternating
/// within each run so the ratio pairs samples of one run. openapi-generator runs with `--skip-validate-spec`, as
/// public specs rarely pass its validator; its warnings go to the details, and if it fails, the row says why.
pub(super) fn corpus_figures(
    root: &Path,
    work: &Path,
    plan: &Plan,
    report: &mut Report,
    manifest: Manifest,
) -> Result<()> {
    let version = match manifest {
        Manifest::Oas30 => "3.0",
        Manifest::Oas31 => "3.1",
    };
    let (name, yaml) = crate::corpus::largest_served(root, manifest)?;
    let dir = work.join("corpus-codegen").join(&name);
    std::fs::create_dir_all(&dir)?;
    let spec = dir.join(format!("{name}.yaml"));
    std::fs::write(&spec, &yaml)?;
    let lines = yaml.lines().count();
    let ours = |run: usize| {
        let out = dir.join(format!("ours-{run}"));
        let _ = std::fs::remove_dir_all(&out);
        let mut cmd = cargo();
        cmd.args(["xtask", "stub"])
            .arg(&spec)
            .arg("--out")
            .arg(out)
            .args(["--name", "corpus-largest"]);
        timed(root, &mut cmd)
    };
    let cli = openapi_generator(work)?;
    let theirs = |run: usize| {
        let out = dir.join(format!("openapi-generator-{run}"));
        let _ = std::fs::remove_dir_all(&out);
        let mut cmd = Command::new(&cli);
        cmd.args(["generate", "-g", "rust-axum", "--skip-validate-spec", "-i"])
            .arg(&spec)
            .arg("-o")
            .arg(&out)
            .current_dir(root);
        let start = Instant::now();
        let output = cmd.output().with_context(|| format!("cannot run {cmd:?}"))?;
        let elapsed = start.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&out);
        let log = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        Ok::<_, anyhow::Error>((output.status.success().then_some(elapsed), log))
    };

    ours(plan.runs)?; // warm: cargo's freshness check, the spec in the page cache
    let (mut ours_times, mut theirs_times) = (Vec::new(), Vec::new());
    // The first run's output (for the warnings), and a failed run's.
    let (mut log, mut failed) = (None, None);
    for run in 0..plan.runs {
        // Which goes first alternates, so a drift in the machine's load favours neither.
        let order = if run % 2 == 0 { [true, false] } else { [false, true] };
        for is_ours in order {
            if is_ours {
                ours_times.push((run, ours(run)?));
            } else if run < plan.generator_runs && failed.is_none() {
                match theirs(run)? {
                    (Some(elapsed), run_log) => {
                        theirs_times.push((run, elapsed));
                        log.get_or_insert(run_log);
                    }
                    (None, run_log) => failed = Some(run_log),
                }
            }
        }
    }
    let values = |samples: &[(usize, f64)]| samples.iter().map(|&(_, v)| v).collect::<Vec<_>>();
    let (ours_values, theirs_values) = (values(&ours_times), values(&theirs_times));
    // theirs / ours, run by run
    let ratios = per_run_ratios(&theirs_times, &ours_times);
    let figure = format!(
        "codegen end to end, largest OpenAPI {version} corpus spec served ({name}, {lines} lines): warm `cargo xtask \
         stub`"
    );
    if failed.is_some() {
        report.rows.push(Row::info(figure, secs(median(&ours_values))));
        report.rows.push(Row::info(
            format!("openapi-generator -g rust-axum on {name}"),
            "failed (its output is in the details)",
        ));
    } else {
        report.rows.push(Row {
            figure,
            value: secs(median(&ours_values)),
            baseline: format!("{} (openapi-generator rust-axum)", secs(median(&theirs_values))),
            ratio: Some(median(&ratios)),
            goal: Some(GOAL),
        });
    }
    writeln!(
        report.details,
        "### Codegen of the largest OpenAPI {version} corpus spec served ({name}, {lines} lines; seconds)\n\n- `cargo \
         xtask stub`: {} (spread {})\n- openapi-generator rust-axum: {} (spread {})\n- openapi-generator over ours, \
         run by run: {} (spread {})",
        list(&ours_values, 4),
        spread(&ours_values),
        list(&theirs_values, 4),
        spread(&theirs_values),
        list(&ratios, 2),
        spread(&ratios),
    )?;
    if let Some(failed) = &failed {
        writeln!(
            report.details,
            "- openapi-generator failed; the end of its output:\n\n```text\n{}\n```",
            tail(failed, 20)
        )?;
    }
    let warnings = generator_warnings(log.as_ref().or(failed.as_ref()).map_or("", String::as_str));
    writeln!(
        report.details,
        "- openapi-generator's warnings, {} distinct, on its first run:",
        warnings.len()
    )?;
    for (warning, count) in warnings.iter().take(LISTED_WARNINGS) {
        writeln!(report.details, "  - {}", counted(warning, *count))?;
    }
    if warnings.len() > LISTED_WARNINGS {
        writeln!(report.details, "  - and {} more", warnings.len() - LISTED_WARNINGS)?;
    }
    report.details.push('\n');
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

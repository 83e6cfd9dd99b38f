//! `cargo xtask bench [--quick]`: measures codegen, servers, storage and the client, each against a physical limit
//! or the tool people would compare it with, measured in the same run (the machine is shared and noisy), and
//! writes the table to `docs/benchmarks.md`.
//!
//! Servers, load and clients run as separate processes (`crates/secrets-bench`, `secrets-server`), built in
//! release mode, so each server's RSS is its own; xtask itself depends on no workspace crate. One file per job:
//! [`builds`] makes the binaries, [`codegen`], [`servers`], [`storage`] and [`client`] measure, [`report`] writes.

mod builds;
mod client;
mod codegen;
mod report;
mod servers;
mod statistics;
mod storage;

use std::time::Instant;

use anyhow::{Context as _, Result, bail};

use crate::corpus::Manifest;
use crate::{project_root, target_dir};

pub(crate) struct Options {
    pub(crate) quick: bool,
}

/// How much to measure: the full run for publication, the quick one so CI keeps the harness working.
struct Plan {
    quick: bool,
    /// Repetitions of every figure; medians are reported.
    runs: usize,
    /// Repetitions of each openapi-generator invocation (a JVM start each, several seconds).
    generator_runs: usize,
    /// Fixed-request load: warm-up and measured seconds per run (also `pgbench`'s seconds).
    warmup_s: f64,
    duration_s: f64,
    /// The disk's `fdatasync` loop: seconds per run and connection count.
    fsync_s: f64,
    /// Durable creates: measured tokens per run (4 creates each) at 1 and at 64 connections, and warm-up tokens.
    create_tokens: [usize; 2],
    create_warmup_tokens: usize,
    /// Client figure: measured requests per run, sequential and 64 concurrent.
    client_requests: [usize; 2],
    /// Client figure: repetitions. More than the others: client and server share the cores, so it is the noisiest.
    client_runs: usize,
}

const FULL: Plan = Plan {
    quick: false,
    runs: 5,
    generator_runs: 5,
    warmup_s: 1.0,
    duration_s: 4.0,
    fsync_s: 1.0,
    create_tokens: [400, 1000],
    create_warmup_tokens: 50,
    client_requests: [10_000, 40_000],
    client_runs: 9,
};

const QUICK: Plan = Plan {
    quick: true,
    runs: 3,
    generator_runs: 2,
    warmup_s: 0.2,
    duration_s: 0.8,
    fsync_s: 0.3,
    create_tokens: [60, 200],
    create_warmup_tokens: 10,
    client_requests: [1_000, 4_000],
    client_runs: 3,
};

pub(crate) fn run(opts: &Options) -> Result<()> {
    let started = Instant::now();
    let load_at_start = report::load_average();
    let plan = if opts.quick { &QUICK } else { &FULL };
    let root = project_root();
    let work = target_dir().join("bench");
    std::fs::create_dir_all(&work)?;
    eprintln!("bench: building the release binaries");
    let mut bins = builds::build(&root)?;
    let mut report = report::Report::default();
    eprintln!("bench: generating and building baseline (f) (the first build takes minutes; later ones reuse it)");
    let f_note = match builds::build_f(&root, &work) {
        Ok((f, note)) => {
            bins.f = Some(f);
            note
        }
        Err(err) => {
            report.defects.push(format!("server (f): not measured: {err:#}"));
            String::new()
        }
    };

    // A figure that fails is a defect of the run, reported with the others; it does not hide the rest.
    eprintln!("bench: codegen");
    if let Err(err) = codegen::figures(&root, &work, plan, &mut report) {
        report.defects.push(format!("codegen: {err:#}"));
    }
    for (manifest, version) in [(Manifest::Oas30, "3.0"), (Manifest::Oas31, "3.1")] {
        eprintln!("bench: codegen of the largest OpenAPI {version} corpus spec");
        if let Err(err) = codegen::corpus_figures(&root, &work, plan, &mut report, manifest) {
            report
                .defects
                .push(format!("codegen (OpenAPI {version} corpus): {err:#}"));
        }
    }
    eprintln!("bench: servers");
    if let Err(err) = servers::figures(&bins, &work, plan, &mut report) {
        report.defects.push(format!("servers: {err:#}"));
    }
    report.details.push_str(&f_note);
    eprintln!("bench: storage");
    if let Err(err) = storage::figures(&bins, &work, plan, &mut report) {
        report.defects.push(format!("storage: {err:#}"));
    }
    eprintln!("bench: client");
    if let Err(err) = client::figures(&bins, plan, &mut report) {
        report.defects.push(format!("client: {err:#}"));
    }

    let (command, out) = if opts.quick {
        ("cargo xtask bench --quick", work.join("benchmarks-quick.md"))
    } else {
        ("cargo xtask bench", root.join("docs/benchmarks.md"))
    };
    let info = report::RunInfo {
        load_at_start,
        wall: started.elapsed(),
    };
    let text = report::render(&report, &root, command, plan, &info, &out);
    std::fs::write(&out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    println!("{}", report::table(&report.rows));
    eprintln!(
        "bench: wrote {} in {:.0} s{}",
        out.display(),
        started.elapsed().as_secs_f64(),
        if opts.quick {
            " (quick run: fewer and shorter runs, not for publication)"
        } else {
            ""
        }
    );
    let missed = report.missed();
    if !missed.is_empty() {
        eprintln!("bench: goals missed in this run:\n  {}", missed.join("\n  "));
    }
    if !report.defects.is_empty() {
        bail!(
            "{} figure(s) could not be measured honestly:\n  {}",
            report.defects.len(),
            report.defects.join("\n  ")
        );
    }
    Ok(())
}

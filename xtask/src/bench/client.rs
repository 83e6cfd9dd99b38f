//! The client figures: the generated `secrets_client` against raw reqwest sending the same request to the same
//! server (bare axum, (a)), sequentially and 64 at once. Goal: at least 0.95 times raw reqwest's rate.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::Plan;
use super::builds::Bins;
use super::report::{Goal, Report, Row};
use super::statistics::{list, median, per_run_ratios, spread};
use crate::process::{KillOnDrop, free_port, wait_for_port};

const CONCURRENCY: [usize; 2] = [1, 64];
const MODES: [&str; 2] = ["raw", "generated"];

pub(super) fn figures(bins: &Bins, plan: &Plan, report: &mut Report) -> Result<()> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let _server = KillOnDrop(
        pinned(&bins.bench)
            .args(["serve", "--variant", "baseline", "--threads", "1", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the baseline server")?,
    );
    wait_for_port(port, Duration::from_secs(30))?;
    let url = format!("http://{listen}");
    // [concurrency][mode]: (run, req/s) and client CPU per request
    let mut rps: [[Vec<(usize, f64)>; 2]; 2] = Default::default();
    let mut cpu: [[Vec<f64>; 2]; 2] = Default::default();
    for run in 0..plan.client_runs {
        for (ci, &c) in CONCURRENCY.iter().enumerate() {
            // Which goes first alternates, so a drift in the machine's load favours neither.
            let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
            for mi in order {
                let mode = MODES[mi];
                let out = pinned(&bins.bench)
                    .args(["client", "--url", &url, "--mode", mode])
                    .args(["--concurrency", &c.to_string()])
                    .args(["--requests", &plan.client_requests[ci].to_string()])
                    .stderr(Stdio::inherit())
                    .output()
                    .context("cannot run secrets-bench client")?;
                if !out.status.success() {
                    report
                        .defects
                        .push(format!("client {mode} at concurrency {c} failed ({})", out.status));
                    continue;
                }
                let result: Value = serde_json::from_slice(&out.stdout)?;
                let num = |key: &str| result[key].as_f64().unwrap_or(f64::NAN);
                rps[ci][mi].push((run, num("rps")));
                cpu[ci][mi].push(num("cpu_us_per_request"));
            }
        }
    }
    writeln!(
        report.details,
        "### Client samples (req/s against server (a), in run order)\n"
    )?;
    for (ci, &c) in CONCURRENCY.iter().enumerate() {
        let [raw, generated] = &rps[ci];
        let values = |samples: &[(usize, f64)]| samples.iter().map(|&(_, v)| v).collect::<Vec<_>>();
        let (raw_rps, generated_rps) = (values(raw), values(generated));
        writeln!(
            report.details,
            "- concurrency {c}: raw reqwest {} (spread {}); generated {} (spread {}); client CPU per request \
             (median): raw {:.1} µs, generated {:.1} µs",
            list(&raw_rps, 0),
            spread(&raw_rps),
            list(&generated_rps, 0),
            spread(&generated_rps),
            median(&cpu[ci][0]),
            median(&cpu[ci][1]),
        )?;
        if raw.len() != plan.client_runs || generated.len() != plan.client_runs {
            continue;
        }
        report.rows.push(Row {
            figure: format!(
                "client: generated `secrets_client` req/s, {}",
                if c == 1 {
                    "sequential".to_owned()
                } else {
                    format!("{c} concurrent")
                }
            ),
            value: format!("{:.0}", median(&generated_rps)),
            baseline: format!("{:.0} (raw reqwest)", median(&raw_rps)),
            ratio: Some(median(&per_run_ratios(generated, raw))),
            goal: Some(Goal::AtLeast(0.95)),
        });
    }
    report.details.push('\n');
    Ok(())
}

/// `program` on CPU 0 (`taskset`), as the server and every client process run, each on one thread: left to the
/// scheduler, a client and the server either shared a CPU or woke each other across the two for every request,
/// settled per process, and the sequential figure was bimodal (docs/benchmarks.md, the client section).
fn pinned(program: &Path) -> Command {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0"]).arg(program);
    cmd
}

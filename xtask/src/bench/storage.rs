//! The storage figures of `cargo xtask bench`: the full create path at 64 connections on PostgreSQL (one instance,
//! and two instances on one database with the load split between them) beside SQLite, measured in the same runs.
//!
//! PostgreSQL runs in a throwaway cluster with `fsync` on (what production pays; SQLite's `synchronous=FULL`
//! fsyncs too). Server CPU counts `secrets-server` processes only, not PostgreSQL's.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use super::{Bins, Plan, Report, Row, cpu_ticks, create_tokens, median, micros};
use crate::process::{KillOnDrop, free_port, wait_for_port};

/// Connections of the create load (split evenly between instances).
const CONNECTIONS: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Setup {
    Sqlite,
    Postgres1,
    Postgres2,
}

impl Setup {
    const ALL: [Setup; 3] = [Setup::Sqlite, Setup::Postgres1, Setup::Postgres2];

    fn label(self) -> &'static str {
        match self {
            Setup::Sqlite => "SQLite, 1 instance",
            Setup::Postgres1 => "PostgreSQL, 1 instance",
            Setup::Postgres2 => "PostgreSQL, 2 instances",
        }
    }

    fn instances(self) -> usize {
        if self == Setup::Postgres2 { 2 } else { 1 }
    }
}

/// One run of one setup: all instances' loads together.
struct Run {
    rps: f64,
    /// The worse of the instances' p99 (each load tool records every request it sends).
    p99_us: f64,
    cpu_us_per_request: f64,
}

pub(super) fn figures(bins: &Bins, work: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let cluster = match throwaway_postgres::Cluster::start(throwaway_postgres::Options {
        fsync: true,
        ..Default::default()
    }) {
        Ok(cluster) => cluster,
        Err(throwaway_postgres::Error::NotInstalled) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "bench: SKIPPED the PostgreSQL figures: {}",
                throwaway_postgres::Error::NotInstalled
            );
            report.rows.push(Row::info(
                "storage: PostgreSQL create figures",
                "not measured: PostgreSQL is not installed",
            ));
            return Ok(());
        }
        Err(e) => return Err(e).context("cannot start PostgreSQL"),
    };
    let state = work.join("storage");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state)?;
    let sqlite = state.join("secrets.db").display().to_string();
    let postgres = cluster.create_database("bench")?;
    let per_run = plan.create_tokens[1] + plan.create_warmup_tokens;
    let mut tokens = std::collections::HashMap::new();
    for database in [&sqlite, &postgres] {
        tokens.insert(
            database.clone(),
            create_tokens(bins, database.as_ref(), "storage", per_run * 2 * plan.runs)?.into_iter(),
        );
    }
    let mut runs: Vec<(Setup, Run)> = Vec::new();
    for run in 0..plan.runs {
        for setup in Setup::ALL {
            eprintln!("bench: storage run {}/{} {}", run + 1, plan.runs, setup.label());
            let database = if setup == Setup::Sqlite { &sqlite } else { &postgres };
            let chunk: Vec<String> = tokens
                .get_mut(database)
                .expect("tokens per database")
                .take(per_run)
                .collect();
            let key_file = state.join(if setup == Setup::Sqlite {
                "sqlite.key"
            } else {
                "postgres.key"
            });
            match measure(bins, &state, database, &key_file, setup, plan, &chunk) {
                Ok(sample) => runs.push((setup, sample)),
                Err(err) => report.defects.push(format!("storage {}: {err:#}", setup.label())),
            }
        }
    }

    writeln!(
        report.details,
        "### Storage: creates at {CONNECTIONS} connections (medians of {} runs; PostgreSQL with fsync on, in the same \
         runs as SQLite)\n\n| setup | req/s | p99 (worst instance) | secrets-server CPU per request |\n|---|---|---|---|",
        plan.runs
    )?;
    let of = |setup: Setup| -> Vec<&Run> { runs.iter().filter(|(s, _)| *s == setup).map(|(_, r)| r).collect() };
    let med = |list: &[&Run], f: fn(&Run) -> f64| median(&list.iter().map(|r| f(r)).collect::<Vec<_>>());
    let sqlite_runs = of(Setup::Sqlite);
    for setup in Setup::ALL {
        let list = of(setup);
        if list.len() != plan.runs {
            report
                .defects
                .push(format!("storage {}: not measured in every run", setup.label()));
            continue;
        }
        let rps = med(&list, |r| r.rps);
        let p99 = med(&list, |r| r.p99_us);
        writeln!(
            report.details,
            "| {} | {rps:.0} | {} | {:.1} µs |",
            setup.label(),
            micros(p99),
            med(&list, |r| r.cpu_us_per_request)
        )?;
        if setup == Setup::Sqlite || sqlite_runs.len() != plan.runs {
            continue;
        }
        let base_rps = med(&sqlite_runs, |r| r.rps);
        let base_p99 = med(&sqlite_runs, |r| r.p99_us);
        // Paired by run: each ratio compares measurements taken minutes apart at most.
        let ratio = median(
            &list
                .iter()
                .zip(&sqlite_runs)
                .map(|(r, b)| r.rps / b.rps)
                .collect::<Vec<_>>(),
        );
        report.rows.push(Row {
            figure: format!("storage: create req/s, {}, {CONNECTIONS} conns", setup.label()),
            value: format!("{rps:.0}"),
            baseline: format!("{base_rps:.0} (SQLite)"),
            ratio: Some(ratio),
            goal: "— (reported)".into(),
            met: None,
        });
        report.rows.push(Row {
            figure: format!("storage: create p99, {}, {CONNECTIONS} conns", setup.label()),
            value: micros(p99),
            baseline: format!("{} (SQLite)", micros(base_p99)),
            ratio: Some(p99 / base_p99),
            goal: "— (reported)".into(),
            met: None,
        });
    }
    report.details.push('\n');
    Ok(())
}

/// Starts the setup's instances, splits the tokens and connections between them, runs the loads together, and
/// combines their figures.
fn measure(
    bins: &Bins,
    state: &Path,
    database: &str,
    key_file: &Path,
    setup: Setup,
    plan: &Plan,
    tokens: &[String],
) -> Result<Run> {
    let n = setup.instances();
    let mut servers = Vec::new();
    for i in 0..n {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let mut serve = Command::new(&bins.server);
        serve
            .args(["--database", database])
            .args(["serve", "--listen", &listen, "--rate-limit", "0"])
            .arg("--key-file")
            .arg(key_file);
        let log = std::fs::File::create(state.join(format!("server-{setup:?}-{i}.log")))?;
        serve.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(log);
        let server = KillOnDrop(serve.spawn().context("cannot start secrets-server")?);
        // One at a time: the first start may write the development key file the second one reads.
        wait_for_port(port, Duration::from_secs(30))?;
        servers.push((server, listen));
    }
    let cpu_before: Vec<u64> = servers
        .iter()
        .map(|(s, _)| cpu_ticks(s.0.id()))
        .collect::<Result<_>>()?;
    let per_instance = tokens.len() / n;
    let warmup = plan.create_warmup_tokens / n;
    let mut loads = Vec::new();
    for (i, (_, listen)) in servers.iter().enumerate() {
        let file = state.join(format!("tokens-{setup:?}-{i}.txt"));
        std::fs::write(&file, tokens[i * per_instance..(i + 1) * per_instance].join("\n"))?;
        let load = Command::new(&bins.bench)
            .arg("load")
            .args(["--connections", &(CONNECTIONS / n).to_string(), "--expect", "201"])
            .arg("--tokens-file")
            .arg(&file)
            .args(["--warmup-tokens", &warmup.to_string()])
            .arg("--url")
            .arg(format!("http://{listen}{}", super::PATH))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot run secrets-bench load")?;
        loads.push(load);
    }
    let mut results = Vec::new();
    for load in loads {
        let out = load.wait_with_output()?;
        ensure!(out.status.success(), "secrets-bench load failed ({})", out.status);
        let result: Value = serde_json::from_slice(&out.stdout).context("secrets-bench load printed no JSON")?;
        let mismatched = result["mismatched"].as_u64().unwrap_or(u64::MAX);
        ensure!(
            mismatched == 0,
            "{mismatched} answer(s) were not 201: statuses {}",
            result["statuses"]
        );
        results.push(result);
    }
    let cpu_after: Vec<u64> = servers
        .iter()
        .map(|(s, _)| cpu_ticks(s.0.id()))
        .collect::<Result<_>>()?;
    drop(servers);
    let num = |r: &Value, key: &str| r[key].as_f64().unwrap_or(f64::NAN);
    let sent: f64 = results.iter().map(|r| num(r, "sent")).sum();
    ensure!(sent > 0.0, "no request was answered");
    let ticks: u64 = cpu_after.iter().zip(&cpu_before).map(|(a, b)| a - b).sum();
    Ok(Run {
        rps: results.iter().map(|r| num(r, "rps")).sum(),
        p99_us: results.iter().map(|r| num(r, "p99_us")).fold(0.0, f64::max),
        // USER_HZ is 100 on Linux: one tick is 10 ms.
        cpu_us_per_request: ticks as f64 * 10_000.0 / sent,
    })
}

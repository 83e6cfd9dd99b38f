//! The storage figures: the disk's `fdatasync` rate (the ceiling of a durable create at one connection), and the
//! full create path at 64 connections on PostgreSQL (one instance, and two on one database with the load split
//! between them) beside SQLite in the same runs, with what `pgbench` reaches on the same cluster.
//!
//! PostgreSQL runs in a throwaway cluster with `fsync` on (what production pays; SQLite's `synchronous=FULL`
//! fsyncs too). Server CPU counts `secrets-server` processes only, not PostgreSQL's. On this 2-core machine the
//! server's own CPU is what limits the rate, so the goal is on it: a create on PostgreSQL costs `secrets-server` no
//! more CPU than one on SQLite.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use super::Plan;
use super::builds::Bins;
use super::report::{Goal, Report, Row};
use super::servers::{PRESET_PATH, cpu_ticks, create_tokens, load_result, server_command};
use super::statistics::{list, median, micros, per_run_ratios};
use crate::process::{KillOnDrop, free_port, wait_for_port};

/// Connections of the create load (split evenly between instances), and clients of `pgbench`.
const CONNECTIONS: usize = 64;

/// `pgbench`'s transaction: the one statement a create sends (`store/postgres.rs`), into a copy of the `secrets`
/// table with its indexes; a fresh id and name each time, so every insert is new.
const PGBENCH_SCRIPT: &str = "INSERT INTO pgbench_secrets (id, owner, name, provider, masked_value, key_id, nonce, \
     ciphertext, created_at, updated_at) VALUES (gen_random_uuid(), 'pgbench', gen_random_uuid()::text, 'openai', \
     'sk-ben••••def', 'bench-key', '\\x000102030405060708090a0b'::bytea, \
     '\\x6a7c0f3e1d2b4a5968778695a4b3c2d1e0f1021324354657687988a9bacbdcedfe0f1e2d3c4b5a69'::bytea, now(), now());\n";

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
    run: usize,
    rps: f64,
    /// The worse of the instances' p99 (each load tool records every request it sends).
    p99_us: f64,
    cpu_us_per_request: f64,
}

/// Acknowledged 8 KiB writes per second to a file in `dir`, each flushed with `fdatasync`, for `seconds`: what
/// `pg_test_fsync` reports as "one 8kB write" with `fdatasync`, and the most durable commits one writer can make.
pub(super) fn fdatasync_rate(dir: &Path, seconds: f64) -> Result<f64> {
    let path = dir.join("fdatasync-probe");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let block = [0x5a_u8; 8192];
    // The first flush allocates the block; the loop then rewrites it, as a database rewrites its log's pages.
    file.write_all_at(&block, 0)?;
    file.sync_all()?;
    let (limit, start) = (Duration::from_secs_f64(seconds), Instant::now());
    let mut flushes = 0_u32;
    while start.elapsed() < limit {
        file.write_all_at(&block, 0)?;
        file.sync_data()?;
        flushes += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(f64::from(flushes) / elapsed)
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
    // `token create` has migrated the database: the copy of `secrets` gets the real columns and indexes.
    let db = postgres.rsplit('/').next().context("a database URL ends in its name")?;
    cluster.psql(db, "CREATE TABLE pgbench_secrets (LIKE secrets INCLUDING ALL)")?;
    let script = state.join("pgbench-insert.sql");
    std::fs::write(&script, PGBENCH_SCRIPT)?;

    let mut runs: Vec<(Setup, Run)> = Vec::new();
    // (run, transactions per second) at 1 and at 64 clients.
    let mut pgbench_tps: [Vec<(usize, f64)>; 2] = Default::default();
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
            match measure(bins, &state, database, &key_file, (setup, run), plan, &chunk) {
                Ok(sample) => runs.push((setup, sample)),
                Err(err) => report.defects.push(format!("storage {}: {err:#}", setup.label())),
            }
        }
        for (i, clients) in [1, CONNECTIONS].into_iter().enumerate() {
            eprintln!(
                "bench: storage run {}/{} pgbench, {clients} client(s)",
                run + 1,
                plan.runs
            );
            match pgbench(&cluster, db, &script, clients, plan.duration_s) {
                Ok(tps) => pgbench_tps[i].push((run, tps)),
                Err(err) => report
                    .defects
                    .push(format!("storage: pgbench, {clients} client(s): {err:#}")),
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
    let by_run =
        |list: &[&Run], f: fn(&Run) -> f64| -> Vec<(usize, f64)> { list.iter().map(|r| (r.run, f(r))).collect() };
    let cpu = |r: &Run| r.cpu_us_per_request;
    let sqlite_runs = of(Setup::Sqlite);
    let tps = |i: usize| median(&pgbench_tps[i].iter().map(|&(_, t)| t).collect::<Vec<_>>());
    for setup in Setup::ALL {
        let list = of(setup);
        if list.len() != plan.runs {
            report
                .defects
                .push(format!("storage {}: not measured in every run", setup.label()));
            continue;
        }
        let rps = med(&list, |r| r.rps);
        writeln!(
            report.details,
            "| {} | {rps:.0} | {} | {:.1} µs |",
            setup.label(),
            micros(med(&list, |r| r.p99_us)),
            med(&list, cpu)
        )?;
        if setup == Setup::Sqlite {
            report.rows.push(Row::info(
                format!("storage: create req/s, {}, {CONNECTIONS} conns", setup.label()),
                format!("{rps:.0}"),
            ));
            continue;
        }
        let ratios = per_run_ratios(&by_run(&list, |r| r.rps), &pgbench_tps[1]);
        report.rows.push(Row {
            figure: format!("storage: create req/s, {}, {CONNECTIONS} conns", setup.label()),
            value: format!("{rps:.0}"),
            baseline: format!("{:.0} (pgbench, {CONNECTIONS} clients)", tps(1)),
            ratio: (!ratios.is_empty()).then(|| median(&ratios)),
            goal: None,
        });
        if setup == Setup::Postgres1 && sqlite_runs.len() == plan.runs {
            let ratios = per_run_ratios(&by_run(&list, cpu), &by_run(&sqlite_runs, cpu));
            report.rows.push(Row {
                figure: format!(
                    "storage: secrets-server CPU per create, {}, {CONNECTIONS} conns",
                    setup.label()
                ),
                value: format!("{:.1} µs", med(&list, cpu)),
                baseline: format!("{:.1} µs (SQLite)", med(&sqlite_runs, cpu)),
                ratio: Some(median(&ratios)),
                goal: Some(Goal::AtMost(1.0)),
            });
        }
    }
    report.rows.push(Row::info(
        "storage: pgbench one-statement insert, PostgreSQL, 1 client: transactions/s",
        format!("{:.0}", tps(0)),
    ));
    writeln!(
        report.details,
        "\n`pgbench -n -M prepared` on the same cluster, {} s per run, the script `{}` against a copy of `secrets` \
         (`LIKE secrets INCLUDING ALL`); transactions/s run by run: 1 client {}; {CONNECTIONS} clients {}.\n",
        plan.duration_s,
        PGBENCH_SCRIPT.trim(),
        list(&pgbench_tps[0].iter().map(|&(_, t)| t).collect::<Vec<_>>(), 0),
        list(&pgbench_tps[1].iter().map(|&(_, t)| t).collect::<Vec<_>>(), 0),
    )?;
    Ok(())
}

/// Transactions per second of `pgbench` running `script` with `clients` connections for `seconds`.
fn pgbench(
    cluster: &throwaway_postgres::Cluster,
    db: &str,
    script: &Path,
    clients: usize,
    seconds: f64,
) -> Result<f64> {
    // Beside the cluster's own tools, or Debian's wrapper on PATH (which runs the newest version installed).
    let pgbench = throwaway_postgres::find_bin()
        .map(|dir| dir.join("pgbench"))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| "pgbench".into());
    let out = Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-h", "127.0.0.1", "-U", "postgres"])
        .args(["-p", &cluster.port().to_string()])
        .args(["-c", &clients.to_string(), "-j", &clients.min(2).to_string()])
        // pgbench counts whole seconds.
        .args(["-T", &(seconds.ceil() as u64).max(1).to_string()])
        .arg("-f")
        .arg(script)
        .arg(db)
        .env_remove("PGPASSWORD")
        .stderr(Stdio::piped())
        .output()
        .context("cannot run pgbench")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "pgbench failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    // "tps = 17834.123456 (without initial connection time)"
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("tps = ") {
            return Ok(rest.split_whitespace().next().unwrap_or_default().parse()?);
        }
    }
    bail!("pgbench printed no tps line:\n{stdout}")
}

/// Starts the setup's instances, splits the tokens and connections between them, runs the loads together, and
/// combines their figures.
fn measure(
    bins: &Bins,
    state: &Path,
    database: &str,
    key_file: &Path,
    (setup, run): (Setup, usize),
    plan: &Plan,
    tokens: &[String],
) -> Result<Run> {
    let n = setup.instances();
    let mut servers = Vec::new();
    for i in 0..n {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let mut serve = server_command(bins, database.as_ref(), key_file, &listen);
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
            .arg(format!("http://{listen}{PRESET_PATH}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot run secrets-bench load")?;
        loads.push(load);
    }
    let mut results = Vec::new();
    for load in loads {
        results.push(load_result(&load.wait_with_output()?)?);
    }
    let cpu_after: Vec<u64> = servers
        .iter()
        .map(|(s, _)| cpu_ticks(s.0.id()))
        .collect::<Result<_>>()?;
    drop(servers);
    let num = |r: &serde_json::Value, key: &str| r[key].as_f64().unwrap_or(f64::NAN);
    let sent: f64 = results.iter().map(|r| num(r, "sent")).sum();
    let ticks: u64 = cpu_after.iter().zip(&cpu_before).map(|(a, b)| a - b).sum();
    Ok(Run {
        run,
        rps: results.iter().map(|r| num(r, "rps")).sum(),
        p99_us: results.iter().map(|r| num(r, "p99_us")).fold(0.0, f64::max),
        // USER_HZ is 100 on Linux: one tick is 10 ms.
        cpu_us_per_request: ticks as f64 * 10_000.0 / sent,
    })
}

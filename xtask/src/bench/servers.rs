//! The server figures: every variant of [`VARIANTS`] under load at 1 and 64 connections, each run on a fresh server
//! process. The durable creates are judged against the disk's `fdatasync` rate measured in the same run: one
//! acknowledged create needs one flush, so at 1 connection the disk is the ceiling, and at 64 only group commit
//! (several creates sharing a flush) goes past it. Every other figure is reported without a goal.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use serde_json::Value;

use super::builds::Bins;
use super::report::{Goal, Report, Row};
use super::statistics::{list, median, micros, per_run_ratios};
use super::{Plan, storage};
use crate::process::{KillOnDrop, free_port, wait_for_port};

/// Connection counts of the server figures.
const CONNECTIONS: [usize; 2] = [1, 64];
/// The goals of the durable creates at 1 and at 64 connections, as multiples of the disk's `fdatasync` rate.
const DURABLE_GOALS: [f64; 2] = [0.8, 5.0];
/// An unknown token, well formed (prefix and 43 base64url characters), so the server hashes it and looks it up.
const UNKNOWN_TOKEN: &str = "st_unknownunknownunknownunknownunknownunknown0";
/// An invalid create body: an unknown provider and a blank value (the server lists both).
const INVALID_BODY: &str = r#"{"provider":"openai-typo","value":""}"#;
/// The list route, the get route's prefix, and the route of `create_secret`.
const SECRETS_PATH: &str = "/api/v1/user/secrets";
/// The route of `create_secret_from_preset`.
pub(super) const PRESET_PATH: &str = "/api/v1/user/secrets/preset";

/// Which server a variant measures.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    /// `secrets-bench serve --variant NAME`.
    Bench(&'static str),
    /// Baseline (f), openapi-generator's rust-axum server over a trivial implementation.
    F,
    /// `secrets-server` over the bench's SQLite database, without a rate limit.
    Real,
    /// As [`Server::Real`], with `--metrics-listen` on a port of its own: every request and store call recorded.
    RealMetrics,
}

/// The operation a variant's requests call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    /// `create_secret_from_preset`, whose body the stub decodes in one pass.
    Preset,
    /// `create_secret`, whose body the stub decodes through the JSON value walk.
    Create,
    List,
    Get,
}

/// What a variant's requests carry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Requests {
    /// One valid create repeated for the warm-up and the measured time; its server takes any token.
    Canned,
    /// Every create new: four per token, each token a user of its own, sent once each.
    Distinct,
    /// An unknown token.
    UnknownToken,
    /// A valid token and an invalid body.
    InvalidBody,
    /// Reads of a caller holding four secrets.
    Reads,
}

impl Requests {
    /// The status every answer must have.
    fn expect(self) -> u16 {
        match self {
            Requests::Canned | Requests::Distinct => 201,
            Requests::UnknownToken => 401,
            Requests::InvalidBody => 422,
            Requests::Reads => 200,
        }
    }
}

/// One server figure: all a run needs to know of it.
struct Variant {
    /// Its name in logs and defects.
    short: &'static str,
    /// Its name in the tables.
    label: &'static str,
    server: Server,
    route: Route,
    requests: Requests,
}

/// Every server figure, in the order of a run (every other run goes in reverse). (a) and (f) place the generated
/// router (b) among the servers people write by hand or generate with openapi-generator; (c) to (get) are the real
/// server.
const VARIANTS: [Variant; 11] = [
    Variant {
        short: "a",
        label: "(a) bare axum handler, fixed 201",
        server: Server::Bench("baseline"),
        route: Route::Preset,
        requests: Requests::Canned,
    },
    Variant {
        short: "b-preset",
        label: "(b) generated router + in-memory SecretsApi, create from preset",
        server: Server::Bench("stub"),
        route: Route::Preset,
        requests: Requests::Canned,
    },
    Variant {
        short: "b-create",
        label: "(b) generated router + in-memory SecretsApi, create_secret",
        server: Server::Bench("stub"),
        route: Route::Create,
        requests: Requests::Canned,
    },
    Variant {
        short: "f",
        label: "(f) openapi-generator rust-axum + trivial impl, create from preset",
        server: Server::F,
        route: Route::Preset,
        requests: Requests::Canned,
    },
    Variant {
        short: "c-preset",
        label: "(c) secrets-server create from preset (auth, validation, AES-GCM, SQLite)",
        server: Server::Real,
        route: Route::Preset,
        requests: Requests::Distinct,
    },
    Variant {
        short: "c-create",
        label: "(c) secrets-server create_secret (auth, validation, AES-GCM, SQLite)",
        server: Server::Real,
        route: Route::Create,
        requests: Requests::Distinct,
    },
    Variant {
        short: "d",
        label: "(d) secrets-server 401 (unknown token)",
        server: Server::Real,
        route: Route::Preset,
        requests: Requests::UnknownToken,
    },
    Variant {
        short: "e",
        label: "(e) secrets-server 422 (invalid body)",
        server: Server::Real,
        route: Route::Preset,
        requests: Requests::InvalidBody,
    },
    Variant {
        short: "list",
        label: "(list) secrets-server list, a caller with 4 secrets",
        server: Server::Real,
        route: Route::List,
        requests: Requests::Reads,
    },
    Variant {
        short: "list-metrics",
        label: "(list) secrets-server list, with --metrics-listen",
        server: Server::RealMetrics,
        route: Route::List,
        requests: Requests::Reads,
    },
    Variant {
        short: "get",
        label: "(get) secrets-server get one secret",
        server: Server::Real,
        route: Route::Get,
        requests: Requests::Reads,
    },
];

/// The variant named `short`.
fn variant(short: &str) -> &'static Variant {
    VARIANTS
        .iter()
        .find(|v| v.short == short)
        .expect("a variant of that name")
}

/// One load run against one server process.
struct Sample {
    /// The run it belongs to: ratios pair the samples of one run.
    run: usize,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    /// Server CPU (user + system) per request answered, warm-up included.
    cpu_us_per_request: f64,
    /// Peak RSS of the server (VmHWM), KiB.
    hwm_kib: u64,
}

/// Where `secrets-server` keeps its database and key, and where every server's log goes.
struct Files {
    database: PathBuf,
    key_file: PathBuf,
    state: PathBuf,
}

/// The variants of one run, in its order.
fn run_order(run: usize, available: impl Fn(&Variant) -> bool) -> Vec<&'static Variant> {
    let mut order: Vec<&Variant> = VARIANTS.iter().filter(|v| available(v)).collect();
    if run % 2 == 1 {
        order.reverse();
    }
    order
}

pub(super) fn figures(bins: &Bins, work: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let state = work.join("server");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state)?;
    let files = Files {
        database: state.join("secrets.db"),
        key_file: state.join("secrets.key"),
        state,
    };

    // Every create must be new: each user holds one secret per provider (or name), so each token sends 4 creates.
    let distinct = VARIANTS.iter().filter(|v| v.requests == Requests::Distinct).count();
    let per_run: usize = plan.create_tokens.iter().map(|t| t + plan.create_warmup_tokens).sum();
    // One more for the 422 run (its creates never succeed, so it is reused), one for the reader of (list) and (get).
    let tokens = create_tokens(
        bins,
        files.database.as_os_str(),
        "bench",
        per_run * distinct * plan.runs + 2,
    )?;
    let mut unused = tokens.iter();
    let invalid_token = unused.next().expect("at least 2 tokens").clone();
    let reader = unused.next().expect("at least 2 tokens").clone();
    let read_id = seed(bins, &files, &reader)?;

    // Without a (f) binary its figures are already a defect of the run; the others are still measured.
    let available = |v: &Variant| v.server != Server::F || bins.f.is_some();
    let mut samples: Vec<(&str, usize, Sample)> = Vec::new();
    // (run, rate) per connection count, measured just before that run's servers.
    let mut fsync: [Vec<(usize, f64)>; 2] = Default::default();
    for run in 0..plan.runs {
        for (ci, &connections) in CONNECTIONS.iter().enumerate() {
            match storage::fdatasync_rate(&files.state, plan.fsync_s) {
                Ok(rate) => fsync[ci].push((run, rate)),
                Err(err) => report.defects.push(format!("fdatasync rate: {err:#}")),
            }
            for variant in run_order(run, available) {
                eprintln!(
                    "bench: run {}/{} {} at {connections} connection(s)",
                    run + 1,
                    plan.runs,
                    variant.short
                );
                let mut load = Command::new(&bins.bench);
                load.arg("load")
                    .args(["--connections", &connections.to_string()])
                    .args(["--expect", &variant.requests.expect().to_string()]);
                match variant.requests {
                    Requests::Canned => {
                        let body = match variant.route {
                            Route::Create => r#"{"name":"BENCH_SECRET","value":"sk-bench-0123456789abcdef"}"#,
                            _ => r#"{"provider":"openai","value":"sk-bench-0123456789abcdef"}"#,
                        };
                        load.args(["--token", "st_bench", "--body", body]);
                    }
                    Requests::Distinct => {
                        let count = plan.create_tokens[ci] + plan.create_warmup_tokens;
                        let file = files
                            .state
                            .join(format!("tokens-{}-{run}-{connections}.txt", variant.short));
                        let chunk: Vec<&str> = unused.by_ref().take(count).map(String::as_str).collect();
                        std::fs::write(&file, chunk.join("\n"))?;
                        load.arg("--tokens-file")
                            .arg(&file)
                            .args(["--warmup-tokens", &plan.create_warmup_tokens.to_string()]);
                        if variant.route == Route::Create {
                            load.arg("--named");
                        }
                    }
                    Requests::UnknownToken => {
                        load.args(["--token", UNKNOWN_TOKEN]);
                    }
                    Requests::InvalidBody => {
                        load.args(["--token", &invalid_token, "--body", INVALID_BODY]);
                    }
                    Requests::Reads => {
                        load.args(["--token", &reader, "--method", "GET"]);
                    }
                }
                if variant.requests != Requests::Distinct {
                    load.args(["--warmup", &plan.warmup_s.to_string()])
                        .args(["--duration", &plan.duration_s.to_string()]);
                }
                let path = match variant.route {
                    Route::Preset => PRESET_PATH.to_owned(),
                    Route::Create | Route::List => SECRETS_PATH.to_owned(),
                    Route::Get => format!("{SECRETS_PATH}/{read_id}"),
                };
                match measure(bins, &files, variant, &path, &mut load, run) {
                    Ok(sample) => samples.push((variant.short, connections, sample)),
                    Err(err) => report.defects.push(format!(
                        "server {} at {connections} connection(s): {err:#}",
                        variant.short
                    )),
                }
            }
        }
    }

    let of = |variant: &Variant, connections: usize| -> Option<Vec<&Sample>> {
        let list: Vec<&Sample> = samples
            .iter()
            .filter(|(short, c, _)| *short == variant.short && *c == connections)
            .map(|(_, _, sample)| sample)
            .collect();
        (list.len() == plan.runs).then_some(list)
    };
    let med = |list: &[&Sample], f: fn(&Sample) -> f64| median(&list.iter().map(|s| f(s)).collect::<Vec<_>>());
    let by_run =
        |list: &[&Sample], f: fn(&Sample) -> f64| -> Vec<(usize, f64)> { list.iter().map(|s| (s.run, f(s))).collect() };
    let rps = |s: &Sample| s.rps;

    writeln!(
        report.details,
        "### Server figures (medians of {} runs; latency from send to last byte read, every request recorded)\n\n\
         | figure | conns | req/s | p50 | p99 | p99.9 | server CPU per request | peak RSS |\n\
         |---|---|---|---|---|---|---|---|",
        plan.runs
    )?;
    for (ci, &connections) in CONNECTIONS.iter().enumerate() {
        let rates: Vec<f64> = fsync[ci].iter().map(|&(_, rate)| rate).collect();
        report.rows.push(Row::info(
            format!("disk: 8 KiB write + `fdatasync` per second, beside the {connections}-connection runs"),
            format!("{:.0}", median(&rates)),
        ));
        for variant in VARIANTS.iter().filter(|v| available(v)) {
            let Some(list) = of(variant, connections) else {
                report.defects.push(format!(
                    "server {} at {connections} connection(s): not measured in every run",
                    variant.short
                ));
                continue;
            };
            writeln!(
                report.details,
                "| {} | {connections} | {:.0} | {} | {} | {} | {:.1} µs | {:.1} MiB |",
                variant.label,
                med(&list, rps),
                micros(med(&list, |s| s.p50_us)),
                micros(med(&list, |s| s.p99_us)),
                micros(med(&list, |s| s.p999_us)),
                med(&list, |s| s.cpu_us_per_request),
                med(&list, |s| s.hwm_kib as f64) / 1024.0,
            )?;
            let figure = format!("server {}, {connections} conn: req/s", variant.label);
            if variant.requests != Requests::Distinct {
                report.rows.push(Row::info(figure, format!("{:.0}", med(&list, rps))));
                continue;
            }
            // A durable create against the flushes the disk managed beside it in the same run.
            let ratios = per_run_ratios(&by_run(&list, rps), &fsync[ci]);
            report.rows.push(Row {
                figure,
                value: format!("{:.0}", med(&list, rps)),
                baseline: format!("{:.0} fdatasync/s", median(&rates)),
                ratio: Some(median(&ratios)),
                goal: Some(Goal::AtLeast(DURABLE_GOALS[ci])),
            });
        }
    }
    report.details.push('\n');

    // What recording the metrics costs the real server on its cheapest stored operation: CPU per list request with
    // `--metrics-listen` against without, in the same run.
    for &connections in &CONNECTIONS {
        if let (Some(on), Some(off)) = (
            of(variant("list-metrics"), connections),
            of(variant("list"), connections),
        ) {
            let cpu = |s: &Sample| s.cpu_us_per_request;
            report.rows.push(Row {
                figure: format!("secrets-server CPU per list request, metrics on / off, {connections} conn"),
                value: format!("{:.1} µs", med(&on, cpu)),
                baseline: format!("{:.1} µs off", med(&off, cpu)),
                ratio: Some(median(&per_run_ratios(&by_run(&on, cpu), &by_run(&off, cpu)))),
                goal: None,
            });
        }
    }

    // The generated router against openapi-generator's, both over trivial implementations: reported.
    for &connections in &CONNECTIONS {
        if let (Some(ours), Some(theirs)) = (of(variant("b-preset"), connections), of(variant("f"), connections)) {
            let ratios = per_run_ratios(&by_run(&ours, rps), &by_run(&theirs, rps));
            report.rows.push(Row {
                figure: format!("server (b) create from preset req/s / (f), {connections} conn"),
                value: format!("{:.0}", med(&ours, rps)),
                baseline: format!("{:.0} (f)", med(&theirs, rps)),
                ratio: Some(median(&ratios)),
                goal: None,
            });
        }
    }

    // Latency and memory of the full create path under 64 connections.
    if let Some(create) = of(variant("c-preset"), 64) {
        report.rows.push(Row::info(
            "server (c) create from preset, 64 conns: p99 latency",
            micros(med(&create, |s| s.p99_us)),
        ));
        report.rows.push(Row::info(
            "memory: peak RSS (VmHWM) of secrets-server during (c) create from preset, 64 conns",
            format!("{:.1} MiB", med(&create, |s| s.hwm_kib as f64) / 1024.0),
        ));
    }

    writeln!(report.details, "### Durable creates against the disk, run by run\n")?;
    for (ci, &connections) in CONNECTIONS.iter().enumerate() {
        let rates: Vec<f64> = fsync[ci].iter().map(|&(_, rate)| rate).collect();
        writeln!(
            report.details,
            "- fdatasync/s beside the {connections}-connection runs: {}",
            list(&rates, 0)
        )?;
        for variant in VARIANTS.iter().filter(|v| v.requests == Requests::Distinct) {
            if let Some(samples) = of(variant, connections) {
                let ratios = per_run_ratios(&by_run(&samples, rps), &fsync[ci]);
                writeln!(
                    report.details,
                    "- {} req/s / fdatasync/s, {connections} conn: {}",
                    variant.short,
                    list(&ratios, 3)
                )?;
            }
        }
    }
    writeln!(
        report.details,
        "\nThe disk's rate is measured like `pg_test_fsync`'s one 8 KiB write test: the same 8 KiB block of a file \
         beside the database rewritten and `fdatasync`ed in a loop for {} s.\n",
        plan.fsync_s
    )?;
    Ok(())
}

/// `count` write tokens of users `{user}-1` … `{user}-{count}` in `database`, so that every create is new.
pub(super) fn create_tokens(bins: &Bins, database: &std::ffi::OsStr, user: &str, count: usize) -> Result<Vec<String>> {
    let out = Command::new(&bins.server)
        .arg("--database")
        .arg(database)
        .args(["token", "create", "--user", user, "--count", &count.to_string()])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run secrets-server token create --count")?;
    ensure!(out.status.success(), "secrets-server token create --count failed");
    let tokens: Vec<String> = String::from_utf8(out.stdout)?.lines().map(str::to_owned).collect();
    ensure!(
        tokens.len() == count,
        "secrets-server token create --count {count} printed {} tokens",
        tokens.len()
    );
    Ok(tokens)
}

/// Stores 4 secrets for `token` on a server of its own (through `secrets-bench seed`); the id of one of them.
fn seed(bins: &Bins, files: &Files, token: &str) -> Result<String> {
    let (_server, port) = start_server(bins, files, Server::Real, "seed")?;
    let out = Command::new(&bins.bench)
        .args(["seed", "--url", &format!("http://127.0.0.1:{port}"), "--token", token])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run secrets-bench seed")?;
    ensure!(out.status.success(), "secrets-bench seed failed ({})", out.status);
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Starts the variant's server, runs the load command against `path` on it, and reads the server's CPU time and
/// peak RSS.
fn measure(
    bins: &Bins,
    files: &Files,
    variant: &Variant,
    path: &str,
    load: &mut Command,
    run: usize,
) -> Result<Sample> {
    let (server, port) = start_server(bins, files, variant.server, variant.short)?;
    load.arg("--url").arg(format!("http://127.0.0.1:{port}{path}"));
    let pid = server.0.id();
    let cpu_before = cpu_ticks(pid)?;
    let out = load
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run secrets-bench load")?;
    let cpu = cpu_ticks(pid)? - cpu_before;
    let hwm_kib = vm_hwm_kib(pid)?;
    drop(server);
    let result = load_result(&out)?;
    let num = |key: &str| result[key].as_f64().unwrap_or(f64::NAN);
    Ok(Sample {
        run,
        rps: num("rps"),
        p50_us: num("p50_us"),
        p99_us: num("p99_us"),
        p999_us: num("p999_us"),
        // USER_HZ is 100 on Linux: one tick is 10 ms.
        cpu_us_per_request: cpu as f64 * 10_000.0 / num("sent"),
        hwm_kib,
    })
}

/// The JSON result `secrets-bench load` printed, once it has checked that every answer had the expected status.
pub(super) fn load_result(out: &std::process::Output) -> Result<Value> {
    ensure!(out.status.success(), "secrets-bench load failed ({})", out.status);
    let result: Value = serde_json::from_slice(&out.stdout).context("secrets-bench load printed no JSON")?;
    let mismatched = result["mismatched"].as_u64().unwrap_or(u64::MAX);
    ensure!(
        mismatched == 0,
        "{mismatched} answer(s) were not {}: statuses {}",
        result["expect"],
        result["statuses"]
    );
    ensure!(
        result["sent"].as_u64().is_some_and(|sent| sent > 0),
        "no request was answered"
    );
    Ok(result)
}

/// Starts a server on a free port and waits until it accepts connections; its log is `server-{name}.log`.
fn start_server(bins: &Bins, files: &Files, server: Server, name: &str) -> Result<(KillOnDrop, u16)> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let mut serve = match server {
        Server::Bench(variant) => {
            let mut cmd = Command::new(&bins.bench);
            cmd.args(["serve", "--listen", &listen, "--variant", variant]);
            cmd
        }
        Server::F => {
            let mut cmd = Command::new(bins.f.as_ref().context("baseline (f) was not built")?);
            cmd.args(["--listen", &listen]);
            cmd
        }
        Server::Real => server_command(bins, files.database.as_os_str(), &files.key_file, &listen),
        Server::RealMetrics => {
            let mut cmd = server_command(bins, files.database.as_os_str(), &files.key_file, &listen);
            cmd.args(["--metrics-listen", &format!("127.0.0.1:{}", free_port()?)]);
            cmd
        }
    };
    let log = std::fs::File::create(files.state.join(format!("server-{name}.log")))?;
    serve.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(log);
    let server = KillOnDrop(serve.spawn().context("cannot start the server")?);
    wait_for_port(port, Duration::from_secs(30))?;
    Ok((server, port))
}

/// `secrets-server serve` on `listen` over `database`, without a rate limit.
pub(super) fn server_command(bins: &Bins, database: &std::ffi::OsStr, key_file: &Path, listen: &str) -> Command {
    let mut cmd = Command::new(&bins.server);
    cmd.arg("--database")
        .arg(database)
        .args(["serve", "--listen", listen, "--rate-limit", "0"])
        .arg("--key-file")
        .arg(key_file);
    cmd
}

/// utime + stime of a process, in clock ticks.
pub(super) fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').context("malformed /proc/pid/stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name and state.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

fn vm_hwm_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/pid/status")?;
    Ok(line
        .trim_start_matches("VmHWM:")
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

#[cfg(test)]
mod tests {
    use super::{Requests, Route, Server, VARIANTS, run_order};

    #[test]
    fn runs_alternate_direction() {
        let all = |_: &super::Variant| true;
        let shorts = |run| run_order(run, all).iter().map(|v| v.short).collect::<Vec<_>>();
        let forward: Vec<&str> = VARIANTS.iter().map(|v| v.short).collect();
        let backward: Vec<&str> = forward.iter().rev().copied().collect();
        for (run, expected) in [(0, &forward), (1, &backward), (2, &forward)] {
            assert_eq!(&shorts(run), expected, "run {run}");
        }
        let no_f = run_order(0, |v| v.server != Server::F);
        assert!(no_f.iter().all(|v| v.server != Server::F) && no_f.len() == VARIANTS.len() - 1);
    }

    /// The table's facts fit together: the run loop and the figures rely on each of these.
    #[test]
    fn variants_are_consistent() {
        for (i, v) in VARIANTS.iter().enumerate() {
            assert!(VARIANTS[..i].iter().all(|w| w.short != v.short), "{} twice", v.short);
            // Only the real server stores creates, checks tokens and holds the reader's secrets.
            let real_only = matches!(
                v.requests,
                Requests::Distinct | Requests::UnknownToken | Requests::InvalidBody | Requests::Reads
            );
            let real = matches!(v.server, Server::Real | Server::RealMetrics);
            assert!(!real_only || real, "{}", v.short);
            assert_eq!(
                v.requests == Requests::Reads,
                matches!(v.route, Route::List | Route::Get),
                "{}",
                v.short
            );
        }
        // The rows that pick variants by name.
        for short in ["b-preset", "f", "c-preset", "list", "list-metrics"] {
            super::variant(short);
        }
    }
}

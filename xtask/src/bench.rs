//! `cargo xtask bench [--quick]`: measures codegen, server, client and memory figures as ratios against baselines
//! measured in the same run (the machine is shared and noisy), and writes the table to `docs/benchmarks.md`.
//!
//! Servers, load and clients run as separate processes (`crates/secrets-bench`, `secrets-server`), built in
//! release mode, so each server's RSS is its own; xtask itself depends on no workspace crate. Baseline (f) is
//! openapi-generator's rust-axum server, generated at bench time and built outside the workspace (see [`build_f`]).

mod storage;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use serde_json::Value;

use crate::process::{KillOnDrop, free_port, pinned_venv_tool, run_ok, wait_for_port};
use crate::{codegen, project_root, target_dir};

/// Pinned so a run is reproducible; bump deliberately.
const OPENAPI_GENERATOR: &str = "openapi-generator-cli==7.26.0";
/// The route every server variant serves.
const PATH: &str = "/api/v1/user/secrets/preset";
/// The list route, and the prefix of the get route, read by (list) and (get).
const LIST_PATH: &str = "/api/v1/user/secrets";
/// The invalid body of (e) and (f): an unknown provider (and, for (e), which lists every violation, a blank value).
const INVALID_BODY: &str = r#"{"provider":"openai-typo","value":""}"#;
/// The committed half of baseline (f): its Cargo.toml and main.rs, copied next to the generated crate.
const F_TEMPLATE: &str = "crates/secrets-bench/baseline-f";
/// Everything from this line on in `docs/benchmarks.md` is hand-written analysis, kept when the bench rewrites it.
const ANALYSIS_MARKER: &str = "<!-- analysis: hand-written below this line; `cargo xtask bench` keeps it -->";

pub(crate) struct Options {
    pub(crate) quick: bool,
}

/// How much to measure: the full run for publication, the quick one so CI keeps the harness working.
struct Plan {
    /// Repetitions of every figure; medians are reported.
    runs: usize,
    /// Repetitions of each openapi-generator invocation (a JVM start each, several seconds).
    generator_runs: usize,
    /// Fixed-request load: warm-up and measured seconds per run.
    warmup_s: f64,
    duration_s: f64,
    /// Full-service creates: measured tokens per run (4 creates each) at 1 and at 64 connections, and warm-up tokens.
    create_tokens: [usize; 2],
    create_warmup_tokens: usize,
    /// Client figure: measured requests per run, sequential and 64 concurrent.
    client_requests: [usize; 2],
    /// Client figure: repetitions. More than the others: client and server share the cores, so it is the noisiest.
    client_runs: usize,
}

const FULL: Plan = Plan {
    runs: 5,
    generator_runs: 5,
    warmup_s: 1.0,
    duration_s: 4.0,
    create_tokens: [400, 1000],
    create_warmup_tokens: 50,
    client_requests: [10_000, 40_000],
    client_runs: 9,
};

const QUICK: Plan = Plan {
    runs: 3,
    generator_runs: 2,
    warmup_s: 0.2,
    duration_s: 0.8,
    create_tokens: [60, 200],
    create_warmup_tokens: 10,
    client_requests: [1_000, 4_000],
    client_runs: 3,
};

/// Connection counts of the server figures.
const CONNECTIONS: [usize; 2] = [1, 64];

/// One row of the published table.
struct Row {
    figure: String,
    value: String,
    baseline: String,
    ratio: Option<f64>,
    goal: String,
    met: Option<bool>,
}

impl Row {
    fn info(figure: impl Into<String>, value: impl Into<String>) -> Self {
        Row {
            figure: figure.into(),
            value: value.into(),
            baseline: "—".into(),
            ratio: None,
            goal: "—".into(),
            met: None,
        }
    }
}

/// Everything a run produced: the table, detail sections, and the defects that make the run fail.
#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    details: String,
    defects: Vec<String>,
}

pub(crate) fn run(opts: &Options) -> Result<()> {
    let started = Instant::now();
    let plan = if opts.quick { &QUICK } else { &FULL };
    let root = project_root();
    let work = target_dir().join("bench");
    std::fs::create_dir_all(&work)?;
    let machine = machine_description(&root);
    eprintln!("bench: building the release binaries");
    let mut bins = build(&root)?;
    let mut report = Report::default();
    eprintln!("bench: generating and building baseline (f) (the first build takes minutes; later ones reuse it)");
    let f_note = match build_f(&root, &work) {
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
    if let Err(err) = codegen_figures(&root, &work, plan, &mut report) {
        report.defects.push(format!("codegen: {err:#}"));
    }
    eprintln!("bench: codegen of the largest corpus spec");
    if let Err(err) = corpus_codegen_figures(&root, &work, plan, &mut report) {
        report.defects.push(format!("codegen (corpus): {err:#}"));
    }
    eprintln!("bench: servers");
    if let Err(err) = server_figures(&bins, &work, plan, &mut report) {
        report.defects.push(format!("servers: {err:#}"));
    }
    report.details.push_str(&f_note);
    eprintln!("bench: storage");
    if let Err(err) = storage::figures(&bins, &work, plan, &mut report) {
        report.defects.push(format!("storage: {err:#}"));
    }
    eprintln!("bench: client");
    if let Err(err) = client_figures(&bins, plan, &mut report) {
        report.defects.push(format!("client: {err:#}"));
    }

    let command = if opts.quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    };
    let out = if opts.quick {
        work.join("benchmarks-quick.md")
    } else {
        root.join("docs/benchmarks.md")
    };
    let text = render(&report, &machine, command, plan, opts.quick, started.elapsed(), &out);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    println!("{}", table(&report.rows));
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
    if !report.defects.is_empty() {
        bail!(
            "{} figure(s) could not be measured honestly:\n  {}",
            report.defects.len(),
            report.defects.join("\n  ")
        );
    }
    Ok(())
}

struct Bins {
    bench: PathBuf,
    server: PathBuf,
    /// Baseline (f), unless it could not be generated or built.
    f: Option<PathBuf>,
}

fn build(root: &Path) -> Result<Bins> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_ok(Command::new(cargo).current_dir(root).args([
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

/// Baseline (f): generates openapi-generator's rust-axum crate from openapi.yaml into `target/bench/f/gen`, puts the
/// committed trivial implementation (`crates/secrets-bench/baseline-f`) beside it as the crate `target/bench/f`, and
/// builds that in release mode into `target/bench/f-target`. Files are only rewritten when their bytes change, so
/// a second run finds everything fresh and costs one generator run plus cargo's freshness check.
/// Returns the binary and a note on it for the details.
fn build_f(root: &Path, work: &Path) -> Result<(PathBuf, String)> {
    let start = Instant::now();
    let cli = ensure_openapi_generator(work)?;
    let dir = work.join("f");
    let fresh = work.join("f-gen-new");
    let _ = std::fs::remove_dir_all(&fresh);
    let out = Command::new(&cli)
        .arg("generate")
        .args([
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
    // Its warnings say what it could not express as the spec says; the reader judges whether they matter.
    let mut warnings: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once(" WARN ").map(|(_, w)| w.trim()))
        .collect();
    warnings.sort_unstable();
    warnings.dedup();
    sync_dir(&fresh, &dir.join("gen"))?;
    let _ = std::fs::remove_dir_all(&fresh);
    let template = root.join(F_TEMPLATE);
    write_if_changed(&dir.join("Cargo.toml"), &std::fs::read(template.join("Cargo.toml.in"))?)?;
    write_if_changed(&dir.join("src/main.rs"), &std::fs::read(template.join("main.rs"))?)?;

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target = work.join("f-target");
    let out = Command::new(cargo)
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
    let mut note = String::new();
    writeln!(
        note,
        "### Baseline (f)\n\n`{OPENAPI_GENERATOR}` `-g rust-axum` from openapi.yaml into `target/bench/f/gen`, with the \
         trivial implementation of `{F_TEMPLATE}` (any non-empty bearer token; every create answers the canned 201), \
         built in release mode into `target/bench/f-target`; generate + build took {:.1} s in this run. Its invalid \
         body answer is axum's plain-text JSON rejection (422), not the spec's `ErrorResponse` envelope. \
         Generator warnings:\n",
        start.elapsed().as_secs_f64()
    )?;
    for warning in &warnings {
        writeln!(note, "- {warning}")?;
    }
    note.push('\n');
    Ok((target.join("release/secrets-bench-f"), note))
}

/// Makes `to` hold exactly the files of `from`. Unchanged files keep their mtime, so cargo does not rebuild them.
fn sync_dir(from: &Path, to: &Path) -> Result<()> {
    let wanted = files_under(from)?;
    for rel in &wanted {
        write_if_changed(&to.join(rel), &std::fs::read(from.join(rel))?)?;
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

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The last `n` lines of a tool's output, for a defect message.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------------------------------------------------
// Codegen

fn codegen_figures(root: &Path, work: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let spec_path = root.join("openapi.yaml");

    // In-process: exactly what `cargo xtask codegen` does before comparing bytes, in this (dev-profile) binary.
    let mut in_process = Vec::new();
    for _ in 0..plan.runs.max(5) {
        let start = Instant::now();
        let spec = codegen::load(&spec_path)?;
        let outputs = codegen::generate(root, &spec)?;
        std::hint::black_box(&outputs);
        in_process.push(start.elapsed().as_secs_f64());
    }

    // Whole process: what a developer waits for. One untimed run first so cargo's freshness check is warm.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let check = |cmd: &mut Command| timed(root, cmd);
    let cargo_check = || {
        let mut cmd = Command::new(&cargo);
        cmd.args(["xtask", "codegen", "--check"]);
        cmd
    };
    // By path, not `current_exe`: another `cargo xtask` in the same target dir may have replaced this binary.
    let xtask_bin = target_dir().join("debug/xtask");
    let bare_check = || {
        let mut cmd = Command::new(&xtask_bin);
        cmd.args(["codegen", "--check"]);
        cmd
    };
    let mut whole = Vec::new();
    let mut bare = Vec::new();
    match check(&mut cargo_check()) {
        Ok(_) => {
            for _ in 0..plan.runs {
                whole.push(check(&mut cargo_check())?);
                bare.push(check(&mut bare_check())?);
            }
        }
        Err(err) => report.defects.push(format!(
            "codegen: `cargo xtask codegen --check` does not pass, so it was not timed: {err:#}"
        )),
    }

    // openapi-generator, same spec, both Rust generators, each into a fresh directory.
    let cli = ensure_openapi_generator(work)?;
    let mut generators: Vec<(&str, Vec<f64>)> = vec![("rust-axum", Vec::new()), ("rust", Vec::new())];
    for i in 0..plan.generator_runs {
        for (name, times) in &mut generators {
            let out = work.join(format!("openapi-generator-{name}-{i}"));
            let _ = std::fs::remove_dir_all(&out);
            let mut cmd = Command::new(&cli);
            cmd.arg("generate")
                .args(["-g", name])
                .arg("-i")
                .arg(&spec_path)
                .arg("-o")
                .arg(&out);
            times.push(check(&mut cmd).with_context(|| format!("openapi-generator -g {name}"))?);
            let _ = std::fs::remove_dir_all(&out);
        }
    }

    let median_in = median(&in_process);
    let axum = median(&generators[0].1);
    let rust = median(&generators[1].1);
    let theirs = axum + rust;
    report.rows.push(Row {
        figure: "codegen in-process: parse + client + stub + format (dev-profile xtask)".into(),
        value: secs(median_in),
        baseline: format!("{} (openapi-generator rust-axum + rust)", secs(theirs)),
        ratio: Some(theirs / median_in),
        goal: "—".into(),
        met: None,
    });
    if !whole.is_empty() {
        let ours = median(&whole);
        report.rows.push(Row {
            figure: "codegen end to end: warm `cargo xtask codegen --check`".into(),
            value: secs(ours),
            baseline: format!("{} (openapi-generator rust-axum + rust)", secs(theirs)),
            ratio: Some(theirs / ours),
            goal: "≥ 20x".into(),
            met: Some(theirs / ours >= 20.0),
        });
        report.rows.push(Row::info(
            "codegen: the xtask binary alone (`target/debug/xtask codegen --check`, no cargo)",
            secs(median(&bare)),
        ));
    }
    report.rows.push(Row::info(
        "openapi-generator -g rust-axum (JVM, whole process)",
        secs(axum),
    ));
    report
        .rows
        .push(Row::info("openapi-generator -g rust (JVM, whole process)", secs(rust)));
    writeln!(
        report.details,
        "### Codegen samples (seconds)\n\n- in-process: {}\n- `cargo xtask codegen --check`: {}\n- xtask binary alone: {}\n\
         - openapi-generator rust-axum: {}\n- openapi-generator rust: {}\n",
        list(&in_process),
        list(&whole),
        list(&bare),
        list(&generators[0].1),
        list(&generators[1].1),
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

/// Codegen of the largest corpus spec the stub generator serves: a warm `cargo xtask stub` (what a user runs) against
/// openapi-generator's rust-axum server generator on the same file. openapi-generator runs with
/// `--skip-validate-spec`, as public specs rarely pass its validator; if it still fails, the row says so.
fn corpus_codegen_figures(root: &Path, work: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let (name, yaml) = crate::corpus::largest_served(root)?;
    let dir = work.join("corpus-codegen");
    std::fs::create_dir_all(&dir)?;
    let spec = dir.join(format!("{name}.yaml"));
    std::fs::write(&spec, &yaml)?;
    let lines = yaml.lines().count();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let timed = |cmd: &mut Command| timed(root, cmd);
    let ours = |i: usize| {
        let mut cmd = Command::new(&cargo);
        cmd.args(["xtask", "stub"])
            .arg(&spec)
            .arg("--out")
            .arg(dir.join(format!("ours-{i}")))
            .args(["--name", "corpus-largest"]);
        cmd
    };
    timed(&mut ours(0))?; // warm: cargo's freshness check, the spec in the page cache
    let mut ours_times = Vec::new();
    for i in 1..=plan.runs {
        let _ = std::fs::remove_dir_all(dir.join(format!("ours-{i}")));
        ours_times.push(timed(&mut ours(i))?);
    }
    let cli = ensure_openapi_generator(work)?;
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
        match timed(&mut cmd) {
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
                goal: "≥ 20x".into(),
                met: Some(theirs / ours >= 20.0),
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
        list(&ours_times),
        list(&theirs_times),
    )?;
    Ok(())
}

/// Creates `target/bench/venv` with the pinned openapi-generator-cli unless it is already there.
fn ensure_openapi_generator(work: &Path) -> Result<PathBuf> {
    pinned_venv_tool(&work.join("venv"), OPENAPI_GENERATOR, "openapi-generator-cli")
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Baseline,
    /// (a) again, in the group of (b): the reference of (b)'s goal, measured side by side with it. The lone (a) is
    /// the reference of the whole server's variants, which run alone.
    BaselineBeside,
    Typed,
    Stub,
    StubInvalid,
    Create,
    Unauthorized,
    Invalid,
    List,
    Get,
    FCreate,
    FInvalid,
}

impl Variant {
    const ALL: [Variant; 12] = [
        Variant::Baseline,
        Variant::BaselineBeside,
        Variant::Typed,
        Variant::Stub,
        Variant::FCreate,
        Variant::StubInvalid,
        Variant::FInvalid,
        Variant::Create,
        Variant::Unauthorized,
        Variant::Invalid,
        Variant::List,
        Variant::Get,
    ];

    fn label(self) -> &'static str {
        match self {
            Variant::Baseline => "(a) bare axum handler, fixed 201",
            Variant::BaselineBeside => "(a) bare axum handler, fixed 201, side by side with (b)",
            Variant::Typed => "(a′) hand-written axum, typed Json in and out (reference)",
            Variant::Stub => "(b) generated router + in-memory SecretsApi",
            Variant::StubInvalid => "(b′) generated router + in-memory SecretsApi, invalid body",
            Variant::Create => "(c) secrets-server create (auth, validation, AES-GCM, SQLite)",
            Variant::Unauthorized => "(d) secrets-server 401 (bad token)",
            Variant::Invalid => "(e) secrets-server 422 (invalid body)",
            Variant::List => "(list) secrets-server list, a caller with 4 secrets",
            Variant::Get => "(get) secrets-server get one secret",
            Variant::FCreate => "(f) openapi-generator rust-axum + trivial impl, create",
            Variant::FInvalid => "(f) openapi-generator rust-axum + trivial impl, invalid body",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Variant::Baseline => "a",
            Variant::BaselineBeside => "a-beside-b",
            Variant::Typed => "a′",
            Variant::Stub => "b",
            Variant::StubInvalid => "b′",
            Variant::Create => "c",
            Variant::Unauthorized => "d",
            Variant::Invalid => "e",
            Variant::List => "list",
            Variant::Get => "get",
            Variant::FCreate => "f-create",
            Variant::FInvalid => "f-invalid",
        }
    }

    fn is_f(self) -> bool {
        matches!(self, Variant::FCreate | Variant::FInvalid)
    }

    fn expect(self) -> u16 {
        match self {
            Variant::Baseline
            | Variant::BaselineBeside
            | Variant::Typed
            | Variant::Stub
            | Variant::Create
            | Variant::FCreate => 201,
            Variant::Unauthorized => 401,
            Variant::Invalid | Variant::StubInvalid | Variant::FInvalid => 422,
            Variant::List | Variant::Get => 200,
        }
    }

    /// The goal on throughput relative to (a); reads are reported as ratios without one.
    fn goal(self) -> Option<f64> {
        // (f) is a reference like (a′); its ratios to (b), (b′) and (e) are rows of their own.
        match self {
            Variant::Baseline
            | Variant::BaselineBeside
            | Variant::Typed
            | Variant::StubInvalid
            | Variant::List
            | Variant::Get
            | Variant::FCreate
            | Variant::FInvalid => None,
            Variant::Stub => Some(0.90),
            Variant::Create => Some(0.50),
            Variant::Unauthorized | Variant::Invalid => Some(0.85),
        }
    }
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

/// The variants behind the generated router's goal ratios ((b) against (a), (a′) and (f); (b′) against (f)),
/// grouped. A group's servers run side by side and share one load, which goes to each in turn for 100 ms, every
/// other round in reverse order (`secrets-bench load` with one `--url` per server), so that the machine's noise falls
/// on each alike and each follows the others equally often: with plain round robin, (b)/(a′) CPU came out near 1.07
/// in runs where (b) followed (a′) and near 0.98 in runs where it followed (f), a bias larger than what the ratio
/// judges (the same four servers loaded in each order three times: 1.058-1.124 against 0.934-0.983). Measured one
/// after the other, five pairs of (b′) and (f) gave ratios from 0.76 to 1.17, a spread wider than the difference
/// they judge. A group's variants send the same requests and expect the same status (a test checks the status).
/// The whole server's variants ((c) to (get)) cannot join one: each sends requests of its own, so they run alone,
/// and so does the (a) they are compared with; (b)'s (a) is [`Variant::BaselineBeside`].
const PAIRED: [&[Variant]; 2] = [
    &[Variant::BaselineBeside, Variant::Typed, Variant::Stub, Variant::FCreate],
    &[Variant::StubInvalid, Variant::FInvalid],
];

/// The order of one run: every `available` variant in [`Variant::ALL`]'s order, each alone or with its
/// [`PAIRED`] group. Every other run is reversed, groups included (which server has the first turn), so that no
/// variant always runs after the same neighbour. Variants interleave within a run, so a burst of noise from the
/// other tenants lands on all of them alike.
fn run_order(run: usize, available: impl Fn(Variant) -> bool) -> Vec<Vec<Variant>> {
    let mut order: Vec<Vec<Variant>> = Vec::new();
    for variant in Variant::ALL.into_iter().filter(|&v| available(v)) {
        if order.iter().flatten().any(|&v| v == variant) {
            continue;
        }
        match PAIRED.iter().find(|group| group.contains(&variant)) {
            Some(group) => order.push(group.iter().copied().filter(|&v| available(v)).collect()),
            None => order.push(vec![variant]),
        }
    }
    if run % 2 == 1 {
        order.reverse();
        order.iter_mut().for_each(|unit| unit.reverse());
    }
    order
}

fn server_figures(bins: &Bins, work: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let state = work.join("server");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state)?;
    let database = state.join("secrets.db");
    let key_file = state.join("secrets.key");

    // Every create must be new: each user holds one secret per provider, so each token sends 4 creates.
    let per_run: usize = plan.create_tokens.iter().map(|t| t + plan.create_warmup_tokens).sum();
    // One more for the 422 run, one for the reader of (list) and (get).
    let total = per_run * plan.runs + 2;
    let tokens = create_tokens(bins, database.as_os_str(), "bench", total)?;
    let mut unused = tokens.iter();
    // The 422 run needs one valid token of its own (its creates never succeed, so it can be reused).
    let invalid_token = unused.next().expect("total is at least 2").clone();
    // (list) and (get) read a caller holding 4 secrets; (get) reads one of them.
    let reader = unused.next().expect("total is at least 2").clone();
    let read_id = seed(bins, &database, &key_file, &state, &reader)?;
    let files = ServerFiles {
        database,
        key_file,
        state,
    };

    // Without a (f) binary its figures are already a defect of the run; the others are still measured.
    let variants: Vec<Variant> = Variant::ALL
        .into_iter()
        .filter(|v| !v.is_f() || bins.f.is_some())
        .collect();
    let mut samples: Vec<((Variant, usize), Vec<Sample>)> = Vec::new();
    for run in 0..plan.runs {
        for (ci, &connections) in CONNECTIONS.iter().enumerate() {
            for unit in run_order(run, |v| variants.contains(&v)) {
                let names: Vec<&str> = unit.iter().map(|v| v.short()).collect();
                let names = names.join(" + ");
                eprintln!(
                    "bench: run {}/{} {names} at {connections} connection(s)",
                    run + 1,
                    plan.runs,
                );
                // A group's variants share the load's arm below (see [`PAIRED`]).
                let variant = unit[0];
                let mut load = Command::new(&bins.bench);
                load.arg("load")
                    .args(["--connections", &connections.to_string()])
                    .args(["--expect", &variant.expect().to_string()]);
                match variant {
                    Variant::Create => {
                        let count = plan.create_tokens[ci] + plan.create_warmup_tokens;
                        let file = files.state.join(format!("tokens-{run}-{connections}.txt"));
                        let chunk: Vec<&str> = unused.by_ref().take(count).map(String::as_str).collect();
                        std::fs::write(&file, chunk.join("\n"))?;
                        load.arg("--tokens-file")
                            .arg(&file)
                            .args(["--warmup-tokens", &plan.create_warmup_tokens.to_string()]);
                    }
                    Variant::Unauthorized => {
                        // Well formed (prefix and 43 base64url characters), so the server hashes it and looks it up.
                        load.args(["--token", "st_unknownunknownunknownunknownunknownunknown0"]);
                    }
                    Variant::Invalid => {
                        load.args(["--token", &invalid_token]).args(["--body", INVALID_BODY]);
                    }
                    Variant::FInvalid | Variant::StubInvalid => {
                        load.args(["--token", "st_bench"]).args(["--body", INVALID_BODY]);
                    }
                    Variant::Baseline | Variant::BaselineBeside | Variant::Typed | Variant::Stub | Variant::FCreate => {
                        load.args(["--token", "st_bench"]);
                    }
                    Variant::List | Variant::Get => {
                        load.args(["--token", &reader, "--method", "GET"]);
                    }
                }
                if variant != Variant::Create {
                    load.args(["--warmup", &plan.warmup_s.to_string()])
                        .args(["--duration", &plan.duration_s.to_string()]);
                }
                let path = match variant {
                    Variant::List => LIST_PATH.to_owned(),
                    Variant::Get => format!("{LIST_PATH}/{read_id}"),
                    _ => PATH.to_owned(),
                };
                let measured = match measure(bins, &files, &unit, &path, &mut load, run) {
                    Ok(measured) => measured,
                    Err(err) => {
                        report
                            .defects
                            .push(format!("server {names} at {connections} connection(s): {err:#}"));
                        continue;
                    }
                };
                for (&variant, sample) in unit.iter().zip(measured) {
                    match samples.iter_mut().find(|(key, _)| *key == (variant, connections)) {
                        Some((_, list)) => list.push(sample),
                        None => samples.push(((variant, connections), vec![sample])),
                    }
                }
            }
        }
    }

    let get = |variant: Variant, connections: usize| -> Option<&Vec<Sample>> {
        samples
            .iter()
            .find(|(key, _)| *key == (variant, connections))
            .map(|(_, list)| list)
            .filter(|list| (0..plan.runs).all(|run| list.iter().any(|s| s.run == run)))
    };
    let med = |list: &[Sample], f: fn(&Sample) -> f64| median(&list.iter().map(f).collect::<Vec<_>>());

    writeln!(
        report.details,
        "### Server figures (medians of {} runs; latency from send to last byte read, every request recorded; the \
         variants compared with each other for a goal share their load in turns of 100 ms)\n\n\
         | figure | conns | req/s | p50 | p99 | p99.9 | server CPU per request | peak RSS |\n|---|---|---|---|---|---|---|---|",
        plan.runs
    )?;
    for &connections in &CONNECTIONS {
        for &variant in &variants {
            // Each compared with the (a) measured under the same conditions: the one of its group, or the lone one.
            let beside = PAIRED
                .iter()
                .any(|group| group.contains(&variant) && group.contains(&Variant::BaselineBeside));
            let (baseline, base_name) = if beside {
                (get(Variant::BaselineBeside, connections), "(a) side by side")
            } else {
                (get(Variant::Baseline, connections), "(a)")
            };
            let Some(list) = get(variant, connections) else {
                report.defects.push(format!(
                    "server {} at {connections} connection(s): not measured in every run",
                    variant.short()
                ));
                continue;
            };
            let rps = med(list, |s| s.rps);
            writeln!(
                report.details,
                "| {} | {connections} | {:.0} | {} | {} | {} | {:.1} µs | {:.1} MiB |",
                variant.label(),
                rps,
                micros(med(list, |s| s.p50_us)),
                micros(med(list, |s| s.p99_us)),
                micros(med(list, |s| s.p999_us)),
                med(list, |s| s.cpu_us_per_request),
                med(list, |s| s.hwm_kib as f64) / 1024.0,
            )?;
            let figure = format!("server {}, {connections} conn: req/s", variant.label());
            let reported = matches!(variant, Variant::List | Variant::Get);
            match (variant.goal(), baseline) {
                (goal, Some(base)) if goal.is_some() || reported => {
                    let base_rps = med(base, |s| s.rps);
                    let ratio = paired_ratio(list, base, |s| s.rps);
                    report.rows.push(Row {
                        figure,
                        value: format!("{rps:.0}"),
                        baseline: format!("{base_rps:.0} {base_name}"),
                        ratio: Some(ratio),
                        goal: goal.map_or_else(|| "— (reported)".to_owned(), |goal| format!("≥ {goal:.2}")),
                        met: goal.map(|goal| ratio >= goal),
                    });
                }
                _ => report.rows.push(Row::info(figure, format!("{rps:.0}"))),
            }
        }
    }
    report.details.push('\n');

    // Same-run ratios against the references: (a′) for the generated router's CPU, (f) for throughput. Each run's
    // ratio is listed too, since their median says nothing of their spread.
    let cpu = |s: &Sample| s.cpu_us_per_request;
    let rps = |s: &Sample| s.rps;
    writeln!(
        report.details,
        "### Same-run ratios, run by run (in run order; each pair measured side by side, in turns of 100 ms)\n"
    )?;
    for &connections in &CONNECTIONS {
        if let (Some(stub), Some(typed)) = (get(Variant::Stub, connections), get(Variant::Typed, connections)) {
            let ratio = paired_ratio(stub, typed, cpu);
            let runs = run_by_run(stub, typed, cpu);
            writeln!(report.details, "- (b)/(a′) CPU per request, {connections} conn: {runs}")?;
            report.rows.push(Row {
                figure: format!("server (b) CPU per request / (a′), {connections} conn"),
                value: format!("{:.1} µs", med(stub, cpu)),
                baseline: format!("{:.1} µs (a′)", med(typed, cpu)),
                ratio: Some(ratio),
                goal: "≤ 1.05".into(),
                met: Some(ratio <= 1.05),
            });
        }
    }
    // Like for like, the generated routers over trivial implementations, against the goal; and the whole server's
    // 422 (token lookup in SQLite, rate limit, the access log) against the same trivial (f), reported.
    let against_f = [
        (Variant::Stub, Variant::FCreate, "b", "f create", true),
        (Variant::StubInvalid, Variant::FInvalid, "b′", "f invalid body", true),
        (Variant::Invalid, Variant::FInvalid, "e", "f invalid body", false),
    ];
    for (ours, theirs, name, their_name, is_goal) in against_f {
        for &connections in &CONNECTIONS {
            if let (Some(list), Some(base)) = (get(ours, connections), get(theirs, connections)) {
                let ratio = paired_ratio(list, base, rps);
                if is_goal {
                    let (rates, cpus) = (run_by_run(list, base, rps), run_by_run(list, base, cpu));
                    writeln!(
                        report.details,
                        "- ({name})/({their_name}) req/s, {connections} conn: {rates}"
                    )?;
                    writeln!(
                        report.details,
                        "- ({name})/({their_name}) CPU per request, {connections} conn: {cpus}"
                    )?;
                }
                report.rows.push(Row {
                    figure: format!("server ({name}) req/s / ({their_name}) req/s, {connections} conn"),
                    value: format!("{:.0}", med(list, rps)),
                    baseline: format!("{:.0} ({their_name})", med(base, rps)),
                    ratio: Some(ratio),
                    goal: if is_goal { "≥ 1.0" } else { "— (reported)" }.into(),
                    met: is_goal.then_some(ratio >= 1.0),
                });
            }
        }
    }
    report.details.push('\n');

    // Latency and memory of the full create path under 64 connections.
    if let (Some(create), Some(base)) = (get(Variant::Create, 64), get(Variant::Baseline, 64)) {
        let p99 = med(create, |s| s.p99_us);
        let base_p99 = med(base, |s| s.p99_us);
        report.rows.push(Row {
            figure: "server (c) create, 64 conns: p99 latency".into(),
            value: micros(p99),
            baseline: format!("{} (a)", micros(base_p99)),
            ratio: Some(p99 / base_p99),
            goal: "< 10 ms".into(),
            met: Some(p99 < 10_000.0),
        });
        let hwm = med(create, |s| s.hwm_kib as f64) / 1024.0;
        let base_hwm = med(base, |s| s.hwm_kib as f64) / 1024.0;
        report.rows.push(Row {
            figure: "memory: peak RSS (VmHWM) of secrets-server during (c), 64 conns".into(),
            value: format!("{hwm:.1} MiB"),
            baseline: format!("{base_hwm:.1} MiB (a)"),
            ratio: Some(hwm / base_hwm),
            goal: "— (reported)".into(),
            met: None,
        });
    }
    Ok(())
}

/// `count` write tokens of users `{user}-1` … `{user}-{count}` in `database`, so that every create is new.
fn create_tokens(bins: &Bins, database: &std::ffi::OsStr, user: &str, count: usize) -> Result<Vec<String>> {
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
fn seed(bins: &Bins, database: &Path, key_file: &Path, state: &Path, token: &str) -> Result<String> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let mut serve = server_command(bins, database, key_file, &listen);
    let log = std::fs::File::create(state.join("server-seed.log"))?;
    serve.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(log);
    let _server = KillOnDrop(serve.spawn().context("cannot start the server")?);
    wait_for_port(port, Duration::from_secs(30))?;
    let out = Command::new(&bins.bench)
        .args(["seed", "--url", &format!("http://{listen}"), "--token", token])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run secrets-bench seed")?;
    ensure!(out.status.success(), "secrets-bench seed failed ({})", out.status);
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// `secrets-server serve` on `listen` over the bench's database, without a rate limit.
fn server_command(bins: &Bins, database: &Path, key_file: &Path, listen: &str) -> Command {
    let mut cmd = Command::new(&bins.server);
    cmd.arg("--database")
        .arg(database)
        .args(["serve", "--listen", listen, "--rate-limit", "0"])
        .arg("--key-file")
        .arg(key_file);
    cmd
}

/// Where `secrets-server` keeps its database and key, and where every server's log goes.
struct ServerFiles {
    database: PathBuf,
    key_file: PathBuf,
    state: PathBuf,
}

/// Starts the server of each variant of `unit` (one, or a [`PAIRED`] group), runs the load command against `path`
/// on them, and reads each server's CPU time and peak RSS: a sample per variant, in `unit`'s order.
fn measure(
    bins: &Bins,
    files: &ServerFiles,
    unit: &[Variant],
    path: &str,
    load: &mut Command,
    run: usize,
) -> Result<Vec<Sample>> {
    let mut servers = Vec::with_capacity(unit.len());
    for &variant in unit {
        let (server, port) = start_server(bins, files, variant)?;
        load.arg("--url").arg(format!("http://127.0.0.1:{port}{path}"));
        servers.push(server);
    }
    let pids: Vec<u32> = servers.iter().map(|s| s.0.id()).collect();
    let cpu_before = pids.iter().map(|&pid| cpu_ticks(pid)).collect::<Result<Vec<_>>>()?;
    let out = load
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run secrets-bench load")?;
    let cpu_after = pids.iter().map(|&pid| cpu_ticks(pid)).collect::<Result<Vec<_>>>()?;
    let hwm_kib = pids.iter().map(|&pid| vm_hwm_kib(pid)).collect::<Result<Vec<_>>>()?;
    drop(servers);
    ensure!(out.status.success(), "secrets-bench load failed ({})", out.status);
    let result: Value = serde_json::from_slice(&out.stdout).context("secrets-bench load printed no JSON")?;
    // One object for one server, an array of them (in `--url` order) for a group.
    let results = match result {
        Value::Array(results) => results,
        one => vec![one],
    };
    ensure!(
        results.len() == unit.len(),
        "secrets-bench load printed {} result(s) for {} server(s)",
        results.len(),
        unit.len()
    );
    let mut samples = Vec::with_capacity(unit.len());
    for (i, (result, &variant)) in results.iter().zip(unit).enumerate() {
        let mismatched = result["mismatched"].as_u64().unwrap_or(u64::MAX);
        ensure!(
            mismatched == 0,
            "{}: {mismatched} answer(s) were not {}: statuses {}",
            variant.short(),
            variant.expect(),
            result["statuses"]
        );
        let sent = result["sent"].as_f64().unwrap_or(0.0);
        ensure!(sent > 0.0, "{}: no request was answered", variant.short());
        let num = |key: &str| result[key].as_f64().unwrap_or(f64::NAN);
        samples.push(Sample {
            run,
            rps: num("rps"),
            p50_us: num("p50_us"),
            p99_us: num("p99_us"),
            p999_us: num("p999_us"),
            // USER_HZ is 100 on Linux: one tick is 10 ms. A server of a group is idle while the others have the load.
            cpu_us_per_request: (cpu_after[i] - cpu_before[i]) as f64 * 10_000.0 / sent,
            hwm_kib: hwm_kib[i],
        });
    }
    Ok(samples)
}

/// Starts the variant's server on a free port and waits until it accepts connections.
fn start_server(bins: &Bins, files: &ServerFiles, variant: Variant) -> Result<(KillOnDrop, u16)> {
    let ServerFiles {
        database,
        key_file,
        state,
    } = files;
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let mut serve = match variant {
        Variant::Baseline | Variant::BaselineBeside | Variant::Typed | Variant::Stub | Variant::StubInvalid => {
            let name = match variant {
                Variant::Baseline | Variant::BaselineBeside => "baseline",
                Variant::Typed => "typed",
                _ => "stub",
            };
            let mut cmd = Command::new(&bins.bench);
            cmd.args(["serve", "--listen", &listen, "--variant", name]);
            cmd
        }
        Variant::FCreate | Variant::FInvalid => {
            let mut cmd = Command::new(bins.f.as_ref().context("baseline (f) was not built")?);
            cmd.args(["--listen", &listen]);
            cmd
        }
        Variant::Create | Variant::Unauthorized | Variant::Invalid | Variant::List | Variant::Get => {
            server_command(bins, database, key_file, &listen)
        }
    };
    let log = std::fs::File::create(state.join(format!("server-{}.log", variant.short())))?;
    serve.env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(log);
    let server = KillOnDrop(serve.spawn().context("cannot start the server")?);
    wait_for_port(port, Duration::from_secs(30))?;
    Ok((server, port))
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64> {
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
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

// ---------------------------------------------------------------------------------------------------------------
// Client

fn client_figures(bins: &Bins, plan: &Plan, report: &mut Report) -> Result<()> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let _server = KillOnDrop(
        Command::new(&bins.bench)
            .args(["serve", "--variant", "baseline", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the baseline server")?,
    );
    wait_for_port(port, Duration::from_secs(30))?;
    let url = format!("http://{listen}");
    let concurrency = [1usize, 64];
    // [concurrency index][raw, generated]: req/s and client CPU per request
    let mut rps: [[Vec<f64>; 2]; 2] = Default::default();
    let mut cpu: [[Vec<f64>; 2]; 2] = Default::default();
    for run in 0..plan.client_runs {
        for (ci, &c) in concurrency.iter().enumerate() {
            // Which goes first alternates, so a drift in the machine's load favours neither.
            let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
            for mi in order {
                let mode = ["raw", "generated"][mi];
                let out = Command::new(&bins.bench)
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
                rps[ci][mi].push(result["rps"].as_f64().unwrap_or(f64::NAN));
                cpu[ci][mi].push(result["cpu_us_per_request"].as_f64().unwrap_or(f64::NAN));
            }
        }
    }
    writeln!(report.details, "### Client samples (req/s against server (a))\n")?;
    for (ci, &c) in concurrency.iter().enumerate() {
        let [raw, generated] = &rps[ci];
        writeln!(
            report.details,
            "- concurrency {c}: raw reqwest {}; generated {}; client CPU per request (median): raw {:.1} µs, \
             generated {:.1} µs",
            list(raw),
            list(generated),
            median(&cpu[ci][0]),
            median(&cpu[ci][1]),
        )?;
        if raw.len() != plan.client_runs || generated.len() != plan.client_runs {
            continue;
        }
        let ratio = median(&raw.iter().zip(generated).map(|(r, g)| g / r).collect::<Vec<_>>());
        let (raw, generated) = (median(raw), median(generated));
        report.rows.push(Row {
            figure: format!(
                "client: generated `secrets_client` req/s, {}",
                if c == 1 {
                    "sequential".to_owned()
                } else {
                    format!("{c} concurrent")
                }
            ),
            value: format!("{generated:.0}"),
            baseline: format!("{raw:.0} (raw reqwest)"),
            ratio: Some(ratio),
            goal: "≥ 0.95".into(),
            met: Some(ratio >= 0.95),
        });
    }
    report.details.push('\n');
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Report

fn render(
    report: &Report,
    machine: &str,
    command: &str,
    plan: &Plan,
    quick: bool,
    wall: Duration,
    out: &Path,
) -> String {
    let mut text = String::new();
    text.push_str("# Benchmarks\n\n");
    text.push_str(
        "Written by `cargo xtask bench` (the tables) — do not edit above the analysis marker; rerun instead. \
         Every ratio compares figures measured in the same run, interleaved, on a shared machine.\n\n",
    );
    if quick {
        text.push_str(
            "**Quick run** (`--quick`): fewer and shorter runs than the published figures; it proves the harness \
             works, its numbers are noisy.\n\n",
        );
    }
    let _ = write!(
        text,
        "## Run\n\n- command: `{command}`\n{machine}- runs per figure: {} (medians reported); openapi-generator: {} \
         runs per generator; fixed-request load: {} s warm-up + {} s measured per run; creates: {} / {} tokens (×4 \
         creates) per run at 1 / 64 connections after {} warm-up tokens; client: {} runs\n- wall time of the bench: {:.0} s\n\n",
        plan.runs,
        plan.generator_runs,
        plan.warmup_s,
        plan.duration_s,
        plan.create_tokens[0],
        plan.create_tokens[1],
        plan.create_warmup_tokens,
        plan.client_runs,
        wall.as_secs_f64(),
    );
    text.push_str("## Results\n\n");
    text.push_str(&table(&report.rows));
    text.push('\n');
    if !report.defects.is_empty() {
        text.push_str("\n**Not measured (defects of this run):**\n\n");
        for defect in &report.defects {
            let _ = writeln!(text, "- {defect}");
        }
    }
    text.push_str("\n## Details\n\n");
    text.push_str(&report.details);
    text.push_str(
        "Method: servers and load run as separate processes on 127.0.0.1; each run starts a fresh server. \
         The load generator (`secrets-bench load`, one thread) keeps every connection alive and sends the next \
         request when the previous answer has been read; it records every latency and fails a run when any answer \
         has another status than expected (201, 401, 422, or 200 for the reads; the 422 of (f) is axum's own \
         rejection). Creates use distinct users, so every (c) answer is a \
         real 201. Within a run every variant is measured once, in a fixed order that is reversed every other run (so \
         that no variant always follows the same neighbour). Ratios are medians of per-run ratios (both sides \
         measured in the same run; each run's ratio is listed above), so they can differ from the ratio of the \
         two medians shown. Server CPU per request is the server's utime + stime (10 ms ticks) over the whole load run \
         divided by the requests it answered.\n\n",
    );
    if quick {
        text.push_str("The analysis of missed goals is in `docs/benchmarks.md`.\n");
        return text;
    }
    let kept = std::fs::read_to_string(out)
        .ok()
        .and_then(|old| old.find(ANALYSIS_MARKER).map(|at| old[at..].to_owned()));
    match kept {
        Some(analysis) => text.push_str(&analysis),
        None => {
            text.push_str(ANALYSIS_MARKER);
            text.push_str("\n\n## Analysis\n\n(none yet)\n");
        }
    }
    text
}

fn table(rows: &[Row]) -> String {
    let mut text = String::from("| figure | value | baseline | ratio | goal | met? |\n|---|---|---|---|---|---|\n");
    for row in rows {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} |",
            row.figure,
            row.value,
            row.baseline,
            // Three decimals near the goals, so 0.949 never shows as a "0.95" that missed 0.95.
            row.ratio.map_or("—".to_owned(), |r| if r < 10.0 {
                format!("{r:.3}")
            } else {
                format!("{r:.1}")
            }),
            row.goal,
            match row.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            }
        );
    }
    text
}

/// `nproc`, CPU model, memory, kernel, rustc, date and load, as list items.
fn machine_description(root: &Path) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown".to_owned(), |m| m.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or("unknown".to_owned(), |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0));
    let output = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map_or("unknown".to_owned(), |o| {
                String::from_utf8_lossy(&o.stdout).trim().to_owned()
            })
    };
    let dirty = !output("git", &["status", "--porcelain"]).is_empty();
    format!(
        "- date: {}\n- machine: {} CPUs (`nproc`), {model}, {memory} RAM, Linux {}; load average at start {} \
         (shared with other builds)\n- rustc: {}\n- commit: {}{}\n",
        output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        output("nproc", &[]),
        output("uname", &["-r"]),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        output("rustc", &["--version"]),
        output("git", &["rev-parse", "--short", "HEAD"]),
        if dirty { " with uncommitted changes" } else { "" },
    )
}

/// The ratios of `list` to `base`, run by run (a run that measured only one of them has none).
fn per_run_ratios(list: &[Sample], base: &[Sample], f: fn(&Sample) -> f64) -> Vec<f64> {
    list.iter()
        .filter_map(|ours| {
            let theirs = base.iter().find(|b| b.run == ours.run)?;
            Some(f(ours) / f(theirs))
        })
        .collect()
}

/// The median of per-run ratios: pairing the samples of one run cancels slow drifts in the machine's load.
fn paired_ratio(list: &[Sample], base: &[Sample], f: fn(&Sample) -> f64) -> f64 {
    median(&per_run_ratios(list, base, f))
}

/// The ratios of [`per_run_ratios`] as the details list them.
fn run_by_run(list: &[Sample], base: &[Sample], f: fn(&Sample) -> f64) -> String {
    let ratios: Vec<String> = per_run_ratios(list, base, f)
        .iter()
        .map(|r| format!("{r:.3}"))
        .collect();
    ratios.join(", ")
}

fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn micros(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

fn list(samples: &[f64]) -> String {
    if samples.is_empty() {
        return "not measured".to_owned();
    }
    samples.iter().map(|s| format!("{s:.4}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::{PAIRED, Sample, Variant, median, per_run_ratios, run_order};

    #[test]
    fn run_orders() {
        use Variant::*;
        let all = |_: Variant| true;
        let no_f = |v: Variant| !v.is_f();
        let forward: Vec<Vec<Variant>> = vec![
            vec![Baseline],
            vec![BaselineBeside, Typed, Stub, FCreate],
            vec![StubInvalid, FInvalid],
            vec![Create],
            vec![Unauthorized],
            vec![Invalid],
            vec![List],
            vec![Get],
        ];
        let reversed: Vec<Vec<Variant>> = forward
            .iter()
            .rev()
            .map(|unit| unit.iter().rev().copied().collect())
            .collect();
        let without_f: Vec<Vec<Variant>> = forward
            .iter()
            .map(|unit| unit.iter().copied().filter(|v| !v.is_f()).collect())
            .collect();
        type Available<'a> = &'a dyn Fn(Variant) -> bool;
        let cases: [(usize, Available<'_>, &[Vec<Variant>]); 4] = [
            (0, &all, &forward),
            (1, &all, &reversed),
            (2, &all, &forward),
            (0, &no_f, &without_f),
        ];
        for (run, available, expected) in cases {
            assert_eq!(run_order(run, available), expected, "run {run}");
        }
    }

    #[test]
    fn a_group_expects_one_status() {
        for group in PAIRED {
            assert!(group.iter().all(|v| v.expect() == group[0].expect()), "{group:?}");
        }
    }

    fn sample(run: usize, rps: f64) -> Sample {
        Sample {
            run,
            rps,
            p50_us: 0.0,
            p99_us: 0.0,
            p999_us: 0.0,
            cpu_us_per_request: 0.0,
            hwm_kib: 0,
        }
    }

    #[test]
    fn ratios_pair_the_samples_of_a_run() {
        let rps = |s: &Sample| s.rps;
        // (run, req/s) of each sample
        type Samples<'a> = &'a [(usize, f64)];
        let cases: [(Samples<'_>, Samples<'_>, &[f64]); 3] = [
            (&[(0, 2.0), (1, 3.0)], &[(0, 1.0), (1, 4.0)], &[2.0, 0.75]),
            (&[(1, 3.0), (0, 2.0)], &[(0, 1.0), (1, 4.0)], &[0.75, 2.0]),
            (&[(0, 2.0), (2, 9.0)], &[(0, 4.0), (1, 1.0), (2, 3.0)], &[0.5, 3.0]),
        ];
        for (ours, theirs, expected) in cases {
            let ours: Vec<Sample> = ours.iter().map(|&(run, rps)| sample(run, rps)).collect();
            let theirs: Vec<Sample> = theirs.iter().map(|&(run, rps)| sample(run, rps)).collect();
            assert_eq!(per_run_ratios(&ours, &theirs, rps), expected, "{expected:?}");
        }
    }

    #[test]
    fn medians() {
        let cases: [(&[f64], f64); 4] = [
            (&[3.0], 3.0),
            (&[5.0, 1.0, 3.0], 3.0),
            (&[4.0, 1.0, 3.0, 2.0], 2.5),
            (&[2.0, f64::INFINITY, 1.0], 2.0),
        ];
        for (samples, expected) in cases {
            assert_eq!(median(samples), expected, "{samples:?}");
        }
        assert!(median(&[]).is_nan());
    }
}

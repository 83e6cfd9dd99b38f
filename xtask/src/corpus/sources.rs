//! The OpenAPI 3.1 documents of the corpus (`corpus/corpus-3.1.tsv`): files of pinned npm packages, and documents
//! that FastAPI apps export (`app.openapi()`), of the pinned fastapi sdist's `docs_src/` or of `corpus/fastapi/`,
//! exported into the corpus's target directory by `corpus/fastapi/export.py` in a pinned venv.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::{Value, json};

use super::{Entry, NOT_STATED, Origin, parse_lines};
use crate::process::run_ok;

pub(crate) const MANIFEST: &str = "corpus/corpus-3.1.tsv";
const COLUMNS: [&str; 5] = ["name", "source", "file", "licence", "exercises"];
/// Where `npm ci --prefix corpus` installs the pinned packages.
const NODE_MODULES: &str = "corpus/node_modules";
/// The FastAPI side: the requirements of its venv, the pinned sdist, the export script and the corpus's own apps.
const FASTAPI: &str = "corpus/fastapi";
const REQUIREMENTS: &str = "corpus/fastapi/requirements.txt";
const SDIST: &str = "corpus/fastapi/sdist.txt";
const EXPORT: &str = "corpus/fastapi/export.py";
/// How the manifest's `source` column names each origin.
const NPM: &str = "npm ";
const FASTAPI_DOCS: &str = "fastapi docs";
const FASTAPI_APP: &str = "fastapi app";

/// Parses the 3.1 manifest. `lock` is `corpus/package-lock.json` (the version of each npm package) and `sdist` is
/// `corpus/fastapi/sdist.txt` (the version of the fastapi sdist).
pub(crate) fn parse_manifest(text: &str, lock: &str, sdist: &str) -> Result<Vec<Entry>> {
    let lock: Value = serde_json::from_str(lock).context("corpus/package-lock.json is not JSON")?;
    let mut entries = Vec::new();
    for (number, fields) in parse_lines(MANIFEST, text, &COLUMNS)? {
        let [name, source, file, licence, exercises] = <[String; 5]>::try_from(fields)
            .map_err(|fields| anyhow!("{MANIFEST}:{number}: {} fields", fields.len()))?;
        let origin = if let Some(package) = source.strip_prefix(NPM) {
            let version = lock
                .pointer(&format!(
                    "/packages/node_modules~1{}/version",
                    package.replace('/', "~1")
                ))
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("{MANIFEST}:{number}: corpus/package-lock.json pins no `{package}`"))?;
            Origin::Npm {
                package: package.to_owned(),
                version: version.to_owned(),
            }
        } else if source == FASTAPI_DOCS {
            Origin::FastApiDocs {
                version: sdist_version(sdist)?,
            }
        } else if source == FASTAPI_APP {
            Origin::FastApiApp
        } else {
            bail!("{MANIFEST}:{number}: source `{source}` must be `{NPM}PACKAGE`, `{FASTAPI_DOCS}` or `{FASTAPI_APP}`");
        };
        let extensions: &[&str] = match origin {
            Origin::Npm { .. } => &[".json", ".yaml", ".yml"],
            _ => &[".py"],
        };
        ensure!(
            extensions.iter().any(|ext| file.ends_with(ext))
                && !file.split('/').any(|part| part == ".." || part.is_empty()),
            "{MANIFEST}:{number}: file `{file}` must be a {} path inside its source",
            extensions.join(" or ")
        );
        entries.push(Entry {
            name,
            file,
            origin,
            licence,
            exercises,
        });
    }
    Ok(entries)
}

/// The version `corpus/fastapi/sdist.txt` pins: its one requirement, `fastapi==VERSION --hash=…`.
fn sdist_version(sdist: &str) -> Result<String> {
    let pins: Vec<&str> = sdist
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let [pin] = pins[..] else {
        bail!("{SDIST}: {} requirements; pin the fastapi sdist alone", pins.len());
    };
    let version = pin
        .strip_prefix("fastapi==")
        .and_then(|rest| rest.split_whitespace().next())
        .filter(|_| pin.contains("--hash=sha256:"))
        .ok_or_else(|| anyhow!("{SDIST}: `{pin}` is not `fastapi==VERSION --hash=sha256:…`"))?;
    Ok(version.to_owned())
}

/// The document of an entry of this manifest, as JSON.
pub(crate) fn read_document(root: &Path, work: &Path, entry: &Entry) -> Result<Value> {
    let path = match &entry.origin {
        Origin::Npm { package, .. } => root.join(NODE_MODULES).join(package).join(&entry.file),
        _ => exported(work, &entry.name),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|ext| ext == "json") {
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
    } else {
        serde_yaml::from_str(&text).with_context(|| format!("{} is not YAML", path.display()))
    }
}

/// Where the export of a FastAPI app goes.
fn exported(work: &Path, name: &str) -> PathBuf {
    work.join("fastapi").join(format!("{name}.json"))
}

/// The manifest must say what the document states as its licence, or else what its package states; and the
/// document must be OpenAPI 3.1, since that is what this manifest lists.
pub(crate) fn check_stated(root: &Path, work: &Path, entry: &Entry, doc: &Value) -> Result<()> {
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or(NOT_STATED);
    ensure!(
        version.starts_with("3.1."),
        "{MANIFEST}: `{}` is OpenAPI {version}; this manifest lists 3.1 documents",
        entry.name
    );
    let stated = match doc.pointer("/info/license/name").and_then(Value::as_str) {
        Some(name) => name.to_owned(),
        None => package_licence(root, work, &entry.origin)?,
    };
    ensure!(
        stated == entry.licence,
        "{MANIFEST}: `{}` lists licence `{}`, but {} states `{stated}`",
        entry.name,
        entry.licence,
        entry.file
    );
    Ok(())
}

/// What a document's package states as its licence.
fn package_licence(root: &Path, work: &Path, origin: &Origin) -> Result<String> {
    Ok(match origin {
        Origin::Npm { package, .. } => {
            let path = root.join(NODE_MODULES).join(package).join("package.json");
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let manifest: Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
            manifest
                .get("license")
                .and_then(Value::as_str)
                .unwrap_or(NOT_STATED)
                .to_owned()
        }
        Origin::FastApiDocs { version } => {
            let path = work.join("fastapi-sdist").join(format!("fastapi-{version}/PKG-INFO"));
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            text.lines()
                .find_map(|line| line.strip_prefix("License-Expression: "))
                .unwrap_or(NOT_STATED)
                .to_owned()
        }
        // The corpus's own apps state theirs in the document.
        Origin::FastApiApp | Origin::Directory { .. } => NOT_STATED.to_owned(),
    })
}

/// Exports the documents of the FastAPI entries into `work/fastapi/`: installs the pinned venv and downloads the
/// pinned sdist when they are missing or stale, then runs the export script once for all apps.
pub(crate) fn export_fastapi(root: &Path, work: &Path, entries: &[Entry]) -> Result<()> {
    let apps: Vec<Value> = entries
        .iter()
        .filter_map(|entry| {
            let app_root = match entry.origin {
                Origin::FastApiDocs { .. } => "sdist".to_owned(),
                Origin::FastApiApp => root.join(FASTAPI).display().to_string(),
                _ => return None,
            };
            Some(json!({ "name": entry.name, "root": app_root, "file": entry.file }))
        })
        .collect();
    if apps.is_empty() {
        return Ok(());
    }
    let venv = work.join("venv");
    let python = pinned_venv(&venv, &root.join(REQUIREMENTS))?;
    let docs_version = entries.iter().find_map(|entry| match &entry.origin {
        Origin::FastApiDocs { version } => Some(version.clone()),
        _ => None,
    });
    let sdist = match docs_version {
        Some(version) => Some(download_sdist(&venv, root, &work.join("pypi"), &version)?),
        None => None,
    };
    let request = json!({
        "sdist": sdist,
        "unpack": work.join("fastapi-sdist"),
        "out": work.join("fastapi"),
        "apps": apps,
    });
    eprintln!("corpus: exporting the OpenAPI documents of {} FastAPI apps", apps.len());
    let mut child = Command::new(&python)
        .arg(root.join(EXPORT))
        // No __pycache__ beside the corpus's own apps in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", python.display()))?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("no stdin for {EXPORT}"))?
        .write_all(request.to_string().as_bytes())?;
    let status = child.wait()?;
    ensure!(status.success(), "{EXPORT} failed with {status}; see its output above");
    Ok(())
}

/// The venv's python, with exactly the pinned requirements installed (reinstalled when the file changes).
fn pinned_venv(venv: &Path, requirements: &Path) -> Result<PathBuf> {
    let python = venv.join("bin/python");
    let marker = venv.join(".pinned");
    let pins =
        std::fs::read_to_string(requirements).with_context(|| format!("cannot read {}", requirements.display()))?;
    if python.exists() && std::fs::read_to_string(&marker).is_ok_and(|installed| installed == pins) {
        return Ok(python);
    }
    eprintln!("corpus: installing {REQUIREMENTS} into {}", venv.display());
    run_ok(Command::new("python3").arg("-m").arg("venv").arg("--clear").arg(venv))?;
    run_ok(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "--requirement"])
            .arg(requirements),
    )?;
    std::fs::write(&marker, pins)?;
    Ok(python)
}

/// The pinned fastapi sdist in `dir`, downloaded (its hash checked by pip) unless it is there already.
fn download_sdist(venv: &Path, root: &Path, dir: &Path, version: &str) -> Result<PathBuf> {
    let tarball = dir.join(format!("fastapi-{version}.tar.gz"));
    if tarball.exists() {
        return Ok(tarball);
    }
    eprintln!("corpus: downloading the fastapi {version} sdist ({SDIST})");
    run_ok(
        Command::new(venv.join("bin/pip"))
            .args([
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--require-hashes",
                "--requirement",
            ])
            .arg(root.join(SDIST))
            .arg("--dest")
            .arg(dir),
    )?;
    ensure!(tarball.exists(), "pip downloaded no {}", tarball.display());
    Ok(tarball)
}

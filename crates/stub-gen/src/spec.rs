//! Reading a spec: YAML text -> `openapiv3` document, refusing (with `file:line` and JSON pointer) what is not an
//! OpenAPI 3.0 document (a 3.1 one is lowered to 3.0 first, [`crate::openapi31`]) or has a `$ref` that resolves
//! nowhere, after the repairs of [`crate::repair`]. No I/O: the caller reads the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use openapiv3::OpenAPI;
use serde_json::Value;

use crate::Error;

macro_rules! bail {
    ($($arg:tt)*) => { return Err(Error::new(format!($($arg)*))) };
}

/// A parsed spec plus what error messages need to point into it.
pub struct Spec {
    /// How error messages name the file (usually its path as the user gave it).
    pub path: String,
    /// The text, for `file:line` in error messages.
    pub text: String,
    /// The document.
    pub doc: OpenAPI,
    /// The document as plain JSON, for lookups `openapiv3` does not keep (e.g. raw `$ref` targets).
    pub raw: Value,
    /// Component schemas renamed because typify would give two of them one Rust name (`FileDTO` and `FileDto`):
    /// new name -> the name as written.
    pub renamed: BTreeMap<String, String>,
    /// Nodes the lowering of OpenAPI 3.1 moved ([`crate::openapi31`]): (pointer prefix now, pointer prefix as
    /// written).
    pub moved: Vec<(String, String)>,
}

impl Spec {
    /// Parses `text`, naming it `path` in every error.
    pub fn parse(path: &str, text: String) -> Result<Spec, Error> {
        Self::parse_renaming(path, text, &BTreeSet::new())
    }

    /// The same spec with the component schemas `rename` (names as written) renamed as colliding ones are: for a
    /// schema whose Rust name the type generator gives to another type of its own (typify names a property `status`
    /// of `Server` `ServerStatus`, which may be a component too).
    pub fn renaming(&self, rename: &BTreeSet<String>) -> Result<Spec, Error> {
        Self::parse_renaming(&self.path, self.text.clone(), rename)
    }

    fn parse_renaming(path: &str, text: String, rename: &BTreeSet<String>) -> Result<Spec, Error> {
        let raw: Value = serde_yaml::from_str(&text).map_err(|err| match err.location() {
            Some(loc) => Error::new(format!(
                "{path}:{}:{}: invalid YAML: {}",
                loc.line(),
                loc.column(),
                strip_location(&err.to_string())
            )),
            None => Error::new(format!("{path}: invalid YAML: {err}")),
        })?;
        let located = Located { path, text: &text };

        let mut raw = raw;
        let version = raw.get("openapi").and_then(Value::as_str).map(|v| v.trim().to_owned());
        let moved = match version.as_deref() {
            Some(v) if v.starts_with("3.0.") => Vec::new(),
            Some(v) if v.starts_with("3.1.") || v.starts_with("3.2.") => {
                crate::openapi31::lower(&mut raw, &|pointer| located.at(pointer))?
            }
            Some(v) => bail!(
                "{}: `openapi: {v}` is not supported; the generators read OpenAPI 3.0.x and 3.1.x documents (and 3.2.x ones that use only what 3.1 has)",
                located.at("/openapi")
            ),
            None => bail!(
                "{}: not an OpenAPI document (no `openapi: 3.0.x` field)",
                located.at("")
            ),
        };
        check_refs(&raw, &raw, &mut String::new(), &located)?;
        let renamed = crate::repair::document(&mut raw, rename);

        // The path of a mismatch is tracked only when there is one: tracking it costs every key of a valid spec.
        let doc = match <OpenAPI as serde::Deserialize>::deserialize(&raw) {
            Ok(doc) => Ok(doc),
            Err(_) => serde_path_to_error::deserialize::<_, OpenAPI>(&raw),
        };
        let doc: OpenAPI = doc.map_err(|err| {
            let segments: Vec<String> = err
                .path()
                .iter()
                .filter_map(|seg| match seg {
                    serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                    serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                    serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                    serde_path_to_error::Segment::Unknown => None,
                })
                .collect();
            let pointer = pointer(&segments.iter().map(String::as_str).collect::<Vec<_>>());
            Error::new(format!(
                "{}: does not match the OpenAPI 3.0 schema at {pointer}: {}",
                located.at(&pointer),
                err.inner()
            ))
        })?;
        Ok(Spec {
            path: path.to_owned(),
            text,
            doc,
            raw,
            renamed,
            moved,
        })
    }

    /// `file:line` for a JSON pointer into this spec, for error messages of later stages.
    pub fn at(&self, pointer: &str) -> String {
        let located = Located {
            path: &self.path,
            text: &self.text,
        };
        // A moved node is found where it is written; so is a renamed schema, under the name it was written with.
        for (now, written) in &self.moved {
            if let Some(rest) = pointer.strip_prefix(now.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return located.at(&format!("{written}{rest}"));
            }
        }
        for (new, original) in &self.renamed {
            let prefix = self::pointer(&["components", "schemas", new]);
            if let Some(rest) = pointer.strip_prefix(&prefix)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return located.at(&format!(
                    "{}{rest}",
                    self::pointer(&["components", "schemas", original])
                ));
            }
        }
        located.at(pointer)
    }
}

struct Located<'a> {
    path: &'a str,
    text: &'a str,
}

impl Located<'_> {
    fn at(&self, pointer: &str) -> String {
        match line_of(self.text, pointer) {
            Some(line) => format!("{}:{line}", self.path),
            None => self.path.to_owned(),
        }
    }
}

/// serde_yaml appends "at line X column Y" to its messages; we already lead with file:line:column.
fn strip_location(msg: &str) -> &str {
    msg.find(" at line ").map_or(msg, |i| &msg[..i])
}

/// Every `$ref` must point at something inside this document.
fn check_refs(root: &Value, node: &Value, pointer: &mut String, located: &Located<'_>) -> Result<(), Error> {
    match node {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref") {
                let Some(target) = target.as_str() else {
                    bail!("{}: `$ref` at {pointer} is not a string", located.at(pointer));
                };
                let Some(local) = target.strip_prefix('#') else {
                    bail!(
                        "{}: `$ref: {target}` at {pointer} points outside this file; only local references (#/...) are supported",
                        located.at(pointer)
                    );
                };
                if root.pointer(&percent_decode(local)).is_none() {
                    bail!(
                        "{}: `$ref: {target}` at {pointer} resolves nowhere in this document",
                        located.at(pointer)
                    );
                }
            }
            for (key, value) in map {
                let len = pointer.len();
                write!(pointer, "/{}", escape(key)).unwrap();
                check_refs(root, value, pointer, located)?;
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                let len = pointer.len();
                write!(pointer, "/{i}").unwrap();
                check_refs(root, value, pointer, located)?;
                pointer.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// `%XX` escapes decoded, as URI fragments carry JSON pointers (`#/paths/~1a~1%7Bid%7D`).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// A JSON pointer from unescaped segments.
pub fn pointer(segments: &[&str]) -> String {
    segments.iter().map(|s| format!("/{}", escape(s))).collect()
}

/// A key as a JSON pointer segment (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer segment as the key it names; the inverse of [`escape`].
pub(crate) fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Best-effort line (1-based) of a JSON pointer in block-style YAML: follows each key at a deeper indent; for an
/// array index, counts `- ` items. Stops at the deepest segment it can find, so errors still point nearby.
pub fn line_of(text: &str, pointer: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0usize;
    let mut parent_indent: isize = -1;
    // Set when the previous segment matched a `- ` item: its first key sits on that same line.
    let mut in_item = false;
    let mut found = None;
    let segments = pointer.split('/').skip(1).map(unescape);
    for seg in segments {
        let index: Option<usize> = seg.parse().ok();
        let keys = [format!("{seg}:"), format!("'{seg}':"), format!("\"{seg}\":")];
        let mut hit = None;
        let mut seen = 0usize;
        for (i, line) in lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut indent = (line.len() - trimmed.len()) as isize;
            let mut content = trimmed;
            if in_item && i == start {
                indent += 2;
                content = &trimmed[2..];
            } else if indent <= parent_indent {
                break;
            }
            if index.is_some() && content.starts_with("- ") {
                if Some(seen) == index {
                    hit = Some((i, indent, true));
                    break;
                }
                seen += 1;
            } else if keys.iter().any(|k| content.starts_with(k.as_str())) {
                hit = Some((i, indent, false));
                break;
            }
        }
        let Some((i, indent, item)) = hit else { break };
        found = Some(i + 1);
        in_item = item;
        // Inside an item, its keys are two columns deeper than the dash; a key's children are deeper than it.
        (start, parent_indent) = if item { (i, indent + 1) } else { (i + 1, indent) };
    }
    found.or(Some(1))
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;

//! Loads openapi.yaml and rejects, with file:line and JSON pointer, what the generators would mishandle or panic on.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use serde_json::Value;

/// A parsed spec plus what error messages need to point into it.
pub(crate) struct Spec {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
    pub(crate) doc: OpenAPI,
}

impl Spec {
    pub(crate) fn load(path: &Path) -> Result<Spec> {
        let text = std::fs::read_to_string(path).map_err(|err| anyhow!("cannot read {}: {err}", path.display()))?;
        Spec::parse(path, text)
    }

    pub(crate) fn parse(path: &Path, text: String) -> Result<Spec> {
        let raw: Value = serde_yaml::from_str(&text).map_err(|err| match err.location() {
            Some(loc) => anyhow!(
                "{}:{}:{}: invalid YAML: {}",
                path.display(),
                loc.line(),
                loc.column(),
                strip_location(&err.to_string())
            ),
            None => anyhow!("{}: invalid YAML: {err}", path.display()),
        })?;
        let located = Located { path, text: &text };

        let version = raw.get("openapi").and_then(Value::as_str);
        match version {
            Some(v) if v.trim().starts_with("3.0.") => {}
            Some(v) => bail!(
                "{}: `openapi: {v}` is not supported; the generators read OpenAPI 3.0.x documents only",
                located.at("/openapi")
            ),
            None => bail!(
                "{}: not an OpenAPI document (no `openapi: 3.0.x` field)",
                located.at("")
            ),
        }
        check_refs(&raw, &raw, &mut String::new(), &located)?;

        let doc: OpenAPI = serde_path_to_error::deserialize(&raw).map_err(|err| {
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
            anyhow!(
                "{}: does not match the OpenAPI 3.0 schema at {pointer}: {}",
                located.at(&pointer),
                err.inner()
            )
        })?;
        check_operations(&doc, &raw, &located)?;
        Ok(Spec {
            path: path.to_path_buf(),
            text,
            doc,
        })
    }

    /// `file:line` for a JSON pointer into this spec, for error messages of later stages.
    pub(crate) fn at(&self, pointer: &str) -> String {
        Located {
            path: &self.path,
            text: &self.text,
        }
        .at(pointer)
    }
}

struct Located<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Located<'_> {
    fn at(&self, pointer: &str) -> String {
        match line_of(self.text, pointer) {
            Some(line) => format!("{}:{line}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

/// serde_yaml appends "at line X column Y" to its messages; we already lead with file:line:column.
fn strip_location(msg: &str) -> &str {
    msg.find(" at line ").map_or(msg, |i| &msg[..i])
}

/// Every `$ref` must point at something inside this document.
fn check_refs(root: &Value, node: &Value, pointer: &mut String, located: &Located<'_>) -> Result<()> {
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
                if root.pointer(local).is_none() {
                    bail!(
                        "{}: `$ref: {target}` at {pointer} resolves nowhere in this document",
                        located.at(pointer)
                    );
                }
            }
            for (key, value) in map {
                let len = pointer.len();
                write!(pointer, "/{}", key.replace('~', "~0").replace('/', "~1")).unwrap();
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

/// What progenitor would panic on or name wrongly: caught here, naming the operation.
fn check_operations(doc: &OpenAPI, raw: &Value, located: &Located<'_>) -> Result<()> {
    for (path, item) in &doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            bail!(
                "{}: path `{path}` is a $ref; path items must be written inline",
                located.at(&pointer(&["paths", path]))
            );
        };
        for (method, op) in item.iter() {
            let at = pointer(&["paths", path, method]);
            let Some(id) = &op.operation_id else {
                bail!(
                    "{}: operation {} {path} has no operationId; the client and the stub trait name methods after it",
                    located.at(&at),
                    method.to_uppercase()
                );
            };
            let has_2xx = op.responses.responses.keys().any(|code| match code {
                StatusCode::Code(c) => (200..300).contains(c),
                StatusCode::Range(r) => *r == 2,
            });
            if op.responses.default.is_some() && has_2xx {
                bail!(
                    "{}: operation `{id}` has a `default` response beside 2xx responses; list each error status explicitly",
                    located.at(&format!("{at}/responses/default"))
                );
            }
            // progenitor gives each operation one success type and one error type, and asserts on anything else.
            for (class, in_class, rule) in [
                (
                    "success",
                    2u16..3,
                    "every 2xx response of an operation must share one body schema",
                ),
                (
                    "error",
                    4u16..6,
                    "every error response of an operation must share one schema (ErrorResponse)",
                ),
            ] {
                let mut first: Option<(String, Value)> = None;
                for code in op.responses.responses.keys() {
                    let hundreds = match code {
                        StatusCode::Code(c) => c / 100,
                        StatusCode::Range(r) => *r,
                    };
                    if !in_class.contains(&hundreds) {
                        continue;
                    }
                    let schema = response_schema(raw, &at, &code.to_string())?;
                    match &first {
                        None => first = Some((code.to_string(), schema)),
                        Some((first_code, first_schema)) if *first_schema != schema => bail!(
                            "{}: operation `{id}`: {class} responses {first_code} and {code} use different schemas; {rule}",
                            located.at(&format!("{at}/responses/{code}"))
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    Ok(())
}

/// The body schema(s) of one response, following a response `$ref`: the value compared across status codes.
fn response_schema(raw: &Value, op_pointer: &str, code: &str) -> Result<Value> {
    let mut response = raw
        .pointer(&format!("{op_pointer}/responses/{code}"))
        .ok_or_else(|| anyhow!("response {code} missing at {op_pointer}"))?;
    for _ in 0..16 {
        match response.get("$ref").and_then(Value::as_str) {
            Some(target) => {
                response = raw.pointer(&target[1..]).expect("refs were checked");
            }
            None => break,
        }
    }
    Ok(response.get("content").cloned().map_or(Value::Null, |content| {
        let schemas: serde_json::Map<String, Value> = content
            .as_object()
            .into_iter()
            .flatten()
            .map(|(media, m)| (media.clone(), m.get("schema").cloned().unwrap_or(Value::Null)))
            .collect();
        Value::Object(schemas)
    }))
}

/// A JSON pointer from unescaped segments.
pub(crate) fn pointer(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Best-effort line (1-based) of a JSON pointer in block-style YAML: follows each key at a deeper indent; for an
/// array index, counts `- ` items. Stops at the deepest segment it can find, so errors still point nearby.
pub(crate) fn line_of(text: &str, pointer: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0usize;
    let mut parent_indent: isize = -1;
    // Set when the previous segment matched a `- ` item: its first key sits on that same line.
    let mut in_item = false;
    let mut found = None;
    let segments = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"));
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
mod tests;

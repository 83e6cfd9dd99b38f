//! Reading a spec: YAML text -> `openapiv3` document, refusing (with `file:line` and JSON pointer) what is not an
//! OpenAPI 3.0 document or has a `$ref` that resolves nowhere. No I/O: the caller reads the file.

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
        // `$ref`s that point anywhere but straight at a component (into a schema's properties, into `paths`) are
        // replaced by what they point at, so that every later stage, and the type generator, sees only component
        // references; a percent-encoded pointer is decoded.
        let mut raw = raw;
        // Most specs have none: then the document is not copied.
        if has_deep_refs(&raw) {
            let original = raw.clone();
            inline_deep_refs(&original, &mut raw, 0);
        }
        drop_foreign_keywords(&mut raw);
        let renamed = rename_colliding_schemas(&mut raw, rename);

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
        })
    }

    /// `file:line` for a JSON pointer into this spec, for error messages of later stages.
    pub fn at(&self, pointer: &str) -> String {
        let located = Located {
            path: &self.path,
            text: &self.text,
        };
        // A renamed schema is found in the text under the name it was written with.
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

/// The keywords that constrain only values of one JSON type, by type (`enum`, `nullable` and the annotations apply
/// to every type and are not listed).
const TYPE_KEYWORDS: [(&str, &[&str]); 5] = [
    ("string", &["format", "pattern", "minLength", "maxLength"]),
    (
        "number",
        &[
            "format",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ],
    ),
    (
        "object",
        &[
            "properties",
            "required",
            "additionalProperties",
            "minProperties",
            "maxProperties",
        ],
    ),
    ("array", &["items", "minItems", "maxItems", "uniqueItems"]),
    ("boolean", &[]),
];

/// Beside a `type`, removes the keywords that constrain only values of other types (`properties` or `format` on
/// an array, `required` on an integer, a `format` on an object). JSON Schema applies them to no value of the
/// declared type, so what the schema accepts is unchanged; but `openapiv3` and the type generator read such a schema
/// as untyped, and public specs have them. An untyped `enum` of one JSON type gets that type ([`enum_type`]).
/// Example values and extensions are left as written.
fn drop_foreign_keywords(node: &mut Value) {
    for_each_schema(node, &mut |map| {
        let declared = match map.get("type").and_then(Value::as_str) {
            Some("integer") => Some("number"),
            other => other,
        };
        if let Some(own) = TYPE_KEYWORDS
            .iter()
            .find(|(ty, _)| Some(*ty) == declared)
            .map(|(_, own)| *own)
        {
            let foreign: Vec<&str> = TYPE_KEYWORDS
                .iter()
                .flat_map(|(_, keywords)| keywords.iter().copied())
                .filter(|keyword| !own.contains(keyword))
                .collect();
            map.retain(|key, _| !foreign.contains(&key.as_str()));
        }
        if let Some(implied) = enum_type(map) {
            map.insert("type".to_owned(), Value::String(implied.to_owned()));
        }
        move_array_enum(map);
    });
}

/// Calls `f` on every schema object at or below `node`, the outer before the inner, passing over what is data rather
/// than schema (`example`, `examples`, `default`, `enum`, extensions); the keys of `properties` are names, so a
/// property may be called `default`.
pub(crate) fn for_each_schema(node: &mut Value, f: &mut impl FnMut(&mut serde_json::Map<String, Value>)) {
    match node {
        Value::Object(map) => {
            f(map);
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    ("properties", Value::Object(properties)) => {
                        properties
                            .values_mut()
                            .for_each(|property| for_each_schema(property, f));
                    }
                    ("example" | "examples" | "default" | "enum", _) => {}
                    (key, _) if key.starts_with("x-") => {}
                    (_, value) => for_each_schema(value, f),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| for_each_schema(item, f)),
        _ => {}
    }
}

/// `type: array` with an `enum` of values that are not arrays (`enum: [live, promotions]`, `items: {type: string}`)
/// accepts no array at all; specs converted from Swagger 2.0 write item enums this way, and Swagger UI reads them as
/// the items' enum. So does the generator: the `enum` moves to `items` when the items have none of their own.
fn move_array_enum(map: &mut serde_json::Map<String, Value>) {
    if map.get("type").and_then(Value::as_str) != Some("array") {
        return;
    }
    let Some(Value::Array(values)) = map.get("enum") else {
        return;
    };
    if values.is_empty() || values.iter().any(Value::is_array) {
        return;
    }
    let Some(Value::Object(items)) = map.get("items") else {
        return;
    };
    if items.contains_key("enum") || items.contains_key("$ref") {
        return;
    }
    if let Some(values) = map.remove("enum")
        && let Some(Value::Object(items)) = map.get_mut("items")
    {
        items.insert("enum".to_owned(), values);
    }
}

/// The type of an untyped schema that is only an `enum` whose values all have one JSON type (`enum: [tag, digest]`):
/// naming the type accepts nothing the enum did not. `None` for anything else (mixed values, a `null`, other
/// keywords that say more).
fn enum_type(map: &serde_json::Map<String, Value>) -> Option<&'static str> {
    const SAYS_MORE: [&str; 6] = ["type", "$ref", "allOf", "oneOf", "anyOf", "not"];
    if SAYS_MORE.iter().any(|key| map.contains_key(*key)) {
        return None;
    }
    let values = map.get("enum")?.as_array()?;
    let type_of = |value: &Value| match value {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        _ => None,
    };
    let first = type_of(values.first()?)?;
    values.iter().all(|v| type_of(v) == Some(first)).then_some(first)
}

/// Component schemas whose Rust names (typify's, [`crate::names::typify_name`]) collide, such as `FileDTO` and
/// `FileDto`, would become two types of one name. Every one after the first, in document order, and every one in
/// `force`, is renamed to the first free `{Name}2`, `{Name}3`, …, and every reference to it follows; a
/// discriminator that chose it by its name gets that name as an explicit mapping. Component names are not on the
/// wire, so nothing a client sends or receives changes. Returns new name -> name as written.
fn rename_colliding_schemas(raw: &mut Value, force: &BTreeSet<String>) -> BTreeMap<String, String> {
    let Some(Value::Object(schemas)) = raw.pointer("/components/schemas") else {
        return BTreeMap::new();
    };
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let all: BTreeSet<String> = schemas.keys().map(|name| crate::names::typify_name(name)).collect();
    let mut renames: Vec<(String, String)> = Vec::new();
    for name in schemas.keys() {
        let rust = crate::names::typify_name(name);
        if !force.contains(name) && taken.insert(rust.clone()) {
            continue;
        }
        let new = (2..)
            .map(|n| format!("{rust}{n}"))
            .find(|candidate| {
                !all.contains(candidate) && !taken.contains(candidate) && !schemas.contains_key(candidate)
            })
            .unwrap_or_default();
        taken.insert(new.clone());
        renames.push((name.clone(), new));
    }
    if renames.is_empty() {
        return BTreeMap::new();
    }
    if let Some(Value::Object(schemas)) = raw.pointer_mut("/components/schemas") {
        // Rebuilt in order, so the document keeps its order with the new keys in place.
        let old = std::mem::take(schemas);
        for (name, schema) in old {
            let key = renames
                .iter()
                .find(|(from, _)| *from == name)
                .map_or(name, |(_, to)| to.clone());
            schemas.insert(key, schema);
        }
    }
    let by_ref: BTreeMap<String, (String, String)> = renames
        .iter()
        .map(|(from, to)| (pointer_ref(from), (from.clone(), pointer_ref(to))))
        .collect();
    follow_renames(raw, &by_ref);
    renames.into_iter().map(|(from, to)| (to, from)).collect()
}

fn pointer_ref(name: &str) -> String {
    format!("#{}", pointer(&["components", "schemas", name]))
}

/// Rewrites `$ref`s and discriminator mappings to renamed schemas (`by_ref`: old `$ref` -> (old name, new `$ref`)).
fn follow_renames(node: &mut Value, by_ref: &BTreeMap<String, (String, String)>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some((_, new)) = by_ref.get(target.as_str())
            {
                *target = new.clone();
            }
            // Before the options are rewritten: an option chosen by its (old) name keeps that name as its value. Once
            // one name is explicit every option's is, so that a mapping read as complete still lists them all.
            let options: Vec<(String, String)> = ["oneOf", "anyOf"]
                .iter()
                .filter_map(|key| map.get(*key)?.as_array())
                .flatten()
                .filter_map(|option| option.get("$ref")?.as_str())
                .filter_map(|target| match by_ref.get(target) {
                    Some((old, new)) => Some((old.clone(), new.clone())),
                    None => {
                        let name = target.strip_prefix("#/components/schemas/")?;
                        (!name.contains('/')).then(|| (name.to_owned(), target.to_owned()))
                    }
                })
                .collect();
            let renamed_option = options.iter().any(|(_, new)| by_ref.values().any(|(_, n)| n == new));
            let implicit = if renamed_option { options } else { Vec::new() };
            if let Some(Value::Object(discriminator)) = map.get_mut("discriminator")
                && discriminator.contains_key("propertyName")
            {
                let mapping = discriminator
                    .entry("mapping")
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(mapping) = mapping {
                    for value in mapping.values_mut() {
                        // A mapping names a schema by `$ref` or by its bare name.
                        if let Value::String(target) = value
                            && let Some((_, new)) = by_ref
                                .get(target.as_str())
                                .or_else(|| by_ref.values().find(|(old, _)| old == target))
                        {
                            *target = new.clone();
                        }
                    }
                    let chosen: BTreeSet<String> =
                        mapping.values().filter_map(|v| v.as_str().map(str::to_owned)).collect();
                    for (old, new) in implicit {
                        if !chosen.contains(&new) && !mapping.contains_key(&old) {
                            mapping.insert(old, Value::String(new));
                        }
                    }
                    if mapping.is_empty() {
                        discriminator.remove("mapping");
                    }
                }
            }
            for value in map.values_mut() {
                follow_renames(value, by_ref);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| follow_renames(item, by_ref)),
        _ => {}
    }
}

/// Whether a `$ref` (decoded) names a component directly: `#/components/<section>/<name>`.
fn is_component_ref(target: &str) -> bool {
    target
        .strip_prefix("#/components/")
        .is_some_and(|rest| rest.split('/').count() == 2)
}

/// Whether [`inline_deep_refs`] has anything to do: a `$ref` that is percent-encoded or not straight at a component.
fn has_deep_refs(node: &Value) -> bool {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref")
                && (target.contains('%') || !is_component_ref(target))
            {
                return true;
            }
            map.values().any(has_deep_refs)
        }
        Value::Array(items) => items.iter().any(has_deep_refs),
        _ => false,
    }
}

/// Replaces every `$ref` that is not a direct component reference by (a copy of) its target, and decodes the
/// percent-escapes of the ones that are. Bounded: a reference cycle through such pointers is left as it is, and
/// lowering refuses it.
fn inline_deep_refs(root: &Value, node: &mut Value, depth: usize) {
    if depth > 32 {
        return;
    }
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let decoded = percent_decode(target);
                if is_component_ref(&decoded) {
                    map.insert("$ref".to_owned(), Value::String(decoded));
                } else if let Some(found) = decoded.strip_prefix('#').and_then(|local| root.pointer(local)) {
                    let mut copy = found.clone();
                    inline_deep_refs(root, &mut copy, depth + 1);
                    *node = copy;
                    return;
                }
            }
            for value in map.values_mut() {
                inline_deep_refs(root, value, depth);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| inline_deep_refs(root, item, depth)),
        _ => {}
    }
}

/// A JSON pointer from unescaped segments.
pub fn pointer(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
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
#[path = "spec_tests.rs"]
mod tests;

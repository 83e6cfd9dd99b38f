//! The repairs: what public specs write that, read literally, no generator could serve, and what stub-gen does
//! instead. Each is documented once, here, where it is done; none loosens a check. Two passes:
//!
//! [`document`], on every spec as it is read ([`crate::Spec::parse`]), before `openapiv3` parses it; everything
//! later, the client's generator included, sees the repaired document:
//! - `$ref`s that point anywhere but straight at a component are replaced by their target ([`inline_deep_refs`]);
//! - keywords of another type beside `type` are dropped, an untyped `enum` of one JSON type gets that type, and an
//!   `enum` beside `type: array` that no array matches becomes the items' enum ([`drop_foreign_keywords`]; the only
//!   repair that changes what is accepted, from nothing to the evident intent);
//! - component schemas whose Rust names collide are renamed after the first ([`rename_colliding_schemas`]).
//!
//! [`type_schemas`], on the component schemas of the type document only ([`crate::type_document`]), so that typify
//! accepts them; the stub's validators are built from the spec itself and still check what is left out here:
//! - a `required` name whose Rust name is a declared property's is left out ([`drop_shadowed_required`]);
//! - a `default` its own schema refuses is left out ([`drop_nonconforming_defaults`]);
//! - a string `enum` whose values typify cannot name is left out ([`drop_unnameable_enums`]);
//! - a nullable composed schema is split in two ([`split_nullable_compositions`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::names;
use crate::spec::{percent_decode, pointer};

/// The repairs of a document as read, in place; `rename` are component schemas to rename as colliding ones are
/// (see [`crate::Spec::renaming`]). Returns the renamed schemas: new name -> name as written.
pub(crate) fn document(raw: &mut Value, rename: &BTreeSet<String>) -> BTreeMap<String, String> {
    // Most specs have none: then the document is not copied.
    if has_deep_refs(raw) {
        let original = raw.clone();
        inline_deep_refs(&original, raw, 0);
    }
    drop_foreign_keywords(raw);
    rename_colliding_schemas(raw, rename)
}

/// The repairs of the type document's component schemas (a JSON object of them), in place.
pub(crate) fn type_schemas(schemas: &mut Value) {
    drop_shadowed_required(schemas);
    drop_nonconforming_defaults(schemas);
    drop_unnameable_enums(schemas);
    split_nullable_compositions(schemas);
}

/// The keywords that constrain only values of one JSON type, by type (`enum`, `nullable` and the annotations apply
/// to every type and are not listed). `integer` shares `number`'s (see [`type_keywords`]).
pub(crate) const TYPE_KEYWORDS: [(&str, &[&str]); 5] = [
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

/// The keywords that constrain only values of the JSON type `ty` (none for a name that is not a type).
pub(crate) fn type_keywords(ty: &str) -> &'static [&'static str] {
    let family = if ty == "integer" { "number" } else { ty };
    TYPE_KEYWORDS
        .iter()
        .find(|(name, _)| *name == family)
        .map_or(&[], |(_, own)| *own)
}

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
fn for_each_schema(node: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
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
fn move_array_enum(map: &mut Map<String, Value>) {
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
fn enum_type(map: &Map<String, Value>) -> Option<&'static str> {
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

/// Component schemas whose Rust names (typify's, [`names::typify_name`]) collide, such as `FileDTO` and
/// `FileDto`, would become two types of one name. Every one after the first, in document order, and every one in
/// `force`, is renamed to the first free `{Name}2`, `{Name}3`, …, and every reference to it follows; a
/// discriminator that chose it by its name gets that name as an explicit mapping. Component names are not on the
/// wire, so nothing a client sends or receives changes. Returns new name -> name as written.
fn rename_colliding_schemas(raw: &mut Value, force: &BTreeSet<String>) -> BTreeMap<String, String> {
    let Some(Value::Object(schemas)) = raw.pointer("/components/schemas") else {
        return BTreeMap::new();
    };
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let all: BTreeSet<String> = schemas.keys().map(|name| names::typify_name(name)).collect();
    let mut renames: Vec<(String, String)> = Vec::new();
    for name in schemas.keys() {
        let rust = names::typify_name(name);
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
                    .or_insert_with(|| Value::Object(Map::new()));
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

/// typify names both the nullable wrapper of a nullable composed component schema (`nullable` beside `oneOf`,
/// `anyOf` or `allOf`) and the composition inside it after the component, and so defines that type twice. In the
/// type document such a schema `X` becomes `X: { nullable: true, allOf: [$ref: XValue] }` beside `XValue`, the
/// schema without `nullable`: `X` is still the type everything refers to (`struct X(Option<XValue>)`). Validators are
/// built from the spec and do not change.
fn split_nullable_compositions(schemas: &mut Value) {
    let Value::Object(map) = schemas else { return };
    let mut taken: BTreeSet<String> = map.keys().map(|name| names::typify_name(name)).collect();
    let needs_split = |schema: &Value| {
        let composed = ["oneOf", "anyOf"].iter().any(|key| {
            schema
                .get(*key)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        }) || schema.get("allOf").and_then(Value::as_array).is_some_and(|parts| {
            // One `$ref` beside `nullable` is how 3.0 makes a reference nullable; typify reads that well.
            !(parts.len() == 1 && parts[0].get("$ref").is_some())
        });
        composed && schema.get("nullable") == Some(&Value::Bool(true))
    };
    let mut out = Map::new();
    for (name, mut schema) in std::mem::take(map) {
        if !needs_split(&schema) {
            out.insert(name, schema);
            continue;
        }
        let inner = (1..)
            .map(|n| {
                if n == 1 {
                    format!("{name}Value")
                } else {
                    format!("{name}Value{n}")
                }
            })
            .find(|candidate| !taken.contains(&names::typify_name(candidate)))
            .unwrap_or_default();
        taken.insert(names::typify_name(&inner));
        if let Value::Object(fields) = &mut schema {
            fields.remove("nullable");
        }
        let mut wrapper = json!({ "nullable": true, "allOf": [{ "$ref": format!("#/components/schemas/{inner}") }] });
        if let Some(description) = schema.get("description") {
            wrapper["description"] = description.clone();
        }
        out.insert(name, wrapper);
        out.insert(inner, schema);
    }
    *map = out;
}

/// A string `enum` whose values typify cannot name as variants (`[=, <, <=, >]`) makes it panic. The type document
/// keeps such a schema as a plain string; the validator, which every body passes before it is decoded, still holds
/// the value to the enum.
fn drop_unnameable_enums(node: &mut Value) {
    for_each_schema(node, &mut |map| {
        if let Some(Value::Array(values)) = map.get("enum") {
            let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
            if strings.len() == values.len() && names::enum_variants_collide(&strings) {
                map.remove("enum");
            }
        }
    });
}

/// A `default` its own schema refuses (`default: "false"` beside `type: boolean`, a value outside the `enum`) makes
/// typify refuse the whole document. Such a default is left out of the type document: the field's type is then an
/// `Option` rather than one with a default. Only the schema's `type` and `enum` are judged; the stub applies no
/// defaults itself, so nothing else changes.
fn drop_nonconforming_defaults(node: &mut Value) {
    for_each_schema(node, &mut |map| {
        if let Some(default) = map.get("default") {
            let nullable = map.get("nullable") == Some(&Value::Bool(true));
            let type_fits = match map.get("type").and_then(Value::as_str) {
                _ if default.is_null() => nullable,
                Some("string") => default.is_string(),
                Some("boolean") => default.is_boolean(),
                Some("integer") => default.is_i64() || default.is_u64(),
                Some("number") => default.is_number(),
                Some("array") => default.is_array(),
                Some("object") => default.is_object(),
                _ => true,
            };
            let enum_fits = match map.get("enum").and_then(Value::as_array) {
                Some(values) => values.contains(default) || (default.is_null() && nullable),
                None => true,
            };
            if !(type_fits && enum_fits) {
                map.remove("default");
            }
        }
    });
}

/// typify gives a required name that no property declares a field of its own (any JSON value). When that field's
/// Rust name is a declared property's (`required: [id]` beside a property `_id`, `json_schema` beside `jsonSchema`),
/// the struct would have two fields of one name and not compile. Such names are left out of the *type's* `required`
/// only: the stub's validator, built from the spec itself and run before every decode, still requires them.
fn drop_shadowed_required(node: &mut Value) {
    for_each_schema(node, &mut |map| {
        if let (Some(Value::Object(properties)), Some(Value::Array(required))) =
            (map.get("properties"), map.get("required"))
        {
            let fields: BTreeSet<String> = properties
                .keys()
                .map(|key| names::field_ident(key).to_string())
                .collect();
            let kept: Vec<Value> = required
                .iter()
                .filter(|name| {
                    name.as_str().is_none_or(|name| {
                        properties.contains_key(name) || !fields.contains(&names::field_ident(name).to_string())
                    })
                })
                .cloned()
                .collect();
            map.insert("required".to_owned(), Value::Array(kept));
        }
    });
}

#[cfg(test)]
#[path = "repair_tests.rs"]
mod tests;

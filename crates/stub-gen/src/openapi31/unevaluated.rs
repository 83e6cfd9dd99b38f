//! `unevaluatedProperties` (JSON Schema 2020-12) said as OpenAPI 3.0's `additionalProperties`, where that is exact.
//!
//! A property is evaluated by the schema's own `properties` and by the subschemas that hold: every `allOf` member and
//! the `$ref`, and those `anyOf`/`oneOf` options the value satisfies. Where every member evaluates exactly its own
//! `properties` (it has no composition, `$ref`, `not`, `additionalProperties` or other keyword that evaluates
//! properties; a `$ref` is followed into `components.schemas`), which properties are evaluated is known for each
//! option, and `unevaluatedProperties: U` is:
//! - without a composition beside it: `additionalProperties: U`;
//! - beside an own `additionalProperties` (which evaluates every other property): nothing;
//! - beside `allOf` or a `$ref`: one more `allOf` member, `{properties: {each evaluated name: {}},
//!   additionalProperties: U}`;
//! - beside `oneOf`/`anyOf` options that exclude each other (a property every option requires, with disjoint
//!   `enum`/`const` values): each option closed over its own properties (and those always evaluated), a copy with
//!   `additionalProperties: U`, so at most one option holds, as before, and it decides the rest;
//! - beside an `anyOf` of at most [`MAX_OVERLAPPING`] options that may overlap: one option per non-empty subset of
//!   them, closed over the subset's properties (a value is valid when some options hold and its other properties are
//!   among theirs, which is 2020-12's reading; every subset of the options that hold says so).
//!
//! Anything else is refused in one line.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::Lowering;
use crate::Error;
use crate::spec::percent_decode;

/// Keywords with which a member evaluates properties other than its `properties`, or ones not known here.
const OPENING: [&str; 11] = [
    "allOf",
    "anyOf",
    "oneOf",
    "$ref",
    "$dynamicRef",
    "not",
    "if",
    "dependentSchemas",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
];

/// The most `anyOf` options that may overlap which are expanded into their subsets (2^n - 1 options).
pub(super) const MAX_OVERLAPPING: usize = 3;

impl Lowering<'_> {
    /// Takes `unevaluatedProperties` out of the schema `map` (before its subschemas are lowered) and says the same
    /// in 3.0, or refuses.
    pub(super) fn unevaluated_properties(&self, map: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
        let Some(unevaluated) = map.remove("unevaluatedProperties") else {
            return Ok(());
        };
        if unevaluated == json!(true) || unevaluated == json!({}) || map.contains_key("additionalProperties") {
            return Ok(());
        }
        let composed = ["allOf", "anyOf", "oneOf", "$ref"].iter().any(|k| map.contains_key(*k));
        if !composed {
            map.insert("additionalProperties".to_owned(), unevaluated);
            return Ok(());
        }
        // Evaluated whichever option holds: the own properties, every `allOf` member's and the `$ref`'s.
        let mut always: BTreeSet<String> = names(map);
        let mut members: Vec<Value> = match map.get("allOf") {
            Some(Value::Array(members)) => members.clone(),
            _ => Vec::new(),
        };
        if let Some(reference) = map.get("$ref") {
            members.push(json!({ "$ref": reference }));
        }
        for member in &members {
            always.extend(self.evaluated(member, at)?);
        }
        let key = match (map.get("anyOf"), map.get("oneOf")) {
            (None, None) => None,
            (Some(_), None) => Some("anyOf"),
            (None, Some(_)) => Some("oneOf"),
            (Some(_), Some(_)) => {
                return Err(self.refuse(
                    at,
                    "unevaluatedProperties",
                    "beside both `anyOf` and `oneOf` it has no OpenAPI 3.0 form",
                ));
            }
        };
        let Some(key) = key else {
            // The `$ref` joins the `allOf`, so the closure is a member beside it rather than a sibling of it.
            let mut all_of = match map.remove("allOf") {
                Some(Value::Array(all_of)) => all_of,
                _ => Vec::new(),
            };
            if let Some(reference) = map.remove("$ref") {
                all_of.insert(0, json!({ "$ref": reference }));
            }
            all_of.push(closure(&always, &unevaluated));
            map.insert("allOf".to_owned(), Value::Array(all_of));
            return Ok(());
        };
        let Some(Value::Array(options)) = map.get(key) else {
            return Err(self.refuse(at, key, "it is not a list of schemas"));
        };
        // An option that admits only null holds for no object, and closing the others changes nothing but objects:
        // the null options stay as they are, and the rest are read alone.
        let (nulls, options): (Vec<Value>, Vec<Value>) = options.iter().cloned().partition(super::is_null_option);
        let options = &options;
        let mut evaluated = Vec::new();
        for option in options {
            evaluated.push(self.evaluated(option, at)?);
        }
        let mut lowered: Vec<Value> = if self.exclusive(options) {
            options
                .iter()
                .zip(&evaluated)
                .map(|(option, own)| self.closed(&[option], &always.union(own).cloned().collect(), &unevaluated))
                .collect()
        } else if key == "anyOf" && options.len() <= MAX_OVERLAPPING {
            (1..1usize << options.len())
                .map(|subset| {
                    let chosen: Vec<usize> = (0..options.len()).filter(|i| subset & (1 << i) != 0).collect();
                    let mut names = always.clone();
                    for i in &chosen {
                        names.extend(evaluated[*i].iter().cloned());
                    }
                    let members: Vec<&Value> = chosen.iter().map(|i| &options[*i]).collect();
                    self.closed(&members, &names, &unevaluated)
                })
                .collect()
        } else {
            return Err(self.refuse(
                at,
                "unevaluatedProperties",
                &format!(
                    "beside `{key}` options that may overlap it has no OpenAPI 3.0 form (served for options that exclude each other by a required property's `enum`/`const`, or an `anyOf` of at most {MAX_OVERLAPPING})"
                ),
            ));
        };
        lowered.extend(nulls);
        map.insert(key.to_owned(), Value::Array(lowered));
        Ok(())
    }

    /// The properties the member `schema` evaluates: its `properties`, when that is all it evaluates.
    fn evaluated(&self, schema: &Value, at: &str) -> Result<BTreeSet<String>, Error> {
        let resolved = self.follow(schema, at)?;
        let Value::Object(map) = resolved else {
            // A boolean schema evaluates nothing.
            return Ok(BTreeSet::new());
        };
        let opening = OPENING
            .iter()
            .find(|k| map.contains_key(**k) && !(**k == "additionalProperties" && map[**k] == json!(false)));
        if let Some(keyword) = opening {
            return Err(self.refuse(
                at,
                "unevaluatedProperties",
                &format!(
                    "a member of the composition beside it has `{keyword}`, so which properties it evaluates is not known here"
                ),
            ));
        }
        Ok(names(map))
    }

    /// `schema`, its `$ref` (into `components.schemas`) followed once, as written.
    fn follow<'s>(&'s self, schema: &'s Value, at: &str) -> Result<&'s Value, Error> {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            return Ok(schema);
        };
        if schema.as_object().is_some_and(|map| map.len() > 1) {
            return Err(self.refuse(
                at,
                "unevaluatedProperties",
                "a member of the composition beside it is a `$ref` with siblings, so which properties it evaluates is not known here",
            ));
        }
        let decoded = percent_decode(reference);
        decoded
            .strip_prefix("#/components/schemas/")
            .filter(|name| !name.contains('/'))
            .map(crate::spec::unescape)
            .and_then(|name| self.schemas.get(&name))
            .ok_or_else(|| {
                self.refuse(
                    at,
                    "unevaluatedProperties",
                    &format!(
                        "a member of the composition beside it is `$ref: {reference}`, which is not a component schema"
                    ),
                )
            })
    }

    /// Whether at most one of `options` can hold: there is one, or each requires one property, whose `enum`/`const`
    /// values differ.
    fn exclusive(&self, options: &[Value]) -> bool {
        let resolved: Vec<&Map<String, Value>> = options
            .iter()
            .filter_map(|option| self.follow(option, "").ok().and_then(Value::as_object))
            .collect();
        if resolved.len() != options.len() || resolved.is_empty() {
            return false;
        }
        if resolved.len() == 1 {
            return true;
        }
        let required = |map: &Map<String, Value>| -> BTreeSet<String> {
            map.get("required")
                .and_then(Value::as_array)
                .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let mut shared = required(resolved[0]);
        for map in &resolved[1..] {
            shared = shared.intersection(&required(map)).cloned().collect();
        }
        shared.iter().any(|name| {
            let mut seen: Vec<&Value> = Vec::new();
            resolved.iter().all(|map| {
                let property = map.get("properties").and_then(|p| p.get(name));
                let Some(property) = property.and_then(|p| self.follow(p, "").ok()) else {
                    return false;
                };
                let values: Vec<&Value> = match (property.get("const"), property.get("enum")) {
                    (Some(value), _) => vec![value],
                    (None, Some(Value::Array(values))) => values.iter().collect(),
                    _ => return false,
                };
                let disjoint = values.iter().all(|value| !seen.contains(value));
                seen.extend(values);
                disjoint
            })
        })
    }

    /// The options `members` (all of them holding) with no property outside `names` unless `unevaluated` holds: one
    /// member is copied (a `$ref` by its target) with `additionalProperties`; several are an `allOf` beside the
    /// closure.
    fn closed(&self, members: &[&Value], names: &BTreeSet<String>, unevaluated: &Value) -> Value {
        if let [member] = members
            && let Ok(Value::Object(resolved)) = self.follow(member, "")
        {
            let mut copy = resolved.clone();
            if let Value::Object(properties) = copy.entry("properties").or_insert_with(|| json!({})) {
                for name in names {
                    properties.entry(name.clone()).or_insert_with(|| json!({}));
                }
            }
            copy.insert("additionalProperties".to_owned(), unevaluated.clone());
            return Value::Object(copy);
        }
        let mut all_of: Vec<Value> = members.iter().map(|member| (*member).clone()).collect();
        all_of.push(closure(names, unevaluated));
        json!({ "allOf": all_of })
    }
}

/// The names under a schema's `properties`.
fn names(map: &Map<String, Value>) -> BTreeSet<String> {
    match map.get("properties") {
        Some(Value::Object(properties)) => properties.keys().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

/// `{properties: {each of names: {}}, additionalProperties: unevaluated}`: no other property unless it holds.
fn closure(names: &BTreeSet<String>, unevaluated: &Value) -> Value {
    let properties: Map<String, Value> = names.iter().map(|name| (name.clone(), json!({}))).collect();
    json!({ "properties": properties, "additionalProperties": unevaluated })
}

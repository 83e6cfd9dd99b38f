//! `$dynamicRef` (JSON Schema 2020-12) resolved statically, where the document's shape lets it be read that way;
//! refused in one line otherwise.
//!
//! The served shape is the one 2020-12 gives for generics (`PaginatedResource<T>`): a component schema `G` with an
//! `$id` holds a `$dynamicRef: '#name'` and, in its `$defs`, the default `{$dynamicAnchor: name, …}`; each binding
//! site is a schema of its own `$id` that is only `$ref: G` beside `$defs: {…: {$dynamicAnchor: name, …}}` (and
//! annotations). A `$dynamicRef` resolves to the outermost schema resource in the dynamic scope that declares the
//! anchor. Here only `G` and the binding sites declare it, and neither `G`, its default nor any binding reaches `G`
//! or a binding site again through `$ref`, so that resource is the binding site evaluation entered through, else
//! `G` itself. So each binding site is written as a copy of `G` with the binding in place of the `$dynamicRef`
//! (monomorphised, as a generic is), and `G` with its default in place.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{ANNOTATIONS, Lowering, child};
use crate::Error;
use crate::spec::percent_decode;

/// What a binding site holds beside the annotations: its resource, the generic and the binding (OpenAPI's `xml` and
/// `externalDocs` annotate too).
const SITE_KEYWORDS: [&str; 7] = ["$id", "$ref", "$defs", "$schema", "$comment", "xml", "externalDocs"];

/// What the walk of the document found.
#[derive(Default)]
struct Found {
    /// (pointer of the schema holding it, the anchor name it refers to)
    dynamic_refs: Vec<(String, String)>,
    /// (pointer of the schema declaring it, name)
    anchors: Vec<(String, String)>,
    /// Every `$ref` target, decoded.
    refs: Vec<String>,
}

/// One generic schema and its binding sites.
struct Generic {
    /// Pointer of `G`.
    at: String,
    /// The key in `G.$defs` of the default.
    default: String,
    /// (pointer of the binding site, its key in `$defs`)
    bindings: Vec<(String, String)>,
}

impl Lowering<'_> {
    /// Resolves every `$dynamicRef` in the document `raw`, or refuses.
    pub(super) fn dynamic_refs(&self, raw: &mut Value) -> Result<(), Error> {
        let mut found = Found::default();
        walk(raw, &mut String::new(), &mut found);
        if found.dynamic_refs.is_empty() {
            return Ok(());
        }
        let names: BTreeSet<&String> = found.dynamic_refs.iter().map(|(_, name)| name).collect();
        let mut generics: BTreeMap<String, Generic> = BTreeMap::new();
        for name in names {
            generics.insert(name.clone(), self.generic(raw, name, &found)?);
        }
        for (name, generic) in &generics {
            let template = raw.pointer(&generic.at).cloned().unwrap_or_default();
            for (site, key) in &generic.bindings {
                let Some(Value::Object(binding_site)) = raw.pointer(site).cloned() else {
                    continue;
                };
                let binding = binding_site
                    .get("$defs")
                    .and_then(|defs| defs.get(key))
                    .cloned()
                    .unwrap_or_default();
                let mut copy = instantiate(&template, name, &binding, None);
                if let Value::Object(copy) = &mut copy {
                    // The binding site's own annotations (and other `$defs`) stay with it.
                    for (k, v) in binding_site {
                        match k.as_str() {
                            "$id" | "$ref" => {}
                            "$defs" => {
                                let mut others = v.as_object().cloned().unwrap_or_default();
                                others.remove(key);
                                if !others.is_empty() {
                                    copy.insert(k, Value::Object(others));
                                }
                            }
                            _ => {
                                copy.insert(k, v);
                            }
                        }
                    }
                }
                if let Some(slot) = raw.pointer_mut(site) {
                    *slot = copy;
                }
            }
            let default = template
                .get("$defs")
                .and_then(|defs| defs.get(&generic.default))
                .cloned()
                .unwrap_or_default();
            let resolved = instantiate(&template, name, &default, Some(&generic.default));
            if let Some(slot) = raw.pointer_mut(&generic.at) {
                *slot = resolved;
            }
        }
        Ok(())
    }

    /// The generic schema whose `$dynamicRef`s name `name`, checked to have the served shape.
    fn generic(&self, raw: &Value, name: &str, found: &Found) -> Result<Generic, Error> {
        let refs: Vec<&String> = found
            .dynamic_refs
            .iter()
            .filter(|(_, n)| n == name)
            .map(|(at, _)| at)
            .collect();
        let first = refs[0];
        let refuse = |why: String| self.refuse(first, "$dynamicRef", &why);
        // `G`: the component schema holding the first reference; every other must be in it too.
        let segments: Vec<&str> = first.split('/').collect();
        let at = match segments.as_slice() {
            ["", "components", "schemas", g, ..] => format!("/components/schemas/{g}"),
            _ => {
                return Err(refuse(
                    "it is not inside a component schema, so it has no static reading here".to_owned(),
                ));
            }
        };
        if let Some(other) = refs.iter().find(|r| !under(r, &at)) {
            return Err(refuse(format!(
                "`#{name}` is also referred to dynamically at {other}, outside {at}; only one generic schema per anchor is read"
            )));
        }
        let generic = raw.pointer(&at).and_then(Value::as_object);
        if !generic.is_some_and(|g| g.contains_key("$id")) {
            return Err(refuse(format!(
                "{at} has no `$id`, so its anchor belongs to the whole document and no binding can be told apart"
            )));
        }
        let mut default = None;
        let mut bindings = Vec::new();
        for (anchor_at, _) in found.anchors.iter().filter(|(_, n)| n == name) {
            let Some((holder, key)) = anchor_at.rsplit_once("/$defs/") else {
                return Err(refuse(format!(
                    "the anchor `{name}` at {anchor_at} is not under `$defs`; only a default in the generic schema's `$defs` and bindings in `$defs` beside `$ref` to it are read"
                )));
            };
            let key = crate::spec::unescape(key);
            if holder == at {
                default = Some(key);
                continue;
            }
            let site = raw.pointer(holder).and_then(Value::as_object);
            let binds = site.is_some_and(|site| {
                site.contains_key("$id")
                    && site.get("$ref").and_then(Value::as_str).map(percent_decode) == Some(format!("#{at}"))
                    && site
                        .keys()
                        .all(|k| SITE_KEYWORDS.contains(&k.as_str()) || ANNOTATIONS.contains(&k.as_str()))
            });
            if !binds || under(holder, &at) {
                return Err(refuse(format!(
                    "the anchor `{name}` at {anchor_at} is not a binding site (a schema with its own `$id` that is only `$ref: '#{at}'` beside `$defs`)"
                )));
            }
            bindings.push((holder.to_owned(), key));
        }
        let Some(default) = default else {
            return Err(refuse(format!(
                "{at} declares no `$dynamicAnchor: {name}` in its `$defs`, so the reference is a plain one; write `$ref`"
            )));
        };
        // Nested resources or generics reached again would make the dynamic scope deeper than one binding.
        let nested = found.anchors.iter().any(|(a, n)| n != name && under(a, &at));
        if nested {
            return Err(refuse(format!("{at} declares anchors of other names too")));
        }
        let sites: Vec<&String> = bindings.iter().map(|(site, _)| site).collect();
        let mut starts = vec![at.clone()];
        starts.extend(bindings.iter().map(|(site, key)| child(&child(site, "$defs"), key)));
        for reached in Self::reachable(raw, &starts) {
            if reached == at || under(&reached, &at) || sites.iter().any(|site| under(&reached, site)) {
                return Err(refuse(format!(
                    "{at} or one of its bindings reaches {reached} again through `$ref`, which makes the dynamic scope deeper than one binding"
                )));
            }
        }
        let holders: Vec<String> = std::iter::once(child(&child(&at, "$defs"), &default))
            .chain(bindings.iter().map(|(site, key)| child(&child(site, "$defs"), key)))
            .collect();
        let points_at_holder = |target: &&String| {
            target
                .strip_prefix('#')
                .is_some_and(|pointer| holders.iter().any(|holder| under(pointer, holder)))
        };
        if let Some(target) = found.refs.iter().find(points_at_holder) {
            return Err(refuse(format!(
                "`$ref: {target}` points at a `$dynamicAnchor` schema, which is written in place of the references"
            )));
        }
        Ok(Generic { at, default, bindings })
    }

    /// The pointers every `$ref` under `starts` leads to, followed transitively.
    fn reachable(raw: &Value, starts: &[String]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: Vec<String> = starts.to_vec();
        while let Some(at) = queue.pop() {
            let Some(node) = raw.pointer(&at) else { continue };
            let mut found = Found::default();
            walk(node, &mut String::new(), &mut found);
            for target in found.refs {
                let Some(pointer) = target.strip_prefix('#') else {
                    continue;
                };
                if seen.insert(pointer.to_owned()) {
                    queue.push(pointer.to_owned());
                }
            }
        }
        seen
    }
}

/// Whether the pointer `at` is `prefix` or under it.
fn under(at: &str, prefix: &str) -> bool {
    at.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `template` (the generic schema as written) with each `$dynamicRef: '#name'` replaced by `binding` (its
/// `$dynamicAnchor` dropped), without its `$id` and without the default (`default`, a key of its `$defs`; all its
/// `$defs` for a copy, whose references point at the generic's own).
fn instantiate(template: &Value, name: &str, binding: &Value, default: Option<&str>) -> Value {
    let mut binding = binding.clone();
    if let Value::Object(map) = &mut binding {
        map.remove("$dynamicAnchor");
    }
    let mut copy = template.clone();
    if let Value::Object(map) = &mut copy {
        map.remove("$id");
        match default {
            Some(key) => {
                if let Some(Value::Object(defs)) = map.get_mut("$defs") {
                    defs.remove(key);
                    if defs.is_empty() {
                        map.remove("$defs");
                    }
                }
            }
            None => {
                map.remove("$defs");
            }
        }
    }
    replace(&mut copy, &format!("#{name}"), &binding);
    copy
}

/// Every `{$dynamicRef: target, …}` under `node` made the schema `binding` beside its other keywords.
fn replace(node: &mut Value, target: &str, binding: &Value) {
    match node {
        Value::Object(map) => {
            if map.get("$dynamicRef").and_then(Value::as_str) == Some(target) {
                map.remove("$dynamicRef");
                let pure_ref = binding.as_object().filter(|b| b.len() == 1 && b.contains_key("$ref"));
                if map.is_empty() {
                    *node = binding.clone();
                    return;
                }
                match pure_ref {
                    Some(reference) if !map.contains_key("$ref") => map.extend(reference.clone()),
                    _ => {
                        let all_of = map.entry("allOf").or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(members) = all_of {
                            members.push(binding.clone());
                        }
                    }
                }
            }
            map.values_mut().for_each(|value| replace(value, target, binding));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| replace(item, target, binding)),
        _ => {}
    }
}

/// Keys whose values are data, not schemas or document structure.
fn is_data(key: &str) -> bool {
    key == "example"
        || key == "examples"
        || key == "const"
        || key == "enum"
        || key == "default"
        || key.starts_with("x-")
}

fn walk(node: &Value, at: &mut String, found: &mut Found) {
    match node {
        Value::Object(map) => {
            if let Some(target) = map.get("$dynamicRef").and_then(Value::as_str) {
                let name = target.strip_prefix('#').unwrap_or(target);
                found.dynamic_refs.push((at.clone(), name.to_owned()));
            }
            if let Some(Value::String(name)) = map.get("$dynamicAnchor") {
                found.anchors.push((at.clone(), name.clone()));
            }
            if let Some(Value::String(target)) = map.get("$ref") {
                found.refs.push(percent_decode(target));
            }
            for (key, value) in map {
                if is_data(key) {
                    continue;
                }
                let len = at.len();
                *at = child(at, key);
                walk(value, at, found);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                *at = child(at, &i.to_string());
                walk(item, at, found);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

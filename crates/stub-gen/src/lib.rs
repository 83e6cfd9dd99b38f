//! The server-stub generator as a library: an OpenAPI 3.0 document -> an axum server stub (an async trait with one
//! method per operation, a response enum per operation, validators and a router) that depends on `stub-runtime`.
//!
//! It does no I/O. Three stages, a file each:
//! - [`spec`]: YAML text -> an `openapiv3` document ([`Spec::parse`]);
//! - [`lower`]: the document -> an [`ir::Api`] of plain data; every refusal happens here, naming the operation and
//!   `file:line`;
//! - [`emit`]: the IR -> tokens, which cannot fail.
//!
//! The schema types are not generated here: the caller passes the type space it shares with the client
//! ([`Types`]), so that client and stub have one definition of every schema.

pub mod emit;
pub mod ir;
pub mod lower;
pub mod names;
pub mod spec;

use std::collections::BTreeSet;

use proc_macro2::TokenStream;

pub use spec::Spec;

/// A spec the generator cannot serve, as one line: `file:line: operation `id`: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    message: String,
    twice_defined: Option<String>,
}

impl Error {
    pub(crate) fn new(message: String) -> Self {
        Self {
            message,
            twice_defined: None,
        }
    }

    /// When the type generator (typify) gave a component schema's Rust name to a type of its own as well (a
    /// property's inline enum, a nullable schema's inner type named after its `title`): that component, as named in
    /// the spec. Renaming it ([`Spec::renaming`]; names are not on the wire) and building the type space again
    /// resolves the refusal.
    pub fn twice_defined(&self) -> Option<&str> {
        self.twice_defined.as_deref()
    }
}

/// The shared type space: its tokens (the body of the `types` module) and the names of the types it defines.
#[derive(Clone, Debug, Default)]
pub struct Types {
    /// The items of the `types` module.
    pub tokens: TokenStream,
    /// typify's name of every type in it.
    pub names: BTreeSet<String>,
}

/// A component schema whose type is hand-written rather than generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// The component schema's name.
    pub schema: String,
    /// The Rust path of the type that replaces it (`crate::SecretValue`).
    pub path: String,
    /// Whether the type's `Deserialize` enforces the schema's constraints itself (so that a valid body can be
    /// decoded in one pass).
    pub validates: bool,
}

/// The project-specific choices; nothing project-specific is a constant inside the generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The path through which generated code reaches the runtime crate.
    pub runtime: String,
    /// The trait's name.
    pub api_trait: String,
    /// Hand-written types for component schemas.
    pub replacements: Vec<Replacement>,
    /// The component schema of the error envelope: error responses with this body are answered by returning a
    /// `Rejection`, not as variants of the response enums.
    pub envelope: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            runtime: "::stub_runtime".to_owned(),
            api_trait: "Api".to_owned(),
            replacements: Vec::new(),
            envelope: None,
        }
    }
}

impl Settings {
    /// The replacement for a component schema, if any.
    pub fn replacement(&self, schema: &str) -> Option<&Replacement> {
        self.replacements.iter().find(|r| r.schema == schema)
    }

    pub(crate) fn runtime_path(&self) -> TokenStream {
        // Checked by `generate` before emitting.
        self.runtime.parse().unwrap_or_default()
    }
}

/// The stub of `spec` as one file: the `types` module ([`types_file`]), then the generator's own items
/// ([`items_file`]).
pub fn generate(spec: &Spec, types: &Types, settings: &Settings) -> Result<syn::File, Error> {
    check_settings(settings)?;
    let mut file = types_file(spec, types.tokens.clone(), settings)?;
    let api = lower::lower(spec, Some(&types.names), settings)?;
    file.items.extend(items_file(spec, &api, settings)?.items);
    Ok(file)
}

/// The first half of a stub: a file holding only the `types` module around the type space's items (`tokens`,
/// [`Types::tokens`]), parsed and checked (see [`Error::twice_defined`]). The halves depend only on the type space, and parsing is most of generation's time on a
/// large spec: a caller may build them on two threads and print each one, their texts one after the other being
/// the stub's file.
pub fn types_file(spec: &Spec, tokens: TokenStream, settings: &Settings) -> Result<syn::File, Error> {
    let Ok(file) = syn::parse2::<syn::File>(emit::types_module(&tokens, &settings.runtime_path())) else {
        return Err(Error::new(format!(
            "{}: the type generator produced code that does not parse",
            spec.path
        )));
    };
    check_types(spec, &file)?;
    Ok(file)
}

/// The second half of a stub (see [`types_file`]): the trait, the per-operation items, the router and the
/// validators of `api`, emitted and parsed. `api` may be lowered without the type space's names (so that this half
/// need not wait for the type space) when [`check_type_names`] then checks it against them.
pub fn items_file(spec: &Spec, api: &ir::Api, settings: &Settings) -> Result<syn::File, Error> {
    check_settings(settings)?;
    parse_items(spec, emit::emit(api, settings))
}

/// Piece `index` of the second half of a stub (see [`emit::pieces`]), emitted and parsed: the pieces' printed texts
/// in order are [`items_file`]'s, so that threads may share the work.
pub fn items_piece(spec: &Spec, api: &ir::Api, settings: &Settings, index: usize) -> Result<syn::File, Error> {
    check_settings(settings)?;
    parse_items(spec, emit::piece(api, settings, index))
}

fn parse_items(spec: &Spec, tokens: TokenStream) -> Result<syn::File, Error> {
    syn::parse2::<syn::File>(tokens).map_err(|err| {
        Error::new(format!(
            "{}: the stub generator emitted code that does not parse (a generator bug): {err}",
            spec.path
        ))
    })
}

/// Whether the type space (`type_names`, [`Types::names`]) defines every schema type that `api` (lowered from
/// `spec` without them) refers to; if not, the refusal that lowering with them gives, naming the operation.
pub fn check_type_names(
    spec: &Spec,
    api: &ir::Api,
    type_names: &BTreeSet<String>,
    settings: &Settings,
) -> Result<(), Error> {
    let Some(missing) = api.type_refs.difference(type_names).next() else {
        return Ok(());
    };
    lower::lower(spec, Some(type_names), settings)?;
    Err(Error::new(format!(
        "{}: the shared type space has no type `{missing}`",
        spec.path
    )))
}

/// The component schema (as named in `spec`) whose Rust name the type space defines twice, if any.
fn twice_defined_component(spec: &Spec, types_file: &syn::File) -> Option<String> {
    let mut seen = BTreeSet::new();
    let twice =
        type_items(types_file).find_map(|(ident, _)| (!seen.insert(ident.to_string())).then(|| ident.to_string()))?;
    component_of(spec, &twice).map(|name| spec.renamed.get(name).cloned().unwrap_or_else(|| name.clone()))
}

/// The types that the `types` module of a [`types_file`] defines: each one's name, and its fields when it is a
/// struct.
fn type_items(types_file: &syn::File) -> impl Iterator<Item = (&syn::Ident, Option<&syn::Fields>)> {
    let module = types_file.items.iter().find_map(|item| match item {
        syn::Item::Mod(module) => module.content.as_ref(),
        _ => None,
    });
    module
        .map(|(_, items)| items.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(type_item)
}

/// A type the type space defines: its name, and its fields when it is a struct.
fn type_item(item: &syn::Item) -> Option<(&syn::Ident, Option<&syn::Fields>)> {
    match item {
        syn::Item::Struct(s) => Some((&s.ident, Some(&s.fields))),
        syn::Item::Enum(e) => Some((&e.ident, None)),
        syn::Item::Type(t) => Some((&t.ident, None)),
        _ => None,
    }
}

/// The component schema (as named in `spec`) whose type typify names `type_name`.
fn component_of<'s>(spec: &'s Spec, type_name: &str) -> Option<&'s String> {
    spec.doc
        .components
        .as_ref()?
        .schemas
        .keys()
        .find(|name| names::typify_name(name) == type_name)
}

/// The type generator (typify) sometimes emits a struct with two fields of one name or two items of one name (seen
/// with `allOf` of a `$ref` beside properties, with a property `_id` beside a required `id`, and with
/// self-referencing nullable schemas). Such a type space would
/// not compile: refuse the spec in one line naming the schema, rather than write code that fails to build.
fn check_types(spec: &Spec, types: &syn::File) -> Result<(), Error> {
    first_type_error(spec, types).map_err(|mut error| {
        error.twice_defined = twice_defined_component(spec, types);
        error
    })
}

fn first_type_error(spec: &Spec, types: &syn::File) -> Result<(), Error> {
    let at = |type_name: &str| match component_of(spec, type_name) {
        Some(name) => spec.at(&spec::pointer(&["components", "schemas", name])),
        None => spec.path.clone(),
    };
    let mut seen = BTreeSet::new();
    for (ident, fields) in type_items(types) {
        let name = ident.to_string();
        if !seen.insert(name.clone()) {
            return Err(Error::new(format!(
                "{}: schema `{name}`: the type generator (typify) defines the type `{name}` twice; this schema is not supported",
                at(&name)
            )));
        }
        let mut field_names = BTreeSet::new();
        for field in fields.into_iter().flatten() {
            if let Some(field_ident) = &field.ident
                && !field_names.insert(field_ident.to_string())
            {
                return Err(Error::new(format!(
                    "{}: schema `{name}`: the type generator (typify) gives it two fields named `{field_ident}` (two properties whose names become one Rust name, such as `_id` and `id`, or an `allOf` whose parts both define one); this schema is not supported",
                    at(&name)
                )));
            }
        }
    }
    Ok(())
}

fn check_settings(settings: &Settings) -> Result<(), Error> {
    if syn::parse_str::<syn::Path>(&settings.runtime).is_err() {
        return Err(Error::new(format!(
            "settings: runtime path `{}` is not a Rust path",
            settings.runtime
        )));
    }
    if syn::parse_str::<syn::Ident>(&settings.api_trait).is_err() {
        return Err(Error::new(format!(
            "settings: trait name `{}` is not an identifier",
            settings.api_trait
        )));
    }
    for replacement in &settings.replacements {
        if syn::parse_str::<syn::Type>(&replacement.path).is_err() {
            return Err(Error::new(format!(
                "settings: replacement `{}` is not a Rust type",
                replacement.path
            )));
        }
    }
    Ok(())
}

/// The document from which to build the type space of a stub when no client generator has built one: this spec's
/// component schemas plus every inline schema that needs a type name, under the name progenitor gives it
/// (`{operationId}-body`, `-response`, …), and no paths. Handing it to the same type generator as the client's
/// (progenitor's, with the same settings) yields the client's definitions, without the client's limits on
/// operations. `api` is `spec` lowered ([`lower::lower`]).
pub fn type_document(spec: &Spec, api: &ir::Api) -> Result<openapiv3::OpenAPI, Error> {
    let mut doc = openapiv3::OpenAPI {
        openapi: spec.doc.openapi.clone(),
        info: spec.doc.info.clone(),
        components: spec.doc.components.clone(),
        ..Default::default()
    };
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in &api.inline_types {
        components
            .schemas
            .insert(name.clone(), openapiv3::ReferenceOr::Item(schema.clone()));
    }
    let mut schemas = serde_json::to_value(&components.schemas)
        .map_err(|err| Error::new(format!("{}: the type document does not serialize: {err}", spec.path)))?;
    drop_shadowed_required(&mut schemas);
    drop_nonconforming_defaults(&mut schemas);
    drop_unnameable_enums(&mut schemas);
    split_nullable_compositions(&mut schemas);
    components.schemas = serde_json::from_value(schemas)
        .map_err(|err| Error::new(format!("{}: the type document does not read back: {err}", spec.path)))?;
    Ok(doc)
}

/// typify names both the nullable wrapper of a nullable composed component schema (`nullable` beside `oneOf`,
/// `anyOf` or `allOf`) and the composition inside it after the component, and so defines that type twice. In the
/// type document such a schema `X` becomes `X: { nullable: true, allOf: [$ref: XValue] }` beside `XValue`, the
/// schema without `nullable`: `X` is still the type everything refers to (`struct X(Option<XValue>)`). Validators are
/// built from the spec and do not change.
fn split_nullable_compositions(schemas: &mut serde_json::Value) {
    use serde_json::{Map, Value, json};
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
/// keeps such a schema as a plain string; the validator still holds the value to the enum, and such a schema never
/// takes the one-pass decode (`typed_complete`).
fn drop_unnameable_enums(node: &mut serde_json::Value) {
    use serde_json::Value;
    spec::for_each_schema(node, &mut |map| {
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
fn drop_nonconforming_defaults(node: &mut serde_json::Value) {
    use serde_json::Value;
    spec::for_each_schema(node, &mut |map| {
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
/// only: the stub's validator, built from the spec itself, still requires them, and a schema with a required name
/// no property declares never takes the one-pass decode (`typed_complete`).
fn drop_shadowed_required(node: &mut serde_json::Value) {
    use serde_json::Value;
    spec::for_each_schema(node, &mut |map| {
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

/// The document with every missing operationId filled in as the stub names it ([`names::operation_id`]), so that a
/// client generated from it names its methods the same way.
pub fn with_operation_ids(mut doc: openapiv3::OpenAPI) -> openapiv3::OpenAPI {
    for (path, item) in doc.paths.paths.iter_mut() {
        if let openapiv3::ReferenceOr::Item(item) = item {
            let ops = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("options", &mut item.options),
                ("head", &mut item.head),
                ("patch", &mut item.patch),
                ("trace", &mut item.trace),
            ];
            for (method, op) in ops {
                if let Some(op) = op
                    && op.operation_id.is_none()
                {
                    op.operation_id = Some(names::operation_id(method, path));
                }
            }
        }
    }
    doc
}

/// Everything [`generate`] would refuse that does not depend on the type space: run it before building one, so that
/// an unsupported construct is reported by operation and line rather than by the type generator's message.
pub fn check(spec: &Spec, settings: &Settings) -> Result<(), Error> {
    check_settings(settings)?;
    lower::lower(spec, None, settings).map(drop)
}

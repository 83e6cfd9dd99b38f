//! The server-stub generator as a library: an OpenAPI 3.0 or 3.1 document -> an axum server stub (an async trait with one
//! method per operation, a response enum per operation, validators and a router) that depends on `stub-runtime`.
//!
//! It does no I/O. Three stages, a file each:
//! - [`spec`]: YAML text -> an `openapiv3` document ([`Spec::parse`]; a 3.1 document lowered to 3.0 first, and a few
//!   repairs of what public specs write, each in a module of its own);
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
mod openapi31;
mod repair;
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
    repair::type_schemas(&mut schemas);
    components.schemas = serde_json::from_value(schemas)
        .map_err(|err| Error::new(format!("{}: the type document does not read back: {err}", spec.path)))?;
    Ok(doc)
}

/// The document with every missing operationId filled in as the stub names it ([`names::operation_id`]), so that a
/// client generated from it names its methods the same way.
pub fn with_operation_ids(mut doc: openapiv3::OpenAPI) -> openapiv3::OpenAPI {
    for (path, item) in doc.paths.paths.iter_mut() {
        if let openapiv3::ReferenceOr::Item(item) = item {
            for method in ir::Method::ALL {
                if let Some(op) = method.slot_mut(item)
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

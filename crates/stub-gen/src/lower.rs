//! Lowering: the spec -> [`ir::Api`]. Every refusal happens here, naming the operation and the spec's `file:line`;
//! what is accepted is described completely enough that emitting cannot fail.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;

use openapiv3::{Components, Operation, Parameter, PathItem, ReferenceOr, Schema, StatusCode};

use crate::ir::{self, Check};
use crate::spec::pointer;
use crate::{Error, Settings, Spec};

mod body;
mod params;
mod responses;
mod schema;
mod security;

/// The spec as the stub generator understands it, or the first thing it cannot serve. `type_names` are typify's
/// names of the types in the shared type space ([`crate::Types::names`]); without them (`None`), references to
/// component schemas are taken on trust: that is [`crate::check`].
pub fn lower(spec: &Spec, type_names: Option<&BTreeSet<String>>, settings: &Settings) -> Result<ir::Api, Error> {
    let items = path_items(spec)?;
    let mut lowering = Lowering {
        spec,
        type_names,
        settings,
        validators: BTreeMap::new(),
        op: String::new(),
        method_names: BTreeMap::new(),
        inline_types: Vec::new(),
        type_refs: BTreeSet::new(),
        response_named: false,
        component_type_names: spec
            .doc
            .components
            .iter()
            .flat_map(|c| c.schemas.keys())
            .map(|name| crate::names::typify_name(name))
            .collect(),
    };
    let mut operations = Vec::new();
    for (path, item) in &items {
        for method in ir::Method::ALL {
            if let Some(op) = method.operation(item) {
                operations.push(lowering.operation(path, method, op, &item.parameters)?);
            }
        }
    }
    let validators = lowering
        .validators
        .into_iter()
        .map(|(name, check)| (name, check.expect("every started validator is finished")))
        .collect();
    Ok(ir::Api {
        title: spec.doc.info.title.clone(),
        version: spec.doc.info.version.clone(),
        operations,
        validators,
        inline_types: lowering.inline_types,
        type_refs: lowering.type_refs,
    })
}

/// Every path item, a local `$ref` resolved (3.0 allows `$ref` on a path item; `#/paths/...` or any other pointer
/// into this document).
fn path_items(spec: &Spec) -> Result<Vec<(String, PathItem)>, Error> {
    let mut items = Vec::new();
    for (path, item) in &spec.doc.paths.paths {
        let item = match item {
            ReferenceOr::Item(item) => item.clone(),
            ReferenceOr::Reference { reference } => {
                let at = spec.at(&pointer(&["paths", path]));
                let target = reference
                    .strip_prefix('#')
                    .and_then(|local| spec.raw.pointer(local))
                    .ok_or_else(|| Error::new(format!("{at}: path `{path}`: `$ref: {reference}` resolves nowhere")))?;
                serde_json::from_value(target.clone()).map_err(|err| {
                    Error::new(format!(
                        "{at}: path `{path}`: `$ref: {reference}` is not a path item: {err}"
                    ))
                })?
            }
        };
        items.push((path.clone(), item));
    }
    Ok(items)
}

pub(crate) struct Lowering<'a> {
    pub(crate) spec: &'a Spec,
    /// typify's name of every type in the shared type space, when known.
    pub(crate) type_names: Option<&'a BTreeSet<String>>,
    pub(crate) settings: &'a Settings,
    /// Component schema name -> its check (`None` while being lowered, for recursion).
    pub(crate) validators: BTreeMap<String, Option<Check>>,
    /// The operation being lowered, for error messages.
    pub(crate) op: String,
    /// Trait method name -> the operationId that has it, to refuse two operations with one method name.
    pub(crate) method_names: BTreeMap<String, String>,
    /// Inline schemas hoisted under the names progenitor gives them.
    pub(crate) inline_types: Vec<(String, Schema)>,
    /// Every named schema type referred to, for [`ir::Api::type_refs`].
    pub(crate) type_refs: BTreeSet<String>,
    /// Whether this operation's `{operationId}-response` name is given already.
    pub(crate) response_named: bool,
    /// typify's name of every component schema (an inline schema must not take one).
    pub(crate) component_type_names: BTreeSet<String>,
}

impl<'a> Lowering<'a> {
    pub(crate) fn fail(&self, at: &str, msg: impl Display) -> Error {
        Error::new(format!("{}: operation `{}`: {msg}", self.spec.at(at), self.op))
    }

    pub(crate) fn components(&self, at: &str) -> Result<&'a Components, Error> {
        let spec: &'a Spec = self.spec;
        spec.doc
            .components
            .as_ref()
            .ok_or_else(|| self.fail(at, "`$ref` used but the spec has no components"))
    }

    /// Follows `$ref`s into `#/components/<section>/`; returns the item and the pointer where it is written.
    pub(crate) fn resolve<T>(
        &self,
        mut item: &'a ReferenceOr<T>,
        mut at: String,
        section: &str,
        lookup: for<'c> fn(&'c Components, &str) -> Option<&'c ReferenceOr<T>>,
    ) -> Result<(&'a T, String), Error> {
        for _ in 0..16 {
            match item {
                ReferenceOr::Item(found) => return Ok((found, at)),
                ReferenceOr::Reference { reference } => {
                    let prefix = format!("#/components/{section}/");
                    let decoded = crate::spec::percent_decode(reference);
                    let name = decoded.strip_prefix(&prefix).map(crate::spec::unescape);
                    let Some(name) = name.as_deref() else {
                        return Err(self.fail(&at, format!("`$ref: {reference}` must point into {prefix}")));
                    };
                    item = lookup(self.components(&at)?, name)
                        .ok_or_else(|| self.fail(&at, format!("`$ref: {reference}` resolves nowhere")))?;
                    at = pointer(&["components", section, name]);
                }
            }
        }
        Err(self.fail(&at, "`$ref` chain too long (a cycle?)"))
    }

    pub(crate) fn schema(&self, schema: &'a ReferenceOr<Schema>, at: &str) -> Result<(&'a Schema, String), Error> {
        self.resolve(schema, at.to_owned(), "schemas", |c, n| c.schemas.get(n))
    }

    fn operation(
        &mut self,
        path: &str,
        method: ir::Method,
        op: &'a Operation,
        shared_params: &'a [ReferenceOr<Parameter>],
    ) -> Result<ir::Operation, Error> {
        let at = pointer(&["paths", path, method.key()]);
        // A missing operationId gets a deterministic name from method and path (documented in the README); the
        // client's generator is handed the same names.
        let id = op
            .operation_id
            .clone()
            .unwrap_or_else(|| crate::names::operation_id(method, path));
        self.op = id.clone();
        self.response_named = false;
        let method_name = crate::names::method_ident(&id).to_string();
        if let Some(other) = self.method_names.insert(method_name.clone(), id.clone()) {
            return Err(self.fail(
                &at,
                format!(
                    "its method name `{method_name}` is also the name of operation `{other}`; rename one operationId"
                ),
            ));
        }
        // Callbacks are requests this server would make, not requests it serves: documented, not generated.
        let security = self.security(op, &at)?;

        // Operation-level parameters override path-level ones of the same name and location.
        let mut params: Vec<ir::Param> = Vec::new();
        let all = shared_params
            .iter()
            .enumerate()
            .map(|(i, p)| (p, pointer(&["paths", path, "parameters", &i.to_string()])))
            .chain(
                op.parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p, format!("{at}/parameters/{i}"))),
            );
        for (param, param_at) in all {
            let Some(param) = self.parameter(param, param_at, security.is_some())? else {
                continue;
            };
            params.retain(|p| !(p.name == param.name && p.location == param.location));
            params.push(param);
        }
        let mut fields: Vec<(ir::Location, String)> = Vec::new();
        for param in &mut params {
            let base = crate::names::field_ident(&param.name).to_string();
            let mut field = base.clone();
            for n in 2.. {
                if !fields.contains(&(param.location, field.clone())) {
                    break;
                }
                field = format!("{base}_{n}");
            }
            fields.push((param.location, field.clone()));
            param.field = field;
        }

        let body = match &op.request_body {
            None => None,
            Some(body) => Some(self.request_body(body, format!("{at}/requestBody"))?),
        };

        let mut responses = Vec::new();
        let mut rejections = Vec::new();
        let statuses = op
            .responses
            .responses
            .iter()
            .map(|(code, response)| {
                let status = match code {
                    StatusCode::Code(code) => ir::Status::Code(*code),
                    StatusCode::Range(hundreds) => ir::Status::Range(*hundreds),
                };
                (status, response)
            })
            .chain(
                op.responses
                    .default
                    .iter()
                    .map(|response| (ir::Status::Default, response)),
            );
        for (status, response) in statuses {
            let response_at = format!("{at}/responses/{status}");
            let error = match status {
                ir::Status::Code(code) => (400..600).contains(&code),
                ir::Status::Range(hundreds) => (4..6).contains(&hundreds),
                ir::Status::Default => true,
            };
            if error && self.is_envelope(response, &response_at)? {
                rejections.push(status);
            } else {
                responses.push(self.response(status, response, response_at)?);
            }
        }

        let summary = op.summary.as_deref().unwrap_or("");
        let description = op.description.as_deref().unwrap_or("");
        let doc = format!("`{} {path}`: {summary}\n\n{description}", method.key().to_uppercase())
            .trim()
            .to_owned();
        Ok(ir::Operation {
            id,
            path: path.to_owned(),
            method,
            doc,
            security,
            params,
            body,
            responses,
            rejections,
        })
    }
}

pub(crate) use crate::spec::escape;

pub(crate) fn is_json(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    // `text/json` is what .NET services call JSON.
    essence == "application/json"
        || essence == "text/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub(crate) fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

//! Lowering: the spec -> [`ir::Api`]. Every refusal happens here, naming the operation and the spec's `file:line`;
//! what is accepted is described completely enough that emitting cannot fail.

use std::collections::BTreeMap;
use std::fmt::Display;

use openapiv3::{Components, Operation, Parameter, ReferenceOr, Schema, StatusCode};

use crate::ir::{self, Check};
use crate::spec::pointer;
use crate::{Error, Settings, Spec, Types};

mod body;
mod params;
mod responses;
mod schema;
mod security;

/// The spec as the stub generator understands it, or the first thing it cannot serve. Without a type space
/// (`None`), references to component schemas are taken on trust: that is [`crate::check`].
pub fn lower(spec: &Spec, types: Option<&Types>, settings: &Settings) -> Result<ir::Api, Error> {
    let mut lowering = Lowering {
        spec,
        types,
        settings,
        validators: BTreeMap::new(),
        op: String::new(),
    };
    let mut operations = Vec::new();
    for (path, item) in &spec.doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            return Err(Error::new(format!(
                "{}: path `{path}` is a $ref; path items must be written inline",
                spec.at(&pointer(&["paths", path]))
            )));
        };
        for (method, op) in item.iter() {
            operations.push(lowering.operation(path, method, op, &item.parameters)?);
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
    })
}

pub(crate) struct Lowering<'a> {
    pub(crate) spec: &'a Spec,
    pub(crate) types: Option<&'a Types>,
    pub(crate) settings: &'a Settings,
    /// Component schema name -> its check (`None` while being lowered, for recursion).
    pub(crate) validators: BTreeMap<String, Option<Check>>,
    /// The operation being lowered, for error messages.
    pub(crate) op: String,
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
                    let Some(name) = reference.strip_prefix(&prefix) else {
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
        method: &str,
        op: &'a Operation,
        shared_params: &'a [ReferenceOr<Parameter>],
    ) -> Result<ir::Operation, Error> {
        let at = pointer(&["paths", path, method]);
        let Some(id) = &op.operation_id else {
            return Err(Error::new(format!(
                "{}: operation {} {path} has no operationId; the stub trait names methods after it",
                self.spec.at(&at),
                method.to_uppercase()
            )));
        };
        self.op = id.clone();
        if !op.callbacks.is_empty() {
            return Err(self.fail(
                &format!("{at}/callbacks"),
                "callbacks are not supported by the server stub",
            ));
        }
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
            let param = self.parameter(param, param_at, security.is_some())?;
            params.retain(|p| !(p.name == param.name && p.location == param.location));
            params.push(param);
        }

        let body = match &op.request_body {
            None => None,
            Some(body) => Some(self.request_body(body, format!("{at}/requestBody"))?),
        };

        if op.responses.default.is_some() {
            return Err(self.fail(
                &format!("{at}/responses/default"),
                "a `default` response is not supported by the server stub; list each status explicitly",
            ));
        }
        let mut responses = Vec::new();
        let mut rejections = Vec::new();
        for (code, response) in &op.responses.responses {
            let StatusCode::Code(code) = code else {
                return Err(self.fail(
                    &format!("{at}/responses/{code}"),
                    format!("status range `{code}` is not supported; list each status explicitly"),
                ));
            };
            let response_at = format!("{at}/responses/{code}");
            if (400..600).contains(code) && self.is_envelope(response, &response_at)? {
                rejections.push(*code);
            } else {
                responses.push(self.response(*code, response, response_at)?);
            }
        }
        if !responses.iter().any(|r| (200..300).contains(&r.code)) {
            return Err(self.fail(&format!("{at}/responses"), "no 2xx response is documented"));
        }

        let summary = op.summary.as_deref().unwrap_or("");
        let description = op.description.as_deref().unwrap_or("");
        let doc = format!("`{} {path}`: {summary}\n\n{description}", method.to_uppercase())
            .trim()
            .to_owned();
        Ok(ir::Operation {
            id: id.clone(),
            path: path.to_owned(),
            method: method.to_owned(),
            doc,
            security,
            params,
            body,
            responses,
            rejections,
        })
    }
}

/// A JSON pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

pub(crate) fn is_json(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub(crate) fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

//! Lowering: the spec -> [`ir::Api`]. Every refusal happens here, naming the operation and the spec's `file:line`;
//! what is accepted is described completely enough that emitting cannot fail.

use std::collections::BTreeMap;
use std::fmt::Display;

use openapiv3::{
    AdditionalProperties, Components, Header, IntegerFormat, Operation, Parameter, ParameterData,
    ParameterSchemaOrContent, ReferenceOr, RequestBody, Response, Schema, SchemaKind, SecurityScheme, StatusCode, Type,
    VariantOrUnknownOrEmpty,
};

use crate::ir::{self, Additional, Check, Location, ScalarKind, StringFormat, TypeRef};
use crate::names::typify_name;
use crate::spec::pointer;
use crate::{Error, Settings, Spec, Types};

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

struct Lowering<'a> {
    spec: &'a Spec,
    types: Option<&'a Types>,
    settings: &'a Settings,
    /// Component schema name -> its check (`None` while being lowered, for recursion).
    validators: BTreeMap<String, Option<Check>>,
    /// The operation being lowered, for error messages.
    op: String,
}

impl<'a> Lowering<'a> {
    fn fail(&self, at: &str, msg: impl Display) -> Error {
        Error::new(format!("{}: operation `{}`: {msg}", self.spec.at(at), self.op))
    }

    fn components(&self, at: &str) -> Result<&'a Components, Error> {
        let spec: &'a Spec = self.spec;
        spec.doc
            .components
            .as_ref()
            .ok_or_else(|| self.fail(at, "`$ref` used but the spec has no components"))
    }

    /// Follows `$ref`s into `#/components/<section>/`; returns the item and the pointer where it is written.
    fn resolve<T>(
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

    fn schema(&self, schema: &'a ReferenceOr<Schema>, at: &str) -> Result<(&'a Schema, String), Error> {
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
        let secured = self.secured(op, &at)?;

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
            let param = self.parameter(param, param_at)?;
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
            secured,
            params,
            body,
            responses,
            rejections,
        })
    }

    /// Whether an error response's body is the envelope schema of the settings (answered with a `Rejection`).
    fn is_envelope(&self, response: &'a ReferenceOr<Response>, at: &str) -> Result<bool, Error> {
        let Some(envelope) = &self.settings.envelope else {
            return Ok(false);
        };
        let (response, _) = self.resolve(response, at.to_owned(), "responses", |c, n| c.responses.get(n))?;
        let target = format!("#/components/schemas/{envelope}");
        let mut media = response.content.values();
        Ok(match (media.next(), media.next()) {
            (Some(content), None) => {
                matches!(&content.schema, Some(ReferenceOr::Reference { reference }) if *reference == target)
            }
            _ => false,
        })
    }

    /// Whether the operation needs a bearer token; other schemes and optional security cannot be generated.
    fn secured(&self, op: &Operation, at: &str) -> Result<bool, Error> {
        let requirements = op.security.as_ref().or(self.spec.doc.security.as_ref());
        let Some(requirements) = requirements.filter(|r| !r.is_empty()) else {
            return Ok(false);
        };
        let at = if op.security.is_some() {
            format!("{at}/security")
        } else {
            "/security".to_owned()
        };
        for requirement in requirements {
            if requirement.is_empty() {
                return Err(self.fail(&at, "optional security (`{}` beside a requirement) is not supported"));
            }
            for name in requirement.keys() {
                let scheme = self
                    .components(&at)?
                    .security_schemes
                    .get(name)
                    .ok_or_else(|| self.fail(&at, format!("security scheme `{name}` is not defined")))?;
                let (scheme, _) = self.resolve(
                    scheme,
                    pointer(&["components", "securitySchemes", name]),
                    "securitySchemes",
                    |c, n| c.security_schemes.get(n),
                )?;
                match scheme {
                    SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {}
                    _ => {
                        return Err(self.fail(
                            &at,
                            format!("security scheme `{name}` is not HTTP bearer; only bearer tokens are supported"),
                        ));
                    }
                }
            }
        }
        Ok(true)
    }

    fn parameter(&mut self, param: &'a ReferenceOr<Parameter>, at: String) -> Result<ir::Param, Error> {
        let (param, at) = self.resolve(param, at, "parameters", |c, n| c.parameters.get(n))?;
        let (data, location) = match param {
            Parameter::Path { parameter_data, .. } => (parameter_data, Location::Path),
            Parameter::Query { parameter_data, .. } => (parameter_data, Location::Query),
            Parameter::Header { parameter_data, .. } => (parameter_data, Location::Header),
            Parameter::Cookie { parameter_data, .. } => {
                return Err(self.fail(
                    &at,
                    format!("cookie parameter `{}` is not supported", parameter_data.name),
                ));
            }
        };
        let ParameterData {
            name,
            description,
            required,
            format,
            ..
        } = data;
        if location == Location::Header
            && ["accept", "content-type", "authorization"].contains(&name.to_ascii_lowercase().as_str())
        {
            return Err(self.fail(
                &at,
                format!("header parameter `{name}` is reserved by OpenAPI; remove it"),
            ));
        }
        let ParameterSchemaOrContent::Schema(schema) = format else {
            return Err(self.fail(
                &at,
                format!("parameter `{name}` uses `content`; only `schema` is supported"),
            ));
        };
        let schema_at = format!("{at}/schema");
        let kind = self.scalar_kind(schema, &schema_at, &format!("parameter `{name}`"))?;
        Ok(ir::Param {
            name: name.clone(),
            location,
            required: *required || location == Location::Path,
            ty: self.value_type(schema, &schema_at)?,
            kind,
            check: self.check(schema, &schema_at)?,
            doc: description.clone(),
        })
    }

    /// The JSON type a parameter's text is converted to; only scalars can be parameters here.
    fn scalar_kind(&self, schema: &'a ReferenceOr<Schema>, at: &str, what: &str) -> Result<ScalarKind, Error> {
        let (schema, at) = self.schema(schema, at)?;
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(_)) => Ok(ScalarKind::String),
            SchemaKind::Type(Type::Integer(_)) => Ok(ScalarKind::Integer),
            SchemaKind::Type(Type::Number(_)) => Ok(ScalarKind::Number),
            SchemaKind::Type(Type::Boolean(_)) => Ok(ScalarKind::Boolean),
            _ => Err(self.fail(
                &at,
                format!("{what} must have a string, integer, number or boolean schema"),
            )),
        }
    }

    fn request_body(&mut self, body: &'a ReferenceOr<RequestBody>, at: String) -> Result<ir::Body, Error> {
        let (body, at) = self.resolve(body, at, "requestBodies", |c, n| c.request_bodies.get(n))?;
        let mut entries = body.content.iter();
        let (Some((media, content)), None) = (entries.next(), entries.next()) else {
            return Err(self.fail(&at, "a request body must have exactly one media type, application/json"));
        };
        let content_at = format!("{at}/content/{}", escape(media));
        if !is_json(media) {
            return Err(self.fail(
                &content_at,
                format!("request body media type `{media}` is not supported; only application/json is"),
            ));
        }
        if !content.encoding.is_empty() {
            return Err(self.fail(&content_at, "`encoding` is not supported"));
        }
        let schema = content
            .schema
            .as_ref()
            .ok_or_else(|| self.fail(&content_at, "the request body has no schema"))?;
        let schema_at = format!("{content_at}/schema");
        let check = self.check(schema, &schema_at)?;
        Ok(ir::Body {
            ty: self.value_type(schema, &schema_at)?,
            required: body.required,
            typed_complete: self.typed_complete(&check, &mut Vec::new()),
            check,
        })
    }

    /// Whether the typed decode alone enforces everything `check` does. Conservative: only the constraints that the
    /// shared types are known to carry (typify's enums, required non-nullable fields, `deny_unknown_fields`, typed
    /// formats, `i32`) and replacement types that validate themselves; anything else takes the violation walk.
    fn typed_complete(&self, check: &Check, seen: &mut Vec<String>) -> bool {
        match check {
            Check::Ref(name) => {
                if let Some(replacement) = self.settings.replacement(name) {
                    return replacement.validates;
                }
                if seen.contains(name) {
                    return true;
                }
                seen.push(name.clone());
                let complete = self
                    .validators
                    .get(name)
                    .and_then(Option::as_ref)
                    .is_some_and(|inner| self.typed_complete(inner, seen));
                seen.pop();
                complete
            }
            Check::Any { .. } | Check::Boolean { .. } => true,
            // chrono's `DateTime` parser accepts more than RFC 3339, so a date-time takes the walk.
            Check::String {
                min_length,
                max_length,
                pattern,
                format,
                ..
            } => {
                min_length.is_none()
                    && max_length.is_none()
                    && pattern.is_none()
                    && *format != Some(StringFormat::DateTime)
            }
            // Enums of integers, bounds and multiples are not carried by plain integer types.
            Check::Integer {
                values,
                minimum,
                maximum,
                multiple_of,
                ..
            } => {
                let int32 = (Some((i128::from(i32::MIN), false)), Some((i128::from(i32::MAX), false)));
                values.is_empty()
                    && multiple_of.is_none()
                    && ((*minimum, *maximum) == (None, None) || (*minimum, *maximum) == int32)
            }
            Check::Number {
                minimum,
                maximum,
                multiple_of,
                ..
            } => minimum.is_none() && maximum.is_none() && multiple_of.is_none(),
            Check::Object {
                required,
                properties,
                additional,
                ..
            } => {
                // A required nullable field decodes as `Option` and so may be missing; maps keep the last of
                // duplicate keys where the walk refuses them.
                let required_nullable = properties
                    .iter()
                    .any(|(key, check)| required.contains(key) && self.nullable(check));
                !required_nullable
                    && !matches!(additional, Additional::Schema(_))
                    && properties.iter().all(|(_, check)| self.typed_complete(check, seen))
            }
            Check::Array {
                min_items,
                max_items,
                items,
                ..
            } => {
                min_items.is_none()
                    && max_items.is_none()
                    && items.as_deref().is_none_or(|items| self.typed_complete(items, seen))
            }
            Check::Wrapped { inner, .. } => self.typed_complete(inner, seen),
        }
    }

    fn nullable(&self, check: &Check) -> bool {
        match check {
            Check::Ref(name) => self
                .validators
                .get(name)
                .and_then(Option::as_ref)
                .is_some_and(|inner| self.nullable(inner)),
            Check::Any { nullable }
            | Check::String { nullable, .. }
            | Check::Integer { nullable, .. }
            | Check::Number { nullable, .. }
            | Check::Boolean { nullable }
            | Check::Object { nullable, .. }
            | Check::Array { nullable, .. }
            | Check::Wrapped { nullable, .. } => *nullable,
        }
    }

    fn response(&mut self, code: u16, response: &'a ReferenceOr<Response>, at: String) -> Result<ir::Response, Error> {
        if !(200..600).contains(&code) {
            return Err(self.fail(&at, format!("status {code} is not supported")));
        }
        let (response, at) = self.resolve(response, at, "responses", |c, n| c.responses.get(n))?;
        if !response.links.is_empty() {
            return Err(self.fail(&format!("{at}/links"), "links are not supported"));
        }
        let body = match response.content.iter().next() {
            None => None,
            Some((media, content)) => {
                let content_at = format!("{at}/content/{}", escape(media));
                if response.content.len() > 1 || !is_json(media) {
                    return Err(self.fail(
                        &content_at,
                        format!("response {code} media type `{media}` is not supported; only application/json is"),
                    ));
                }
                let schema = content
                    .schema
                    .as_ref()
                    .ok_or_else(|| self.fail(&content_at, format!("response {code} has no schema")))?;
                Some(self.value_type(schema, &format!("{content_at}/schema"))?)
            }
        };
        let mut headers = Vec::new();
        for (name, header) in &response.headers {
            let header_at = format!("{at}/headers/{}", escape(name));
            let (header, header_at) = self.resolve(header, header_at, "headers", |c, n| c.headers.get(n))?;
            let Header {
                description,
                required,
                format,
                ..
            } = header;
            let ParameterSchemaOrContent::Schema(schema) = format else {
                return Err(self.fail(
                    &header_at,
                    format!("header `{name}` uses `content`; only `schema` is supported"),
                ));
            };
            let schema_at = format!("{header_at}/schema");
            self.scalar_kind(schema, &schema_at, &format!("response header `{name}`"))?;
            headers.push(ir::ResponseHeader {
                name: name.to_ascii_lowercase(),
                ty: self.value_type(schema, &schema_at)?,
                required: *required,
                doc: description.clone(),
            });
        }
        Ok(ir::Response {
            code,
            body,
            headers,
            doc: format!("{code}: {}", response.description.trim()),
        })
    }

    /// The Rust type of a value: the shared type for a component schema, else a plain type for inline scalars and
    /// arrays. Inline objects and enums would need a name of their own: they must move to components.
    fn value_type(&self, schema: &ReferenceOr<Schema>, at: &str) -> Result<TypeRef, Error> {
        let schema = match schema {
            ReferenceOr::Reference { reference } => return self.component_type(reference, at),
            ReferenceOr::Item(schema) => schema,
        };
        let ty = match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => match &t.format {
                VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::DateTime) => TypeRef::DateTime,
                VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Date) => TypeRef::Date,
                VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => TypeRef::Uuid,
                _ => TypeRef::String,
            },
            SchemaKind::Type(Type::Integer(t)) => match t.format {
                VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => TypeRef::I32,
                _ => TypeRef::I64,
            },
            SchemaKind::Type(Type::Number(_)) => TypeRef::F64,
            SchemaKind::Type(Type::Boolean(_)) => TypeRef::Bool,
            SchemaKind::Type(Type::Array(a)) => {
                let items = a
                    .items
                    .as_ref()
                    .ok_or_else(|| self.fail(at, "an array schema needs `items`"))?;
                TypeRef::Vec(Box::new(
                    self.value_type(&items.clone().unbox(), &format!("{at}/items"))?,
                ))
            }
            _ => {
                return Err(self.fail(
                    at,
                    "an inline object, enum or composed schema here has no shared type name; move it to components/schemas and `$ref` it",
                ));
            }
        };
        Ok(if schema.schema_data.nullable {
            TypeRef::Option(Box::new(ty))
        } else {
            ty
        })
    }

    fn component_type(&self, reference: &str, at: &str) -> Result<TypeRef, Error> {
        let name = component_name(reference)
            .ok_or_else(|| self.fail(at, format!("`$ref: {reference}` must point into #/components/schemas/")))?;
        if let Some(replacement) = self.settings.replacement(name) {
            return Ok(TypeRef::Replaced(replacement.path.clone()));
        }
        let type_name = typify_name(name);
        if self.types.is_some_and(|types| !types.names.contains(&type_name)) {
            return Err(self.fail(
                at,
                format!("the shared type space has no type `{type_name}` for `{reference}`"),
            ));
        }
        Ok(TypeRef::Named(type_name))
    }

    /// What a value must satisfy, validated against `v: &serde_json::Value` by the emitted code.
    fn check(&mut self, schema: &ReferenceOr<Schema>, at: &str) -> Result<Check, Error> {
        match schema {
            ReferenceOr::Reference { reference } => {
                let name = component_name(reference).ok_or_else(|| {
                    self.fail(at, format!("`$ref: {reference}` must point into #/components/schemas/"))
                })?;
                self.validator(name, at)?;
                Ok(Check::Ref(name.to_owned()))
            }
            ReferenceOr::Item(schema) => self.check_schema(schema, at),
        }
    }

    fn check_boxed(&mut self, schema: &ReferenceOr<Box<Schema>>, at: &str) -> Result<Check, Error> {
        self.check(&schema.clone().unbox(), at)
    }

    /// Lowers (once) the check of a component schema.
    fn validator(&mut self, name: &str, at: &str) -> Result<(), Error> {
        if self.validators.contains_key(name) {
            return Ok(());
        }
        self.validators.insert(name.to_owned(), None);
        let schema = self
            .components(at)?
            .schemas
            .get(name)
            .ok_or_else(|| self.fail(at, format!("schema `{name}` is not defined")))?;
        let check = self.check(schema, &pointer(&["components", "schemas", name]))?;
        self.validators.insert(name.to_owned(), Some(check));
        Ok(())
    }

    fn check_schema(&mut self, schema: &Schema, at: &str) -> Result<Check, Error> {
        let nullable = schema.schema_data.nullable;
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                if let Some(pattern) = &t.pattern
                    && let Err(err) = regex::Regex::new(pattern)
                {
                    // regex's message draws the pattern over several lines; its last line says what is wrong.
                    let text = err.to_string();
                    let why = text.lines().last().unwrap_or("").trim().trim_start_matches("error: ");
                    return Err(self.fail(&format!("{at}/pattern"), format!("pattern does not compile: {why}")));
                }
                Check::String {
                    nullable: nullable || t.enumeration.iter().any(Option::is_none),
                    values: t.enumeration.iter().flatten().cloned().collect(),
                    min_length: t.min_length,
                    max_length: t.max_length,
                    pattern: t.pattern.clone(),
                    format: match &t.format {
                        VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::DateTime) => {
                            Some(StringFormat::DateTime)
                        }
                        VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Date) => Some(StringFormat::Date),
                        VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => Some(StringFormat::Uuid),
                        _ => None,
                    },
                }
            }
            SchemaKind::Type(Type::Integer(t)) => {
                // int32 fields cannot hold more: the format is a bound.
                let int32 = matches!(t.format, VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32));
                let implied = |n: i32| int32.then_some(i128::from(n));
                Check::Integer {
                    nullable: nullable || t.enumeration.iter().any(Option::is_none),
                    values: t.enumeration.iter().flatten().map(|n| i128::from(*n)).collect(),
                    minimum: t
                        .minimum
                        .map(|m| (i128::from(m), t.exclusive_minimum))
                        .or(implied(i32::MIN).map(|m| (m, false))),
                    maximum: t
                        .maximum
                        .map(|m| (i128::from(m), t.exclusive_maximum))
                        .or(implied(i32::MAX).map(|m| (m, false))),
                    multiple_of: t.multiple_of.map(|f| f as f64),
                }
            }
            SchemaKind::Type(Type::Number(t)) => {
                if t.enumeration.iter().any(Option::is_some) {
                    return Err(self.fail(at, "a number `enum` is not supported; use integers or strings"));
                }
                Check::Number {
                    nullable,
                    minimum: t.minimum.map(|m| (m, t.exclusive_minimum)),
                    maximum: t.maximum.map(|m| (m, t.exclusive_maximum)),
                    multiple_of: t.multiple_of,
                }
            }
            SchemaKind::Type(Type::Boolean(t)) => {
                if !t.enumeration.is_empty() {
                    return Err(self.fail(at, "a boolean `enum` is not supported"));
                }
                Check::Boolean { nullable }
            }
            SchemaKind::Type(Type::Object(o)) => {
                if o.min_properties.is_some() || o.max_properties.is_some() {
                    return Err(self.fail(at, "`minProperties`/`maxProperties` are not supported"));
                }
                let mut properties = Vec::new();
                for (key, property) in &o.properties {
                    let check = self.check_boxed(property, &format!("{at}/properties/{}", escape(key)))?;
                    properties.push((key.clone(), check));
                }
                let additional = match &o.additional_properties {
                    Some(AdditionalProperties::Any(false)) => Additional::None,
                    Some(AdditionalProperties::Schema(extra)) => {
                        Additional::Schema(Box::new(self.check(extra, &format!("{at}/additionalProperties"))?))
                    }
                    Some(AdditionalProperties::Any(true)) | None => Additional::Any,
                };
                Check::Object {
                    nullable,
                    required: o.required.clone(),
                    properties,
                    additional,
                }
            }
            SchemaKind::Type(Type::Array(a)) => {
                if a.unique_items {
                    return Err(self.fail(at, "`uniqueItems` is not supported"));
                }
                let items = match &a.items {
                    Some(item) => Some(Box::new(self.check_boxed(item, &format!("{at}/items"))?)),
                    None => None,
                };
                Check::Array {
                    nullable,
                    min_items: a.min_items,
                    max_items: a.max_items,
                    items,
                }
            }
            // `allOf: [$ref]` is how 3.0 specs attach `nullable` or a description to a reference.
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => Check::Wrapped {
                nullable,
                inner: Box::new(self.check(&all_of[0], &format!("{at}/allOf/0"))?),
            },
            SchemaKind::Any(any) if *any == openapiv3::AnySchema::default() => Check::Any { nullable },
            SchemaKind::Any(_) => {
                return Err(self.fail(at, "a schema without `type` is not supported here; add `type`"));
            }
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } | SchemaKind::AllOf { .. } | SchemaKind::Not { .. } => {
                return Err(self.fail(
                    at,
                    "oneOf/anyOf/allOf/not in a request schema is not supported by the validator",
                ));
            }
        })
    }
}

/// A JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn is_json(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

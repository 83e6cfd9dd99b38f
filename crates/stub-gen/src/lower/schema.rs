//! Schemas: the Rust type a schema names, and the checks it implies for the validators.

use openapiv3::{AdditionalProperties, IntegerFormat, ReferenceOr, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty};

use super::{Lowering, component_name, escape};
use crate::Error;
use crate::ir::{self, Additional, Check, StringFormat, TypeRef};
use crate::names::typify_name;
use crate::spec::pointer;

impl<'a> Lowering<'a> {
    /// The Rust type of a value: the shared type for a component schema, else a plain type for inline scalars and
    /// arrays. Inline objects and enums would need a name of their own: they must move to components.
    pub(super) fn value_type(&mut self, schema: &ReferenceOr<Schema>, at: &str) -> Result<TypeRef, Error> {
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
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => TypeRef::Vec(Box::new(
                    self.value_type(&items.clone().unbox(), &format!("{at}/items"))?,
                )),
                // No `items`: any JSON values.
                None => TypeRef::Vec(Box::new(TypeRef::Value)),
            },
            SchemaKind::Type(Type::Object(o)) if free_form(o) => TypeRef::Map,
            SchemaKind::Any(any) if *any == openapiv3::AnySchema::default() => TypeRef::Value,
            // An enum of several JSON types is a JSON value; the validator holds it to the enum.
            SchemaKind::Any(any) if super::params::mixed_scalar_enum(any) => TypeRef::Value,
            // A single-member `allOf` (pydantic's `Optional[X]` of a `$ref`, lowered from 3.1) is that member's type,
            // as typify reads it; constraints beside it only narrow it, and the validator checks them.
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => {
                match self.value_type(&all_of[0], &format!("{at}/allOf/0"))? {
                    ty @ TypeRef::Option(_) => return Ok(ty),
                    ty => ty,
                }
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

    /// The Rust type of a value at a position progenitor names (`{operationId}-body`, `-response`, …): an inline
    /// object, enum or composed schema is hoisted under that name (sanitized as typify does), so that the type space
    /// built from [`crate::type_document`] defines it exactly as the client's generator names it.
    pub(super) fn named_type(&mut self, schema: &ReferenceOr<Schema>, at: &str, name: &str) -> Result<TypeRef, Error> {
        let ReferenceOr::Item(inline) = schema else {
            return self.value_type(schema, at);
        };
        let needs_name = match &inline.schema_kind {
            SchemaKind::Type(Type::String(t)) => !t.enumeration.is_empty(),
            SchemaKind::Type(Type::Object(o)) => !free_form(o),
            SchemaKind::Type(Type::Array(a)) => {
                // typify names the items of a named array `{name}Item`.
                if let Some(items) = &a.items {
                    let items =
                        self.named_type(&items.clone().unbox(), &format!("{at}/items"), &format!("{name}-item"))?;
                    let ty = TypeRef::Vec(Box::new(items));
                    return Ok(if inline.schema_data.nullable {
                        TypeRef::Option(Box::new(ty))
                    } else {
                        ty
                    });
                }
                false
            }
            SchemaKind::Type(_) => false,
            SchemaKind::Any(any) => *any != openapiv3::AnySchema::default(),
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } | SchemaKind::AllOf { .. } | SchemaKind::Not { .. } => {
                true
            }
        };
        if !needs_name {
            return self.value_type(schema, at);
        }
        let type_name = typify_name(name);
        if self.type_names.is_some_and(|names| !names.contains(&type_name)) {
            return Err(self.fail(
                at,
                format!("the shared type space has no type `{type_name}` for this inline schema"),
            ));
        }
        if self.component_type_names.contains(&type_name) {
            return Err(self.fail(
                at,
                format!("this inline schema would be named `{type_name}`, which a component schema is already called; move it to components/schemas"),
            ));
        }
        // Nullable stays outside the name, as for a `$ref`: the named type is the object, the value may be null.
        let mut hoisted = inline.clone();
        hoisted.schema_data.nullable = false;
        if !self.inline_types.iter().any(|(n, _)| *n == type_name) {
            self.inline_types.push((type_name.clone(), hoisted));
        }
        self.type_refs.insert(type_name.clone());
        let ty = TypeRef::Named(type_name);
        Ok(if inline.schema_data.nullable {
            TypeRef::Option(Box::new(ty))
        } else {
            ty
        })
    }

    pub(super) fn component_type(&mut self, reference: &str, at: &str) -> Result<TypeRef, Error> {
        let name = component_name(reference)
            .ok_or_else(|| self.fail(at, format!("`$ref: {reference}` must point into #/components/schemas/")))?;
        if let Some(replacement) = self.settings.replacement(name) {
            return Ok(TypeRef::Replaced(replacement.path.clone()));
        }
        let type_name = typify_name(name);
        if self.type_names.is_some_and(|names| !names.contains(&type_name)) {
            return Err(self.fail(
                at,
                format!("the shared type space has no type `{type_name}` for `{reference}`"),
            ));
        }
        self.type_refs.insert(type_name.clone());
        Ok(TypeRef::Named(type_name))
    }

    /// What a value must satisfy, validated against `v: &serde_json::Value` by the emitted code.
    pub(super) fn check(&mut self, schema: &ReferenceOr<Schema>, at: &str) -> Result<Check, Error> {
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

    pub(super) fn check_boxed(&mut self, schema: &ReferenceOr<Box<Schema>>, at: &str) -> Result<Check, Error> {
        self.check(&schema.clone().unbox(), at)
    }

    fn checks(&mut self, schemas: &[ReferenceOr<Schema>], at: &str) -> Result<Vec<Check>, Error> {
        let mut checks = Vec::new();
        for (i, schema) in schemas.iter().enumerate() {
            checks.push(self.check(schema, &format!("{at}/{i}"))?);
        }
        Ok(checks)
    }

    /// The values of a discriminator and the check each selects: its `mapping`, else each `$ref`'d option under its
    /// component name.
    fn discriminator(
        &mut self,
        d: &openapiv3::Discriminator,
        schemas: &[ReferenceOr<Schema>],
        options: &[Check],
        at: &str,
    ) -> Result<ir::Discriminator, Error> {
        let mut mapping = Vec::new();
        if d.mapping.is_empty() {
            for (schema, check) in schemas.iter().zip(options) {
                if let ReferenceOr::Reference { reference } = schema
                    && let Some(name) = component_name(reference)
                {
                    mapping.push((name.to_owned(), check.clone()));
                }
            }
        } else {
            for (value, target) in &d.mapping {
                let reference = if target.starts_with('#') {
                    target.clone()
                } else {
                    format!("#/components/schemas/{target}")
                };
                let check = self.check(
                    &ReferenceOr::Reference { reference },
                    &format!("{at}/discriminator/mapping/{}", escape(value)),
                )?;
                mapping.push((value.clone(), check));
            }
        }
        Ok(ir::Discriminator {
            property: d.property_name.clone(),
            mapping,
        })
    }

    /// A schema `openapiv3` could not file under one type (a `type` beside `allOf`, properties without `type`, …):
    /// its own keywords as one typed part, and every `allOf`/`oneOf`/`anyOf`/`not` beside them.
    fn check_any(&mut self, any: &openapiv3::AnySchema, nullable: bool, at: &str) -> Result<Check, Error> {
        if super::params::mixed_scalar_enum(any) {
            return Ok(Check::Enum {
                nullable,
                values: any.enumeration.clone(),
            });
        }
        // `nullable: true, enum: [null]` (a 3.1 `type: 'null'`, lowered): null and nothing else.
        let only_enum = openapiv3::AnySchema {
            enumeration: any.enumeration.clone(),
            ..Default::default()
        };
        if nullable
            && *any == only_enum
            && !any.enumeration.is_empty()
            && any.enumeration.iter().all(serde_json::Value::is_null)
        {
            return Ok(Check::Enum {
                nullable,
                values: Vec::new(),
            });
        }
        let mut own = any.clone();
        own.all_of.clear();
        own.one_of.clear();
        own.any_of.clear();
        own.not = None;
        let mut parts = Vec::new();
        if own != openapiv3::AnySchema::default() {
            let mut json = serde_json::to_value(&own).unwrap_or_default();
            if let Some(object) = json.as_object_mut()
                && !object.contains_key("type")
            {
                let implied = if object.contains_key("properties")
                    || object.contains_key("required")
                    || object.contains_key("additionalProperties")
                {
                    Some("object")
                } else if object.contains_key("items") {
                    Some("array")
                } else if object.contains_key("pattern") || object.contains_key("minLength") {
                    Some("string")
                } else if [
                    "minimum",
                    "maximum",
                    "exclusiveMinimum",
                    "exclusiveMaximum",
                    "multipleOf",
                ]
                .iter()
                .any(|k| object.contains_key(*k))
                {
                    // e.g. `not: { minimum: 65534, maximum: 65534 }` beside `type: integer`
                    Some("number")
                } else {
                    None
                };
                if let Some(implied) = implied {
                    object.insert("type".to_owned(), implied.into());
                }
            }
            // `AnySchema` keeps bounds as floats; an integer's bounds must read back as integers.
            if let Some(object) = json.as_object_mut()
                && object.get("type").and_then(serde_json::Value::as_str) == Some("integer")
            {
                for key in ["minimum", "maximum", "multipleOf"] {
                    if let Some(whole) = object
                        .get(key)
                        .and_then(serde_json::Value::as_f64)
                        .filter(|f| f.fract() == 0.0)
                    {
                        object.insert(key.to_owned(), (whole as i64).into());
                    }
                }
            }
            match serde_json::from_value::<Schema>(json) {
                Ok(typed) if !matches!(typed.schema_kind, SchemaKind::Any(_)) => {
                    parts.push(self.check_schema(&typed, at)?);
                }
                _ => {
                    return Err(self.fail(
                        at,
                        "a schema whose keywords fit no single `type` is not supported here; add `type`",
                    ));
                }
            }
        }
        if !any.all_of.is_empty() {
            parts.extend(self.checks(&any.all_of, &format!("{at}/allOf"))?);
        }
        if !any.one_of.is_empty() {
            let options = self.checks(&any.one_of, &format!("{at}/oneOf"))?;
            parts.push(Check::OneOf {
                nullable,
                options,
                discriminator: None,
            });
        }
        if !any.any_of.is_empty() {
            let options = self.checks(&any.any_of, &format!("{at}/anyOf"))?;
            parts.push(Check::AnyOf { nullable, options });
        }
        if let Some(not) = &any.not {
            parts.push(Check::Not {
                nullable,
                inner: Box::new(self.check(not, &format!("{at}/not"))?),
            });
        }
        Ok(Check::AllOf { nullable, parts })
    }

    /// Lowers (once) the check of a component schema.
    pub(super) fn validator(&mut self, name: &str, at: &str) -> Result<(), Error> {
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

    pub(super) fn check_schema(&mut self, schema: &Schema, at: &str) -> Result<Check, Error> {
        let nullable = schema.schema_data.nullable;
        // A 3.1 `const`, lowered to a one-value `enum` beside this mark (`crate::openapi31`).
        if let Some(value) = schema.schema_data.extensions.get(crate::openapi31::CONST) {
            return Ok(Check::Const {
                nullable,
                value: value.clone(),
            });
        }
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                // As the runtime compiles it: `regex` when it reads the pattern, else `regress` (ECMA-262).
                if let Some(pattern) = &t.pattern
                    && let Err(err) = regex::Regex::new(pattern)
                    && let Err(ecma) =
                        regress::Regex::with_flags(pattern, "u").or_else(|_| regress::Regex::new(pattern))
                {
                    // regex's message draws the pattern over several lines; its last line says what is wrong.
                    let text = err.to_string();
                    let why = text.lines().last().unwrap_or("").trim().trim_start_matches("error: ");
                    return Err(self.fail(
                        &format!("{at}/pattern"),
                        format!("pattern does not compile: {why} (and as ECMA-262: {ecma})"),
                    ));
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
            SchemaKind::Type(Type::Number(t)) => Check::Number {
                nullable: nullable || t.enumeration.iter().any(Option::is_none),
                values: t.enumeration.iter().flatten().copied().collect(),
                minimum: t.minimum.map(|m| (m, t.exclusive_minimum)),
                maximum: t.maximum.map(|m| (m, t.exclusive_maximum)),
                multiple_of: t.multiple_of,
            },
            SchemaKind::Type(Type::Boolean(t)) => Check::Boolean {
                nullable: nullable || t.enumeration.iter().any(Option::is_none),
                values: t.enumeration.iter().flatten().copied().collect(),
            },
            SchemaKind::Type(Type::Object(o)) => {
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
                    min_properties: o.min_properties,
                    max_properties: o.max_properties,
                }
            }
            SchemaKind::Type(Type::Array(a)) => {
                let items = match &a.items {
                    Some(item) => Some(Box::new(self.check_boxed(item, &format!("{at}/items"))?)),
                    None => None,
                };
                Check::Array {
                    nullable,
                    min_items: a.min_items,
                    max_items: a.max_items,
                    unique_items: a.unique_items,
                    items,
                }
            }
            // `allOf: [$ref]` is how 3.0 specs attach `nullable` or a description to a reference.
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => Check::Wrapped {
                nullable,
                inner: Box::new(self.check(&all_of[0], &format!("{at}/allOf/0"))?),
            },
            SchemaKind::Any(any) if *any == openapiv3::AnySchema::default() => Check::Any { nullable },
            SchemaKind::Any(any) => self.check_any(any, nullable, at)?,
            SchemaKind::AllOf { all_of } => Check::AllOf {
                nullable,
                parts: self.checks(all_of, &format!("{at}/allOf"))?,
            },
            SchemaKind::AnyOf { any_of } => Check::AnyOf {
                nullable,
                options: self.checks(any_of, &format!("{at}/anyOf"))?,
            },
            SchemaKind::OneOf { one_of } => {
                let options = self.checks(one_of, &format!("{at}/oneOf"))?;
                let discriminator = match &schema.schema_data.discriminator {
                    None => None,
                    Some(d) => Some(self.discriminator(d, one_of, &options, at)?),
                };
                Check::OneOf {
                    nullable,
                    options,
                    discriminator,
                }
            }
            SchemaKind::Not { not } => Check::Not {
                nullable,
                inner: Box::new(self.check(not, &format!("{at}/not"))?),
            },
        })
    }
}

/// An object that admits any properties and names none: a `serde_json::Map`, not a type of its own.
fn free_form(o: &openapiv3::ObjectType) -> bool {
    o.properties.is_empty()
        && matches!(o.additional_properties, None | Some(AdditionalProperties::Any(true)))
        && o.required.is_empty()
}

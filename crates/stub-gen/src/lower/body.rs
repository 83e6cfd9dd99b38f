//! Request bodies: each media type's decoding (JSON, form, multipart, binary, text), types and checks, and whether
//! the typed decode alone enforces the schema.

use heck::ToPascalCase;
use openapiv3::{MediaType, ReferenceOr, RequestBody, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty};

use super::{Lowering, component_name, escape, is_json};
use crate::Error;
use crate::ir::{self, Check, Decode, ScalarKind};
use crate::spec::pointer;

/// Top-level types whose bodies are received as bytes whatever their schema.
const BINARY_TYPES: [&str; 4] = ["image/", "audio/", "video/", "font/"];

impl<'a> Lowering<'a> {
    pub(super) fn request_body(&mut self, body: &'a ReferenceOr<RequestBody>, at: String) -> Result<ir::Body, Error> {
        let (body, at) = self.resolve(body, at, "requestBodies", |c, n| c.request_bodies.get(n))?;
        if body.content.is_empty() {
            return Err(self.fail(&at, "a request body must list at least one media type"));
        }
        // Names first, so that two media types that cannot be told apart are refused before anything else.
        let mut named: Vec<(String, String, &'a MediaType, String)> = Vec::new();
        for (media, item) in &body.content {
            let content_at = format!("{at}/content/{}", escape(media));
            let range = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            let variant = variant(&range);
            if let Some((other, ..)) = named.iter().find(|(r, v, ..)| *r == range || *v == variant) {
                return Err(self.fail(
                    &content_at,
                    format!("media types `{other}` and `{media}` of one body cannot be told apart"),
                ));
            }
            named.push((range, variant, item, content_at));
        }
        let mut content = Vec::new();
        for (range, variant, item, content_at) in named {
            // `encoding` only documents how a client sends each property; nothing here depends on it.
            let decode = self.decode(&range, item, &content_at)?;
            content.push(ir::BodyContent {
                media: range,
                variant,
                decode,
            });
        }
        Ok(ir::Body {
            required: body.required,
            content,
        })
    }

    /// How a body of media range `range` is read, by the range and then the schema.
    fn decode(&mut self, range: &str, item: &'a MediaType, at: &str) -> Result<Decode, Error> {
        let schema_at = format!("{at}/schema");
        let schema = item.schema.as_ref();
        let needs_schema = || self.fail(at, format!("the `{range}` request body has no schema"));
        if !range.contains('/') {
            return Err(self.fail(at, format!("`{range}` is not a media type")));
        }
        if is_json(range) {
            let schema = schema.ok_or_else(needs_schema)?;
            let check = self.check(schema, &schema_at)?;
            return Ok(Decode::Json {
                ty: self.named_type(schema, &schema_at, &format!("{}-body", self.op))?,
                check,
            });
        }
        if range == "application/x-www-form-urlencoded" {
            let schema = schema.ok_or_else(needs_schema)?;
            let check = self.check(schema, &schema_at)?;
            // Before the type: what forms cannot carry is refused the same way with or without a type space.
            let fields = self.form_fields(schema, &schema_at, item, at)?;
            return Ok(Decode::Form {
                ty: self.named_type(schema, &schema_at, &format!("{}-body", self.op))?,
                fields,
                check,
            });
        }
        if range == "multipart/form-data" {
            return Ok(Decode::Multipart);
        }
        if range.starts_with("multipart/") {
            return Err(self.fail(
                at,
                format!("request body media type `{range}` is not supported; multipart/form-data is"),
            ));
        }
        let binary = match schema {
            Some(schema) => self.is_binary(self.schema(schema, &schema_at)?.0),
            None => false,
        };
        if binary
            || range == "application/octet-stream"
            || range == "*/*"
            || BINARY_TYPES.iter().any(|t| range.starts_with(t))
        {
            return Ok(Decode::Binary);
        }
        if range.starts_with("text/") {
            let check = match schema {
                None => Check::Any { nullable: false },
                Some(schema) => {
                    let (resolved, _) = self.schema(schema, &schema_at)?;
                    if !matches!(resolved.schema_kind, SchemaKind::Type(Type::String(_))) {
                        // Text that a non-string schema describes (`text/csv` of rows, `text/xml` of an object)
                        // is in a format the stub cannot decode: as for XML, the implementation gets the bytes.
                        return Ok(Decode::Binary);
                    }
                    self.check(schema, &schema_at)?
                }
            };
            return Ok(Decode::Text { check });
        }
        // XML, vendor types and the like: the stub cannot decode them, so the implementation receives the bytes
        // and its schema is documentation (the client's business).
        Ok(Decode::Binary)
    }

    /// `type: string, format: binary`.
    fn is_binary(&self, schema: &Schema) -> bool {
        matches!(&schema.schema_kind, SchemaKind::Type(Type::String(t))
            if t.format == VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary))
    }

    /// The properties of a form body's object schema and how their text converts: scalars, arrays of scalars (one
    /// item per repeated key), or objects of scalars. An object is read in the `deepObject` style
    /// (`annotations[puppet]=true`), the only one that cannot be confused with the body's own fields; an `encoding`
    /// that asks for another style for it is refused.
    fn form_fields(
        &self,
        schema: &'a ReferenceOr<Schema>,
        at: &str,
        media: &MediaType,
        media_at: &str,
    ) -> Result<Vec<ir::FormField>, Error> {
        let (schema, at) = self.schema(schema, at)?;
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
            return Err(self.fail(&at, "a form request body must have an object schema"));
        };
        let mut fields = Vec::new();
        for (name, property) in &object.properties {
            let property_at = format!("{at}/properties/{}", escape(name));
            let (property, property_at) = self.boxed_schema(property, property_at)?;
            let (kind, repeated, properties) = match &property.schema_kind {
                SchemaKind::Type(Type::Array(array)) => {
                    let items = array
                        .items
                        .as_ref()
                        .ok_or_else(|| self.fail(&property_at, "an array schema needs `items`"))?;
                    let (items, items_at) = self.boxed_schema(items, format!("{property_at}/items"))?;
                    (self.form_scalar(items, &items_at, name, true)?, true, None)
                }
                SchemaKind::Type(Type::Object(object)) => {
                    if let Some(style) = media.encoding.get(name).and_then(|encoding| encoding.style.as_ref())
                        && *style != openapiv3::QueryStyle::DeepObject
                    {
                        return Err(self.fail(
                            &format!("{media_at}/encoding/{}", escape(name)),
                            format!("object form field `{name}` must use `style: deepObject`"),
                        ));
                    }
                    let mut properties = Vec::new();
                    for (key, inner) in &object.properties {
                        let inner_at = format!("{property_at}/properties/{}", escape(key));
                        let (inner, inner_at) = self.boxed_schema(inner, inner_at)?;
                        properties.push((
                            key.clone(),
                            self.form_scalar(inner, &inner_at, &format!("{name}[{key}]"), true)?,
                        ));
                    }
                    (ScalarKind::String, false, Some(properties))
                }
                _ => (self.form_scalar(property, &property_at, name, false)?, false, None),
            };
            fields.push(ir::FormField {
                name: name.clone(),
                kind,
                repeated,
                properties,
            });
        }
        Ok(fields)
    }

    /// The kind of a form field's text; `nested` for an array's items and an object's properties.
    fn form_scalar(&self, schema: &Schema, at: &str, name: &str, nested: bool) -> Result<ScalarKind, Error> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(_)) => Ok(ScalarKind::String),
            SchemaKind::Type(Type::Integer(_)) => Ok(ScalarKind::Integer),
            SchemaKind::Type(Type::Number(_)) => Ok(ScalarKind::Number),
            SchemaKind::Type(Type::Boolean(_)) => Ok(ScalarKind::Boolean),
            SchemaKind::Any(any) if *any == openapiv3::AnySchema::default() => Ok(ScalarKind::String),
            SchemaKind::Any(any) if super::params::mixed_scalar_enum(any) => Ok(ScalarKind::Any),
            _ if nested => Err(self.fail(
                at,
                format!("form field `{name}` must be a string, integer, number or boolean"),
            )),
            _ => Err(self.fail(
                at,
                format!(
                    "form field `{name}` must be a string, integer, number, boolean, or an array or object of them"
                ),
            )),
        }
    }

    /// A property or items schema, following `$ref`s into components.
    fn boxed_schema(&self, schema: &'a ReferenceOr<Box<Schema>>, at: String) -> Result<(&'a Schema, String), Error> {
        match schema {
            ReferenceOr::Item(schema) => Ok((schema.as_ref(), at)),
            ReferenceOr::Reference { reference } => {
                let name = component_name(reference).ok_or_else(|| {
                    self.fail(
                        &at,
                        format!("`$ref: {reference}` must point into #/components/schemas/"),
                    )
                })?;
                let found = self
                    .components(&at)?
                    .schemas
                    .get(name)
                    .ok_or_else(|| self.fail(&at, format!("`$ref: {reference}` resolves nowhere")))?;
                self.schema(found, &pointer(&["components", "schemas", name]))
            }
        }
    }
}

/// The body enum's variant for a media range: short names for the common ones, else the range in PascalCase.
fn variant(range: &str) -> String {
    let name = match range {
        "application/json" => "Json",
        "application/x-www-form-urlencoded" => "Form",
        "multipart/form-data" => "Multipart",
        "application/octet-stream" => "Bytes",
        "text/plain" => "Text",
        "*/*" => "Any",
        _ => {
            let (kind, sub) = range.split_once('/').unwrap_or((range, ""));
            // `*` is "any" (`image/*` -> `ImageAny`, `application/*+json` -> `AnyJson`, not `application/json`'s `Json`).
            let sub = sub.replace('*', "any-");
            let words = if kind == "application" {
                sub
            } else {
                format!("{kind}-{sub}")
            };
            let name = words.to_pascal_case();
            return if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                name
            } else {
                format!("Media{name}")
            };
        }
    };
    name.to_owned()
}

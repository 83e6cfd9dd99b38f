//! Parameters: path, query, header and cookie parameters with their style, types and checks.

use openapiv3::{
    CookieStyle, HeaderStyle, Parameter, ParameterData, ParameterSchemaOrContent, PathStyle, QueryStyle, ReferenceOr,
    Schema, SchemaKind, Type,
};

use super::{Lowering, is_json};
use crate::Error;
use crate::ir::{self, Location, ScalarKind, Shape};

/// A parameter's `style`, as far as the stub tells them apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Simple,
    Form,
    /// `spaceDelimited` / `pipeDelimited`.
    Delimited(char),
    DeepObject,
}

impl<'a> Lowering<'a> {
    /// One parameter; `secured` says whether the operation reads credentials (then `Authorization` is theirs).
    /// `None` for the header parameters OpenAPI says to ignore: `Accept` and `Content-Type` (the media types say
    /// those), and `Authorization` where a security scheme reads it.
    pub(super) fn parameter(
        &mut self,
        param: &'a ReferenceOr<Parameter>,
        at: String,
        secured: bool,
    ) -> Result<Option<ir::Param>, Error> {
        let (param, at) = self.resolve(param, at, "parameters", |c, n| c.parameters.get(n))?;
        let (data, location, style) = match param {
            Parameter::Path { parameter_data, style } => {
                let style = match style {
                    PathStyle::Simple => Style::Simple,
                    PathStyle::Label | PathStyle::Matrix => {
                        return Err(self.fail(
                            &at,
                            format!(
                                "path parameter `{}` uses style `{}`; only `simple` is supported",
                                parameter_data.name,
                                format!("{style:?}").to_lowercase()
                            ),
                        ));
                    }
                };
                (parameter_data, Location::Path, style)
            }
            Parameter::Query {
                parameter_data, style, ..
            } => {
                let style = match style {
                    QueryStyle::Form => Style::Form,
                    QueryStyle::SpaceDelimited => Style::Delimited(' '),
                    QueryStyle::PipeDelimited => Style::Delimited('|'),
                    QueryStyle::DeepObject => Style::DeepObject,
                };
                (parameter_data, Location::Query, style)
            }
            Parameter::Header {
                parameter_data,
                style: HeaderStyle::Simple,
            } => (parameter_data, Location::Header, Style::Simple),
            Parameter::Cookie {
                parameter_data,
                style: CookieStyle::Form,
            } => (parameter_data, Location::Cookie, Style::Form),
        };
        let ParameterData {
            name,
            description,
            required,
            format,
            explode,
            ..
        } = data;
        if location == Location::Header {
            let lower = name.to_ascii_lowercase();
            if lower == "accept" || lower == "content-type" || (lower == "authorization" && secured) {
                return Ok(None);
            }
        }
        let (schema, schema_at, shape) = match format {
            ParameterSchemaOrContent::Schema(schema) => {
                let schema_at = format!("{at}/schema");
                // `form` explodes by default, every other style does not.
                let explode = explode.unwrap_or(style == Style::Form);
                let shape = self.shape(schema, &schema_at, name, location, style, explode)?;
                (schema, schema_at, shape)
            }
            ParameterSchemaOrContent::Content(content) => {
                let mut media_types = content.iter();
                let (Some((media, media_type)), None) = (media_types.next(), media_types.next()) else {
                    return Err(self.fail(
                        &format!("{at}/content"),
                        format!("parameter `{name}` must list exactly one media type under `content`"),
                    ));
                };
                let content_at = format!("{at}/content/{}", super::escape(media));
                if !is_json(media) {
                    return Err(self.fail(
                        &content_at,
                        format!("parameter `{name}` has content `{media}`; only application/json is supported"),
                    ));
                }
                let schema = media_type.schema.as_ref().ok_or_else(|| {
                    self.fail(&content_at, format!("parameter `{name}` has content without a schema"))
                })?;
                (schema, format!("{content_at}/schema"), Shape::Json)
            }
        };
        Ok(Some(ir::Param {
            name: name.clone(),
            // Made unique among the operation's parameters once they are all known.
            field: String::new(),
            location,
            required: *required || location == Location::Path,
            ty: if composed(schema) {
                // progenitor names an inline parameter schema `{operationId}-{name}`.
                self.named_type(schema, &schema_at, &format!("{}-{name}", self.op))?
            } else {
                self.value_type(schema, &schema_at)?
            },
            shape,
            check: self.check(schema, &schema_at)?,
            doc: description.clone(),
        }))
    }

    /// How the parameter's text is read, from its schema, location and style.
    fn shape(
        &self,
        schema: &'a ReferenceOr<Schema>,
        at: &str,
        name: &str,
        location: Location,
        style: Style,
        explode: bool,
    ) -> Result<Shape, Error> {
        let (resolved, resolved_at) = self.schema(schema, at)?;
        match &resolved.schema_kind {
            // pydantic's `Optional[Enum]`, lowered from 3.1: `{nullable: true, allOf: [{$ref}]}`. A parameter that
            // is absent is already `None`, so the one member is what its text is read as.
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => self.shape(
                &all_of[0],
                &format!("{resolved_at}/allOf/0"),
                name,
                location,
                style,
                explode,
            ),
            SchemaKind::Type(Type::Array(array)) => {
                let items = array
                    .items
                    .as_ref()
                    .ok_or_else(|| self.fail(&resolved_at, "an array schema needs `items`"))?
                    .clone()
                    .unbox();
                let items_at = format!("{resolved_at}/items");
                let items = self.scalar_kind(&items, &items_at, &format!("each item of parameter `{name}`"))?;
                let delimiter = self.delimiter(at, name, location, style, explode)?;
                Ok(Shape::Array { items, delimiter })
            }
            SchemaKind::Type(Type::Object(object)) => {
                let form = (location, style) == (Location::Query, Style::Form);
                let simple = matches!(location, Location::Header | Location::Path) && style == Style::Simple;
                if (location, style) != (Location::Query, Style::DeepObject) && !form && !simple {
                    return Err(self.fail(
                        at,
                        format!(
                            "object parameter `{name}` is supported only in the query (`style: form` or `deepObject`), a header or the path (`style: simple`), or as `content: application/json`"
                        ),
                    ));
                }
                let mut properties = Vec::new();
                for (key, property) in &object.properties {
                    let property_at = format!("{resolved_at}/properties/{}", super::escape(key));
                    let kind = self.scalar_kind(
                        &property.clone().unbox(),
                        &property_at,
                        &format!(
                            "property `{key}` of {} parameter `{name}`",
                            if form || simple { "object" } else { "deepObject" }
                        ),
                    )?;
                    properties.push((key.clone(), kind));
                }
                Ok(if form {
                    Shape::FormObject { properties, explode }
                } else if simple {
                    Shape::SimpleObject { properties, explode }
                } else {
                    Shape::Object { properties }
                })
            }
            _ if style == Style::DeepObject => Err(self.fail(
                at,
                format!("parameter `{name}` uses `style: deepObject`, which needs an object schema"),
            )),
            SchemaKind::OneOf { one_of: options } | SchemaKind::AnyOf { any_of: options } => {
                let key = if matches!(resolved.schema_kind, SchemaKind::OneOf { .. }) {
                    "oneOf"
                } else {
                    "anyOf"
                };
                let (mut scalar, mut items) = (None, None);
                for (i, option) in options.iter().enumerate() {
                    let option_at = format!("{resolved_at}/{key}/{i}");
                    let (resolved_option, resolved_option_at) = self.schema(option, &option_at)?;
                    if let SchemaKind::Type(Type::Array(array)) = &resolved_option.schema_kind {
                        let inner = array
                            .items
                            .as_ref()
                            .ok_or_else(|| self.fail(&resolved_option_at, "an array schema needs `items`"))?
                            .clone()
                            .unbox();
                        let what = format!("each item of parameter `{name}`");
                        let kind = self.scalar_kind(&inner, &format!("{resolved_option_at}/items"), &what)?;
                        items = Some(either(items, kind));
                    } else {
                        let kind =
                            self.scalar_kind(option, &option_at, &format!("each option of parameter `{name}`"))?;
                        scalar = Some(either(scalar, kind));
                    }
                }
                Ok(match (scalar, items) {
                    (Some(scalar), None) => Shape::Scalar(scalar),
                    (None, Some(items)) => Shape::Array {
                        items,
                        delimiter: self.delimiter(at, name, location, style, explode)?,
                    },
                    (Some(scalar), Some(items)) => Shape::OneOrMany {
                        scalar,
                        items,
                        delimiter: self.delimiter(at, name, location, style, explode)?,
                    },
                    (None, None) => return Err(self.fail(at, format!("parameter `{name}` has no options"))),
                })
            }
            _ => Ok(Shape::Scalar(self.scalar_kind(
                schema,
                at,
                &format!("parameter `{name}`"),
            )?)),
        }
    }

    /// How an array parameter's items are written: the key repeated (`None`), or one value split on a delimiter.
    fn delimiter(
        &self,
        at: &str,
        name: &str,
        location: Location,
        style: Style,
        explode: bool,
    ) -> Result<Option<char>, Error> {
        match (location, style, explode) {
            (Location::Query, Style::Form | Style::Delimited(_), true) => Ok(None),
            (Location::Query, Style::Delimited(delimiter), false) => Ok(Some(delimiter)),
            (Location::Cookie, _, true) => Err(self.fail(
                at,
                format!("cookie parameter `{name}` is an array with `explode: true`, which has no cookie form; set `explode: false`"),
            )),
            (_, Style::DeepObject, _) => Err(self.fail(
                at,
                format!("parameter `{name}` uses `style: deepObject`, which needs an object schema"),
            )),
            _ => Ok(Some(',')),
        }
    }

    /// The JSON type a parameter's text is converted to; only scalars can be parameters here.
    pub(super) fn scalar_kind(&self, schema: &ReferenceOr<Schema>, at: &str, what: &str) -> Result<ScalarKind, Error> {
        // Items and properties are owned copies: follow their first `$ref` by hand, the rest through `schema`.
        let (schema, at) = match schema {
            ReferenceOr::Item(schema) => (schema, at.to_owned()),
            ReferenceOr::Reference { reference } => {
                let name = super::component_name(reference).ok_or_else(|| {
                    self.fail(at, format!("`$ref: {reference}` must point into #/components/schemas/"))
                })?;
                let found = self
                    .components(at)?
                    .schemas
                    .get(name)
                    .ok_or_else(|| self.fail(at, format!("`$ref: {reference}` resolves nowhere")))?;
                self.schema(found, &crate::spec::pointer(&["components", "schemas", name]))?
            }
        };
        match &schema.schema_kind {
            // A single-member `allOf` (a `$ref` with siblings, or a nullable `$ref` lowered from 3.1) is that member.
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => {
                self.scalar_kind(&all_of[0], &format!("{at}/allOf/0"), what)
            }
            SchemaKind::Type(Type::String(_)) => Ok(ScalarKind::String),
            SchemaKind::Type(Type::Integer(_)) => Ok(ScalarKind::Integer),
            SchemaKind::Type(Type::Number(_)) => Ok(ScalarKind::Number),
            SchemaKind::Type(Type::Boolean(_)) => Ok(ScalarKind::Boolean),
            SchemaKind::Any(any) if mixed_scalar_enum(any) => Ok(ScalarKind::Any),
            _ => Err(self.fail(
                &at,
                format!("{what} must have a string, integer, number or boolean schema"),
            )),
        }
    }
}

/// An untyped schema that is only an `enum` of scalars of several JSON types (`enum: [true, false, 0, 1]`; an enum of
/// one type was given its type when the spec was read).
pub(super) fn mixed_scalar_enum(any: &openapiv3::AnySchema) -> bool {
    let only_enum = openapiv3::AnySchema {
        enumeration: any.enumeration.clone(),
        ..Default::default()
    };
    !any.enumeration.is_empty()
        && *any == only_enum
        && any.enumeration.iter().all(|value| {
            matches!(
                value,
                serde_json::Value::String(_) | serde_json::Value::Number(_) | serde_json::Value::Bool(_)
            )
        })
}

/// An inline `oneOf`/`anyOf`/`allOf` of several, or an inline object with properties: a type of its own, named as
/// progenitor names it.
fn composed(schema: &ReferenceOr<Schema>) -> bool {
    matches!(schema, ReferenceOr::Item(schema) if match &schema.schema_kind {
        SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } => true,
        SchemaKind::AllOf { all_of } => all_of.len() > 1,
        SchemaKind::Type(Type::Object(object)) => !object.properties.is_empty(),
        _ => false,
    })
}

/// The kind that converts text for either of two options: theirs when they agree, else [`ScalarKind::Any`].
fn either(known: Option<ScalarKind>, kind: ScalarKind) -> ScalarKind {
    match known {
        Some(known) if known != kind => ScalarKind::Any,
        _ => kind,
    }
}

//! Parameters: path, query and header parameters with their types and checks.

use openapiv3::{Parameter, ParameterData, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type};

use super::Lowering;
use crate::Error;
use crate::ir::{self, Location, ScalarKind};

impl<'a> Lowering<'a> {
    pub(super) fn parameter(&mut self, param: &'a ReferenceOr<Parameter>, at: String) -> Result<ir::Param, Error> {
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
    pub(super) fn scalar_kind(
        &self,
        schema: &'a ReferenceOr<Schema>,
        at: &str,
        what: &str,
    ) -> Result<ScalarKind, Error> {
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
}

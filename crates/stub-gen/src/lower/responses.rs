//! Responses: the documented answers of an operation, and which of them are the envelope.

use openapiv3::{
    Header, ParameterSchemaOrContent, ReferenceOr, Response, Schema, SchemaKind, StringFormat, StringType, Type,
    VariantOrUnknownOrEmpty,
};

use super::{Lowering, escape, is_json};
use crate::Error;
use crate::ir;

impl<'a> Lowering<'a> {
    /// Whether an error response's body is the envelope schema of the settings (answered with a `Rejection`).
    pub(super) fn is_envelope(&self, response: &'a ReferenceOr<Response>, at: &str) -> Result<bool, Error> {
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

    pub(super) fn response(
        &mut self,
        status: ir::Status,
        response: &'a ReferenceOr<Response>,
        at: String,
    ) -> Result<ir::Response, Error> {
        if let ir::Status::Code(code) = status
            && !(100..600).contains(&code)
        {
            return Err(self.fail(&at, format!("status {code} is not an HTTP status")));
        }
        if let ir::Status::Range(hundreds) = status
            && !(1..6).contains(&hundreds)
        {
            return Err(self.fail(&at, format!("status range `{status}` is not an HTTP status range")));
        }
        let (response, at) = self.resolve(response, at, "responses", |c, n| c.responses.get(n))?;
        // `links` document follow-up requests; nothing to generate.
        let mut content = Vec::new();
        for (i, (media, item)) in response.content.iter().enumerate() {
            let content_at = format!("{at}/content/{}", escape(media));
            let kind = media_kind(media, item.schema.as_ref());
            let ty = match kind {
                ir::MediaKind::Text => ir::TypeRef::String,
                ir::MediaKind::Binary => ir::TypeRef::Bytes,
                ir::MediaKind::Json => match &item.schema {
                    // A JSON body without a schema is any JSON value.
                    None => ir::TypeRef::Value,
                    Some(schema) => {
                        // progenitor names the first success body `{operationId}-response`; the rest get the
                        // status (and the media type's position when a status has several JSON bodies).
                        let success = match status {
                            ir::Status::Code(code) => (200..300).contains(&code),
                            ir::Status::Range(hundreds) => hundreds == 2,
                            ir::Status::Default => true,
                        };
                        let mut name = if success && !self.response_named {
                            self.response_named = true;
                            format!("{}-response", self.op)
                        } else {
                            format!("{}-response-{status}", self.op)
                        };
                        if i > 0 {
                            name.push_str(&format!("-{i}"));
                        }
                        self.named_type(schema, &format!("{content_at}/schema"), &name)?
                    }
                },
            };
            content.push(ir::Content {
                media: media.clone(),
                kind,
                ty,
            });
        }
        let mut headers = Vec::new();
        for (name, header) in &response.headers {
            // `Content-Type` is set from the media type; documenting it is not an extra header.
            if name.eq_ignore_ascii_case("content-type") {
                continue;
            }
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
            status,
            content,
            headers,
            doc: format!("{status}: {}", response.description.trim()),
        })
    }
}

/// How a body of a media type is carried: JSON for `application/json` and `+json`, and for a wildcard (`*/*`, as
/// generated specs often write) whose schema is not binary; text for `text/*`; bytes for anything else.
pub(crate) fn media_kind(media: &str, schema: Option<&ReferenceOr<Schema>>) -> ir::MediaKind {
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let binary_schema = matches!(
        schema,
        Some(ReferenceOr::Item(Schema {
            schema_kind: SchemaKind::Type(Type::String(StringType {
                format: VariantOrUnknownOrEmpty::Item(StringFormat::Binary),
                ..
            })),
            ..
        }))
    );
    if is_json(&essence) {
        ir::MediaKind::Json
    } else if essence.starts_with("text/") {
        ir::MediaKind::Text
    } else if (essence == "*/*" || essence == "application/*") && schema.is_some() && !binary_schema {
        ir::MediaKind::Json
    } else {
        ir::MediaKind::Binary
    }
}

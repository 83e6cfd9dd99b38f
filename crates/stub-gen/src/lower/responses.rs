//! Responses: the documented answers of an operation, and which of them are the envelope.

use openapiv3::{Header, ParameterSchemaOrContent, ReferenceOr, Response};

use super::{Lowering, escape, is_json};
use crate::Error;
use crate::ir::{self};

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
        code: u16,
        response: &'a ReferenceOr<Response>,
        at: String,
    ) -> Result<ir::Response, Error> {
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
}

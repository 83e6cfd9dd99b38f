//! Request bodies: media type, type and checks, and whether the typed decode alone enforces the schema.

use openapiv3::{ReferenceOr, RequestBody};

use super::{Lowering, escape, is_json};
use crate::Error;
use crate::ir::{self};

impl<'a> Lowering<'a> {
    pub(super) fn request_body(&mut self, body: &'a ReferenceOr<RequestBody>, at: String) -> Result<ir::Body, Error> {
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
            ty: self.named_type(schema, &schema_at, &format!("{}-body", self.op))?,
            required: body.required,
            typed_complete: self.typed_complete(&check, &mut Vec::new()),
            check,
        })
    }
}

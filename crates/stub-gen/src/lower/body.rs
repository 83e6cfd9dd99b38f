//! Request bodies: media type, type and checks, and whether the typed decode alone enforces the schema.

use openapiv3::{ReferenceOr, RequestBody};

use super::{Lowering, escape, is_json};
use crate::Error;
use crate::ir::{self, Additional, Check, StringFormat};

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

    /// Whether the typed decode alone enforces everything `check` does. Conservative: only the constraints that the
    /// shared types are known to carry (typify's enums, required non-nullable fields, `deny_unknown_fields`, typed
    /// formats, `i32`) and replacement types that validate themselves; anything else takes the violation walk.
    pub(super) fn typed_complete(&self, check: &Check, seen: &mut Vec<String>) -> bool {
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

    pub(super) fn nullable(&self, check: &Check) -> bool {
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
}

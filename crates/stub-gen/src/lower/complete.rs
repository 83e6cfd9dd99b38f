//! Whether a body's type carries every constraint of its schema, so that a valid body is decoded in one pass.

use super::Lowering;
use crate::ir::{Additional, Check, StringFormat};

impl<'a> Lowering<'a> {
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
            Check::Any { .. } => true,
            Check::Boolean { values, .. } => values.is_empty(),
            // The type is a JSON value: the walk checks membership.
            Check::Enum { .. } => false,
            // The type's one-variant enum would answer `enum`, not `literal_error`: the walk reports it.
            Check::Const { .. } => false,
            // chrono's `DateTime` parser accepts more than RFC 3339, so a date-time takes the walk.
            Check::String {
                values,
                min_length,
                max_length,
                pattern,
                format,
                ..
            } => {
                // An enum typify cannot name is a plain string in the type (`drop_unnameable_enums`).
                !crate::names::enum_variants_collide(values)
                    && min_length.is_none()
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
                values,
                minimum,
                maximum,
                multiple_of,
                ..
            } => values.is_empty() && minimum.is_none() && maximum.is_none() && multiple_of.is_none(),
            Check::Object {
                required,
                properties,
                additional,
                min_properties,
                max_properties,
                ..
            } => {
                // A required nullable field decodes as `Option` and so may be missing; maps keep the last of
                // duplicate keys where the walk refuses them.
                let required_nullable = properties
                    .iter()
                    .any(|(key, check)| required.contains(key) && self.nullable(check));
                // A required name no property declares may be missing from the type (`drop_shadowed_required`).
                let required_undeclared = required
                    .iter()
                    .any(|name| !properties.iter().any(|(key, _)| key == name));
                !required_nullable
                    && !required_undeclared
                    && min_properties.is_none()
                    && max_properties.is_none()
                    && !matches!(additional, Additional::Schema(_))
                    && properties.iter().all(|(_, check)| self.typed_complete(check, seen))
            }
            Check::Array {
                min_items,
                max_items,
                unique_items,
                items,
                ..
            } => {
                !unique_items
                    && min_items.is_none()
                    && max_items.is_none()
                    && items.as_deref().is_none_or(|items| self.typed_complete(items, seen))
            }
            Check::Wrapped { inner, .. } => self.typed_complete(inner, seen),
            // Serde's untagged and flattened types accept more than the schema; compositions take the walk.
            Check::AllOf { .. } | Check::OneOf { .. } | Check::AnyOf { .. } | Check::Not { .. } => false,
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
            | Check::Boolean { nullable, .. }
            | Check::Enum { nullable, .. }
            | Check::Const { nullable, .. }
            | Check::Object { nullable, .. }
            | Check::Array { nullable, .. }
            | Check::Wrapped { nullable, .. }
            | Check::AllOf { nullable, .. }
            | Check::OneOf { nullable, .. }
            | Check::AnyOf { nullable, .. }
            | Check::Not { nullable, .. } => *nullable,
        }
    }
}

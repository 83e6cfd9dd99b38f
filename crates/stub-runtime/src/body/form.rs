//! `application/x-www-form-urlencoded` bodies: each field's text becomes the JSON value its property schema declares,
//! then the object is validated and typed exactly like a JSON body.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{scrub, walk_then_type};
use crate::extract::{ParamKind, coerce};
use crate::{Rejection, Validator};

/// A declared field of a form body.
#[derive(Clone, Copy, Debug)]
pub struct FormField {
    /// Its name on the wire.
    pub name: &'static str,
    /// The JSON type its text is converted to (of each item, when `repeated`).
    pub kind: ParamKind,
    /// An array property: every occurrence of the key is one item, in order.
    pub repeated: bool,
    /// An object property, read in the `deepObject` style: `name[key]=value` is its field `key`, converted by the
    /// kind listed for it (text when it is not listed).
    pub properties: Option<&'static [(&'static str, ParamKind)]>,
}

/// Decodes a form body into `T`: declared fields are converted by their [`FormField`]s, undeclared ones stay
/// strings (so `additionalProperties: false` reports them), then `check` (generated) walks the object under
/// `loc: ["body", …]` and a valid one is typed; `Ok(None)` when a violation was recorded. A key that is not an
/// array given twice is a 400. Every string is wiped before the intermediate object is dropped.
pub fn form_body<T: DeserializeOwned>(
    bytes: &[u8],
    fields: &[FormField],
    cx: &mut Validator,
    check: impl FnOnce(&Value, &mut Validator),
) -> Result<Option<T>, Rejection> {
    let mut object = Map::new();
    let mut repeated = None;
    for (key, text) in form_urlencoded::parse(bytes) {
        if let Some((field, inner)) = object_key(fields, &key) {
            let kind = field
                .properties
                .and_then(|kinds| kinds.iter().find(|(name, _)| *name == inner))
                .map_or(ParamKind::String, |(_, kind)| *kind);
            let value = coerce(text.into_owned(), kind);
            let entry = object.entry(field.name).or_insert_with(|| Value::Object(Map::new()));
            // A plain `name=` before `name[key]=` is a scalar where an object belongs: the validator says so.
            if let Value::Object(inner_object) = entry
                && inner_object.insert(inner.to_owned(), value).is_some()
            {
                repeated = Some(format!("form field `{}` has a key given more than once", field.name));
                break;
            }
            continue;
        }
        let field = fields.iter().find(|field| field.name == key);
        let kind = field.map_or(ParamKind::String, |field| field.kind);
        let value = coerce(text.into_owned(), kind);
        match field {
            Some(field) if field.repeated => {
                let items = object.entry(field.name).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = items {
                    items.push(value);
                }
            }
            _ => {
                if object.insert(key.into_owned(), value).is_some() {
                    // Only a declared name is repeated back: an undeclared key is request input.
                    repeated = Some(field.map_or_else(
                        || "a form field is given more than once".to_owned(),
                        |field| format!("form field `{}` is given more than once", field.name),
                    ));
                    break;
                }
            }
        }
    }
    if let Some(detail) = repeated {
        scrub(&mut Value::Object(object));
        return Err(Rejection::bad_request(detail));
    }
    walk_then_type(Value::Object(object), cx, check)
}

/// The object field and inner key of `name[key]`, when `name` is a declared object field.
fn object_key<'f, 'k>(fields: &'f [FormField], key: &'k str) -> Option<(&'f FormField, &'k str)> {
    let (name, rest) = key.split_once('[')?;
    let inner = rest.strip_suffix(']')?;
    fields
        .iter()
        .find(|field| field.properties.is_some() && field.name == name)
        .map(|field| (field, inner))
}

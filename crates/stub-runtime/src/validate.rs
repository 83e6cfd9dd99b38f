//! Schema validation: the [`Validator`] that generated validators drive, recording every violation with its `loc`
//! and a pydantic-style type. Values are read through [`JsonValue`], so one generated validator serves a body's
//! borrowed tree and a parameter's `serde_json::Value` alike.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::json::{JsonObject, JsonValue};
use crate::{Loc, Rejection, Violation};

/// A `pattern` from the spec, compiled on first use (the generator checked that it compiles).
pub struct Pattern {
    source: &'static str,
    regex: OnceLock<Compiled>,
}

/// A pattern's engine: the `regex` crate (linear time) when it reads the pattern, else `regress`, which implements
/// ECMA-262, the dialect JSON Schema specifies, look-around and back-references included.
enum Compiled {
    Regex(regex::Regex),
    Ecma(regress::Regex),
}

impl Compiled {
    fn new(source: &str) -> Result<Self, String> {
        if let Ok(regex) = regex::Regex::new(source) {
            return Ok(Self::Regex(regex));
        }
        regress::Regex::with_flags(source, "u")
            .or_else(|_| regress::Regex::new(source))
            .map(Self::Ecma)
            .map_err(|err| err.to_string())
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl Pattern {
    /// A pattern for a `static`.
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            regex: OnceLock::new(),
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self
            .regex
            .get_or_init(|| Compiled::new(self.source).expect("the generator checked every pattern"))
        {
            Compiled::Regex(regex) => regex.is_match(text),
            Compiled::Ecma(regex) => regex.find(text).is_some(),
        }
    }
}

/// Collects every violation of a request, with its `loc`; generated validators drive it.
#[derive(Debug, Default)]
pub struct Validator {
    loc: Vec<Loc>,
    errors: Vec<Violation>,
}

impl Validator {
    /// An empty validator at the request's root.
    pub fn new() -> Self {
        Self::default()
    }

    /// Descends into a request part, object key or array index.
    pub fn enter(&mut self, segment: impl Into<Loc>) {
        self.loc.push(segment.into());
    }

    /// Undoes the last `enter`.
    pub fn leave(&mut self) {
        self.loc.pop();
    }

    /// Records a violation at the current place.
    pub fn fail(&mut self, kind: &'static str, msg: impl Into<Cow<'static, str>>) {
        self.errors.push(Violation {
            loc: self.loc.clone(),
            msg: msg.into(),
            kind,
        });
    }

    /// Records a missing required key or parameter.
    pub fn missing(&mut self, key: &'static str) {
        self.enter(key);
        self.fail("missing", "field required");
        self.leave();
    }

    /// `true` if `value` is null (and records `null_type` unless the schema is nullable).
    fn null(&mut self, value: &impl JsonValue, nullable: bool) -> bool {
        if value.is_null() && !nullable {
            self.fail("null_type", "must not be null");
        }
        value.is_null()
    }

    /// A schema without a type: only null is checked.
    pub fn any(&mut self, value: &impl JsonValue, nullable: bool) {
        self.null(value, nullable);
    }

    /// The string, or `None` after recording why not.
    pub fn string<'v>(&mut self, value: &'v impl JsonValue, nullable: bool) -> Option<&'v str> {
        if self.null(value, nullable) {
            return None;
        }
        let text = value.as_str();
        if text.is_none() {
            self.fail("string_type", "must be a string");
        }
        text
    }

    /// The integer, or `None` after recording why not.
    pub fn integer(&mut self, value: &impl JsonValue, nullable: bool) -> Option<i128> {
        if self.null(value, nullable) {
            return None;
        }
        let n = value
            .as_i64()
            .map(i128::from)
            .or_else(|| value.as_u64().map(i128::from));
        if n.is_none() {
            self.fail("int_type", "must be an integer");
        }
        n
    }

    /// The number, or `None` after recording why not.
    pub fn number(&mut self, value: &impl JsonValue, nullable: bool) -> Option<f64> {
        if self.null(value, nullable) {
            return None;
        }
        let n = value.as_f64();
        if n.is_none() {
            self.fail("number_type", "must be a number");
        }
        n
    }

    /// The boolean, or `None` after recording why not.
    pub fn boolean(&mut self, value: &impl JsonValue, nullable: bool) -> Option<bool> {
        if self.null(value, nullable) {
            return None;
        }
        let b = value.as_bool();
        if b.is_none() {
            self.fail("bool_type", "must be a boolean");
        }
        b
    }

    /// The object, or `None` after recording why not.
    pub fn object<'v, V: JsonValue>(&mut self, value: &'v V, nullable: bool) -> Option<&'v V::Object> {
        if self.null(value, nullable) {
            return None;
        }
        let object = value.as_object();
        if object.is_none() {
            self.fail("object_type", "must be an object");
        }
        object
    }

    /// The array, or `None` after recording why not.
    pub fn array<'v, V: JsonValue>(&mut self, value: &'v V, nullable: bool) -> Option<&'v [V]> {
        if self.null(value, nullable) {
            return None;
        }
        let items = value.as_array();
        if items.is_none() {
            self.fail("array_type", "must be an array");
        }
        items
    }

    /// Every key in `required` is present.
    pub fn required(&mut self, object: &(impl JsonObject + ?Sized), required: &[&'static str]) {
        for key in required {
            if !object.contains_key(key) {
                self.missing(key);
            }
        }
    }

    /// No key outside `known` (`additionalProperties: false`).
    pub fn no_extra(&mut self, object: &(impl JsonObject + ?Sized), known: &[&str]) {
        for (key, _) in object.entries().filter(|(key, _)| !known.contains(key)) {
            self.enter(key.to_owned());
            self.fail("extra_forbidden", "extra fields not permitted");
            self.leave();
        }
    }

    /// A string `enum`; `message` (generated) lists `allowed`.
    pub fn one_of_str(&mut self, text: &str, allowed: &[&str], message: &'static str) {
        if !allowed.contains(&text) {
            self.fail("enum", message);
        }
    }

    /// An integer `enum`.
    pub fn one_of_int(&mut self, n: i128, allowed: &[i128]) {
        if !allowed.contains(&n) {
            let list: Vec<String> = allowed.iter().map(i128::to_string).collect();
            self.fail("enum", format!("must be one of {}", list.join(", ")));
        }
    }

    /// `minLength`, counted in characters; `message` (generated) states it.
    pub fn min_length(&mut self, text: &str, min: usize, message: &'static str) {
        if text.chars().count() < min {
            self.fail("string_too_short", message);
        }
    }

    /// `maxLength`, counted in characters; `message` (generated) states it.
    pub fn max_length(&mut self, text: &str, max: usize, message: &'static str) {
        // Cheap first: a string of at most `max` bytes has at most `max` characters.
        if text.len() > max && text.chars().count() > max {
            self.fail("string_too_long", message);
        }
    }

    /// `pattern`.
    pub fn pattern(&mut self, text: &str, pattern: &Pattern) {
        // A value already too short or too long gets that one clear error, not a pattern error on top (pydantic
        // reports one constraint per value, too).
        if self.errors.last().is_some_and(|e| e.loc == self.loc) {
            return;
        }
        if !pattern.is_match(text) {
            self.fail(
                "string_pattern_mismatch",
                format!("must match the pattern `{}`", pattern.source),
            );
        }
    }

    /// `format: uuid`.
    pub fn uuid(&mut self, text: &str) {
        if uuid::Uuid::parse_str(text).is_err() {
            self.fail("uuid_parsing", "must be a UUID");
        }
    }

    /// `format: date-time` (RFC 3339).
    pub fn date_time(&mut self, text: &str) {
        if chrono::DateTime::parse_from_rfc3339(text).is_err() {
            self.fail("datetime_parsing", "must be an RFC 3339 date-time");
        }
    }

    /// `format: date` (RFC 3339 full-date).
    pub fn date(&mut self, text: &str) {
        if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
            self.fail("date_parsing", "must be an RFC 3339 full-date (YYYY-MM-DD)");
        }
    }

    /// `minimum` / `exclusiveMinimum` of an integer.
    pub fn int_minimum(&mut self, n: i128, min: i128, exclusive: bool) {
        if exclusive && n <= min {
            self.fail("greater_than", format!("must be greater than {min}"));
        } else if n < min {
            self.fail("greater_than_equal", format!("must be greater than or equal to {min}"));
        }
    }

    /// `maximum` / `exclusiveMaximum` of an integer.
    pub fn int_maximum(&mut self, n: i128, max: i128, exclusive: bool) {
        if exclusive && n >= max {
            self.fail("less_than", format!("must be less than {max}"));
        } else if n > max {
            self.fail("less_than_equal", format!("must be less than or equal to {max}"));
        }
    }

    /// `minimum` / `exclusiveMinimum` of a number.
    pub fn minimum(&mut self, x: f64, min: f64, exclusive: bool) {
        if exclusive && x <= min {
            self.fail("greater_than", format!("must be greater than {min}"));
        } else if x < min {
            self.fail("greater_than_equal", format!("must be greater than or equal to {min}"));
        }
    }

    /// `maximum` / `exclusiveMaximum` of a number.
    pub fn maximum(&mut self, x: f64, max: f64, exclusive: bool) {
        if exclusive && x >= max {
            self.fail("less_than", format!("must be less than {max}"));
        } else if x > max {
            self.fail("less_than_equal", format!("must be less than or equal to {max}"));
        }
    }

    /// `multipleOf`.
    pub fn multiple_of(&mut self, x: f64, factor: f64) {
        let ratio = x / factor;
        if (ratio - ratio.round()).abs() > 1e-9 {
            self.fail("multiple_of", format!("must be a multiple of {factor}"));
        }
    }

    /// `minItems`.
    pub fn min_items<V>(&mut self, items: &[V], min: usize) {
        if items.len() < min {
            self.fail("too_short", format!("must have at least {min} item{}", plural(min)));
        }
    }

    /// `maxItems`.
    pub fn max_items<V>(&mut self, items: &[V], max: usize) {
        if items.len() > max {
            self.fail("too_long", format!("must have at most {max} item{}", plural(max)));
        }
    }

    /// A validator at the same place with nothing recorded, to try one option of a union.
    pub fn fork(&self) -> Self {
        Self {
            loc: self.loc.clone(),
            errors: Vec::new(),
        }
    }

    /// The verdict on a union once each option was tried: `oneOf` (`exactly_one`) needs one match, `anyOf` at
    /// least one.
    pub fn union(&mut self, matched: usize, exactly_one: bool) {
        let which = if exactly_one { "oneOf" } else { "anyOf" };
        if matched == 0 {
            self.fail("union_no_match", format!("must match one of the schemas in {which}"));
        } else if exactly_one && matched > 1 {
            self.fail(
                "union_multiple_match",
                "must match exactly one of the schemas in oneOf, but matches several",
            );
        }
    }

    /// A discriminator property whose value names no schema.
    pub fn bad_tag(&mut self, property: &'static str, allowed: &[&str]) {
        self.enter(property);
        let list: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
        self.fail("union_tag_invalid", format!("must be one of {}", list.join(", ")));
        self.leave();
    }

    /// `not`: `matched` is whether the value matched the schema it must not match.
    pub fn not(&mut self, matched: bool) {
        if matched {
            self.fail("not_allowed", "must not match the schema in `not`");
        }
    }

    /// A number `enum`.
    pub fn one_of_number(&mut self, x: f64, allowed: &[f64]) {
        if !allowed.contains(&x) {
            let list: Vec<String> = allowed.iter().map(f64::to_string).collect();
            self.fail("enum", format!("must be one of {}", list.join(", ")));
        }
    }

    /// An untyped `enum` of several JSON types: the value must equal one of `allowed` (`null` passes when
    /// `nullable`).
    pub fn one_of_literal(&mut self, value: &impl JsonValue, nullable: bool, allowed: &[Literal]) {
        if value.is_null() && nullable {
            return;
        }
        let equal = |literal: &Literal| match *literal {
            Literal::Bool(b) => value.as_bool() == Some(b),
            Literal::Integer(i) => value.as_i64() == Some(i) || value.as_f64() == Some(i as f64),
            Literal::Number(x) => value.as_f64() == Some(x),
            Literal::String(s) => value.as_str() == Some(s),
        };
        if allowed.is_empty() {
            // A 3.1 `type: 'null'`: null and nothing else, pydantic's `none_required`.
            self.fail("none_required", "must be null");
        } else if !allowed.iter().any(equal) {
            let list: Vec<String> = allowed.iter().map(Literal::to_string).collect();
            self.fail("enum", format!("must be one of {}", list.join(", ")));
        }
    }

    /// A boolean `enum`.
    pub fn one_of_bool(&mut self, b: bool, allowed: &[bool]) {
        if !allowed.contains(&b) {
            let list: Vec<String> = allowed.iter().map(bool::to_string).collect();
            self.fail("enum", format!("must be one of {}", list.join(", ")));
        }
    }

    /// `minProperties`.
    pub fn min_properties(&mut self, object: &(impl JsonObject + ?Sized), min: usize) {
        if object.len() < min {
            self.fail(
                "too_short",
                format!("must have at least {min} propert{}", if min == 1 { "y" } else { "ies" }),
            );
        }
    }

    /// `maxProperties`.
    pub fn max_properties(&mut self, object: &(impl JsonObject + ?Sized), max: usize) {
        if object.len() > max {
            self.fail(
                "too_long",
                format!("must have at most {max} propert{}", if max == 1 { "y" } else { "ies" }),
            );
        }
    }

    /// `uniqueItems`.
    pub fn unique_items(&mut self, items: &[impl PartialEq]) {
        // Quadratic, but bounded by the body limit, and arrays with uniqueItems are short in practice.
        let repeated = items.iter().enumerate().any(|(i, a)| items[..i].contains(a));
        if repeated {
            self.fail("unique_items", "must not contain the same item twice");
        }
    }

    /// How many violations are recorded so far.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// `Ok` if nothing was recorded, else a 422 listing every violation.
    pub fn finish(self) -> Result<(), Rejection> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Rejection::validation(self.errors))
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A member of an untyped `enum` of several JSON types.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal {
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A number that is not an integer.
    Number(f64),
    /// A string.
    String(&'static str),
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Number(x) => write!(f, "{x}"),
            Literal::String(s) => write!(f, "'{s}'"),
        }
    }
}

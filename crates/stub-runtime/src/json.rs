//! What generated validators read a JSON value through: [`JsonValue`], implemented by serde_json's `Value`
//! (parameters, forms, text bodies) and by [`Tree`], the tree a JSON body is parsed into for its violation walk.
//! A `Tree` borrows its strings and keys from the request's bytes (only a string with an escape is copied), so
//! listing a body's violations allocates one vector per object or array and copies no secret.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use zeroize::Zeroize as _;

/// A JSON value as a validator reads it.
pub trait JsonValue: PartialEq {
    /// The value's object type.
    type Object: JsonObject<Value = Self> + ?Sized;

    /// Whether the value is `null`.
    fn is_null(&self) -> bool;
    /// The string, if the value is one.
    fn as_str(&self) -> Option<&str>;
    /// The integer, if the value is one that fits an `i64`.
    fn as_i64(&self) -> Option<i64>;
    /// The integer, if the value is one that fits a `u64`.
    fn as_u64(&self) -> Option<u64>;
    /// The number, if the value is one.
    fn as_f64(&self) -> Option<f64>;
    /// The boolean, if the value is one.
    fn as_bool(&self) -> Option<bool>;
    /// The object, if the value is one.
    fn as_object(&self) -> Option<&Self::Object>;
    /// The items, if the value is an array.
    fn as_array(&self) -> Option<&[Self]>
    where
        Self: Sized;
}

/// A JSON object as a validator reads it: keys are unique.
pub trait JsonObject {
    /// The type of its values.
    type Value;

    /// The value under `key`.
    fn get(&self, key: &str) -> Option<&Self::Value>;
    /// Whether `key` is present.
    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// How many keys there are.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Every key with its value.
    fn entries(&self) -> impl Iterator<Item = (&str, &Self::Value)>;
}

impl JsonValue for Value {
    type Object = Map<String, Value>;

    fn is_null(&self) -> bool {
        self.is_null()
    }
    fn as_str(&self) -> Option<&str> {
        self.as_str()
    }
    fn as_i64(&self) -> Option<i64> {
        self.as_i64()
    }
    fn as_u64(&self) -> Option<u64> {
        self.as_u64()
    }
    fn as_f64(&self) -> Option<f64> {
        self.as_f64()
    }
    fn as_bool(&self) -> Option<bool> {
        self.as_bool()
    }
    fn as_object(&self) -> Option<&Map<String, Value>> {
        self.as_object()
    }
    fn as_array(&self) -> Option<&[Value]> {
        self.as_array().map(Vec::as_slice)
    }
}

impl JsonObject for Map<String, Value> {
    type Value = Value;

    fn get(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
    fn contains_key(&self, key: &str) -> bool {
        self.contains_key(key)
    }
    fn len(&self) -> usize {
        self.len()
    }
    fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.iter().map(|(key, value)| (key.as_str(), value))
    }
}

/// A JSON value whose strings and keys borrow from the text it was parsed from (see the module docs). Numbers
/// compare as serde_json's do: `1` and `1.0` differ.
#[derive(Debug, PartialEq)]
pub enum Tree<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A non-negative integer.
    PosInt(u64),
    /// A negative integer.
    NegInt(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Tree<'a>>),
    /// An object.
    Object(Object<'a>),
}

/// A JSON object of a [`Tree`]: its entries in the order given, keys unique.
#[derive(Debug, Default)]
pub struct Object<'a>(Vec<(Cow<'a, str>, Tree<'a>)>);

impl PartialEq for Object<'_> {
    // As for maps: the same keys with equal values, in any order.
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().all(|(key, value)| other.get(key) == Some(value))
    }
}

impl<'a> JsonValue for Tree<'a> {
    type Object = Object<'a>;

    fn is_null(&self) -> bool {
        matches!(self, Tree::Null)
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Tree::String(text) => Some(text),
            _ => None,
        }
    }
    fn as_i64(&self) -> Option<i64> {
        match *self {
            Tree::PosInt(n) => i64::try_from(n).ok(),
            Tree::NegInt(n) => Some(n),
            _ => None,
        }
    }
    fn as_u64(&self) -> Option<u64> {
        match *self {
            Tree::PosInt(n) => Some(n),
            _ => None,
        }
    }
    fn as_f64(&self) -> Option<f64> {
        match *self {
            Tree::PosInt(n) => Some(n as f64),
            Tree::NegInt(n) => Some(n as f64),
            Tree::Float(x) => Some(x),
            _ => None,
        }
    }
    fn as_bool(&self) -> Option<bool> {
        match *self {
            Tree::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Tree::Object(object) => Some(object),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&[Tree<'a>]> {
        match self {
            Tree::Array(items) => Some(items),
            _ => None,
        }
    }
}

impl<'a> JsonObject for Object<'a> {
    type Value = Tree<'a>;

    fn get(&self, key: &str) -> Option<&Tree<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, value)| value)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn entries(&self) -> impl Iterator<Item = (&str, &Tree<'a>)> {
        self.0.iter().map(|(key, value)| (&**key, value))
    }
}

impl Tree<'_> {
    /// Wipes every string this tree owns (those that had an escape) and every key it owns: the body may hold
    /// secrets. Borrowed strings belong to the request's bytes.
    pub(crate) fn scrub(&mut self) {
        let wipe = |text: &mut Cow<'_, str>| {
            if let Cow::Owned(owned) = text {
                owned.zeroize();
            }
        };
        match self {
            Tree::String(text) => wipe(text),
            Tree::Array(items) => items.iter_mut().for_each(Tree::scrub),
            Tree::Object(Object(entries)) => entries.iter_mut().for_each(|(key, value)| {
                wipe(key);
                value.scrub();
            }),
            Tree::Null | Tree::Bool(_) | Tree::PosInt(_) | Tree::NegInt(_) | Tree::Float(_) => {}
        }
    }
}

/// Reads a [`Tree`] strictly: a key that appears twice in one object is an error (serde_json's `Value` keeps the
/// last one silently, so what is validated could differ from what another parser reads).
impl<'de> serde::Deserialize<'de> for Tree<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

/// Past this many keys, an object's keys are also remembered by hash, so that checking a key for a duplicate stays
/// constant time: a body is at most the body limit, which could otherwise hold an object whose check is quadratic.
const LINEAR_KEYS: usize = 16;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Tree<'de>, E> {
        Ok(Tree::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Tree<'de>, E> {
        Ok(u64::try_from(v).map_or(Tree::NegInt(v), Tree::PosInt))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Tree<'de>, E> {
        Ok(Tree::PosInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Tree<'de>, E> {
        // As serde_json's `Value`: a number that is not finite (out of range in the text) is null.
        Ok(if v.is_finite() { Tree::Float(v) } else { Tree::Null })
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Tree<'de>, E> {
        Ok(Tree::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Tree<'de>, E> {
        Ok(Tree::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Tree<'de>, E> {
        Ok(Tree::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Tree<'de>, E> {
        Ok(Tree::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree<'de>, A::Error> {
        let mut entries: Vec<(Cow<'de, str>, Tree<'de>)> = Vec::new();
        let mut hashes: Option<(RandomState, HashSet<u64>)> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let duplicate = match &mut hashes {
                None => {
                    let duplicate = entries.iter().any(|(k, _)| *k == key);
                    if entries.len() + 1 == LINEAR_KEYS {
                        let state = RandomState::new();
                        let mut seen: HashSet<u64> = entries.iter().map(|(k, _)| state.hash_one(&**k)).collect();
                        seen.insert(state.hash_one(&*key));
                        hashes = Some((state, seen));
                    }
                    duplicate
                }
                // A hash seen before is a duplicate only if the key itself is.
                Some((state, seen)) => !seen.insert(state.hash_one(&*key)) && entries.iter().any(|(k, _)| *k == key),
            };
            if duplicate {
                return Err(A::Error::custom("duplicate key"));
            }
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Tree::Object(Object(entries)))
    }
}

/// An object key, borrowed from the text unless it has an escape.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

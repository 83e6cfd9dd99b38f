//! A deserializer adapter for the one-pass decode: serde's derived structs also accept a JSON array of their fields
//! in order (`["openai", "sk-…"]`), which the schema forbids. Wrapping the deserializer at every level turns each
//! `deserialize_struct` into `deserialize_map`, so only a JSON object can become a struct; everything else passes
//! through untouched.
//!
//! It also makes failing cheap: the one-pass decode only needs to know *whether* a body fits its type (the
//! violations come from the walk that follows a failure), so the errors that derived visitors raise are a
//! [`Quiet`], which formats nothing. serde's messages (`unknown variant `…`, expected one of …`, `missing field`)
//! would otherwise be formatted, with the submitted value in them, for every invalid request, and then dropped. And
//! the real deserializer's first error is kept and handed back unchanged on the way out, level by level, rather than
//! made again at each (serde_json searches every new error's message for a position: a tenth of a 422's work).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

/// The error inside the adapter: only that the body does not fit its type.
#[derive(Debug)]
pub(super) struct Quiet;

impl fmt::Display for Quiet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("does not match its type")
    }
}

impl std::error::Error for Quiet {}

impl serde::de::Error for Quiet {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Quiet
    }
}

/// Turns a [`Quiet`] into the real deserializer's error where the adapter hands control back to it: with an empty
/// message, which costs no formatting.
fn loud<E: serde::de::Error>(_: Quiet) -> E {
    E::custom("")
}

/// The error that ends an access: the real deserializer's, kept in the access's slot, or a new empty one when the
/// visitor itself refused (with a [`Quiet`]).
fn kept<E: serde::de::Error>(slot: Option<E>) -> E {
    slot.unwrap_or_else(|| E::custom(""))
}

/// Deserializes like `D`, but a struct only from a map.
pub(super) struct ObjectsOnly<D>(pub(super) D);

macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Wrap(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectsOnly<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Wrap(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Wrap(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // The point of this adapter: a struct is read from a map only.
        self.0.deserialize_map(Wrap(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Wrap(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A visitor whose nested deserializers are wrapped too.
struct Wrap<V>(V);

macro_rules! visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: serde::de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.0.$method::<Quiet>(v).map_err(loud)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    visit! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64) visit_i128(i128)
        visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64) visit_u128(u128) visit_f32(f32) visit_f64(f64)
        visit_char(char) visit_str(&str) visit_borrowed_str(&'de str) visit_string(String) visit_bytes(&[u8])
        visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none::<Quiet>().map_err(loud)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit::<Quiet>().map_err(loud)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(ObjectsOnly(deserializer))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(ObjectsOnly(deserializer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let mut slot = None;
        let visited = self.0.visit_seq(Access::new(seq, &mut slot));
        visited.map_err(|Quiet| kept(slot))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let mut slot = None;
        let visited = self.0.visit_map(Access::new(map, &mut slot));
        visited.map_err(|Quiet| kept(slot))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        let mut slot = None;
        let visited = self.0.visit_enum(Access::new(data, &mut slot));
        visited.map_err(|Quiet| kept(slot))
    }
}

/// A seed whose deserializer is wrapped.
struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(ObjectsOnly(deserializer))
    }
}

/// A sequence, map, enum or variant access whose nested deserializers are wrapped; the first error the real
/// deserializer raises is kept in `slot` for the visitor method that began the access (see [`kept`]).
struct Access<'s, A, E> {
    inner: A,
    slot: &'s mut Option<E>,
}

impl<'s, A, E> Access<'s, A, E> {
    fn new(inner: A, slot: &'s mut Option<E>) -> Self {
        Self { inner, slot }
    }
}

/// Keeps the first error in `slot` and answers [`Quiet`].
fn keep<E>(slot: &mut Option<E>, error: E) -> Quiet {
    slot.get_or_insert(error);
    Quiet
}

impl<'de, A: SeqAccess<'de, Error = E>, E> SeqAccess<'de> for Access<'_, A, E> {
    type Error = Quiet;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Quiet> {
        self.inner
            .next_element_seed(Seed(seed))
            .map_err(|error| keep(self.slot, error))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de, Error = E>, E> MapAccess<'de> for Access<'_, A, E> {
    type Error = Quiet;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Quiet> {
        self.inner
            .next_key_seed(Seed(seed))
            .map_err(|error| keep(self.slot, error))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Quiet> {
        self.inner
            .next_value_seed(Seed(seed))
            .map_err(|error| keep(self.slot, error))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'s, 'de, A: EnumAccess<'de, Error = E>, E> EnumAccess<'de> for Access<'s, A, E> {
    type Error = Quiet;
    type Variant = Access<'s, A::Variant, E>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self::Variant), Quiet> {
        match self.inner.variant_seed(Seed(seed)) {
            Ok((value, variant)) => Ok((value, Access::new(variant, self.slot))),
            Err(error) => Err(keep(self.slot, error)),
        }
    }
}

impl<'de, A: VariantAccess<'de, Error = E>, E> VariantAccess<'de> for Access<'_, A, E> {
    type Error = Quiet;

    fn unit_variant(self) -> Result<(), Quiet> {
        self.inner.unit_variant().map_err(|error| keep(self.slot, error))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Quiet> {
        self.inner
            .newtype_variant_seed(Seed(seed))
            .map_err(|error| keep(self.slot, error))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Quiet> {
        self.inner
            .tuple_variant(len, Wrap(visitor))
            .map_err(|error| keep(self.slot, error))
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Quiet> {
        self.inner
            .struct_variant(fields, Wrap(visitor))
            .map_err(|error| keep(self.slot, error))
    }
}

//! A serde `Deserializer` adapter under which a struct is read only from a JSON object, at every depth.
//!
//! serde's derived struct visitors also accept a sequence and read it into the fields by position, so
//! `{"address": ["Main St 1", "Apt 2", "Berlin"]}` would become line_1, line_2 and city. Under
//! `ObjectsOnly`, `deserialize_struct` becomes `deserialize_map`, and every value handed on (through
//! `Option`, sequences, maps, newtypes and enum variants) is wrapped again, so the rule holds however deep
//! the struct sits. A struct variant of an externally tagged enum refuses a sequence the same way.
//!
//! What goes around it: serde buffers the content of internally tagged and untagged enums and of
//! `#[serde(flatten)]` fields and reads it without this adapter. Request bodies use none of them (a test
//! below checks the DTO sources), which is also why tagged shapes such as the expiry policy keep their
//! `type` as a string.

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, SeqAccess, Unexpected, VariantAccess, Visitor,
};
use std::fmt;

/// Wraps a deserializer (for JSON: `&mut serde_json::Deserializer`).
pub struct ObjectsOnly<D>(pub D);

/// Wraps what a visitor is given, so that nested values are read under the same rule.
struct Wrap<V> {
    visitor: V,
    /// The visitor reads a struct: it takes a map only, and says it expects an object.
    object: bool,
}

impl<V> Wrap<V> {
    fn any(visitor: V) -> Wrap<V> {
        Wrap { visitor, object: false }
    }

    fn object(visitor: V) -> Wrap<V> {
        Wrap { visitor, object: true }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method(Wrap::any(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectsOnly<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Wrap::object(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap::any(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Wrap::any(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap::any(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Wrap::any(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Wrap::any(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: serde::de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.visitor.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not "struct AddressBody": the client knows objects, not our type names.
        if self.object { f.write_str("a JSON object") } else { self.visitor.expecting(f) }
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_some(ObjectsOnly(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_newtype_struct(ObjectsOnly(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.object {
            return Err(A::Error::invalid_type(Unexpected::Seq, &self));
        }
        self.visitor.visit_seq(Seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Map(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_enum(Enum(data))
    }
}

/// A seed whose deserializer is wrapped.
struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(ObjectsOnly(d))
    }
}

struct Seq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct Map<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Seed(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct Enum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<A> {
    type Error = A::Error;
    type Variant = Variant<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Seed(seed))?;
        Ok((value, Variant(variant)))
    }
}

struct Variant<A>(A);

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Seed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap::any(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap::object(visitor))
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::parse_json;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: Option<i64>,
        b: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Shape {
        Unit,
        Point { x: i64 },
        Wrapped(Inner),
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<Inner>,
        #[serde(default)]
        map: std::collections::BTreeMap<String, Inner>,
        #[serde(default)]
        nested: Option<Vec<Option<Inner>>>,
        #[serde(default)]
        shape: Option<Shape>,
        #[serde(default)]
        pair: Option<(i64, String)>,
        #[serde(default)]
        any: Option<serde_json::Value>,
    }

    /// Read, or refused with (error key, path).
    type Expected = Result<(), (&'static str, &'static str)>;

    /// Every struct refuses an array wherever it sits; arrays where the shape is a list (lists, tuples,
    /// free JSON) still read.
    #[test]
    fn a_struct_anywhere_in_a_body_refuses_an_array_and_names_the_path() {
        let cases: &[(&str, Expected)] = &[
            (r#"{"inner": {"a": 1, "b": "x"}}"#, Ok(())),
            (r#"[1, "x"]"#, Err(("invalid_type", ""))),
            (r#"{"inner": [1, "x"]}"#, Err(("invalid_type", "/inner"))),
            (r#"{"list": [{"a": 1}, [2, "y"]]}"#, Err(("invalid_type", "/list/1"))),
            (r#"{"map": {"k": [1]}}"#, Err(("invalid_type", "/map/k"))),
            (r#"{"nested": [null, {"a": 1}, [1]]}"#, Err(("invalid_type", "/nested/2"))),
            (r#"{"shape": {"point": [3]}}"#, Err(("invalid_type", "/shape/point"))),
            (r#"{"shape": {"point": {"x": 3}}}"#, Ok(())),
            (r#"{"shape": {"wrapped": [1, "x"]}}"#, Err(("invalid_type", "/shape/wrapped"))),
            (r#"{"shape": {"wrapped": {"a": 1}}}"#, Ok(())),
            (r#"{"shape": "unit"}"#, Ok(())),
            (r#"{"pair": [1, "x"]}"#, Ok(())),
            (r#"{"any": [[1], {"a": [2]}]}"#, Ok(())),
            (r#"{"inner": "text"}"#, Err(("invalid_type", "/inner"))),
            (r#"{"inner": {"c": 1}}"#, Err(("unknown_field", "/inner/c"))),
        ];
        let mut mismatches = Vec::new();
        for (body, expected) in cases {
            let found = parse_json::<Outer>(body.as_bytes())
                .map(|_| ())
                .map_err(|e| (e.key, e.details["path"].as_str().unwrap_or("?").to_owned()));
            let expected = expected.map_err(|(key, path)| (key, path.to_owned()));
            if found != expected {
                mismatches.push(format!("{body}: found {found:?}, expected {expected:?}"));
            }
        }
        assert!(mismatches.is_empty(), "{mismatches:#?}");
    }

    #[test]
    fn the_message_says_an_object_is_expected_not_a_type_name() {
        let error = parse_json::<Outer>(br#"{"inner": ["x"]}"#).unwrap_err();
        assert!(error.message.contains("expected a JSON object"), "{}", error.message);
        assert!(!error.message.contains("Inner"), "{}", error.message);
    }

    #[test]
    fn values_read_through_the_adapter_are_the_same() {
        let body = r#"{"inner": {"a": 1, "b": "x"}, "list": [{"a": 2, "b": null}], "shape": {"point": {"x": 3}}}"#;
        let outer: Outer = parse_json(body.as_bytes()).unwrap();
        assert_eq!(outer.inner, Some(Inner { a: Some(1), b: Some("x".into()) }));
        assert_eq!(outer.list, vec![Inner { a: Some(2), b: None }]);
        assert_eq!(outer.shape, Some(Shape::Point { x: 3 }));
    }

    /// serde reads the content of these outside any adapter (see the module doc).
    #[test]
    fn request_bodies_use_no_serde_shape_that_buffers_content() {
        let sources = [
            include_str!("dto/common.rs"),
            include_str!("dto/customer.rs"),
            include_str!("dto/event.rs"),
            include_str!("dto/member.rs"),
            include_str!("dto/order.rs"),
            include_str!("dto/program.rs"),
            include_str!("dto/rule.rs"),
            include_str!("dto/segment.rs"),
            include_str!("routes/rules.rs"),
        ];
        let serde_attributes = sources.iter().flat_map(|s| s.lines()).filter(|l| l.trim().starts_with("#[serde("));
        for line in serde_attributes {
            for word in ["flatten", "untagged", "tag =", "content ="] {
                assert!(!line.contains(word), "a request body uses `{word}`: {line}");
            }
        }
    }
}

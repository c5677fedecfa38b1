//! Typed metadata: a bounded map from keys to string, number, boolean, date or list values.

use crate::limits::{METADATA_KEY_CHARS_MAX, METADATA_KEYS_MAX, METADATA_LIST_ITEMS_MAX, METADATA_STRING_CHARS_MAX};
use crate::rejection::{FieldError, FieldErrorKey};
use jiff::civil::Date;
use std::collections::BTreeMap;

/// One metadata value. A string of the exact form `YYYY-MM-DD` is a date, so that rules can compare it with
/// dates; every other string stays a string.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    Str(String),
    Num(f64),
    Bool(bool),
    Date(Date),
    List(Vec<MetaValue>),
}

/// What a client sent, before validation (the API turns JSON into this; nested objects never get here).
#[derive(Clone, Debug, PartialEq)]
pub enum RawMeta {
    Str(String),
    Num(f64),
    /// A whole number beyond `METADATA_EXACT_INTEGER_MAX`, which a number would not hold exactly.
    InexactInteger,
    Bool(bool),
    List(Vec<RawMeta>),
    Null,
    Nested,
}

/// A validated metadata map, keys sorted.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Metadata(pub BTreeMap<String, MetaValue>);

impl Metadata {
    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.0.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Validates a complete map (a `null` value is refused here; `merge` uses it to delete).
    pub fn parse(path: &str, raw: Vec<(String, RawMeta)>) -> Result<Metadata, Vec<FieldError>> {
        let mut merged = Metadata::default();
        let patch = MetadataPatch::parse(path, raw)?;
        for (key, value) in patch.0 {
            match value {
                Some(v) => {
                    merged.0.insert(key, v);
                }
                None => {
                    return Err(vec![FieldError::new(
                        format!("{path}/{key}"),
                        FieldErrorKey::InvalidFormat,
                        "must not be null",
                    )]);
                }
            }
        }
        Ok(merged)
    }

    /// Applies a patch: keys with a value are set, keys with `None` are removed. Fails over the key bound.
    pub fn merge(&self, path: &str, patch: &MetadataPatch) -> Result<Metadata, FieldError> {
        let mut merged = self.clone();
        for (key, value) in &patch.0 {
            match value {
                Some(v) => merged.0.insert(key.clone(), v.clone()),
                None => merged.0.remove(key),
            };
        }
        if merged.0.len() > METADATA_KEYS_MAX {
            return Err(too_many_keys(path));
        }
        Ok(merged)
    }
}

/// Keys to set (`Some`) or delete (`None`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetadataPatch(pub Vec<(String, Option<MetaValue>)>);

impl MetadataPatch {
    pub fn parse(path: &str, raw: Vec<(String, RawMeta)>) -> Result<MetadataPatch, Vec<FieldError>> {
        let mut errors = Vec::new();
        if raw.len() > METADATA_KEYS_MAX {
            errors.push(too_many_keys(path));
        }
        let mut out = Vec::with_capacity(raw.len());
        for (key, value) in raw {
            let key_path = format!("{path}/{key}");
            if key.is_empty() || key.chars().count() > METADATA_KEY_CHARS_MAX || key.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    &key_path,
                    FieldErrorKey::InvalidFormat,
                    format!("metadata keys are 1 to {METADATA_KEY_CHARS_MAX} printable characters"),
                ));
                continue;
            }
            match value {
                RawMeta::Null => out.push((key, None)),
                other => match parse_value(&key_path, other, true) {
                    Ok(v) => out.push((key, Some(v))),
                    Err(e) => errors.push(e),
                },
            }
        }
        if errors.is_empty() { Ok(MetadataPatch(out)) } else { Err(errors) }
    }
}

fn too_many_keys(path: &str) -> FieldError {
    FieldError::new(path, FieldErrorKey::TooMany, format!("metadata holds at most {METADATA_KEYS_MAX} keys"))
}

fn parse_value(path: &str, raw: RawMeta, lists_allowed: bool) -> Result<MetaValue, FieldError> {
    match raw {
        RawMeta::Str(s) => {
            if s.chars().count() > METADATA_STRING_CHARS_MAX {
                return Err(FieldError::new(
                    path,
                    FieldErrorKey::TooLong,
                    format!("metadata strings are at most {METADATA_STRING_CHARS_MAX} characters"),
                ));
            }
            Ok(as_date(&s).map_or(MetaValue::Str(s), MetaValue::Date))
        }
        RawMeta::Num(n) if n.is_finite() => Ok(MetaValue::Num(n)),
        RawMeta::Num(_) => Err(FieldError::new(path, FieldErrorKey::OutOfRange, "must be a finite number")),
        RawMeta::InexactInteger => Err(FieldError::new(
            path,
            FieldErrorKey::OutOfRange,
            format!(
                "whole numbers are kept exactly up to ±{}; send larger ids as strings",
                crate::limits::METADATA_EXACT_INTEGER_MAX
            ),
        )),
        RawMeta::Bool(b) => Ok(MetaValue::Bool(b)),
        RawMeta::List(items) if lists_allowed => {
            if items.len() > METADATA_LIST_ITEMS_MAX {
                return Err(FieldError::new(
                    path,
                    FieldErrorKey::TooMany,
                    format!("metadata lists hold at most {METADATA_LIST_ITEMS_MAX} values"),
                ));
            }
            let values = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| parse_value(&format!("{path}/{i}"), item, false))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(MetaValue::List(values))
        }
        RawMeta::List(_) | RawMeta::Nested | RawMeta::Null => Err(FieldError::new(
            path,
            FieldErrorKey::InvalidFormat,
            "metadata values are strings, numbers, booleans, dates (YYYY-MM-DD) or lists of those",
        )),
    }
}

/// Stored form: plain JSON scalars and lists. Dates are written as their `YYYY-MM-DD` text and come back as
/// dates, because a string of that exact shape is always a date (see `as_date`), so the round trip is lossless.
impl serde::Serialize for MetaValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MetaValue::Str(s) => serializer.serialize_str(s),
            MetaValue::Num(n) => serializer.serialize_f64(*n),
            MetaValue::Bool(b) => serializer.serialize_bool(*b),
            MetaValue::Date(d) => serializer.collect_str(d),
            MetaValue::List(items) => serializer.collect_seq(items),
        }
    }
}

impl<'de> serde::Deserialize<'de> for MetaValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MetaValueVisitor)
    }
}

struct MetaValueVisitor;

impl<'de> serde::de::Visitor<'de> for MetaValueVisitor {
    type Value = MetaValue;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a metadata value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<MetaValue, E> {
        Ok(MetaValue::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<MetaValue, E> {
        Ok(MetaValue::Num(v as f64))
    }

    fn visit_u64<E>(self, v: u64) -> Result<MetaValue, E> {
        Ok(MetaValue::Num(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<MetaValue, E> {
        Ok(MetaValue::Num(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<MetaValue, E> {
        Ok(as_date(v).map_or_else(|| MetaValue::Str(v.to_owned()), MetaValue::Date))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<MetaValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(MetaValue::List(items))
    }
}

/// A string is a date when it is exactly a valid `YYYY-MM-DD`.
pub fn as_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if shaped { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, RawMeta)]) -> Vec<(String, RawMeta)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn date_shaped_strings_become_dates_and_others_stay_strings() {
        let parsed = Metadata::parse(
            "/metadata",
            raw(&[("joined", RawMeta::Str("2024-05-01".into())), ("code", RawMeta::Str("2024-5-1".into()))]),
        )
        .unwrap();
        assert!(matches!(parsed.get("joined"), Some(MetaValue::Date(_))));
        assert!(matches!(parsed.get("code"), Some(MetaValue::Str(_))));
    }

    #[test]
    fn nested_objects_and_lists_of_lists_are_refused_with_their_path() {
        let errors = Metadata::parse(
            "/metadata",
            raw(&[("a", RawMeta::Nested), ("b", RawMeta::List(vec![RawMeta::List(vec![])]))]),
        )
        .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/metadata/a", "/metadata/b/0"]);
    }

    #[test]
    fn a_patch_sets_and_deletes_keys() {
        let base = Metadata::parse("/m", raw(&[("a", RawMeta::Num(1.0)), ("b", RawMeta::Bool(true))])).unwrap();
        let patch = MetadataPatch::parse("/m", raw(&[("a", RawMeta::Null), ("c", RawMeta::Str("x".into()))])).unwrap();
        let merged = base.merge("/m", &patch).unwrap();
        assert_eq!(merged.0.keys().collect::<Vec<_>>(), ["b", "c"]);
    }

    #[test]
    fn too_many_keys_is_refused() {
        let many: Vec<_> = (0..=METADATA_KEYS_MAX).map(|i| (format!("k{i}"), RawMeta::Bool(true))).collect();
        assert!(Metadata::parse("/m", many).is_err());
    }
}

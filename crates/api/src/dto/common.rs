//! Pieces shared by all resources: nullable patch fields, metadata, lists, timestamps.

use fidelis_core::customer::Patch;
use fidelis_core::limits::METADATA_EXACT_INTEGER_MAX;
use fidelis_core::metadata::{MetaValue, Metadata, MetadataPatch, RawMeta};
use fidelis_core::rejection::{FieldError, FieldErrors};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A patch field: absent (keep), `null` (clear) or a value (set).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Nullable<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Nullable::Null, Nullable::Value))
    }
}

impl<T> Nullable<T> {
    /// Validates a set value into a domain patch, recording a failure.
    pub fn parse<U>(&self, errors: &mut FieldErrors, check: impl FnOnce(&T) -> Result<U, FieldError>) -> Patch<U> {
        match self {
            Nullable::Absent => Patch::Keep,
            Nullable::Null => Patch::Clear,
            Nullable::Value(v) => errors.take(check(v)).map_or(Patch::Keep, Patch::Set),
        }
    }
}

fn raw_meta(value: &Value) -> RawMeta {
    match value {
        Value::Null => RawMeta::Null,
        Value::Bool(b) => RawMeta::Bool(*b),
        Value::Number(n) if n.as_i64().map_or(n.is_u64(), |i| i.unsigned_abs() > METADATA_EXACT_INTEGER_MAX) => {
            RawMeta::InexactInteger
        }
        Value::Number(n) => RawMeta::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => RawMeta::Str(s.clone()),
        Value::Array(items) => RawMeta::List(items.iter().map(raw_meta).collect()),
        Value::Object(_) => RawMeta::Nested,
    }
}

fn raw_pairs(map: &Map<String, Value>) -> Vec<(String, RawMeta)> {
    map.iter().map(|(k, v)| (k.clone(), raw_meta(v))).collect()
}

pub fn metadata_patch(errors: &mut FieldErrors, path: &str, map: Option<&Map<String, Value>>) -> MetadataPatch {
    let Some(map) = map else {
        return MetadataPatch::default();
    };
    match MetadataPatch::parse(path, raw_pairs(map)) {
        Ok(patch) => patch,
        Err(list) => {
            errors.0.extend(list);
            MetadataPatch::default()
        }
    }
}

pub fn metadata(errors: &mut FieldErrors, path: &str, map: Option<&Map<String, Value>>) -> Metadata {
    let Some(map) = map else {
        return Metadata::default();
    };
    match Metadata::parse(path, raw_pairs(map)) {
        Ok(m) => m,
        Err(list) => {
            errors.0.extend(list);
            Metadata::default()
        }
    }
}

fn meta_json(value: &MetaValue) -> Value {
    match value {
        MetaValue::Str(s) => Value::String(s.clone()),
        // Whole numbers go out as integers (`3`, not `3.0`), as they came in.
        MetaValue::Num(n) if n.fract() == 0.0 && n.abs() <= METADATA_EXACT_INTEGER_MAX as f64 => Value::from(*n as i64),
        MetaValue::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        MetaValue::Bool(b) => Value::Bool(*b),
        MetaValue::Date(d) => Value::String(d.to_string()),
        MetaValue::List(items) => Value::Array(items.iter().map(meta_json).collect()),
    }
}

pub fn metadata_json(m: &Metadata) -> Map<String, Value> {
    m.0.iter().map(|(k, v)| (k.clone(), meta_json(v))).collect()
}

pub fn time(t: Timestamp) -> String {
    t.to_string()
}

pub fn opt_time(t: Option<Timestamp>) -> Option<String> {
    t.map(time)
}

/// Parses an RFC 3339 timestamp (with offset) into an instant.
pub fn parse_time(path: &str, raw: &str) -> Result<Timestamp, FieldError> {
    raw.parse::<Timestamp>().map_err(|_| {
        FieldError::new(
            path,
            fidelis_core::rejection::FieldErrorKey::InvalidFormat,
            "must be an RFC 3339 timestamp like 2025-01-31T12:00:00Z",
        )
    })
}

/// A page of a newest-first list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListBody<T> {
    /// Always "list".
    pub object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
    /// Pass as `cursor` to get the next page.
    pub next_cursor: Option<String>,
}

impl<T> ListBody<T> {
    /// Builds a page from up to `limit + 1` items (the extra one only says there is more).
    pub fn page<S>(
        mut items: Vec<S>,
        limit: usize,
        id: impl Fn(&S) -> String,
        render: impl Fn(&S) -> T,
    ) -> ListBody<T> {
        let has_more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if has_more { items.last().map(&id) } else { None };
        ListBody { object: "list", data: items.iter().map(render).collect(), has_more, next_cursor }
    }
}

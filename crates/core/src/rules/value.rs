//! Runtime values of operands (borrowed, never allocated) and the comparison semantics: anything compared with
//! a missing value, or with a value of another kind (metadata of an unexpected type), is false.

use super::ast::{CompareOp, Literal, Weekday};
use crate::metadata::MetaValue;
use jiff::civil::Date;
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'v> {
    /// No customer/order/event, an unset field, a missing metadata key, no membership, no orders to average.
    Absent,
    Bool(bool),
    Int(i64),
    /// A plain number (metadata); never `-0`.
    Number(f64),
    /// Minor units of the project currency.
    Money(i64),
    Str(&'v str),
    Date(Date),
    Weekday(Weekday),
    /// Item collections.
    Strings(&'v [String]),
    /// A metadata list.
    List(&'v [MetaValue]),
}

impl<'v> Value<'v> {
    pub fn from_meta(meta: Option<&'v MetaValue>) -> Value<'v> {
        match meta {
            None => Value::Absent,
            Some(MetaValue::Str(s)) => Value::Str(s),
            Some(MetaValue::Num(x)) => Value::Number(if *x == 0.0 { 0.0 } else { *x }),
            Some(MetaValue::Bool(b)) => Value::Bool(*b),
            Some(MetaValue::Date(d)) => Value::Date(*d),
            Some(MetaValue::List(items)) => Value::List(items),
        }
    }

    pub fn from_text(text: Option<&'v str>) -> Value<'v> {
        text.map_or(Value::Absent, Value::Str)
    }

    pub fn from_literal(literal: &'v Literal) -> Value<'v> {
        match literal {
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Number(x) => Value::Number(*x),
            Literal::Money(m) => Value::Money(m.minor_units()),
            Literal::String(s) => Value::Str(s),
            Literal::Date(d) => Value::Date(*d),
            Literal::Weekday(d) => Value::Weekday(*d),
        }
    }
}

/// Equality of two values of the same kind; `None` when the kinds differ or one is missing.
fn equal(a: Value, b: Value) -> Option<bool> {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        (Value::Int(x), Value::Int(y)) => Some(x == y),
        (Value::Number(x), Value::Number(y)) => Some(x == y),
        (Value::Money(x), Value::Money(y)) => Some(x == y),
        (Value::Str(x), Value::Str(y)) => Some(x == y),
        (Value::Date(x), Value::Date(y)) => Some(x == y),
        (Value::Weekday(x), Value::Weekday(y)) => Some(x == y),
        _ => None,
    }
}

/// Order of two numbers, amounts or dates of the same kind.
fn ordering(a: Value, b: Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(&y)),
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(&y),
        (Value::Money(x), Value::Money(y)) => Some(x.cmp(&y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

pub(crate) fn compare(op: CompareOp, a: Value, b: Value) -> bool {
    match op {
        CompareOp::Eq => equal(a, b) == Some(true),
        CompareOp::Ne => equal(a, b) == Some(false),
        CompareOp::Lt => ordering(a, b) == Some(Ordering::Less),
        CompareOp::Le => matches!(ordering(a, b), Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Gt => ordering(a, b) == Some(Ordering::Greater),
        CompareOp::Ge => matches!(ordering(a, b), Some(Ordering::Greater | Ordering::Equal)),
        CompareOp::Contains => contains(a, b),
        CompareOp::StartsWith => {
            matches!((a, b), (Value::Str(s), Value::Str(prefix)) if s.starts_with(prefix))
        }
    }
}

fn contains(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Str(s), Value::Str(part)) => s.contains(part),
        (Value::Strings(list), Value::Str(wanted)) => list.iter().any(|s| s == wanted),
        (Value::List(items), b) => items.iter().any(|m| equal(Value::from_meta(Some(m)), b) == Some(true)),
        _ => false,
    }
}

/// Membership in a canonical (sorted, homogeneous) list, by bisection.
pub(crate) fn in_list(a: Value, list: &[Literal]) -> bool {
    let kinds_match = list.first().is_some_and(|first| cmp_literal(first, a).is_some());
    kinds_match && list.binary_search_by(|l| cmp_literal(l, a).unwrap_or(Ordering::Less)).is_ok()
}

/// `low <= a <= high`.
pub(crate) fn between(a: Value, low: &Literal, high: &Literal) -> bool {
    let above_low = matches!(ordering(a, Value::from_literal(low)), Some(Ordering::Greater | Ordering::Equal));
    above_low && matches!(ordering(a, Value::from_literal(high)), Some(Ordering::Less | Ordering::Equal))
}

/// How a list element compares with a value, in the order `canonical_list` sorts by.
fn cmp_literal(literal: &Literal, value: Value) -> Option<Ordering> {
    match (literal, value) {
        (Literal::Bool(x), Value::Bool(y)) => Some(x.cmp(&y)),
        (Literal::Int(x), Value::Int(y)) => Some(x.cmp(&y)),
        (Literal::Number(x), Value::Number(y)) => Some(x.total_cmp(&y)),
        (Literal::Money(x), Value::Money(y)) => Some(x.minor_units().cmp(&y)),
        (Literal::String(x), Value::Str(y)) => Some(x.as_str().cmp(y)),
        (Literal::Date(x), Value::Date(y)) => Some(x.cmp(&y)),
        (Literal::Weekday(x), Value::Weekday(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

/// A true/false operand used as a condition.
pub(crate) fn is_true(value: Value) -> bool {
    matches!(value, Value::Bool(true))
}

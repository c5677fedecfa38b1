//! Integer fields of request bodies, read one way everywhere. Any JSON whole number is taken, also written
//! as a float with a zero fraction (`3107.0`, `1e3`) as long as it is exact (at most 2^53 in magnitude);
//! a number with a fraction is a type error (400 `invalid_type`, "expected a whole number"); a whole
//! number outside the field's range, however large, is kept as data and reported by the body's validation
//! as a field error `out_of_range` with its path (422 `validation_failed`), next to the other field errors.

use fidelis_core::limits::{
    EXPIRY_DAYS_MAX, EXPIRY_MONTHS_MAX, ITEM_QUANTITY_MAX, MONEY_MINOR_UNITS_MAX, POINTS_BUDGET_MAX,
    POINTS_PER_OPERATION_MAX,
};
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use serde::de::{Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The largest magnitude at which every whole float is an exact integer: 2^53.
const FLOAT_EXACT_INTEGER_MAX: f64 = 9_007_199_254_740_992.0;

/// A whole number for a field whose range is `MIN..=MAX`, as sent: in range or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WholeNumber<const MIN: i64, const MAX: i64> {
    /// `None`: beyond 64 bits, or a float too large to be exact.
    sent: Option<i64>,
}

/// Minor units (prices, amounts, discounts).
pub type MinorUnits = WholeNumber<0, MONEY_MINOR_UNITS_MAX>;
/// Positive minor units (an earning step, a refund).
pub type PositiveMinorUnits = WholeNumber<1, MONEY_MINOR_UNITS_MAX>;
/// Points of one operation.
pub type PointsAmount = WholeNumber<1, POINTS_PER_OPERATION_MAX>;
/// Points over many operations (an earning rule's budget).
pub type PointsBudget = WholeNumber<1, POINTS_BUDGET_MAX>;
/// Days points stay pending (an order rule's return window).
pub type PendingDays = WholeNumber<1, { fidelis_core::earning::PENDING_DAYS_MAX as i64 }>;
/// A tier level's threshold (points or minor units).
pub type TierThreshold = WholeNumber<0, MONEY_MINOR_UNITS_MAX>;
/// Days of grace before a tier goes down.
pub type GraceDays = WholeNumber<0, { fidelis_core::tier::TIER_GRACE_DAYS_MAX as i64 }>;
/// Which anniversary of joining an anniversary rule names.
pub type AnniversaryYears = WholeNumber<1, { fidelis_core::earning::ANNIVERSARY_YEARS_MAX as i64 }>;
/// An hour boundary of a day, 0–24.
pub type HourOfDay = WholeNumber<0, 24>;
pub type Quantity = WholeNumber<1, ITEM_QUANTITY_MAX>;
pub type ExpiryDays = WholeNumber<1, { EXPIRY_DAYS_MAX as i64 }>;
pub type ExpiryMonths = WholeNumber<1, { EXPIRY_MONTHS_MAX as i64 }>;
/// A month of the year (the calendar's bound, not a limit of ours).
pub type MonthOfYear = WholeNumber<1, 12>;
/// A day of a month; whether the month has it is checked with the month.
pub type DayOfMonth = WholeNumber<1, 31>;

/// The field was out of range; its error is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused;

impl<const MIN: i64, const MAX: i64> WholeNumber<MIN, MAX> {
    /// A value for a response (responses reuse some body types).
    pub fn new(value: i64) -> Self {
        WholeNumber { sent: Some(value) }
    }

    /// The value when it is in range; otherwise records `out_of_range` at `path`.
    pub fn read(&self, errors: &mut FieldErrors, path: &str) -> Result<i64, Refused> {
        self.read_as(errors, path)
    }

    /// Like `read`, converted to the domain's integer type (which holds the whole range).
    pub fn read_as<T: TryFrom<i64>>(&self, errors: &mut FieldErrors, path: &str) -> Result<T, Refused> {
        match self.sent.filter(|v| (MIN..=MAX).contains(v)).and_then(|v| T::try_from(v).ok()) {
            Some(value) => Ok(value),
            None => {
                errors.push(path, FieldErrorKey::OutOfRange, format!("must be a whole number from {MIN} to {MAX}"));
                Err(Refused)
            }
        }
    }
}

/// An optional field: `Ok(None)` when absent.
pub fn read_optional<const MIN: i64, const MAX: i64>(
    field: &Option<WholeNumber<MIN, MAX>>,
    errors: &mut FieldErrors,
    path: &str,
) -> Result<Option<i64>, Refused> {
    field.as_ref().map(|n| n.read(errors, path)).transpose()
}

struct WholeVisitor;

impl Visitor<'_> for WholeVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Option<i64>, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Option<i64>, E> {
        Ok(i64::try_from(v).ok())
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Option<i64>, E> {
        Ok(i64::try_from(v).ok())
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Option<i64>, E> {
        Ok(i64::try_from(v).ok())
    }

    /// serde_json hands over `3107.0`, `1e3` and integers beyond 64 bits as floats.
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Option<i64>, E> {
        if !v.is_finite() || v.fract() != 0.0 {
            return Err(E::invalid_type(Unexpected::Float(v), &self));
        }
        // Exact: `v` is whole and within 2^53, so it converts without rounding.
        Ok((v.abs() <= FLOAT_EXACT_INTEGER_MAX).then_some(v as i64))
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for WholeNumber<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_i64(WholeVisitor).map(|sent| WholeNumber { sent })
    }
}

impl<const MIN: i64, const MAX: i64> Serialize for WholeNumber<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.sent {
            Some(v) => s.serialize_i64(v),
            None => s.serialize_none(),
        }
    }
}

impl<const MIN: i64, const MAX: i64> utoipa::PartialSchema for WholeNumber<MIN, MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        // The bounds are far below 2^53, so they are exact as JSON numbers.
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(MIN as f64))
            .maximum(Some(MAX as f64))
            .into()
    }
}

impl<const MIN: i64, const MAX: i64> utoipa::ToSchema for WholeNumber<MIN, MAX> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        month: MonthOfYear,
        #[serde(default)]
        amount: Option<MinorUnits>,
    }

    /// What happens to `{"month": <text>}`.
    #[derive(Debug, PartialEq)]
    enum Read {
        Value(i64),
        OutOfRange,
        TypeError,
    }

    fn read(text: &str) -> Read {
        match parse_json::<Body>(format!(r#"{{"month": {text}}}"#).as_bytes()) {
            Err(e) => {
                assert_eq!((e.key, &e.details["path"]), ("invalid_type", &serde_json::json!("/month")), "{text}");
                assert!(e.message.contains("expected a whole number"), "{text}: {}", e.message);
                Read::TypeError
            }
            Ok(body) => {
                let mut errors = FieldErrors::default();
                match body.month.read(&mut errors, "/month") {
                    Ok(v) => Read::Value(v),
                    Err(Refused) => {
                        assert_eq!(errors.0.len(), 1);
                        assert_eq!((errors.0[0].path.as_str(), errors.0[0].key), ("/month", FieldErrorKey::OutOfRange));
                        assert!(!errors.0[0].message.contains("i8"), "no Rust type in {}", errors.0[0].message);
                        Read::OutOfRange
                    }
                }
            }
        }
    }

    #[test]
    fn whole_numbers_read_however_written_and_the_range_is_checked_as_data() {
        let cases = [
            ("1", Read::Value(1)),
            ("12", Read::Value(12)),
            ("12.0", Read::Value(12)),
            ("1e1", Read::Value(10)),
            ("-0.0", Read::OutOfRange),
            ("0", Read::OutOfRange),
            ("13", Read::OutOfRange),
            ("200", Read::OutOfRange),
            ("-200", Read::OutOfRange),
            ("99999999999999999999999", Read::OutOfRange),
            ("-99999999999999999999999", Read::OutOfRange),
            ("18446744073709551615", Read::OutOfRange),
            ("1e300", Read::OutOfRange),
            ("1.5", Read::TypeError),
            ("12.000001", Read::TypeError),
            ("\"12\"", Read::TypeError),
            ("true", Read::TypeError),
            ("null", Read::TypeError),
        ];
        let mismatches: Vec<String> = cases
            .into_iter()
            .filter_map(|(text, expected)| {
                let found = read(text);
                (found != expected).then(|| format!("{text}: found {found:?}, expected {expected:?}"))
            })
            .collect();
        assert!(mismatches.is_empty(), "{mismatches:#?}");
    }

    #[test]
    fn floats_are_whole_numbers_only_while_they_are_exact() {
        let body: Body = parse_json(br#"{"month": 1, "amount": 9007199254740992.0}"#).unwrap();
        assert_eq!(body.amount.map(|a| a.sent), Some(Some(9_007_199_254_740_992)));
        let body: Body = parse_json(br#"{"month": 1, "amount": 9007199254740994.0}"#).unwrap();
        assert_eq!(body.amount.map(|a| a.sent), Some(None), "beyond 2^53 a float may be rounded: out of range");
        let body: Body = parse_json(br#"{"month": 1, "amount": 9007199254740993}"#).unwrap();
        assert_eq!(body.amount.map(|a| a.sent), Some(Some(9_007_199_254_740_993)), "integers are exact to 64 bits");
    }

    #[test]
    fn an_optional_field_is_absent_present_or_refused() {
        let mut errors = FieldErrors::default();
        assert_eq!(read_optional::<0, 5>(&None, &mut errors, "/x"), Ok(None));
        assert_eq!(read_optional(&Some(WholeNumber::<0, 5>::new(5)), &mut errors, "/x"), Ok(Some(5)));
        assert!(errors.is_empty());
        assert_eq!(read_optional(&Some(WholeNumber::<0, 5>::new(6)), &mut errors, "/x"), Err(Refused));
        assert_eq!(errors.0[0].message, "must be a whole number from 0 to 5");
    }
}

//! `Money` (integer minor units of the project currency) and `Points`, both with checked arithmetic.

use crate::limits::{MONEY_MINOR_UNITS_MAX, POINTS_PER_OPERATION_MAX};
use std::fmt;

/// An amount in minor units (cents). Never a float. Construction checks the global bound.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// A non-negative amount within `MONEY_MINOR_UNITS_MAX`.
    pub fn new(minor_units: i64) -> Option<Money> {
        (0..=MONEY_MINOR_UNITS_MAX).contains(&minor_units).then_some(Money(minor_units))
    }

    pub fn minor_units(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).and_then(Money::new)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).and_then(Money::new)
    }

    /// `self × quantity`, bounded.
    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).and_then(Money::new)
    }

    /// Sum of many amounts; `None` on overflow of the bound.
    pub fn sum(amounts: impl IntoIterator<Item = Money>) -> Option<Money> {
        amounts.into_iter().try_fold(Money::ZERO, Money::checked_add)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({})", self.0)
    }
}

/// A number of points. Signed, because ledger entries and balances (where a program allows debt) can be
/// negative; operations take `Points::positive` amounts.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Points(i64);

impl Points {
    pub const ZERO: Points = Points(0);

    /// A positive amount for one operation, within `POINTS_PER_OPERATION_MAX`.
    pub fn positive(value: i64) -> Option<Points> {
        (1..=POINTS_PER_OPERATION_MAX).contains(&value).then_some(Points(value))
    }

    /// Any value, for projections read back from storage and sums.
    pub fn from_stored(value: i64) -> Points {
        Points(value)
    }

    pub fn value(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Points) -> Option<Points> {
        self.0.checked_add(other.0).map(Points)
    }

    pub fn checked_sub(self, other: Points) -> Option<Points> {
        self.0.checked_sub(other.0).map(Points)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn min(self, other: Points) -> Points {
        Points(self.0.min(other.0))
    }

    pub fn negated(self) -> Points {
        Points(-self.0)
    }

    pub fn checked_neg(self) -> Option<Points> {
        self.0.checked_neg().map(Points)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn max(self, other: Points) -> Points {
        Points(self.0.max(other.0))
    }

    /// Sum of many amounts; `None` on overflow.
    pub fn sum(amounts: impl IntoIterator<Item = Points>) -> Option<Points> {
        amounts.into_iter().try_fold(Points::ZERO, Points::checked_add)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Points({})", self.0)
    }
}

/// An ISO 4217 currency with its number of minor-unit digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Currencies whose minor unit is not 1/100.
const NON_CENT_CURRENCIES: &[(&str, u8)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

impl Currency {
    /// Three ASCII letters; case-insensitive on input, upper case afterwards.
    pub fn parse(raw: &str) -> Option<Currency> {
        let bytes = raw.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let code = [bytes[0].to_ascii_uppercase(), bytes[1].to_ascii_uppercase(), bytes[2].to_ascii_uppercase()];
        let text = std::str::from_utf8(&code).ok()?;
        let exponent = NON_CENT_CURRENCIES.iter().find(|(c, _)| *c == text).map_or(2, |(_, e)| *e);
        Some(Currency { code, exponent })
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits after the decimal point (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Parses a decimal amount in major units ("50", "50.5", "50.00") into minor units.
    /// Rejects more decimals than the currency has, signs and exponents.
    pub fn parse_major(&self, text: &str) -> Option<Money> {
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
            return None;
        }
        if fraction.len() > usize::from(self.exponent) || (text.contains('.') && fraction.is_empty()) {
            return None;
        }
        let scale = 10_i64.checked_pow(u32::from(self.exponent))?;
        let whole_units: i64 = whole.parse().ok()?;
        let mut fraction_units: i64 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
        for _ in fraction.len()..usize::from(self.exponent) {
            fraction_units = fraction_units.checked_mul(10)?;
        }
        Money::new(whole_units.checked_mul(scale)?.checked_add(fraction_units)?)
    }

    /// Formats minor units as a decimal in major units ("12.00"). Negative values keep their sign.
    pub fn format_major(&self, minor_units: i64) -> String {
        let exponent = u32::from(self.exponent);
        if exponent == 0 {
            return minor_units.to_string();
        }
        let scale = 10_i128.pow(exponent);
        let value = i128::from(minor_units);
        let sign = if value < 0 { "-" } else { "" };
        let magnitude = value.abs();
        format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale, width = exponent as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("eur").expect("EUR is a currency")
    }

    #[test]
    fn money_refuses_negative_and_oversized_amounts() {
        assert_eq!(Money::new(-1), None);
        assert_eq!(Money::new(MONEY_MINOR_UNITS_MAX + 1), None);
        assert!(Money::new(MONEY_MINOR_UNITS_MAX).is_some());
    }

    #[test]
    fn money_arithmetic_stops_at_the_bound_instead_of_wrapping() {
        let max = Money::new(MONEY_MINOR_UNITS_MAX).unwrap();
        assert_eq!(max.checked_add(Money::new(1).unwrap()), None);
        assert_eq!(Money::new(5).unwrap().checked_mul(i64::MAX), None);
        assert_eq!(Money::new(5).unwrap().checked_sub(Money::new(6).unwrap()), None);
    }

    #[test]
    fn points_for_an_operation_must_be_positive_and_bounded() {
        assert_eq!(Points::positive(0), None);
        assert_eq!(Points::positive(-3), None);
        assert_eq!(Points::positive(POINTS_PER_OPERATION_MAX + 1), None);
        assert_eq!(Points::positive(7).map(Points::value), Some(7));
    }

    #[test]
    fn major_unit_text_becomes_minor_units_in_the_currency() {
        let cases = [
            ("50.00", Some(5000)),
            ("50", Some(5000)),
            ("0.5", Some(50)),
            ("12.345", None),
            ("-1", None),
            ("1e3", None),
            ("1.", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(eur().parse_major(text).map(Money::minor_units), expected, "{text}");
        }
        let yen = Currency::parse("JPY").unwrap();
        assert_eq!(yen.parse_major("500").map(Money::minor_units), Some(500));
        assert_eq!(yen.parse_major("500.1"), None);
        let dinar = Currency::parse("KWD").unwrap();
        assert_eq!(dinar.parse_major("1.5").map(Money::minor_units), Some(1500));
    }

    #[test]
    fn minor_units_format_as_major_unit_text() {
        assert_eq!(eur().format_major(1200), "12.00");
        assert_eq!(eur().format_major(-5), "-0.05");
        assert_eq!(Currency::parse("JPY").unwrap().format_major(500), "500");
    }

    #[test]
    fn currency_codes_are_three_letters() {
        assert!(Currency::parse("EURO").is_none());
        assert!(Currency::parse("E1R").is_none());
        assert_eq!(Currency::parse("usd").unwrap().code(), "USD");
    }
}

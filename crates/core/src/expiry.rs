//! Expiry policies (L4): when a lot earned on a given local date stops being usable.

use crate::calendar::{Period, add_days, add_months, end_of_period};
use crate::limits::{EXPIRY_DAYS_MAX, EXPIRY_MONTHS_MAX};
use crate::rejection::{FieldError, FieldErrorKey};
use jiff::civil::Date;

/// How long earned points stay usable. `expires_on` is the last usable day; expiry runs at the midnight
/// that follows it, in the program's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExpiryPolicy {
    Never,
    AfterDays {
        days: i32,
        round_to: Option<Period>,
    },
    AfterMonths {
        months: i32,
        round_to: Option<Period>,
    },
    /// The end of the next occurrence of this day of the year (29 Feb clamps to 28 Feb in common years).
    FixedDayOfYear {
        month: i8,
        day: i8,
    },
}

impl ExpiryPolicy {
    pub fn after_days(days: i32, round_to: Option<Period>) -> Result<ExpiryPolicy, FieldError> {
        if (1..=EXPIRY_DAYS_MAX).contains(&days) {
            Ok(ExpiryPolicy::AfterDays { days, round_to })
        } else {
            Err(FieldError::new(
                "/expiry/days",
                FieldErrorKey::OutOfRange,
                format!("must be between 1 and {EXPIRY_DAYS_MAX}"),
            ))
        }
    }

    pub fn after_months(months: i32, round_to: Option<Period>) -> Result<ExpiryPolicy, FieldError> {
        if (1..=EXPIRY_MONTHS_MAX).contains(&months) {
            Ok(ExpiryPolicy::AfterMonths { months, round_to })
        } else {
            Err(FieldError::new(
                "/expiry/months",
                FieldErrorKey::OutOfRange,
                format!("must be between 1 and {EXPIRY_MONTHS_MAX}"),
            ))
        }
    }

    pub fn fixed_day_of_year(month: i8, day: i8) -> Result<ExpiryPolicy, FieldError> {
        if Date::new(2024, month, day).is_ok() {
            Ok(ExpiryPolicy::FixedDayOfYear { month, day })
        } else {
            Err(FieldError::new("/expiry", FieldErrorKey::OutOfRange, "month and day must name a day of the year"))
        }
    }

    /// The last usable day of points earned on `earned_on`; `None` when they never expire.
    pub fn expires_on(&self, earned_on: Date) -> Option<Date> {
        match *self {
            ExpiryPolicy::Never => None,
            ExpiryPolicy::AfterDays { days, round_to } => add_days(earned_on, days).map(|d| round(d, round_to)),
            ExpiryPolicy::AfterMonths { months, round_to } => add_months(earned_on, months).map(|d| round(d, round_to)),
            ExpiryPolicy::FixedDayOfYear { month, day } => next_occurrence(earned_on, month, day),
        }
    }
}

fn round(date: Date, round_to: Option<Period>) -> Date {
    round_to.map_or(date, |period| end_of_period(date, period))
}

fn occurrence_in(year: i16, month: i8, day: i8) -> Option<Date> {
    let clamped = Date::new(year, month, 1).ok()?.days_in_month().min(day);
    Date::new(year, month, clamped).ok()
}

fn next_occurrence(after: Date, month: i8, day: i8) -> Option<Date> {
    let this_year = occurrence_in(after.year(), month, day)?;
    if this_year > after { Some(this_year) } else { occurrence_in(after.year().checked_add(1)?, month, day) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn expiry_dates_follow_the_policy_table() {
        let cases = [
            (ExpiryPolicy::Never, date(2024, 1, 31), None),
            (ExpiryPolicy::AfterDays { days: 30, round_to: None }, date(2024, 1, 31), Some(date(2024, 3, 1))),
            (ExpiryPolicy::AfterMonths { months: 1, round_to: None }, date(2023, 1, 31), Some(date(2023, 2, 28))),
            (ExpiryPolicy::AfterMonths { months: 1, round_to: None }, date(2024, 1, 31), Some(date(2024, 2, 29))),
            (
                ExpiryPolicy::AfterMonths { months: 12, round_to: Some(Period::Month) },
                date(2024, 2, 10),
                Some(date(2025, 2, 28)),
            ),
            (
                ExpiryPolicy::AfterMonths { months: 2, round_to: Some(Period::Quarter) },
                date(2024, 2, 10),
                Some(date(2024, 6, 30)),
            ),
            (
                ExpiryPolicy::AfterDays { days: 1, round_to: Some(Period::HalfYear) },
                date(2024, 6, 30),
                Some(date(2024, 12, 31)),
            ),
            (
                ExpiryPolicy::AfterMonths { months: 12, round_to: Some(Period::Year) },
                date(2024, 3, 3),
                Some(date(2025, 12, 31)),
            ),
            (ExpiryPolicy::FixedDayOfYear { month: 12, day: 31 }, date(2024, 3, 3), Some(date(2024, 12, 31))),
            (ExpiryPolicy::FixedDayOfYear { month: 12, day: 31 }, date(2024, 12, 31), Some(date(2025, 12, 31))),
            (ExpiryPolicy::FixedDayOfYear { month: 2, day: 29 }, date(2024, 3, 1), Some(date(2025, 2, 28))),
        ];
        for (policy, earned, expected) in cases {
            assert_eq!(policy.expires_on(earned), expected, "{policy:?} earned {earned}");
        }
    }

    #[test]
    fn out_of_range_policies_are_refused() {
        assert!(ExpiryPolicy::after_days(0, None).is_err());
        assert!(ExpiryPolicy::after_months(EXPIRY_MONTHS_MAX + 1, None).is_err());
        assert!(ExpiryPolicy::fixed_day_of_year(2, 30).is_err());
        assert!(ExpiryPolicy::fixed_day_of_year(2, 29).is_ok());
    }
}

//! Calendar arithmetic in a time zone: local dates, month arithmetic with clamping, period ends.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// Calendar periods used by expiry rounding, tier periods and rule windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month,
    Quarter,
    HalfYear,
    Year,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::HalfYear => "half_year",
            Period::Year => "year",
        }
    }

    pub fn parse(raw: &str) -> Option<Period> {
        match raw {
            "month" => Some(Period::Month),
            "quarter" => Some(Period::Quarter),
            "half_year" => Some(Period::HalfYear),
            "year" => Some(Period::Year),
            _ => None,
        }
    }

    fn months(self) -> i8 {
        match self {
            Period::Month => 1,
            Period::Quarter => 3,
            Period::HalfYear => 6,
            Period::Year => 12,
        }
    }
}

/// The date `now` falls on in `tz`.
pub fn local_date(now: Timestamp, tz: &TimeZone) -> Date {
    now.to_zoned(tz.clone()).date()
}

/// The instant local midnight of `date` begins in `tz` (the first valid instant if midnight is skipped).
pub fn start_of_day(date: Date, tz: &TimeZone) -> Option<Timestamp> {
    date.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// `date + days`, `None` past the supported calendar.
pub fn add_days(date: Date, days: i32) -> Option<Date> {
    date.checked_add(Span::new().try_days(days).ok()?).ok()
}

/// `date + months`, clamped to the last day of the target month (31 Jan + 1 month → 28/29 Feb).
pub fn add_months(date: Date, months: i32) -> Option<Date> {
    date.checked_add(Span::new().try_months(months).ok()?).ok()
}

/// The first day of the period that contains `date`.
pub fn start_of_period(date: Date, period: Period) -> Date {
    let span = period.months();
    let month0 = date.month() - 1;
    let first_month = month0 - month0 % span + 1;
    Date::new(date.year(), first_month, 1).unwrap_or(date)
}

/// The last day of the period that contains `date`.
pub fn end_of_period(date: Date, period: Period) -> Date {
    let start = start_of_period(date, period);
    add_months(start, i32::from(period.months())).and_then(|next| next.yesterday().ok()).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn adding_a_month_to_the_31st_clamps_to_the_end_of_february() {
        assert_eq!(add_months(date(2023, 1, 31), 1), Some(date(2023, 2, 28)));
        assert_eq!(add_months(date(2024, 1, 31), 1), Some(date(2024, 2, 29)));
        assert_eq!(add_months(date(2024, 3, 31), -1), Some(date(2024, 2, 29)));
    }

    #[test]
    fn period_ends_cover_month_quarter_half_year_and_year() {
        let d = date(2024, 5, 17);
        assert_eq!(end_of_period(d, Period::Month), date(2024, 5, 31));
        assert_eq!(end_of_period(d, Period::Quarter), date(2024, 6, 30));
        assert_eq!(end_of_period(d, Period::HalfYear), date(2024, 6, 30));
        assert_eq!(end_of_period(date(2024, 7, 1), Period::HalfYear), date(2024, 12, 31));
        assert_eq!(end_of_period(d, Period::Year), date(2024, 12, 31));
        assert_eq!(start_of_period(d, Period::Quarter), date(2024, 4, 1));
    }

    #[test]
    fn the_local_date_depends_on_the_time_zone() {
        let instant: Timestamp = "2024-03-31T23:30:00Z".parse().unwrap();
        assert_eq!(local_date(instant, &TimeZone::UTC), date(2024, 3, 31));
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(local_date(instant, &berlin), date(2024, 4, 1));
    }
}

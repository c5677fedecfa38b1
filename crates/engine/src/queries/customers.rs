//! Customer windows: the aggregates rules read, as of an instant, for the customer view.

use fidelis_core::calendar::{Period, add_days, local_date, start_of_period};
use fidelis_core::customer::Customer;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

/// Spent (net, minor units) and paid orders over a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub spent: i64,
    pub orders: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Windows {
    pub last_30_days: Window,
    pub last_365_days: Window,
    pub this_calendar_year: Window,
    pub last_calendar_year: Window,
    /// Custom events of the last 30 days by name.
    pub events_last_30_days: BTreeMap<String, i64>,
}

/// The windows the rule language uses, as of `now` in the project's time zone (the same arithmetic as
/// the rule language: `last_N_days` includes today).
pub fn windows(c: &Customer, now: Timestamp, time_zone: &TimeZone) -> Windows {
    let today = local_date(now, time_zone);
    let back = |days: i32| add_days(today, -days).unwrap_or(today);
    let window = |from, to| {
        let (spent, orders) = c.stats.window(from, to);
        Window { spent, orders }
    };
    let year_start = start_of_period(today, Period::Year);
    let last_year_end = year_start.yesterday().unwrap_or(year_start);
    let from_30 = back(29);
    let mut events = BTreeMap::new();
    for e in c.stats.event_days.iter().filter(|e| e.day >= from_30 && e.day <= today) {
        *events.entry(e.name.clone()).or_default() += e.count;
    }
    Windows {
        last_30_days: window(from_30, today),
        last_365_days: window(back(364), today),
        this_calendar_year: window(year_start, today),
        last_calendar_year: window(start_of_period(last_year_end, Period::Year), last_year_end),
        events_last_30_days: events,
    }
}

//! Computed operands: history aggregates over windows (bisecting the customer's sorted daily buckets, sums
//! saturating), loyalty balance and tier, segment membership, and the calendar in the project's time zone.

use super::ast::{Call, Weekday, Window};
use super::eval::Env;
use super::value::Value;
use crate::calendar::{add_days, start_of_period};
use crate::stats::CustomerStats;
use jiff::civil::Date;

pub(crate) fn call_value<'v>(call: &'v Call, env: &Env<'v>) -> Value<'v> {
    match call {
        Call::Today => Value::Date(env.clock().today),
        Call::DayOfWeek => Value::Weekday(Weekday::of(env.clock().today)),
        Call::Hour => Value::Int(i64::from(env.clock().hour)),
        Call::Month => Value::Int(i64::from(env.clock().today.month())),
        _ => customer_call(call, env).unwrap_or(Value::Absent),
    }
}

/// Operands about the customer; `None` (absent) without a customer or without the data asked for.
fn customer_call<'v>(call: &'v Call, env: &Env<'v>) -> Option<Value<'v>> {
    let facts = env.customer()?;
    let customer = facts.customer;
    let stats = &customer.stats;
    let value = match call {
        Call::Spent(window) => Value::Money(spent_and_orders(stats, *window, env)?.0),
        Call::Orders(window) => Value::Int(spent_and_orders(stats, *window, env)?.1),
        Call::AverageOrderValue(window) => {
            let (spent, orders) = spent_and_orders(stats, *window, env)?;
            Value::Money(spent.checked_div(orders).filter(|_| orders > 0)?)
        }
        Call::Events(name, window) => Value::Int(events(stats, name, *window, env)?),
        Call::Redemptions(window) => Value::Int(redemptions(stats, *window, env)?),
        Call::DaysSinceLastOrder => Value::Int(days_between(env.local_date(stats.last_order_at?), env.clock().today)),
        Call::DaysSinceJoined => Value::Int(days_between(env.local_date(customer.created_at), env.clock().today)),
        Call::Balance(None) => {
            Value::Int(facts.loyalty.iter().fold(0_i64, |sum, l| sum.saturating_add(l.balance.value())))
        }
        Call::Balance(Some(program)) => {
            Value::Int(facts.loyalty.iter().find(|l| l.program_id == program)?.balance.value())
        }
        Call::Tier(program) => Value::Str(facts.loyalty.iter().find(|l| l.program_id == program)?.tier?),
        Call::InSegment(segment) => Value::Bool(facts.segments.binary_search(segment).is_ok()),
        Call::IsBirthdayMonth => Value::Bool(customer.profile.birthdate?.month() == env.clock().today.month()),
        Call::IsBirthday => Value::Bool(is_birthday(customer.profile.birthdate?, env.clock().today)),
        Call::Today | Call::DayOfWeek | Call::Hour | Call::Month => return None,
    };
    Some(value)
}

/// First and last day of a window ending `today`; `None` for `lifetime` (everything kept).
pub(crate) fn window_days(window: Window, today: Date) -> Option<(Date, Date)> {
    match window {
        Window::LastDays(days) => Some((add_days(today, 1 - i32::from(days))?, today)),
        Window::ThisCalendar(period) => Some((start_of_period(today, period), today)),
        Window::LastCalendar(period) => {
            let end = start_of_period(today, period).yesterday().ok()?;
            Some((start_of_period(end, period), end))
        }
        Window::Lifetime => None,
    }
}

/// Window bounds for bucketed data: lifetime covers every bucket.
fn bucket_range(window: Window, env: &Env) -> Option<(Date, Date)> {
    match window {
        Window::Lifetime => Some((Date::MIN, Date::MAX)),
        _ => window_days(window, env.clock().today),
    }
}

/// (Spent in minor units, paid orders) in the window; lifetime uses the customer's running totals.
fn spent_and_orders(stats: &CustomerStats, window: Window, env: &Env) -> Option<(i64, i64)> {
    if window == Window::Lifetime {
        return Some((stats.total_spent, stats.orders_count));
    }
    let (from, to) = bucket_range(window, env)?;
    let start = stats.days.partition_point(|d| d.day < from);
    let days = stats.days.get(start..).unwrap_or_default().iter().take_while(|d| d.day <= to);
    Some(days.fold((0_i64, 0_i64), |(s, o), d| (s.saturating_add(d.spent), o.saturating_add(d.orders))))
}

fn events(stats: &CustomerStats, name: &str, window: Window, env: &Env) -> Option<i64> {
    let (from, to) = bucket_range(window, env)?;
    let start = stats.event_days.partition_point(|e| (e.name.as_str(), e.day) < (name, from));
    let days = stats.event_days.get(start..).unwrap_or_default().iter();
    Some(days.take_while(|e| e.name == name && e.day <= to).fold(0_i64, |sum, e| sum.saturating_add(e.count)))
}

fn redemptions(stats: &CustomerStats, window: Window, env: &Env) -> Option<i64> {
    let (from, to) = bucket_range(window, env)?;
    let start = stats.redemption_days.partition_point(|d| d.day < from);
    let days = stats.redemption_days.get(start..).unwrap_or_default().iter();
    Some(days.take_while(|d| d.day <= to).fold(0_i64, |sum, d| sum.saturating_add(d.count)))
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub(crate) fn days_between(from: Date, to: Date) -> i64 {
    day_number(to) - day_number(from)
}

/// Days since 1970-01-01 (proleptic Gregorian; jiff's years ±9999 keep every step far from overflow).
pub(crate) fn day_number(date: Date) -> i64 {
    let month = i64::from(date.month());
    let year = i64::from(date.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(date.day()) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Birthdays on 29 February are celebrated on 28 February in common years.
fn is_birthday(birthdate: Date, today: Date) -> bool {
    let same_day = birthdate.month() == today.month() && birthdate.day() == today.day();
    let leap_birthday = birthdate.month() == 2 && birthdate.day() == 29;
    same_day || (leap_birthday && !today.in_leap_year() && today.month() == 2 && today.day() == 28)
}

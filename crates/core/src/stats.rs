//! Per-customer order aggregates (C1), kept current in the same commit as the order change that moves them.
//! Daily buckets let rules ask for windows (last N days, calendar periods) without reading order history.

use crate::calendar::add_days;
use jiff::Timestamp;
use jiff::civil::Date;

/// Days of daily buckets kept: enough for "previous calendar year" and "last 730 days".
pub const STATS_DAYS_KEPT: i32 = 800;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DayActivity {
    pub day: Date,
    /// Net amount spent on orders paid that day, in minor units (refunds subtract from the day of payment).
    pub spent: i64,
    /// Paid orders of that day that were not canceled or fully refunded.
    pub orders: i64,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CustomerStats {
    pub orders_count: i64,
    pub total_spent: i64,
    pub first_order_at: Option<Timestamp>,
    pub last_order_at: Option<Timestamp>,
    /// Sorted by day, only days with activity.
    pub days: Vec<DayActivity>,
    /// Custom events per name and day, sorted by (name, day).
    pub event_days: Vec<EventDay>,
    /// Redemptions per day, sorted by day (filled once rewards and promotions redeem).
    pub redemption_days: Vec<DayCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventDay {
    pub name: String,
    pub day: Date,
    pub count: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DayCount {
    pub day: Date,
    pub count: i64,
}

impl CustomerStats {
    /// Average order value in minor units, rounded down; 0 without orders.
    pub fn average_order_value(&self) -> i64 {
        if self.orders_count > 0 { self.total_spent / self.orders_count } else { 0 }
    }

    /// An order was paid: it counts, and its total is spent on `paid_on`.
    pub fn record_paid(&mut self, total: i64, paid_at: Timestamp, paid_on: Date, today: Date) {
        self.orders_count += 1;
        self.total_spent += total;
        self.first_order_at = Some(self.first_order_at.map_or(paid_at, |t| t.min(paid_at)));
        self.last_order_at = Some(self.last_order_at.map_or(paid_at, |t| t.max(paid_at)));
        if let Some(b) = self.bucket(paid_on) {
            b.spent += total;
            b.orders += 1;
        }
        self.prune(today);
    }

    /// Part of a paid order was refunded: the amount no longer counts as spent.
    pub fn record_refund(&mut self, amount: i64, paid_on: Date, today: Date) {
        self.total_spent -= amount;
        if let Some(b) = self.bucket(paid_on) {
            b.spent -= amount;
        }
        self.prune(today);
    }

    /// A paid order was canceled or fully refunded: it no longer counts as an order, and what was still
    /// counted as spent (`unrefunded`) is removed.
    pub fn record_uncounted(&mut self, unrefunded: i64, paid_on: Date, today: Date) {
        self.orders_count -= 1;
        self.total_spent -= unrefunded;
        if let Some(b) = self.bucket(paid_on) {
            b.spent -= unrefunded;
            b.orders -= 1;
        }
        self.prune(today);
    }

    /// A custom event of `name` happened on `day`.
    pub fn record_event(&mut self, name: &str, day: Date, today: Date) {
        match self.event_days.binary_search_by(|e| (e.name.as_str(), e.day).cmp(&(name, day))) {
            Ok(index) => self.event_days[index].count += 1,
            Err(index) => self.event_days.insert(index, EventDay { name: name.to_owned(), day, count: 1 }),
        }
        self.prune(today);
    }

    /// Events of `name` on days in `[from, to]`.
    pub fn events_in(&self, name: &str, from: Date, to: Date) -> i64 {
        self.event_days.iter().filter(|e| e.name == name && e.day >= from && e.day <= to).map(|e| e.count).sum()
    }

    /// Redemptions on days in `[from, to]`.
    pub fn redemptions_in(&self, from: Date, to: Date) -> i64 {
        self.redemption_days.iter().filter(|d| d.day >= from && d.day <= to).map(|d| d.count).sum()
    }

    /// Sum of (spent, orders) over days in `[from, to]`.
    pub fn window(&self, from: Date, to: Date) -> (i64, i64) {
        self.days.iter().filter(|d| d.day >= from && d.day <= to).fold((0, 0), |(s, o), d| (s + d.spent, o + d.orders))
    }

    /// The bucket of `day`, created when missing (pruning drops it again if it is too old).
    fn bucket(&mut self, day: Date) -> Option<&mut DayActivity> {
        match self.days.binary_search_by(|d| d.day.cmp(&day)) {
            Ok(index) => self.days.get_mut(index),
            Err(index) => {
                self.days.insert(index, DayActivity { day, spent: 0, orders: 0 });
                self.days.get_mut(index)
            }
        }
    }

    fn prune(&mut self, today: Date) {
        if let Some(oldest) = add_days(today, -STATS_DAYS_KEPT) {
            self.days.retain(|d| d.day >= oldest && (d.spent != 0 || d.orders != 0));
            self.event_days.retain(|e| e.day >= oldest);
            self.redemption_days.retain(|d| d.day >= oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn paid_refunded_and_canceled_orders_move_the_aggregates() {
        let today = date(2025, 3, 10);
        let mut stats = CustomerStats::default();
        stats.record_paid(5000, at("2025-03-01T10:00:00Z"), date(2025, 3, 1), today);
        stats.record_paid(3000, at("2025-03-05T10:00:00Z"), date(2025, 3, 5), today);
        assert_eq!((stats.orders_count, stats.total_spent, stats.average_order_value()), (2, 8000, 4000));
        stats.record_refund(1000, date(2025, 3, 1), today);
        assert_eq!(stats.window(date(2025, 3, 1), date(2025, 3, 1)), (4000, 1));
        stats.record_uncounted(3000, date(2025, 3, 5), today);
        assert_eq!((stats.orders_count, stats.total_spent), (1, 4000));
        assert_eq!(stats.days.len(), 1, "empty buckets are dropped");
        assert_eq!(stats.first_order_at, Some(at("2025-03-01T10:00:00Z")));
    }

    #[test]
    fn events_are_counted_per_name_and_day() {
        let today = date(2025, 3, 10);
        let mut stats = CustomerStats::default();
        stats.record_event("review", date(2025, 3, 1), today);
        stats.record_event("review", date(2025, 3, 1), today);
        stats.record_event("login", date(2025, 3, 2), today);
        stats.record_event("review", date(2025, 3, 9), today);
        assert_eq!(stats.events_in("review", date(2025, 3, 1), date(2025, 3, 8)), 2);
        assert_eq!(stats.events_in("review", date(2025, 1, 1), today), 3);
        assert_eq!(stats.events_in("login", date(2025, 3, 3), today), 0);
    }

    #[test]
    fn buckets_older_than_the_kept_window_are_dropped() {
        let mut stats = CustomerStats::default();
        stats.record_paid(100, at("2020-01-01T00:00:00Z"), date(2020, 1, 1), date(2020, 1, 1));
        stats.record_paid(100, at("2025-01-01T00:00:00Z"), date(2025, 1, 1), date(2025, 1, 1));
        assert_eq!(stats.days.len(), 1);
        assert_eq!(stats.total_spent, 200, "lifetime totals keep everything");
    }
}

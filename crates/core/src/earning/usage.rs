//! What each capped rule has credited to one member, per period: kept on the membership, so that the
//! member's own lock (PostgreSQL) and the single writer (SQLite) make per-customer caps exact, and an order
//! writes no row beyond the ones it already writes.

use super::Caps;
use crate::ids::EarningRuleId;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleUsage(pub Vec<RuleUse>);

/// One rule's credits to one member: the latest day, ISO week and month it credited in, with the sums there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleUse {
    pub rule_id: EarningRuleId,
    pub day: Date,
    pub day_points: i64,
    pub week: Date,
    pub week_points: i64,
    pub month: Date,
    pub month_points: i64,
    pub lifetime_points: i64,
}

/// The Monday of `date`'s ISO week.
pub fn week_start(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back)).unwrap_or(date)
}

fn month_start(date: Date) -> Date {
    date.first_of_month()
}

impl RuleUsage {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn of(&self, rule: &EarningRuleId) -> Option<&RuleUse> {
        self.0.iter().find(|u| &u.rule_id == rule)
    }

    /// Points the rule may still give this member today under its per-customer caps, with the cap that
    /// binds (`None` when none is set).
    pub fn room(&self, rule: &EarningRuleId, caps: &Caps, today: Date) -> Option<(i64, super::CapKind)> {
        use super::CapKind;
        let used = self.of(rule);
        let in_period = |start: Date, at: Option<(Date, i64)>| match at {
            Some((bucket, points)) if bucket == start => points,
            _ => 0,
        };
        let day = in_period(today, used.map(|u| (u.day, u.day_points)));
        let week = in_period(week_start(today), used.map(|u| (u.week, u.week_points)));
        let month = in_period(month_start(today), used.map(|u| (u.month, u.month_points)));
        let lifetime = used.map_or(0, |u| u.lifetime_points);
        [
            (caps.per_customer_day, day, CapKind::CustomerDay),
            (caps.per_customer_week, week, CapKind::CustomerWeek),
            (caps.per_customer_month, month, CapKind::CustomerMonth),
            (caps.per_customer_lifetime, lifetime, CapKind::CustomerLifetime),
        ]
        .into_iter()
        .filter_map(|(cap, used, kind)| cap.map(|c| ((c.value() - used).max(0), kind)))
        .min_by_key(|(room, _)| *room)
    }

    /// Records `points` credited by `rule` today.
    pub fn record(&mut self, rule: &EarningRuleId, points: i64, today: Date) {
        let (week, month) = (week_start(today), month_start(today));
        let index = match self.0.iter().position(|u| &u.rule_id == rule) {
            Some(index) => index,
            None => {
                self.0.push(RuleUse {
                    rule_id: rule.clone(),
                    day: today,
                    day_points: 0,
                    week,
                    week_points: 0,
                    month,
                    month_points: 0,
                    lifetime_points: 0,
                });
                self.0.len() - 1
            }
        };
        let u = &mut self.0[index];
        let roll = |bucket: &mut Date, sum: &mut i64, start: Date| {
            if *bucket != start {
                *bucket = start;
                *sum = 0;
            }
            *sum = sum.saturating_add(points);
        };
        roll(&mut u.day, &mut u.day_points, today);
        roll(&mut u.week, &mut u.week_points, week);
        roll(&mut u.month, &mut u.month_points, month);
        u.lifetime_points = u.lifetime_points.saturating_add(points);
    }
}

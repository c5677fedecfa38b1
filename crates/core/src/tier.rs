//! Tiers (L6): ordered levels of a program, qualified by the current balance, by points earned or by money
//! spent in the current calendar period or the rolling 12 months. Upgrades take effect at once; a status won in
//! a calendar period holds through the next one, and is reviewed when that ends (after an optional grace),
//! going down to what the member qualifies for then, or one level at a time. Balance tiers follow the balance
//! both ways. See `docs/earning.md` "Tiers".

use crate::calendar::{Period, add_days, add_months, end_of_period, start_of_period};
use crate::earning::Factor;
use crate::expiry::ExpiryPolicy;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Levels one program may have.
pub const TIER_LEVELS_MAX: usize = 20;
/// Longest grace before a downgrade, in days.
pub const TIER_GRACE_DAYS_MAX: u16 = 366;
/// Months of earned points a member keeps (the longest window, and the one before).
const EARNED_MONTHS_KEPT: usize = 24;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierConfig {
    pub basis: TierBasis,
    /// Ascending by threshold; names are unique.
    pub levels: Vec<TierLevel>,
    /// Down one level per review instead of straight to what the member qualifies for.
    pub downgrade_one_level: bool,
    /// Days after a status ends before it goes down.
    pub grace_days: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "window", rename_all = "snake_case")]
pub enum TierBasis {
    /// What the member can spend now.
    Balance,
    /// Points earned (earning rules and rate; not manual adds) in the window.
    Earned(TierWindow),
    /// Money spent (paid orders, net of refunds; minor units) in the window.
    Spend(TierWindow),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierWindow {
    Calendar(Period),
    Rolling12Months,
}

impl TierWindow {
    /// The first day of the window that ends `today`.
    pub fn start(self, today: Date) -> Date {
        match self {
            TierWindow::Calendar(period) => start_of_period(today, period),
            TierWindow::Rolling12Months => add_months(today.first_of_month(), -11).unwrap_or(today.first_of_month()),
        }
    }

    /// The last day a status won `today` is guaranteed: the end of the next calendar period; rolling
    /// windows are reviewed every day.
    fn guaranteed_through(self, today: Date) -> Date {
        match self {
            TierWindow::Calendar(period) => {
                let next = add_days(end_of_period(today, period), 1).unwrap_or(today);
                end_of_period(next, period)
            }
            TierWindow::Rolling12Months => today,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierLevel {
    pub name: String,
    /// Points (balance, earned) or minor units (spend) from which the level is reached.
    pub threshold: i64,
    /// Multiplies what the member's base earning rules give (with the multiplier rules).
    pub multiplier: Option<Factor>,
    /// A longer (or shorter) expiry for points earned at this level; the rule's own comes first.
    pub expiry: Option<ExpiryPolicy>,
}

/// A member's place in the tiers, kept on the membership.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberTier {
    /// The current level (`None`: below the first).
    pub level: Option<String>,
    pub since: Option<Date>,
    /// The last day the level is guaranteed (windowed bases); reviewed after it.
    pub until: Option<Date>,
    /// Points earned per month (first day of the month, points), oldest first.
    pub earned_months: Vec<(Date, i64)>,
}

/// How a member moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMove {
    Joined,
    Upgraded,
    Downgraded,
    Left,
    Prolonged,
}

impl TierMove {
    pub const ALL: [TierMove; 5] =
        [TierMove::Joined, TierMove::Upgraded, TierMove::Downgraded, TierMove::Left, TierMove::Prolonged];

    pub fn parse(raw: &str) -> Option<TierMove> {
        TierMove::ALL.into_iter().find(|m| m.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TierMove::Joined => "joined",
            TierMove::Upgraded => "upgraded",
            TierMove::Downgraded => "downgraded",
            TierMove::Left => "left",
            TierMove::Prolonged => "prolonged",
        }
    }
}

/// One move of a member's tier as the tier history keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierHistoryEntry {
    pub id: crate::ids::TierMoveId,
    pub project_id: crate::ids::ProjectId,
    pub program_id: crate::ids::ProgramId,
    pub membership_id: crate::ids::MembershipId,
    pub kind: TierMove,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The last day the new status is guaranteed (windowed bases).
    pub until: Option<Date>,
    pub created_at: jiff::Timestamp,
}

/// A move, with the levels before and after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierChange {
    pub kind: TierMove,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl MemberTier {
    /// Records points earned today.
    pub fn record_earned(&mut self, points: i64, today: Date) {
        let month = today.first_of_month();
        match self.earned_months.iter_mut().find(|(m, _)| *m == month) {
            Some((_, sum)) => *sum = sum.saturating_add(points),
            None => {
                self.earned_months.push((month, points));
                self.earned_months.sort_by_key(|(m, _)| *m);
            }
        }
        let excess = self.earned_months.len().saturating_sub(EARNED_MONTHS_KEPT);
        self.earned_months.drain(..excess);
    }

    /// Points earned from `from` (a first of month or a period start) up to today.
    pub fn earned_since(&self, from: Date) -> i64 {
        self.earned_months.iter().filter(|(m, _)| *m >= from.first_of_month()).map(|(_, p)| p).sum()
    }
}

impl TierConfig {
    /// The index of the highest level `value` reaches.
    pub fn qualify(&self, value: i64) -> Option<usize> {
        self.levels.iter().rposition(|l| value >= l.threshold)
    }

    pub fn index_of(&self, level: Option<&str>) -> Option<usize> {
        level.and_then(|name| self.levels.iter().position(|l| l.name == name))
    }

    pub fn level(&self, index: Option<usize>) -> Option<&TierLevel> {
        index.and_then(|i| self.levels.get(i))
    }

    fn window(&self) -> Option<TierWindow> {
        match self.basis {
            TierBasis::Balance => None,
            TierBasis::Earned(w) | TierBasis::Spend(w) => Some(w),
        }
    }

    fn set(&self, tier: &mut MemberTier, index: Option<usize>, today: Date) {
        tier.level = self.level(index).map(|l| l.name.clone());
        tier.since = index.map(|_| today);
        tier.until = index.and(self.window()).map(|w| w.guaranteed_through(today));
    }

    /// After a change of the member's `value`: an upgrade takes effect at once, reaching the same level again
    /// prolongs a windowed status; balance tiers also go down at once.
    pub fn on_change(&self, tier: &MemberTier, value: i64, today: Date) -> (MemberTier, Option<TierChange>) {
        let (current, reached) = (self.index_of(tier.level.as_deref()), self.qualify(value));
        let mut next = tier.clone();
        let kind = match (current, reached) {
            (None, Some(_)) => TierMove::Joined,
            (Some(c), Some(r)) if r > c => TierMove::Upgraded,
            (Some(c), Some(r)) if r == c => {
                let until = self.window().map(|w| w.guaranteed_through(today));
                if until <= tier.until {
                    return (next, None);
                }
                next.until = until;
                return (
                    next,
                    Some(TierChange { kind: TierMove::Prolonged, from: tier.level.clone(), to: tier.level.clone() }),
                );
            }
            (Some(c), r) if self.basis == TierBasis::Balance && r < Some(c) => {
                let target = if self.downgrade_one_level { r.max(c.checked_sub(1)) } else { r };
                self.set(&mut next, target, today);
                let kind = if target.is_some() { TierMove::Downgraded } else { TierMove::Left };
                return (next.clone(), Some(TierChange { kind, from: tier.level.clone(), to: next.level }));
            }
            _ => return (next, None),
        };
        self.set(&mut next, reached, today);
        (next.clone(), Some(TierChange { kind, from: tier.level.clone(), to: next.level }))
    }

    /// The daily review of a windowed status past its last guaranteed day and the grace: renewed if the member
    /// qualifies again, else down to what they reach (or one level).
    pub fn review(&self, tier: &MemberTier, value: i64, today: Date) -> (MemberTier, Option<TierChange>) {
        let current = self.index_of(tier.level.as_deref());
        let due = tier.until.and_then(|u| add_days(u, i32::from(self.grace_days))).is_some_and(|end| end < today);
        let Some(c) = current.filter(|_| due && self.window().is_some()) else { return (tier.clone(), None) };
        let reached = self.qualify(value);
        let mut next = tier.clone();
        if reached >= Some(c) {
            next.until = self.window().map(|w| w.guaranteed_through(today));
            return (
                next,
                Some(TierChange { kind: TierMove::Prolonged, from: tier.level.clone(), to: tier.level.clone() }),
            );
        }
        let target = if self.downgrade_one_level { reached.max(c.checked_sub(1)) } else { reached };
        self.set(&mut next, target, today);
        if target > reached {
            // Kept one level down without qualifying: until the end of the current period.
            next.until = self.window().map(|w| match w {
                TierWindow::Calendar(p) => end_of_period(today, p),
                TierWindow::Rolling12Months => today,
            });
        }
        let kind = if target.is_some() { TierMove::Downgraded } else { TierMove::Left };
        (next.clone(), Some(TierChange { kind, from: tier.level.clone(), to: next.level }))
    }

    /// What the basis counts now: `spendable` for balance tiers, the earned months, or `spent_since(start)`
    /// (money the customer spent from the window's first day to today).
    pub fn value(&self, tier: &MemberTier, spendable: i64, spent_since: impl Fn(Date) -> i64, today: Date) -> i64 {
        match self.basis {
            TierBasis::Balance => spendable,
            TierBasis::Earned(w) => tier.earned_since(w.start(today)),
            TierBasis::Spend(w) => spent_since(w.start(today)),
        }
    }

    /// "350 points to Gold, by 31 Dec": the next level, what is missing, and the window's end (calendar).
    pub fn progress(&self, tier: &MemberTier, value: i64, today: Date) -> Option<(String, i64, Option<Date>)> {
        let next = self.index_of(tier.level.as_deref()).map_or(0, |i| i + 1);
        let level = self.levels.get(next)?;
        let by = match self.window() {
            Some(TierWindow::Calendar(p)) => Some(end_of_period(today, p)),
            _ => None,
        };
        Some((level.name.clone(), (level.threshold - value).max(0), by))
    }
}

#[cfg(test)]
#[path = "tier_tests.rs"]
mod tests;

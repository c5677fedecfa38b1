//! Earning rules (L2): many per program, each saying when it fires (trigger, validity, eligibility), how
//! much it gives (amount, multipliers) and how much at most (caps, budget). The exact order of the
//! computation is in `docs/earning.md`; `decide` implements it.

mod amount;
mod decide;
mod draft;
mod usage;

#[cfg(test)]
mod tests;

pub use decide::{Award, Candidate, CapKind, Earning, NotFired, RuleReport, Situation, TriggerFacts, decide};
pub use draft::RuleDraft;
pub use usage::{RuleUsage, RuleUse, week_start};

use crate::expiry::ExpiryPolicy;
use crate::ids::{EarningRuleId, SegmentId};
use crate::money::{Money, Points};
use crate::rules::Weekday;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Earning rules one program may have (archived ones included).
pub const EARNING_RULES_PER_PROGRAM_MAX: usize = 100;
/// Segments one rule may require.
pub const RULE_SEGMENTS_MAX: usize = 20;
/// Products, SKUs or collections one per-item rule may name, each.
pub const RULE_ITEM_REFS_MAX: usize = 100;
/// Largest factor of a metadata rule (`factor` × the metadata number).
pub const METADATA_FACTOR_MAX: Factor = Factor(1_000_000 * Factor::ONE.0);
/// Longest pending period of an order rule, in days.
pub const PENDING_DAYS_MAX: u8 = 90;
/// The latest anniversary an anniversary rule may name.
pub const ANNIVERSARY_YEARS_MAX: i16 = 100;
/// Largest multiplier.
pub const MULTIPLIER_MAX: Factor = Factor(100 * Factor::ONE.0);

/// One version of a program's rule set, as it was when it was made: immutable.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    pub project_id: crate::ids::ProjectId,
    pub program_id: crate::ids::ProgramId,
    pub version: i64,
    pub rules: Vec<EarningRule>,
    pub tiers: Option<crate::tier::TierConfig>,
    pub created_at: Timestamp,
}

/// The rule (and rule-set version) a ledger entry's points came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    pub id: EarningRuleId,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarningRule {
    pub id: EarningRuleId,
    pub name: String,
    pub status: RuleStatus,
    pub trigger: Trigger,
    pub amount: Amount,
    /// A condition in the rule language, canonical JSON text (as stored for segments).
    pub condition: Option<String>,
    /// The member must be in at least one of these segments (none: no requirement).
    pub segments: Vec<SegmentId>,
    pub validity: Validity,
    pub caps: Caps,
    /// Overrides the program's expiry for the points this rule gives.
    pub expiry: Option<ExpiryPolicy>,
    /// Order rules: the points stay pending this many days (the return window) before they can be spent.
    #[serde(default)]
    pub pending_days: Option<u8>,
    /// The program's rule-set version in which this rule last changed.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl EarningRule {
    pub fn is_multiplier(&self) -> bool {
        matches!(self.amount, Amount::Multiplier { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Active,
    /// Fires nothing until resumed.
    Paused,
    /// Fires nothing, ever again; kept because ledger entries name it.
    Archived,
}

impl RuleStatus {
    pub const ALL: [RuleStatus; 3] = [RuleStatus::Active, RuleStatus::Paused, RuleStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Active => "active",
            RuleStatus::Paused => "paused",
            RuleStatus::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<RuleStatus> {
        RuleStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// What makes a rule fire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// An order becomes paid (once per order).
    OrderPaid,
    /// A custom event of this name is recorded (duplicates by client id earn nothing).
    Event { name: String },
    /// A customer joins the program (the signup bonus).
    MemberEnrolled,
    /// A member enters this segment (a dynamic segment's rule starts to hold, or a static one adds them).
    SegmentEntered { segment: SegmentId },
    /// A member leaves this segment.
    SegmentLeft { segment: SegmentId },
    /// A member reaches this tier level (joins the tiers at it, or is upgraded to it).
    TierReached { level: String },
    /// The member's birthday (once per calendar year), by the daily job.
    Birthday,
    /// The anniversary of joining the program (`years`: only that one, e.g. the 5th), by the daily job.
    Anniversary {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        years: Option<i16>,
    },
}

impl Trigger {
    pub const SEGMENT_ENTERED: &'static str = "segment_entered";
    pub const SEGMENT_LEFT: &'static str = "segment_left";
    pub const TIER_REACHED: &'static str = "tier_reached";
    pub const BIRTHDAY: &'static str = "birthday";
    pub const ANNIVERSARY: &'static str = "anniversary";
    /// Kinds fired by the daily occasions job.
    pub const OCCASIONS: [&'static str; 2] = [Trigger::BIRTHDAY, Trigger::ANNIVERSARY];

    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::OrderPaid => "order_paid",
            Trigger::Event { .. } => "event",
            Trigger::MemberEnrolled => "member_enrolled",
            Trigger::SegmentEntered { .. } => Trigger::SEGMENT_ENTERED,
            Trigger::SegmentLeft { .. } => Trigger::SEGMENT_LEFT,
            Trigger::TierReached { .. } => Trigger::TIER_REACHED,
            Trigger::Birthday => Trigger::BIRTHDAY,
            Trigger::Anniversary { .. } => Trigger::ANNIVERSARY,
        }
    }
}

/// How many points a rule gives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Amount {
    Fixed {
        points: Points,
    },
    /// `floor(base / every) × points` over the order's amount.
    Proportional {
        every: Money,
        points: Points,
        base: AmountBase,
    },
    /// Over the order's items that match.
    PerItem {
        items: ItemFilter,
        per: PerItem,
    },
    /// `floor(number × factor)` of a numeric metadata field of the event or order.
    Metadata {
        key: String,
        factor: Factor,
    },
    /// Multiplies what the other rules of the same trigger give (see `docs/earning.md`).
    Multiplier {
        factor: Factor,
    },
}

impl Amount {
    pub fn kind(&self) -> &'static str {
        match self {
            Amount::Fixed { .. } => "fixed",
            Amount::Proportional { .. } => "proportional",
            Amount::PerItem { .. } => "per_item",
            Amount::Metadata { .. } => "metadata",
            Amount::Multiplier { .. } => "multiplier",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountBase {
    /// What was paid: amount − discount (the default).
    AfterDiscounts,
    BeforeDiscounts,
}

impl AmountBase {
    pub fn as_str(self) -> &'static str {
        match self {
            AmountBase::AfterDiscounts => "after_discounts",
            AmountBase::BeforeDiscounts => "before_discounts",
        }
    }

    pub fn parse(raw: &str) -> Option<AmountBase> {
        [AmountBase::AfterDiscounts, AmountBase::BeforeDiscounts].into_iter().find(|b| b.as_str() == raw)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum PerItem {
    /// `points` per unit of every matching item.
    Quantity { points: Points },
    /// `floor(Σ matching item amounts / every) × points`.
    Amount { every: Money, points: Points },
}

/// Which items a per-item rule counts: an item matches when it names one of the products, one of the
/// SKUs or one of the collections. All lists empty: every item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFilter {
    pub product_ids: Vec<String>,
    pub sku_ids: Vec<String>,
    pub collections: Vec<String>,
}

impl ItemFilter {
    pub fn matches(&self, item: &crate::order_lines::OrderItem) -> bool {
        if self.product_ids.is_empty() && self.sku_ids.is_empty() && self.collections.is_empty() {
            return true;
        }
        let named = |list: &[String], value: &Option<String>| value.as_ref().is_some_and(|v| list.contains(v));
        named(&self.product_ids, &item.product_id)
            || named(&self.sku_ids, &item.sku_id)
            || item.collections.iter().any(|c| self.collections.contains(c))
    }
}

/// A non-negative decimal with three places, as thousandths (`1.5` is `Factor(1500)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Factor(pub i64);

impl Factor {
    pub const ONE: Factor = Factor(1000);

    /// A factor from a decimal number with at most three places, within `(0, max]`.
    pub fn from_decimal(value: f64, max: Factor) -> Option<Factor> {
        let thousandths = (value * 1000.0).round();
        let exact = (value * 1000.0 - thousandths).abs() < 1e-6;
        (exact && thousandths >= 1.0 && thousandths <= max.0 as f64).then_some(Factor(thousandths as i64))
    }

    pub fn to_decimal(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// `floor(points × self)`, saturating at what one operation may post.
    pub fn apply(self, points: i64) -> i64 {
        let product = i128::from(points) * i128::from(self.0) / 1000;
        i64::try_from(product.min(i128::from(crate::limits::POINTS_PER_OPERATION_MAX))).unwrap_or(0)
    }
}

/// When a rule may fire, in the program's time zone. Empty fields do not restrict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    pub starts_at: Option<Timestamp>,
    /// Exclusive.
    pub ends_at: Option<Timestamp>,
    pub days_of_week: Vec<WeekdayName>,
    pub hours: Option<HourRange>,
}

/// A weekday as stored (the rule language's `Weekday` has no serde form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeekdayName(pub u8);

impl WeekdayName {
    pub fn of(day: Weekday) -> WeekdayName {
        WeekdayName(Weekday::ALL.iter().position(|d| *d == day).unwrap_or(0) as u8)
    }

    pub fn weekday(self) -> Weekday {
        Weekday::ALL[usize::from(self.0 % 7)]
    }
}

/// Hours of the day `[from, to)`, 0–24; `from > to` spans midnight (22 → 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRange {
    pub from: u8,
    pub to: u8,
}

impl HourRange {
    pub fn contains(self, hour: i8) -> bool {
        let hour = hour.max(0) as u8;
        if self.from <= self.to { (self.from..self.to).contains(&hour) } else { hour >= self.from || hour < self.to }
    }
}

/// The most a rule gives. Per-customer caps count what the rule credited to the member in the current
/// calendar day / ISO week / month of the program's time zone, or ever; the budget counts every member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caps {
    pub per_event: Option<Points>,
    pub per_customer_day: Option<Points>,
    pub per_customer_week: Option<Points>,
    pub per_customer_month: Option<Points>,
    pub per_customer_lifetime: Option<Points>,
    pub budget: Option<Points>,
}

impl Caps {
    pub fn per_customer(&self) -> bool {
        self.per_customer_day.is_some()
            || self.per_customer_week.is_some()
            || self.per_customer_month.is_some()
            || self.per_customer_lifetime.is_some()
    }
}

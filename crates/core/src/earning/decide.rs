//! What a trigger earns in one program: every rule in order, each either fired (what it gave, with the
//! multiplier and the cap that applied) or not (why). Pure: the engine supplies the compiled conditions,
//! the member's usage, what is left of each budget, and the local time.

use super::amount;
use super::{EarningRule, Factor, RuleStatus, RuleUsage, Trigger};
use crate::expiry::ExpiryPolicy;
use crate::ids::{EarningRuleId, SegmentId};
use crate::metadata::Metadata;
use crate::money::{Currency, Points};
use crate::occasion::Occasion;
use crate::order::Order;
use crate::program::EarningRate;
use crate::rules::{Context, Rule, Trace, Weekday};
use jiff::Timestamp;
use jiff::civil::DateTime;

/// The trigger with what rule amounts read.
#[derive(Clone, Copy, Debug)]
pub enum TriggerFacts<'a> {
    OrderPaid { order: &'a Order },
    Event { name: &'a str, metadata: &'a Metadata },
    Enrolled,
    Segment { segment: &'a SegmentId, entered: bool },
    Tier { level: &'a str },
    Occasion(crate::occasion::Occasion),
}

impl TriggerFacts<'_> {
    fn matches(&self, trigger: &Trigger) -> bool {
        match (self, trigger) {
            (TriggerFacts::OrderPaid { .. }, Trigger::OrderPaid) => true,
            (TriggerFacts::Event { name, .. }, Trigger::Event { name: wanted }) => name == wanted,
            (TriggerFacts::Enrolled, Trigger::MemberEnrolled) => true,
            (TriggerFacts::Segment { segment, entered: true }, Trigger::SegmentEntered { segment: wanted }) => {
                *segment == wanted
            }
            (TriggerFacts::Segment { segment, entered: false }, Trigger::SegmentLeft { segment: wanted }) => {
                *segment == wanted
            }
            (TriggerFacts::Tier { level }, Trigger::TierReached { level: wanted }) => level == wanted,
            (TriggerFacts::Occasion(Occasion::Birthday { .. }), Trigger::Birthday) => true,
            (TriggerFacts::Occasion(Occasion::Anniversary { years, .. }), Trigger::Anniversary { years: wanted }) => {
                wanted.is_none_or(|w| w == *years)
            }
            _ => false,
        }
    }
}

/// A rule with its compiled condition.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    pub rule: &'a EarningRule,
    pub condition: Option<&'a Rule>,
}

/// Everything a decision reads besides the rules.
pub struct Situation<'a> {
    pub facts: TriggerFacts<'a>,
    /// What conditions are evaluated against.
    pub context: &'a Context<'a>,
    /// The member's segments, sorted.
    pub segments: &'a [SegmentId],
    pub now: Timestamp,
    /// `now` in the program's time zone (validity, per-customer periods).
    pub local: DateTime,
    pub usage: &'a RuleUsage,
    /// Points left in each budgeted rule's budget.
    pub budget_left: &'a dyn Fn(&EarningRuleId) -> i64,
    /// The program's own single rate ("every X paid → Y points"), a base rule of `order_paid` without id.
    pub rate: Option<EarningRate>,
    pub currency: Currency,
    /// The member's tier multiplier: multiplies every base rule with the multiplier rules.
    pub tier_multiplier: Option<Factor>,
    /// Report every rule, with condition traces and hints (they allocate); the fast path only decides the
    /// awards.
    pub explain: bool,
}

/// The caps a rule's points can be cut by, in the order they apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapKind {
    PerEvent,
    CustomerDay,
    CustomerWeek,
    CustomerMonth,
    CustomerLifetime,
    Budget,
}

impl CapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CapKind::PerEvent => "per_event",
            CapKind::CustomerDay => "per_customer_day",
            CapKind::CustomerWeek => "per_customer_week",
            CapKind::CustomerMonth => "per_customer_month",
            CapKind::CustomerLifetime => "per_customer_lifetime",
            CapKind::Budget => "budget",
        }
    }
}

/// Why a rule gave nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum NotFired {
    Paused,
    Archived,
    NotStarted {
        starts_at: Timestamp,
    },
    Ended {
        ends_at: Timestamp,
    },
    DayOfWeek {
        today: Weekday,
    },
    Hours {
        hour: i8,
    },
    /// The condition was false (the trace says which part, when explaining).
    Condition,
    NotInSegment,
    /// The amount came to nothing (an order below one step, no matching items, no metadata number).
    NothingEarned,
    /// A cap left no room.
    Capped(CapKind),
}

impl NotFired {
    pub fn as_str(&self) -> &'static str {
        match self {
            NotFired::Paused => "paused",
            NotFired::Archived => "archived",
            NotFired::NotStarted { .. } => "not_started",
            NotFired::Ended { .. } => "ended",
            NotFired::DayOfWeek { .. } => "day_of_week",
            NotFired::Hours { .. } => "hours",
            NotFired::Condition => "condition_failed",
            NotFired::NotInSegment => "not_in_segment",
            NotFired::NothingEarned => "nothing_earned",
            NotFired::Capped(_) => "capped",
        }
    }
}

/// One rule's part in a decision.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleReport {
    /// `None` for the program's own rate.
    pub rule_id: Option<EarningRuleId>,
    pub name: String,
    pub amount_kind: &'static str,
    pub outcome: Result<Fired, NotFired>,
    /// The condition's trace, when explaining and the rule has one.
    pub trace: Option<Trace>,
    /// A customer-safe hint: what would earn (more).
    pub hint: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fired {
    /// What the amount gave before multipliers and caps.
    pub base: i64,
    /// The product of the multipliers that applied (`None`: none did).
    pub multiplier: Option<Factor>,
    /// What is credited.
    pub points: i64,
    /// The cap that cut it, if one did.
    pub capped_by: Option<CapKind>,
}

/// Points to credit for one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Award {
    pub rule_id: Option<EarningRuleId>,
    pub points: Points,
    pub expiry: Option<ExpiryPolicy>,
    /// The points stay pending this many days.
    pub pending_days: Option<u8>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Earning {
    pub awards: Vec<Award>,
    /// When explaining: every rule of the trigger (and every multiplier), in the program's rule order.
    pub reports: Vec<RuleReport>,
}

/// Whether a rule may fire now: status, validity window, condition, segments.
fn eligible(rule: &EarningRule, condition: Option<&Rule>, s: &Situation<'_>) -> (Result<(), NotFired>, Option<Trace>) {
    let v = &rule.validity;
    let refused = match rule.status {
        RuleStatus::Paused => Some(NotFired::Paused),
        RuleStatus::Archived => Some(NotFired::Archived),
        RuleStatus::Active => None,
    }
    .or_else(|| v.starts_at.filter(|t| s.now < *t).map(|starts_at| NotFired::NotStarted { starts_at }))
    .or_else(|| v.ends_at.filter(|t| s.now >= *t).map(|ends_at| NotFired::Ended { ends_at }))
    .or_else(|| {
        let today = Weekday::of(s.local.date());
        let allowed = v.days_of_week.is_empty() || v.days_of_week.iter().any(|d| d.weekday() == today);
        (!allowed).then_some(NotFired::DayOfWeek { today })
    })
    .or_else(|| v.hours.filter(|h| !h.contains(s.local.hour())).map(|_| NotFired::Hours { hour: s.local.hour() }));
    if let Some(refused) = refused {
        return (Err(refused), None);
    }
    if !rule.segments.is_empty() && !rule.segments.iter().any(|seg| s.segments.binary_search(seg).is_ok()) {
        return (Err(NotFired::NotInSegment), None);
    }
    let Some(condition) = condition else { return (Ok(()), None) };
    let trace = s.explain.then(|| condition.explain(s.context));
    let holds = trace.as_ref().map_or_else(|| condition.evaluate(s.context), |t| t.result);
    (if holds { Ok(()) } else { Err(NotFired::Condition) }, trace)
}

/// Decides what the trigger earns: base rules give their amount, multiplied by the product of every
/// eligible multiplier of the same trigger (floored once), then cut by the caps in `CapKind` order.
pub fn decide(candidates: &[Candidate<'_>], s: &Situation<'_>) -> Earning {
    let mut earning = Earning::default();
    let relevant: Vec<&Candidate<'_>> = candidates.iter().filter(|c| s.facts.matches(&c.rule.trigger)).collect();
    let mut multiplier: Option<i128> = None;
    for c in relevant.iter().filter(|c| c.rule.is_multiplier()) {
        let (eligible, trace) = eligible(c.rule, c.condition, s);
        if eligible.is_ok()
            && let super::Amount::Multiplier { factor } = c.rule.amount
        {
            multiplier = Some(multiplier.unwrap_or(1000) * i128::from(factor.0) / 1000);
        }
        if s.explain {
            earning.reports.push(report(c.rule, eligible.map(|()| fired_multiplier(c.rule)), trace, None));
        }
    }
    if let Some(tier) = s.tier_multiplier {
        multiplier = Some(multiplier.unwrap_or(1000) * i128::from(tier.0) / 1000);
    }
    let multiplier = multiplier.map(|m| Factor(i64::try_from(m).unwrap_or(i64::MAX)));
    if let (Some(rate), TriggerFacts::OrderPaid { order }) = (s.rate, &s.facts) {
        let base = amount::steps(order.lines.total().minor_units(), rate.every, rate.points);
        let points = multiplier.map_or(base, |m| m.apply(base));
        let outcome = if points > 0 {
            let credited = Points::from_stored(points);
            earning.awards.push(Award { rule_id: None, points: credited, expiry: None, pending_days: None });
            Ok(Fired { base, multiplier, points, capped_by: None })
        } else {
            Err(NotFired::NothingEarned)
        };
        if s.explain {
            earning.reports.push(RuleReport {
                rule_id: None,
                name: "program earning rate".to_owned(),
                amount_kind: "proportional",
                outcome,
                trace: None,
                hint: if points == 0 { rate_hint(rate, order, s.currency) } else { None },
            });
        }
    }
    for c in relevant.iter().filter(|c| !c.rule.is_multiplier()) {
        let (eligible, trace) = eligible(c.rule, c.condition, s);
        let outcome = eligible.and_then(|()| amount_of(c.rule, multiplier, s));
        if let Ok(fired) = &outcome {
            earning.awards.push(Award {
                rule_id: Some(c.rule.id.clone()),
                points: Points::from_stored(fired.points),
                expiry: c.rule.expiry,
                pending_days: c.rule.pending_days,
            });
        }
        if s.explain {
            let hint = match &outcome {
                Err(NotFired::NothingEarned) => amount::hint(&c.rule.amount, &s.facts, s.currency),
                Err(NotFired::Condition) => trace.as_ref().and_then(|t| t.hints().first().map(|h| h.text.clone())),
                _ => None,
            };
            earning.reports.push(report(c.rule, outcome, trace, hint));
        }
    }
    earning
}

fn fired_multiplier(rule: &EarningRule) -> Fired {
    let factor = match rule.amount {
        super::Amount::Multiplier { factor } => Some(factor),
        _ => None,
    };
    Fired { base: 0, multiplier: factor, points: 0, capped_by: None }
}

fn report(
    rule: &EarningRule,
    outcome: Result<Fired, NotFired>,
    trace: Option<Trace>,
    hint: Option<String>,
) -> RuleReport {
    RuleReport {
        rule_id: Some(rule.id.clone()),
        name: rule.name.clone(),
        amount_kind: rule.amount.kind(),
        outcome,
        trace,
        hint,
    }
}

/// The rule's amount after the multiplier and the caps.
fn amount_of(rule: &EarningRule, multiplier: Option<Factor>, s: &Situation<'_>) -> Result<Fired, NotFired> {
    let base = amount::base(&rule.amount, &s.facts).unwrap_or(0);
    let multiplied = multiplier.map_or(base, |m| m.apply(base));
    if multiplied <= 0 {
        return Err(NotFired::NothingEarned);
    }
    let mut points = multiplied;
    let mut capped_by = None;
    let mut cut = |room: i64, kind: CapKind| {
        if room < points {
            points = room.max(0);
            capped_by = Some(kind);
        }
    };
    if let Some(cap) = rule.caps.per_event {
        cut(cap.value(), CapKind::PerEvent);
    }
    if let Some((room, kind)) = s.usage.room(&rule.id, &rule.caps, s.local.date()) {
        cut(room, kind);
    }
    if rule.caps.budget.is_some() {
        cut((s.budget_left)(&rule.id), CapKind::Budget);
    }
    if points == 0 {
        return Err(NotFired::Capped(capped_by.unwrap_or(CapKind::PerEvent)));
    }
    Ok(Fired { base, multiplier, points, capped_by })
}

fn rate_hint(rate: EarningRate, order: &Order, currency: Currency) -> Option<String> {
    let amount =
        super::Amount::Proportional { every: rate.every, points: rate.points, base: super::AmountBase::AfterDiscounts };
    amount::hint(&amount, &TriggerFacts::OrderPaid { order }, currency)
}

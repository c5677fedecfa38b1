//! Customer segments (C5): static lists and dynamic rules, and the pure decision of which dynamic
//! segments a customer enters or leaves after a change. Only segments whose rules read what changed are
//! evaluated; segments that read other segments are evaluated after them.

use crate::customer::Customer;
use crate::ids::{ProjectId, SegmentId};
use crate::money::Currency;
use crate::rules::{Context, CustomerFacts, LoyaltyFacts, Reads, Rule};
use crate::stats::CustomerStats;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq)]
pub enum SegmentKind {
    /// Members are added and removed explicitly (API, CSV import).
    Static,
    /// Members are the customers the rule holds for; `rule` is the canonical JSON form of the rule.
    Dynamic { rule: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub id: SegmentId,
    pub project_id: ProjectId,
    pub name: String,
    pub kind: SegmentKind,
    /// Counts changes of the rule, so that compiled rules can be cached by (id, version).
    pub version: i64,
    /// The rule reads the clock: membership is swept on schedule even when no data changes.
    pub time_dependent: bool,
    /// The last full evaluation (recompute or sweep).
    pub swept_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A dynamic segment ready to evaluate.
#[derive(Clone, Debug)]
pub struct CompiledSegment {
    pub id: SegmentId,
    pub rule: Rule,
}

/// What changed about a customer, in the categories rules read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Everything: a new customer, a recompute.
    pub all: bool,
    pub profile: bool,
    pub metadata: bool,
    pub orders: bool,
    /// Names of custom events whose counts changed.
    pub events: BTreeSet<String>,
    pub redemptions: bool,
    pub loyalty: bool,
    /// Time passed (a scheduled sweep).
    pub clock: bool,
    /// Segments whose membership changed.
    pub segments: BTreeSet<SegmentId>,
}

impl Changes {
    pub fn everything() -> Changes {
        Changes { all: true, ..Changes::default() }
    }

    /// What differs between two versions of a customer (`None`: the customer is new).
    pub fn between(before: Option<&Customer>, after: &Customer) -> Changes {
        let Some(before) = before else { return Changes::everything() };
        Changes {
            profile: before.profile != after.profile || before.created_at != after.created_at,
            metadata: before.metadata != after.metadata,
            orders: order_history_differs(&before.stats, &after.stats),
            events: changed_event_names(&before.stats, &after.stats),
            redemptions: before.stats.redemption_days != after.stats.redemption_days,
            ..Changes::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// Whether a rule that reads `reads` could change its answer.
    pub fn affects(&self, reads: &Reads) -> bool {
        self.all
            || (self.clock && reads.clock)
            || (self.profile && reads.customer_profile)
            || (self.metadata && reads.customer_metadata)
            || (self.orders && reads.order_history)
            || (self.redemptions && reads.redemptions)
            || (self.loyalty && reads.loyalty)
            || (reads.events && reads.event_names.iter().any(|n| self.events.contains(n)))
            || reads.segments.iter().any(|s| self.segments.contains(s))
    }
}

fn order_history_differs(a: &CustomerStats, b: &CustomerStats) -> bool {
    a.orders_count != b.orders_count
        || a.total_spent != b.total_spent
        || a.last_order_at != b.last_order_at
        || a.first_order_at != b.first_order_at
        || a.days != b.days
}

fn changed_event_names(a: &CustomerStats, b: &CustomerStats) -> BTreeSet<String> {
    if a.event_days == b.event_days {
        return BTreeSet::new();
    }
    let before: BTreeSet<_> = a.event_days.iter().map(|e| (&e.name, e.day, e.count)).collect();
    let after: BTreeSet<_> = b.event_days.iter().map(|e| (&e.name, e.day, e.count)).collect();
    before.symmetric_difference(&after).map(|(name, _, _)| (*name).clone()).collect()
}

/// A customer entering (`entered`) or leaving a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub segment: SegmentId,
    pub entered: bool,
}

/// What a dynamic segment is evaluated in.
pub struct Environment<'a> {
    pub now: Timestamp,
    pub time_zone: &'a TimeZone,
    pub currency: Currency,
}

/// Re-evaluates the dynamic segments (in dependency order) that `changes` can affect; returns the
/// transitions and the customer's new, sorted segment list.
pub fn reevaluate(
    segments: &[CompiledSegment],
    customer: &Customer,
    loyalty: &[LoyaltyFacts<'_>],
    changes: &Changes,
    env: &Environment<'_>,
) -> (Vec<Transition>, Vec<SegmentId>) {
    let mut membership = customer.segments.clone();
    let mut changes = changes.clone();
    let mut transitions = Vec::new();
    for segment in segments {
        if !changes.affects(segment.rule.reads()) {
            continue;
        }
        let facts = CustomerFacts { customer, segments: &membership, loyalty };
        let ctx = Context {
            now: env.now,
            time_zone: env.time_zone,
            currency: env.currency,
            customer: Some(facts),
            order: None,
            event: None,
        };
        let holds = segment.rule.evaluate(&ctx);
        let position = membership.binary_search(&segment.id);
        match (holds, position) {
            (true, Err(index)) => membership.insert(index, segment.id.clone()),
            (false, Ok(index)) => {
                membership.remove(index);
            }
            _ => continue,
        }
        transitions.push(Transition { segment: segment.id.clone(), entered: holds });
        changes.segments.insert(segment.id.clone());
    }
    (transitions, membership)
}

/// Why `rule` cannot define (or preview) a segment of a project whose segments are `existing`: it reads
/// the order or event being processed, which a segment does not have, or a segment that does not exist.
/// `own` is the segment being defined; naming it is a cycle, reported by `dependency_order`.
pub fn rule_problem(rule: &Rule, existing: &[SegmentId], own: Option<&SegmentId>) -> Option<String> {
    let reads = rule.reads();
    if reads.current_order || reads.current_event {
        return Some("a segment describes customers; it cannot read order.* or event.*".to_owned());
    }
    rule.segments_referenced()
        .iter()
        .find(|r| Some(*r) != own && !existing.contains(r))
        .map(|missing| format!("the rule reads segment {missing}, which does not exist"))
}

/// Orders dynamic segments so that every segment comes after the segments its rule reads. `Err` names a
/// segment on a cycle.
pub fn dependency_order(segments: Vec<CompiledSegment>) -> Result<Vec<CompiledSegment>, SegmentId> {
    let ids: BTreeSet<SegmentId> = segments.iter().map(|s| s.id.clone()).collect();
    let mut placed: BTreeSet<SegmentId> = BTreeSet::new();
    let mut pending = segments;
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let (ready, waiting): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|s| s.rule.segments_referenced().iter().all(|r| placed.contains(r) || !ids.contains(r)));
        if ready.is_empty() {
            return Err(waiting
                .first()
                .map(|s| s.id.clone())
                .unwrap_or_else(|| SegmentId::from_trusted(String::new())));
        }
        placed.extend(ready.iter().map(|s| s.id.clone()));
        ordered.extend(ready);
        pending = waiting;
    }
    Ok(ordered)
}

#[cfg(test)]
#[path = "segment_tests.rs"]
mod tests;

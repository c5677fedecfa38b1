//! Domain events: what a decision says happened, as typed data. The engine's effects pipeline hands them
//! to subscribers (segment upkeep, later earning triggers and tiers) and writes every one to the outbox,
//! in the same transaction as the decision. Each topic has a payload version; a payload change that is
//! not backwards compatible bumps it.

use crate::event::CustomEvent;
use crate::ids::{CustomerId, EntryId, EventId, LotId, MembershipId, OrderId, ProgramId, SegmentId};
use crate::ledger::{Cause, Entry, EntryKind};
use crate::order::Order;
use jiff::Timestamp;
use jiff::civil::Date;

/// Every kind of domain event, by its stable topic name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    CustomerCreated,
    CustomerChanged,
    CustomerErased,
    OrderPaid,
    OrderRefunded,
    OrderCanceled,
    EventRecorded,
    PointsCredited,
    PointsDebited,
    PointsExpired,
    MemberEnrolled,
    SegmentEntered,
    SegmentLeft,
    TierJoined,
    TierUpgraded,
    TierDowngraded,
    TierLeft,
    TierProlonged,
    PendingPlaced,
    PendingReduced,
    PendingActivated,
    PendingVoided,
}

impl Topic {
    pub const ALL: [Topic; 22] = [
        Topic::CustomerCreated,
        Topic::CustomerChanged,
        Topic::CustomerErased,
        Topic::OrderPaid,
        Topic::OrderRefunded,
        Topic::OrderCanceled,
        Topic::EventRecorded,
        Topic::PointsCredited,
        Topic::PointsDebited,
        Topic::PointsExpired,
        Topic::MemberEnrolled,
        Topic::SegmentEntered,
        Topic::SegmentLeft,
        Topic::TierJoined,
        Topic::TierUpgraded,
        Topic::TierDowngraded,
        Topic::TierLeft,
        Topic::TierProlonged,
        Topic::PendingPlaced,
        Topic::PendingReduced,
        Topic::PendingActivated,
        Topic::PendingVoided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::CustomerCreated => "customer.created",
            Topic::CustomerChanged => "customer.changed",
            Topic::CustomerErased => "customer.erased",
            Topic::OrderPaid => "order.paid",
            Topic::OrderRefunded => "order.refunded",
            Topic::OrderCanceled => "order.canceled",
            Topic::EventRecorded => "event.recorded",
            Topic::PointsCredited => "points.credited",
            Topic::PointsDebited => "points.debited",
            Topic::PointsExpired => "points.expired",
            Topic::MemberEnrolled => "member.enrolled",
            Topic::SegmentEntered => "segment.entered",
            Topic::SegmentLeft => "segment.left",
            Topic::TierJoined => "tier.joined",
            Topic::TierUpgraded => "tier.upgraded",
            Topic::TierDowngraded => "tier.downgraded",
            Topic::TierLeft => "tier.left",
            Topic::TierProlonged => "tier.prolonged",
            Topic::PendingPlaced => "pending.placed",
            Topic::PendingReduced => "pending.reduced",
            Topic::PendingActivated => "pending.activated",
            Topic::PendingVoided => "pending.voided",
        }
    }

    pub fn parse(raw: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// The payload version written today.
    pub fn version(self) -> u16 {
        1
    }

    /// Topics whose cause is an immutable row of its own (a custom event, a ledger entry), written in the
    /// same commit: the outbox reads that row in place instead of storing a copy of it, which would double
    /// the bytes of the two hottest writes.
    pub fn read_in_place(self) -> bool {
        matches!(self, Topic::EventRecorded | Topic::PointsCredited | Topic::PointsDebited | Topic::PointsExpired)
    }
}

/// A member's move between tiers (`tier.*`): the levels before and after (`null`: no tier), and the last day
/// the new level is guaranteed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TierPayload {
    pub membership_id: MembershipId,
    pub program_id: ProgramId,
    pub customer_id: CustomerId,
    pub change: crate::tier::TierMove,
    pub from: Option<String>,
    pub to: Option<String>,
    pub until: Option<Date>,
}

/// Pending points (`pending.*`): placed by an order rule, reduced by a refund inside the return window,
/// activated into a lot, or voided. `points` is what is still pending (activated: what became spendable).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingPayload {
    pub pending_id: crate::ids::HoldId,
    pub membership_id: MembershipId,
    pub program_id: ProgramId,
    pub customer_id: CustomerId,
    pub points: i64,
    /// Points the change took away (reduced, voided).
    pub removed: i64,
    pub activates_on: Date,
    pub order_id: Option<OrderId>,
    pub rule_id: Option<crate::ids::EarningRuleId>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomerPayload {
    pub customer_id: CustomerId,
    pub source_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderPayload {
    pub order_id: OrderId,
    pub source_id: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub status: String,
    /// The order total (amount less discount), minor units.
    pub total: i64,
    /// Refunded so far, minor units.
    pub refunded_amount: i64,
    /// Refunded by this change (order.refunded), minor units.
    pub refunded_now: i64,
    pub paid_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventPayload {
    pub event_id: EventId,
    pub customer_id: CustomerId,
    pub name: String,
    pub client_event_id: Option<String>,
    pub occurred_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PointsPayload {
    pub entry_id: EntryId,
    pub membership_id: MembershipId,
    pub program_id: ProgramId,
    pub customer_id: CustomerId,
    /// The entry kind (`earn`, `manual_remove`, `transfer_in`, …).
    pub kind: String,
    /// Signed: positive credits, negative debits.
    pub points: i64,
    pub balance_after: i64,
    pub lot_id: Option<LotId>,
    pub expires_on: Option<Date>,
    pub order_id: Option<OrderId>,
    /// The other member of a transfer.
    pub counterpart_id: Option<MembershipId>,
    /// The custom event an earning rule fired on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<crate::ids::EventId>,
    /// The earning rule, and the program's rule-set version, that gave the points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<crate::ids::EarningRuleId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_version: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberPayload {
    pub membership_id: MembershipId,
    pub program_id: ProgramId,
    pub customer_id: CustomerId,
    pub card_code: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SegmentPayload {
    pub segment_id: SegmentId,
    pub customer_id: CustomerId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainEvent {
    CustomerCreated(CustomerPayload),
    CustomerChanged(CustomerPayload),
    CustomerErased(CustomerPayload),
    OrderPaid(OrderPayload),
    OrderRefunded(OrderPayload),
    OrderCanceled(OrderPayload),
    EventRecorded(EventPayload),
    PointsCredited(PointsPayload),
    PointsDebited(PointsPayload),
    PointsExpired(PointsPayload),
    MemberEnrolled(MemberPayload),
    SegmentEntered(SegmentPayload),
    SegmentLeft(SegmentPayload),
    /// Every `tier.*` topic; the payload's `change` says which.
    Tier(TierPayload),
    PendingPlaced(PendingPayload),
    PendingReduced(PendingPayload),
    PendingActivated(PendingPayload),
    PendingVoided(PendingPayload),
}

impl DomainEvent {
    pub fn topic(&self) -> Topic {
        match self {
            DomainEvent::CustomerCreated(_) => Topic::CustomerCreated,
            DomainEvent::CustomerChanged(_) => Topic::CustomerChanged,
            DomainEvent::CustomerErased(_) => Topic::CustomerErased,
            DomainEvent::OrderPaid(_) => Topic::OrderPaid,
            DomainEvent::OrderRefunded(_) => Topic::OrderRefunded,
            DomainEvent::OrderCanceled(_) => Topic::OrderCanceled,
            DomainEvent::EventRecorded(_) => Topic::EventRecorded,
            DomainEvent::PointsCredited(_) => Topic::PointsCredited,
            DomainEvent::PointsDebited(_) => Topic::PointsDebited,
            DomainEvent::PointsExpired(_) => Topic::PointsExpired,
            DomainEvent::MemberEnrolled(_) => Topic::MemberEnrolled,
            DomainEvent::SegmentEntered(_) => Topic::SegmentEntered,
            DomainEvent::SegmentLeft(_) => Topic::SegmentLeft,
            DomainEvent::Tier(p) => match p.change {
                crate::tier::TierMove::Joined => Topic::TierJoined,
                crate::tier::TierMove::Upgraded => Topic::TierUpgraded,
                crate::tier::TierMove::Downgraded => Topic::TierDowngraded,
                crate::tier::TierMove::Left => Topic::TierLeft,
                crate::tier::TierMove::Prolonged => Topic::TierProlonged,
            },
            DomainEvent::PendingPlaced(_) => Topic::PendingPlaced,
            DomainEvent::PendingReduced(_) => Topic::PendingReduced,
            DomainEvent::PendingActivated(_) => Topic::PendingActivated,
            DomainEvent::PendingVoided(_) => Topic::PendingVoided,
        }
    }

    /// The customer the event is about, if any (deliveries are ordered per customer).
    pub fn customer_id(&self) -> Option<&CustomerId> {
        match self {
            DomainEvent::CustomerCreated(p) | DomainEvent::CustomerChanged(p) | DomainEvent::CustomerErased(p) => {
                Some(&p.customer_id)
            }
            DomainEvent::OrderPaid(p) | DomainEvent::OrderRefunded(p) | DomainEvent::OrderCanceled(p) => {
                p.customer_id.as_ref()
            }
            DomainEvent::EventRecorded(p) => Some(&p.customer_id),
            DomainEvent::PointsCredited(p) | DomainEvent::PointsDebited(p) | DomainEvent::PointsExpired(p) => {
                Some(&p.customer_id)
            }
            DomainEvent::MemberEnrolled(p) => Some(&p.customer_id),
            DomainEvent::SegmentEntered(p) | DomainEvent::SegmentLeft(p) => Some(&p.customer_id),
            DomainEvent::Tier(p) => Some(&p.customer_id),
            DomainEvent::PendingPlaced(p)
            | DomainEvent::PendingReduced(p)
            | DomainEvent::PendingActivated(p)
            | DomainEvent::PendingVoided(p) => Some(&p.customer_id),
        }
    }

    /// The id of the thing the event is about (order, entry, segment, …).
    pub fn subject_id(&self) -> String {
        match self {
            DomainEvent::CustomerCreated(p) | DomainEvent::CustomerChanged(p) | DomainEvent::CustomerErased(p) => {
                p.customer_id.to_string()
            }
            DomainEvent::OrderPaid(p) | DomainEvent::OrderRefunded(p) | DomainEvent::OrderCanceled(p) => {
                p.order_id.to_string()
            }
            DomainEvent::EventRecorded(p) => p.event_id.to_string(),
            DomainEvent::PointsCredited(p) | DomainEvent::PointsDebited(p) | DomainEvent::PointsExpired(p) => {
                p.entry_id.to_string()
            }
            DomainEvent::MemberEnrolled(p) => p.membership_id.to_string(),
            DomainEvent::SegmentEntered(p) | DomainEvent::SegmentLeft(p) => p.segment_id.to_string(),
            DomainEvent::Tier(p) => p.membership_id.to_string(),
            DomainEvent::PendingPlaced(p)
            | DomainEvent::PendingReduced(p)
            | DomainEvent::PendingActivated(p)
            | DomainEvent::PendingVoided(p) => p.pending_id.to_string(),
        }
    }

    /// The event a ledger entry stands for.
    pub fn of_entry(entry: &Entry) -> DomainEvent {
        let payload = points_payload(entry);
        match entry.kind {
            EntryKind::Expire => DomainEvent::PointsExpired(payload),
            kind if kind.is_credit() => DomainEvent::PointsCredited(payload),
            _ => DomainEvent::PointsDebited(payload),
        }
    }

    /// The event of a change of pending points from `before` (`None`: just placed) to `after`, if any.
    pub fn of_pending(
        before: Option<&crate::ledger::hold::Hold>,
        after: &crate::ledger::hold::Hold,
    ) -> Option<DomainEvent> {
        use crate::ledger::hold::{HoldKind, HoldState};
        if after.kind != HoldKind::Credit {
            return None;
        }
        let was = before.map(|b| (b.state, b.points.value()));
        let removed = was.map_or(0, |(_, p)| (p - after.points.value()).max(0));
        let payload = PendingPayload {
            pending_id: after.id.clone(),
            membership_id: after.membership_id.clone(),
            program_id: after.program_id.clone(),
            customer_id: after.customer_id.clone(),
            points: after.points.value(),
            removed,
            activates_on: after.until,
            order_id: match &after.cause {
                Cause::Order { order_id } => Some(order_id.clone()),
                _ => None,
            },
            rule_id: after.rule.as_ref().map(|r| r.id.clone()),
        };
        match (was, after.state) {
            (None, HoldState::Pending) => Some(DomainEvent::PendingPlaced(payload)),
            (Some((HoldState::Pending, _)), HoldState::Pending) if removed > 0 => {
                Some(DomainEvent::PendingReduced(payload))
            }
            (Some((HoldState::Pending, p)), HoldState::Posted) => Some(DomainEvent::PendingActivated(PendingPayload {
                removed: (p - after.points.value()).max(0),
                ..payload
            })),
            (Some((HoldState::Pending, p)), HoldState::Voided | HoldState::Expired) => {
                Some(DomainEvent::PendingVoided(PendingPayload { points: 0, removed: p, ..payload }))
            }
            _ => None,
        }
    }

    /// The event a recorded custom event stands for.
    pub fn of_event(event: &CustomEvent) -> DomainEvent {
        DomainEvent::EventRecorded(EventPayload {
            event_id: event.id.clone(),
            customer_id: event.customer_id.clone(),
            name: event.name.clone(),
            client_event_id: event.client_event_id.clone(),
            occurred_at: event.occurred_at,
        })
    }

    pub fn customer(topic: Topic, customer_id: &CustomerId, source_id: Option<&str>) -> DomainEvent {
        let payload = CustomerPayload { customer_id: customer_id.clone(), source_id: source_id.map(str::to_owned) };
        match topic {
            Topic::CustomerCreated => DomainEvent::CustomerCreated(payload),
            Topic::CustomerErased => DomainEvent::CustomerErased(payload),
            _ => DomainEvent::CustomerChanged(payload),
        }
    }

    /// An order event of `topic` (paid, refunded, canceled); `refunded_now` is what this change refunded.
    pub fn order(topic: Topic, order: &Order, refunded_now: i64) -> DomainEvent {
        let payload = OrderPayload {
            order_id: order.id.clone(),
            source_id: order.source_id.clone(),
            customer_id: order.customer_id.clone(),
            status: order.status.as_str().to_owned(),
            total: order.lines.total().minor_units(),
            refunded_amount: order.refunded_amount.minor_units(),
            refunded_now,
            paid_at: order.paid_at,
        };
        match topic {
            Topic::OrderRefunded => DomainEvent::OrderRefunded(payload),
            Topic::OrderCanceled => DomainEvent::OrderCanceled(payload),
            _ => DomainEvent::OrderPaid(payload),
        }
    }
}

fn points_payload(entry: &Entry) -> PointsPayload {
    let (order_id, counterpart_id) = match &entry.cause {
        Cause::Order { order_id } => (Some(order_id.clone()), None),
        Cause::Transfer { counterpart, .. } => (None, Some(counterpart.clone())),
        Cause::Admin { .. }
        | Cause::Expiry { .. }
        | Cause::Event { .. }
        | Cause::Enrolment
        | Cause::Segment { .. }
        | Cause::Tier { .. }
        | Cause::Birthday { .. }
        | Cause::Anniversary { .. } => (None, None),
    };
    let event_id = match &entry.cause {
        Cause::Event { event_id } => Some(event_id.clone()),
        _ => None,
    };
    PointsPayload {
        entry_id: entry.id.clone(),
        membership_id: entry.membership_id.clone(),
        program_id: entry.program_id.clone(),
        customer_id: entry.customer_id.clone(),
        kind: entry.kind.as_str().to_owned(),
        points: entry.points.value(),
        balance_after: entry.balance_after.value(),
        lot_id: entry.lot_id.clone(),
        expires_on: entry.expires_on,
        order_id,
        counterpart_id,
        event_id,
        rule_id: entry.rule.as_ref().map(|r| r.id.clone()),
        rule_version: entry.rule.as_ref().map(|r| r.version),
    }
}

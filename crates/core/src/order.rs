//! Orders (C3): items that must add up, the status lifecycle, refunds, and what each change means for
//! aggregates and points (decided here, applied by the engine).

use crate::ids::{CustomerId, EntryId, MembershipId, NewIds, OrderId, ProgramId, ProjectId};
use crate::metadata::{Metadata, MetadataPatch};
use crate::money::Money;
use crate::rejection::{FieldErrorKey, Rejection};
use jiff::Timestamp;
use jiff::civil::Date;

pub use crate::order_lines::{ItemInput, LinesPatch, OrderItem, OrderLines};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Created,
    Paid,
    Fulfilled,
    Canceled,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] =
        [OrderStatus::Created, OrderStatus::Paid, OrderStatus::Fulfilled, OrderStatus::Canceled, OrderStatus::Refunded];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "CREATED",
            OrderStatus::Paid => "PAID",
            OrderStatus::Fulfilled => "FULFILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Refunded => "REFUNDED",
        }
    }

    pub fn parse(raw: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The lifecycle: CREATED → PAID → FULFILLED, CREATED → FULFILLED (paid and shipped at once),
    /// CREATED/PAID → CANCELED, PAID/FULFILLED → REFUNDED. Repeating the current status is allowed.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        self == next
            || matches!(
                (self, next),
                (Created, Paid | Fulfilled | Canceled)
                    | (Paid, Fulfilled | Canceled | Refunded)
                    | (Fulfilled, Refunded)
            )
    }

    fn is_paid_state(self) -> bool {
        matches!(self, OrderStatus::Paid | OrderStatus::Fulfilled)
    }

    fn is_void(self) -> bool {
        matches!(self, OrderStatus::Canceled | OrderStatus::Refunded)
    }
}

/// Points one program gave for this order, and how many were clawed back since.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderEarning {
    pub program_id: ProgramId,
    pub membership_id: MembershipId,
    /// The earn entry; `None` while the points are pending (`hold_id`).
    pub entry_id: Option<EntryId>,
    /// Pending points of an order rule with a return window (they activate by themselves later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<crate::ids::HoldId>,
    pub points: i64,
    pub clawed_back: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub project_id: ProjectId,
    pub source_id: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub status: OrderStatus,
    pub lines: OrderLines,
    pub metadata: Metadata,
    pub refunded_amount: Money,
    pub paid_at: Option<Timestamp>,
    /// The local date (project time zone) of payment: the day aggregates attribute the order to.
    pub paid_on: Option<Date>,
    pub earnings: Vec<OrderEarning>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Order {
    /// The order's contribution to customer aggregates: (orders, net spent).
    pub fn counted(&self) -> (i64, i64) {
        if self.paid_at.is_some() && !self.status.is_void() {
            (1, self.lines.total().minor_units() - self.refunded_amount.minor_units())
        } else {
            (0, 0)
        }
    }

    /// How many of `earned` points this order should have lost to refunds and cancellation by now.
    pub fn clawback_target(&self, earned: i64) -> i64 {
        let total = self.lines.total().minor_units();
        if self.status.is_void() || total == 0 {
            return earned;
        }
        let refunded = i128::from(self.refunded_amount.minor_units());
        i64::try_from(i128::from(earned) * refunded / i128::from(total)).unwrap_or(earned)
    }
}

/// A validated order upsert.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderDraft {
    pub source_id: Option<String>,
    pub status: Option<OrderStatus>,
    pub lines: Option<LinesPatch>,
    pub metadata: MetadataPatch,
    /// Cumulative amount refunded so far (not an increment).
    pub refunded_amount: Option<Money>,
}

/// What an order upsert did.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderChange {
    pub order: Order,
    pub created: bool,
    pub changed: bool,
    /// The order became paid in this change: earning happens now.
    pub became_paid: bool,
    /// Change of the order's contribution to aggregates: (orders, spent).
    pub counted_delta: (i64, i64),
}

/// Applies an upsert to an order (or creates it), enforcing the lifecycle and the lock on paid orders.
pub fn decide_upsert(
    project_id: &ProjectId,
    existing: Option<&Order>,
    customer_id: Option<CustomerId>,
    draft: &OrderDraft,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<OrderChange, Rejection> {
    let (now, today) = clock;
    let created = existing.is_none();
    let mut order = match existing {
        Some(o) => o.clone(),
        None => new_order(project_id, customer_id.clone(), draft, now, ids)?,
    };
    let before_counted = order.counted();
    let was_paid = order.paid_at.is_some();
    if let Some(existing) = existing {
        update_locked_fields(&mut order, existing, customer_id, draft)?;
    }
    let target_status = draft.status.unwrap_or(order.status);
    if !order.status.can_become(target_status) {
        return Err(Rejection::Order(crate::rejection::OrderRejection::IllegalTransition {
            from: order.status,
            to: target_status,
        }));
    }
    order.status = target_status;
    order.metadata = order.metadata.merge("/metadata", &draft.metadata).map_err(|e| Rejection::Invalid(vec![e]))?;
    if order.paid_at.is_none() && order.status.is_paid_state() {
        order.paid_at = Some(now);
        order.paid_on = Some(today);
    }
    apply_refund(&mut order, draft.refunded_amount)?;
    let changed = existing.is_none_or(|e| *e != order);
    if changed {
        order.updated_at = now;
    }
    let after_counted = order.counted();
    Ok(OrderChange {
        became_paid: !was_paid && order.paid_at.is_some(),
        counted_delta: (after_counted.0 - before_counted.0, after_counted.1 - before_counted.1),
        order,
        created,
        changed,
    })
}

fn new_order(
    project_id: &ProjectId,
    customer_id: Option<CustomerId>,
    draft: &OrderDraft,
    now: Timestamp,
    ids: &mut impl NewIds,
) -> Result<Order, Rejection> {
    let Some(patch) = &draft.lines else {
        return Err(Rejection::Invalid(vec![crate::rejection::FieldError::new(
            "/amount",
            FieldErrorKey::Required,
            "a new order needs an amount or items",
        )]));
    };
    let lines = patch.apply(None).map_err(Rejection::Invalid)?;
    Ok(Order {
        id: OrderId::fresh(ids),
        project_id: project_id.clone(),
        source_id: draft.source_id.clone(),
        customer_id,
        status: OrderStatus::Created,
        lines,
        metadata: Metadata::default(),
        refunded_amount: Money::ZERO,
        paid_at: None,
        paid_on: None,
        earnings: Vec::new(),
        created_at: now,
        updated_at: now,
    })
}

/// Lines and customer may change while the order is CREATED; afterwards a different value is refused.
fn update_locked_fields(
    order: &mut Order,
    existing: &Order,
    customer_id: Option<CustomerId>,
    draft: &OrderDraft,
) -> Result<(), Rejection> {
    let open = existing.status == OrderStatus::Created;
    let lines = match &draft.lines {
        Some(patch) => Some(patch.apply(Some(&existing.lines)).map_err(Rejection::Invalid)?),
        None => None,
    };
    if let Some(lines) = &lines
        && *lines != existing.lines
    {
        if !open {
            let field = if lines.amount != existing.lines.amount {
                "amount"
            } else if lines.discount_amount != existing.lines.discount_amount {
                "discount_amount"
            } else {
                "items"
            };
            return Err(Rejection::Order(crate::rejection::OrderRejection::Locked { field }));
        }
        order.lines = lines.clone();
    }
    if customer_id.is_some() && customer_id != existing.customer_id {
        if !open {
            return Err(Rejection::Order(crate::rejection::OrderRejection::Locked { field: "customer" }));
        }
        order.customer_id = customer_id;
    }
    Ok(())
}

fn apply_refund(order: &mut Order, refunded: Option<Money>) -> Result<(), Rejection> {
    let total = order.lines.total();
    let requested = match (refunded, order.status) {
        (Some(r), _) => r,
        (None, OrderStatus::Refunded) => total,
        (None, _) => return Ok(()),
    };
    if requested == order.refunded_amount {
        return finish_refund_status(order, total);
    }
    if order.paid_at.is_none() {
        return Err(Rejection::Order(crate::rejection::OrderRejection::RefundExceedsPaid {
            refundable: 0,
            requested: requested.minor_units(),
        }));
    }
    if requested < order.refunded_amount {
        return Err(Rejection::Invalid(vec![crate::rejection::FieldError::new(
            "/refunded_amount",
            FieldErrorKey::OutOfRange,
            format!("refunds only grow; {} was already refunded", order.refunded_amount.minor_units()),
        )]));
    }
    if requested > total {
        return Err(Rejection::Order(crate::rejection::OrderRejection::RefundExceedsPaid {
            refundable: total.minor_units() - order.refunded_amount.minor_units(),
            requested: requested.minor_units() - order.refunded_amount.minor_units(),
        }));
    }
    if order.status == OrderStatus::Canceled {
        return Err(Rejection::Order(crate::rejection::OrderRejection::IllegalTransition {
            from: order.status,
            to: OrderStatus::Refunded,
        }));
    }
    order.refunded_amount = requested;
    finish_refund_status(order, total)
}

/// A REFUNDED order is refunded in full; refunding everything makes a paid order REFUNDED.
fn finish_refund_status(order: &mut Order, total: Money) -> Result<(), Rejection> {
    if order.status == OrderStatus::Refunded && order.refunded_amount != total {
        return Err(Rejection::Invalid(vec![crate::rejection::FieldError::new(
            "/refunded_amount",
            FieldErrorKey::AmountMismatch,
            "status REFUNDED means refunded in full; send a partial refund with status PAID or FULFILLED",
        )]));
    }
    if order.status.is_paid_state() && order.refunded_amount == total && total.minor_units() != 0 {
        order.status = OrderStatus::Refunded;
    }
    Ok(())
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;

//! Points for orders: earning when an order is paid, clawback when it is refunded or canceled.

use super::wallet::{Shortfall, credit, debit};
use super::{Cause, EntryKind, Lot, Membership, Posting};
use crate::ids::NewIds;
use crate::money::Points;
use crate::order::{Order, OrderEarning};
use crate::program::Program;
use crate::rejection::Rejection;
use jiff::Timestamp;
use jiff::civil::Date;

/// Points a paid order earns in `program`, as a posting; `None` when the program gives nothing for it.
/// `today` is the local date in the program's time zone (it anchors the expiry).
pub fn decide_order_earning(
    program: &Program,
    membership: &Membership,
    order: &Order,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<Option<Posting>, Rejection> {
    let (now, today) = clock;
    if program.paused {
        return Ok(None);
    }
    let Some(rate) = program.earning else { return Ok(None) };
    let points = rate.points_for(order.lines.total());
    let Some(points) = Points::positive(points) else { return Ok(None) };
    let expires_on = program.expiry.expires_on(today);
    let cause = Cause::Order { order_id: order.id.clone() };
    credit(membership, points, expires_on, EntryKind::Earn, cause, now, ids).map(Some)
}

/// Takes back what `earning` should have lost by now (refunds in proportion, all on cancellation).
pub fn decide_clawback(
    program: &Program,
    membership: &Membership,
    lots: &[Lot],
    order: &Order,
    earning: &OrderEarning,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<Option<Posting>, Rejection> {
    let due = order.clawback_target(earning.points) - earning.clawed_back;
    let Some(due) = Points::positive(due) else { return Ok(None) };
    let shortfall = if program.allow_negative_balance { Shortfall::Debt } else { Shortfall::Unrecovered };
    let cause = Cause::Order { order_id: order.id.clone() };
    debit(membership, lots, due, EntryKind::Clawback, shortfall, cause, clock, ids).map(Some)
}

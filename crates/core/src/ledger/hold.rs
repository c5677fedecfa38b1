//! Holds (two-phase postings, as TigerBeetle's pending transfers): points set aside now and settled later.
//! A credit hold is pending points (visible, not spendable, not yet a lot); a debit hold is a
//! reservation (points of the balance that cannot be spent elsewhere, e.g. during a checkout). A hold is
//! `pending` until it is `posted` (the credit becomes a lot, the debit takes lots), `voided` (released)
//! or `expired` (its deadline passed) — once, and never back.

use super::wallet::{Shortfall, credit, debit};
use super::{Cause, EntryKind, Lot, Membership, Posting, minus, plus};
use crate::ids::{HoldId, MembershipId, NewIds, ProgramId};
use crate::money::Points;
use crate::rejection::{LedgerRejection, Rejection};
use jiff::Timestamp;
use jiff::civil::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HoldKind {
    /// Points promised to the member (pending points): posting credits them.
    Credit,
    /// Points of the balance set aside (a reservation): posting debits them.
    Debit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HoldState {
    Pending,
    Posted,
    Voided,
    Expired,
}

impl HoldState {
    pub const ALL: [HoldState; 4] = [HoldState::Pending, HoldState::Posted, HoldState::Voided, HoldState::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Pending => "pending",
            HoldState::Posted => "posted",
            HoldState::Voided => "voided",
            HoldState::Expired => "expired",
        }
    }

    /// Pending → posted | voided | expired; nothing else, and no state repeats.
    pub fn can_become(self, next: HoldState) -> bool {
        self == HoldState::Pending && next != HoldState::Pending
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    pub id: HoldId,
    pub project_id: crate::ids::ProjectId,
    pub program_id: ProgramId,
    pub membership_id: MembershipId,
    pub customer_id: crate::ids::CustomerId,
    pub kind: HoldKind,
    pub points: Points,
    pub state: HoldState,
    /// The last day the hold stays pending (program time zone); after it, it can only expire.
    pub until: Date,
    pub cause: Cause,
    /// The earning rule (and rule-set version) that promised the points.
    pub rule: Option<crate::earning::RuleRef>,
    /// The expiry the points get when they activate (`None`: the program's then).
    pub expiry: Option<crate::expiry::ExpiryPolicy>,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

/// A hold and the wallet as it is with the hold's effect on `pending` or `reserved`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldChange {
    pub hold: Hold,
    pub membership: Membership,
}

/// Places a hold of `points` (positive) until `until`. A debit hold needs that many spendable points.
#[allow(clippy::too_many_arguments)]
pub fn place(
    membership: &Membership,
    lots: &[Lot],
    kind: HoldKind,
    points: Points,
    until: Date,
    cause: Cause,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<HoldChange, Rejection> {
    let (now, today) = clock;
    let mut wallet = membership.clone();
    match kind {
        HoldKind::Credit => wallet.pending = plus(wallet.pending, points)?,
        HoldKind::Debit => {
            let spendable = membership.spendable(lots, today);
            if spendable < points {
                return Err(Rejection::insufficient_points(spendable.value(), points.value()));
            }
            wallet.reserved = plus(wallet.reserved, points)?;
        }
    }
    wallet.updated_at = now;
    let hold = Hold {
        id: HoldId::fresh(ids),
        project_id: membership.project_id.clone(),
        program_id: membership.program_id.clone(),
        membership_id: membership.id.clone(),
        customer_id: membership.customer_id.clone(),
        kind,
        points,
        state: HoldState::Pending,
        until,
        cause,
        rule: None,
        expiry: None,
        created_at: now,
        resolved_at: None,
    };
    Ok(HoldChange { hold, membership: wallet })
}

fn settle(hold: &Hold, next: HoldState, now: Timestamp) -> Result<Hold, Rejection> {
    if !hold.state.can_become(next) {
        let (from, to) = (hold.state.as_str(), next.as_str());
        return Err(Rejection::Ledger(LedgerRejection::InvalidHoldState { from, to }));
    }
    Ok(Hold { state: next, resolved_at: Some(now), ..hold.clone() })
}

/// Takes the hold's amount off `pending` or `reserved`.
fn release(hold: &Hold, membership: &Membership, now: Timestamp) -> Result<Membership, Rejection> {
    let mut wallet = membership.clone();
    match hold.kind {
        HoldKind::Credit => wallet.pending = minus(wallet.pending, hold.points)?,
        HoldKind::Debit => wallet.reserved = minus(wallet.reserved, hold.points)?,
    }
    wallet.updated_at = now;
    Ok(wallet)
}

/// Posts a pending hold: a credit hold becomes a lot expiring `expires_on` (its clock starts now); a debit
/// hold takes its points from the lots (soonest expiry first) with `kind` (e.g. a redemption).
#[allow(clippy::too_many_arguments)]
pub fn post(
    hold: &Hold,
    membership: &Membership,
    lots: &[Lot],
    kind: EntryKind,
    expires_on: Option<Date>,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<(Hold, Posting), Rejection> {
    let (now, today) = clock;
    if today > hold.until && hold.state == HoldState::Pending {
        let (from, to) = ("lapsed", HoldState::Posted.as_str());
        return Err(Rejection::Ledger(LedgerRejection::InvalidHoldState { from, to }));
    }
    let posted = settle(hold, HoldState::Posted, now)?;
    let wallet = release(hold, membership, now)?;
    let posting = match hold.kind {
        HoldKind::Credit => credit(&wallet, hold.points, expires_on, kind, hold.cause.clone(), now, ids)?,
        HoldKind::Debit => debit(&wallet, lots, hold.points, kind, Shortfall::Reject, hold.cause.clone(), clock, ids)?,
    };
    Ok((posted, posting))
}

/// Voids a pending hold: nothing reaches the ledger.
pub fn void(hold: &Hold, membership: &Membership, now: Timestamp) -> Result<HoldChange, Rejection> {
    Ok(HoldChange { hold: settle(hold, HoldState::Voided, now)?, membership: release(hold, membership, now)? })
}

/// Expires a pending hold whose last day is before `today`; `None` while it is still within its time.
pub fn expire(hold: &Hold, membership: &Membership, clock: (Timestamp, Date)) -> Result<Option<HoldChange>, Rejection> {
    let (now, today) = clock;
    if hold.state == HoldState::Pending && today <= hold.until {
        return Ok(None);
    }
    Ok(Some(HoldChange { hold: settle(hold, HoldState::Expired, now)?, membership: release(hold, membership, now)? }))
}

/// Pending points (a credit hold of an earning rule) become spendable: the lot is created now, so its expiry
/// clock starts now. `until` of such a hold is the day it activates by itself; it may activate earlier.
pub fn activate(
    hold: &Hold,
    membership: &Membership,
    expires_on: Option<Date>,
    now: Timestamp,
    ids: &mut impl NewIds,
) -> Result<(Hold, Posting), Rejection> {
    if hold.kind != HoldKind::Credit || hold.state != HoldState::Pending {
        let from = hold.state.as_str();
        return Err(Rejection::Ledger(LedgerRejection::InvalidPendingState { from, to: HoldState::Posted.as_str() }));
    }
    let posted = settle(hold, HoldState::Posted, now)?;
    let wallet = release(hold, membership, now)?;
    let mut posting = credit(&wallet, hold.points, expires_on, EntryKind::Earn, hold.cause.clone(), now, ids)?;
    posting.entry.rule = hold.rule.clone();
    Ok((posted, posting))
}

/// Takes `points` off pending points (a refund inside the return window); all of them voids the hold.
pub fn reduce(hold: &Hold, membership: &Membership, points: Points, now: Timestamp) -> Result<HoldChange, Rejection> {
    if hold.kind != HoldKind::Credit || hold.state != HoldState::Pending {
        let from = hold.state.as_str();
        return Err(Rejection::Ledger(LedgerRejection::InvalidPendingState { from, to: HoldState::Voided.as_str() }));
    }
    let taken = points.min(hold.points);
    let left = minus(hold.points, taken)?;
    if !left.is_positive() {
        return void(hold, membership, now);
    }
    let mut wallet = membership.clone();
    wallet.pending = minus(wallet.pending, taken)?;
    wallet.updated_at = now;
    Ok(HoldChange { hold: Hold { points: left, ..hold.clone() }, membership: wallet })
}

/// Cancels pending points (through the API): `invalid_pending_state` unless they are still pending.
pub fn cancel(hold: &Hold, membership: &Membership, now: Timestamp) -> Result<HoldChange, Rejection> {
    reduce(hold, membership, hold.points, now)
}

#[cfg(test)]
#[path = "hold_tests.rs"]
mod tests;

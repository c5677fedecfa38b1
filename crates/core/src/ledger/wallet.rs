//! Credit, debit and expiry of one wallet: pure functions from (membership, lots) to a `Posting`.

use super::{Cause, Entry, EntryKind, Lot, LotRemainder, LotTake, Membership, Posting, minus, next_expiry, plus};
use crate::ids::{EntryId, LotId, NewIds};
use crate::money::Points;
use crate::rejection::Rejection;
use jiff::Timestamp;
use jiff::civil::Date;

/// What a debit does when the spendable balance is smaller than the amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortfall {
    /// Refuse the whole debit (`insufficient_points`).
    Reject,
    /// Take what is there and record the rest as unrecovered (clawback without negative balances).
    Unrecovered,
    /// Take what is there and record the rest as debt (programs that allow negative balances).
    Debt,
}

fn entry(membership: &Membership, kind: EntryKind, cause: Cause, now: Timestamp, ids: &mut impl NewIds) -> Entry {
    Entry {
        id: EntryId::fresh(ids),
        project_id: membership.project_id.clone(),
        program_id: membership.program_id.clone(),
        membership_id: membership.id.clone(),
        customer_id: membership.customer_id.clone(),
        kind,
        points: Points::ZERO,
        balance_after: membership.balance,
        lot_id: None,
        expires_on: None,
        consumed: Vec::new(),
        unrecovered: Points::ZERO,
        debt_repaid: Points::ZERO,
        cause,
        rule: None,
        created_at: now,
    }
}

/// Credits `points` (positive) as a new lot; debt, if any, is repaid first.
pub fn credit(
    membership: &Membership,
    points: Points,
    expires_on: Option<Date>,
    kind: EntryKind,
    cause: Cause,
    now: Timestamp,
    ids: &mut impl NewIds,
) -> Result<Posting, Rejection> {
    let mut wallet = membership.clone();
    let repaid = wallet.debt.min(points);
    wallet.debt = minus(wallet.debt, repaid)?;
    wallet.balance = plus(wallet.balance, points)?;
    let total = match kind {
        EntryKind::ManualAdd => &mut wallet.totals.added,
        EntryKind::TransferIn => &mut wallet.totals.transferred_in,
        _ => &mut wallet.totals.earned,
    };
    *total = plus(*total, points)?;
    wallet.updated_at = now;
    let remaining = minus(points, repaid)?;
    if remaining.is_positive()
        && let Some(day) = expires_on
    {
        wallet.next_expiry = Some(wallet.next_expiry.map_or(day, |d| d.min(day)));
    }
    let lot = Lot {
        id: LotId::fresh(ids),
        program_id: wallet.program_id.clone(),
        membership_id: wallet.id.clone(),
        points,
        remaining,
        expires_on,
        created_at: now,
    };
    let mut e = entry(&wallet, kind, cause, now, ids);
    e.points = points;
    e.lot_id = Some(lot.id.clone());
    e.expires_on = expires_on;
    e.debt_repaid = repaid;
    Ok(Posting { entry: e, new_lot: Some(lot), remainders: Vec::new(), membership: wallet })
}

/// Lots a debit may draw from, in the order it draws: soonest expiry first, non-expiring last, then oldest.
pub fn spending_order(lots: &[Lot], today: Date) -> Vec<&Lot> {
    let mut usable: Vec<&Lot> = lots.iter().filter(|l| l.remaining.is_positive() && l.is_usable_on(today)).collect();
    usable.sort_by(|a, b| {
        let key = |l: &Lot| (l.expires_on.is_none(), l.expires_on);
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
    usable
}

/// Debits `points` (positive) from the lots usable on `today`. Reserved points are not spendable.
#[allow(clippy::too_many_arguments)]
pub fn debit(
    membership: &Membership,
    lots: &[Lot],
    points: Points,
    kind: EntryKind,
    shortfall: Shortfall,
    cause: Cause,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<Posting, Rejection> {
    let (now, today) = clock;
    let order = spending_order(lots, today);
    let usable = Points::sum(order.iter().map(|l| l.remaining)).ok_or(super::LedgerRejection::Overflow);
    let usable = usable.map_err(Rejection::Ledger)?;
    let spendable = minus(minus(usable, membership.debt)?, membership.reserved)?;
    let missing = minus(points, spendable.max(Points::ZERO))?.max(Points::ZERO);
    if missing.is_positive() && shortfall == Shortfall::Reject {
        return Err(Rejection::insufficient_points(spendable.value(), points.value()));
    }
    let taken = minus(points, missing)?;
    let mut left = taken;
    let mut takes = Vec::new();
    for lot in order {
        if !left.is_positive() {
            break;
        }
        let take = lot.remaining.min(left);
        takes.push(LotTake { lot_id: lot.id.clone(), points: take });
        left = minus(left, take)?;
    }
    let mut wallet = membership.clone();
    let (unrecovered, debt) = match shortfall {
        Shortfall::Debt => (Points::ZERO, missing),
        _ => (missing, Points::ZERO),
    };
    let booked = plus(taken, debt)?;
    wallet.balance = minus(wallet.balance, booked)?;
    wallet.debt = plus(wallet.debt, debt)?;
    match kind {
        EntryKind::Clawback => {
            wallet.totals.clawed_back = plus(wallet.totals.clawed_back, booked)?;
            wallet.totals.unrecovered = plus(wallet.totals.unrecovered, unrecovered)?;
        }
        EntryKind::TransferOut => wallet.totals.transferred_out = plus(wallet.totals.transferred_out, booked)?,
        _ => wallet.totals.removed = plus(wallet.totals.removed, booked)?,
    }
    wallet.updated_at = now;
    let mut remainders = Vec::with_capacity(takes.len());
    for t in &takes {
        let before = lots.iter().find(|l| l.id == t.lot_id).map_or(Points::ZERO, |l| l.remaining);
        remainders.push(LotRemainder { lot_id: t.lot_id.clone(), remaining: minus(before, t.points)? });
    }
    wallet.next_expiry = next_expiry_after(lots, &remainders);
    let mut e = entry(&wallet, kind, cause, now, ids);
    e.points = booked.negated();
    e.consumed = takes;
    e.unrecovered = unrecovered;
    Ok(Posting { entry: e, new_lot: None, remainders, membership: wallet })
}

/// The earliest last day of the open lots once `remainders` are written back.
fn next_expiry_after(lots: &[Lot], remainders: &[LotRemainder]) -> Option<Date> {
    let updated: Vec<Lot> = lots
        .iter()
        .map(|l| match remainders.iter().find(|r| r.lot_id == l.id) {
            Some(r) => Lot { remaining: r.remaining, ..l.clone() },
            None => l.clone(),
        })
        .collect();
    next_expiry(&updated)
}

/// Expires what is left of `lot`, one of the wallet's open `lots`. `None` when nothing is left or the lot
/// is still usable on `today`.
pub fn expire_lot(
    membership: &Membership,
    lots: &[Lot],
    lot: &Lot,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<Option<Posting>, Rejection> {
    let (now, today) = clock;
    if !lot.remaining.is_positive() || lot.is_usable_on(today) {
        return Ok(None);
    }
    let mut wallet = membership.clone();
    wallet.balance = minus(wallet.balance, lot.remaining)?;
    wallet.totals.expired = plus(wallet.totals.expired, lot.remaining)?;
    wallet.updated_at = now;
    let remainders = vec![LotRemainder { lot_id: lot.id.clone(), remaining: Points::ZERO }];
    let mut others: Vec<Lot> = lots.iter().filter(|l| l.id != lot.id).cloned().collect();
    others.push(Lot { remaining: Points::ZERO, ..lot.clone() });
    wallet.next_expiry = next_expiry(&others);
    let mut e = entry(&wallet, EntryKind::Expire, Cause::Expiry { lot_id: lot.id.clone() }, now, ids);
    e.points = lot.remaining.negated();
    e.consumed = vec![LotTake { lot_id: lot.id.clone(), points: lot.remaining }];
    e.expires_on = lot.expires_on;
    Ok(Some(Posting { entry: e, new_lot: None, remainders, membership: wallet }))
}

//! Credit, debit and expiry of one wallet: pure functions from (membership, lots) to a `Posting`.

use super::{Cause, Entry, EntryKind, Lot, LotTake, Membership, Posting};
use crate::ids::{EntryId, LotId, NewIds};
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
        points: 0,
        balance_after: membership.balance,
        lot_id: None,
        expires_on: None,
        consumed: Vec::new(),
        unrecovered: 0,
        debt_repaid: 0,
        cause,
        created_at: now,
    }
}

/// Credits `points` (positive) as a new lot; debt, if any, is repaid first.
pub fn credit(
    membership: &Membership,
    points: i64,
    expires_on: Option<Date>,
    kind: EntryKind,
    cause: Cause,
    now: Timestamp,
    ids: &mut impl NewIds,
) -> Posting {
    let mut wallet = membership.clone();
    let repaid = wallet.debt.min(points);
    wallet.debt -= repaid;
    wallet.balance += points;
    match kind {
        EntryKind::ManualAdd => wallet.totals.added += points,
        _ => wallet.totals.earned += points,
    }
    wallet.updated_at = now;
    let lot = Lot {
        id: LotId::fresh(ids),
        program_id: wallet.program_id.clone(),
        membership_id: wallet.id.clone(),
        points,
        remaining: points - repaid,
        expires_on,
        created_at: now,
    };
    let mut e = entry(&wallet, kind, cause, now, ids);
    e.points = points;
    e.lot_id = Some(lot.id.clone());
    e.expires_on = expires_on;
    e.debt_repaid = repaid;
    Posting { entry: e, new_lot: Some(lot), lot_updates: Vec::new(), membership: wallet }
}

/// Lots a debit may draw from, in the order it draws: soonest expiry first, non-expiring last, then oldest.
pub fn spending_order(lots: &[Lot], today: Date) -> Vec<&Lot> {
    let mut usable: Vec<&Lot> = lots.iter().filter(|l| l.remaining > 0 && l.is_usable_on(today)).collect();
    usable.sort_by(|a, b| {
        let key = |l: &Lot| (l.expires_on.is_none(), l.expires_on);
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
    usable
}

/// Debits `points` (positive) from the lots usable on `today`.
#[allow(clippy::too_many_arguments)]
pub fn debit(
    membership: &Membership,
    lots: &[Lot],
    points: i64,
    kind: EntryKind,
    shortfall: Shortfall,
    cause: Cause,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<Posting, Rejection> {
    let (now, today) = clock;
    let order = spending_order(lots, today);
    let spendable: i64 = order.iter().map(|l| l.remaining).sum::<i64>() - membership.debt;
    let missing = (points - spendable.max(0)).max(0);
    if missing > 0 && shortfall == Shortfall::Reject {
        return Err(Rejection::InsufficientPoints { balance: spendable, requested: points });
    }
    let mut left = points - missing;
    let mut takes = Vec::new();
    for lot in order {
        if left == 0 {
            break;
        }
        let take = lot.remaining.min(left);
        takes.push(LotTake { lot_id: lot.id.clone(), points: take });
        left -= take;
    }
    let taken = points - missing;
    let mut wallet = membership.clone();
    let (unrecovered, debt) = match shortfall {
        Shortfall::Debt => (0, missing),
        _ => (missing, 0),
    };
    let booked = taken + debt;
    wallet.balance -= booked;
    wallet.debt += debt;
    match kind {
        EntryKind::Clawback => {
            wallet.totals.clawed_back += booked;
            wallet.totals.unrecovered += unrecovered;
        }
        _ => wallet.totals.removed += booked,
    }
    wallet.updated_at = now;
    let lot_updates = takes
        .iter()
        .map(|t| {
            let before = lots.iter().find(|l| l.id == t.lot_id).map_or(0, |l| l.remaining);
            LotTake { lot_id: t.lot_id.clone(), points: before - t.points }
        })
        .collect();
    let mut e = entry(&wallet, kind, cause, now, ids);
    e.points = -booked;
    e.consumed = takes;
    e.unrecovered = unrecovered;
    Ok(Posting { entry: e, new_lot: None, lot_updates, membership: wallet })
}

/// Expires what is left of one lot. `None` when nothing is left or the lot is still usable on `today`.
pub fn expire_lot(
    membership: &Membership,
    lot: &Lot,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Option<Posting> {
    let (now, today) = clock;
    if lot.remaining == 0 || lot.is_usable_on(today) {
        return None;
    }
    let mut wallet = membership.clone();
    wallet.balance -= lot.remaining;
    wallet.totals.expired += lot.remaining;
    wallet.updated_at = now;
    let mut e = entry(&wallet, EntryKind::Expire, Cause::Expiry { lot_id: lot.id.clone() }, now, ids);
    e.points = -lot.remaining;
    e.consumed = vec![LotTake { lot_id: lot.id.clone(), points: lot.remaining }];
    e.expires_on = lot.expires_on;
    Some(Posting {
        entry: e,
        new_lot: None,
        lot_updates: vec![LotTake { lot_id: lot.id.clone(), points: 0 }],
        membership: wallet,
    })
}

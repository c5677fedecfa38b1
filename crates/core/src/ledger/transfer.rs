//! Transfers between two members of one program: a debit of the source and credits on the target that
//! keep the expiry of the points moved (moving points never extends their life).

use super::wallet::{Shortfall, credit, debit};
use super::{Cause, EntryKind, Lot, Membership, Posting};
use crate::ids::NewIds;
use crate::money::Points;
use crate::rejection::{LedgerRejection, Rejection};
use jiff::Timestamp;
use jiff::civil::Date;
use std::collections::BTreeMap;

/// The postings of one transfer: the source's debit, then one credit on the target per last usable day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferPostings {
    pub out: Posting,
    pub into: Vec<Posting>,
}

/// Who asks for a transfer and why (shown on both entries).
#[derive(Clone, Copy, Debug)]
pub struct TransferNote<'a> {
    pub reason: &'a str,
    pub actor: &'a str,
}

/// Moves `points` from `from` to `to` (same program): the source's soonest-expiring usable lots first; the
/// whole transfer is refused if the source cannot spend that much.
pub fn transfer(
    from: &Membership,
    from_lots: &[Lot],
    to: &Membership,
    points: Points,
    note: TransferNote<'_>,
    clock: (Timestamp, Date),
    ids: &mut impl NewIds,
) -> Result<TransferPostings, Rejection> {
    if from.id == to.id {
        return Err(Rejection::Ledger(LedgerRejection::SameMember));
    }
    let cause = |counterpart: &Membership| Cause::Transfer {
        counterpart: counterpart.id.clone(),
        reason: note.reason.to_owned(),
        actor: note.actor.to_owned(),
    };
    let out = debit(from, from_lots, points, EntryKind::TransferOut, Shortfall::Reject, cause(to), clock, ids)?;
    // `None` (never expires) sorts after every date, as in the spending order.
    let mut by_day: BTreeMap<(bool, Option<Date>), Points> = BTreeMap::new();
    for take in &out.entry.consumed {
        let day = from_lots.iter().find(|l| l.id == take.lot_id).and_then(|l| l.expires_on);
        let sum = by_day.entry((day.is_none(), day)).or_insert(Points::ZERO);
        *sum = super::plus(*sum, take.points)?;
    }
    let mut target = to.clone();
    let mut into = Vec::with_capacity(by_day.len());
    for ((_, day), amount) in by_day {
        let posting = credit(&target, amount, day, EntryKind::TransferIn, cause(from), clock.0, ids)?;
        target = posting.membership.clone();
        into.push(posting);
    }
    Ok(TransferPostings { out, into })
}

//! The points ledger (L3): lots, append-only entries, memberships (wallets) and the operations on them.
//!
//! Every credit creates a lot; every debit consumes lots soonest-expiry-first and records what it took.
//! Invariant: `membership.balance == Σ lot.remaining − membership.debt`, `0 ≤ lot.remaining ≤ lot.points`.

mod earning;
mod wallet;

pub use earning::{decide_clawback, decide_order_earning};
pub use wallet::{Shortfall, credit, debit, expire_lot};

use crate::ids::{CustomerId, EntryId, LotId, MembershipId, OrderId, ProgramId, ProjectId};
use jiff::Timestamp;
use jiff::civil::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Earn,
    ManualAdd,
    ManualRemove,
    Expire,
    Clawback,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] =
        [EntryKind::Earn, EntryKind::ManualAdd, EntryKind::ManualRemove, EntryKind::Expire, EntryKind::Clawback];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Earn => "earn",
            EntryKind::ManualAdd => "manual_add",
            EntryKind::ManualRemove => "manual_remove",
            EntryKind::Expire => "expire",
            EntryKind::Clawback => "clawback",
        }
    }

    pub fn parse(raw: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// What caused an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    Order { order_id: OrderId },
    Admin { reason: String, actor: String },
    Expiry { lot_id: LotId },
}

/// One credit with its own expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    pub id: LotId,
    pub program_id: ProgramId,
    pub membership_id: MembershipId,
    pub points: i64,
    pub remaining: i64,
    /// Last usable day (program time zone); `None` never expires.
    pub expires_on: Option<Date>,
    pub created_at: Timestamp,
}

impl Lot {
    /// Usable on `today`: not past its last usable day.
    pub fn is_usable_on(&self, today: Date) -> bool {
        self.expires_on.is_none_or(|last| last >= today)
    }
}

/// Points taken from one lot by a debit (or, in `Posting::lot_updates`, the lot's new remainder).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LotTake {
    pub lot_id: LotId,
    pub points: i64,
}

/// An append-only ledger entry. Credits name the lot they created; debits the lots they consumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    pub project_id: ProjectId,
    pub program_id: ProgramId,
    pub membership_id: MembershipId,
    pub customer_id: CustomerId,
    pub kind: EntryKind,
    /// Signed: positive credits, negative debits.
    pub points: i64,
    pub balance_after: i64,
    pub lot_id: Option<LotId>,
    pub expires_on: Option<Date>,
    pub consumed: Vec<LotTake>,
    /// Of a clawback: points that could not be taken back because they were already spent.
    pub unrecovered: i64,
    /// Of a credit: points that went to repay debt instead of into the lot.
    pub debt_repaid: i64,
    pub cause: Cause,
    pub created_at: Timestamp,
}

/// Running totals of a membership, so the ledger identity can be checked without reading every entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub earned: i64,
    pub added: i64,
    pub removed: i64,
    pub expired: i64,
    pub clawed_back: i64,
    pub unrecovered: i64,
}

/// A customer's membership of one program: their wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub id: MembershipId,
    pub project_id: ProjectId,
    pub program_id: ProgramId,
    pub customer_id: CustomerId,
    pub card_code: String,
    pub balance: i64,
    /// Points owed after a clawback took the balance below zero (only where the program allows it).
    pub debt: i64,
    pub totals: Totals,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Membership {
    /// `balance` as the totals say it must be.
    pub fn balance_from_totals(&self) -> i64 {
        let t = &self.totals;
        t.earned + t.added - t.removed - t.expired - t.clawed_back
    }
}

/// Everything one ledger operation changes: the entry, at most one new lot, lot remainders, the wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    pub entry: Entry,
    pub new_lot: Option<Lot>,
    pub lot_updates: Vec<LotTake>,
    pub membership: Membership,
}

/// Checks the ledger identities of one wallet; returns a description of the first violation.
pub fn check_identities(membership: &Membership, lots: &[Lot]) -> Result<(), String> {
    if let Some(lot) = lots.iter().find(|l| l.remaining < 0 || l.remaining > l.points) {
        return Err(format!("lot {} has remaining {} of {}", lot.id, lot.remaining, lot.points));
    }
    let open: i64 = lots.iter().map(|l| l.remaining).sum();
    if membership.balance != open - membership.debt {
        return Err(format!("balance {} but open lots {} and debt {}", membership.balance, open, membership.debt));
    }
    if membership.balance != membership.balance_from_totals() {
        return Err(format!("balance {} but totals say {}", membership.balance, membership.balance_from_totals()));
    }
    if membership.debt < 0 {
        return Err(format!("negative debt {}", membership.debt));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

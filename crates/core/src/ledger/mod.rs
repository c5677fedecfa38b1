//! The points ledger (L3): lots, append-only entries, memberships (wallets), holds and the operations on
//! them. Every amount is `Points` with checked arithmetic: an operation that would overflow is refused
//! (`LedgerRejection::Overflow`), never wrapped.
//!
//! Every credit creates a lot; every debit consumes lots soonest-expiry-first and records what it took.
//! Invariants (`check_identities`): `balance == Σ lot.remaining − debt`, `0 ≤ lot.remaining ≤ lot.points`,
//! and `balance == earned + added + transferred_in − removed − expired − clawed_back − transferred_out`.
//! What a member can spend now is `balance − reserved − lapsed`, where lapsed lots are past their last
//! usable day but not yet written off by the expiry job (`Membership::spendable`).

mod earning;
pub mod hold;
mod transfer;
mod wallet;

pub use earning::{decide_clawback, decide_order_earning};
pub use transfer::{TransferNote, TransferPostings, transfer};
pub use wallet::{Shortfall, credit, debit, expire_lot, spending_order};

use crate::ids::{CustomerId, EntryId, LotId, MembershipId, OrderId, ProgramId, ProjectId};
use crate::money::Points;
use crate::rejection::{LedgerRejection, Rejection};
use jiff::Timestamp;
use jiff::civil::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Earn,
    ManualAdd,
    ManualRemove,
    Expire,
    Clawback,
    TransferIn,
    TransferOut,
}

impl EntryKind {
    pub const ALL: [EntryKind; 7] = [
        EntryKind::Earn,
        EntryKind::ManualAdd,
        EntryKind::ManualRemove,
        EntryKind::Expire,
        EntryKind::Clawback,
        EntryKind::TransferIn,
        EntryKind::TransferOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Earn => "earn",
            EntryKind::ManualAdd => "manual_add",
            EntryKind::ManualRemove => "manual_remove",
            EntryKind::Expire => "expire",
            EntryKind::Clawback => "clawback",
            EntryKind::TransferIn => "transfer_in",
            EntryKind::TransferOut => "transfer_out",
        }
    }

    pub fn parse(raw: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Credits add a lot; everything else takes from lots.
    pub fn is_credit(self) -> bool {
        matches!(self, EntryKind::Earn | EntryKind::ManualAdd | EntryKind::TransferIn)
    }
}

/// What caused an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    Order {
        order_id: OrderId,
    },
    /// A custom event an earning rule fired on.
    Event {
        event_id: crate::ids::EventId,
    },
    /// The member joined the program (a signup bonus).
    Enrolment,
    /// The member entered (or left) a segment an earning rule fires on.
    Segment {
        segment_id: crate::ids::SegmentId,
    },
    /// The member reached a tier level an earning rule fires on.
    Tier {
        level: String,
    },
    /// The member's birthday of this day, celebrated by an earning rule.
    Birthday {
        on: jiff::civil::Date,
    },
    /// The `years`-th anniversary of joining, celebrated by an earning rule.
    Anniversary {
        years: i16,
    },
    Admin {
        reason: String,
        actor: String,
    },
    Expiry {
        lot_id: LotId,
    },
    /// A transfer between two members of one program; `counterpart` is the other side.
    Transfer {
        counterpart: MembershipId,
        reason: String,
        actor: String,
    },
}

/// One credit with its own expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    pub id: LotId,
    pub program_id: ProgramId,
    pub membership_id: MembershipId,
    pub points: Points,
    pub remaining: Points,
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

/// Points a debit took from one lot (recorded on the debit entry).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LotTake {
    pub lot_id: LotId,
    pub points: Points,
}

/// A lot's remainder after a posting (what the posting writes back to the lot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotRemainder {
    pub lot_id: LotId,
    pub remaining: Points,
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
    pub points: Points,
    pub balance_after: Points,
    pub lot_id: Option<LotId>,
    pub expires_on: Option<Date>,
    pub consumed: Vec<LotTake>,
    /// Of a clawback: points that could not be taken back because they were already spent.
    pub unrecovered: Points,
    /// Of a credit: points that went to repay debt instead of into the lot.
    pub debt_repaid: Points,
    pub cause: Cause,
    /// The earning rule that gave the points (earn entries of rules; `None` for the program rate and the rest).
    pub rule: Option<crate::earning::RuleRef>,
    pub created_at: Timestamp,
}

/// Running totals of a membership, so the ledger identity can be checked without reading every entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub earned: Points,
    pub added: Points,
    pub removed: Points,
    pub expired: Points,
    pub clawed_back: Points,
    pub unrecovered: Points,
    pub transferred_in: Points,
    pub transferred_out: Points,
}

/// A customer's membership of one program: their wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub id: MembershipId,
    pub project_id: ProjectId,
    pub program_id: ProgramId,
    pub customer_id: CustomerId,
    pub card_code: String,
    /// Σ remaining of the lots − debt. Lots past their last day count until the expiry job writes them off;
    /// see `spendable` for what can be spent now.
    pub balance: Points,
    /// Points owed after a clawback took the balance below zero (only where the program allows it).
    pub debt: Points,
    /// Points held for the member, not yet credited (pending points).
    pub pending: Points,
    /// Points of the balance held for a reservation: in the balance, not spendable.
    pub reserved: Points,
    /// No open lot expires before this day (a lower bound; exact after every credit and debit). `None`:
    /// no open lot expires.
    pub next_expiry: Option<Date>,
    pub totals: Totals,
    /// What capped earning rules credited this member, per period (per-customer caps).
    pub rule_usage: crate::earning::RuleUsage,
    /// The member's tier, and the points earned per month that windowed tiers count.
    pub tier: crate::tier::MemberTier,
    /// The next birthday and anniversary, for the occasions job.
    pub occasions: crate::occasion::Occasions,
    /// When the first of `occasions` is due (the start of its day in the member's time zone); `None`: not
    /// planned yet.
    pub celebrate_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Membership {
    /// `balance` as the totals say it must be.
    pub fn balance_from_totals(&self) -> Option<Points> {
        let t = &self.totals;
        let credits = Points::sum([t.earned, t.added, t.transferred_in])?;
        let debits = Points::sum([t.removed, t.expired, t.clawed_back, t.transferred_out])?;
        credits.checked_sub(debits)
    }

    /// Whether some open lot may be past its last usable day on `today` (then `lapsed` needs the lots).
    pub fn may_have_lapsed_lots(&self, today: Date) -> bool {
        self.next_expiry.is_some_and(|day| day < today)
    }

    /// What the member can spend on `today`: the balance without reserved points and without lots past
    /// their last usable day (which the expiry job writes off later). `lots` are the open lots; they are
    /// only read when `may_have_lapsed_lots`.
    pub fn spendable(&self, lots: &[Lot], today: Date) -> Points {
        let lapsed = if self.may_have_lapsed_lots(today) { lapsed(lots, today) } else { Points::ZERO };
        self.balance.checked_sub(self.reserved).and_then(|b| b.checked_sub(lapsed)).unwrap_or(Points::ZERO)
    }
}

/// Points of open lots past their last usable day.
pub fn lapsed(lots: &[Lot], today: Date) -> Points {
    Points::sum(lots.iter().filter(|l| !l.is_usable_on(today)).map(|l| l.remaining)).unwrap_or(Points::ZERO)
}

/// The earliest last usable day of the lots with points left.
pub fn next_expiry<'a>(lots: impl IntoIterator<Item = &'a Lot>) -> Option<Date> {
    lots.into_iter().filter(|l| l.remaining.is_positive()).filter_map(|l| l.expires_on).min()
}

/// Everything one ledger operation changes: the entry, at most one new lot, lot remainders, the wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    pub entry: Entry,
    pub new_lot: Option<Lot>,
    pub remainders: Vec<LotRemainder>,
    pub membership: Membership,
}

/// Checked sum for wallet arithmetic: an overflow refuses the operation.
pub(crate) fn plus(a: Points, b: Points) -> Result<Points, Rejection> {
    a.checked_add(b).ok_or(Rejection::Ledger(LedgerRejection::Overflow))
}

/// Checked difference for wallet arithmetic.
pub(crate) fn minus(a: Points, b: Points) -> Result<Points, Rejection> {
    a.checked_sub(b).ok_or(Rejection::Ledger(LedgerRejection::Overflow))
}

/// Checks the ledger identities of one wallet; returns a description of the first violation.
pub fn check_identities(membership: &Membership, lots: &[Lot]) -> Result<(), String> {
    if let Some(lot) = lots.iter().find(|l| l.remaining.is_negative() || l.remaining > l.points) {
        return Err(format!("lot {} has remaining {} of {}", lot.id, lot.remaining, lot.points));
    }
    let open = Points::sum(lots.iter().map(|l| l.remaining)).ok_or("lots overflow")?;
    if Some(membership.balance) != open.checked_sub(membership.debt) {
        return Err(format!("balance {} but open lots {} and debt {}", membership.balance, open, membership.debt));
    }
    if Some(membership.balance) != membership.balance_from_totals() {
        return Err(format!("balance {} but totals say {:?}", membership.balance, membership.balance_from_totals()));
    }
    if membership.debt.is_negative() || membership.pending.is_negative() || membership.reserved.is_negative() {
        return Err(format!("negative debt, pending or reserved in {membership:?}"));
    }
    if let (Some(bound), Some(actual)) = (membership.next_expiry, next_expiry(lots))
        && bound > actual
    {
        return Err(format!("next_expiry {bound} is after the earliest open lot's last day {actual}"));
    }
    if membership.next_expiry.is_none() && next_expiry(lots).is_some() {
        return Err("next_expiry is unset while an open lot expires".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;

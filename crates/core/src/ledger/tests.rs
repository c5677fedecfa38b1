//! Earn / spend / expire / transfer timelines against wallets.

use super::*;
use crate::ids::{NewIds, SequentialIds};
use crate::rejection::Rejection;
use jiff::civil::date;

pub(super) fn p(n: i64) -> Points {
    Points::from_stored(n)
}

pub(super) fn now() -> Timestamp {
    "2025-01-01T00:00:00Z".parse().unwrap()
}

pub(super) fn admin() -> Cause {
    Cause::Admin { reason: "test".into(), actor: "t".into() }
}

pub(super) fn membership(ids: &mut SequentialIds) -> Membership {
    Membership {
        id: MembershipId::fresh(ids),
        project_id: ProjectId::fresh(ids),
        program_id: ProgramId::fresh(ids),
        customer_id: CustomerId::fresh(ids),
        card_code: ids.code(12),
        balance: Points::ZERO,
        debt: Points::ZERO,
        pending: Points::ZERO,
        reserved: Points::ZERO,
        next_expiry: None,
        totals: Totals::default(),
        rule_usage: Default::default(),
        occasions: Default::default(),
        celebrate_at: None,
        tier: Default::default(),
        created_at: now(),
        updated_at: now(),
    }
}

pub(super) struct Wallet {
    pub ids: SequentialIds,
    pub membership: Membership,
    pub lots: Vec<Lot>,
    pub entries: Vec<Entry>,
}

impl Wallet {
    pub fn new() -> Wallet {
        let mut ids = SequentialIds::starting_at(7);
        let membership = membership(&mut ids);
        Wallet { ids, membership, lots: Vec::new(), entries: Vec::new() }
    }

    pub fn apply(&mut self, posting: Posting) {
        for update in &posting.remainders {
            let lot = self.lots.iter_mut().find(|l| l.id == update.lot_id).expect("posting names a known lot");
            lot.remaining = update.remaining;
        }
        self.lots.extend(posting.new_lot);
        self.membership = posting.membership;
        self.entries.push(posting.entry);
        check_identities(&self.membership, &self.lots).expect("identities hold after every posting");
    }

    pub fn earn(&mut self, points: i64, expires_on: Option<Date>) -> LotId {
        let posting =
            credit(&self.membership, p(points), expires_on, EntryKind::Earn, admin(), now(), &mut self.ids).unwrap();
        let id = posting.new_lot.as_ref().map(|l| l.id.clone()).unwrap();
        self.apply(posting);
        id
    }

    pub fn spend(&mut self, points: i64, shortfall: Shortfall, today: Date) -> Result<Vec<(LotId, i64)>, Rejection> {
        let kind = if shortfall == Shortfall::Reject { EntryKind::ManualRemove } else { EntryKind::Clawback };
        let posting =
            debit(&self.membership, &self.lots, p(points), kind, shortfall, admin(), (now(), today), &mut self.ids)?;
        let taken = posting.entry.consumed.iter().map(|t| (t.lot_id.clone(), t.points.value())).collect();
        self.apply(posting);
        Ok(taken)
    }
}

#[test]
fn debits_take_the_soonest_expiring_lots_first_and_non_expiring_last() {
    let mut w = Wallet::new();
    let never = w.earn(100, None);
    let late = w.earn(100, Some(date(2025, 12, 31)));
    let soon = w.earn(100, Some(date(2025, 3, 31)));
    let taken = w.spend(250, Shortfall::Reject, date(2025, 1, 1)).unwrap();
    assert_eq!(taken, vec![(soon, 100), (late, 100), (never, 50)]);
    assert_eq!(w.membership.balance, p(50));
    assert_eq!(w.membership.next_expiry, None, "only the non-expiring lot has points left");
}

#[test]
fn lots_with_the_same_expiry_are_spent_oldest_first() {
    let mut w = Wallet::new();
    let first = w.earn(10, Some(date(2025, 6, 1)));
    let _second = w.earn(10, Some(date(2025, 6, 1)));
    assert_eq!(w.spend(5, Shortfall::Reject, date(2025, 1, 1)).unwrap(), vec![(first, 5)]);
}

#[test]
fn a_debit_beyond_the_balance_is_refused_whole_and_changes_nothing() {
    let mut w = Wallet::new();
    w.earn(100, None);
    let before = (w.membership.clone(), w.lots.clone());
    assert_eq!(w.spend(101, Shortfall::Reject, date(2025, 1, 1)), Err(Rejection::insufficient_points(100, 101)));
    assert_eq!((w.membership.clone(), w.lots.clone()), before);
}

#[test]
fn lots_past_their_last_day_are_not_spendable_before_the_expiry_run() {
    let mut w = Wallet::new();
    w.earn(100, Some(date(2025, 1, 31)));
    w.earn(5, None);
    assert_eq!(w.membership.spendable(&w.lots, date(2025, 1, 31)), p(105));
    assert_eq!(w.membership.spendable(&w.lots, date(2025, 2, 1)), p(5), "the balance shows what can be spent");
    assert!(w.spend(6, Shortfall::Reject, date(2025, 2, 1)).is_err());
    assert!(w.spend(6, Shortfall::Reject, date(2025, 1, 31)).is_ok());
}

#[test]
fn next_expiry_follows_the_earliest_open_lot() {
    let mut w = Wallet::new();
    w.earn(10, Some(date(2025, 6, 1)));
    w.earn(10, Some(date(2025, 3, 1)));
    assert_eq!(w.membership.next_expiry, Some(date(2025, 3, 1)));
    w.spend(10, Shortfall::Reject, date(2025, 1, 1)).unwrap();
    assert_eq!(w.membership.next_expiry, Some(date(2025, 6, 1)));
}

#[test]
fn expiry_takes_the_rest_of_a_lot_once() {
    let mut w = Wallet::new();
    let lot_id = w.earn(100, Some(date(2025, 1, 31)));
    w.spend(30, Shortfall::Reject, date(2025, 1, 10)).unwrap();
    let lot = w.lots.iter().find(|l| l.id == lot_id).unwrap().clone();
    let still = expire_lot(&w.membership, &w.lots, &lot, (now(), date(2025, 1, 31)), &mut w.ids).unwrap();
    assert!(still.is_none(), "still usable");
    let posting = expire_lot(&w.membership, &w.lots, &lot, (now(), date(2025, 2, 1)), &mut w.ids).unwrap().unwrap();
    assert_eq!(posting.entry.points, p(-70));
    w.apply(posting);
    let lot = w.lots.iter().find(|l| l.id == lot_id).unwrap().clone();
    let again = expire_lot(&w.membership, &w.lots, &lot, (now(), date(2025, 2, 2)), &mut w.ids).unwrap();
    assert!(again.is_none(), "nothing left");
    assert_eq!(w.membership.totals.expired, p(70));
    assert_eq!(w.membership.next_expiry, None);
}

#[test]
fn a_clawback_of_spent_points_records_the_unrecovered_rest() {
    let mut w = Wallet::new();
    w.earn(100, None);
    w.spend(80, Shortfall::Reject, date(2025, 1, 1)).unwrap();
    w.spend(50, Shortfall::Unrecovered, date(2025, 1, 1)).unwrap();
    let last = w.entries.last().unwrap();
    assert_eq!((last.points, last.unrecovered), (p(-20), p(30)));
    assert_eq!(w.membership.balance, p(0));
}

#[test]
fn with_negative_balances_allowed_a_clawback_becomes_debt_that_later_credits_repay() {
    let mut w = Wallet::new();
    w.earn(100, None);
    w.spend(80, Shortfall::Reject, date(2025, 1, 1)).unwrap();
    w.spend(50, Shortfall::Debt, date(2025, 1, 1)).unwrap();
    assert_eq!((w.membership.balance, w.membership.debt), (p(-30), p(30)));
    assert!(w.spend(1, Shortfall::Reject, date(2025, 1, 1)).is_err(), "debt is not spendable");
    w.earn(50, None);
    assert_eq!((w.membership.balance, w.membership.debt), (p(20), p(0)));
    assert_eq!(w.entries.last().unwrap().debt_repaid, p(30));
    assert_eq!(w.lots.last().unwrap().remaining, p(20));
}

#[test]
fn a_credit_that_would_overflow_the_balance_is_refused() {
    let mut w = Wallet::new();
    w.membership.balance = p(i64::MAX - 5);
    w.membership.totals.added = p(i64::MAX - 5);
    let result = credit(&w.membership, p(10), None, EntryKind::ManualAdd, admin(), now(), &mut w.ids);
    assert_eq!(result.map(|_| ()), Err(Rejection::Ledger(crate::rejection::LedgerRejection::Overflow)));
}

fn pair() -> (Wallet, Membership) {
    let mut w = Wallet::new();
    let mut target = membership(&mut w.ids);
    target.program_id = w.membership.program_id.clone();
    (w, target)
}

#[test]
fn a_transfer_moves_the_soonest_expiring_points_and_keeps_their_expiry() {
    let (mut w, target) = pair();
    w.earn(30, Some(date(2025, 3, 31)));
    w.earn(50, None);
    w.earn(40, Some(date(2025, 6, 30)));
    let note = TransferNote { reason: "gift", actor: "t" };
    let moved = transfer(&w.membership, &w.lots, &target, p(80), note, (now(), date(2025, 1, 1)), &mut w.ids).unwrap();
    assert_eq!(moved.out.entry.points, p(-80));
    assert_eq!(moved.out.entry.kind, EntryKind::TransferOut);
    let credits: Vec<(Option<Date>, Points)> =
        moved.into.iter().map(|posting| (posting.entry.expires_on, posting.entry.points)).collect();
    assert_eq!(credits, vec![(Some(date(2025, 3, 31)), p(30)), (Some(date(2025, 6, 30)), p(40)), (None, p(10))]);
    let received = moved.into.last().unwrap().membership.clone();
    assert_eq!(received.balance, p(80));
    assert_eq!(received.totals.transferred_in, p(80));
    let lots: Vec<Lot> = moved.into.iter().filter_map(|posting| posting.new_lot.clone()).collect();
    check_identities(&received, &lots).unwrap();
    w.apply(moved.out);
    assert_eq!(w.membership.balance, p(40));
    assert_eq!(w.membership.totals.transferred_out, p(80));
}

#[test]
fn a_transfer_beyond_the_spendable_balance_or_to_oneself_is_refused() {
    let (mut w, target) = pair();
    w.earn(10, None);
    let note = TransferNote { reason: "gift", actor: "t" };
    let clock = (now(), date(2025, 1, 1));
    let too_much = transfer(&w.membership, &w.lots, &target, p(11), note, clock, &mut w.ids);
    assert_eq!(too_much.map(|_| ()), Err(Rejection::insufficient_points(10, 11)));
    let same = transfer(&w.membership, &w.lots, &w.membership.clone(), p(1), note, clock, &mut w.ids);
    assert_eq!(same.map(|_| ()), Err(Rejection::Ledger(crate::rejection::LedgerRejection::SameMember)));
}

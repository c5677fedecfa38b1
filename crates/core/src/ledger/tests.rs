//! Earn / spend / expire timelines against one wallet.

use super::*;
use crate::ids::{NewIds, SequentialIds};
use crate::rejection::Rejection;
use jiff::civil::date;

struct Wallet {
    ids: SequentialIds,
    membership: Membership,
    lots: Vec<Lot>,
    entries: Vec<Entry>,
}

fn now() -> Timestamp {
    "2025-01-01T00:00:00Z".parse().unwrap()
}

impl Wallet {
    fn new() -> Wallet {
        let mut ids = SequentialIds::starting_at(7);
        let membership = Membership {
            id: MembershipId::fresh(&mut ids),
            project_id: ProjectId::fresh(&mut ids),
            program_id: ProgramId::fresh(&mut ids),
            customer_id: CustomerId::fresh(&mut ids),
            card_code: ids.code(12),
            balance: 0,
            debt: 0,
            totals: Totals::default(),
            created_at: now(),
            updated_at: now(),
        };
        Wallet { ids, membership, lots: Vec::new(), entries: Vec::new() }
    }

    fn apply(&mut self, posting: Posting) {
        for update in &posting.lot_updates {
            let lot = self.lots.iter_mut().find(|l| l.id == update.lot_id).expect("posting names a known lot");
            lot.remaining = update.points;
        }
        self.lots.extend(posting.new_lot);
        self.membership = posting.membership;
        self.entries.push(posting.entry);
        check_identities(&self.membership, &self.lots).expect("identities hold after every posting");
    }

    fn earn(&mut self, points: i64, expires_on: Option<Date>) -> LotId {
        let cause = Cause::Admin { reason: "test".into(), actor: "t".into() };
        let posting = credit(&self.membership, points, expires_on, EntryKind::Earn, cause, now(), &mut self.ids);
        let id = posting.new_lot.as_ref().map(|l| l.id.clone()).unwrap();
        self.apply(posting);
        id
    }

    fn spend(&mut self, points: i64, shortfall: Shortfall, today: Date) -> Result<Vec<(LotId, i64)>, Rejection> {
        let cause = Cause::Admin { reason: "test".into(), actor: "t".into() };
        let kind = if shortfall == Shortfall::Reject { EntryKind::ManualRemove } else { EntryKind::Clawback };
        let posting =
            debit(&self.membership, &self.lots, points, kind, shortfall, cause, (now(), today), &mut self.ids)?;
        let taken = posting.entry.consumed.iter().map(|t| (t.lot_id.clone(), t.points)).collect();
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
    assert_eq!(w.membership.balance, 50);
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
    assert_eq!(
        w.spend(101, Shortfall::Reject, date(2025, 1, 1)),
        Err(Rejection::InsufficientPoints { balance: 100, requested: 101 })
    );
    assert_eq!((w.membership.clone(), w.lots.clone()), before);
}

#[test]
fn lots_past_their_last_day_are_not_spendable_before_the_expiry_run() {
    let mut w = Wallet::new();
    w.earn(100, Some(date(2025, 1, 31)));
    assert!(w.spend(1, Shortfall::Reject, date(2025, 2, 1)).is_err());
    assert!(w.spend(1, Shortfall::Reject, date(2025, 1, 31)).is_ok());
}

#[test]
fn expiry_takes_the_rest_of_a_lot_once() {
    let mut w = Wallet::new();
    let lot_id = w.earn(100, Some(date(2025, 1, 31)));
    w.spend(30, Shortfall::Reject, date(2025, 1, 10)).unwrap();
    let lot = w.lots.iter().find(|l| l.id == lot_id).unwrap().clone();
    assert!(expire_lot(&w.membership, &lot, (now(), date(2025, 1, 31)), &mut w.ids).is_none(), "still usable");
    let posting = expire_lot(&w.membership, &lot, (now(), date(2025, 2, 1)), &mut w.ids).unwrap();
    assert_eq!(posting.entry.points, -70);
    w.apply(posting);
    let lot = w.lots.iter().find(|l| l.id == lot_id).unwrap().clone();
    assert!(expire_lot(&w.membership, &lot, (now(), date(2025, 2, 2)), &mut w.ids).is_none(), "nothing left");
    assert_eq!(w.membership.totals.expired, 70);
}

#[test]
fn a_clawback_of_spent_points_records_the_unrecovered_rest() {
    let mut w = Wallet::new();
    w.earn(100, None);
    w.spend(80, Shortfall::Reject, date(2025, 1, 1)).unwrap();
    w.spend(50, Shortfall::Unrecovered, date(2025, 1, 1)).unwrap();
    let last = w.entries.last().unwrap();
    assert_eq!((last.points, last.unrecovered), (-20, 30));
    assert_eq!(w.membership.balance, 0);
}

#[test]
fn with_negative_balances_allowed_a_clawback_becomes_debt_that_later_credits_repay() {
    let mut w = Wallet::new();
    w.earn(100, None);
    w.spend(80, Shortfall::Reject, date(2025, 1, 1)).unwrap();
    w.spend(50, Shortfall::Debt, date(2025, 1, 1)).unwrap();
    assert_eq!((w.membership.balance, w.membership.debt), (-30, 30));
    assert!(w.spend(1, Shortfall::Reject, date(2025, 1, 1)).is_err(), "debt is not spendable");
    w.earn(50, None);
    assert_eq!((w.membership.balance, w.membership.debt), (20, 0));
    assert_eq!(w.entries.last().unwrap().debt_repaid, 30);
    assert_eq!(w.lots.last().unwrap().remaining, 20);
}

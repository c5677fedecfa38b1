//! Holds: the state matrix, and random place / post / void / expire sequences that keep the identities.

use super::*;
use crate::ids::SequentialIds;
use crate::ledger::tests::{Wallet, admin, now, p};
use crate::ledger::{EntryKind, check_identities};
use jiff::civil::date;

#[test]
fn a_hold_leaves_pending_once_and_never_comes_back() {
    use HoldState::*;
    for from in HoldState::ALL {
        for to in HoldState::ALL {
            let expected = from == Pending && to != Pending;
            assert_eq!(from.can_become(to), expected, "{from:?} → {to:?}");
        }
    }
}

#[test]
fn pending_points_are_visible_but_not_spendable_until_posted() {
    let mut w = Wallet::new();
    let clock = (now(), date(2025, 1, 1));
    let held =
        place(&w.membership, &w.lots, HoldKind::Credit, p(40), date(2025, 1, 14), admin(), clock, &mut w.ids).unwrap();
    assert_eq!((held.membership.pending, held.membership.balance), (p(40), p(0)));
    w.membership = held.membership.clone();
    let (posted, posting) =
        post(&held.hold, &w.membership, &w.lots, EntryKind::Earn, Some(date(2025, 12, 31)), clock, &mut w.ids).unwrap();
    assert_eq!(posted.state, HoldState::Posted);
    w.apply(posting);
    assert_eq!((w.membership.pending, w.membership.balance), (p(0), p(40)));
    let twice = post(&posted, &w.membership, &w.lots, EntryKind::Earn, None, clock, &mut w.ids);
    assert!(matches!(twice, Err(Rejection::Ledger(LedgerRejection::InvalidHoldState { .. }))));
}

#[test]
fn a_reservation_takes_points_out_of_what_can_be_spent_until_it_is_voided() {
    let mut w = Wallet::new();
    w.earn(100, None);
    let clock = (now(), date(2025, 1, 1));
    let held =
        place(&w.membership, &w.lots, HoldKind::Debit, p(70), date(2025, 1, 1), admin(), clock, &mut w.ids).unwrap();
    w.membership = held.membership.clone();
    assert_eq!(w.membership.spendable(&w.lots, date(2025, 1, 1)), p(30));
    assert!(w.spend(31, crate::ledger::Shortfall::Reject, date(2025, 1, 1)).is_err());
    let second = place(&w.membership, &w.lots, HoldKind::Debit, p(31), date(2025, 1, 1), admin(), clock, &mut w.ids);
    assert_eq!(second.map(|_| ()), Err(Rejection::insufficient_points(30, 31)));
    let voided = void(&held.hold, &w.membership, now()).unwrap();
    assert_eq!(voided.membership.spendable(&w.lots, date(2025, 1, 1)), p(100));
}

#[test]
fn a_hold_expires_only_after_its_last_day_and_cannot_be_posted_then() {
    let mut w = Wallet::new();
    w.earn(10, None);
    let clock = (now(), date(2025, 1, 1));
    let held =
        place(&w.membership, &w.lots, HoldKind::Debit, p(5), date(2025, 1, 2), admin(), clock, &mut w.ids).unwrap();
    assert_eq!(expire(&held.hold, &held.membership, (now(), date(2025, 1, 2))).unwrap(), None);
    let late = (now(), date(2025, 1, 3));
    assert!(post(&held.hold, &held.membership, &w.lots, EntryKind::ManualRemove, None, late, &mut w.ids).is_err());
    let expired = expire(&held.hold, &held.membership, late).unwrap().unwrap();
    assert_eq!((expired.hold.state, expired.membership.reserved), (HoldState::Expired, p(0)));
}

/// A tiny deterministic generator, so that the property test needs no dependency and replays by seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

#[test]
fn random_hold_sequences_keep_the_ledger_identities_and_the_held_totals() {
    for seed in 1..=200_u64 {
        let mut rng = Lcg(seed);
        let mut w = Wallet { ids: SequentialIds::starting_at(seed), ..Wallet::new() };
        let mut open: Vec<Hold> = Vec::new();
        let today = date(2025, 1, 1);
        for _ in 0..40 {
            let clock = (now(), today);
            match rng.next(5) {
                0 => {
                    w.earn(i64::try_from(rng.next(50) + 1).unwrap(), None);
                }
                1 | 2 => {
                    let kind = if rng.next(2) == 0 { HoldKind::Credit } else { HoldKind::Debit };
                    let points = p(i64::try_from(rng.next(60) + 1).unwrap());
                    if let Ok(change) = place(&w.membership, &w.lots, kind, points, today, admin(), clock, &mut w.ids) {
                        w.membership = change.membership;
                        open.push(change.hold);
                    }
                }
                3 if !open.is_empty() => {
                    let hold = open.remove(usize::try_from(rng.next(open.len() as u64)).unwrap());
                    let kind = if hold.kind == HoldKind::Credit { EntryKind::Earn } else { EntryKind::ManualRemove };
                    let (_, posting) = post(&hold, &w.membership, &w.lots, kind, None, clock, &mut w.ids).unwrap();
                    w.apply(posting);
                }
                _ if !open.is_empty() => {
                    let hold = open.remove(usize::try_from(rng.next(open.len() as u64)).unwrap());
                    w.membership = void(&hold, &w.membership, now()).unwrap().membership;
                }
                _ => {}
            }
            check_identities(&w.membership, &w.lots).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            let held = |kind| Points::sum(open.iter().filter(|h| h.kind == kind).map(|h| h.points)).unwrap();
            assert_eq!(w.membership.pending, held(HoldKind::Credit), "seed {seed}");
            assert_eq!(w.membership.reserved, held(HoldKind::Debit), "seed {seed}");
            assert!(w.membership.spendable(&w.lots, today) >= Points::ZERO, "seed {seed}");
        }
    }
}

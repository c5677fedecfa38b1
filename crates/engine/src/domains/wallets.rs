//! The wallets a decision works on: memberships and their open lots, copied out of the snapshot and
//! updated as the decision's own postings apply, so that a later step sees an earlier one (an order
//! that is paid and partly refunded in one request earns, then claws back from the lot it just made).

use fidelis_core::ids::{CustomerId, MembershipId, NewIds, ProgramId, ProjectId};
use fidelis_core::ledger::{Lot, Membership, Posting, Totals};
use fidelis_core::money::Points;
use jiff::Timestamp;
use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub struct Wallets {
    memberships: Vec<Membership>,
    lots: HashMap<MembershipId, Vec<Lot>>,
}

impl Wallets {
    pub fn new<'a>(memberships: impl IntoIterator<Item = &'a Membership>) -> Wallets {
        Wallets { memberships: memberships.into_iter().cloned().collect(), lots: HashMap::new() }
    }

    pub fn with_lots<'a>(mut self, membership: &MembershipId, lots: impl IntoIterator<Item = &'a Lot>) -> Wallets {
        self.lots.insert(membership.clone(), lots.into_iter().cloned().collect());
        self
    }

    pub fn of_program(&self, program: &ProgramId) -> Option<&Membership> {
        self.memberships.iter().find(|m| &m.program_id == program)
    }

    pub fn get(&self, id: &MembershipId) -> Option<&Membership> {
        self.memberships.iter().find(|m| &m.id == id)
    }

    pub fn lots(&self, membership: &MembershipId) -> &[Lot] {
        self.lots.get(membership).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A lot by id, with the membership it belongs to.
    pub fn find_lot(&self, id: &fidelis_core::ids::LotId) -> Option<(Membership, Lot)> {
        let (membership, lots) = self.lots.iter().find(|(_, lots)| lots.iter().any(|l| &l.id == id))?;
        let lot = lots.iter().find(|l| &l.id == id)?.clone();
        Some((self.get(membership)?.clone(), lot))
    }

    /// Replaces a membership's copy (a change that is not a posting: pending points).
    pub fn set(&mut self, membership: Membership) {
        match self.memberships.iter_mut().find(|m| m.id == membership.id) {
            Some(m) => *m = membership,
            None => self.memberships.push(membership),
        }
    }

    pub fn add(&mut self, membership: Membership) {
        self.memberships.push(membership);
    }

    /// Applies a posting to the copy, as the working set will.
    pub fn apply(&mut self, posting: &Posting) {
        let id = &posting.membership.id;
        if let Some(m) = self.memberships.iter_mut().find(|m| &m.id == id) {
            *m = posting.membership.clone();
        } else {
            self.memberships.push(posting.membership.clone());
        }
        let lots = self.lots.entry(id.clone()).or_default();
        for r in &posting.remainders {
            if let Some(lot) = lots.iter_mut().find(|l| l.id == r.lot_id) {
                lot.remaining = r.remaining;
            }
        }
        lots.extend(posting.new_lot.clone());
    }
}

/// A new, empty membership.
pub fn new_membership(
    project: &ProjectId,
    program: &ProgramId,
    customer: &CustomerId,
    card_code: String,
    now: Timestamp,
    ids: &mut impl NewIds,
) -> Membership {
    Membership {
        id: MembershipId::fresh(ids),
        project_id: project.clone(),
        program_id: program.clone(),
        customer_id: customer.clone(),
        card_code,
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
        created_at: now,
        updated_at: now,
    }
}

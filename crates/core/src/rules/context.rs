//! What a rule is evaluated against: borrowed facts the engine already holds, cheap to assemble per decision.

use crate::customer::Customer;
use crate::ids::{ProgramId, SegmentId};
use crate::metadata::Metadata;
use crate::money::{Currency, Points};
use crate::order::Order;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The facts of one decision. Anything missing (no customer, no order, no event) makes the operands that need
/// it absent: comparisons with them are false and the explanation says the value is missing.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub now: Timestamp,
    /// The project's time zone: calendar windows, today, hour and day of week are computed in it.
    pub time_zone: &'a TimeZone,
    /// The project's currency (money in hints is formatted with it).
    pub currency: Currency,
    pub customer: Option<CustomerFacts<'a>>,
    pub order: Option<&'a Order>,
    pub event: Option<EventFacts<'a>>,
}

#[derive(Clone, Copy, Debug)]
pub struct CustomerFacts<'a> {
    /// Profile, metadata, `created_at` and the order/event/redemption aggregates (`stats`).
    pub customer: &'a Customer,
    /// Segments the customer belongs to, sorted (membership is a binary search).
    pub segments: &'a [SegmentId],
    /// One entry per program the customer is a member of.
    pub loyalty: &'a [LoyaltyFacts<'a>],
}

#[derive(Clone, Copy, Debug)]
pub struct LoyaltyFacts<'a> {
    pub program_id: &'a ProgramId,
    pub balance: Points,
    /// The name of the customer's tier in this program, if the program has tiers.
    pub tier: Option<&'a str>,
}

impl<'a> LoyaltyFacts<'a> {
    /// A membership's facts, with what the member can spend now (`Membership::spendable`) and its tier.
    pub fn of(membership: &'a crate::ledger::Membership, spendable: Points) -> LoyaltyFacts<'a> {
        LoyaltyFacts { program_id: &membership.program_id, balance: spendable, tier: membership.tier.level.as_deref() }
    }
}

/// The custom event being processed.
#[derive(Clone, Copy, Debug)]
pub struct EventFacts<'a> {
    pub name: &'a str,
    pub metadata: &'a Metadata,
}

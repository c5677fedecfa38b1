//! Decisions as data: what a command decided, before anything is applied. A decision is a pure function
//! of a snapshot, the command, the clock and fresh ids; the writer applies it to the working set, a dry
//! run only renders it, and a replay over history can compare it with what happened.

use crate::port::CounterKey;
use fidelis_core::counter::Counter;
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::DomainEvent;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, SegmentId};
use fidelis_core::ledger::{Membership, Posting};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use jiff::Timestamp;

/// One row change of a decision.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    Customer(Customer),
    /// An erasure; `old_source` stops naming the customer.
    ErasedCustomer {
        customer: Customer,
        old_source: Option<String>,
    },
    Order(Order),
    Event(CustomEvent),
    Program(Program),
    /// A new version of a program's rule set (inserted, never changed).
    RuleSet(fidelis_core::earning::RuleSet),
    TierMove(fidelis_core::tier::TierHistoryEntry),
    /// A wallet change that is not a posting (a new membership).
    Membership(Membership),
    Posting(Posting),
    /// Pending points placed, activated or canceled (the membership's `pending` is written with it).
    Hold(fidelis_core::ledger::hold::Hold),
    Segment(Segment),
    /// A customer entering (`Some(since)`) or leaving (`None`) a segment.
    SegmentMember {
        segment: SegmentId,
        customer: CustomerId,
        entered: Option<Timestamp>,
    },
    /// A counter reservation (written as a conditional increment).
    Counter {
        key: CounterKey,
        counter: Counter,
    },
}

/// Row changes, domain events and the answer of one command.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision<O> {
    pub writes: Vec<Write>,
    pub events: Vec<DomainEvent>,
    pub outcome: O,
}

impl<O> Decision<O> {
    pub fn new(outcome: O) -> Decision<O> {
        Decision { writes: Vec::new(), events: Vec::new(), outcome }
    }

    /// Writes a posting with the domain event it stands for.
    pub fn post(&mut self, posting: Posting) {
        self.events.push(DomainEvent::of_entry(&posting.entry));
        self.writes.push(Write::Posting(posting));
    }
}

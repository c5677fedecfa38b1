//! What a command names: the one place that says which rows a command will touch. The batch bulk-loads
//! (and on PostgreSQL locks) them before any command runs; the writer routes by them.

use crate::port::{CounterName, CustomerRef, MemberRef, OrderRef};
use fidelis_core::ids::{ProgramId, SegmentId};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Names {
    pub customers: Vec<CustomerRef>,
    /// Orders the command names; those in `orders_without_customer` are named without their customer,
    /// whose owner the batch resolves before locking.
    pub orders: Vec<OrderRef>,
    pub orders_without_customer: Vec<OrderRef>,
    /// Members named by id or card code (resolved to their customer) or by customer.
    pub members: Vec<MemberRef>,
    pub event_ids: Vec<String>,
    pub counters: Vec<CounterName>,
    /// The command reads the project's programs / segments.
    pub programs: bool,
    pub segments: bool,
    /// Config rows the command changes (locked after customers, orders and counters).
    pub programs_changed: Vec<ProgramId>,
    pub segments_changed: Vec<SegmentId>,
    /// The command scans and locks rows of its own choosing: it runs in a batch alone.
    pub exclusive: bool,
}

impl Names {
    /// What routes a command to a writer (PostgreSQL writer affinity): its first customer, else its
    /// first member, else its first order. Commands about one customer go to one writer, so that writers
    /// rarely wait for each other's locks.
    pub fn routing_key(&self) -> Option<String> {
        let member = |m: &MemberRef| match m {
            MemberRef::Customer(c) => c.text(),
            other => other.text(),
        };
        self.customers
            .first()
            .map(CustomerRef::text)
            .or_else(|| self.members.first().map(member))
            .or_else(|| self.orders.first().map(OrderRef::text))
    }
}

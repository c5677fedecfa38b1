//! References a client uses to name things: our id, or the merchant's own `source_id` / a card code.

use crate::ids::{CustomerId, MembershipId, OrderId};

/// A customer named by id or by the merchant's `source_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CustomerRef {
    Id(CustomerId),
    Source(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderRef {
    Id(OrderId),
    Source(String),
}

/// A member named by membership id, card code or customer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberRef {
    Id(MembershipId),
    Card(String),
    Customer(CustomerRef),
}

impl CustomerRef {
    /// The reference as the client wrote it (for error messages).
    pub fn text(&self) -> String {
        match self {
            CustomerRef::Id(id) => id.to_string(),
            CustomerRef::Source(s) => s.clone(),
        }
    }
}

impl OrderRef {
    pub fn text(&self) -> String {
        match self {
            OrderRef::Id(id) => id.to_string(),
            OrderRef::Source(s) => s.clone(),
        }
    }
}

impl MemberRef {
    pub fn text(&self) -> String {
        match self {
            MemberRef::Id(id) => id.to_string(),
            MemberRef::Card(code) => code.clone(),
            MemberRef::Customer(c) => c.text(),
        }
    }
}

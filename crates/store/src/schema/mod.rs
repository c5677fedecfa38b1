//! One module per table: its columns (`SCHEMA`), how a row decodes and encodes (by column name), how
//! the flush writes it, and the lookups and queries on it — each written once for both databases.

pub mod counters;
pub mod customers;
pub mod entries;
pub mod events;
pub mod holds;
pub mod idempotency;
pub mod lots;
pub mod memberships;
pub mod orders;
pub mod outbox;
pub mod programs;
pub mod projects;
pub mod rule_sets;
pub mod segments;
pub mod tier_history;

use crate::row::Value;
use fidelis_engine::port::StoreError;

pub(crate) fn money(value: i64) -> Result<fidelis_core::money::Money, StoreError> {
    fidelis_core::money::Money::new(value).ok_or_else(|| StoreError::Corrupt(format!("amount {value}")))
}

pub(crate) fn opt_id(id: Option<&impl ToString>) -> Value {
    Value::OptText(id.map(ToString::to_string))
}

//! Fidelis core: the pure domain. Every decision is a function of (snapshot, command, `now`, ids);
//! nothing here does IO, reads a clock or draws randomness.

pub mod calendar;
pub mod counter;
pub mod customer;
pub mod domain_event;
pub mod earning;
pub mod event;
pub mod expiry;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod metadata;
pub mod money;
pub mod occasion;
pub mod order;
pub mod order_lines;
pub mod program;
pub mod refs;
pub mod rejection;
pub mod rules;
pub mod segment;
pub mod stats;
pub mod text;
pub mod tier;

pub use ids::NewIds;
pub use money::{Currency, Money, Points};
pub use rejection::Rejection;

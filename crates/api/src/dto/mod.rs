//! Wire shapes: request bodies (parsed into domain values here, with every field error collected) and
//! response bodies. JSON shapes live only in this crate.

pub mod common;
pub mod customer;
pub mod earning;
pub mod event;
pub mod member;
pub mod order;
pub mod program;
pub mod rule;
pub mod segment;
pub mod tier;
pub mod whole;

//! The read use cases: what the JSON API (and later the web apps) ask, computed once here from the read
//! port, never from a writer. Each function is a query over a consistent enough view (one read each).

pub mod customers;
pub mod members;
pub mod segments;

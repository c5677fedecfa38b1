//! Integration tests through the HTTP API, on SQLite and (when the binaries exist) PostgreSQL.

mod support;

mod bad_input;
mod binary;
mod cli;
mod concurrency;
mod connections;
mod crash;
mod customers;
mod dry_run;
mod earning_caps;
mod earning_rules;
mod events;
mod idempotency;
mod isolation;
mod ledger_model;
mod locking;
mod occasions;
mod ops;
mod orders;
mod outbox;
mod pending;
mod points;
mod rules;
mod segment_model;
mod segments;
mod tiers;
mod transfer;

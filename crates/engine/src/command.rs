//! Commands (what a client asks the writer to do) and outcomes (what was decided), as plain data. Each
//! domain has its own command and outcome enum (`crate::domains::*`); these enums only delegate, one line
//! per domain.

use crate::domains::{customers, events, jobs, members, orders, programs, segments};
use crate::names::Names;
use crate::project::Project;
use fidelis_core::rejection::Rejection;
use jiff::Timestamp;
use std::sync::Arc;

/// Who asks: the project (resolved from the API key) and an actor name for the audit trail.
#[derive(Clone, Debug)]
pub struct Scope {
    pub project: Arc<Project>,
    pub actor: String,
    /// The id of the request that carries the command (stored responses keep the original one).
    pub request_id: String,
}

/// An `Idempotency-Key` with the hash of the request it came with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRequest {
    pub key: String,
    pub request_hash: String,
}

#[derive(Clone, Debug)]
pub struct Command {
    pub scope: Scope,
    pub idempotency: Option<IdempotencyRequest>,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Customers(customers::Command),
    Orders(orders::Command),
    Events(events::Command),
    Programs(programs::Command),
    Members(members::Command),
    Segments(segments::Command),
    Jobs(jobs::Command),
    /// Looks up the command's idempotency key and stores nothing: the start of an operation made of several
    /// commands, which a stored answer or a reused key stops before any work (see `Engine::keyed`).
    CheckKey,
    /// Answers with the given outcome, which stores it under the command's key: the end of such an operation.
    Settle(Box<Outcome>),
}

impl Action {
    /// What the command names (loads, locks, routing).
    pub fn names(&self) -> Names {
        let mut names = Names::default();
        match self {
            Action::Customers(c) => customers::names(c, &mut names),
            Action::Orders(c) => orders::names(c, &mut names),
            Action::Events(c) => events::names(c, &mut names),
            Action::Programs(c) => programs::names(c, &mut names),
            Action::Members(c) => members::names(c, &mut names),
            Action::Segments(c) => segments::names(c, &mut names),
            Action::Jobs(c) => jobs::names(c, &mut names),
            Action::CheckKey | Action::Settle(_) => {}
        }
        names
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Customers(customers::Outcome),
    Orders(orders::Outcome),
    Events(events::Outcome),
    Programs(programs::Outcome),
    Members(members::Outcome),
    Segments(segments::Outcome),
    Jobs(jobs::Outcome),
    Rejected(Rejection),
    /// `CheckKey` found no answer stored under the key.
    KeyFree,
    /// The stored response of an earlier request with the same idempotency key.
    Replayed(Stored),
}

/// A response as it was stored for an idempotency key: what the client receives on every replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What the writer answers for a command: the outcome, the clock reading it was decided at, and the
/// response stored for its idempotency key (the live answer is exactly these bytes).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub outcome: Outcome,
    pub now: Timestamp,
    pub stored: Option<Stored>,
}

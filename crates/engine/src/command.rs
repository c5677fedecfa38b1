//! Commands (what a client asks the writer to do) and outcomes (what was decided), as plain data.

use crate::port::{CustomerRef, MemberRef, OrderRef};
use crate::project::Project;
use fidelis_core::customer::{Customer, CustomerPatch};
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, ProgramId, SegmentId};
use fidelis_core::ledger::{Entry, Membership};
use fidelis_core::metadata::Metadata;
use fidelis_core::money::{Money, Points};
use fidelis_core::order::{Order, OrderDraft};
use fidelis_core::program::{Program, ProgramDraft};
use fidelis_core::rejection::Rejection;
use fidelis_core::segment::Segment;
use jiff::Timestamp;
use jiff::civil::Date;
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

/// What to do when the customer named by an upsert does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenMissing {
    Create,
    Reject,
}

/// A customer named in a command, with profile changes to upsert on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerInput {
    pub reference: Option<CustomerRef>,
    pub patch: CustomerPatch,
    pub when_missing: WhenMissing,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderInput {
    pub reference: Option<OrderRef>,
    pub customer: Option<CustomerInput>,
    pub draft: OrderDraft,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventInput {
    pub customer: CustomerInput,
    pub name: String,
    pub client_event_id: Option<String>,
    pub metadata: Metadata,
    pub occurred_at: Option<Timestamp>,
}

/// Whether events came one at a time or as a batch (the answer has the same shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submission {
    Single,
    Batch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Add,
    Remove,
}

/// A manual change of a member's points, with the reason shown in their history.
#[derive(Clone, Debug, PartialEq)]
pub struct PointsAdjustment {
    pub program: ProgramId,
    pub member: MemberRef,
    pub direction: Direction,
    pub points: Points,
    pub reason: String,
    /// Overrides the program's expiry for an add (the last usable day).
    pub expires_on: Option<Date>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    UpsertCustomer(CustomerInput),
    EraseCustomer(CustomerRef),
    UpsertOrder(Box<OrderInput>),
    RefundOrder {
        order: OrderRef,
        amount: Money,
    },
    RecordEvents {
        events: Vec<EventInput>,
        submission: Submission,
    },
    CreateProgram(ProgramDraft),
    UpdateProgram {
        program: ProgramId,
        draft: ProgramDraft,
    },
    Enrol {
        program: ProgramId,
        customer: CustomerInput,
        card_code: Option<String>,
    },
    AdjustPoints(PointsAdjustment),
    /// The scheduled jobs due at the batch's `now`, at most `lots_max` lots of expiry per command.
    RunDueJobs {
        lots_max: usize,
    },
    CreateSegment {
        name: String,
        definition: SegmentDefinition,
    },
    UpdateSegment {
        segment: SegmentId,
        name: Option<String>,
        rule: Option<String>,
    },
    /// Adds and removes members of a static segment.
    ChangeSegmentMembers {
        segment: SegmentId,
        add: Vec<CustomerRef>,
        remove: Vec<CustomerRef>,
        unknown: UnknownCustomers,
    },
    /// Evaluates a dynamic segment for up to `limit` customers after `after` (one chunk of a recompute).
    /// Stops (without marking the segment computed) if the rule is no longer at `version`.
    RecomputeSegment {
        segment: SegmentId,
        version: i64,
        after: Option<CustomerId>,
        limit: usize,
    },
    /// Looks up the command's idempotency key and stores nothing: the start of an operation made of several
    /// commands, which a stored answer or a reused key stops before any work (see `Engine::keyed`).
    CheckKey,
    /// Answers with the given outcome, which stores it under the command's key: the end of such an operation.
    Settle(Box<Outcome>),
}

/// A segment's definition as given: static, or dynamic with the canonical JSON text of its rule.
#[derive(Clone, Debug, PartialEq)]
pub enum SegmentDefinition {
    Static,
    Dynamic { rule: String },
}

/// What a member change does with customers that do not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownCustomers {
    /// Refuse the whole change.
    Reject,
    /// Apply the rest and report them (CSV import).
    Report,
}

/// A member change that could not be applied, by position in the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberError {
    pub index: usize,
    pub reference: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventOutcome {
    pub event: CustomEvent,
    pub duplicate: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobReport {
    pub expired_lots: u64,
    pub expired_points: i64,
    pub idempotency_records_pruned: u64,
    /// Dynamic segments re-evaluated for every customer (never computed, or time-dependent and due).
    pub segments_swept: u64,
    /// More due work remained when the per-command bound was reached.
    pub more_due: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Customer {
        customer: Customer,
        created: bool,
    },
    Order {
        order: Order,
        created: bool,
        entries: Vec<Entry>,
    },
    Events {
        events: Vec<EventOutcome>,
        submission: Submission,
    },
    Program {
        program: Program,
        created: bool,
    },
    Member {
        membership: Membership,
        created: bool,
    },
    Points {
        entry: Entry,
        membership: Membership,
    },
    Jobs(JobReport),
    Segment {
        segment: Segment,
        created: bool,
    },
    SegmentMembers {
        added: u64,
        removed: u64,
        unchanged: u64,
        errors: Vec<MemberError>,
    },
    Recomputed {
        evaluated: u64,
        entered: u64,
        left: u64,
        next: Option<CustomerId>,
    },
    Rejected(Rejection),
    /// `CheckKey` found no answer stored under the key.
    KeyFree,
    /// The stored response of an earlier request with the same idempotency key.
    Replayed {
        status: u16,
        body: Vec<u8>,
    },
}

//! The storage port: what the engine needs from a database, implemented by the SQLite and PostgreSQL
//! adapters and checked by one contract suite against both (`crates/store/tests/contract.rs`).
//!
//! **Locking (PostgreSQL, several writers and nodes).** A batch takes its row locks in one global order,
//! each class in one statement sorted by key: customers (by id) → orders (by id) → counters (by project,
//! name) → programs (by id) → segments (by id). Rows a customer owns (memberships, lots, events, entries)
//! are read without locks: every writer changes them only while holding the owner's lock, so a read made
//! after taking it sees the latest committed version (READ COMMITTED). Inserts of rows that do not exist
//! yet are caught by unique constraints and surface as `StoreError::Conflict`, on which the writer
//! retries the batch. SQLite has a single writer and needs none of this.

use crate::project::{ApiKey, Project};
use async_trait::async_trait;
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::{DomainEvent, Topic};
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{
    ApiKeyId, CustomerId, EarningRuleId, MembershipId, OrderId, OutboxId, ProgramId, ProjectId, SegmentId,
};
use fidelis_core::ledger::hold::Hold;
use fidelis_core::ledger::{Entry, Lot, Membership};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use jiff::Timestamp;
use jiff::civil::Date;

pub use fidelis_core::refs::{CustomerRef, MemberRef, OrderRef};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint or serialization conflict with a concurrent writer; retrying can succeed.
    #[error("conflict with a concurrent write: {0}")]
    Conflict(String),
    /// The database cannot be reached or failed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be decoded (a bug or a foreign write).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A page of a newest-first list: at most `limit` items with ids below `before`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub before: Option<String>,
}

/// A stored response to an idempotent request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub project_id: ProjectId,
    pub key: String,
    /// Hex SHA-256 of method, path and body.
    pub request_hash: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub created_at: Timestamp,
}

/// A domain event for the outside world, written in the same commit as its cause.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEvent {
    pub id: OutboxId,
    pub project_id: ProjectId,
    pub topic: Topic,
    /// The payload's version (`Topic::version` when it was written).
    pub version: u16,
    pub customer_id: Option<CustomerId>,
    /// What the event is about (order, entry, segment, …).
    pub subject_id: String,
    pub event: DomainEvent,
    pub created_at: Timestamp,
}

impl OutboxEvent {
    /// The outbox view of a row that is its own record (`Topic::read_in_place`): its id is the row's id
    /// body under the outbox prefix, so it sorts among the outbox's rows by creation.
    pub fn in_place(project_id: &ProjectId, row_body: &str, event: DomainEvent, created_at: Timestamp) -> Self {
        let id = OutboxId::from_trusted(format!("{}_{row_body}", OutboxId::PREFIX));
        OutboxEvent::new(id, project_id, event, created_at)
    }

    /// An event with the current payload version of its topic.
    pub fn new(id: OutboxId, project_id: &ProjectId, event: DomainEvent, created_at: Timestamp) -> Self {
        let topic = event.topic();
        OutboxEvent {
            id,
            project_id: project_id.clone(),
            topic,
            version: topic.version(),
            customer_id: event.customer_id().cloned(),
            subject_id: event.subject_id(),
            event,
            created_at,
        }
    }
}

/// Which customer columns a scan decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projection {
    Full,
    /// The aggregates (`stats`) are left out and read as empty: for rules that do not read them. Such
    /// customers must never be written back whole.
    WithoutStats,
}

/// A counted quantity of a project with a limit (see `fidelis_core::counter`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CounterName {
    Programs,
    Segments,
    /// Points an earning rule has issued, against its budget. Read without a lock and kept exact by the
    /// conditional increment alone (see ARCHITECTURE.md "Counters").
    RuleBudget(EarningRuleId),
}

const RULE_BUDGET_PREFIX: &str = "rule_budget:";

impl CounterName {
    pub fn text(&self) -> String {
        match self {
            CounterName::Programs => "programs".to_owned(),
            CounterName::Segments => "segments".to_owned(),
            CounterName::RuleBudget(rule) => format!("{RULE_BUDGET_PREFIX}{rule}"),
        }
    }

    pub fn parse(raw: &str) -> Option<CounterName> {
        match raw {
            "programs" => Some(CounterName::Programs),
            "segments" => Some(CounterName::Segments),
            _ => raw.strip_prefix(RULE_BUDGET_PREFIX).and_then(EarningRuleId::parse).map(CounterName::RuleBudget),
        }
    }

    /// Counters read without a row lock: the flush creates them when missing.
    pub fn is_unlocked(&self) -> bool {
        matches!(self, CounterName::RuleBudget(_))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    pub project_id: ProjectId,
    pub name: CounterName,
}

/// A counter change of a batch: `used` grows by `delta`, which must keep it within `limit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterDelta {
    pub key: CounterKey,
    pub delta: i64,
    pub limit: Option<i64>,
}

/// A membership's columns the jobs scan: the next expiry, the end of the tier status, the next occasion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MembershipDue<'a> {
    pub id: &'a MembershipId,
    pub next_expiry: Option<Date>,
    pub tier_until: Option<Date>,
    pub celebrate_at: Option<Timestamp>,
}

impl<'a> MembershipDue<'a> {
    pub fn of(m: &'a Membership) -> MembershipDue<'a> {
        MembershipDue { id: &m.id, next_expiry: m.next_expiry, tier_until: m.tier.until, celebrate_at: m.celebrate_at }
    }
}

/// Everything a batch writes, each row once. Rows are upserted by primary key.
#[derive(Default, Debug)]
pub struct ChangeSet<'a> {
    pub customers: Vec<&'a Customer>,
    pub orders: Vec<&'a Order>,
    pub events: Vec<&'a CustomEvent>,
    pub programs: Vec<&'a Program>,
    /// Memberships, upserted; an existing one's indexed due columns are only written through
    /// `membership_dues` (assigning them on every upsert would rewrite their index entries).
    pub memberships: Vec<&'a Membership>,
    /// Existing memberships where one of the due columns changed, with the new values.
    pub membership_dues: Vec<MembershipDue<'a>>,
    pub lots: Vec<&'a Lot>,
    pub holds: Vec<&'a Hold>,
    pub rule_sets: Vec<&'a fidelis_core::earning::RuleSet>,
    pub tier_moves: Vec<&'a fidelis_core::tier::TierHistoryEntry>,
    pub entries: Vec<&'a Entry>,
    pub idempotency: Vec<&'a IdempotencyRecord>,
    /// Idempotency records past their retention.
    pub idempotency_pruned: Vec<&'a (ProjectId, String)>,
    pub outbox: Vec<&'a OutboxEvent>,
    /// Customers erased in this batch: the metadata of their orders and events is cleared too.
    pub erased_customers: Vec<&'a CustomerId>,
    pub segments: Vec<&'a Segment>,
    /// Segment lists of customers that are not written whole (loaded without their aggregates).
    pub customer_segments: Vec<(&'a CustomerId, &'a [SegmentId])>,
    pub members_added: Vec<(&'a SegmentId, &'a CustomerId, Timestamp)>,
    pub members_removed: Vec<(&'a SegmentId, &'a CustomerId)>,
    /// Conditional increments: the flush fails (`Conflict`) if one would pass its limit.
    pub counters: Vec<CounterDelta>,
}

impl ChangeSet<'_> {
    pub fn rows(&self) -> usize {
        self.customers.len()
            + self.orders.len()
            + self.events.len()
            + self.programs.len()
            + self.memberships.len()
            + self.membership_dues.len()
            + self.tier_moves.len()
            + self.lots.len()
            + self.entries.len()
            + self.idempotency.len()
            + self.idempotency_pruned.len()
            + self.outbox.len()
            + self.erased_customers.len()
            + self.segments.len()
            + self.customer_segments.len()
            + self.members_added.len()
            + self.members_removed.len()
            + self.counters.len()
    }
}

/// What a batch loads. Implemented by a writer's session (which locks, in the order of the module doc)
/// and by read snapshots for dry runs (which lock nothing). Bulk loads take many keys at once so that a
/// batch costs few round trips. Loads return committed rows only; the working set overlays the batch's
/// own changes.
#[async_trait]
pub trait Loads: Send {
    async fn idempotency(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<IdempotencyRecord>>;
    /// The customers owning the named orders and members, without locking: who a batch must lock.
    async fn owners(
        &mut self,
        orders: &[(ProjectId, OrderRef)],
        members: &[(ProjectId, MemberRef)],
    ) -> StoreResult<Vec<CustomerId>>;
    /// Customers by id or `(project, source_id)`. Lock class 1.
    async fn customers(&mut self, ids: &[CustomerId], sources: &[(ProjectId, String)]) -> StoreResult<Vec<Customer>>;
    /// Orders by id or `(project, source_id)`. Lock class 2.
    async fn orders(&mut self, ids: &[OrderId], sources: &[(ProjectId, String)]) -> StoreResult<Vec<Order>>;
    /// Counters' `used` (0 when never counted). Lock class 3.
    async fn counters(&mut self, keys: &[CounterKey]) -> StoreResult<Vec<(CounterKey, i64)>>;
    /// Counters' `used` without creating or locking them (those `CounterName::is_unlocked` names).
    async fn counters_unlocked(&mut self, keys: &[CounterKey]) -> StoreResult<Vec<(CounterKey, i64)>>;
    /// Programs of the projects; those in `lock` are locked (class 4).
    async fn programs(&mut self, projects: &[ProjectId], lock: &[ProgramId]) -> StoreResult<Vec<Program>>;
    /// Segments of the projects; those in `lock` are locked (class 5).
    async fn segments(&mut self, projects: &[ProjectId], lock: &[SegmentId]) -> StoreResult<Vec<Segment>>;
    async fn events_by_client_id(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<CustomEvent>>;
    /// Memberships by id, by `(project, card code)` or of customers.
    async fn memberships(
        &mut self,
        ids: &[MembershipId],
        cards: &[(ProjectId, String)],
        customers: &[CustomerId],
    ) -> StoreResult<Vec<Membership>>;
    /// Lots with points left of these memberships.
    async fn open_lots(&mut self, memberships: &[MembershipId]) -> StoreResult<Vec<Lot>>;
    /// Every hold of these memberships (pending points and their history).
    async fn holds(&mut self, memberships: &[MembershipId]) -> StoreResult<Vec<Hold>>;
    /// Pending holds of a program due to activate on or before `today`, oldest first.
    async fn due_holds(&mut self, program: &ProgramId, today: Date, limit: usize) -> StoreResult<Vec<Hold>>;
    /// Members of a program whose tier status ended before `before`, to review (no locks).
    async fn due_tier_reviews(
        &mut self,
        program: &ProgramId,
        before: Date,
        limit: usize,
    ) -> StoreResult<Vec<Membership>>;
    /// Members of a program whose next occasion is due at `at`, or who were never planned (no locks).
    async fn due_occasions(&mut self, program: &ProgramId, at: Timestamp, limit: usize)
    -> StoreResult<Vec<Membership>>;
    /// Ids of every order of a customer (for erasure).
    async fn order_ids_of_customer(&mut self, customer: &CustomerId) -> StoreResult<Vec<OrderId>>;
    /// Lots of `program` with points left whose last usable day is before `today`, oldest expiry first.
    async fn due_lots(&mut self, program: &ProgramId, today: Date, limit: usize) -> StoreResult<Vec<Lot>>;
    /// Idempotency keys created before `before`, at most `limit`.
    async fn stale_idempotency(&mut self, before: Timestamp, limit: usize) -> StoreResult<Vec<(ProjectId, String)>>;
    /// Customers of a project in id order after `after`; locked in id order when `Full` (class 1; only in
    /// a batch of its own).
    async fn customers_after(
        &mut self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>>;
}

/// One writer's connection. A batch is `begin`, loads, one `flush`, `commit` (or `rollback`).
#[async_trait]
pub trait WriteSession: Loads {
    async fn begin(&mut self) -> StoreResult<()>;
    async fn commit(&mut self) -> StoreResult<()>;
    async fn rollback(&mut self) -> StoreResult<()>;
    async fn flush(&mut self, changes: &ChangeSet<'_>) -> StoreResult<()>;
}

/// A read snapshot for a dry run: the loads of a batch over one consistent, read-only view.
#[async_trait]
pub trait Snapshot: Loads {
    /// Ends the snapshot (nothing was written).
    async fn finish(&mut self) -> StoreResult<()>;
}

/// Reads for queries. Never waits for the writer (WAL readers / MVCC snapshots).
#[async_trait]
pub trait ReadPort: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;
    /// A snapshot for a dry run.
    async fn snapshot(&self) -> StoreResult<Box<dyn Snapshot>>;

    async fn project_by_name(&self, name: &str) -> StoreResult<Option<Project>>;
    async fn project_list(&self) -> StoreResult<Vec<Project>>;
    async fn api_key_list(&self, project: &ProjectId) -> StoreResult<Vec<ApiKey>>;
    async fn api_key_by_hash(&self, secret_hash: &str) -> StoreResult<Option<(ApiKey, Project)>>;

    async fn customer(&self, project: &ProjectId, customer: &CustomerRef) -> StoreResult<Option<Customer>>;
    async fn customer_page(&self, project: &ProjectId, page: &PageRequest) -> StoreResult<Vec<Customer>>;
    async fn order(&self, project: &ProjectId, order: &OrderRef) -> StoreResult<Option<Order>>;
    async fn order_page(
        &self,
        project: &ProjectId,
        customer: Option<&CustomerId>,
        page: &PageRequest,
    ) -> StoreResult<Vec<Order>>;
    async fn event_page(
        &self,
        project: &ProjectId,
        customer: Option<&CustomerId>,
        page: &PageRequest,
    ) -> StoreResult<Vec<CustomEvent>>;
    async fn program(&self, project: &ProjectId, program: &ProgramId) -> StoreResult<Option<Program>>;
    async fn program_list(&self, project: &ProjectId) -> StoreResult<Vec<Program>>;
    async fn membership(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        member: &MemberRef,
    ) -> StoreResult<Option<Membership>>;
    async fn membership_page(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        page: &PageRequest,
    ) -> StoreResult<Vec<Membership>>;
    async fn customer_memberships(&self, project: &ProjectId, customer: &CustomerId) -> StoreResult<Vec<Membership>>;
    async fn entry_page(
        &self,
        project: &ProjectId,
        membership: &MembershipId,
        page: &PageRequest,
    ) -> StoreResult<Vec<Entry>>;
    /// Lots with points left, any expiry.
    async fn open_lot_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Lot>>;
    /// All lots of a membership, spent ones included (for audits and tests).
    async fn lot_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Lot>>;
    /// Versions of a program's rule set, newest first: those below `before` (all: `None`), at most `limit`.
    async fn rule_set_list(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<fidelis_core::earning::RuleSet>>;
    async fn rule_set(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        version: i64,
    ) -> StoreResult<Option<fidelis_core::earning::RuleSet>>;
    /// Every hold of a member, newest first.
    async fn hold_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Hold>>;
    /// Every entry of a membership, oldest first (for audits and tests).
    async fn entry_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Entry>>;
    /// A member's tier moves, newest first.
    async fn tier_history_page(
        &self,
        project: &ProjectId,
        membership: &MembershipId,
        page: &PageRequest,
    ) -> StoreResult<Vec<fidelis_core::tier::TierHistoryEntry>>;
    async fn outbox_page(&self, project: &ProjectId, page: &PageRequest) -> StoreResult<Vec<OutboxEvent>>;
    /// A counter's `used` (0 when never counted).
    async fn counter(&self, key: &CounterKey) -> StoreResult<i64>;

    async fn segment(&self, project: &ProjectId, segment: &SegmentId) -> StoreResult<Option<Segment>>;
    async fn segment_list(&self, project: &ProjectId) -> StoreResult<Vec<Segment>>;
    /// Members of a segment, newest customer id first: (customer, member since).
    async fn segment_member_page(
        &self,
        project: &ProjectId,
        segment: &SegmentId,
        page: &PageRequest,
    ) -> StoreResult<Vec<(CustomerId, Timestamp)>>;
    async fn segment_member_count(&self, project: &ProjectId, segment: &SegmentId) -> StoreResult<i64>;
    /// Customers of a project in id order, after `after`: for previews and exports.
    async fn customer_scan(
        &self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>>;
    /// Memberships of a project in id order, after `after`.
    async fn membership_scan(
        &self,
        project: &ProjectId,
        after: Option<&MembershipId>,
        limit: usize,
    ) -> StoreResult<Vec<Membership>>;
}

/// Administration writes that are not decisions of a project's data: tenants and their keys.
#[async_trait]
pub trait AdminPort: Send + Sync {
    async fn create_project(&self, project: &Project) -> StoreResult<()>;
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// Marks a key revoked; `false` when the project has no such live key.
    async fn revoke_api_key(&self, project: &ProjectId, key: &ApiKeyId, at: Timestamp) -> StoreResult<bool>;
}

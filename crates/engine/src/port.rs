//! The storage port: what the engine needs from a database, implemented by the SQLite and PostgreSQL
//! adapters and checked by one contract suite against both.
//!
//! Locking (PostgreSQL, several writers): every `WriteSession` load of a row the batch may change takes a
//! row lock (`FOR UPDATE`) that lasts until commit; unique constraints catch concurrent inserts and surface
//! as `StoreError::Conflict`, on which the writer retries the batch. SQLite has a single writer and needs
//! neither.

use crate::project::{ApiKey, Project};
use async_trait::async_trait;
use fidelis_core::customer::Customer;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{ApiKeyId, CustomerId, MembershipId, OrderId, OutboxId, ProgramId, ProjectId, SegmentId};
use fidelis_core::ledger::{Entry, Lot, Membership};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use jiff::Timestamp;
use jiff::civil::Date;

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

/// A customer named by id or by the merchant's `source_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CustomerRef {
    Id(CustomerId),
    Source(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OrderRef {
    Id(OrderId),
    Source(String),
}

/// A member named by membership id, card code or customer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MemberRef {
    Id(MembershipId),
    Card(String),
    Customer(CustomerRef),
}

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

/// An event for the outside world, written in the same commit as its cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: OutboxId,
    pub project_id: ProjectId,
    pub topic: String,
    pub customer_id: Option<CustomerId>,
    pub subject_id: String,
    pub created_at: Timestamp,
}

/// Which customer columns a scan decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projection {
    Full,
    /// The aggregates (`stats`) are left out and read as empty: for rules that do not read them. Such
    /// customers must never be written back whole.
    WithoutStats,
}

/// Everything a batch writes, each row once. Rows are upserted by primary key.
#[derive(Default, Debug)]
pub struct ChangeSet<'a> {
    pub customers: Vec<&'a Customer>,
    pub orders: Vec<&'a Order>,
    pub events: Vec<&'a CustomEvent>,
    pub programs: Vec<&'a Program>,
    pub memberships: Vec<&'a Membership>,
    pub lots: Vec<&'a Lot>,
    pub entries: Vec<&'a Entry>,
    pub idempotency: Vec<&'a IdempotencyRecord>,
    pub outbox: Vec<&'a OutboxEvent>,
    /// Customers erased in this batch: the metadata of their orders and events is cleared too.
    pub erased_customers: Vec<&'a CustomerId>,
    pub segments: Vec<&'a Segment>,
    /// Segment lists of customers that are not written whole (loaded without their aggregates).
    pub customer_segments: Vec<(&'a CustomerId, &'a [SegmentId])>,
    pub members_added: Vec<(&'a SegmentId, &'a CustomerId, Timestamp)>,
    pub members_removed: Vec<(&'a SegmentId, &'a CustomerId)>,
}

impl ChangeSet<'_> {
    pub fn rows(&self) -> usize {
        self.customers.len()
            + self.orders.len()
            + self.events.len()
            + self.programs.len()
            + self.memberships.len()
            + self.lots.len()
            + self.entries.len()
            + self.idempotency.len()
            + self.outbox.len()
            + self.erased_customers.len()
            + self.segments.len()
            + self.customer_segments.len()
            + self.members_added.len()
            + self.members_removed.len()
    }
}

/// Reads for queries and administration. Never waits for the writer (WAL readers / MVCC snapshots).
#[async_trait]
pub trait ReadPort: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;

    async fn create_project(&self, project: &Project) -> StoreResult<()>;
    async fn project_by_name(&self, name: &str) -> StoreResult<Option<Project>>;
    async fn project_list(&self) -> StoreResult<Vec<Project>>;
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// Marks a key revoked; `false` when the project has no such live key.
    async fn revoke_api_key(&self, project: &ProjectId, key: &ApiKeyId, at: Timestamp) -> StoreResult<bool>;
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
    /// Every entry of a membership, oldest first (for audits and tests).
    async fn entry_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Entry>>;
    async fn outbox_page(&self, project: &ProjectId, page: &PageRequest) -> StoreResult<Vec<OutboxEvent>>;

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

/// One writer's connection. A batch is `begin`, loads, one `flush`, `commit` (or `rollback`).
/// Loads return what is committed plus nothing of the running batch: the engine's working set overlays
/// the batch's own changes. Bulk loads take many keys at once so that a batch costs few round trips.
#[async_trait]
pub trait WriteSession: Send {
    async fn begin(&mut self) -> StoreResult<()>;
    async fn commit(&mut self) -> StoreResult<()>;
    async fn rollback(&mut self) -> StoreResult<()>;

    async fn idempotency(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<IdempotencyRecord>>;
    async fn programs(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Program>>;
    async fn customers(&mut self, ids: &[CustomerId]) -> StoreResult<Vec<Customer>>;
    async fn customers_by_source(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Customer>>;
    async fn orders(&mut self, ids: &[OrderId]) -> StoreResult<Vec<Order>>;
    async fn orders_by_source(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Order>>;
    /// Ids of every order of a customer (for erasure).
    async fn order_ids_of_customer(&mut self, customer: &CustomerId) -> StoreResult<Vec<OrderId>>;
    async fn events_by_client_id(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<CustomEvent>>;
    async fn memberships(&mut self, ids: &[MembershipId]) -> StoreResult<Vec<Membership>>;
    async fn memberships_of_customers(&mut self, customers: &[CustomerId]) -> StoreResult<Vec<Membership>>;
    async fn memberships_by_card(&mut self, keys: &[(ProjectId, String)]) -> StoreResult<Vec<Membership>>;
    /// Lots with points left of these memberships.
    async fn open_lots(&mut self, memberships: &[MembershipId]) -> StoreResult<Vec<Lot>>;
    /// Lots of `program` with points left whose last usable day is before `today`, oldest expiry first.
    async fn due_lots(&mut self, program: &ProgramId, today: Date, limit: usize) -> StoreResult<Vec<Lot>>;
    async fn segments(&mut self, projects: &[ProjectId]) -> StoreResult<Vec<Segment>>;
    /// Customers of a project in id order after `after` (locked on PostgreSQL when `Full`).
    async fn customers_after(
        &mut self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>>;
    async fn flush(&mut self, changes: &ChangeSet<'_>) -> StoreResult<()>;
    /// Deletes idempotency records created before `before`; returns how many.
    async fn prune_idempotency(&mut self, before: Timestamp, limit: usize) -> StoreResult<u64>;
}

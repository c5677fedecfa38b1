//! Fidelis engine: the use cases behind the API. Writes go through the writer pipeline (group commit);
//! reads go straight to the storage port's read side and never wait for the writer.

pub mod auth;
mod batch;
pub mod clock;
pub mod command;
mod handlers;
pub mod idgen;
pub mod port;
pub mod project;
pub mod segments;
mod working_set;
pub mod writer;

pub use batch::Renderer;
pub use handlers::Stop;

use crate::clock::Clock;
use crate::command::{Action, Command, IdempotencyRequest, JobReport, Outcome, Scope};
use crate::port::ReadPort;
use crate::writer::{Job, WriteError, WriterHandle, WriterShared, WriterSpec};
use fidelis_core::ids::SegmentId;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Lots expired per job command, so that one command never makes a huge transaction.
pub const EXPIRY_LOTS_PER_COMMAND_MAX: usize = 2_000;
/// Customers evaluated per recompute command (one writer transaction).
pub const SEGMENT_RECOMPUTE_CUSTOMERS_PER_COMMAND: usize = 5_000;

pub struct EngineConfig {
    pub batch_commands_max: usize,
    pub queue_commands_max: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { batch_commands_max: writer::BATCH_COMMANDS_MAX, queue_commands_max: writer::QUEUE_COMMANDS_MAX }
    }
}

pub struct Engine {
    writers: Vec<mpsc::Sender<Job>>,
    handles: parking_lot::Mutex<Vec<WriterHandle>>,
    reads: Arc<dyn ReadPort>,
    clock: Arc<dyn Clock>,
    keys: auth::KeyCache,
}

impl Engine {
    /// Starts one writer per spec. Must be called inside a tokio runtime (task writers are spawned on it).
    pub fn start(
        reads: Arc<dyn ReadPort>,
        writers: Vec<WriterSpec>,
        clock: Arc<dyn Clock>,
        renderer: Arc<dyn Renderer>,
        config: EngineConfig,
    ) -> std::io::Result<Engine> {
        let shared = Arc::new(WriterShared {
            clock: clock.clone(),
            ids: idgen::UlidIds::new(),
            renderer,
            batch_commands_max: config.batch_commands_max,
        });
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for (index, spec) in writers.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(config.queue_commands_max);
            handles.push(writer::spawn(index, spec, shared.clone(), rx)?);
            senders.push(tx);
        }
        Ok(Engine {
            writers: senders,
            handles: parking_lot::Mutex::new(handles),
            reads,
            clock,
            keys: auth::KeyCache::default(),
        })
    }

    pub fn reads(&self) -> &dyn ReadPort {
        self.reads.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Queues a command on its writer and waits for the decision to be durable.
    pub async fn execute(&self, command: Command) -> Result<Outcome, WriteError> {
        let writer = &self.writers[route(&command, self.writers.len())];
        let (reply, answer) = oneshot::channel();
        let job = Job { command, reply, queued_at: Instant::now() };
        writer.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => WriteError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
        })?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }

    /// Runs every due job of every project until nothing due is left.
    pub async fn run_due_jobs(&self) -> Result<JobReport, WriteError> {
        let mut total = JobReport::default();
        for project in self.reads.project_list().await? {
            let scope = Scope { project: Arc::new(project), actor: "scheduler".to_owned(), request_id: String::new() };
            loop {
                let command = Command {
                    scope: scope.clone(),
                    idempotency: None,
                    action: Action::RunDueJobs { lots_max: EXPIRY_LOTS_PER_COMMAND_MAX },
                };
                let Outcome::Jobs(report) = self.execute(command).await? else {
                    break;
                };
                total.expired_lots += report.expired_lots;
                total.expired_points += report.expired_points;
                total.idempotency_records_pruned += report.idempotency_records_pruned;
                if !report.more_due {
                    break;
                }
            }
            total.segments_swept += self.sweep_segments(&scope).await?;
        }
        Ok(total)
    }

    /// Re-evaluates, for every customer, the dynamic segments that are due: never computed, or reading the
    /// clock and last swept in an earlier hour (project time zone). Returns how many were swept.
    pub async fn sweep_segments(&self, scope: &Scope) -> Result<u64, WriteError> {
        let now = self.clock.now();
        let tz = scope.project.tz();
        let hour = |t: jiff::Timestamp| {
            let local = t.to_zoned(tz.clone());
            (local.date(), local.hour())
        };
        let mut swept = 0;
        for segment in self.reads.segment_list(&scope.project.id).await? {
            let due = match (&segment.kind, segment.swept_at) {
                (fidelis_core::segment::SegmentKind::Static, _) => false,
                (_, None) => true,
                (_, Some(at)) => segment.time_dependent && hour(at) < hour(now) && at < now,
            };
            if due {
                self.recompute_segment(scope, &segment.id).await?;
                swept += 1;
            }
        }
        Ok(swept)
    }

    /// Evaluates a dynamic segment for every customer of the project, chunk by chunk through the writer.
    /// Runs an operation made of several commands (`work`) under one idempotency key: a stored answer is
    /// replayed, or a reused key refused, before any work; the combined outcome is stored under the key at
    /// the end. Two concurrent first attempts may both do the work (the operations using this are
    /// idempotent by nature); one answer is stored and replayed from then on.
    pub async fn keyed<F, Fut>(
        &self,
        scope: &Scope,
        key: Option<IdempotencyRequest>,
        work: F,
    ) -> Result<Outcome, WriteError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Outcome, WriteError>>,
    {
        let Some(key) = key else { return work().await };
        let check = Command { scope: scope.clone(), idempotency: Some(key.clone()), action: Action::CheckKey };
        match self.execute(check).await? {
            Outcome::KeyFree => {}
            answered => return Ok(answered),
        }
        let outcome = work().await?;
        let settle =
            Command { scope: scope.clone(), idempotency: Some(key), action: Action::Settle(Box::new(outcome)) };
        self.execute(settle).await
    }

    pub async fn recompute_segment(&self, scope: &Scope, segment: &SegmentId) -> Result<Outcome, WriteError> {
        let version = self.reads.segment(&scope.project.id, segment).await?.map_or(0, |s| s.version);
        let (mut evaluated, mut entered, mut left, mut after) = (0, 0, 0, None);
        loop {
            let action = Action::RecomputeSegment {
                segment: segment.clone(),
                version,
                after: after.clone(),
                limit: SEGMENT_RECOMPUTE_CUSTOMERS_PER_COMMAND,
            };
            match self.execute(Command { scope: scope.clone(), idempotency: None, action }).await? {
                Outcome::Recomputed { evaluated: e, entered: n, left: l, next } => {
                    (evaluated, entered, left) = (evaluated + e, entered + n, left + l);
                    if next.is_none() {
                        return Ok(Outcome::Recomputed { evaluated, entered, left, next: None });
                    }
                    after = next;
                }
                other => return Ok(other),
            }
        }
    }

    pub fn keys(&self) -> &auth::KeyCache {
        &self.keys
    }

    /// Stops accepting commands, lets the writers finish what is queued, and waits for them.
    pub async fn shutdown(self) {
        let Engine { writers, handles, .. } = self;
        drop(writers);
        for handle in handles.into_inner() {
            match handle {
                WriterHandle::Thread(h) => {
                    let _ = tokio::task::spawn_blocking(move || h.join()).await;
                }
                WriterHandle::Task(h) => {
                    let _ = h.await;
                }
            }
        }
    }
}

/// Commands about the same customer (or order) go to the same writer, so that writers rarely contend
/// for the same rows.
fn route(command: &Command, writers: usize) -> usize {
    if writers <= 1 {
        return 0;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    command.scope.project.id.hash(&mut hasher);
    routing_key(&command.action).hash(&mut hasher);
    usize::try_from(hasher.finish() % u64::try_from(writers).unwrap_or(1)).unwrap_or(0)
}

fn routing_key(action: &Action) -> Option<String> {
    use crate::port::{CustomerRef, MemberRef, OrderRef};
    let customer = |r: &Option<CustomerRef>| match r {
        Some(CustomerRef::Id(id)) => Some(id.to_string()),
        Some(CustomerRef::Source(s)) => Some(s.clone()),
        None => None,
    };
    match action {
        Action::UpsertCustomer(input) | Action::Enrol { customer: input, .. } => customer(&input.reference),
        Action::EraseCustomer(r) => customer(&Some(r.clone())),
        Action::UpsertOrder(input) => {
            input.customer.as_ref().and_then(|c| customer(&c.reference)).or_else(|| input.draft.source_id.clone())
        }
        Action::RefundOrder { order: OrderRef::Id(id), .. } => Some(id.to_string()),
        Action::RefundOrder { order: OrderRef::Source(s), .. } => Some(s.clone()),
        Action::RecordEvents { events, .. } => events.first().and_then(|e| customer(&e.customer.reference)),
        Action::AdjustPoints(a) => match &a.member {
            MemberRef::Id(id) => Some(id.to_string()),
            MemberRef::Card(c) => Some(c.clone()),
            MemberRef::Customer(r) => customer(&Some(r.clone())),
        },
        Action::CreateProgram(_)
        | Action::UpdateProgram { .. }
        | Action::RunDueJobs { .. }
        | Action::CreateSegment { .. }
        | Action::UpdateSegment { .. }
        | Action::ChangeSegmentMembers { .. }
        | Action::RecomputeSegment { .. }
        | Action::CheckKey
        | Action::Settle(_) => None,
    }
}

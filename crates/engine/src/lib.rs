//! Fidelis engine: the use cases behind the API. Writes go through the writer pipeline (group commit);
//! dry runs decide the same way on a read snapshot; reads go to the storage port's read side and the
//! query layer (`queries`), and never wait for the writer.

pub mod auth;
mod batch;
pub mod clock;
pub mod command;
pub mod decision;
pub mod domains;
mod effects;
pub mod idgen;
pub mod names;
pub mod occasions;
pub mod port;
pub mod project;
pub mod queries;
pub mod segments;
pub mod table;
pub mod tiers;
pub mod working_set;
pub mod writer;

pub use batch::Renderer;
pub use domains::{Limits, Stop};

use crate::batch::{WriterState, decide_batch};
use crate::clock::Clock;
use crate::command::{Action, Answer, Command, IdempotencyRequest, Outcome, Scope};
use crate::domains::{jobs, segments as segment_commands};
use crate::port::{AdminPort, ReadPort};
use crate::working_set::WorkingSet;
use crate::writer::{Job, WriteError, WriterHandle, WriterShared, WriterSpec};
use fidelis_core::ids::SegmentId;
use jiff::SignedDuration;
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
    pub limits: Limits,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            batch_commands_max: writer::BATCH_COMMANDS_MAX,
            queue_commands_max: writer::QUEUE_COMMANDS_MAX,
            limits: Limits::default(),
        }
    }
}

/// What a run of the scheduled jobs did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobReport {
    pub activated_pending: u64,
    pub activated_points: i64,
    pub expired_lots: u64,
    /// Tier statuses reviewed after they ended, and how many went down.
    pub tiers_reviewed: u64,
    pub tiers_downgraded: u64,
    pub expired_points: i64,
    pub idempotency_records_pruned: u64,
    /// Dynamic segments re-evaluated for every customer (never computed, or time-dependent and due).
    pub segments_swept: u64,
    /// Birthdays and anniversaries celebrated (each once, whatever the rules gave).
    pub birthdays: u64,
    pub anniversaries: u64,
}

impl JobReport {
    fn add(&mut self, outcome: &jobs::Outcome) {
        match *outcome {
            jobs::Outcome::Activated { holds, points, .. } => {
                self.activated_pending += holds;
                self.activated_points += points;
            }
            jobs::Outcome::Expired { lots, points, .. } => {
                self.expired_lots += lots;
                self.expired_points += points;
            }
            jobs::Outcome::Reviewed { members, downgraded, .. } => {
                self.tiers_reviewed += members;
                self.tiers_downgraded += downgraded;
            }
            jobs::Outcome::Celebrated { birthdays, anniversaries, .. } => {
                self.birthdays += birthdays;
                self.anniversaries += anniversaries;
            }
            jobs::Outcome::Pruned { records } => self.idempotency_records_pruned += records,
        }
    }
}

pub struct Engine {
    writers: Vec<mpsc::Sender<Job>>,
    handles: parking_lot::Mutex<Vec<WriterHandle>>,
    reads: Arc<dyn ReadPort>,
    admin: Arc<dyn AdminPort>,
    clock: Arc<dyn Clock>,
    keys: auth::KeyCache,
    shared: Arc<WriterShared>,
    /// Compiled segment rules for dry runs (taken out while one runs; a concurrent one compiles afresh).
    dry_rules: parking_lot::Mutex<segments::RuleCache>,
}

impl Engine {
    /// Starts one writer per spec. Must be called inside a tokio runtime (task writers are spawned on it).
    pub fn start(
        reads: Arc<dyn ReadPort>,
        admin: Arc<dyn AdminPort>,
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
            limits: config.limits,
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
            admin,
            clock,
            keys: auth::KeyCache::default(),
            shared,
            dry_rules: parking_lot::Mutex::new(segments::RuleCache::default()),
        })
    }

    pub fn reads(&self) -> &dyn ReadPort {
        self.reads.as_ref()
    }

    pub fn admin(&self) -> &dyn AdminPort {
        self.admin.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Queues a command on its writer and waits for the decision to be durable.
    pub async fn execute(&self, command: Command) -> Result<Answer, WriteError> {
        let names = command.action.names();
        let writer = &self.writers[route(&command.scope, names.routing_key(), self.writers.len())];
        let (reply, answer) = oneshot::channel();
        let job = Job { command, exclusive: names.exclusive, reply, queued_at: Instant::now() };
        writer.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => WriteError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
        })?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }

    /// The outcome of a command, for handlers that look at it rather than answer it.
    pub async fn outcome(&self, command: Command) -> Result<Outcome, WriteError> {
        Ok(self.execute(command).await?.outcome)
    }

    /// Decides a command exactly as the writer would, on a read snapshot, and commits nothing: no queue,
    /// no fsync, no idempotency key. Commands that scan (jobs, recomputes) are not dry-runnable.
    pub async fn dry_run(&self, command: Command) -> Result<Answer, WriteError> {
        let mut snapshot = self.reads.snapshot().await?;
        let now = writer::storable(self.clock.now());
        let rules = std::mem::take(&mut *self.dry_rules.lock());
        let mut state = WriterState { ids: self.shared.ids.clone(), rules, limits: self.shared.limits };
        let mut ws = WorkingSet::new();
        let decided = decide_batch(snapshot.as_mut(), &mut ws, &[&command], now, &mut state, None).await;
        *self.dry_rules.lock() = state.rules;
        let finished = snapshot.finish().await;
        let answer = decided?.pop().ok_or(WriteError::Stopped)?;
        finished?;
        Ok(answer)
    }

    /// Runs every due job of every project until nothing due is left.
    pub async fn run_due_jobs(&self) -> Result<JobReport, WriteError> {
        let mut total = JobReport::default();
        let projects = self.reads.project_list().await?;
        for project in &projects {
            let scope =
                Scope { project: Arc::new(project.clone()), actor: "scheduler".to_owned(), request_id: String::new() };
            // The nightly order of SEMANTICS.md: activate pending points, expire lots, review tiers; then
            // the day's birthdays and anniversaries.
            let max = EXPIRY_LOTS_PER_COMMAND_MAX;
            for command in [
                jobs::Command::ActivateDue { holds_max: max },
                jobs::Command::ExpireDue { lots_max: max },
                jobs::Command::ReviewTiers { members_max: max },
                jobs::Command::CelebrateDue { members_max: max },
            ] {
                self.until_done(&scope, command, &mut total).await?;
            }
            total.segments_swept += self.sweep_segments(&scope).await?;
        }
        if let Some(project) = projects.first() {
            total.idempotency_records_pruned = self.prune_idempotency(project).await?;
        }
        Ok(total)
    }

    /// Runs a job command again while it leaves work due, adding what each run did to `total`.
    async fn until_done(&self, scope: &Scope, job: jobs::Command, total: &mut JobReport) -> Result<(), WriteError> {
        loop {
            let command = Command { scope: scope.clone(), idempotency: None, action: Action::Jobs(job.clone()) };
            let Outcome::Jobs(outcome) = self.outcome(command).await? else { return Ok(()) };
            total.add(&outcome);
            if !outcome.more_due() {
                return Ok(());
            }
        }
    }

    /// Deletes idempotency records past their retention (of every project), in bounded commands.
    async fn prune_idempotency(&self, project: &project::Project) -> Result<u64, WriteError> {
        let scope =
            Scope { project: Arc::new(project.clone()), actor: "scheduler".to_owned(), request_id: String::new() };
        let now = self.clock.now();
        let before = now.checked_sub(SignedDuration::from_hours(jobs::IDEMPOTENCY_RETENTION_HOURS)).unwrap_or(now);
        let mut pruned = 0;
        loop {
            let action =
                Action::Jobs(jobs::Command::PruneIdempotency { before, limit: jobs::IDEMPOTENCY_PRUNE_ROWS_MAX });
            let command = Command { scope: scope.clone(), idempotency: None, action };
            match self.outcome(command).await? {
                Outcome::Jobs(jobs::Outcome::Pruned { records }) => {
                    pruned += records;
                    if records < jobs::IDEMPOTENCY_PRUNE_ROWS_MAX as u64 {
                        return Ok(pruned);
                    }
                }
                _ => return Ok(pruned),
            }
        }
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

    /// Runs an operation made of several commands (`work`) under one idempotency key: a stored answer is
    /// replayed, or a reused key refused, before any work; the combined outcome is stored under the key at
    /// the end. Two concurrent first attempts may both do the work (the operations using this are
    /// idempotent by nature); one answer is stored and replayed from then on.
    pub async fn keyed<F, Fut>(
        &self,
        scope: &Scope,
        key: Option<IdempotencyRequest>,
        work: F,
    ) -> Result<Answer, WriteError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Outcome, WriteError>>,
    {
        let Some(key) = key else {
            let outcome = work().await?;
            return Ok(Answer { outcome, now: self.clock.now(), stored: None });
        };
        let check = Command { scope: scope.clone(), idempotency: Some(key.clone()), action: Action::CheckKey };
        let answered = self.execute(check).await?;
        if answered.outcome != Outcome::KeyFree {
            return Ok(answered);
        }
        let outcome = work().await?;
        let settle =
            Command { scope: scope.clone(), idempotency: Some(key), action: Action::Settle(Box::new(outcome)) };
        self.execute(settle).await
    }

    /// Evaluates a dynamic segment for every customer of the project, chunk by chunk through the writer.
    pub async fn recompute_segment(&self, scope: &Scope, segment: &SegmentId) -> Result<Outcome, WriteError> {
        let version = self.reads.segment(&scope.project.id, segment).await?.map_or(0, |s| s.version);
        let (mut evaluated, mut entered, mut left, mut after) = (0, 0, 0, None);
        loop {
            let action = Action::Segments(segment_commands::Command::Recompute {
                segment: segment.clone(),
                version,
                after: after.clone(),
                limit: SEGMENT_RECOMPUTE_CUSTOMERS_PER_COMMAND,
            });
            match self.outcome(Command { scope: scope.clone(), idempotency: None, action }).await? {
                Outcome::Segments(segment_commands::Outcome::Recomputed {
                    evaluated: e,
                    entered: n,
                    left: l,
                    next,
                }) => {
                    (evaluated, entered, left) = (evaluated + e, entered + n, left + l);
                    if next.is_none() {
                        let done = segment_commands::Outcome::Recomputed { evaluated, entered, left, next: None };
                        return Ok(Outcome::Segments(done));
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

/// Commands about the same customer (or member, or order) go to the same writer, so that writers rarely
/// wait for each other's locks.
fn route(scope: &Scope, key: Option<String>, writers: usize) -> usize {
    if writers <= 1 {
        return 0;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    scope.project.id.hash(&mut hasher);
    key.hash(&mut hasher);
    usize::try_from(hasher.finish() % u64::try_from(writers).unwrap_or(1)).unwrap_or(0)
}

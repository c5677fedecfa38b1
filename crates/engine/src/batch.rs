//! One writer batch: begin, prefetch what the commands name, decide each command in order against the
//! working set (idempotency first), flush every change at once, commit. Rejections never reach the
//! database, so no savepoints are needed; a storage error fails the whole batch and the writer retries.

use crate::command::{Action, Command, Outcome};
use crate::handlers::{Ctx, Stop, dispatch};
use crate::idgen::UlidIds;
use crate::port::{CustomerRef, IdempotencyRecord, MemberRef, OrderRef, StoreResult, WriteSession};
use crate::segments::{RuleCache, maintain};
use crate::working_set::WorkingSet;
use fidelis_core::ids::{CustomerId, OrderId, ProjectId};
use fidelis_core::rejection::Rejection;
use jiff::Timestamp;
use std::collections::BTreeSet;

/// Turns an outcome into the (status, body) a client receives, so that a replay returns the same bytes.
pub trait Renderer: Send + Sync {
    /// `now` is the batch's clock reading (responses may show values relative to it).
    fn render(&self, scope: &crate::command::Scope, outcome: &Outcome, now: Timestamp) -> (u16, Vec<u8>);
}

/// What a writer keeps from batch to batch: its id source and its compiled segment rules.
#[derive(Default)]
pub struct WriterState {
    pub ids: UlidIds,
    pub rules: RuleCache,
}

/// Runs `commands` in one transaction; outcomes are in command order.
pub async fn run_batch(
    session: &mut dyn WriteSession,
    commands: &[&Command],
    now: Timestamp,
    state: &mut WriterState,
    renderer: &dyn Renderer,
) -> StoreResult<Vec<Outcome>> {
    session.begin().await?;
    let result = decide_and_flush(session, commands, now, state, renderer).await;
    match result {
        Ok(outcomes) => {
            let started = std::time::Instant::now();
            session.commit().await?;
            metrics::histogram!("fidelis_writer_commit_seconds").record(started.elapsed());
            Ok(outcomes)
        }
        Err(error) => {
            if let Err(rollback) = session.rollback().await {
                tracing::warn!(%rollback, "rollback after a failed batch failed too");
            }
            Err(error)
        }
    }
}

async fn decide_and_flush(
    session: &mut dyn WriteSession,
    commands: &[&Command],
    now: Timestamp,
    state: &mut WriterState,
    renderer: &dyn Renderer,
) -> StoreResult<Vec<Outcome>> {
    let mut ws = WorkingSet::new();
    let started = std::time::Instant::now();
    prefetch(&mut ws, session, commands).await?;
    metrics::histogram!("fidelis_writer_prefetch_seconds").record(started.elapsed());
    let mut outcomes = Vec::with_capacity(commands.len());
    for command in commands {
        state.ids.at(now);
        outcomes.push(decide_one(&mut ws, session, command, now, state, renderer).await?);
    }
    let changes = ws.changes();
    metrics::histogram!("fidelis_writer_rows_per_batch").record(changes.rows() as f64);
    let started = std::time::Instant::now();
    session.flush(&changes).await?;
    metrics::histogram!("fidelis_writer_flush_seconds").record(started.elapsed());
    Ok(outcomes)
}

async fn decide_one(
    ws: &mut WorkingSet,
    session: &mut dyn WriteSession,
    command: &Command,
    now: Timestamp,
    state: &mut WriterState,
    renderer: &dyn Renderer,
) -> StoreResult<Outcome> {
    let project = &command.scope.project;
    if let Some(request) = &command.idempotency
        && let Some(record) = ws.idempotency(session, &project.id, &request.key).await?
    {
        return Ok(if record.request_hash == request.request_hash {
            Outcome::Replayed { status: record.status, body: record.body }
        } else {
            Outcome::Rejected(Rejection::IdempotencyKeyReused)
        });
    }
    ws.begin_command();
    let mut ctx =
        Ctx { now, ids: &mut state.ids, session, ws, project, actor: &command.scope.actor, rules: &mut state.rules };
    let decided = match dispatch(&mut ctx, command).await {
        Ok(outcome) => maintain(&mut ctx).await.map(|()| refreshed(ctx.ws, outcome)),
        Err(stop) => Err(stop),
    };
    let outcome = match decided {
        Ok(outcome) => outcome,
        Err(Stop::Reject(rejection)) => {
            ws.rollback_command();
            ws.begin_command();
            Outcome::Rejected(rejection)
        }
        Err(Stop::Store(error)) => return Err(error),
    };
    if let Some(request) = &command.idempotency
        && !matches!(command.action, Action::CheckKey)
    {
        let (status, body) = renderer.render(&command.scope, &outcome, now);
        ws.put_idempotency(IdempotencyRecord {
            project_id: project.id.clone(),
            key: request.key.clone(),
            request_hash: request.request_hash.clone(),
            status,
            body,
            created_at: now,
        });
    }
    ws.commit_command();
    Ok(outcome)
}

/// A customer in an outcome as it is after segment upkeep.
fn refreshed(ws: &WorkingSet, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Customer { customer, created } => {
            let customer = ws.customer_in_batch(&customer.id).cloned().unwrap_or(customer);
            Outcome::Customer { customer, created }
        }
        other => other,
    }
}

/// Keys named by a batch, loaded with one bulk query per kind before any command runs.
#[derive(Default)]
struct Keys {
    idempotency: BTreeSet<(ProjectId, String)>,
    projects: BTreeSet<ProjectId>,
    customer_ids: BTreeSet<CustomerId>,
    customer_sources: BTreeSet<(ProjectId, String)>,
    order_ids: BTreeSet<OrderId>,
    order_sources: BTreeSet<(ProjectId, String)>,
    event_ids: BTreeSet<(ProjectId, String)>,
}

impl Keys {
    fn customer(&mut self, project: &ProjectId, reference: Option<&CustomerRef>) {
        match reference {
            Some(CustomerRef::Id(id)) => {
                self.customer_ids.insert(id.clone());
            }
            Some(CustomerRef::Source(s)) => {
                self.customer_sources.insert((project.clone(), s.clone()));
            }
            None => {}
        }
    }

    fn collect(&mut self, command: &Command) {
        let project = &command.scope.project.id;
        if let Some(request) = &command.idempotency {
            self.idempotency.insert((project.clone(), request.key.clone()));
        }
        self.projects.insert(project.clone());
        match &command.action {
            Action::UpsertCustomer(input) => self.customer(project, input.reference.as_ref()),
            Action::EraseCustomer(reference) => self.customer(project, Some(reference)),
            Action::UpsertOrder(input) => {
                if let Some(c) = &input.customer {
                    self.customer(project, c.reference.as_ref());
                }
                let order = input.reference.clone().or_else(|| input.draft.source_id.clone().map(OrderRef::Source));
                self.order(project, order.as_ref());
            }
            Action::RefundOrder { order, .. } => self.order(project, Some(order)),
            Action::RecordEvents { events, .. } => {
                for e in events {
                    self.customer(project, e.customer.reference.as_ref());
                    if let Some(client) = &e.client_event_id {
                        self.event_ids.insert((project.clone(), client.clone()));
                    }
                }
            }
            Action::Enrol { customer, .. } => self.customer(project, customer.reference.as_ref()),
            Action::AdjustPoints(adjustment) => {
                if let MemberRef::Customer(reference) = &adjustment.member {
                    self.customer(project, Some(reference));
                }
            }
            Action::ChangeSegmentMembers { add, remove, .. } => {
                add.iter().chain(remove).for_each(|r| self.customer(project, Some(r)));
            }
            Action::CreateProgram(_)
            | Action::UpdateProgram { .. }
            | Action::RunDueJobs { .. }
            | Action::CreateSegment { .. }
            | Action::UpdateSegment { .. }
            | Action::RecomputeSegment { .. }
            | Action::CheckKey
            | Action::Settle(_) => {}
        }
    }

    fn order(&mut self, project: &ProjectId, reference: Option<&OrderRef>) {
        match reference {
            Some(OrderRef::Id(id)) => {
                self.order_ids.insert(id.clone());
            }
            Some(OrderRef::Source(s)) => {
                self.order_sources.insert((project.clone(), s.clone()));
            }
            None => {}
        }
    }
}

fn vec_of<T: Clone>(set: &BTreeSet<T>) -> Vec<T> {
    set.iter().cloned().collect()
}

/// Bulk-loads what the batch names; keys that were looked up and not found are remembered as absent.
async fn prefetch(ws: &mut WorkingSet, s: &mut dyn WriteSession, commands: &[&Command]) -> StoreResult<()> {
    let mut keys = Keys::default();
    commands.iter().for_each(|c| keys.collect(c));
    if !keys.idempotency.is_empty() {
        let rows = s.idempotency(&vec_of(&keys.idempotency)).await?;
        ws.absorb_idempotency(rows);
        for k in &keys.idempotency {
            ws.t.idempotency.entry(k.clone()).or_insert(None);
        }
    }
    let projects = vec_of(&keys.projects);
    let programs = s.programs(&projects).await?;
    ws.absorb_programs(&projects, programs);
    let segments = s.segments(&projects).await?;
    ws.absorb_segments(&projects, segments);
    if !keys.customer_sources.is_empty() {
        let rows = s.customers_by_source(&vec_of(&keys.customer_sources)).await?;
        ws.absorb_customers(rows);
        for k in &keys.customer_sources {
            ws.t.customer_by_source.entry(k.clone()).or_insert(None);
        }
    }
    if !keys.order_sources.is_empty() || !keys.order_ids.is_empty() {
        let mut rows = s.orders_by_source(&vec_of(&keys.order_sources)).await?;
        if !keys.order_ids.is_empty() {
            rows.extend(s.orders(&vec_of(&keys.order_ids)).await?);
        }
        keys.customer_ids.extend(rows.iter().filter_map(|o| o.customer_id.clone()));
        ws.absorb_orders(rows);
        for k in &keys.order_sources {
            ws.t.order_by_source.entry(k.clone()).or_insert(None);
        }
    }
    keys.customer_ids.retain(|id| !ws.t.customers.contains_key(id));
    if !keys.customer_ids.is_empty() {
        let rows = s.customers(&vec_of(&keys.customer_ids)).await?;
        ws.absorb_customers(rows);
    }
    if !keys.event_ids.is_empty() {
        let rows = s.events_by_client_id(&vec_of(&keys.event_ids)).await?;
        ws.absorb_events(rows);
        for k in &keys.event_ids {
            ws.t.event_by_client.entry(k.clone()).or_insert(None);
        }
    }
    let known: Vec<CustomerId> = ws.t.customers.keys().cloned().collect();
    if !known.is_empty() {
        let rows = s.memberships_of_customers(&known).await?;
        ws.absorb_memberships_of(&known, rows);
    }
    Ok(())
}

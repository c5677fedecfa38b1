//! One writer batch: begin, prefetch (and lock) what the commands name, decide each command in order
//! against the working set (idempotency first, then the domain, then the effects pipeline), flush every
//! change at once, commit. Rejections never reach the database, so no savepoints are needed; a storage
//! error fails the whole batch and the writer retries. A dry run is the same code on a read snapshot,
//! without idempotency, flush or commit.

use crate::command::{Action, Answer, Command, Outcome, Scope, Stored};
use crate::domains::{At, Ctx, Limits, Stop, customers, dispatch, members};
use crate::idgen::UlidIds;
use crate::names::Names;
use crate::port::{CounterKey, CustomerRef, IdempotencyRecord, Loads, MemberRef, StoreResult, WriteSession};
use crate::segments::RuleCache;
use crate::working_set::WorkingSet;
use fidelis_core::ids::ProjectId;
use fidelis_core::rejection::Rejection;
use jiff::Timestamp;

/// Turns an outcome into the response a client receives, so that a replay returns the same bytes.
pub trait Renderer: Send + Sync {
    /// `now` is the batch's clock reading (responses may show values relative to it).
    fn render(&self, scope: &Scope, outcome: &Outcome, now: Timestamp) -> Stored;
}

/// What a writer keeps from batch to batch: its id source, its compiled segment rules, the limits.
pub struct WriterState {
    pub ids: UlidIds,
    pub rules: RuleCache,
    pub limits: Limits,
}

/// Runs `commands` in one transaction; answers are in command order.
pub async fn run_batch(
    session: &mut dyn WriteSession,
    commands: &[&Command],
    now: Timestamp,
    state: &mut WriterState,
    renderer: &dyn Renderer,
) -> StoreResult<Vec<Answer>> {
    session.begin().await?;
    let mut ws = WorkingSet::new();
    let result = decide_batch(session, &mut ws, commands, now, state, Some(renderer)).await;
    let result = match result {
        Ok(answers) => {
            ws.seal_outbox(&mut state.ids);
            flush_and_commit(session, &ws).await.map(|()| answers)
        }
        Err(error) => Err(error),
    };
    if result.is_err()
        && let Err(rollback) = session.rollback().await
    {
        tracing::warn!(%rollback, "rollback after a failed batch failed too");
    }
    result
}

async fn flush_and_commit(session: &mut dyn WriteSession, ws: &WorkingSet) -> StoreResult<()> {
    let changes = ws.changes();
    metrics::histogram!("fidelis_writer_rows_per_batch").record(changes.rows() as f64);
    let started = std::time::Instant::now();
    session.flush(&changes).await?;
    metrics::histogram!("fidelis_writer_flush_seconds").record(started.elapsed());
    let started = std::time::Instant::now();
    session.commit().await?;
    metrics::histogram!("fidelis_writer_commit_seconds").record(started.elapsed());
    Ok(())
}

/// Decides `commands` against `ws`. With a renderer, idempotency keys are checked and answers stored
/// under them; without one (a dry run) keys are ignored.
pub async fn decide_batch(
    loads: &mut dyn Loads,
    ws: &mut WorkingSet,
    commands: &[&Command],
    now: Timestamp,
    state: &mut WriterState,
    renderer: Option<&dyn Renderer>,
) -> StoreResult<Vec<Answer>> {
    let started = std::time::Instant::now();
    prefetch(ws, loads, commands, renderer.is_some(), &state.limits).await?;
    ws.prefetched();
    metrics::histogram!("fidelis_writer_prefetch_seconds").record(started.elapsed());
    let mut answers = Vec::with_capacity(commands.len());
    for command in commands {
        state.ids.at(now);
        answers.push(decide_one(ws, loads, command, now, state, renderer).await?);
    }
    if ws.late_customer_loads > 0 {
        metrics::counter!("fidelis_writer_late_locks_total").increment(ws.late_customer_loads);
    }
    Ok(answers)
}

async fn decide_one(
    ws: &mut WorkingSet,
    loads: &mut dyn Loads,
    command: &Command,
    now: Timestamp,
    state: &mut WriterState,
    renderer: Option<&dyn Renderer>,
) -> StoreResult<Answer> {
    let project = &command.scope.project;
    if renderer.is_some()
        && let Some(request) = &command.idempotency
        && let Some(record) = ws.idempotency(&project.id, &request.key)
    {
        let stored = Stored { status: record.status, body: record.body.clone() };
        return Ok(if record.request_hash == request.request_hash {
            Answer { outcome: Outcome::Replayed(stored.clone()), now, stored: Some(stored) }
        } else {
            Answer { outcome: Outcome::Rejected(Rejection::IdempotencyKeyReused), now, stored: None }
        });
    }
    ws.begin_command();
    let decided = {
        let at = At { now, time_zone: project.tz() };
        let mut ctx = Ctx {
            at,
            ids: &mut state.ids,
            loads,
            ws,
            project,
            actor: &command.scope.actor,
            rules: &mut state.rules,
            limits: &state.limits,
            events: Vec::new(),
            segments_current: false,
        };
        match dispatch(&mut ctx, &command.action).await {
            Ok(outcome) => crate::effects::run(&mut ctx).await.map(|()| outcome),
            Err(stop) => Err(stop),
        }
    };
    let outcome = match decided {
        Ok(Outcome::Customers(o)) => Outcome::Customers(customers::refresh(o, ws)),
        Ok(Outcome::Members(o)) => Outcome::Members(members::refresh(o, ws)),
        Ok(outcome) => outcome,
        Err(Stop::Reject(rejection)) => {
            ws.rollback_command();
            ws.begin_command();
            Outcome::Rejected(rejection)
        }
        Err(Stop::Store(error)) => return Err(error),
    };
    let stored = match (renderer, &command.idempotency) {
        (Some(renderer), Some(request)) if !matches!(command.action, Action::CheckKey) => {
            let stored = renderer.render(&command.scope, &outcome, now);
            ws.put_idempotency(IdempotencyRecord {
                project_id: project.id.clone(),
                key: request.key.clone(),
                request_hash: request.request_hash.clone(),
                status: stored.status,
                body: stored.body.clone(),
                created_at: now,
            });
            Some(stored)
        }
        _ => None,
    };
    Ok(Answer { outcome, now, stored })
}

/// Bulk-loads what the batch names, taking PostgreSQL's locks in the global order of `crate::port`:
/// owners are resolved first (no locks), then customers, orders, counters, programs and segments are each
/// loaded (and locked) with one call.
async fn prefetch(
    ws: &mut WorkingSet,
    s: &mut dyn Loads,
    commands: &[&Command],
    with_keys: bool,
    limits: &Limits,
) -> StoreResult<()> {
    let named: Vec<(ProjectId, Names)> =
        commands.iter().map(|c| (c.scope.project.id.clone(), c.action.names())).collect();
    if with_keys {
        let keys: Vec<_> = commands
            .iter()
            .filter_map(|c| c.idempotency.as_ref().map(|k| (c.scope.project.id.clone(), k.key.clone())))
            .collect();
        ws.load_idempotency(s, &keys).await?;
    }
    let mut projects: Vec<ProjectId> = named.iter().map(|(p, _)| p.clone()).collect();
    projects.sort();
    projects.dedup();
    let orders_unowned: Vec<_> =
        named.iter().flat_map(|(p, n)| n.orders_without_customer.iter().map(|o| (p.clone(), o.clone()))).collect();
    let members: Vec<(ProjectId, MemberRef)> =
        named.iter().flat_map(|(p, n)| n.members.iter().map(|m| (p.clone(), m.clone()))).collect();
    let by_key: Vec<_> = members.iter().filter(|(_, m)| !matches!(m, MemberRef::Customer(_))).cloned().collect();
    let owners = if orders_unowned.is_empty() && by_key.is_empty() {
        Vec::new()
    } else {
        s.owners(&orders_unowned, &by_key).await?
    };
    let mut customers: Vec<(ProjectId, CustomerRef)> =
        named.iter().flat_map(|(p, n)| n.customers.iter().map(|c| (p.clone(), c.clone()))).collect();
    for (p, m) in &members {
        if let MemberRef::Customer(c) = m {
            customers.push((p.clone(), c.clone()));
        }
    }
    // Owners come back as ids; their project is checked when a command reads them.
    let first = projects.first().cloned();
    customers.extend(owners.into_iter().filter_map(|id| first.clone().map(|p| (p, CustomerRef::Id(id)))));
    ws.load_customers(s, &customers).await?;
    let orders: Vec<_> = named.iter().flat_map(|(p, n)| n.orders.iter().map(|o| (p.clone(), o.clone()))).collect();
    ws.load_orders(s, &orders).await?;
    let counters: Vec<(CounterKey, Option<i64>)> = named
        .iter()
        .flat_map(|(p, n)| {
            n.counters.iter().map(|c| (CounterKey { project_id: p.clone(), name: c.clone() }, limits.of(c).1))
        })
        .collect();
    ws.load_counters(s, &counters).await?;
    let wanted = |f: fn(&Names) -> bool| -> Vec<ProjectId> {
        let mut list: Vec<ProjectId> = named.iter().filter(|(_, n)| f(n)).map(|(p, _)| p.clone()).collect();
        list.sort();
        list.dedup();
        list
    };
    let mut program_locks: Vec<_> = named.iter().flat_map(|(_, n)| n.programs_changed.iter().cloned()).collect();
    program_locks.sort();
    ws.load_programs(s, &wanted(|n| n.programs), &program_locks).await?;
    let mut segment_locks: Vec<_> = named.iter().flat_map(|(_, n)| n.segments_changed.iter().cloned()).collect();
    segment_locks.sort();
    ws.load_segments(s, &projects, &segment_locks).await?;
    let events: Vec<_> = named.iter().flat_map(|(p, n)| n.event_ids.iter().map(|e| (p.clone(), e.clone()))).collect();
    ws.load_events(s, &events).await?;
    let known: Vec<_> = ws.customers.values().map(|c| c.id.clone()).collect();
    ws.load_memberships(s, &known, &by_key).await
}

//! Segment upkeep in the writer: compiled rules cached per writer, incremental re-evaluation of the
//! dynamic segments a command's changes can affect, recompute chunks, and the writes a membership change
//! makes (customer segment list, member row, outbox event) — all in the command's transaction.

use crate::handlers::{Ctx, Stop};
use crate::port::{OutboxEvent, Projection};
use fidelis_core::customer::Customer;
use fidelis_core::ids::{CustomerId, OutboxId, ProjectId, SegmentId};
use fidelis_core::ledger::Membership;
use fidelis_core::money::Currency;
use fidelis_core::rules::{Json, LoyaltyFacts, Rule, RuleSchema};
use fidelis_core::segment::{
    Changes, CompiledSegment, Environment, Segment, SegmentKind, Transition, dependency_order, reevaluate,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Parses a stored (canonical JSON) rule.
pub fn compile(rule: &str, currency: Currency) -> Result<Rule, String> {
    let json: Json = serde_json::from_str(rule).map_err(|e| e.to_string())?;
    Rule::from_json(&json, &RuleSchema::new(currency)).map_err(|errors| format!("{errors:?}"))
}

/// The (id, version) of every dynamic segment of a project: when it changes, the rules are compiled again.
type Fingerprint = Vec<(SegmentId, i64)>;

/// Compiled dynamic segments per project, rebuilt when any segment's version changes.
#[derive(Default)]
pub struct RuleCache {
    projects: HashMap<ProjectId, (Fingerprint, Arc<Vec<CompiledSegment>>)>,
}

impl RuleCache {
    /// The project's dynamic segments in dependency order.
    pub fn dynamic(
        &mut self,
        project: &ProjectId,
        currency: Currency,
        segments: &[Segment],
    ) -> Arc<Vec<CompiledSegment>> {
        let fingerprint: Fingerprint = segments
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Dynamic { .. }))
            .map(|s| (s.id.clone(), s.version))
            .collect();
        if let Some((known, compiled)) = self.projects.get(project)
            && *known == fingerprint
        {
            return compiled.clone();
        }
        let list: Vec<CompiledSegment> = segments
            .iter()
            .filter_map(|s| match &s.kind {
                SegmentKind::Dynamic { rule } => match compile(rule, currency) {
                    Ok(rule) => Some(CompiledSegment { id: s.id.clone(), rule }),
                    Err(error) => {
                        tracing::error!(segment = %s.id, error, "stored segment rule does not compile; skipped");
                        None
                    }
                },
                SegmentKind::Static => None,
            })
            .collect();
        let ordered = Arc::new(dependency_order(list).unwrap_or_else(|cycle| {
            tracing::error!(%cycle, "stored segments form a cycle; upkeep paused for this project");
            Vec::new()
        }));
        self.projects.insert(project.clone(), (fingerprint, ordered.clone()));
        ordered
    }
}

impl Ctx<'_> {
    /// The project's dynamic segments, compiled, in dependency order (looked up once per batch).
    pub async fn compiled_segments(&mut self) -> Result<Arc<Vec<CompiledSegment>>, Stop> {
        if let Some(compiled) = self.ws.t.compiled.get(&self.project.id) {
            return Ok(compiled.clone());
        }
        let project = self.project.id.clone();
        let segments = self.ws.segments(self.session, &project).await?;
        let compiled = self.rules.dynamic(&project, self.project.currency, &segments);
        self.ws.t.compiled.insert(project, compiled.clone());
        Ok(compiled)
    }

    fn environment(&self) -> (jiff::tz::TimeZone, Currency) {
        (self.project.tz(), self.project.currency)
    }
}

fn loyalty_facts(memberships: &[Membership]) -> Vec<LoyaltyFacts<'_>> {
    memberships.iter().map(LoyaltyFacts::of).collect()
}

/// After a command: re-evaluates, for every customer it changed, the dynamic segments the change can affect.
pub async fn maintain(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let touched = ctx.ws.take_touched();
    let loyalty_changed = touched.loyalty.clone();
    if touched.customers.is_empty() && touched.loyalty.is_empty() {
        return Ok(());
    }
    let segments = ctx.compiled_segments().await?;
    if segments.is_empty() {
        return Ok(());
    }
    let needs_loyalty = segments.iter().any(|s| s.rule.reads().loyalty);
    // Customers the command wrote (with their state before it: `None` when it created them), then those
    // whose wallets alone changed.
    let mut ids: Vec<(CustomerId, Before)> = touched
        .customers
        .into_iter()
        .map(|(id, before)| (id, before.map_or(Before::Created, |c| Before::Was(Box::new(c)))))
        .collect();
    for id in touched.loyalty {
        if !ids.iter().any(|(c, _)| *c == id) {
            ids.push((id, Before::Same));
        }
    }
    let project = ctx.project.id.clone();
    for (id, before) in ids {
        // Customers outside the batch are loaded (owned); those in it are only borrowed, and copied only
        // when their segment list changes.
        let loaded = match ctx.ws.customer_in_batch(&id) {
            Some(_) => None,
            None => match ctx.ws.customer(ctx.session, &project, &crate::port::CustomerRef::Id(id.clone())).await? {
                Some(c) => Some(c),
                None => continue,
            },
        };
        let Some(after) = loaded.as_ref().or_else(|| ctx.ws.customer_in_batch(&id)) else { continue };
        let mut changes = match &before {
            Before::Created => Changes::everything(),
            Before::Was(old) => {
                let mut c = Changes::between(Some(old), after);
                c.segments.extend(symmetric_difference(&old.segments, &after.segments));
                c
            }
            Before::Same => Changes::default(),
        };
        changes.loyalty |= loyalty_changed.contains(&id);
        if changes.is_empty() {
            continue;
        }
        let memberships = if needs_loyalty { ctx.ws.memberships_of(ctx.session, &id).await? } else { Vec::new() };
        let Some(after) = loaded.as_ref().or_else(|| ctx.ws.customer_in_batch(&id)) else { continue };
        let (tz, currency) = ctx.environment();
        let env = Environment { now: ctx.now, time_zone: &tz, currency };
        let (transitions, membership) = reevaluate(&segments, after, &loyalty_facts(&memberships), &changes, &env);
        if !transitions.is_empty() {
            let mut customer = after.clone();
            customer.segments = membership;
            record(ctx, &customer.id, &transitions);
            ctx.ws.put_customer(customer);
        }
    }
    // The upkeep's own writes are not changes to react to.
    ctx.ws.take_touched();
    Ok(())
}

/// What a customer was before the command.
enum Before {
    Created,
    Was(Box<Customer>),
    /// Not written by the command (only their wallet changed).
    Same,
}

fn symmetric_difference(a: &[SegmentId], b: &[SegmentId]) -> Vec<SegmentId> {
    a.iter().filter(|s| !b.contains(s)).chain(b.iter().filter(|s| !a.contains(s))).cloned().collect()
}

/// Member rows and outbox events of transitions (the caller writes the customer's new list).
pub fn record(ctx: &mut Ctx<'_>, customer: &CustomerId, transitions: &[Transition]) {
    for t in transitions {
        ctx.ws.set_member(&t.segment, customer, t.entered.then_some(ctx.now));
        let topic = if t.entered { "segment.entered" } else { "segment.left" };
        ctx.ws.push_outbox(OutboxEvent {
            id: OutboxId::fresh(ctx.ids),
            project_id: ctx.project.id.clone(),
            topic: topic.to_owned(),
            customer_id: Some(customer.clone()),
            subject_id: t.segment.to_string(),
            created_at: ctx.now,
        });
    }
}

/// What one recompute chunk did.
#[derive(Default)]
pub struct ChunkReport {
    pub evaluated: u64,
    pub entered: u64,
    pub left: u64,
    pub next: Option<CustomerId>,
}

/// Evaluates `target` for up to `limit` customers after `after`, then the segments that read it.
pub async fn recompute_chunk(
    ctx: &mut Ctx<'_>,
    target: &CompiledSegment,
    after: Option<&CustomerId>,
    limit: usize,
) -> Result<ChunkReport, Stop> {
    let all = ctx.compiled_segments().await?;
    let dependents: Vec<CompiledSegment> =
        all.iter().filter(|s| s.id != target.id && reads_transitively(&all, s, &target.id)).cloned().collect();
    let reads_history = std::iter::once(target).chain(dependents.iter()).any(|s| {
        let r = s.rule.reads();
        r.order_history || r.events || r.redemptions
    });
    let needs_loyalty = std::iter::once(target).chain(dependents.iter()).any(|s| s.rule.reads().loyalty);
    let projection = if reads_history { Projection::Full } else { Projection::WithoutStats };
    let project = ctx.project.id.clone();
    let rows = ctx.session.customers_after(&project, after, limit, projection).await?;
    let mut report = ChunkReport {
        next: (rows.len() == limit).then(|| rows.last().map(|c| c.id.clone())).flatten(),
        ..Default::default()
    };
    if needs_loyalty {
        let ids: Vec<CustomerId> = rows.iter().map(|c| c.id.clone()).collect();
        let loaded = ctx.session.memberships_of_customers(&ids).await?;
        ctx.ws.absorb_memberships_of(&ids, loaded);
    }
    let (tz, currency) = ctx.environment();
    for row in rows {
        let whole = ctx.ws.customer_in_batch(&row.id).cloned();
        let mut customer = whole.clone().unwrap_or(row);
        if let Some(segments) = ctx.ws.segment_only(&customer.id) {
            customer.segments = segments.clone();
        }
        report.evaluated += 1;
        let memberships =
            if needs_loyalty { ctx.ws.memberships_of(ctx.session, &customer.id).await? } else { Vec::new() };
        let loyalty = loyalty_facts(&memberships);
        let env = Environment { now: ctx.now, time_zone: &tz, currency };
        let (mut transitions, mut list) =
            reevaluate(std::slice::from_ref(target), &customer, &loyalty, &Changes::everything(), &env);
        if transitions.is_empty() {
            continue;
        }
        customer.segments = list.clone();
        let cascade = Changes { segments: [target.id.clone()].into_iter().collect(), ..Changes::default() };
        let (more, cascaded) = reevaluate(&dependents, &customer, &loyalty, &cascade, &env);
        transitions.extend(more);
        list = cascaded;
        report.entered += transitions.iter().filter(|t| t.entered).count() as u64;
        report.left += transitions.iter().filter(|t| !t.entered).count() as u64;
        record(ctx, &customer.id, &transitions);
        customer.segments = list;
        match whole {
            Some(_) => ctx.ws.put_customer(customer),
            None => ctx.ws.set_segment_only(&customer.id, customer.segments),
        }
    }
    ctx.ws.take_touched();
    Ok(report)
}

fn reads_transitively(all: &[CompiledSegment], segment: &CompiledSegment, target: &SegmentId) -> bool {
    let mut frontier: Vec<&SegmentId> = segment.rule.segments_referenced().iter().collect();
    let mut seen: Vec<&SegmentId> = Vec::new();
    while let Some(id) = frontier.pop() {
        if id == target {
            return true;
        }
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        if let Some(s) = all.iter().find(|s| &s.id == id) {
            frontier.extend(s.rule.segments_referenced());
        }
    }
    false
}

//! Segment upkeep, the first subscriber of the effects pipeline: compiled rules cached per writer, the
//! re-evaluation of the dynamic segments a command's changes can affect, and recompute chunks. A
//! membership change writes the customer's segment list, a member row and a `segment.entered` /
//! `segment.left` event — all in the command's transaction.

use crate::decision::{Decision, Write};
use crate::domains::{Ctx, Stop};
use crate::port::{CustomerRef, Projection};
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::{DomainEvent, SegmentPayload};
use fidelis_core::ids::{CustomerId, ProjectId, SegmentId};
use fidelis_core::ledger::Membership;
use fidelis_core::money::{Currency, Points};
use fidelis_core::rules::{Json, LoyaltyFacts, Rule, RuleSchema};
use fidelis_core::segment::{
    Changes, CompiledSegment, Environment, Segment, SegmentKind, Transition, dependency_order, reevaluate,
};
use jiff::civil::Date;
use std::collections::{BTreeSet, HashMap};
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
    /// Earning rules, per program and rule-set version.
    pub earning: crate::domains::earning::EarningCache,
}

impl RuleCache {
    /// The project's dynamic segments in dependency order.
    pub fn dynamic(
        &mut self,
        project: &ProjectId,
        currency: Currency,
        segments: &[&Segment],
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
        if let Some(compiled) = self.ws.compiled.get(&self.project.id) {
            return Ok(compiled.clone());
        }
        let project = self.project.id.clone();
        self.ws.load_segments(self.loads, std::slice::from_ref(&project), &[]).await?;
        let compiled = self.rules.dynamic(&project, self.project.currency, &self.ws.segments_of(&project));
        self.ws.compiled.insert(project, compiled.clone());
        Ok(compiled)
    }

    /// What each of these memberships can spend now, for rules reading balances: on its program's today
    /// (its own time zone, else the project's), as the member's balance and a debit see it.
    async fn spendable(&mut self, memberships: &[Membership]) -> Result<Vec<Points>, Stop> {
        let project = self.project.id.clone();
        self.ws.load_programs(self.loads, std::slice::from_ref(&project), &[]).await?;
        let todays: Vec<Date> = memberships.iter().map(|m| self.program_today_of(&m.program_id)).collect();
        let lapsing: Vec<_> = memberships
            .iter()
            .zip(&todays)
            .filter(|(m, today)| m.may_have_lapsed_lots(**today))
            .map(|(m, _)| m.id.clone())
            .collect();
        self.ws.load_lots(self.loads, &lapsing).await?;
        let lots = |m: &Membership| self.ws.open_lots(&m.id).into_iter().cloned().collect::<Vec<_>>();
        Ok(memberships.iter().zip(todays).map(|(m, today)| m.spendable(&lots(m), today)).collect())
    }
}

/// What a customer was before the command.
enum Before {
    Created,
    Was(Box<Customer>),
    /// Not written by the command (only their wallet or static segments changed).
    Same,
}

/// Customers the command's events touched, with what changed in the categories the upkeep does not see
/// by comparing rows: wallets, and static segment memberships.
fn touched_by_events(events: &[DomainEvent]) -> (BTreeSet<CustomerId>, HashMap<CustomerId, BTreeSet<SegmentId>>) {
    let mut loyalty = BTreeSet::new();
    let mut segments: HashMap<CustomerId, BTreeSet<SegmentId>> = HashMap::new();
    for event in events {
        match event {
            DomainEvent::PointsCredited(p) | DomainEvent::PointsDebited(p) | DomainEvent::PointsExpired(p) => {
                loyalty.insert(p.customer_id.clone());
            }
            DomainEvent::MemberEnrolled(p) => {
                loyalty.insert(p.customer_id.clone());
            }
            DomainEvent::SegmentEntered(p) | DomainEvent::SegmentLeft(p) => {
                segments.entry(p.customer_id.clone()).or_default().insert(p.segment_id.clone());
            }
            _ => {}
        }
    }
    (loyalty, segments)
}

/// After a command: re-evaluates, for every customer it changed, the dynamic segments the change can affect.
pub async fn maintain(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let written = ctx.ws.customers.changed_in_command();
    let (loyalty, static_changes) = touched_by_events(&ctx.events);
    if written.is_empty() && loyalty.is_empty() && static_changes.is_empty() {
        return Ok(());
    }
    let segments = ctx.compiled_segments().await?;
    if segments.is_empty() {
        return Ok(());
    }
    let needs_loyalty = segments.iter().any(|s| s.rule.reads().loyalty);
    let mut ids: Vec<(CustomerId, Before)> = written
        .into_iter()
        .map(|(id, before)| (id, before.map_or(Before::Created, |c| Before::Was(Box::new(c)))))
        .collect();
    for id in loyalty.iter().chain(static_changes.keys()) {
        if !ids.iter().any(|(c, _)| c == id) {
            ids.push((id.clone(), Before::Same));
        }
    }
    let project = ctx.project.id.clone();
    let mut decision = Decision::new(());
    for (id, before) in ids {
        ctx.ws.load_customer(ctx.loads, &project, &CustomerRef::Id(id.clone())).await?;
        let Some(after) = ctx.ws.customers.get(&id).filter(|c| c.project_id == project) else { continue };
        let mut changes = match &before {
            Before::Created => Changes::everything(),
            Before::Was(old) => {
                let mut c = Changes::between(Some(old), after);
                c.segments.extend(symmetric_difference(&old.segments, &after.segments));
                c
            }
            Before::Same => Changes::default(),
        };
        changes.loyalty |= loyalty.contains(&id);
        changes.segments.extend(static_changes.get(&id).into_iter().flatten().cloned());
        if changes.is_empty() {
            continue;
        }
        let (memberships, balances) = if needs_loyalty {
            ctx.ws.load_memberships(ctx.loads, std::slice::from_ref(&id), &[]).await?;
            let list: Vec<Membership> = ctx.ws.memberships_of(&id).into_iter().cloned().collect();
            let balances = ctx.spendable(&list).await?;
            (list, balances)
        } else {
            (Vec::new(), Vec::new())
        };
        let Some(after) = ctx.ws.customers.get(&id) else { continue };
        let facts: Vec<LoyaltyFacts<'_>> =
            memberships.iter().zip(&balances).map(|(m, b)| LoyaltyFacts::of(m, *b)).collect();
        let tz = ctx.project.tz();
        let env = Environment { now: ctx.at.now, time_zone: &tz, currency: ctx.project.currency };
        let (transitions, membership) = reevaluate(&segments, after, &facts, &changes, &env);
        if !transitions.is_empty() {
            let mut customer = after.clone();
            customer.segments = membership;
            record(&mut decision, &customer.id, &transitions, ctx.at.now);
            decision.writes.push(Write::Customer(customer));
        }
    }
    ctx.apply(decision);
    Ok(())
}

fn symmetric_difference(a: &[SegmentId], b: &[SegmentId]) -> Vec<SegmentId> {
    a.iter().filter(|s| !b.contains(s)).chain(b.iter().filter(|s| !a.contains(s))).cloned().collect()
}

/// Member rows and events of transitions (the caller writes the customer's new list).
pub fn record<O>(decision: &mut Decision<O>, customer: &CustomerId, transitions: &[Transition], now: jiff::Timestamp) {
    for t in transitions {
        decision.writes.push(Write::SegmentMember {
            segment: t.segment.clone(),
            customer: customer.clone(),
            entered: t.entered.then_some(now),
        });
        let payload = SegmentPayload { segment_id: t.segment.clone(), customer_id: customer.clone() };
        decision.events.push(if t.entered {
            DomainEvent::SegmentEntered(payload)
        } else {
            DomainEvent::SegmentLeft(payload)
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
    let rules = || std::iter::once(target).chain(dependents.iter()).map(|s| s.rule.reads());
    let reads_history = rules().any(|r| r.order_history || r.events || r.redemptions);
    let needs_loyalty = rules().any(|r| r.loyalty);
    let projection = if reads_history { Projection::Full } else { Projection::WithoutStats };
    let project = ctx.project.id.clone();
    let rows = ctx.loads.customers_after(&project, after, limit, projection).await?;
    let mut report = ChunkReport {
        next: (rows.len() == limit).then(|| rows.last().map(|c| c.id.clone())).flatten(),
        ..Default::default()
    };
    if needs_loyalty {
        let ids: Vec<CustomerId> = rows.iter().map(|c| c.id.clone()).collect();
        ctx.ws.load_memberships(ctx.loads, &ids, &[]).await?;
    }
    let tz = ctx.project.tz();
    let mut decision = Decision::new(());
    for row in rows {
        let whole = ctx.ws.customers.get(&row.id).cloned();
        let mut customer = whole.clone().unwrap_or(row);
        if let Some(segments) = ctx.ws.segment_only.get(&customer.id) {
            customer.segments = segments.clone();
        }
        report.evaluated += 1;
        let memberships: Vec<Membership> =
            if needs_loyalty { ctx.ws.memberships_of(&customer.id).into_iter().cloned().collect() } else { Vec::new() };
        let balances = if needs_loyalty { ctx.spendable(&memberships).await? } else { Vec::new() };
        let loyalty: Vec<LoyaltyFacts<'_>> =
            memberships.iter().zip(&balances).map(|(m, b)| LoyaltyFacts::of(m, *b)).collect();
        let env = Environment { now: ctx.at.now, time_zone: &tz, currency: ctx.project.currency };
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
        record(&mut decision, &customer.id, &transitions, ctx.at.now);
        customer.segments = list;
        match whole {
            Some(_) => decision.writes.push(Write::Customer(customer)),
            None => ctx.ws.set_segment_only(&customer.id, customer.segments),
        }
    }
    ctx.apply(decision);
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

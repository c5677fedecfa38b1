//! Custom events, one or a batch: deduplicated by client event id, counted in customer aggregates.

use super::customers::{CustomerInput, decide_named};
use super::earning::{self, Rules, earns_on};
use super::orders::EarningReport;
use super::{At, Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::CounterName;
use crate::port::CustomerRef;
use crate::working_set::WorkingSet;
use fidelis_core::calendar::local_date;
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::DomainEvent;
use fidelis_core::earning::{Trigger, TriggerFacts};
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, EventId, MembershipId, NewIds, ProgramId, ProjectId};
use fidelis_core::ledger::{Cause, Entry, Membership};
use fidelis_core::metadata::Metadata;
use fidelis_core::money::{Currency, Points};

use fidelis_core::rejection::{FieldError, FieldErrorKey, Rejection};
use fidelis_core::rules::{Context, CustomerFacts, EventFacts, LoyaltyFacts};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// How far in the future an event's `occurred_at` may lie (clock skew between the client and us).
pub const EVENT_FUTURE_SKEW_SECONDS_MAX: i64 = 300;

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

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `explain`: report every earning rule's part (`?explain=true`, and every dry run).
    Record { events: Vec<EventInput>, submission: Submission, explain: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventOutcome {
    pub event: CustomEvent,
    pub duplicate: bool,
    /// Ledger entries the event's earning rules made.
    pub entries: Vec<Entry>,
    pub earning: Vec<EarningReport>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub events: Vec<EventOutcome>,
    pub submission: Submission,
}

pub fn names(command: &Command, names: &mut Names) {
    let Command::Record { events, .. } = command;
    names.programs = true;
    for e in events {
        names.customers.extend(e.customer.reference.clone());
        names.event_ids.extend(e.client_event_id.clone());
    }
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    let Command::Record { events, submission, explain } = command;
    let project = ctx.project_id().clone();
    let refs: Vec<_> =
        events.iter().filter_map(|e| e.customer.reference.clone()).map(|r| (project.clone(), r)).collect();
    ctx.ws.load_customers(ctx.loads, &refs).await?;
    let clients: Vec<_> =
        events.iter().filter_map(|e| e.client_event_id.clone()).map(|c| (project.clone(), c)).collect();
    ctx.ws.load_events(ctx.loads, &clients).await?;
    let mut earning = load_earning(ctx, &refs).await?;
    earning.explain = *explain;
    let decision = decide(ctx.ws, &project, events, *submission, &ctx.at, &mut earning, ctx.ids)?;
    Ok(ctx.apply(decision))
}

/// What events earn with: the programs with active event rules, their rules and budgets, and the
/// memberships (with lapsed lots, which balances in conditions leave out) of the named customers.
pub struct EventEarning {
    pub rules: Vec<Rules>,
    pub currency: Currency,
    pub explain: bool,
    /// Memberships as the request's earlier events left them.
    pub wallets: HashMap<MembershipId, Membership>,
}

async fn load_earning(ctx: &mut Ctx<'_>, refs: &[(ProjectId, CustomerRef)]) -> Result<EventEarning, Stop> {
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let kind = Trigger::Event { name: String::new() }.kind();
    let programs: Vec<ProgramId> =
        ctx.ws.programs_of(&project).into_iter().filter(|p| earns_on(p, kind)).map(|p| p.id.clone()).collect();
    let mut rules = Vec::with_capacity(programs.len());
    if !programs.is_empty() {
        let customers: Vec<CustomerId> = refs.iter().filter_map(|(p, r)| ctx.ws.customer_id(p, r)).collect();
        ctx.ws.load_memberships(ctx.loads, &customers, &[]).await?;
        let lapsing: Vec<_> = customers
            .iter()
            .flat_map(|c| ctx.ws.memberships_of(c))
            .filter(|m| m.may_have_lapsed_lots(ctx.program_today_of(&m.program_id)))
            .map(|m| m.id.clone())
            .collect();
        ctx.ws.load_lots(ctx.loads, &lapsing).await?;
    }
    for program in &programs {
        rules.push(ctx.earning_rules(program, kind).await?);
    }
    Ok(EventEarning { rules, currency: ctx.project.currency, explain: false, wallets: HashMap::new() })
}

/// Earns on one recorded event in every program with event rules the customer is a member of.
fn earn_on_event(
    ws: &WorkingSet,
    earning: &mut EventEarning,
    customer: &Customer,
    event: &CustomEvent,
    at: &At,
    ids: &mut impl NewIds,
    decision: &mut Decision<()>,
) -> Result<(Vec<Entry>, Vec<EarningReport>), Rejection> {
    let (mut entries, mut reports) = (Vec::new(), Vec::new());
    let members: Vec<Membership> = ws
        .memberships_of(&customer.id)
        .into_iter()
        .map(|m| earning.wallets.get(&m.id).cloned().unwrap_or_else(|| m.clone()))
        .collect();
    let balances: Vec<Points> = members
        .iter()
        .map(|m| {
            let lots: Vec<_> = ws.open_lots(&m.id).into_iter().cloned().collect();
            let today = ws.program(&customer.project_id, &m.program_id).map(|p| at.program_today(p));
            m.spendable(&lots, today.unwrap_or_else(|| at.today()))
        })
        .collect();
    let loyalty: Vec<LoyaltyFacts<'_>> = members.iter().zip(&balances).map(|(m, b)| LoyaltyFacts::of(m, *b)).collect();
    let context = Context {
        now: at.now,
        time_zone: &at.time_zone,
        currency: earning.currency,
        customer: Some(CustomerFacts { customer, segments: &customer.segments, loyalty: &loyalty }),
        order: None,
        event: Some(EventFacts { name: &event.name, metadata: &event.metadata }),
    };
    let facts = TriggerFacts::Event { name: &event.name, metadata: &event.metadata };
    let cause = Cause::Event { event_id: event.id.clone() };
    for rules in earning.rules.iter_mut() {
        let Some(program) = ws.program(&customer.project_id, &rules.program_id) else { continue };
        let Some(membership) = members.iter().find(|m| m.program_id == program.id) else { continue };
        let membership = earning.wallets.get(&membership.id).unwrap_or(membership).clone();
        let earned = earning::earn(program, rules, facts, &context, &membership, &cause, at, earning.explain, ids)?;
        let recorded = earned.record(decision, |posting| entries.push(posting.entry.clone()));
        earning.wallets.insert(recorded.membership.id.clone(), recorded.membership);
        for (key, counter) in recorded.budgets {
            if let CounterName::RuleBudget(rule) = key.name {
                rules.budgets.insert(rule, counter);
            }
        }
        if earning.explain {
            reports.push(EarningReport { program_id: program.id.clone(), rules: recorded.reports });
        }
    }
    Ok((entries, reports))
}

/// The events in order: a duplicate answers with the stored event; the others are recorded and counted.
/// Later events of the request see the customers and events of earlier ones.
pub fn decide(
    ws: &WorkingSet,
    project: &ProjectId,
    inputs: &[EventInput],
    submission: Submission,
    at: &At,
    earning: &mut EventEarning,
    ids: &mut impl NewIds,
) -> Result<Decision<Outcome>, Rejection> {
    let latest = at.now.checked_add(SignedDuration::from_secs(EVENT_FUTURE_SKEW_SECONDS_MAX)).unwrap_or(at.now);
    let mut customers: HashMap<CustomerId, Customer> = HashMap::new();
    let mut created: HashMap<CustomerRef, CustomerId> = HashMap::new();
    let mut recorded: HashMap<String, CustomEvent> = HashMap::new();
    let mut decision = Decision::new(());
    let mut outcomes = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        if input.occurred_at.is_some_and(|t| t > latest) {
            let path = match submission {
                Submission::Batch => format!("/events/{index}/occurred_at"),
                Submission::Single => "/occurred_at".to_owned(),
            };
            let error = FieldError::new(path, FieldErrorKey::OutOfRange, "must not lie in the future");
            return Err(Rejection::Invalid(vec![error]));
        }
        if let Some(client) = &input.client_event_id {
            let earlier = recorded.get(client).or_else(|| ws.event_by_client_id(project, client));
            if let Some(existing) = earlier {
                let (entries, earning) = (Vec::new(), Vec::new());
                outcomes.push(EventOutcome { event: existing.clone(), duplicate: true, entries, earning });
                continue;
            }
        }
        let existing = input.customer.reference.as_ref().and_then(|r| {
            let id = created.get(r).cloned().or_else(|| ws.customer_id(project, r))?;
            customers.get(&id).or_else(|| ws.customers.get(&id).filter(|c| &c.project_id == project))
        });
        let change = decide_named(project, existing, &input.customer, at.now, ids)?;
        let mut customer = change.customer.clone();
        if change.changed {
            let mut own = Decision::new(());
            change.record(&mut own);
            decision.events.extend(own.events);
        }
        let occurred_at = input.occurred_at.unwrap_or(at.now);
        let event = CustomEvent {
            id: EventId::fresh(ids),
            project_id: project.clone(),
            customer_id: customer.id.clone(),
            name: input.name.clone(),
            client_event_id: input.client_event_id.clone(),
            metadata: input.metadata.clone(),
            occurred_at,
            created_at: at.now,
        };
        customer.stats.record_event(&event.name, local_date(occurred_at, &at.time_zone), at.today());
        customer.updated_at = at.now;
        if let Some(reference) = &input.customer.reference {
            created.insert(reference.clone(), customer.id.clone());
        }
        decision.events.push(DomainEvent::of_event(&event));
        if let Some(client) = &event.client_event_id {
            recorded.insert(client.clone(), event.clone());
        }
        decision.writes.push(Write::Event(event.clone()));
        let (entries, reports) = if earning.rules.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            earn_on_event(ws, earning, &customer, &event, at, ids, &mut decision)?
        };
        customers.insert(customer.id.clone(), customer);
        outcomes.push(EventOutcome { event, duplicate: false, entries, earning: reports });
    }
    let mut ordered: Vec<Customer> = customers.into_values().collect();
    ordered.sort_by(|a, b| a.id.cmp(&b.id));
    decision.writes.extend(ordered.into_iter().map(Write::Customer));
    Ok(Decision { writes: decision.writes, events: decision.events, outcome: Outcome { events: outcomes, submission } })
}

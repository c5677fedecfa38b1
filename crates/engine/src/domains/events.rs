//! Custom events, one or a batch: deduplicated by client event id, counted in customer aggregates.

use super::customers::{CustomerInput, decide_named};
use super::{At, Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::CustomerRef;
use crate::working_set::WorkingSet;
use fidelis_core::calendar::local_date;
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::DomainEvent;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, EventId, NewIds, ProjectId};
use fidelis_core::metadata::Metadata;
use fidelis_core::rejection::{FieldError, FieldErrorKey, Rejection};
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
    Record { events: Vec<EventInput>, submission: Submission },
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventOutcome {
    pub event: CustomEvent,
    pub duplicate: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub events: Vec<EventOutcome>,
    pub submission: Submission,
}

pub fn names(command: &Command, names: &mut Names) {
    let Command::Record { events, .. } = command;
    for e in events {
        names.customers.extend(e.customer.reference.clone());
        names.event_ids.extend(e.client_event_id.clone());
    }
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    let Command::Record { events, submission } = command;
    let project = ctx.project_id().clone();
    let refs: Vec<_> =
        events.iter().filter_map(|e| e.customer.reference.clone()).map(|r| (project.clone(), r)).collect();
    ctx.ws.load_customers(ctx.loads, &refs).await?;
    let clients: Vec<_> =
        events.iter().filter_map(|e| e.client_event_id.clone()).map(|c| (project.clone(), c)).collect();
    ctx.ws.load_events(ctx.loads, &clients).await?;
    let decision = decide(ctx.ws, &project, events, *submission, &ctx.at, ctx.ids)?;
    Ok(ctx.apply(decision))
}

/// The events in order: a duplicate answers with the stored event; the others are recorded and counted.
/// Later events of the request see the customers and events of earlier ones.
pub fn decide(
    ws: &WorkingSet,
    project: &ProjectId,
    inputs: &[EventInput],
    submission: Submission,
    at: &At,
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
                outcomes.push(EventOutcome { event: existing.clone(), duplicate: true });
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
        customers.insert(customer.id.clone(), customer);
        outcomes.push(EventOutcome { event, duplicate: false });
    }
    let mut ordered: Vec<Customer> = customers.into_values().collect();
    ordered.sort_by(|a, b| a.id.cmp(&b.id));
    decision.writes.extend(ordered.into_iter().map(Write::Customer));
    Ok(Decision { writes: decision.writes, events: decision.events, outcome: Outcome { events: outcomes, submission } })
}

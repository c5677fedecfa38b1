//! Customers: upsert (also of the customer another command names) and erasure.

use super::{Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::{CustomerRef, OrderRef};
use crate::working_set::WorkingSet;
use fidelis_core::customer::{Customer, CustomerPatch, decide_upsert, erase};
use fidelis_core::domain_event::{DomainEvent, Topic};
use fidelis_core::ids::{NewIds, ProjectId};
use fidelis_core::metadata::Metadata;
use fidelis_core::order::Order;
use fidelis_core::rejection::{Rejection, Resource};
use jiff::Timestamp;

/// What to do when the customer named by an upsert does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenMissing {
    Create,
    Reject,
}

/// A customer named in a command, with profile changes to upsert on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerInput {
    pub reference: Option<CustomerRef>,
    pub patch: CustomerPatch,
    pub when_missing: WhenMissing,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Upsert(Box<CustomerInput>),
    /// Erases personal data; ledger entries, orders' amounts and aggregates stay, pointing at the bare id.
    Erase(CustomerRef),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub customer: Box<Customer>,
    pub created: bool,
}

pub fn names(command: &Command, names: &mut Names) {
    match command {
        Command::Upsert(input) => names.customers.extend(input.reference.clone()),
        Command::Erase(reference) => names.customers.push(reference.clone()),
    }
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    match command {
        Command::Upsert(input) => {
            if let Some(reference) = &input.reference {
                ctx.ws.load_customer(ctx.loads, &project, reference).await?;
            }
            let existing = input.reference.as_ref().and_then(|r| ctx.ws.customer(&project, r));
            let change = decide_named(&project, existing, input, ctx.at.now, ctx.ids)?;
            let mut decision =
                Decision::new(Outcome { customer: Box::new(change.customer.clone()), created: change.created });
            change.record(&mut decision);
            Ok(ctx.apply(decision))
        }
        Command::Erase(reference) => {
            ctx.ws.load_customer(ctx.loads, &project, reference).await?;
            let Some(customer) = ctx.ws.customer(&project, reference).map(|c| c.id.clone()) else {
                return Err(not_found(Some(reference)).into());
            };
            let ids = ctx.loads.order_ids_of_customer(&customer).await?;
            let named: Vec<(ProjectId, OrderRef)> =
                ids.into_iter().map(|id| (project.clone(), OrderRef::Id(id))).collect();
            ctx.ws.load_orders(ctx.loads, &named).await?;
            let decision = decide_erase(ctx.ws, &project, reference, &named, ctx.at.now)?;
            Ok(ctx.apply(decision))
        }
    }
}

/// Erasure: profile, metadata and `source_id` go, and the metadata of the customer's orders and items
/// (where merchants put gift messages and notes); the ledger keeps its references.
fn decide_erase(
    ws: &WorkingSet,
    project: &ProjectId,
    reference: &CustomerRef,
    orders: &[(ProjectId, OrderRef)],
    now: Timestamp,
) -> Result<Decision<Outcome>, Rejection> {
    let customer = ws.customer(project, reference).ok_or_else(|| not_found(Some(reference)))?;
    let erased = erase(customer, now)?;
    let mut decision = Decision::new(Outcome { customer: Box::new(erased.clone()), created: false });
    for order in orders.iter().filter_map(|(p, r)| ws.order(p, r)) {
        decision.writes.push(Write::Order(without_metadata(order)));
    }
    decision.events.push(DomainEvent::customer(Topic::CustomerErased, &erased.id, None));
    decision.writes.push(Write::ErasedCustomer { customer: erased, old_source: customer.source_id.clone() });
    Ok(decision)
}

fn without_metadata(order: &Order) -> Order {
    let mut order = order.clone();
    order.metadata = Metadata::default();
    order.lines.items.iter_mut().for_each(|item| item.metadata = Metadata::default());
    order
}

pub fn not_found(reference: Option<&CustomerRef>) -> Rejection {
    Rejection::NotFound {
        resource: Resource::Customer,
        reference: reference.map(CustomerRef::text).unwrap_or_default(),
    }
}

/// What an upsert of a named customer did.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerChange {
    pub customer: Customer,
    pub created: bool,
    pub changed: bool,
}

impl CustomerChange {
    /// The row write (when something changed) and the event of the change.
    pub fn record<O>(&self, decision: &mut Decision<O>) {
        if let Some(event) = self.event_of(&self.customer) {
            decision.events.push(event);
            decision.writes.push(Write::Customer(self.customer.clone()));
        }
    }

    /// The change's event (created or changed) about `customer` (the final row, which later steps of
    /// the same command may have moved on), when the command changed the customer's own fields.
    pub fn event_of(&self, customer: &Customer) -> Option<DomainEvent> {
        let topic = if self.created { Topic::CustomerCreated } else { Topic::CustomerChanged };
        self.changed.then(|| DomainEvent::customer(topic, &customer.id, customer.source_id.as_deref()))
    }
}

/// Upserts the customer a command names: `existing` is what the reference found.
pub fn decide_named(
    project: &ProjectId,
    existing: Option<&Customer>,
    input: &CustomerInput,
    now: Timestamp,
    ids: &mut impl NewIds,
) -> Result<CustomerChange, Rejection> {
    let missing = existing.is_none();
    if missing && (input.when_missing == WhenMissing::Reject || matches!(input.reference, Some(CustomerRef::Id(_)))) {
        return Err(not_found(input.reference.as_ref()));
    }
    let mut patch = input.patch.clone();
    if let Some(CustomerRef::Source(source)) = &input.reference {
        patch.source_id = Some(source.clone());
    }
    let upsert = decide_upsert(project, existing, &patch, now, ids)?;
    Ok(CustomerChange { customer: upsert.customer, created: upsert.created, changed: upsert.changed })
}

/// A customer outcome shows the customer as segment upkeep left it.
pub fn refresh(outcome: Outcome, ws: &WorkingSet) -> Outcome {
    match ws.customers.get(&outcome.customer.id) {
        Some(current) => Outcome { customer: Box::new(current.clone()), ..outcome },
        None => outcome,
    }
}

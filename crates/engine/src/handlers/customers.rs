//! Customer upsert and erasure.

use super::{Ctx, Stop, not_found_customer};
use crate::command::{CustomerInput, Outcome};
use crate::port::{CustomerRef, OrderRef};
use fidelis_core::customer::erase as erase_customer;
use fidelis_core::metadata::Metadata;

pub async fn upsert(ctx: &mut Ctx<'_>, input: &CustomerInput) -> Result<Outcome, Stop> {
    let (customer, created) = ctx.customer(input).await?;
    Ok(Outcome::Customer { customer, created })
}

/// Erases personal data; ledger entries, orders' amounts and aggregates stay, pointing at the bare id.
pub async fn erase(ctx: &mut Ctx<'_>, reference: &CustomerRef) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let Some(customer) = ctx.ws.customer(ctx.session, &project, reference).await? else {
        return Err(Stop::Reject(not_found_customer(Some(reference))));
    };
    let erased = erase_customer(&customer, ctx.now)?;
    // Merchants put personal details in order and item metadata (gift messages, notes): they go too.
    let ids = ctx.session.order_ids_of_customer(&customer.id).await?;
    // One query for the orders the batch does not hold yet, instead of one per order.
    let missing: Vec<_> = ids.iter().filter(|id| ctx.ws.order_in_batch(id).is_none()).cloned().collect();
    if !missing.is_empty() {
        let loaded = ctx.session.orders(&missing).await?;
        ctx.ws.absorb_orders(loaded);
    }
    for id in ids {
        if let Some(mut order) = ctx.ws.order(ctx.session, &project, &OrderRef::Id(id)).await? {
            order.metadata = Metadata::default();
            order.lines.items.iter_mut().for_each(|item| item.metadata = Metadata::default());
            ctx.ws.put_order(order);
        }
    }
    ctx.ws.erase_customer(erased.clone(), customer.source_id.as_deref());
    Ok(Outcome::Customer { customer: erased, created: false })
}

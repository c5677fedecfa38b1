//! Customer upsert and erasure.

use super::{Ctx, Stop, not_found_customer};
use crate::command::{CustomerInput, Outcome};
use crate::port::CustomerRef;
use fidelis_core::customer::erase as erase_customer;

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
    ctx.ws.erase_customer(erased.clone(), customer.source_id.as_deref());
    Ok(Outcome::Customer { customer: erased, created: false })
}

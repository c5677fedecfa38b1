//! The effects pipeline: after a command's decision is applied, its domain events go to subscribers in a
//! fixed order, inside the same transaction (a rejection by any of them undoes the whole command):
//!
//! 1. segment upkeep (`segments::maintain`): dynamic segments whose rules read what changed; emits
//!    `segment.entered` / `segment.left`;
//! 2. earning on segment transitions (`domains::earning::on_segments`: rules of `segment_entered` /
//!    `segment_left`); earning on orders, events and enrolment is part of those commands' own decisions;
//! 3. tier upkeep (`tiers::maintain`): every membership the command changed, placed in its program's tiers;
//!    emits `tier.*`, and earning on the levels reached (`on_tiers`);
//! 4. occasions planning (`occasions::maintain`): members changed, or whose birthdate or time zone changed,
//!    get their next birthday and anniversary; (later) challenges — each may emit more events for the ones after;
//! 5. pending points: a `pending.*` event for every hold the command placed, reduced, activated or voided;
//! 6. the outbox, last: every event of the command, typed and versioned, for webhooks and consumers.
//!    Events read in place (`Topic::read_in_place`: custom events, ledger entries) get no row of their
//!    own; the store pages their rows together with the outbox's. The others wait in the working set
//!    until the batch is sealed (`WorkingSet::seal_outbox`): one chunk row per batch and project.

use crate::domains::{Ctx, Stop};

pub async fn run(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    if !ctx.segments_current {
        crate::segments::maintain(ctx).await?;
    }
    crate::domains::earning::on_segments(ctx).await?;
    crate::tiers::maintain(ctx).await?;
    crate::domains::earning::on_tiers(ctx).await?;
    crate::occasions::maintain(ctx).await?;
    pending_events(ctx);
    outbox(ctx);
    Ok(())
}

/// A `pending.*` event for every change of pending points in the command, from the holds as they were
/// before it and are now (placed, reduced by a refund, activated, voided).
fn pending_events(ctx: &mut Ctx<'_>) {
    for (id, before) in ctx.ws.holds.changed_in_command() {
        let Some(after) = ctx.ws.holds.get(&id) else { continue };
        if let Some(event) = fidelis_core::domain_event::DomainEvent::of_pending(before.as_ref(), after) {
            ctx.events.push(event);
        }
    }
}

fn outbox(ctx: &mut Ctx<'_>) {
    for event in std::mem::take(&mut ctx.events) {
        if event.topic().read_in_place() {
            continue;
        }
        ctx.ws.push_outbox(&ctx.project.id, event, ctx.at.now);
    }
}

//! Custom events, one or a batch: deduplicated by client event id, counted in customer aggregates.

use super::{Ctx, Stop};
use crate::command::{EventInput, EventOutcome, Outcome, Submission};
use fidelis_core::calendar::local_date;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::EventId;
use fidelis_core::rejection::{FieldError, FieldErrorKey, Rejection};
use jiff::SignedDuration;

/// How far in the future an event's `occurred_at` may lie (clock skew between the client and us).
pub const EVENT_FUTURE_SKEW_SECONDS_MAX: i64 = 300;

pub async fn record(ctx: &mut Ctx<'_>, inputs: &[EventInput], submission: Submission) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let latest = ctx.now.checked_add(SignedDuration::from_secs(EVENT_FUTURE_SKEW_SECONDS_MAX)).unwrap_or(ctx.now);
    let mut outcomes = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        if input.occurred_at.is_some_and(|t| t > latest) {
            let path = if submission == Submission::Batch {
                format!("/events/{index}/occurred_at")
            } else {
                "/occurred_at".to_owned()
            };
            return Err(Stop::Reject(Rejection::Invalid(vec![FieldError::new(
                path,
                FieldErrorKey::OutOfRange,
                "must not lie in the future",
            )])));
        }
        if let Some(client_id) = &input.client_event_id
            && let Some(existing) = ctx.ws.event_by_client_id(ctx.session, &project, client_id).await?
        {
            outcomes.push(EventOutcome { event: existing, duplicate: true });
            continue;
        }
        let (mut customer, _) = ctx.customer(&input.customer).await?;
        let occurred_at = input.occurred_at.unwrap_or(ctx.now);
        let event = CustomEvent {
            id: EventId::fresh(ctx.ids),
            project_id: project.clone(),
            customer_id: customer.id.clone(),
            name: input.name.clone(),
            client_event_id: input.client_event_id.clone(),
            metadata: input.metadata.clone(),
            occurred_at,
            created_at: ctx.now,
        };
        let tz = ctx.project.tz();
        customer.stats.record_event(&event.name, local_date(occurred_at, &tz), ctx.today());
        ctx.ws.put_customer(customer);
        ctx.ws.push_event(event.clone());
        outcomes.push(EventOutcome { event, duplicate: false });
    }
    Ok(Outcome::Events { events: outcomes, submission })
}

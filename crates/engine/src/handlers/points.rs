//! Enrolment and manual points changes (add with optional expiry, remove with reason).

use super::orders::new_membership;
use super::{Ctx, Stop};
use crate::command::{CustomerInput, Direction, Outcome, PointsAdjustment};
use fidelis_core::ids::ProgramId;
use fidelis_core::ledger::{Cause, EntryKind, Shortfall, credit, debit};
use fidelis_core::program::Program;
use fidelis_core::rejection::{FieldError, FieldErrorKey, Rejection, Resource};

async fn program(ctx: &mut Ctx<'_>, id: &ProgramId) -> Result<Program, Stop> {
    let project = ctx.project_id().clone();
    ctx.ws
        .program(ctx.session, &project, id)
        .await?
        .ok_or_else(|| Stop::Reject(Rejection::NotFound { resource: Resource::Program, reference: id.to_string() }))
}

/// Enrols a customer (created on the way when named by an unknown `source_id`); enrolling twice returns the
/// existing membership.
pub async fn enrol(
    ctx: &mut Ctx<'_>,
    program_id: &ProgramId,
    customer: &CustomerInput,
    card_code: Option<&str>,
) -> Result<Outcome, Stop> {
    let program = program(ctx, program_id).await?;
    let (customer, _) = ctx.customer(customer).await?;
    let memberships = ctx.ws.memberships_of(ctx.session, &customer.id).await?;
    if let Some(existing) = memberships.into_iter().find(|m| &m.program_id == program_id) {
        return Ok(Outcome::Member { membership: existing, created: false });
    }
    let membership = new_membership(ctx, &program, &customer.id, card_code).await?;
    ctx.ws.put_membership(membership.clone());
    Ok(Outcome::Member { membership, created: true })
}

pub async fn adjust(ctx: &mut Ctx<'_>, adjustment: &PointsAdjustment) -> Result<Outcome, Stop> {
    let program = program(ctx, &adjustment.program).await?;
    let project = ctx.project_id().clone();
    let Some(membership) = ctx.ws.membership(ctx.session, &project, &program.id, &adjustment.member).await? else {
        return Err(Stop::Reject(Rejection::NotFound {
            resource: Resource::Member,
            reference: member_text(adjustment),
        }));
    };
    let cause = Cause::Admin { reason: adjustment.reason.clone(), actor: ctx.actor.to_owned() };
    let today = ctx.program_today(&program);
    let points = adjustment.points.value();
    let posting = match adjustment.direction {
        Direction::Add => {
            // Points whose last usable day has passed could never be spent, yet would count until the next
            // expiry run.
            if adjustment.expires_on.is_some_and(|last| last < today) {
                return Err(Stop::Reject(Rejection::Invalid(vec![FieldError::new(
                    "/expires_on",
                    FieldErrorKey::OutOfRange,
                    format!("the last usable day must be today ({today}) or later in the program's time zone"),
                )])));
            }
            let expires_on = adjustment.expires_on.or_else(|| program.expiry.expires_on(today));
            credit(&membership, points, expires_on, EntryKind::ManualAdd, cause, ctx.now, ctx.ids)
        }
        Direction::Remove => {
            let lots = ctx.ws.lots(ctx.session, &membership.id).await?;
            let shortfall = if program.allow_negative_balance { Shortfall::Debt } else { Shortfall::Reject };
            debit(&membership, &lots, points, EntryKind::ManualRemove, shortfall, cause, (ctx.now, today), ctx.ids)?
        }
    };
    let entry = posting.entry.clone();
    let membership = posting.membership.clone();
    ctx.ws.apply_posting(posting);
    Ok(Outcome::Points { entry, membership })
}

fn member_text(adjustment: &PointsAdjustment) -> String {
    match &adjustment.member {
        crate::port::MemberRef::Id(id) => id.to_string(),
        crate::port::MemberRef::Card(code) => code.clone(),
        crate::port::MemberRef::Customer(crate::port::CustomerRef::Id(id)) => id.to_string(),
        crate::port::MemberRef::Customer(crate::port::CustomerRef::Source(s)) => s.clone(),
    }
}

//! Order upsert and refunds: the order change, customer aggregates, earning on PAID and clawback on
//! refund/cancel, all in one command.

use super::{Ctx, Stop};
use crate::command::{OrderInput, Outcome};
use crate::port::OrderRef;
use fidelis_core::customer::Customer;
use fidelis_core::ids::{CustomerId, MembershipId, NewIds};
use fidelis_core::ledger::{Membership, Totals, decide_clawback, decide_order_earning};
use fidelis_core::money::Money;
use fidelis_core::order::{Order, OrderChange, OrderDraft, OrderEarning, decide_upsert};
use fidelis_core::program::{JoinPolicy, Program};
use fidelis_core::rejection::{Rejection, Resource};

pub async fn upsert(ctx: &mut Ctx<'_>, input: &OrderInput) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let reference = input.reference.clone().or_else(|| input.draft.source_id.clone().map(OrderRef::Source));
    let existing = match &reference {
        Some(r) => ctx.ws.order(ctx.session, &project, r).await?,
        None => None,
    };
    if existing.is_none()
        && let Some(OrderRef::Id(id)) = &reference
    {
        return Err(Stop::Reject(Rejection::NotFound { resource: Resource::Order, reference: id.to_string() }));
    }
    let customer = match &input.customer {
        Some(c) => Some(ctx.customer(c).await?.0),
        None => None,
    };
    apply_change(ctx, existing, customer.map(|c| c.id), &input.draft).await
}

/// A refund of `amount` more than already refunded.
pub async fn refund(ctx: &mut Ctx<'_>, reference: &OrderRef, amount: Money) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let Some(order) = ctx.ws.order(ctx.session, &project, reference).await? else {
        let text = match reference {
            OrderRef::Id(id) => id.to_string(),
            OrderRef::Source(s) => s.clone(),
        };
        return Err(Stop::Reject(Rejection::NotFound { resource: Resource::Order, reference: text }));
    };
    let refundable = order.lines.total().minor_units() - order.refunded_amount.minor_units();
    let Some(total_refunded) = order.refunded_amount.checked_add(amount).filter(|r| *r <= order.lines.total()) else {
        return Err(Stop::Reject(Rejection::RefundExceedsPaid { refundable, requested: amount.minor_units() }));
    };
    let draft = OrderDraft { refunded_amount: Some(total_refunded), ..OrderDraft::default() };
    apply_change(ctx, Some(order), None, &draft).await
}

async fn apply_change(
    ctx: &mut Ctx<'_>,
    existing: Option<Order>,
    customer_id: Option<CustomerId>,
    draft: &OrderDraft,
) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let first_entry = ctx.ws.entry_count();
    let today = ctx.today();
    let change = decide_upsert(&project, existing.as_ref(), customer_id, draft, (ctx.now, today), ctx.ids)?;
    let mut order = change.order.clone();
    if let Some(customer_id) = order.customer_id.clone() {
        let reference = crate::port::CustomerRef::Id(customer_id);
        if let Some(customer) = ctx.ws.customer(ctx.session, &project, &reference).await? {
            if customer.erased_at.is_some() && adds_personal_data(existing.as_ref(), &order) {
                return Err(Stop::Reject(Rejection::CustomerErased));
            }
            update_stats(ctx, customer, &change)?;
            if change.became_paid {
                earn(ctx, &mut order).await?;
            }
            claw_back(ctx, &mut order).await?;
        }
    }
    if change.changed || order != change.order {
        ctx.ws.put_order(order.clone());
    }
    let entries = ctx.ws.entries_since(first_entry).to_vec();
    Ok(Outcome::Order { order, created: change.created, entries })
}

/// Whether a change writes metadata (where merchants put personal details) to an order of an erased customer;
/// status changes and refunds still go through.
fn adds_personal_data(existing: Option<&Order>, order: &Order) -> bool {
    let item_metadata = |o: &Order| o.lines.items.iter().map(|i| i.metadata.clone()).collect::<Vec<_>>();
    existing.is_none_or(|e| e.metadata != order.metadata || item_metadata(e) != item_metadata(order))
}

fn update_stats(ctx: &mut Ctx<'_>, mut customer: Customer, change: &OrderChange) -> Result<(), Stop> {
    let (Some(paid_at), Some(paid_on)) = (change.order.paid_at, change.order.paid_on) else {
        return Ok(());
    };
    let (orders, spent) = change.counted_delta;
    if !change.became_paid && orders == 0 && spent == 0 {
        return Ok(());
    }
    let today = ctx.today();
    let stats = &mut customer.stats;
    if change.became_paid && orders == 1 {
        stats.record_paid(spent, paid_at, paid_on, today);
    } else if orders == -1 {
        stats.record_uncounted(-spent, paid_on, today);
    } else if orders == 0 && spent < 0 {
        stats.record_refund(-spent, paid_on, today);
    }
    customer.updated_at = ctx.now;
    ctx.ws.put_customer(customer);
    Ok(())
}

/// Earns in every active program the customer belongs to, enrolling them where the program auto-joins.
async fn earn(ctx: &mut Ctx<'_>, order: &mut Order) -> Result<(), Stop> {
    let Some(customer_id) = order.customer_id.clone() else {
        return Ok(());
    };
    let programs = ctx.ws.programs(ctx.session, &order.project_id).await?;
    let memberships = ctx.ws.memberships_of(ctx.session, &customer_id).await?;
    for program in programs.iter().filter(|p| !p.paused && p.earning.is_some()) {
        let membership = match memberships.iter().find(|m| m.program_id == program.id) {
            Some(m) => m.clone(),
            None if program.join_policy == JoinPolicy::AutoOnFirstOrder => {
                let m = new_membership(ctx, program, &customer_id, None).await?;
                ctx.ws.put_membership(m.clone());
                m
            }
            None => continue,
        };
        let clock = (ctx.now, ctx.program_today(program));
        if let Some(posting) = decide_order_earning(program, &membership, order, clock, ctx.ids) {
            order.earnings.push(OrderEarning {
                program_id: program.id.clone(),
                membership_id: membership.id.clone(),
                entry_id: posting.entry.id.clone(),
                points: posting.entry.points,
                clawed_back: 0,
            });
            ctx.ws.apply_posting(posting);
        }
    }
    Ok(())
}

/// Takes back, per program, what refunds and cancellation say the order should no longer have given.
async fn claw_back(ctx: &mut Ctx<'_>, order: &mut Order) -> Result<(), Stop> {
    for index in 0..order.earnings.len() {
        let earning = order.earnings[index].clone();
        let due = order.clawback_target(earning.points) - earning.clawed_back;
        if due <= 0 {
            continue;
        }
        let Some(program) = ctx.ws.program(ctx.session, &order.project_id, &earning.program_id).await? else {
            continue;
        };
        let Some(membership) = ctx.ws.membership_by_id(ctx.session, &earning.membership_id).await? else {
            continue;
        };
        let lots = ctx.ws.lots(ctx.session, &membership.id).await?;
        let clock = (ctx.now, ctx.program_today(&program));
        if let Some(posting) = decide_clawback(&program, &membership, &lots, order, &earning, clock, ctx.ids) {
            order.earnings[index].clawed_back += -posting.entry.points + posting.entry.unrecovered;
            ctx.ws.apply_posting(posting);
        }
    }
    Ok(())
}

/// A new membership with a card code that no member of the project holds yet.
pub async fn new_membership(
    ctx: &mut Ctx<'_>,
    program: &Program,
    customer: &CustomerId,
    card_code: Option<&str>,
) -> Result<Membership, Stop> {
    let project = ctx.project_id().clone();
    let code = match card_code {
        Some(code) => {
            if !ctx.ws.card_code_is_free(ctx.session, &project, code).await? {
                return Err(Stop::Reject(Rejection::CardCodeTaken));
            }
            code.to_owned()
        }
        // 60 random bits: a collision is left to the unique index (the batch retries with fresh codes).
        None => ctx.ids.code(fidelis_core::limits::CARD_CODE_GENERATED_CHARS),
    };
    Ok(Membership {
        id: MembershipId::fresh(ctx.ids),
        project_id: project,
        program_id: program.id.clone(),
        customer_id: customer.clone(),
        card_code: code,
        balance: 0,
        debt: 0,
        totals: Totals::default(),
        created_at: ctx.now,
        updated_at: ctx.now,
    })
}

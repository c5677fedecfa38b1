//! Tier upkeep, a subscriber of the effects pipeline after segment upkeep and segment earning: every
//! membership the command changed is placed in its program's tiers (`TierConfig::on_change`: upgrades at
//! once, balance tiers down at once), in the same transaction, with a `tier.*` event per move. The daily
//! review of windowed statuses is `jobs::ReviewTiers`.

use crate::decision::{Decision, Write};
use crate::domains::{Ctx, Stop};
use crate::working_set::WorkingSet;
use fidelis_core::domain_event::{DomainEvent, TierPayload};
use fidelis_core::ids::{NewIds, TierMoveId};
use fidelis_core::ledger::Membership;
use fidelis_core::tier::{TierChange, TierConfig, TierHistoryEntry};
use jiff::civil::Date;

pub async fn maintain(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let changed = ctx.ws.memberships.keys_changed_in_command();
    if changed.is_empty() {
        return Ok(());
    }
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    if !ctx.ws.programs_of(&project).iter().any(|p| p.tiers.is_some()) {
        return Ok(());
    }
    let mut decision = Decision::new(());
    for id in changed {
        let Some(m) = ctx.ws.memberships.get(&id) else { continue };
        let Some(program) = ctx.ws.program(&project, &m.program_id) else { continue };
        let Some(config) = &program.tiers else { continue };
        let today = ctx.at.program_today(program);
        let value = value(ctx.ws, config, m, today);
        let (next, change) = config.on_change(&m.tier, value, today);
        if let Some(change) = change {
            record(&mut decision, m, next, change, ctx.at.now, ctx.ids);
        }
    }
    ctx.apply(decision);
    Ok(())
}

/// What the member's tiers count now, from the working set.
pub fn value(ws: &WorkingSet, config: &TierConfig, m: &Membership, today: Date) -> i64 {
    let lots: Vec<_> = ws.open_lots(&m.id).into_iter().cloned().collect();
    let spendable = m.spendable(&lots, today).value();
    let customer = ws.customers.get(&m.customer_id);
    let spent = |from: Date| customer.map_or(0, |c| c.stats.window(from, today).0);
    config.value(&m.tier, spendable, spent, today)
}

/// The member's new tier, its event and its line in the tier history.
pub fn record(
    decision: &mut Decision<()>,
    m: &Membership,
    next: fidelis_core::tier::MemberTier,
    change: TierChange,
    now: jiff::Timestamp,
    ids: &mut impl NewIds,
) {
    let mut member = m.clone();
    member.tier = next;
    decision.writes.push(Write::TierMove(TierHistoryEntry {
        id: TierMoveId::fresh(ids),
        project_id: member.project_id.clone(),
        program_id: member.program_id.clone(),
        membership_id: member.id.clone(),
        kind: change.kind,
        from: change.from.clone(),
        to: change.to.clone(),
        until: member.tier.until,
        created_at: now,
    }));
    decision.events.push(DomainEvent::Tier(TierPayload {
        membership_id: member.id.clone(),
        program_id: member.program_id.clone(),
        customer_id: member.customer_id.clone(),
        change: change.kind,
        from: change.from,
        to: change.to,
        until: member.tier.until,
    }));
    decision.writes.push(Write::Membership(member));
}

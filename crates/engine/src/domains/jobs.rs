//! Scheduled work, run through the writer like any command, in the nightly order of SEMANTICS.md:
//! activation of pending points whose day has come, expiry of lots past their last usable day (each in
//! its program's time zone), and pruning of old idempotency records. Idempotent: a second run at the
//! same time finds nothing due.

use super::wallets::Wallets;
use super::{At, Ctx, Stop};
use crate::decision::{Decision, Write};
use crate::names::Names;
use crate::port::CustomerRef;
use fidelis_core::ids::{CustomerId, HoldId, LotId, NewIds, ProjectId};
use fidelis_core::ledger::expire_lot;
use fidelis_core::ledger::hold::{self, Hold, HoldState};
use fidelis_core::money::Points;
use fidelis_core::program::Program;
use fidelis_core::rejection::Rejection;
use jiff::Timestamp;

/// Idempotency records are kept at least this long (SEMANTICS: at least 24 hours).
pub const IDEMPOTENCY_RETENTION_HOURS: i64 = 72;
/// Idempotency records deleted per job command.
pub const IDEMPOTENCY_PRUNE_ROWS_MAX: usize = 10_000;

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Activates at most `holds_max` pending points of the project whose day has come.
    ActivateDue { holds_max: usize },
    /// Reviews at most `members_max` tier statuses of the project that ended (after their grace).
    ReviewTiers { members_max: usize },
    /// Celebrates the birthdays and anniversaries due of at most `members_max` members (and plans members
    /// never planned), in programs with rules of those triggers.
    CelebrateDue { members_max: usize },
    /// Expires at most `lots_max` due lots of the project.
    ExpireDue { lots_max: usize },
    /// Deletes idempotency records created before `before` (of every project), at most `limit`.
    PruneIdempotency { before: Timestamp, limit: usize },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Activated {
        holds: u64,
        points: i64,
        more_due: bool,
    },
    Expired {
        lots: u64,
        points: i64,
        more_due: bool,
    },
    /// Statuses reviewed, and how many of them went down.
    Reviewed {
        members: u64,
        downgraded: u64,
        more_due: bool,
    },
    /// Members looked at, and the birthdays and anniversaries celebrated.
    Celebrated {
        members: u64,
        birthdays: u64,
        anniversaries: u64,
        more_due: bool,
    },
    Pruned {
        records: u64,
    },
}

impl Outcome {
    /// Whether a job left work for another command.
    pub fn more_due(&self) -> bool {
        match self {
            Outcome::Activated { more_due, .. }
            | Outcome::Expired { more_due, .. }
            | Outcome::Reviewed { more_due, .. }
            | Outcome::Celebrated { more_due, .. } => *more_due,
            Outcome::Pruned { .. } => false,
        }
    }
}

pub fn names(command: &Command, names: &mut Names) {
    if let Command::ExpireDue { .. }
    | Command::ActivateDue { .. }
    | Command::ReviewTiers { .. }
    | Command::CelebrateDue { .. } = command
    {
        // It finds its rows by scanning and locks their customers itself.
        names.exclusive = true;
        names.programs = true;
    }
}

pub async fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    match command {
        Command::ExpireDue { lots_max } => expire_due(ctx, *lots_max).await,
        Command::ActivateDue { holds_max } => activate_due(ctx, *holds_max).await,
        Command::ReviewTiers { members_max } => review_tiers(ctx, *members_max).await,
        Command::CelebrateDue { members_max } => celebrate_due(ctx, *members_max).await,
        Command::PruneIdempotency { before, limit } => {
            let keys = ctx.loads.stale_idempotency(*before, *limit).await?;
            let records = keys.len() as u64;
            keys.into_iter().for_each(|k| ctx.ws.pruned.push(k));
            Ok(Outcome::Pruned { records })
        }
    }
}

async fn expire_due(ctx: &mut Ctx<'_>, lots_max: usize) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let programs: Vec<Program> = ctx.ws.programs_of(&project).into_iter().cloned().collect();
    // Find what is due without locks, then lock the owners (one pass, in id order) and read again.
    let mut due: Vec<LotId> = Vec::new();
    let mut memberships = Vec::new();
    let mut more_due = false;
    for program in &programs {
        let budget = lots_max.saturating_sub(due.len());
        let found = ctx.loads.due_lots(&program.id, ctx.at.program_today(program), budget.saturating_add(1)).await?;
        more_due |= found.len() > budget;
        for lot in found.into_iter().take(budget) {
            memberships.push(lot.membership_id.clone());
            due.push(lot.id);
        }
    }
    memberships.sort();
    memberships.dedup();
    let owners: Vec<CustomerId> =
        ctx.loads.memberships(&memberships, &[], &[]).await?.into_iter().map(|m| m.customer_id).collect();
    let named: Vec<(ProjectId, CustomerRef)> =
        owners.iter().map(|c| (project.clone(), CustomerRef::Id(c.clone()))).collect();
    ctx.ws.load_customers(ctx.loads, &named).await?;
    ctx.ws.load_memberships(ctx.loads, &owners, &[]).await?;
    ctx.ws.load_lots(ctx.loads, &memberships).await?;
    let mut wallets = Wallets::new(memberships.iter().filter_map(|m| ctx.ws.memberships.get(m)));
    for m in &memberships {
        wallets = wallets.with_lots(m, ctx.ws.open_lots(m));
    }
    let decision = decide_expiry(&programs, &wallets, &due, &ctx.at, ctx.ids, more_due)?;
    Ok(ctx.apply(decision))
}

/// Locks (on PostgreSQL) the customers owning what a scan found unlocked, in id order, with their
/// memberships: what the job then reads of them is current.
async fn lock_owners(ctx: &mut Ctx<'_>, mut owners: Vec<CustomerId>) -> Result<(), Stop> {
    owners.sort();
    owners.dedup();
    let project = ctx.project_id().clone();
    let named: Vec<(ProjectId, CustomerRef)> =
        owners.iter().map(|c| (project.clone(), CustomerRef::Id(c.clone()))).collect();
    ctx.ws.load_customers(ctx.loads, &named).await?;
    ctx.ws.load_memberships(ctx.loads, &owners, &[]).await?;
    Ok(())
}

async fn review_tiers(ctx: &mut Ctx<'_>, members_max: usize) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let programs: Vec<Program> =
        ctx.ws.programs_of(&project).into_iter().filter(|p| p.tiers.is_some()).cloned().collect();
    let (mut due, mut more_due) = (Vec::new(), false);
    for program in &programs {
        let grace = program.tiers.as_ref().map_or(0, |t| i32::from(t.grace_days));
        let today = ctx.at.program_today(program);
        let Some(before) = fidelis_core::calendar::add_days(today, -grace) else { continue };
        let budget = members_max.saturating_sub(due.len());
        let found = ctx.loads.due_tier_reviews(&program.id, before, budget.saturating_add(1)).await?;
        more_due |= found.len() > budget;
        due.extend(found.into_iter().take(budget));
    }
    lock_owners(ctx, due.iter().map(|m| m.customer_id.clone()).collect()).await?;
    let mut decision = Decision::new(());
    let (mut members, mut downgraded) = (0_u64, 0_u64);
    for id in due.iter().map(|m| m.id.clone()) {
        let Some(m) = ctx.ws.memberships.get(&id) else { continue };
        let Some(program) = programs.iter().find(|p| p.id == m.program_id) else { continue };
        let Some(config) = &program.tiers else { continue };
        let today = ctx.at.program_today(program);
        let value = crate::tiers::value(ctx.ws, config, m, today);
        let (next, change) = config.review(&m.tier, value, today);
        if let Some(change) = change {
            members += 1;
            downgraded += u64::from(change.kind != fidelis_core::tier::TierMove::Prolonged);
            crate::tiers::record(&mut decision, m, next, change, ctx.at.now, ctx.ids);
        }
    }
    ctx.apply(decision);
    Ok(Outcome::Reviewed { members, downgraded, more_due })
}

async fn celebrate_due(ctx: &mut Ctx<'_>, members_max: usize) -> Result<Outcome, Stop> {
    use crate::domains::earning::{Move, earn_on_moves};
    use fidelis_core::occasion::Occasion;
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let programs: Vec<Program> =
        ctx.ws.programs_of(&project).into_iter().filter(|p| crate::occasions::celebrates(p)).cloned().collect();
    let (mut due, mut more_due) = (Vec::new(), false);
    for program in &programs {
        let budget = members_max.saturating_sub(due.len());
        let found = ctx.loads.due_occasions(&program.id, ctx.at.now, budget.saturating_add(1)).await?;
        more_due |= found.len() > budget;
        due.extend(found.into_iter().take(budget));
    }
    lock_owners(ctx, due.iter().map(|m| m.customer_id.clone()).collect()).await?;
    let mut decision = Decision::new(());
    let mut moves = Vec::new();
    let (mut members, mut birthdays, mut anniversaries) = (0_u64, 0_u64, 0_u64);
    for id in due.iter().map(|m| m.id.clone()) {
        let Some(m) = ctx.ws.memberships.get(&id) else { continue };
        let Some(program) = programs.iter().find(|p| p.id == m.program_id) else { continue };
        let (next, occasions) = crate::occasions::celebrate(m, ctx.ws.customers.get(&m.customer_id), program, &ctx.at);
        members += 1;
        for occasion in occasions {
            match occasion {
                Occasion::Birthday { .. } => birthdays += 1,
                Occasion::Anniversary { .. } => anniversaries += 1,
            }
            moves.push((m.customer_id.clone(), Move::Occasion { program: program.id.clone(), occasion }));
        }
        decision.writes.push(Write::Membership(next));
    }
    // The dates move on first, so that the earning sees (and writes) the planned member.
    ctx.apply(decision);
    earn_on_moves(ctx, moves).await?;
    Ok(Outcome::Celebrated { members, birthdays, anniversaries, more_due })
}

async fn activate_due(ctx: &mut Ctx<'_>, holds_max: usize) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let programs: Vec<Program> = ctx.ws.programs_of(&project).into_iter().cloned().collect();
    // Find what is due without locks, then lock the owners and read their holds again.
    let (mut due, mut more_due) = (Vec::new(), false);
    for program in &programs {
        let budget = holds_max.saturating_sub(due.len());
        let today = ctx.at.program_today(program);
        let found = ctx.loads.due_holds(&program.id, today, budget.saturating_add(1)).await?;
        more_due |= found.len() > budget;
        due.extend(found.into_iter().take(budget));
    }
    lock_owners(ctx, due.iter().map(|h| h.customer_id.clone()).collect()).await?;
    let mut memberships: Vec<_> = due.iter().map(|h| h.membership_id.clone()).collect();
    memberships.sort();
    memberships.dedup();
    ctx.ws.load_holds(ctx.loads, &memberships).await?;
    let ids: Vec<HoldId> = due.iter().map(|h| h.id.clone()).collect();
    let holds: Vec<Hold> = ids.iter().filter_map(|id| ctx.ws.hold(id).cloned()).collect();
    let wallets = Wallets::new(memberships.iter().filter_map(|m| ctx.ws.memberships.get(m)));
    let decision = decide_activation(&programs, &wallets, &holds, &ctx.at, ctx.ids, more_due)?;
    Ok(ctx.apply(decision))
}

/// Activation postings for the due holds that are still pending (as the locked rows say).
pub fn decide_activation(
    programs: &[Program],
    wallets: &Wallets,
    holds: &[Hold],
    at: &At,
    ids: &mut impl NewIds,
    more_due: bool,
) -> Result<Decision<Outcome>, Rejection> {
    let mut wallets = wallets.clone();
    let mut decision = Decision::new(());
    let (mut count, mut points) = (0_u64, Points::ZERO);
    for hold in holds.iter().filter(|h| h.state == HoldState::Pending) {
        let Some(program) = programs.iter().find(|p| p.id == hold.program_id) else { continue };
        let today = at.program_today(program);
        let Some(membership) = wallets.get(&hold.membership_id).cloned().filter(|_| hold.until <= today) else {
            continue;
        };
        let expires_on = hold.expiry.unwrap_or(program.expiry).expires_on(today);
        let (posted, mut posting) = hold::activate(hold, &membership, expires_on, at.now, ids)?;
        posting.membership.tier.record_earned(hold.points.value(), today);
        count += 1;
        points = points.checked_add(hold.points).unwrap_or(points);
        wallets.apply(&posting);
        decision.writes.push(Write::Hold(posted));
        decision.post(posting);
    }
    let outcome = Outcome::Activated { holds: count, points: points.value(), more_due };
    Ok(Decision { writes: decision.writes, events: decision.events, outcome })
}

/// Expiry postings for the due lots that are still due (in the wallets as they are now).
pub fn decide_expiry(
    programs: &[Program],
    wallets: &Wallets,
    due: &[LotId],
    at: &At,
    ids: &mut impl NewIds,
    more_due: bool,
) -> Result<Decision<Outcome>, Rejection> {
    let mut wallets = wallets.clone();
    let mut decision = Decision::new(());
    let (mut lots, mut points) = (0_u64, Points::ZERO);
    for lot_id in due {
        let Some((membership, lot)) = wallets.find_lot(lot_id) else { continue };
        let Some(program) = programs.iter().find(|p| p.id == membership.program_id) else { continue };
        let open = wallets.lots(&membership.id).to_vec();
        if let Some(posting) = expire_lot(&membership, &open, &lot, at.program_clock(program), ids)? {
            lots += 1;
            points = points.checked_add(lot.remaining).unwrap_or(points);
            wallets.apply(&posting);
            decision.post(posting);
        }
    }
    let outcome = Outcome::Expired { lots, points: points.value(), more_due };
    Ok(Decision { writes: decision.writes, events: decision.events, outcome })
}

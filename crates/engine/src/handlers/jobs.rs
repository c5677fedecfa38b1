//! Scheduled work of one project, run through the writer like any command: expiry of lots past their last
//! usable day (in each program's time zone) and pruning of old idempotency records. Idempotent: a second
//! run at the same time finds nothing due.

use super::{Ctx, Stop};
use crate::command::{JobReport, Outcome};
use fidelis_core::ledger::expire_lot;
use jiff::SignedDuration;

/// Idempotency records are kept at least this long (SEMANTICS: at least 24 hours).
pub const IDEMPOTENCY_RETENTION_HOURS: i64 = 72;
/// Idempotency records deleted per job command.
pub const IDEMPOTENCY_PRUNE_ROWS_MAX: usize = 10_000;

pub async fn run_due(ctx: &mut Ctx<'_>, lots_max: usize) -> Result<Outcome, Stop> {
    let project = ctx.project_id().clone();
    let mut report = JobReport::default();
    let programs = ctx.ws.programs(ctx.session, &project).await?;
    let mut budget = lots_max;
    for program in programs {
        let clock = (ctx.now, ctx.program_today(&program));
        let due = ctx.session.due_lots(&program.id, clock.1, budget.saturating_add(1)).await?;
        if due.len() > budget {
            report.more_due = true;
        }
        let mut expired_here = 0_usize;
        for lot in ctx.ws.merge_due_lots(due.into_iter().take(budget).collect()) {
            let Some(membership) = ctx.ws.membership_by_id(ctx.session, &lot.membership_id).await? else {
                continue;
            };
            if let Some(posting) = expire_lot(&membership, &lot, clock, ctx.ids) {
                report.expired_lots += 1;
                expired_here += 1;
                report.expired_points += lot.remaining;
                ctx.ws.apply_posting(posting);
            }
        }
        budget = budget.saturating_sub(expired_here);
    }
    let cutoff = ctx.now.checked_sub(SignedDuration::from_hours(IDEMPOTENCY_RETENTION_HOURS)).unwrap_or(ctx.now);
    report.idempotency_records_pruned = ctx.session.prune_idempotency(cutoff, IDEMPOTENCY_PRUNE_ROWS_MAX).await?;
    Ok(Outcome::Jobs(report))
}

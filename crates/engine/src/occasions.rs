//! Birthdays and anniversaries. Each member of a program with rules of those triggers keeps its next
//! occasions (`fidelis_core::occasion`) and the instant the first is due (`celebrate_at`, the start of that
//! day in the member's time zone: the customer's own, else the program's, else the project's). Planning is
//! an effects subscriber (a changed birthdate or time zone, a new or changed member) and part of the daily
//! job (`jobs::CelebrateDue`), which celebrates what is due, moves the dates on and earns on the occasions.

use crate::decision::{Decision, Write};
use crate::domains::earning::earns_on;
use crate::domains::{At, Ctx, Stop};
use fidelis_core::calendar::{local_date, start_of_day};
use fidelis_core::customer::Customer;
use fidelis_core::earning::Trigger;
use fidelis_core::ids::{CustomerId, ProgramId};
use fidelis_core::ledger::Membership;
use fidelis_core::occasion::{Occasion, Occasions};
use fidelis_core::program::Program;
use jiff::tz::TimeZone;

/// Whether a program earns on birthdays or anniversaries (only then are its members planned).
pub fn celebrates(program: &Program) -> bool {
    Trigger::OCCASIONS.into_iter().any(|kind| earns_on(program, kind))
}

/// The member's time zone for occasions: the customer's own, else the program's, else the project's.
pub fn zone(customer: Option<&Customer>, program: &Program, at: &At) -> TimeZone {
    let own = customer.and_then(|c| c.profile.timezone.as_deref());
    own.or(program.time_zone.as_deref()).and_then(|n| TimeZone::get(n).ok()).unwrap_or_else(|| at.time_zone.clone())
}

/// What a member's occasions are counted in: its time zone, birthdate, day of joining and today.
struct Local {
    tz: TimeZone,
    birthdate: Option<jiff::civil::Date>,
    joined: jiff::civil::Date,
    today: jiff::civil::Date,
}

impl Local {
    fn of(m: &Membership, customer: Option<&Customer>, program: &Program, at: &At) -> Local {
        let tz = zone(customer, program, at);
        let (joined, today) = (local_date(m.created_at, &tz), local_date(at.now, &tz));
        Local { birthdate: customer.and_then(|c| c.profile.birthdate), joined, today, tz }
    }

    /// The start of the first due day; nothing ever due still counts as planned (the job must not find the
    /// member again).
    fn celebrate_at(&self, occasions: &Occasions) -> Option<jiff::Timestamp> {
        Some(occasions.next_due().and_then(|d| start_of_day(d, &self.tz)).unwrap_or(jiff::Timestamp::MAX))
    }
}

/// The member with its occasions planned from the customer as it is now; `None` when they still hold.
pub fn planned(m: &Membership, customer: Option<&Customer>, program: &Program, at: &At) -> Option<Membership> {
    let local = Local::of(m, customer, program, at);
    let occasions = m.occasions.planned(local.birthdate, local.joined, local.today);
    let celebrate_at = local.celebrate_at(&occasions);
    (occasions != m.occasions || celebrate_at != m.celebrate_at).then(|| Membership {
        occasions,
        celebrate_at,
        ..m.clone()
    })
}

/// The member after celebrating what is due now, and the occasions to earn on.
pub fn celebrate(
    m: &Membership,
    customer: Option<&Customer>,
    program: &Program,
    at: &At,
) -> (Membership, Vec<Occasion>) {
    let local = Local::of(m, customer, program, at);
    let (occasions, due) = m.occasions.celebrate(local.birthdate, local.joined, local.today);
    let celebrate_at = local.celebrate_at(&occasions);
    (Membership { occasions, celebrate_at, ..m.clone() }, due)
}

/// Effects subscriber: plans the members the command changed, and the members of customers whose birthdate
/// or time zone it changed, in programs that celebrate.
pub async fn maintain(ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let project = ctx.project_id().clone();
    let mut changed = ctx.ws.memberships.keys_changed_in_command();
    if changed.is_empty() && ctx.ws.customers.keys_changed_in_command().is_empty() {
        return Ok(());
    }
    ctx.ws.load_programs(ctx.loads, std::slice::from_ref(&project), &[]).await?;
    let programs: Vec<ProgramId> =
        ctx.ws.programs_of(&project).into_iter().filter(|p| celebrates(p)).map(|p| p.id.clone()).collect();
    if programs.is_empty() {
        return Ok(());
    }
    // Only now the customers' earlier versions (a clone each): for projects that celebrate.
    let moved: Vec<CustomerId> = ctx
        .ws
        .customers
        .changed_in_command()
        .into_iter()
        .filter(|(id, before)| {
            let now = ctx.ws.customers.get(id).map(|c| (c.profile.birthdate, c.profile.timezone.clone()));
            before.as_ref().is_some_and(|b| Some((b.profile.birthdate, b.profile.timezone.clone())) != now)
        })
        .map(|(id, _)| id)
        .collect();
    if !moved.is_empty() {
        ctx.ws.load_memberships(ctx.loads, &moved, &[]).await?;
        for customer in &moved {
            changed.extend(ctx.ws.memberships_of(customer).into_iter().map(|m| m.id.clone()));
        }
        changed.sort();
        changed.dedup();
    }
    let mut decision = Decision::new(());
    for id in changed {
        let Some(m) = ctx.ws.memberships.get(&id).filter(|m| programs.contains(&m.program_id)) else { continue };
        let Some(program) = ctx.ws.program(&project, &m.program_id) else { continue };
        if let Some(next) = planned(m, ctx.ws.customers.get(&m.customer_id), program, &ctx.at) {
            decision.writes.push(Write::Membership(next));
        }
    }
    ctx.apply(decision);
    Ok(())
}

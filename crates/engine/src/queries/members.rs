//! Member queries: what a member can spend now, and the points expiring soon.

use crate::domains::members::MemberView;
use crate::port::{ReadPort, StoreResult};
use fidelis_core::calendar::{add_days, local_date};
use fidelis_core::ledger::Membership;
use fidelis_core::money::Points;
use fidelis_core::program::Program;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

/// Today in a program's time zone (its own, else the project's).
pub fn program_today(program: Option<&Program>, project_tz: &TimeZone, now: Timestamp) -> Date {
    let tz = program.and_then(|p| p.time_zone.as_deref()).and_then(|z| TimeZone::get(z).ok());
    local_date(now, tz.as_ref().unwrap_or(project_tz))
}

/// A membership with what its member can spend on `today` (reads the open lots only when some may have
/// passed their last day and the expiry job has not written them off yet).
pub async fn view(reads: &dyn ReadPort, membership: Membership, today: Date) -> StoreResult<MemberView> {
    let lots = if membership.may_have_lapsed_lots(today) {
        reads.open_lot_list(&membership.project_id, &membership.id).await?
    } else {
        Vec::new()
    };
    let balance = membership.spendable(&lots, today);
    Ok(MemberView { membership, balance })
}

/// Views of several memberships (of one project), each on its program's today.
pub async fn views(
    reads: &dyn ReadPort,
    memberships: Vec<Membership>,
    programs: &[Program],
    project_tz: &TimeZone,
    now: Timestamp,
) -> StoreResult<Vec<MemberView>> {
    let mut out = Vec::with_capacity(memberships.len());
    for m in memberships {
        let program = programs.iter().find(|p| p.id == m.program_id);
        out.push(view(reads, m, program_today(program, project_tz, now)).await?);
    }
    Ok(out)
}

/// Points of open lots whose last usable day is within `[today, today + days]`, summed per day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiring {
    pub total: Points,
    pub dates: Vec<(Date, Points)>,
}

pub async fn expiring(reads: &dyn ReadPort, membership: &Membership, today: Date, days: i32) -> StoreResult<Expiring> {
    let until = add_days(today, days).unwrap_or(today);
    let mut by_date: BTreeMap<Date, Points> = BTreeMap::new();
    for lot in reads.open_lot_list(&membership.project_id, &membership.id).await? {
        if let Some(day) = lot.expires_on.filter(|d| *d >= today && *d <= until) {
            let sum = by_date.entry(day).or_insert(Points::ZERO);
            *sum = sum.checked_add(lot.remaining).unwrap_or(*sum);
        }
    }
    let total = Points::sum(by_date.values().copied()).unwrap_or(Points::ZERO);
    Ok(Expiring { total, dates: by_date.into_iter().collect() })
}

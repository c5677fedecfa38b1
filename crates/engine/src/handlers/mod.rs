//! Use cases of the writer: each handler loads through the working set, calls the pure core to decide,
//! and applies the decision to the working set. A `Stop::Reject` undoes everything the command did.

mod customers;
mod events;
mod jobs;
mod orders;
mod points;
mod programs;
mod segments;

use crate::command::{Action, Command, CustomerInput, Outcome, WhenMissing};
use crate::idgen::UlidIds;
use crate::port::{CustomerRef, StoreError, WriteSession};
use crate::working_set::WorkingSet;
use fidelis_core::calendar::local_date;
use fidelis_core::customer::{Customer, decide_upsert};
use fidelis_core::ids::ProjectId;
use fidelis_core::program::Program;
use fidelis_core::rejection::{Rejection, Resource};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Why a handler stopped early: a decided rejection (undo, answer 4xx) or a storage failure (retry batch).
#[derive(Debug)]
pub enum Stop {
    Reject(Rejection),
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Store(e)
    }
}

impl From<Rejection> for Stop {
    fn from(r: Rejection) -> Stop {
        Stop::Reject(r)
    }
}

/// What one command runs with: the batch's clock reading, id source, session and working set.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub ids: &'a mut UlidIds,
    pub session: &'a mut dyn WriteSession,
    pub ws: &'a mut WorkingSet,
    pub project: &'a crate::project::Project,
    pub actor: &'a str,
    pub rules: &'a mut crate::segments::RuleCache,
}

impl Ctx<'_> {
    pub fn project_id(&self) -> &ProjectId {
        &self.project.id
    }

    /// Today in the project's time zone.
    pub fn today(&self) -> Date {
        local_date(self.now, &self.project.tz())
    }

    /// Today in a program's time zone (its own, else the project's).
    pub fn program_today(&self, program: &Program) -> Date {
        let tz =
            program.time_zone.as_deref().and_then(|name| TimeZone::get(name).ok()).unwrap_or_else(|| self.project.tz());
        local_date(self.now, &tz)
    }

    /// Resolves (and upserts) the customer a command names.
    pub async fn customer(&mut self, input: &CustomerInput) -> Result<(Customer, bool), Stop> {
        let project = self.project.id.clone();
        let existing = match &input.reference {
            Some(reference) => self.ws.customer(self.session, &project, reference).await?,
            None => None,
        };
        let missing = existing.is_none();
        if missing && input.when_missing == WhenMissing::Reject {
            return Err(Stop::Reject(not_found_customer(input.reference.as_ref())));
        }
        if missing && matches!(input.reference, Some(CustomerRef::Id(_))) {
            return Err(Stop::Reject(not_found_customer(input.reference.as_ref())));
        }
        let mut patch = input.patch.clone();
        if let Some(CustomerRef::Source(source)) = &input.reference {
            patch.source_id = Some(source.clone());
        }
        let upsert = decide_upsert(&project, existing.as_ref(), &patch, self.now, self.ids)?;
        if upsert.changed {
            self.ws.put_customer(upsert.customer.clone());
        }
        Ok((upsert.customer, upsert.created))
    }
}

pub fn not_found_customer(reference: Option<&CustomerRef>) -> Rejection {
    let text = match reference {
        Some(CustomerRef::Id(id)) => id.to_string(),
        Some(CustomerRef::Source(s)) => s.clone(),
        None => String::new(),
    };
    Rejection::NotFound { resource: Resource::Customer, reference: text }
}

/// Runs one command against the working set.
pub async fn dispatch(ctx: &mut Ctx<'_>, command: &Command) -> Result<Outcome, Stop> {
    match &command.action {
        Action::UpsertCustomer(input) => customers::upsert(ctx, input).await,
        Action::EraseCustomer(reference) => customers::erase(ctx, reference).await,
        Action::UpsertOrder(input) => orders::upsert(ctx, input).await,
        Action::RefundOrder { order, amount } => orders::refund(ctx, order, *amount).await,
        Action::RecordEvents { events, submission } => events::record(ctx, events, *submission).await,
        Action::CreateProgram(draft) => programs::create(ctx, draft).await,
        Action::UpdateProgram { program, draft } => programs::update(ctx, program, draft).await,
        Action::Enrol { program, customer, card_code } => {
            points::enrol(ctx, program, customer, card_code.as_deref()).await
        }
        Action::AdjustPoints(adjustment) => points::adjust(ctx, adjustment).await,
        Action::RunDueJobs { lots_max } => jobs::run_due(ctx, *lots_max).await,
        Action::CreateSegment { name, definition } => segments::create(ctx, name, definition).await,
        Action::UpdateSegment { segment, name, rule } => {
            segments::update(ctx, segment, name.as_deref(), rule.as_deref()).await
        }
        Action::ChangeSegmentMembers { segment, add, remove, unknown } => {
            segments::change_members(ctx, segment, add, remove, *unknown).await
        }
        Action::RecomputeSegment { segment, version, after, limit } => {
            segments::recompute(ctx, segment, *version, after.as_ref(), *limit).await
        }
        Action::CheckKey => Ok(Outcome::KeyFree),
        Action::Settle(outcome) => Ok(outcome.as_ref().clone()),
    }
}

//! The domains of the writer. Each module owns one resource's commands: its `Command` and `Outcome`
//! enums, `names` (what a command loads and locks), `run` (load a snapshot through the working set, decide
//! purely, apply the decision) and its pure `decide` functions. A new domain is a new module plus one
//! line in each of `command::Action::names`, `dispatch` and the API's render.

pub mod customers;
pub mod earning;
pub mod events;
pub mod jobs;
pub mod members;
pub mod orders;
pub mod programs;
pub mod segments;
pub mod wallets;

use crate::command::{Action, Outcome};
use crate::decision::{Decision, Write};
use crate::idgen::UlidIds;
use crate::port::{CounterKey, CounterName, Loads, StoreError};
use crate::project::Project;
use crate::segments::RuleCache;
use crate::working_set::WorkingSet;
use fidelis_core::calendar::local_date;
use fidelis_core::counter::Counter;
use fidelis_core::domain_event::DomainEvent;
use fidelis_core::ids::{ProgramId, ProjectId};
use fidelis_core::program::Program;
use fidelis_core::rejection::Rejection;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Why a command stopped early: a decided rejection (undo, answer 4xx) or a storage failure (retry batch).
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

/// The limits of a project that counters enforce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub programs_per_project_max: i64,
    pub segments_per_project_max: i64,
}

/// Programs per project, by default.
pub const PROGRAMS_PER_PROJECT_MAX: i64 = 100;
/// Segments per project, by default.
pub const SEGMENTS_PER_PROJECT_MAX: i64 = 500;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            programs_per_project_max: PROGRAMS_PER_PROJECT_MAX,
            segments_per_project_max: SEGMENTS_PER_PROJECT_MAX,
        }
    }
}

impl Limits {
    /// The limit a counter is checked against, with the name a rejection reports.
    pub fn of(&self, name: &CounterName) -> (&'static str, Option<i64>) {
        match name {
            CounterName::Programs => ("programs_per_project_max", Some(self.programs_per_project_max)),
            CounterName::Segments => ("segments_per_project_max", Some(self.segments_per_project_max)),
            // A rule's budget is the rule's own; earning loads it with that limit.
            CounterName::RuleBudget(_) => ("earning_rule_budget", None),
        }
    }
}

/// The instant a command is decided at, with the project's time zone: all a decision knows of time.
#[derive(Clone, Debug)]
pub struct At {
    pub now: Timestamp,
    pub time_zone: TimeZone,
}

impl At {
    /// Today in the project's time zone.
    pub fn today(&self) -> Date {
        local_date(self.now, &self.time_zone)
    }

    /// Today in a program's time zone (its own, else the project's).
    pub fn program_today(&self, program: &Program) -> Date {
        let tz = program.time_zone.as_deref().and_then(|name| TimeZone::get(name).ok());
        local_date(self.now, tz.as_ref().unwrap_or(&self.time_zone))
    }

    pub fn program_clock(&self, program: &Program) -> (Timestamp, Date) {
        (self.now, self.program_today(program))
    }
}

/// What one command runs with: the batch's clock reading, id source, loads and working set.
pub struct Ctx<'a> {
    pub at: At,
    pub ids: &'a mut UlidIds,
    pub loads: &'a mut dyn Loads,
    pub ws: &'a mut WorkingSet,
    pub project: &'a Project,
    pub actor: &'a str,
    pub rules: &'a mut RuleCache,
    pub limits: &'a Limits,
    /// Domain events of the command so far, for the effects pipeline.
    pub events: Vec<DomainEvent>,
    /// The command kept segment memberships current itself (a recompute): upkeep has nothing to add.
    pub segments_current: bool,
}

impl Ctx<'_> {
    pub fn project_id(&self) -> &ProjectId {
        &self.project.id
    }

    /// Today for a member of `program`: in the program's time zone when the working set holds it (after
    /// `load_programs`), else in the project's.
    pub fn program_today_of(&self, program: &ProgramId) -> Date {
        self.ws.program(&self.project.id, program).map_or(self.at.today(), |p| self.at.program_today(p))
    }

    /// Applies a decision to the working set and keeps its events for the effects; returns its outcome.
    pub fn apply<O>(&mut self, decision: Decision<O>) -> O {
        for write in decision.writes {
            match write {
                Write::Customer(c) => self.ws.put_customer(c),
                Write::ErasedCustomer { customer, old_source } => {
                    self.ws.erase_customer(customer, old_source.as_deref());
                }
                Write::Order(o) => self.ws.put_order(o),
                Write::Event(e) => self.ws.push_event(e),
                Write::Program(p) => self.ws.put_program(p),
                Write::RuleSet(r) => self.ws.rule_sets.push(r),
                Write::TierMove(t) => self.ws.tier_moves.push(t),
                Write::Membership(m) => self.ws.put_membership(m),
                Write::Posting(p) => self.ws.apply_posting(p),
                Write::Hold(h) => self.ws.put_hold(h),
                Write::Segment(s) => self.ws.put_segment(s),
                Write::SegmentMember { segment, customer, entered } => self.ws.set_member(&segment, &customer, entered),
                Write::Counter { key, counter } => self.ws.put_counter(key, counter),
            }
        }
        self.events.extend(decision.events);
        decision.outcome
    }

    pub fn counter_key(&self, name: CounterName) -> CounterKey {
        CounterKey { project_id: self.project.id.clone(), name }
    }

    /// A project counter, loaded (and on PostgreSQL locked) with its limit.
    pub async fn counter(&mut self, name: CounterName) -> Result<Counter, Stop> {
        let limit = self.limits.of(&name).1;
        let key = self.counter_key(name);
        self.ws.load_counters(self.loads, &[(key.clone(), limit)]).await?;
        Ok(self.ws.counter(&key).unwrap_or(Counter::new(0, limit)))
    }

    /// Reserves `amount` of a project counter in `decision`, or refuses with the counter's limit.
    pub async fn reserve<O>(&mut self, name: CounterName, amount: i64, decision: &mut Decision<O>) -> Result<(), Stop> {
        let counter = self.counter(name.clone()).await?;
        let reserved = counter.reserve(amount).map_err(|e| Counter::rejection(self.limits.of(&name).0, e))?;
        decision.writes.push(Write::Counter { key: self.counter_key(name), counter: reserved });
        Ok(())
    }
}

/// Runs one command against the working set.
pub async fn dispatch(ctx: &mut Ctx<'_>, action: &Action) -> Result<Outcome, Stop> {
    match action {
        Action::Customers(c) => customers::run(ctx, c).await.map(Outcome::Customers),
        Action::Orders(c) => orders::run(ctx, c).await.map(Outcome::Orders),
        Action::Events(c) => events::run(ctx, c).await.map(Outcome::Events),
        Action::Programs(c) => programs::run(ctx, c).await.map(Outcome::Programs),
        Action::Members(c) => members::run(ctx, c).await.map(Outcome::Members),
        Action::Segments(c) => segments::run(ctx, c).await.map(Outcome::Segments),
        Action::Jobs(c) => jobs::run(ctx, c).await.map(Outcome::Jobs),
        Action::CheckKey => Ok(Outcome::KeyFree),
        Action::Settle(outcome) => Ok(outcome.as_ref().clone()),
    }
}

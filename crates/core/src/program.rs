//! Loyalty programs (L1): points currency, join policy, earning rate, expiry policy, kill switch.

use crate::expiry::ExpiryPolicy;
use crate::ids::{ProgramId, ProjectId};
use crate::limits::POINTS_PER_OPERATION_MAX;
use crate::money::{Money, Points};
use crate::rejection::{FieldError, FieldErrorKey};
use jiff::Timestamp;

/// "Every `every` minor units paid → `points` points", once per order when it is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EarningRate {
    pub every: Money,
    pub points: Points,
}

impl EarningRate {
    pub fn new(every: i64, points: i64) -> Result<EarningRate, Vec<FieldError>> {
        let every_money = Money::new(every).filter(|m| m.minor_units() > 0);
        let points_value = Points::positive(points);
        let mut errors = Vec::new();
        if every_money.is_none() {
            errors.push(FieldError::new(
                "/earning/every",
                FieldErrorKey::OutOfRange,
                "must be a positive amount in minor units",
            ));
        }
        if points_value.is_none() {
            errors.push(FieldError::new(
                "/earning/points",
                FieldErrorKey::OutOfRange,
                "must be a positive number of points",
            ));
        }
        match (every_money, points_value) {
            (Some(every), Some(points)) => Ok(EarningRate { every, points }),
            _ => Err(errors),
        }
    }

    /// `floor(total / every) × points`, capped at what one operation may post (a huge order earns the cap,
    /// never nothing).
    pub fn points_for(&self, total: Money) -> i64 {
        let steps = i128::from(total.minor_units() / self.every.minor_units());
        let points = (steps * i128::from(self.points.value())).min(i128::from(POINTS_PER_OPERATION_MAX));
        i64::try_from(points).unwrap_or(POINTS_PER_OPERATION_MAX)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinPolicy {
    /// Customers join through the enrol call.
    Explicit,
    /// A customer's first paid order enrols them (and earns).
    AutoOnFirstOrder,
}

impl JoinPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinPolicy::Explicit => "explicit",
            JoinPolicy::AutoOnFirstOrder => "auto_on_first_order",
        }
    }

    pub fn parse(raw: &str) -> Option<JoinPolicy> {
        match raw {
            "explicit" => Some(JoinPolicy::Explicit),
            "auto_on_first_order" => Some(JoinPolicy::AutoOnFirstOrder),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub id: ProgramId,
    pub project_id: ProjectId,
    pub name: String,
    /// What members call the points ("points", "miles", "stars").
    pub points_label: String,
    /// Dates (expiry, earning days) are computed here; `None` means the project's time zone.
    pub time_zone: Option<String>,
    pub expiry: ExpiryPolicy,
    pub earning: Option<EarningRate>,
    pub join_policy: JoinPolicy,
    /// Clawbacks may take the balance below zero (the shortfall becomes debt repaid by later credits).
    pub allow_negative_balance: bool,
    /// A paused program earns nothing; balances, manual changes and expiry go on.
    pub paused: bool,
    /// The program's earning rules, in the order they were created.
    pub earning_rules: Vec<crate::earning::EarningRule>,
    /// Counts changes of the rules: every entry a rule gives names it.
    pub rules_version: i64,
    /// Ordered levels and how members qualify (part of the rule set: a change is a new version).
    pub tiers: Option<crate::tier::TierConfig>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A validated create or update of a program; `None` leaves a field as it is (on create: the default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgramDraft {
    pub name: Option<String>,
    pub points_label: Option<String>,
    pub time_zone: Option<Option<String>>,
    pub expiry: Option<ExpiryPolicy>,
    pub earning: Option<Option<EarningRate>>,
    pub join_policy: Option<JoinPolicy>,
    pub allow_negative_balance: Option<bool>,
    pub paused: Option<bool>,
    /// `Some(None)` removes the tiers.
    pub tiers: Option<Option<crate::tier::TierConfig>>,
}

impl Program {
    pub fn create(
        id: ProgramId,
        project_id: ProjectId,
        draft: &ProgramDraft,
        now: Timestamp,
    ) -> Result<Program, FieldError> {
        let Some(name) = draft.name.clone() else {
            return Err(FieldError::new("/name", FieldErrorKey::Required, "a program needs a name"));
        };
        let mut program = Program {
            id,
            project_id,
            name,
            points_label: "points".to_owned(),
            time_zone: None,
            expiry: ExpiryPolicy::Never,
            earning: None,
            join_policy: JoinPolicy::Explicit,
            allow_negative_balance: false,
            paused: false,
            earning_rules: Vec::new(),
            rules_version: 0,
            tiers: None,
            created_at: now,
            updated_at: now,
        };
        program.apply(draft, now);
        Ok(program)
    }

    /// Applies an update; changes to expiry apply to points earned afterwards (existing lots keep theirs).
    pub fn apply(&mut self, draft: &ProgramDraft, now: Timestamp) {
        if let Some(name) = &draft.name {
            self.name = name.clone();
        }
        if let Some(label) = &draft.points_label {
            self.points_label = label.clone();
        }
        if let Some(tz) = &draft.time_zone {
            self.time_zone = tz.clone();
        }
        if let Some(expiry) = draft.expiry {
            self.expiry = expiry;
        }
        if let Some(earning) = draft.earning {
            self.earning = earning;
        }
        if let Some(join) = draft.join_policy {
            self.join_policy = join;
        }
        if let Some(allow) = draft.allow_negative_balance {
            self.allow_negative_balance = allow;
        }
        if let Some(paused) = draft.paused {
            self.paused = paused;
        }
        if let Some(tiers) = &draft.tiers
            && *tiers != self.tiers
        {
            self.tiers = tiers.clone();
            self.rules_version += 1;
        }
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_gives_whole_steps_of_the_paid_amount() {
        let rate = EarningRate::new(100, 3).unwrap();
        assert_eq!(rate.points_for(Money::new(12_399).unwrap()), 369);
        assert_eq!(rate.points_for(Money::new(99).unwrap()), 0);
    }

    #[test]
    fn a_rate_needs_a_positive_step_and_positive_points() {
        assert_eq!(EarningRate::new(0, 0).unwrap_err().len(), 2);
        assert!(EarningRate::new(-100, 1).is_err());
    }

    #[test]
    fn earning_beyond_the_operation_cap_earns_the_cap_at_every_size() {
        let rate = EarningRate::new(1, 1_000_000_000).unwrap();
        let cap = crate::limits::POINTS_PER_OPERATION_MAX;
        for total in [9_223_372_036, 9_223_372_037, crate::limits::MONEY_MINOR_UNITS_MAX] {
            assert_eq!(rate.points_for(Money::new(total).unwrap()), cap, "{total}");
        }
        let huge = EarningRate::new(1, cap).unwrap();
        assert_eq!(huge.points_for(Money::new(crate::limits::MONEY_MINOR_UNITS_MAX).unwrap()), cap);
    }
}

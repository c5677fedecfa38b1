//! Creating and changing a rule: a draft of the fields a request gave, checked as a whole (an amount that
//! cannot apply to the trigger, caps on a multiplier, an empty validity window are refused with paths).

use super::{Amount, Caps, EarningRule, RuleStatus, Trigger, Validity};
use crate::expiry::ExpiryPolicy;
use crate::ids::{EarningRuleId, SegmentId};
use crate::rejection::{FieldError, FieldErrorKey};
use jiff::Timestamp;

/// The fields a create or update gave; `None` leaves a field as it is (on create: the default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleDraft {
    pub name: Option<String>,
    pub status: Option<RuleStatus>,
    pub trigger: Option<Trigger>,
    pub amount: Option<Amount>,
    /// `Some(None)` removes the condition.
    pub condition: Option<Option<String>>,
    pub segments: Option<Vec<SegmentId>>,
    pub validity: Option<Validity>,
    pub caps: Option<Caps>,
    pub expiry: Option<Option<ExpiryPolicy>>,
    /// `Some(None)` makes the points spendable at once.
    pub pending_days: Option<Option<u8>>,
}

fn required(path: &str, what: &str) -> FieldError {
    FieldError::new(path, FieldErrorKey::Required, format!("a rule needs {what}"))
}

impl EarningRule {
    /// A new rule from a draft, in rule-set `version`.
    pub fn create(
        id: EarningRuleId,
        draft: &RuleDraft,
        version: i64,
        now: Timestamp,
    ) -> Result<EarningRule, Vec<FieldError>> {
        let mut missing = Vec::new();
        if draft.name.is_none() {
            missing.push(required("/name", "a name"));
        }
        if draft.trigger.is_none() {
            missing.push(required("/trigger", "a trigger"));
        }
        if draft.amount.is_none() {
            missing.push(required("/amount", "an amount"));
        }
        let (Some(name), Some(trigger), Some(amount)) = (&draft.name, &draft.trigger, &draft.amount) else {
            return Err(missing);
        };
        let mut rule = EarningRule {
            id,
            name: name.clone(),
            status: RuleStatus::Active,
            trigger: trigger.clone(),
            amount: amount.clone(),
            condition: None,
            segments: Vec::new(),
            validity: Validity::default(),
            caps: Caps::default(),
            expiry: None,
            pending_days: None,
            version,
            created_at: now,
            updated_at: now,
        };
        rule.apply(draft, version, now)?;
        Ok(rule)
    }

    /// Applies a draft; the result is checked as a whole. An archived rule stays archived.
    pub fn apply(&mut self, draft: &RuleDraft, version: i64, now: Timestamp) -> Result<(), Vec<FieldError>> {
        let mut next = self.clone();
        if self.status == RuleStatus::Archived && draft.status.is_some_and(|s| s != RuleStatus::Archived) {
            let error = FieldError::new("/status", FieldErrorKey::Conflict, "an archived rule cannot come back");
            return Err(vec![error]);
        }
        if let Some(v) = &draft.name {
            next.name = v.clone();
        }
        if let Some(v) = draft.status {
            next.status = v;
        }
        if let Some(v) = &draft.trigger {
            next.trigger = v.clone();
        }
        if let Some(v) = &draft.amount {
            next.amount = v.clone();
        }
        if let Some(v) = &draft.condition {
            next.condition = v.clone();
        }
        if let Some(v) = &draft.segments {
            next.segments = v.clone();
        }
        if let Some(v) = &draft.validity {
            next.validity = v.clone();
        }
        if let Some(v) = draft.caps {
            next.caps = v;
        }
        if let Some(v) = draft.expiry {
            next.expiry = v;
        }
        if let Some(v) = draft.pending_days {
            next.pending_days = v;
        }
        next.check()?;
        next.version = version;
        next.updated_at = now;
        *self = next;
        Ok(())
    }

    /// What no single field can say: the amount fits the trigger, multipliers carry no caps or expiry, the
    /// window is not empty.
    fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let order_only = matches!(self.amount, Amount::Proportional { .. } | Amount::PerItem { .. });
        if order_only && self.trigger != Trigger::OrderPaid {
            errors.push(FieldError::new(
                "/amount/type",
                FieldErrorKey::Conflict,
                "proportional and per-item amounts need the order_paid trigger",
            ));
        }
        let has_metadata = matches!(self.trigger, Trigger::OrderPaid | Trigger::Event { .. });
        if matches!(self.amount, Amount::Metadata { .. }) && !has_metadata {
            errors.push(FieldError::new(
                "/amount/type",
                FieldErrorKey::Conflict,
                "a metadata amount needs an order_paid or event trigger",
            ));
        }
        if self.is_multiplier() && (self.caps != Caps::default() || self.expiry.is_some()) {
            errors.push(FieldError::new(
                "/caps",
                FieldErrorKey::Conflict,
                "a multiplier has no caps or expiry of its own: the rules it multiplies do",
            ));
        }
        if self.pending_days.is_some() && (self.trigger != Trigger::OrderPaid || self.is_multiplier()) {
            errors.push(FieldError::new(
                "/pending_days",
                FieldErrorKey::Conflict,
                "only order rules that give points hold them pending (the return window)",
            ));
        }
        if let (Some(start), Some(end)) = (self.validity.starts_at, self.validity.ends_at)
            && start >= end
        {
            errors.push(FieldError::new("/validity/ends_at", FieldErrorKey::OutOfRange, "must be after starts_at"));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

//! The base amount of a rule, before multipliers and caps; what is missing for the next points, as a hint.

use super::decide::TriggerFacts;
use super::{Amount, AmountBase, PerItem};
use crate::limits::POINTS_PER_OPERATION_MAX;
use crate::metadata::{MetaValue, Metadata};
use crate::money::{Currency, Money, Points};

/// `floor(total / every) × points`, capped at what one operation may post.
pub fn steps(total: i64, every: Money, points: Points) -> i64 {
    let steps = i128::from(total.max(0) / every.minor_units().max(1));
    i64::try_from((steps * i128::from(points.value())).min(i128::from(POINTS_PER_OPERATION_MAX))).unwrap_or(0)
}

/// What the rule gives for these facts; `None` when its amount cannot apply to the trigger (a per-item rule
/// on an event) or the metadata field is not a non-negative number.
pub fn base(amount: &Amount, facts: &TriggerFacts<'_>) -> Option<i64> {
    match amount {
        Amount::Fixed { points } => Some(points.value()),
        Amount::Proportional { every, points, base } => {
            let TriggerFacts::OrderPaid { order } = facts else { return None };
            let total = match base {
                AmountBase::AfterDiscounts => order.lines.total(),
                AmountBase::BeforeDiscounts => order.lines.amount,
            };
            Some(steps(total.minor_units(), *every, *points))
        }
        Amount::PerItem { items, per } => {
            let TriggerFacts::OrderPaid { order } = facts else { return None };
            let matching = order.lines.items.iter().filter(|i| items.matches(i));
            Some(match per {
                PerItem::Quantity { points } => {
                    let units: i64 = matching.map(|i| i.quantity).sum();
                    units.saturating_mul(points.value()).min(POINTS_PER_OPERATION_MAX)
                }
                PerItem::Amount { every, points } => {
                    let total: i64 = matching.map(|i| i.amount.minor_units()).sum();
                    steps(total, *every, *points)
                }
            })
        }
        Amount::Metadata { key, factor } => {
            let metadata = match facts {
                TriggerFacts::OrderPaid { order } => &order.metadata,
                TriggerFacts::Event { metadata, .. } => *metadata,
                TriggerFacts::Enrolled
                | TriggerFacts::Segment { .. }
                | TriggerFacts::Tier { .. }
                | TriggerFacts::Occasion(_) => return None,
            };
            let number = number(metadata, key)?;
            // Thousandths of the number, floored, times the factor's thousandths.
            let product = (number * factor.0 as f64 / 1000.0).floor();
            Some(product.min(POINTS_PER_OPERATION_MAX as f64) as i64)
        }
        Amount::Multiplier { .. } => None,
    }
}

fn number(metadata: &Metadata, key: &str) -> Option<f64> {
    match metadata.get(key)? {
        MetaValue::Num(n) if n.is_finite() && *n >= 0.0 => Some(*n),
        _ => None,
    }
}

/// For a proportional rule that gave less than one more step: "spend 12.00 more to earn 50 more points".
pub fn hint(amount: &Amount, facts: &TriggerFacts<'_>, currency: Currency) -> Option<String> {
    let (total, every, points) = match (amount, facts) {
        (Amount::Proportional { every, points, base }, TriggerFacts::OrderPaid { order }) => {
            let total = match base {
                AmountBase::AfterDiscounts => order.lines.total(),
                AmountBase::BeforeDiscounts => order.lines.amount,
            };
            (total.minor_units(), *every, *points)
        }
        (Amount::PerItem { items, per: PerItem::Amount { every, points } }, TriggerFacts::OrderPaid { order }) => {
            let total = order.lines.items.iter().filter(|i| items.matches(i)).map(|i| i.amount.minor_units()).sum();
            (total, *every, *points)
        }
        _ => return None,
    };
    let missing = every.minor_units() - total.rem_euclid(every.minor_units());
    Some(format!("spend {} more to earn {} more points", currency.format_major(missing), points.value()))
}

//! What a rule reads, so that dynamic segments are re-evaluated only when data they depend on changes and
//! time-dependent rules are re-evaluated on a schedule.

use super::ast::{Call, Cond, CustomerField, Expr, Field};
use crate::ids::{ProgramId, SegmentId};

/// Categories of data a rule reads. `event_names`, `programs` and `segments` are sorted and free of duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Profile fields (`customer.name`, `customer.address.country`, `customer.birthdate`, …).
    pub customer_profile: bool,
    pub customer_metadata: bool,
    /// Order aggregates: spent, orders, average order value, last order date.
    pub order_history: bool,
    /// Counts of custom events (`events(...)`); the names are in `event_names`.
    pub events: bool,
    pub event_names: Vec<String>,
    pub redemptions: bool,
    /// Loyalty balance or tier; the programs named are in `programs` (`balance()` names none: it sums all).
    pub loyalty: bool,
    pub programs: Vec<ProgramId>,
    /// Segment membership; the ids are in `segments`.
    pub segments: Vec<SegmentId>,
    /// The order being decided on (its fields, items and metadata).
    pub current_order: bool,
    /// The custom event being processed (its name and metadata).
    pub current_event: bool,
    /// The result depends on the clock: relative windows, today, hour, day of week, month, birthdays, days since.
    pub clock: bool,
}

impl Reads {
    pub(crate) fn of(cond: &Cond) -> Reads {
        let mut reads = Reads::default();
        reads.cond(cond);
        reads.event_names.sort();
        reads.event_names.dedup();
        reads.segments.sort();
        reads.segments.dedup();
        reads.programs.sort();
        reads.programs.dedup();
        reads
    }

    /// Any data of the customer (profile, metadata, history, events, redemptions, loyalty, segments).
    pub fn reads_customer(&self) -> bool {
        self.customer_profile
            || self.customer_metadata
            || self.order_history
            || self.events
            || self.redemptions
            || self.loyalty
            || !self.segments.is_empty()
    }

    fn cond(&mut self, cond: &Cond) {
        match cond {
            Cond::And(items) | Cond::Or(items) => items.iter().for_each(|c| self.cond(c)),
            Cond::Not(inner) => self.cond(inner),
            Cond::Compare { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            Cond::In { left, .. } | Cond::Between { left, .. } => self.expr(left),
            Cond::Exists(expr) | Cond::Test(expr) => self.expr(expr),
            Cond::Items { predicate, .. } => {
                self.current_order = true;
                self.cond(predicate);
            }
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Literal(_) => {}
            Expr::Field(field) => self.field(field),
            Expr::Call(call) => self.call(call),
            Expr::Count(predicate) => {
                self.current_order = true;
                self.cond(predicate);
            }
        }
    }

    fn field(&mut self, field: &Field) {
        match field {
            Field::Customer(CustomerField::LastOrderDate) => self.order_history = true,
            Field::Customer(_) => self.customer_profile = true,
            Field::CustomerMetadata(_) => self.customer_metadata = true,
            Field::Order(_) | Field::OrderMetadata(_) | Field::Item(_) | Field::ItemMetadata(_) => {
                self.current_order = true
            }
            Field::EventName | Field::EventMetadata(_) => self.current_event = true,
        }
    }

    fn call(&mut self, call: &Call) {
        if call.window().is_some_and(|w| w.is_relative()) {
            self.clock = true;
        }
        match call {
            Call::Spent(_) | Call::Orders(_) | Call::AverageOrderValue(_) => self.order_history = true,
            Call::DaysSinceLastOrder => {
                self.order_history = true;
                self.clock = true;
            }
            Call::Events(name, _) => {
                self.events = true;
                self.event_names.push(name.clone());
            }
            Call::Redemptions(_) => self.redemptions = true,
            Call::DaysSinceJoined => {
                self.customer_profile = true;
                self.clock = true;
            }
            Call::Balance(None) => self.loyalty = true,
            Call::Balance(Some(program)) | Call::Tier(program) => {
                self.loyalty = true;
                self.programs.push(program.clone());
            }
            Call::InSegment(segment) => self.segments.push(segment.clone()),
            Call::IsBirthdayMonth | Call::IsBirthday => {
                self.customer_profile = true;
                self.clock = true;
            }
            Call::Today | Call::DayOfWeek | Call::Hour | Call::Month => self.clock = true,
        }
    }
}

//! The fast evaluator: walks the checked tree against a borrowed context without allocating. Depth is bounded
//! by the checker, arithmetic saturates, and missing data is a value (`Absent`), never a panic.

use super::aggregates::call_value;
use super::ast::{Cond, CustomerField, Expr, Field, ItemField, OrderField, Quantifier};
use super::context::{Context, CustomerFacts};
use super::value::{Value, between, compare, in_list, is_true};
use crate::order::OrderItem;
use jiff::Timestamp;
use jiff::civil::Date;
use std::cell::OnceCell;

/// The local time of `now` in the project's time zone, computed at most once per evaluation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub today: Date,
    pub hour: i8,
}

/// One evaluation: the context and what is derived from it on demand.
pub(crate) struct Env<'v> {
    pub ctx: &'v Context<'v>,
    clock: OnceCell<Clock>,
}

impl<'v> Env<'v> {
    pub fn new(ctx: &'v Context<'v>) -> Env<'v> {
        Env { ctx, clock: OnceCell::new() }
    }

    pub fn clock(&self) -> Clock {
        *self.clock.get_or_init(|| {
            let local = self.ctx.time_zone.to_datetime(self.ctx.now);
            Clock { today: local.date(), hour: local.hour() }
        })
    }

    /// The project-local date of an instant.
    pub fn local_date(&self, at: Timestamp) -> Date {
        self.ctx.time_zone.to_datetime(at).date()
    }

    pub fn customer(&self) -> Option<CustomerFacts<'v>> {
        self.ctx.customer
    }
}

pub(crate) fn eval_cond<'v>(cond: &'v Cond, env: &Env<'v>, item: Option<&'v OrderItem>) -> bool {
    match cond {
        Cond::And(items) => items.iter().all(|c| eval_cond(c, env, item)),
        Cond::Or(items) => items.iter().any(|c| eval_cond(c, env, item)),
        Cond::Not(inner) => !eval_cond(inner, env, item),
        Cond::Compare { op, left, right } => compare(*op, value(left, env, item), value(right, env, item)),
        Cond::In { left, list } => in_list(value(left, env, item), list),
        Cond::Between { left, low, high } => between(value(left, env, item), low, high),
        Cond::Exists(expr) => value(expr, env, item) != Value::Absent,
        Cond::Items { quantifier, predicate } => match env.ctx.order {
            None => false,
            Some(order) => {
                let mut items = order.lines.items.iter();
                let mut matches = |i: &'v OrderItem| eval_cond(predicate, env, Some(i));
                match quantifier {
                    Quantifier::Any => items.any(matches),
                    Quantifier::Every => items.all(matches),
                    Quantifier::None => !items.any(&mut matches),
                }
            }
        },
        Cond::Test(expr) => is_true(value(expr, env, item)),
    }
}

/// Number of the order's items matching `predicate`; `None` without an order.
pub(crate) fn count_items<'v>(predicate: &'v Cond, env: &Env<'v>) -> Option<i64> {
    let order = env.ctx.order?;
    let count = order.lines.items.iter().filter(|i| eval_cond(predicate, env, Some(i))).count();
    Some(i64::try_from(count).unwrap_or(i64::MAX))
}

pub(crate) fn value<'v>(expr: &'v Expr, env: &Env<'v>, item: Option<&'v OrderItem>) -> Value<'v> {
    match expr {
        Expr::Literal(literal) => Value::from_literal(literal),
        Expr::Field(field) => field_value(field, env, item),
        Expr::Call(call) => call_value(call, env),
        Expr::Count(predicate) => count_items(predicate, env).map_or(Value::Absent, Value::Int),
    }
}

fn field_value<'v>(field: &'v Field, env: &Env<'v>, item: Option<&'v OrderItem>) -> Value<'v> {
    let ctx = env.ctx;
    match field {
        Field::Customer(f) => env.customer().map_or(Value::Absent, |c| customer_field(*f, c, env)),
        Field::CustomerMetadata(key) => {
            env.customer().map_or(Value::Absent, |c| Value::from_meta(c.customer.metadata.get(key)))
        }
        Field::Order(f) => ctx.order.map_or(Value::Absent, |o| order_field(*f, o)),
        Field::OrderMetadata(key) => ctx.order.map_or(Value::Absent, |o| Value::from_meta(o.metadata.get(key))),
        Field::Item(f) => item.map_or(Value::Absent, |i| item_field(*f, i)),
        Field::ItemMetadata(key) => item.map_or(Value::Absent, |i| Value::from_meta(i.metadata.get(key))),
        Field::EventName => ctx.event.map_or(Value::Absent, |e| Value::Str(e.name)),
        Field::EventMetadata(key) => ctx.event.map_or(Value::Absent, |e| Value::from_meta(e.metadata.get(key))),
    }
}

fn customer_field<'v>(field: CustomerField, facts: CustomerFacts<'v>, env: &Env<'v>) -> Value<'v> {
    let customer = facts.customer;
    let profile = &customer.profile;
    let address = &profile.address;
    let text = |t: &'v Option<String>| Value::from_text(t.as_deref());
    match field {
        CustomerField::SourceId => text(&customer.source_id),
        CustomerField::Name => text(&profile.name),
        CustomerField::Email => text(&profile.email),
        CustomerField::Phone => text(&profile.phone),
        CustomerField::Birthdate => profile.birthdate.map_or(Value::Absent, Value::Date),
        CustomerField::Timezone => text(&profile.timezone),
        CustomerField::Line1 => text(&address.line_1),
        CustomerField::Line2 => text(&address.line_2),
        CustomerField::City => text(&address.city),
        CustomerField::State => text(&address.state),
        CustomerField::PostalCode => text(&address.postal_code),
        CustomerField::Country => text(&address.country),
        CustomerField::CreatedAt => Value::Date(env.local_date(customer.created_at)),
        CustomerField::LastOrderDate => {
            customer.stats.last_order_at.map_or(Value::Absent, |at| Value::Date(env.local_date(at)))
        }
    }
}

fn order_field(field: OrderField, order: &crate::order::Order) -> Value<'_> {
    let lines = &order.lines;
    match field {
        OrderField::Amount => Value::Money(lines.amount.minor_units()),
        OrderField::DiscountAmount => Value::Money(lines.discount_amount.minor_units()),
        OrderField::Total => Value::Money(lines.total().minor_units()),
        OrderField::ItemsCount => Value::Int(i64::try_from(lines.items.len()).unwrap_or(i64::MAX)),
        OrderField::ItemsQuantity => {
            Value::Int(lines.items.iter().fold(0_i64, |sum, i| sum.saturating_add(i.quantity)))
        }
    }
}

fn item_field(field: ItemField, item: &OrderItem) -> Value<'_> {
    match field {
        ItemField::ProductId => Value::from_text(item.product_id.as_deref()),
        ItemField::SkuId => Value::from_text(item.sku_id.as_deref()),
        ItemField::Collections => Value::Strings(&item.collections),
        ItemField::Price => item.price.map_or(Value::Absent, |p| Value::Money(p.minor_units())),
        ItemField::Quantity => Value::Int(item.quantity),
        ItemField::Amount => Value::Money(item.amount.minor_units()),
    }
}

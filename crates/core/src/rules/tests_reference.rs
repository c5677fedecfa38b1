//! A deliberately naive reference interpreter for property tests: owned values, linear scans, the stats
//! module's own window sums, and jiff's zoned arithmetic instead of the evaluator's shortcuts.

use super::ast::{
    Call, CompareOp, Cond, CustomerField, Expr, Field, ItemField, Literal, OrderField, Quantifier, Weekday, Window,
};
use super::test_support::World;
use crate::calendar::{Period, local_date};
use crate::customer::Customer;
use crate::metadata::MetaValue;
use crate::order::OrderItem;
use jiff::Span;
use jiff::civil::Date;

#[derive(Clone, Debug, PartialEq)]
enum V {
    Missing,
    Bool(bool),
    Int(i64),
    Num(f64),
    Money(i64),
    Text(String),
    Date(Date),
    Day(Weekday),
    List(Vec<V>),
}

pub fn reference(cond: &Cond, world: &World) -> bool {
    holds(cond, world, None)
}

/// Whether the evaluator's value of `expr` (outside any item) equals the reference's; the two on failure.
pub fn same_value(expr: &Expr, world: &World) -> Result<(), String> {
    let expected = value(expr, world, None);
    let found = world.with_context(|ctx| fast(super::eval::value(expr, &super::eval::Env::new(ctx), None)));
    if found == expected { Ok(()) } else { Err(format!("evaluator {found:?}, reference {expected:?}")) }
}

fn fast(v: super::value::Value) -> V {
    use super::value::Value;
    match v {
        Value::Absent => V::Missing,
        Value::Bool(b) => V::Bool(b),
        Value::Int(i) => V::Int(i),
        Value::Number(x) => V::Num(x),
        Value::Money(m) => V::Money(m),
        Value::Str(s) => V::Text(s.to_owned()),
        Value::Date(d) => V::Date(d),
        Value::Weekday(d) => V::Day(d),
        Value::Strings(list) => V::List(list.iter().cloned().map(V::Text).collect()),
        Value::List(items) => V::List(items.iter().map(|m| meta(Some(m))).collect()),
    }
}

fn holds(cond: &Cond, w: &World, item: Option<&OrderItem>) -> bool {
    match cond {
        Cond::And(items) => items.iter().all(|c| holds(c, w, item)),
        Cond::Or(items) => items.iter().any(|c| holds(c, w, item)),
        Cond::Not(inner) => !holds(inner, w, item),
        Cond::Compare { op, left, right } => compare(*op, &value(left, w, item), &value(right, w, item)),
        Cond::In { left, list } => {
            let v = value(left, w, item);
            list.iter().any(|l| compare(CompareOp::Eq, &v, &lit(l)))
        }
        Cond::Between { left, low, high } => {
            let v = value(left, w, item);
            compare(CompareOp::Ge, &v, &lit(low)) && compare(CompareOp::Le, &v, &lit(high))
        }
        Cond::Exists(e) => value(e, w, item) != V::Missing,
        Cond::Items { quantifier, predicate } => match &w.order {
            None => false,
            Some(order) => {
                let results: Vec<bool> = order.lines.items.iter().map(|i| holds(predicate, w, Some(i))).collect();
                match quantifier {
                    Quantifier::Any => results.contains(&true),
                    Quantifier::Every => !results.contains(&false),
                    Quantifier::None => !results.contains(&true),
                }
            }
        },
        Cond::Test(e) => value(e, w, item) == V::Bool(true),
    }
}

fn compare(op: CompareOp, a: &V, b: &V) -> bool {
    use std::cmp::Ordering;
    let order: Option<Ordering> = match (a, b) {
        (V::Int(x), V::Int(y)) | (V::Money(x), V::Money(y)) => Some(x.cmp(y)),
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        _ => None,
    };
    let same_kind = std::mem::discriminant(a) == std::mem::discriminant(b) && !matches!(a, V::Missing | V::List(_));
    match op {
        CompareOp::Eq => same_kind && a == b,
        CompareOp::Ne => same_kind && a != b,
        CompareOp::Lt => order == Some(Ordering::Less),
        CompareOp::Le => order.is_some_and(|o| o != Ordering::Greater),
        CompareOp::Gt => order == Some(Ordering::Greater),
        CompareOp::Ge => order.is_some_and(|o| o != Ordering::Less),
        CompareOp::Contains => match (a, b) {
            (V::Text(s), V::Text(t)) => s.contains(t.as_str()),
            (V::List(items), b) => items.iter().any(|i| compare(CompareOp::Eq, i, b)),
            _ => false,
        },
        CompareOp::StartsWith => {
            matches!((a, b), (V::Text(s), V::Text(t)) if s.starts_with(t.as_str()))
        }
    }
}

fn lit(l: &Literal) -> V {
    match l {
        Literal::Bool(b) => V::Bool(*b),
        Literal::Int(i) => V::Int(*i),
        Literal::Number(x) => V::Num(*x),
        Literal::Money(m) => V::Money(m.minor_units()),
        Literal::String(s) => V::Text(s.clone()),
        Literal::Date(d) => V::Date(*d),
        Literal::Weekday(d) => V::Day(*d),
    }
}

fn meta(m: Option<&MetaValue>) -> V {
    match m {
        None => V::Missing,
        Some(MetaValue::Str(s)) => V::Text(s.clone()),
        Some(MetaValue::Num(x)) => V::Num(*x),
        Some(MetaValue::Bool(b)) => V::Bool(*b),
        Some(MetaValue::Date(d)) => V::Date(*d),
        Some(MetaValue::List(items)) => V::List(items.iter().map(|i| meta(Some(i))).collect()),
    }
}

fn text(t: &Option<String>) -> V {
    t.clone().map_or(V::Missing, V::Text)
}

fn today(w: &World) -> Date {
    local_date(w.now, &w.time_zone)
}

fn value(e: &Expr, w: &World, item: Option<&OrderItem>) -> V {
    match e {
        Expr::Literal(l) => lit(l),
        Expr::Field(f) => field(f, w, item),
        Expr::Call(c) => call(c, w),
        Expr::Count(p) => match &w.order {
            None => V::Missing,
            Some(o) => V::Int(o.lines.items.iter().filter(|i| holds(p, w, Some(i))).count() as i64),
        },
    }
}

fn field(f: &Field, w: &World, item: Option<&OrderItem>) -> V {
    let local = |t: jiff::Timestamp| V::Date(local_date(t, &w.time_zone));
    match (f, &w.customer, &w.order, item, &w.event) {
        (Field::Customer(cf), Some(c), ..) => match cf {
            CustomerField::SourceId => text(&c.source_id),
            CustomerField::Name => text(&c.profile.name),
            CustomerField::Email => text(&c.profile.email),
            CustomerField::Phone => text(&c.profile.phone),
            CustomerField::Birthdate => c.profile.birthdate.map_or(V::Missing, V::Date),
            CustomerField::Timezone => text(&c.profile.timezone),
            CustomerField::Line1 => text(&c.profile.address.line_1),
            CustomerField::Line2 => text(&c.profile.address.line_2),
            CustomerField::City => text(&c.profile.address.city),
            CustomerField::State => text(&c.profile.address.state),
            CustomerField::PostalCode => text(&c.profile.address.postal_code),
            CustomerField::Country => text(&c.profile.address.country),
            CustomerField::CreatedAt => local(c.created_at),
            CustomerField::LastOrderDate => c.stats.last_order_at.map_or(V::Missing, local),
        },
        (Field::CustomerMetadata(k), Some(c), ..) => meta(c.metadata.get(k)),
        (Field::Order(of), _, Some(o), ..) => match of {
            OrderField::Amount => V::Money(o.lines.amount.minor_units()),
            OrderField::DiscountAmount => V::Money(o.lines.discount_amount.minor_units()),
            OrderField::Total => V::Money(o.lines.amount.minor_units() - o.lines.discount_amount.minor_units()),
            OrderField::ItemsCount => V::Int(o.lines.items.len() as i64),
            OrderField::ItemsQuantity => V::Int(o.lines.items.iter().map(|i| i.quantity).sum()),
        },
        (Field::OrderMetadata(k), _, Some(o), ..) => meta(o.metadata.get(k)),
        (Field::Item(f), _, _, Some(i), _) => match f {
            ItemField::ProductId => text(&i.product_id),
            ItemField::SkuId => text(&i.sku_id),
            ItemField::Collections => V::List(i.collections.iter().cloned().map(V::Text).collect()),
            ItemField::Price => i.price.map_or(V::Missing, |p| V::Money(p.minor_units())),
            ItemField::Quantity => V::Int(i.quantity),
            ItemField::Amount => V::Money(i.amount.minor_units()),
        },
        (Field::ItemMetadata(k), _, _, Some(i), _) => meta(i.metadata.get(k)),
        (Field::EventName, .., Some((name, _))) => V::Text(name.clone()),
        (Field::EventMetadata(k), .., Some((_, m))) => meta(m.get(k)),
        _ => V::Missing,
    }
}

/// The first and last day of a window, computed with calendar spans.
fn range(window: Window, today: Date) -> (Date, Date) {
    let months = |p: Period| match p {
        Period::Month => 1,
        Period::Quarter => 3,
        Period::HalfYear => 6,
        Period::Year => 12,
    };
    let start = |p: Period, d: Date| {
        let m = months(p);
        Date::new(d.year(), ((d.month() - 1) / m) * m + 1, 1).expect("a month start")
    };
    match window {
        Window::LastDays(n) => (today.checked_sub(Span::new().days(i64::from(n) - 1)).expect("in range"), today),
        Window::ThisCalendar(p) => (start(p, today), today),
        Window::LastCalendar(p) => {
            let this = start(p, today);
            let previous = this.checked_sub(Span::new().months(months(p))).expect("in range");
            (previous, this.checked_sub(Span::new().days(1)).expect("in range"))
        }
        Window::Lifetime => (Date::MIN, Date::MAX),
    }
}

fn call(c: &Call, w: &World) -> V {
    let now = w.now.to_zoned(w.time_zone.clone());
    match c {
        Call::Today => return V::Date(today(w)),
        Call::DayOfWeek => {
            return V::Day(Weekday::ALL[now.weekday().to_monday_zero_offset() as usize]);
        }
        Call::Hour => return V::Int(i64::from(now.hour())),
        Call::Month => return V::Int(i64::from(now.month())),
        _ => {}
    }
    let Some(customer) = &w.customer else {
        return V::Missing;
    };
    customer_call(c, customer, w)
}

fn customer_call(c: &Call, customer: &Customer, w: &World) -> V {
    let stats = &customer.stats;
    let today = today(w);
    let spent_orders = |window: Window| match window {
        Window::Lifetime => (stats.total_spent, stats.orders_count),
        _ => {
            let (from, to) = range(window, today);
            stats.window(from, to)
        }
    };
    let days_since =
        |t: jiff::Timestamp| V::Int(local_date(t, &w.time_zone).until(today).expect("days").get_days().into());
    let membership = |p: &crate::ids::ProgramId| w.loyalty.iter().find(|(id, _, _)| id == p);
    match c {
        Call::Spent(window) => V::Money(spent_orders(*window).0),
        Call::Orders(window) => V::Int(spent_orders(*window).1),
        Call::AverageOrderValue(window) => match spent_orders(*window) {
            (_, 0) => V::Missing,
            (spent, orders) => V::Money(spent / orders),
        },
        Call::Events(name, window) => {
            let (from, to) = range(*window, today);
            V::Int(stats.events_in(name, from, to))
        }
        Call::Redemptions(window) => {
            let (from, to) = range(*window, today);
            V::Int(stats.redemptions_in(from, to))
        }
        Call::DaysSinceLastOrder => stats.last_order_at.map_or(V::Missing, days_since),
        Call::DaysSinceJoined => days_since(customer.created_at),
        Call::Balance(None) => V::Int(w.loyalty.iter().map(|(_, b, _)| b).sum()),
        Call::Balance(Some(p)) => membership(p).map_or(V::Missing, |(_, b, _)| V::Int(*b)),
        Call::Tier(p) => membership(p).and_then(|(_, _, t)| t.clone()).map_or(V::Missing, V::Text),
        Call::InSegment(s) => V::Bool(w.segments.contains(s)),
        Call::IsBirthdayMonth => customer.profile.birthdate.map_or(V::Missing, |b| V::Bool(b.month() == today.month())),
        Call::IsBirthday => customer.profile.birthdate.map_or(V::Missing, |b| {
            let feb_28_in_common_year = !today.in_leap_year() && (today.month(), today.day()) == (2, 28);
            V::Bool(
                (b.month(), b.day()) == (today.month(), today.day())
                    || ((b.month(), b.day()) == (2, 29) && feb_28_in_common_year),
            )
        }),
        Call::Today | Call::DayOfWeek | Call::Hour | Call::Month => V::Missing,
    }
}

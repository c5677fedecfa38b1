//! Proptest strategies: well-typed canonical rules (EUR) and random worlds to evaluate them in.

use super::ast::{
    Call, CompareOp, Cond, CustomerField, Expr, Field, ItemField, Literal, OrderField, Quantifier, Weekday, Window,
    canonical_list,
};
use super::test_support::{PROG_X, PROG_Y, SEG_A, SEG_B, World, customer, eur, item, order};
use crate::calendar::Period;
use crate::customer::{Address, Profile};
use crate::ids::{ProgramId, SegmentId};
use crate::metadata::{MetaValue, Metadata};
use crate::money::Money;
use crate::stats::{CustomerStats, DayActivity, DayCount, EventDay};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use proptest::prelude::*;
use proptest::sample::select;

/// Whether item fields are available (inside a quantifier).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scope {
    Rule,
    Items,
}

/// What kind of literal an operand compares with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Money,
    Int,
    Text,
    Date,
    Weekday,
    Bool,
    Texts,
    Meta,
}

const TEXTS: [&str; 9] = ["", "DE", "AT", "Ann", "shoes", "a", "review", "Gold", "é\"\\\n"];
const META_KEYS: [&str; 5] = ["vip", "score", "tags", "a b", "x.y"];
const EVENT_NAMES: [&str; 2] = ["review", "login"];
const BASE_DAY: i64 = 20_000; // days after 1970-01-01: 2024-10-04

pub fn day(offset: i64) -> Date {
    Date::new(1970, 1, 1)
        .ok()
        .and_then(|d| d.checked_add(Span::new().days(BASE_DAY + offset)).ok())
        .unwrap_or(Date::MIN)
}

fn segment(raw: &str) -> SegmentId {
    SegmentId::parse(raw).unwrap_or_else(|| panic!("{raw}"))
}

fn program(raw: &str) -> ProgramId {
    ProgramId::parse(raw).unwrap_or_else(|| panic!("{raw}"))
}

fn window() -> impl Strategy<Value = Window> {
    let period = select(vec![Period::Month, Period::Quarter, Period::HalfYear, Period::Year]);
    prop_oneof![
        2 => (1_u16..=10).prop_map(Window::LastDays),
        1 => (1_u16..=730).prop_map(Window::LastDays),
        1 => period.clone().prop_map(Window::ThisCalendar),
        1 => period.prop_map(Window::LastCalendar),
        1 => Just(Window::Lifetime),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => select(TEXTS.to_vec()).prop_map(str::to_owned), 1 => "\\PC{0,6}"]
}

fn date() -> impl Strategy<Value = Date> {
    prop_oneof![(-900_i64..60).prop_map(day), (-14_000_i64..-8_000).prop_map(day)]
}

fn meta_key() -> impl Strategy<Value = String> {
    select(META_KEYS.to_vec()).prop_map(str::to_owned)
}

/// Operands of one kind, in one scope.
pub fn operands(scope: Scope) -> BoxedStrategy<(Expr, Kind)> {
    let f = |field: Field, kind: Kind| Just((Expr::Field(field), kind));
    let c = |call: Call, kind: Kind| (Expr::Call(call), kind);
    let mut all: Vec<BoxedStrategy<(Expr, Kind)>> = vec![
        f(Field::Order(OrderField::Amount), Kind::Money).boxed(),
        f(Field::Order(OrderField::Total), Kind::Money).boxed(),
        f(Field::Order(OrderField::DiscountAmount), Kind::Money).boxed(),
        f(Field::Order(OrderField::ItemsCount), Kind::Int).boxed(),
        f(Field::Order(OrderField::ItemsQuantity), Kind::Int).boxed(),
        f(Field::Customer(CustomerField::Name), Kind::Text).boxed(),
        f(Field::Customer(CustomerField::Country), Kind::Text).boxed(),
        f(Field::Customer(CustomerField::Email), Kind::Text).boxed(),
        f(Field::Customer(CustomerField::Birthdate), Kind::Date).boxed(),
        f(Field::Customer(CustomerField::CreatedAt), Kind::Date).boxed(),
        f(Field::Customer(CustomerField::LastOrderDate), Kind::Date).boxed(),
        f(Field::EventName, Kind::Text).boxed(),
        meta_key().prop_map(|k| (Expr::Field(Field::CustomerMetadata(k)), Kind::Meta)).boxed(),
        meta_key().prop_map(|k| (Expr::Field(Field::EventMetadata(k)), Kind::Meta)).boxed(),
        window().prop_map(move |w| c(Call::Spent(w), Kind::Money)).boxed(),
        window().prop_map(move |w| c(Call::AverageOrderValue(w), Kind::Money)).boxed(),
        window().prop_map(move |w| c(Call::Orders(w), Kind::Int)).boxed(),
        window().prop_map(move |w| c(Call::Redemptions(w), Kind::Int)).boxed(),
        (select(EVENT_NAMES.to_vec()), window())
            .prop_map(move |(n, w)| c(Call::Events(n.to_owned(), w), Kind::Int))
            .boxed(),
        select(vec![Call::DaysSinceLastOrder, Call::DaysSinceJoined, Call::Hour, Call::Month])
            .prop_map(move |call| c(call, Kind::Int))
            .boxed(),
        select(vec![None, Some(PROG_X), Some(PROG_Y)])
            .prop_map(move |p| c(Call::Balance(p.map(program)), Kind::Int))
            .boxed(),
        select(vec![PROG_X, PROG_Y]).prop_map(move |p| c(Call::Tier(program(p)), Kind::Text)).boxed(),
        select(vec![SEG_A, SEG_B]).prop_map(move |s| c(Call::InSegment(segment(s)), Kind::Bool)).boxed(),
        select(vec![Call::IsBirthday, Call::IsBirthdayMonth]).prop_map(move |call| c(call, Kind::Bool)).boxed(),
        Just(c(Call::Today, Kind::Date)).boxed(),
        Just(c(Call::DayOfWeek, Kind::Weekday)).boxed(),
    ];
    if scope == Scope::Items {
        all.extend([
            f(Field::Item(ItemField::Price), Kind::Money).boxed(),
            f(Field::Item(ItemField::Amount), Kind::Money).boxed(),
            f(Field::Item(ItemField::Quantity), Kind::Int).boxed(),
            f(Field::Item(ItemField::SkuId), Kind::Text).boxed(),
            f(Field::Item(ItemField::Collections), Kind::Texts).boxed(),
            meta_key().prop_map(|k| (Expr::Field(Field::ItemMetadata(k)), Kind::Meta)).boxed(),
        ]);
    } else {
        let count = item_condition().prop_map(|p| (Expr::Count(Box::new(p)), Kind::Int));
        all.push(count.boxed());
    }
    proptest::strategy::Union::new(all).boxed()
}

/// A literal for an operand of `kind` (metadata: any scalar).
fn literal(kind: Kind) -> BoxedStrategy<Literal> {
    match kind {
        Kind::Money => {
            round_or_any(100, 30, 12_000).prop_map(|m| Literal::Money(Money::new(m).unwrap_or(Money::ZERO))).boxed()
        }
        Kind::Int => prop_oneof![3 => -1_i64..8, 1 => -5_i64..40].prop_map(Literal::Int).boxed(),
        Kind::Text | Kind::Texts => text().prop_map(Literal::String).boxed(),
        Kind::Date => date().prop_map(Literal::Date).boxed(),
        Kind::Weekday => select(Weekday::ALL.to_vec()).prop_map(Literal::Weekday).boxed(),
        Kind::Bool => any::<bool>().prop_map(Literal::Bool).boxed(),
        Kind::Meta => prop_oneof![
            (-40_i32..40).prop_map(|n| Literal::Number(f64::from(n) / 4.0 + 0.0)),
            text().prop_map(Literal::String),
            any::<bool>().prop_map(Literal::Bool),
            date().prop_map(Literal::Date),
        ]
        .boxed(),
    }
}

/// Mostly round amounts (`step × 0..count`, so that sums meet thresholds exactly), sometimes any in `0..max`.
fn round_or_any(step: i64, count: i64, max: i64) -> impl Strategy<Value = i64> + Clone {
    prop_oneof![3 => (0..count).prop_map(move |k| k * step), 1 => 0..max]
}

fn ordered(kind: Kind) -> bool {
    matches!(kind, Kind::Money | Kind::Int | Kind::Date | Kind::Meta)
}

/// A leaf condition about one operand.
fn leaf_about(expr: Expr, kind: Kind) -> BoxedStrategy<Cond> {
    let e = expr.clone();
    let exists = Just(Cond::Exists(expr.clone())).boxed();
    let ops: Vec<CompareOp> = CompareOp::ALL
        .into_iter()
        .filter(|op| match kind {
            Kind::Texts => *op == CompareOp::Contains,
            Kind::Text | Kind::Meta => !op.is_ordering() || kind == Kind::Meta,
            Kind::Money | Kind::Int | Kind::Date => !matches!(op, CompareOp::Contains | CompareOp::StartsWith),
            Kind::Weekday | Kind::Bool => matches!(op, CompareOp::Eq | CompareOp::Ne),
        })
        .collect();
    let compare = (select(ops), literal(kind), any::<bool>())
        .prop_filter_map("a valid comparison", move |(op, lit, flip)| {
            let meta_ordering = kind == Kind::Meta && op.is_ordering();
            if meta_ordering && !matches!(lit, Literal::Number(_) | Literal::Date(_)) {
                return None;
            }
            if op == CompareOp::StartsWith && !matches!(lit, Literal::String(_)) {
                return None;
            }
            let (left, right) = (e.clone(), Expr::Literal(lit));
            let swap = flip && !matches!(op, CompareOp::Contains | CompareOp::StartsWith);
            Some(if swap { Cond::Compare { op, left: right, right: left } } else { Cond::Compare { op, left, right } })
        })
        .boxed();
    let mut options = vec![(1, exists), (4, compare)];
    if kind != Kind::Texts {
        let e = expr.clone();
        let list = literal(kind).prop_flat_map(move |first| {
            let same = std::mem::discriminant(&first);
            let rest = proptest::collection::vec(literal(kind), 0..4);
            (Just(first), rest).prop_map(move |(first, rest)| {
                let items =
                    std::iter::once(first).chain(rest.into_iter().filter(|l| std::mem::discriminant(l) == same));
                canonical_list(items.collect())
            })
        });
        options.push((1, list.prop_map(move |list| Cond::In { left: e.clone(), list }).boxed()));
    }
    if ordered(kind) {
        let e = expr.clone();
        let bounds = (literal(kind), literal(kind)).prop_filter_map("ordered bounds of one type", |(a, b)| {
            let numeric = |l: &Literal| !matches!(l, Literal::String(_) | Literal::Bool(_));
            let same = std::mem::discriminant(&a) == std::mem::discriminant(&b) && numeric(&a);
            same.then(|| if a.cmp_canonical(&b).is_gt() { (b, a) } else { (a, b) })
        });
        options.push((1, bounds.prop_map(move |(low, high)| Cond::Between { left: e.clone(), low, high }).boxed()));
    }
    if matches!(kind, Kind::Bool | Kind::Meta) {
        options.push((2, Just(Cond::Test(expr)).boxed()));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

/// A single condition (no `and`/`or`/`not` around it): the most sensitive probe of the evaluator.
pub fn leaf(scope: Scope) -> BoxedStrategy<Cond> {
    let about = operands(scope).prop_flat_map(|(expr, kind)| leaf_about(expr, kind));
    let constant = any::<bool>().prop_map(|b| Cond::Test(Expr::Literal(Literal::Bool(b))));
    let money_pair = select(vec![
        (Field::Order(OrderField::Amount), Field::Order(OrderField::DiscountAmount)),
        (Field::Order(OrderField::Total), Field::Order(OrderField::Amount)),
    ])
    .prop_map(|(a, b)| Cond::Compare { op: CompareOp::Gt, left: Expr::Field(a), right: Expr::Field(b) });
    let mut options = vec![(30, about.boxed()), (1, constant.boxed()), (1, money_pair.boxed())];
    if scope == Scope::Rule {
        let items = (select(Quantifier::ALL.to_vec()), item_condition())
            .prop_map(|(quantifier, p)| Cond::Items { quantifier, predicate: Box::new(p) });
        options.push((4, items.boxed()));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

fn tree(leaves: BoxedStrategy<Cond>, depth: u32, size: u32) -> BoxedStrategy<Cond> {
    leaves
        .prop_recursive(depth, size, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Cond::And),
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Cond::Or),
                inner.prop_map(|c| Cond::Not(Box::new(c))),
            ]
        })
        .boxed()
}

/// A predicate over one item (may read the rest of the context too).
pub fn item_condition() -> BoxedStrategy<Cond> {
    tree(leaf(Scope::Items), 2, 6)
}

/// A well-typed rule in canonical form.
pub fn condition() -> BoxedStrategy<Cond> {
    tree(leaf(Scope::Rule), 4, 24)
}

fn meta_value() -> impl Strategy<Value = MetaValue> {
    let scalar = prop_oneof![
        (-40_i32..40).prop_map(|n| MetaValue::Num(f64::from(n) / 4.0)),
        Just(MetaValue::Num(-0.0)),
        text().prop_map(MetaValue::Str),
        any::<bool>().prop_map(MetaValue::Bool),
        date().prop_map(MetaValue::Date),
    ];
    prop_oneof![4 => scalar.clone(), 1 => proptest::collection::vec(scalar, 0..3).prop_map(MetaValue::List)]
}

fn metadata() -> impl Strategy<Value = Metadata> {
    proptest::collection::vec((meta_key(), meta_value()), 0..4).prop_map(|pairs| Metadata(pairs.into_iter().collect()))
}

fn stats() -> impl Strategy<Value = CustomerStats> {
    // Dense near today (window edges matter), sparse back to the kept horizon.
    let offset = || prop_oneof![3 => -12_i64..3, 1 => -800_i64..3];
    let days = proptest::collection::btree_map(offset(), (round_or_any(100, 10, 5_000), 0_i64..3), 0..16);
    let events = proptest::collection::btree_map((select(EVENT_NAMES.to_vec()), offset()), 1_i64..3, 0..8);
    let redemptions = proptest::collection::btree_map(offset(), 1_i64..3, 0..6);
    let last_order = proptest::option::of(-900_i64..2);
    (days, events, redemptions, last_order, 0_i64..5, round_or_any(100, 20, 100_000)).prop_map(
        |(days, events, redemptions, last, extra_orders, extra_spent)| {
            let days: Vec<DayActivity> =
                days.into_iter().map(|(d, (spent, orders))| DayActivity { day: day(d), spent, orders }).collect();
            CustomerStats {
                orders_count: days.iter().map(|d| d.orders).sum::<i64>() + extra_orders,
                total_spent: days.iter().map(|d| d.spent).sum::<i64>() + extra_spent,
                first_order_at: None,
                last_order_at: last.map(|d| timestamp(d, 13 * 3600)),
                days,
                event_days: events
                    .into_iter()
                    .map(|((name, d), count)| EventDay { name: name.to_owned(), day: day(d), count })
                    .collect(),
                redemption_days: redemptions.into_iter().map(|(d, count)| DayCount { day: day(d), count }).collect(),
            }
        },
    )
}

/// An instant `seconds` after midnight UTC of `day(offset)`.
fn timestamp(offset: i64, seconds: i64) -> Timestamp {
    Timestamp::from_second((BASE_DAY + offset) * 86_400 + seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn profile() -> impl Strategy<Value = Profile> {
    let maybe_text = || proptest::option::of(text());
    (maybe_text(), maybe_text(), maybe_text(), proptest::option::of(date())).prop_map(
        |(name, email, country, birthdate)| Profile {
            name,
            email,
            birthdate,
            address: Address { country, ..Address::default() },
            ..Profile::default()
        },
    )
}

fn items() -> impl Strategy<Value = Vec<crate::order::OrderItem>> {
    let one = (
        proptest::option::of(select(vec!["s1", "s2"])),
        proptest::collection::vec(text(), 0..3),
        1_i64..4,
        proptest::option::of(0_i64..5_000),
        0_i64..9_000,
        metadata(),
    )
        .prop_map(|(sku, collections, quantity, price, amount, metadata)| {
            let names: Vec<&str> = collections.iter().map(String::as_str).collect();
            let mut it = item(sku, &names, quantity, price, amount);
            it.metadata = metadata;
            it
        });
    proptest::collection::vec(one, 0..4)
}

/// A random world around `day(0)` in one of a few time zones.
pub fn world() -> impl Strategy<Value = World> {
    let zones = select(vec!["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati"]);
    let customer_facts = (
        profile(),
        metadata(),
        stats(),
        -1_000_i64..0,
        0_i64..86_400,
        any::<(bool, bool)>(),
        proptest::collection::vec(
            (select(vec![PROG_X, PROG_Y]), -100_i64..3_000, proptest::option::of(select(vec!["Gold", "Ann"]))),
            0..3,
        ),
    );
    let customer_part = proptest::option::weighted(0.9, customer_facts);
    let order_part = proptest::option::weighted(0.8, (items(), 0_i64..20_000, 0_i64..3_000, metadata()));
    let event_part = proptest::option::of((select(EVENT_NAMES.to_vec()), metadata()));
    (zones, 0_i64..3, 0_i64..86_400, customer_part, order_part, event_part).prop_map(
        |(zone, d, s, cust, ord, event)| {
            let now = timestamp(d, s);
            let mut world = World {
                now,
                time_zone: TimeZone::get(zone).unwrap_or(TimeZone::UTC),
                currency: eur(),
                customer: None,
                segments: Vec::new(),
                loyalty: Vec::new(),
                order: None,
                event: event.map(|(name, m)| (name.to_owned(), m)),
            };
            if let Some((profile, metadata, stats, created, created_second, (in_a, in_b), loyalty)) = cust {
                let mut c = customer(timestamp(created, created_second), stats);
                c.profile = profile;
                c.metadata = metadata;
                world.customer = Some(c);
                world.segments =
                    [(in_a, SEG_A), (in_b, SEG_B)].into_iter().filter(|(i, _)| *i).map(|(_, s)| segment(s)).collect();
                let mut seen = Vec::new();
                for (p, balance, tier) in loyalty {
                    if !seen.contains(&p) {
                        seen.push(p);
                        world.loyalty.push((program(p), balance, tier.map(str::to_owned)));
                    }
                }
            }
            if let Some((items, amount, discount, metadata)) = ord {
                let mut o = order(amount, discount.min(amount), items, now);
                o.metadata = metadata;
                world.order = Some(o);
            }
            world
        },
    )
}

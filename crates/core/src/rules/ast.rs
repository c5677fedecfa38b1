//! The typed rule tree: conditions, operands resolved to enum variants, literals already converted
//! (money in minor units of the project currency, dates as dates), and the names of fields and windows.

use crate::calendar::Period;
use crate::ids::{ProgramId, SegmentId};
use crate::money::Money;
use jiff::civil::Date;

/// A condition: something true or false.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// At least two conditions, all true.
    And(Vec<Cond>),
    /// At least two conditions, one true.
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Compare {
        op: CompareOp,
        left: Expr,
        right: Expr,
    },
    /// `left in [...]`; the list is sorted and free of duplicates (its canonical form).
    In {
        left: Expr,
        list: Vec<Literal>,
    },
    /// `left between low and high`, both bounds included.
    Between {
        left: Expr,
        low: Literal,
        high: Literal,
    },
    /// The operand has a value (the field is set, the customer is a member of the program, …).
    Exists(Expr),
    /// A quantifier over the current order's items; the predicate may use `item.*` fields.
    Items {
        quantifier: Quantifier,
        predicate: Box<Cond>,
    },
    /// A true/false operand used as a condition: `in_segment("seg_…")`, `true`, a boolean metadata flag.
    Test(Expr),
}

impl Cond {
    /// Nodes as the limits count them: conditions, operands, call arguments, list literals and their elements
    /// (one per node of the JSON form).
    pub fn node_count(&self) -> usize {
        match self {
            Cond::And(items) | Cond::Or(items) => 1 + items.iter().map(Cond::node_count).sum::<usize>(),
            Cond::Not(inner) => 1 + inner.node_count(),
            Cond::Compare { left, right, .. } => 1 + left.node_count() + right.node_count(),
            Cond::In { left, list } => 2 + left.node_count() + list.len(),
            Cond::Between { left, .. } => 4 + left.node_count(),
            Cond::Exists(expr) => 1 + expr.node_count(),
            Cond::Items { predicate, .. } => 1 + predicate.node_count(),
            Cond::Test(expr) => expr.node_count(),
        }
    }
}

impl Expr {
    pub fn node_count(&self) -> usize {
        match self {
            Expr::Literal(_) | Expr::Field(_) => 1,
            Expr::Call(call) => 1 + call.argument_count(),
            Expr::Count(predicate) => 1 + predicate.node_count(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Substring of text, or element of a list (item collections, list metadata).
    Contains,
    StartsWith,
}

impl CompareOp {
    pub const ALL: [CompareOp; 8] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Contains,
        CompareOp::StartsWith,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Contains => "contains",
            CompareOp::StartsWith => "starts_with",
        }
    }

    pub fn parse(raw: &str) -> Option<CompareOp> {
        CompareOp::ALL.into_iter().find(|op| op.as_str() == raw)
    }

    /// Orders its operands (needs numbers, money or dates).
    pub fn is_ordering(self) -> bool {
        matches!(self, CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantifier {
    Any,
    Every,
    None,
}

impl Quantifier {
    pub const ALL: [Quantifier; 3] = [Quantifier::Any, Quantifier::Every, Quantifier::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Quantifier::Any => "any",
            Quantifier::Every => "every",
            Quantifier::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Option<Quantifier> {
        Quantifier::ALL.into_iter().find(|q| q.as_str() == raw)
    }

    /// Result of the quantifier when `matching` of `total` items satisfy the predicate.
    pub fn holds(self, matching: i64, total: i64) -> bool {
        match self {
            Quantifier::Any => matching > 0,
            Quantifier::Every => matching == total,
            Quantifier::None => matching == 0,
        }
    }
}

/// An operand: something with a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal(Literal),
    Field(Field),
    Call(Call),
    /// Number of the current order's items that satisfy the predicate.
    Count(Box<Cond>),
}

/// A constant, converted to the type of what it is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    /// A plain number (compared with numeric metadata); finite, never `-0`.
    Number(f64),
    Money(Money),
    String(String),
    Date(Date),
    Weekday(Weekday),
}

/// Days of the week, Monday first (ISO 8601).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    pub fn parse(raw: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.as_str() == raw)
    }

    pub fn of(date: Date) -> Weekday {
        match date.weekday() {
            jiff::civil::Weekday::Monday => Weekday::Monday,
            jiff::civil::Weekday::Tuesday => Weekday::Tuesday,
            jiff::civil::Weekday::Wednesday => Weekday::Wednesday,
            jiff::civil::Weekday::Thursday => Weekday::Thursday,
            jiff::civil::Weekday::Friday => Weekday::Friday,
            jiff::civil::Weekday::Saturday => Weekday::Saturday,
            jiff::civil::Weekday::Sunday => Weekday::Sunday,
        }
    }
}

/// Data read from the context, resolved from its dotted name when the rule is parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Customer(CustomerField),
    CustomerMetadata(String),
    Order(OrderField),
    OrderMetadata(String),
    Item(ItemField),
    ItemMetadata(String),
    EventName,
    EventMetadata(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CustomerField {
    SourceId,
    Name,
    Email,
    Phone,
    Birthdate,
    Timezone,
    Line1,
    Line2,
    City,
    State,
    PostalCode,
    Country,
    /// The local date (project time zone) the customer was created.
    CreatedAt,
    /// The local date (project time zone) of the last paid order.
    LastOrderDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderField {
    Amount,
    DiscountAmount,
    /// Amount after discounts.
    Total,
    /// Item lines.
    ItemsCount,
    /// Units over all lines.
    ItemsQuantity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemField {
    ProductId,
    SkuId,
    Collections,
    Price,
    Quantity,
    Amount,
}

pub(crate) const CUSTOMER_FIELDS: [(&str, CustomerField); 14] = [
    ("customer.source_id", CustomerField::SourceId),
    ("customer.name", CustomerField::Name),
    ("customer.email", CustomerField::Email),
    ("customer.phone", CustomerField::Phone),
    ("customer.birthdate", CustomerField::Birthdate),
    ("customer.timezone", CustomerField::Timezone),
    ("customer.address.line_1", CustomerField::Line1),
    ("customer.address.line_2", CustomerField::Line2),
    ("customer.address.city", CustomerField::City),
    ("customer.address.state", CustomerField::State),
    ("customer.address.postal_code", CustomerField::PostalCode),
    ("customer.address.country", CustomerField::Country),
    ("customer.created_at", CustomerField::CreatedAt),
    ("customer.last_order_date", CustomerField::LastOrderDate),
];

pub(crate) const ORDER_FIELDS: [(&str, OrderField); 5] = [
    ("order.amount", OrderField::Amount),
    ("order.discount_amount", OrderField::DiscountAmount),
    ("order.total", OrderField::Total),
    ("order.items_count", OrderField::ItemsCount),
    ("order.items_quantity", OrderField::ItemsQuantity),
];

pub(crate) const ITEM_FIELDS: [(&str, ItemField); 6] = [
    ("item.product_id", ItemField::ProductId),
    ("item.sku_id", ItemField::SkuId),
    ("item.collections", ItemField::Collections),
    ("item.price", ItemField::Price),
    ("item.quantity", ItemField::Quantity),
    ("item.amount", ItemField::Amount),
];

/// Prefixes of metadata fields; the rest of the name is the key.
pub(crate) const CUSTOMER_METADATA: &str = "customer.metadata.";
pub(crate) const ORDER_METADATA: &str = "order.metadata.";
pub(crate) const ITEM_METADATA: &str = "item.metadata.";
pub(crate) const EVENT_METADATA: &str = "event.metadata.";
pub(crate) const EVENT_NAME: &str = "event.name";

fn name_of<T: PartialEq + Copy>(table: &[(&'static str, T)], value: T) -> &'static str {
    table.iter().find(|(_, v)| *v == value).map_or("", |(name, _)| name)
}

impl Field {
    /// The metadata key, for metadata fields.
    pub fn metadata_key(&self) -> Option<&str> {
        match self {
            Field::CustomerMetadata(k) | Field::OrderMetadata(k) | Field::ItemMetadata(k) | Field::EventMetadata(k) => {
                Some(k)
            }
            _ => None,
        }
    }

    /// The dotted name without the metadata key (`customer.metadata.` for metadata fields).
    pub(crate) fn prefix(&self) -> &'static str {
        match self {
            Field::Customer(f) => name_of(&CUSTOMER_FIELDS, *f),
            Field::Order(f) => name_of(&ORDER_FIELDS, *f),
            Field::Item(f) => name_of(&ITEM_FIELDS, *f),
            Field::EventName => EVENT_NAME,
            Field::CustomerMetadata(_) => CUSTOMER_METADATA,
            Field::OrderMetadata(_) => ORDER_METADATA,
            Field::ItemMetadata(_) => ITEM_METADATA,
            Field::EventMetadata(_) => EVENT_METADATA,
        }
    }

    /// The dotted name as the JSON form writes it (`customer.metadata.<key>` with the key verbatim).
    pub fn name(&self) -> String {
        let mut name = self.prefix().to_owned();
        if let Some(key) = self.metadata_key() {
            name.push_str(key);
        }
        name
    }

    pub(crate) fn is_item(&self) -> bool {
        matches!(self, Field::Item(_) | Field::ItemMetadata(_))
    }
}

/// A computed operand: history aggregates, loyalty, segments and the clock.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    Spent(Window),
    Orders(Window),
    AverageOrderValue(Window),
    /// Custom events of a name.
    Events(String, Window),
    Redemptions(Window),
    DaysSinceLastOrder,
    DaysSinceJoined,
    /// Points balance in one program, or summed over all programs.
    Balance(Option<ProgramId>),
    /// Name of the customer's tier in a program.
    Tier(ProgramId),
    InSegment(SegmentId),
    Today,
    DayOfWeek,
    Hour,
    Month,
    IsBirthdayMonth,
    IsBirthday,
}

impl Call {
    pub fn name(&self) -> &'static str {
        match self {
            Call::Spent(_) => "spent",
            Call::Orders(_) => "orders",
            Call::AverageOrderValue(_) => "average_order_value",
            Call::Events(..) => "events",
            Call::Redemptions(_) => "redemptions",
            Call::DaysSinceLastOrder => "days_since_last_order",
            Call::DaysSinceJoined => "days_since_joined",
            Call::Balance(_) => "balance",
            Call::Tier(_) => "tier",
            Call::InSegment(_) => "in_segment",
            Call::Today => "today",
            Call::DayOfWeek => "day_of_week",
            Call::Hour => "hour",
            Call::Month => "month",
            Call::IsBirthdayMonth => "is_birthday_month",
            Call::IsBirthday => "is_birthday",
        }
    }

    /// Arguments in the written form (`events("review", last_7_days)` has two).
    pub fn argument_count(&self) -> usize {
        match self {
            Call::Events(..) => 2,
            Call::Spent(_)
            | Call::Orders(_)
            | Call::AverageOrderValue(_)
            | Call::Redemptions(_)
            | Call::Balance(Some(_))
            | Call::Tier(_)
            | Call::InSegment(_) => 1,
            _ => 0,
        }
    }

    pub fn window(&self) -> Option<Window> {
        match self {
            Call::Spent(w)
            | Call::Orders(w)
            | Call::AverageOrderValue(w)
            | Call::Events(_, w)
            | Call::Redemptions(w) => Some(*w),
            _ => None,
        }
    }
}

/// A period of days, in the project's time zone, ending today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// The N days ending today, today included.
    LastDays(u16),
    /// The current calendar period up to today.
    ThisCalendar(Period),
    /// The whole previous calendar period.
    LastCalendar(Period),
    /// Everything kept (lifetime totals for spent and orders).
    Lifetime,
}

impl Window {
    pub fn name(self) -> String {
        match self {
            Window::LastDays(days) => format!("last_{days}_days"),
            Window::ThisCalendar(p) => format!("this_calendar_{}", p.as_str()),
            Window::LastCalendar(p) => format!("last_calendar_{}", p.as_str()),
            Window::Lifetime => "lifetime".to_owned(),
        }
    }

    /// Everything but `lifetime` moves with the clock.
    pub fn is_relative(self) -> bool {
        !matches!(self, Window::Lifetime)
    }
}

/// The static type of an operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Type {
    Bool,
    Int,
    Number,
    Money,
    String,
    Date,
    Weekday,
    /// A list of strings (item collections).
    StringList,
    /// Metadata: its type is known only when the rule runs.
    Meta,
}

impl Type {
    pub fn describe(self) -> &'static str {
        match self {
            Type::Bool => "true/false",
            Type::Int => "a whole number",
            Type::Number => "a number",
            Type::Money => "money",
            Type::String => "text",
            Type::Date => "a date",
            Type::Weekday => "a day of the week",
            Type::StringList => "a list of text",
            Type::Meta => "metadata",
        }
    }

    /// Values of this type can be ordered with `<`, `between`, ….
    pub fn is_ordered(self) -> bool {
        matches!(self, Type::Int | Type::Number | Type::Money | Type::Date | Type::Meta)
    }
}

impl Literal {
    pub(crate) fn ty(&self) -> Type {
        match self {
            Literal::Bool(_) => Type::Bool,
            Literal::Int(_) => Type::Int,
            Literal::Number(_) => Type::Number,
            Literal::Money(_) => Type::Money,
            Literal::String(_) => Type::String,
            Literal::Date(_) => Type::Date,
            Literal::Weekday(_) => Type::Weekday,
        }
    }

    /// A total order within one type (lists are homogeneous); across types by type.
    pub(crate) fn cmp_canonical(&self, other: &Literal) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Literal::Bool(a), Literal::Bool(b)) => a.cmp(b),
            (Literal::Int(a), Literal::Int(b)) => a.cmp(b),
            (Literal::Number(a), Literal::Number(b)) => a.total_cmp(b),
            (Literal::Money(a), Literal::Money(b)) => a.cmp(b),
            (Literal::String(a), Literal::String(b)) => a.cmp(b),
            (Literal::Date(a), Literal::Date(b)) => a.cmp(b),
            (Literal::Weekday(a), Literal::Weekday(b)) => a.cmp(b),
            (a, b) => type_rank(a).cmp(&type_rank(b)).then(Ordering::Equal),
        }
    }
}

fn type_rank(literal: &Literal) -> u8 {
    match literal {
        Literal::Bool(_) => 0,
        Literal::Int(_) => 1,
        Literal::Number(_) => 2,
        Literal::Money(_) => 3,
        Literal::String(_) => 4,
        Literal::Date(_) => 5,
        Literal::Weekday(_) => 6,
    }
}

/// Sorts and deduplicates the elements of an `in` list: its canonical form, searched by bisection.
pub(crate) fn canonical_list(mut list: Vec<Literal>) -> Vec<Literal> {
    list.sort_by(Literal::cmp_canonical);
    list.dedup_by(|a, b| a.cmp_canonical(b).is_eq());
    list
}

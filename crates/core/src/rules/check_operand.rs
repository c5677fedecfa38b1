//! Type-checks operands: field names, function calls and their arguments, windows, and literals converted to
//! the type they are compared with (money through the project currency).

use super::ast::{
    CUSTOMER_FIELDS, CUSTOMER_METADATA, Call, CustomerField, EVENT_METADATA, EVENT_NAME, Expr, Field, ITEM_FIELDS,
    ITEM_METADATA, ItemField, Literal, ORDER_FIELDS, ORDER_METADATA, OrderField, Type, Weekday, Window,
};
use super::check::{Checker, Operand, Scope};
use super::error::RuleErrorKind;
use super::limits::{RULE_NUMBER_CHARS_MAX, RULE_STRING_CHARS_MAX, RULE_WINDOW_DAYS_MAX};
use super::syntax::{SynExpr, SynExprKind};
use crate::ids::{ProgramId, SegmentId};
use crate::limits::METADATA_KEY_CHARS_MAX;

const FUNCTIONS: &str = "spent, orders, average_order_value, events, redemptions, days_since_last_order, \
    days_since_joined, balance, tier, in_segment, today, day_of_week, hour, month, is_birthday_month, is_birthday";
const WINDOWS: &str = "last_N_days (1 to 730), this_calendar_month, this_calendar_quarter, this_calendar_half_year, \
    this_calendar_year, last_calendar_month, last_calendar_quarter, last_calendar_half_year, last_calendar_year, lifetime";

type MakeField = fn(String) -> Field;
type MakeWindow = fn(crate::calendar::Period) -> Window;

/// What a function argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    Window,
    EventName,
    Program,
    Segment,
}

/// A checked argument.
enum ArgValue {
    Window(Window),
    Text(String),
    Program(ProgramId),
    Segment(SegmentId),
}

impl Checker<'_> {
    pub(crate) fn operand(&mut self, syn: &SynExpr, depth: usize, scope: Scope) -> Operand {
        if syn.kind == SynExprKind::Invalid || !self.enter(depth, syn.at) {
            return Operand::Invalid;
        }
        // `Err(Some(type))`: the operand has errors, but what it would be is known.
        let checked: Result<(Expr, Type), Option<Type>> = match &syn.kind {
            SynExprKind::Field(name) => self.field(name, syn.at, scope).map(|(f, ty)| (Expr::Field(f), ty)),
            SynExprKind::Call { name, args } => {
                self.call(name, args, syn.at, depth).map(|(call, ty)| (Expr::Call(call), ty))
            }
            SynExprKind::Count(predicate) => self
                .outside_items(scope, syn.at)
                .and_then(|()| self.at("count", |c| c.cond(predicate, depth + 1, Scope::Items)))
                .map(|predicate| (Expr::Count(Box::new(predicate)), Type::Int))
                .ok_or(Some(Type::Int)),
            SynExprKind::Window(name) => {
                let message = format!("`{name}` is a window; windows are arguments, e.g. spent({name})");
                self.error(syn.at, RuleErrorKind::TypeMismatch, message);
                Err(None)
            }
            SynExprKind::Invalid => return Operand::Invalid,
            _ => return Operand::Literal,
        };
        match checked {
            Ok((expr, ty)) => Operand::Expr(expr, ty),
            Err(Some(ty)) => Operand::Broken(ty),
            Err(None) => Operand::Invalid,
        }
    }

    fn field(&mut self, name: &str, at: Option<usize>, scope: Scope) -> Result<(Field, Type), Option<Type>> {
        let field = match resolve_field(name) {
            Ok(field) => field,
            Err((kind, message)) => {
                self.error(at, kind, message);
                return Err(None);
            }
        };
        let ty = field_type(&field);
        if field.is_item() && scope != Scope::Items {
            self.error(
                at,
                RuleErrorKind::OutOfScope,
                "item fields are only available inside any(), every(), none() and count()",
            );
            return Err(Some(ty));
        }
        Ok((field, ty))
    }

    fn call(
        &mut self,
        name: &str,
        args: &[SynExpr],
        at: Option<usize>,
        depth: usize,
    ) -> Result<(Call, Type), Option<Type>> {
        let (signature, ty): (&[Arg], Type) = match name {
            "spent" | "average_order_value" => (&[Arg::Window], Type::Money),
            "orders" | "redemptions" => (&[Arg::Window], Type::Int),
            "events" => (&[Arg::EventName, Arg::Window], Type::Int),
            "tier" => (&[Arg::Program], Type::String),
            "balance" if args.len() == 1 => (&[Arg::Program], Type::Int),
            "in_segment" => (&[Arg::Segment], Type::Bool),
            "days_since_last_order" | "days_since_joined" | "hour" | "month" | "balance" => (&[], Type::Int),
            "today" => (&[], Type::Date),
            "day_of_week" => (&[], Type::Weekday),
            "is_birthday_month" | "is_birthday" => (&[], Type::Bool),
            _ => {
                let message = format!("unknown function `{name}`; functions are {FUNCTIONS}");
                self.error(at, RuleErrorKind::UnknownFunction, message);
                return Err(None);
            }
        };
        if args.iter().any(|a| a.kind == SynExprKind::Invalid) {
            return Err(Some(ty));
        }
        if args.len() != signature.len() {
            let expected = match name {
                "balance" => "0 or 1 arguments".to_owned(),
                _ if signature.len() == 1 => "1 argument".to_owned(),
                _ => format!("{} arguments", signature.len()),
            };
            let message = format!("{name}() takes {expected}, found {}", args.len());
            self.error(at, RuleErrorKind::ArgumentCount, message);
            return Err(Some(ty));
        }
        let mut values = Vec::with_capacity(args.len());
        self.at("args", |c| {
            for (i, (arg, kind)) in args.iter().zip(signature).enumerate() {
                values.push(c.at(&i.to_string(), |c| c.argument(arg, *kind, depth + 1)));
            }
        });
        let values: Option<Vec<ArgValue>> = values.into_iter().collect();
        values.and_then(|values| build_call(name, values)).map(|call| (call, ty)).ok_or(Some(ty))
    }

    fn argument(&mut self, syn: &SynExpr, kind: Arg, depth: usize) -> Option<ArgValue> {
        if !self.enter(depth, syn.at) {
            return None;
        }
        let result = match (kind, &syn.kind) {
            (Arg::Window, SynExprKind::Window(name)) => parse_window(name).map(ArgValue::Window),
            (Arg::Window, _) => Err((
                RuleErrorKind::TypeMismatch,
                "expected a window such as last_30_days (JSON: {\"window\": \"last_30_days\"})".to_owned(),
            )),
            (Arg::EventName, SynExprKind::Str(text)) => crate::event::event_name("", text)
                .map(ArgValue::Text)
                .map_err(|e| (RuleErrorKind::InvalidLiteral, e.message)),
            (Arg::Program, SynExprKind::Str(text)) => ProgramId::parse(text)
                .map(ArgValue::Program)
                .ok_or_else(|| (RuleErrorKind::InvalidLiteral, format!("`{text}` is not a program id (prog_…)"))),
            (Arg::Segment, SynExprKind::Str(text)) => SegmentId::parse(text)
                .map(ArgValue::Segment)
                .ok_or_else(|| (RuleErrorKind::InvalidLiteral, format!("`{text}` is not a segment id (seg_…)"))),
            (Arg::EventName, _) => Err((RuleErrorKind::TypeMismatch, "expected an event name in quotes".to_owned())),
            (Arg::Program, _) => Err((RuleErrorKind::TypeMismatch, "expected a program id in quotes".to_owned())),
            (Arg::Segment, _) => Err((RuleErrorKind::TypeMismatch, "expected a segment id in quotes".to_owned())),
        };
        match result {
            Ok(value) => Some(value),
            Err((kind, message)) => {
                self.error(syn.at, kind, message);
                None
            }
        }
    }

    /// Converts a literal to `target`; metadata takes the literal's own type.
    pub(crate) fn literal(&mut self, syn: &SynExpr, target: Type) -> Option<Literal> {
        let result = match &syn.kind {
            SynExprKind::Number(text) => self.number(text, target),
            SynExprKind::Money(text) if target == Type::Money => self.money(text),
            SynExprKind::Money(_) if target == Type::Meta => Err((
                RuleErrorKind::TypeMismatch,
                "metadata holds plain numbers; compare it with a number, not money".to_owned(),
            )),
            SynExprKind::Str(text) => string_literal(text, target),
            SynExprKind::Bool(b) if matches!(target, Type::Bool | Type::Meta) => Ok(Literal::Bool(*b)),
            SynExprKind::Date(text) if matches!(target, Type::Date | Type::Meta) => crate::metadata::as_date(text)
                .map(Literal::Date)
                .ok_or_else(|| (RuleErrorKind::InvalidLiteral, format!("`{text}` is not a valid date (YYYY-MM-DD)"))),
            SynExprKind::List(_) => Err((
                RuleErrorKind::TypeMismatch,
                "a list is only allowed after `in` (or as the bounds of `between`)".to_owned(),
            )),
            SynExprKind::Invalid => return None,
            kind => {
                let found = super::check::natural_type(kind).map_or("an operand", |t| t.describe());
                Err((RuleErrorKind::TypeMismatch, format!("expected {}, found {found}", target.describe())))
            }
        };
        match result {
            Ok(literal) => Some(literal),
            Err((kind, message)) => {
                self.error(syn.at, kind, message);
                None
            }
        }
    }

    fn number(&self, text: &str, target: Type) -> Result<Literal, (RuleErrorKind, String)> {
        if text.chars().count() > RULE_NUMBER_CHARS_MAX {
            let message = format!("numbers have at most {RULE_NUMBER_CHARS_MAX} characters");
            return Err((RuleErrorKind::TooLong, message));
        }
        match target {
            Type::Money => self.money(text),
            Type::Int => parse_int(text)
                .map(Literal::Int)
                .ok_or_else(|| (RuleErrorKind::TypeMismatch, format!("expected a whole number, found `{text}`"))),
            Type::Number | Type::Meta => parse_number(text)
                .map(Literal::Number)
                .ok_or_else(|| (RuleErrorKind::InvalidLiteral, format!("`{text}` is not a number in range"))),
            other => Err((RuleErrorKind::TypeMismatch, format!("expected {}, found a number", other.describe()))),
        }
    }

    fn money(&self, text: &str) -> Result<Literal, (RuleErrorKind, String)> {
        let currency = self.currency;
        currency.parse_major(text).map(Literal::Money).ok_or_else(|| {
            let decimals = match currency.exponent() {
                0 => "no decimals".to_owned(),
                1 => "at most 1 decimal".to_owned(),
                n => format!("at most {n} decimals"),
            };
            let message = format!(
                "`{text}` is not an amount in {}: write a non-negative amount with {decimals}",
                currency.code()
            );
            (RuleErrorKind::InvalidLiteral, message)
        })
    }
}

fn string_literal(text: &str, target: Type) -> Result<Literal, (RuleErrorKind, String)> {
    if text.chars().count() > RULE_STRING_CHARS_MAX {
        return Err((RuleErrorKind::TooLong, format!("text literals have at most {RULE_STRING_CHARS_MAX} characters")));
    }
    match target {
        Type::String | Type::Meta => Ok(Literal::String(text.to_owned())),
        Type::Weekday => Weekday::parse(text)
            .map(Literal::Weekday)
            .ok_or_else(|| (RuleErrorKind::InvalidLiteral, format!("unknown day `{text}`; use monday … sunday"))),
        Type::Date => Err((
            RuleErrorKind::TypeMismatch,
            "expected a date, found text; write dates as 2024-01-31 (JSON: {\"date\": \"2024-01-31\"})".to_owned(),
        )),
        other => Err((RuleErrorKind::TypeMismatch, format!("expected {}, found text", other.describe()))),
    }
}

/// `-?digits`.
fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A JSON-style number (`-?digits(.digits)?([eE][+-]?digits)?`), finite; `-0` becomes `0`.
fn parse_number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (unsigned.get(..i)?, Some(unsigned.get(i + 1..)?)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').map_or((mantissa, None), |(w, f)| (w, Some(f)));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !digits(whole) || !fraction.is_none_or(digits) || !exponent_ok {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    let value = if value == 0.0 { 0.0 } else { value };
    // The canonical text (no exponent) must parse back, so it must fit the literal bound too.
    (value.is_finite() && value.to_string().len() <= RULE_NUMBER_CHARS_MAX).then_some(value)
}

/// A field from its dotted name.
pub(crate) fn resolve_field(name: &str) -> Result<Field, (RuleErrorKind, String)> {
    if let Some((_, f)) = CUSTOMER_FIELDS.iter().find(|(n, _)| *n == name) {
        return Ok(Field::Customer(*f));
    }
    if let Some((_, f)) = ORDER_FIELDS.iter().find(|(n, _)| *n == name) {
        return Ok(Field::Order(*f));
    }
    if let Some((_, f)) = ITEM_FIELDS.iter().find(|(n, _)| *n == name) {
        return Ok(Field::Item(*f));
    }
    if name == EVENT_NAME {
        return Ok(Field::EventName);
    }
    let metadata: [(&str, MakeField); 4] = [
        (CUSTOMER_METADATA, Field::CustomerMetadata),
        (ORDER_METADATA, Field::OrderMetadata),
        (ITEM_METADATA, Field::ItemMetadata),
        (EVENT_METADATA, Field::EventMetadata),
    ];
    for (prefix, make) in metadata {
        if let Some(key) = name.strip_prefix(prefix) {
            if key.is_empty() || key.chars().count() > METADATA_KEY_CHARS_MAX || key.chars().any(char::is_control) {
                let message = format!("metadata keys are 1 to {METADATA_KEY_CHARS_MAX} printable characters");
                return Err((RuleErrorKind::UnknownField, message));
            }
            return Ok(make(key.to_owned()));
        }
    }
    Err((RuleErrorKind::UnknownField, unknown_field_message(name)))
}

fn unknown_field_message(name: &str) -> String {
    let group = name.split('.').next().unwrap_or("");
    let known: Vec<&str> = match group {
        "customer" => CUSTOMER_FIELDS.iter().map(|(n, _)| *n).chain([CUSTOMER_METADATA]).collect(),
        "order" => ORDER_FIELDS.iter().map(|(n, _)| *n).chain([ORDER_METADATA]).collect(),
        "item" => ITEM_FIELDS.iter().map(|(n, _)| *n).chain([ITEM_METADATA]).collect(),
        "event" => vec![EVENT_NAME, EVENT_METADATA],
        _ => {
            return format!("unknown field `{name}`; fields start with customer., order., item. or event.");
        }
    };
    let known: Vec<String> =
        known.into_iter().map(|n| if n.ends_with('.') { format!("{n}<key>") } else { n.to_owned() }).collect();
    format!("unknown field `{name}`; {group} fields are {}", known.join(", "))
}

pub(crate) fn field_type(field: &Field) -> Type {
    match field {
        Field::Customer(CustomerField::Birthdate | CustomerField::CreatedAt | CustomerField::LastOrderDate) => {
            Type::Date
        }
        Field::Customer(_) | Field::EventName => Type::String,
        Field::Order(OrderField::Amount | OrderField::DiscountAmount | OrderField::Total) => Type::Money,
        Field::Order(OrderField::ItemsCount | OrderField::ItemsQuantity) => Type::Int,
        Field::Item(ItemField::ProductId | ItemField::SkuId) => Type::String,
        Field::Item(ItemField::Collections) => Type::StringList,
        Field::Item(ItemField::Price | ItemField::Amount) => Type::Money,
        Field::Item(ItemField::Quantity) => Type::Int,
        Field::CustomerMetadata(_) | Field::OrderMetadata(_) | Field::ItemMetadata(_) | Field::EventMetadata(_) => {
            Type::Meta
        }
    }
}

/// A window from its name (`last_30_days`, `this_calendar_month`, `last_calendar_year`, `lifetime`; the
/// `current_calendar_*` and `previous_calendar_*` spellings are accepted too).
pub(crate) fn parse_window(name: &str) -> Result<Window, (RuleErrorKind, String)> {
    if name == "lifetime" {
        return Ok(Window::Lifetime);
    }
    let calendar: [(&str, MakeWindow); 4] = [
        ("this_calendar_", Window::ThisCalendar),
        ("current_calendar_", Window::ThisCalendar),
        ("last_calendar_", Window::LastCalendar),
        ("previous_calendar_", Window::LastCalendar),
    ];
    for (prefix, make) in calendar {
        if let Some(period) = name.strip_prefix(prefix).and_then(crate::calendar::Period::parse) {
            return Ok(make(period));
        }
    }
    if let Some(days) = name.strip_prefix("last_").and_then(|rest| rest.strip_suffix("_days"))
        && !days.is_empty()
        && days.bytes().all(|b| b.is_ascii_digit())
    {
        return match days.parse::<u16>() {
            Ok(n) if (1..=RULE_WINDOW_DAYS_MAX).contains(&n) => Ok(Window::LastDays(n)),
            _ => Err((
                RuleErrorKind::WindowOutOfRange,
                format!("a window of days is 1 to {RULE_WINDOW_DAYS_MAX} days long, found {days}"),
            )),
        };
    }
    Err((RuleErrorKind::UnknownWindow, format!("unknown window `{name}`; windows are {WINDOWS}")))
}

/// The call of a function whose arguments were checked against its signature (in `Checker::call`, which
/// also knows the call's type).
fn build_call(name: &str, args: Vec<ArgValue>) -> Option<Call> {
    let mut args = args.into_iter();
    let mut next = || args.next();
    let window = |arg: Option<ArgValue>| match arg {
        Some(ArgValue::Window(w)) => Some(w),
        _ => None,
    };
    let call = match name {
        "spent" => Call::Spent(window(next())?),
        "orders" => Call::Orders(window(next())?),
        "average_order_value" => Call::AverageOrderValue(window(next())?),
        "redemptions" => Call::Redemptions(window(next())?),
        "events" => {
            let Some(ArgValue::Text(event)) = next() else {
                return None;
            };
            Call::Events(event, window(next())?)
        }
        "balance" => match next() {
            Some(ArgValue::Program(p)) => Call::Balance(Some(p)),
            _ => Call::Balance(None),
        },
        "tier" => match next() {
            Some(ArgValue::Program(p)) => Call::Tier(p),
            _ => return None,
        },
        "in_segment" => match next() {
            Some(ArgValue::Segment(s)) => Call::InSegment(s),
            _ => return None,
        },
        "days_since_last_order" => Call::DaysSinceLastOrder,
        "days_since_joined" => Call::DaysSinceJoined,
        "today" => Call::Today,
        "day_of_week" => Call::DayOfWeek,
        "hour" => Call::Hour,
        "month" => Call::Month,
        "is_birthday_month" => Call::IsBirthdayMonth,
        "is_birthday" => Call::IsBirthday,
        _ => return None,
    };
    Some(call)
}

//! Explanations (R2): a trace mirroring the rule, with each node's result, actual and expected values, and a
//! customer-safe hint for numeric thresholds ("spend 12.00 more"). Uses the evaluator's own value functions,
//! so the trace always agrees with `Rule::evaluate`.

use super::ast::{Call, CompareOp, Cond, Expr, Field, Literal, OrderField, Weekday, Window};
use super::eval::{Env, count_items, eval_cond, value};
use super::print::cond_text;
use super::value::{Value, between, compare, in_list, is_true};
use crate::money::Currency;
use crate::order::OrderItem;
use jiff::civil::Date;

/// One node of an explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// JSON pointer of the node in the rule's canonical JSON form.
    pub path: String,
    /// The node in the text form.
    pub condition: String,
    pub result: bool,
    /// The value found (the left operand); `None` for `and`/`or`/`not`.
    pub actual: Option<TraceValue>,
    pub expected: Option<Expected>,
    /// What the customer could do to satisfy a failed threshold.
    pub hint: Option<Hint>,
    /// Sub-conditions; for a quantifier, the predicate on one telling item (the first match or failure).
    pub children: Vec<Trace>,
}

/// What the condition wanted: an operator and the value it compared with.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub op: &'static str,
    pub value: Option<TraceValue>,
}

/// A value in a trace, typed so the API can render it.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceValue {
    Missing,
    Bool(bool),
    Int(i64),
    Number(f64),
    /// Minor units of the project currency.
    Money(i64),
    Text(String),
    Date(Date),
    Weekday(Weekday),
    List(Vec<TraceValue>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hint {
    pub action: HintAction,
    /// How much is missing: money in minor units or a count.
    pub missing: TraceValue,
    /// Ready-to-show text, money in major units: "spend 12.00 more".
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HintAction {
    /// Spend more over the window (`spent(...)`).
    Spend,
    /// Add to the current order (`order.amount`, `order.total`).
    AddToOrder,
    PlaceOrders,
    /// Do the custom event more often.
    RepeatEvent,
    Redeem,
    CollectPoints,
    AddItems,
    AddMatchingItems,
}

impl TraceValue {
    /// Plain text of the value, money in major units of `currency`.
    pub fn to_text(&self, currency: Currency) -> String {
        match self {
            TraceValue::Missing => "missing".to_owned(),
            TraceValue::Bool(b) => b.to_string(),
            TraceValue::Int(i) => i.to_string(),
            TraceValue::Number(x) => x.to_string(),
            TraceValue::Money(m) => currency.format_major(*m),
            TraceValue::Text(s) => s.clone(),
            TraceValue::Date(d) => d.to_string(),
            TraceValue::Weekday(d) => d.as_str().to_owned(),
            TraceValue::List(items) => {
                let parts: Vec<String> = items.iter().map(|i| i.to_text(currency)).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }

    fn of(value: Value) -> TraceValue {
        match value {
            Value::Absent => TraceValue::Missing,
            Value::Bool(b) => TraceValue::Bool(b),
            Value::Int(i) => TraceValue::Int(i),
            Value::Number(x) => TraceValue::Number(x),
            Value::Money(m) => TraceValue::Money(m),
            Value::Str(s) => TraceValue::Text(s.to_owned()),
            Value::Date(d) => TraceValue::Date(d),
            Value::Weekday(d) => TraceValue::Weekday(d),
            Value::Strings(list) => TraceValue::List(list.iter().map(|s| TraceValue::Text(s.clone())).collect()),
            Value::List(items) => {
                TraceValue::List(items.iter().map(|m| TraceValue::of(Value::from_meta(Some(m)))).collect())
            }
        }
    }

    fn of_literal(literal: &Literal) -> TraceValue {
        TraceValue::of(Value::from_literal(literal))
    }
}

impl Trace {
    /// Hints of the failed conditions, in rule order.
    pub fn hints(&self) -> Vec<&Hint> {
        let mut out = Vec::new();
        self.collect_hints(&mut out);
        out
    }

    fn collect_hints<'t>(&'t self, out: &mut Vec<&'t Hint>) {
        if self.result {
            return;
        }
        out.extend(self.hint.as_ref());
        for child in &self.children {
            child.collect_hints(out);
        }
    }
}

pub(crate) struct Explainer<'v> {
    pub env: Env<'v>,
    pub currency: Currency,
    pub path: String,
}

impl<'v> Explainer<'v> {
    fn at(&mut self, segment: &str, cond: &'v Cond, item: Option<&'v OrderItem>) -> Trace {
        let len = self.path.len();
        self.path.push('/');
        self.path.push_str(segment);
        let trace = self.cond(cond, item);
        self.path.truncate(len);
        trace
    }

    fn node(&self, cond: &Cond, result: bool) -> Trace {
        let mut condition = String::new();
        cond_text(cond, self.currency, &mut condition);
        let path = self.path.clone();
        Trace { path, condition, result, actual: None, expected: None, hint: None, children: Vec::new() }
    }

    pub fn cond(&mut self, cond: &'v Cond, item: Option<&'v OrderItem>) -> Trace {
        match cond {
            Cond::And(items) | Cond::Or(items) => {
                let key = if matches!(cond, Cond::And(_)) { "and" } else { "or" };
                let children: Vec<Trace> =
                    items.iter().enumerate().map(|(i, c)| self.at(&format!("{key}/{i}"), c, item)).collect();
                let result =
                    if key == "and" { children.iter().all(|t| t.result) } else { children.iter().any(|t| t.result) };
                Trace { children, ..self.node(cond, result) }
            }
            Cond::Not(inner) => {
                let child = self.at("not", inner, item);
                Trace { children: vec![child.clone()], ..self.node(cond, !child.result) }
            }
            Cond::Items { quantifier, predicate } => self.items(cond, *quantifier, predicate),
            _ => self.leaf(cond, item),
        }
    }

    fn leaf(&mut self, cond: &'v Cond, item: Option<&'v OrderItem>) -> Trace {
        let env = &self.env;
        let (result, actual, op, expected, hint) = match cond {
            Cond::Compare { op, left, right } => {
                let (l, r) = (value(left, env, item), value(right, env, item));
                let hint = hint(*op, left, l, r, self.currency);
                (compare(*op, l, r), l, op.as_str(), Some(TraceValue::of(r)), hint)
            }
            Cond::In { left, list } => {
                let l = value(left, env, item);
                (
                    in_list(l, list),
                    l,
                    "in",
                    Some(TraceValue::List(list.iter().map(TraceValue::of_literal).collect())),
                    None,
                )
            }
            Cond::Between { left, low, high } => {
                let l = value(left, env, item);
                let bounds = TraceValue::List(vec![TraceValue::of_literal(low), TraceValue::of_literal(high)]);
                let hint = hint(CompareOp::Ge, left, l, Value::from_literal(low), self.currency);
                (between(l, low, high), l, "between", Some(bounds), hint)
            }
            Cond::Exists(expr) => {
                let v = value(expr, env, item);
                (v != Value::Absent, v, "exists", None, None)
            }
            Cond::Test(expr) => {
                let v = value(expr, env, item);
                (is_true(v), v, "==", Some(TraceValue::Bool(true)), None)
            }
            _ => (eval_cond(cond, env, item), Value::Absent, "", None, None),
        };
        Trace {
            actual: Some(TraceValue::of(actual)),
            expected: Some(Expected { op, value: expected }),
            hint: hint.filter(|_| !result),
            ..self.node(cond, result)
        }
    }

    fn items(&mut self, cond: &'v Cond, quantifier: super::ast::Quantifier, predicate: &'v Cond) -> Trace {
        let Some(order) = self.env.ctx.order else {
            let expected = Some(Expected { op: quantifier.as_str(), value: None });
            return Trace { actual: Some(TraceValue::Missing), expected, ..self.node(cond, false) };
        };
        let items = &order.lines.items;
        let matching = count_items(predicate, &self.env).unwrap_or(0);
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let result = quantifier.holds(matching, total);
        // The telling item: a match for `any`/`none`, a failure for `every`; otherwise the first item.
        let wanted = !matches!(quantifier, super::ast::Quantifier::Every);
        let witness = items.iter().find(|i| eval_cond(predicate, &self.env, Some(i)) == wanted).or(items.first());
        let children: Vec<Trace> =
            witness.map(|w| self.at(quantifier.as_str(), predicate, Some(w))).into_iter().collect();
        let (op, expected) = match quantifier {
            super::ast::Quantifier::Any => (">=", 1),
            super::ast::Quantifier::Every => ("==", total),
            super::ast::Quantifier::None => ("==", 0),
        };
        Trace {
            actual: Some(TraceValue::Int(matching)),
            expected: Some(Expected { op, value: Some(TraceValue::Int(expected)) }),
            children,
            ..self.node(cond, result)
        }
    }
}

/// A hint for `left >= threshold` / `left > threshold` when the customer can act on `left`.
fn hint(op: CompareOp, left: &Expr, actual: Value, threshold: Value, currency: Currency) -> Option<Hint> {
    let step = match op {
        CompareOp::Ge => 0,
        CompareOp::Gt => 1,
        _ => return None,
    };
    let missing = |a: i64, t: i64| t.checked_sub(a)?.checked_add(step).filter(|m| *m > 0);
    let (action, missing) = match (left, actual, threshold) {
        (Expr::Call(Call::Spent(w)), Value::Money(a), Value::Money(t)) if includes_today(*w) => {
            (HintAction::Spend, TraceValue::Money(missing(a, t)?))
        }
        (Expr::Field(Field::Order(OrderField::Amount | OrderField::Total)), Value::Money(a), Value::Money(t)) => {
            (HintAction::AddToOrder, TraceValue::Money(missing(a, t)?))
        }
        (Expr::Call(call), Value::Int(a), Value::Int(t)) if call.window().is_none_or(includes_today) => {
            let action = match call {
                Call::Orders(_) => HintAction::PlaceOrders,
                Call::Events(..) => HintAction::RepeatEvent,
                Call::Redemptions(_) => HintAction::Redeem,
                Call::Balance(_) => HintAction::CollectPoints,
                _ => return None,
            };
            (action, TraceValue::Int(missing(a, t)?))
        }
        (
            Expr::Field(Field::Order(OrderField::ItemsCount | OrderField::ItemsQuantity)),
            Value::Int(a),
            Value::Int(t),
        ) => (HintAction::AddItems, TraceValue::Int(missing(a, t)?)),
        (Expr::Count(_), Value::Int(a), Value::Int(t)) => {
            (HintAction::AddMatchingItems, TraceValue::Int(missing(a, t)?))
        }
        _ => return None,
    };
    let text = hint_text(action, left, &missing, currency);
    Some(Hint { action, missing, text })
}

/// Windows the customer can still move: a past calendar period is closed.
fn includes_today(window: Window) -> bool {
    !matches!(window, Window::LastCalendar(_))
}

fn hint_text(action: HintAction, left: &Expr, missing: &TraceValue, currency: Currency) -> String {
    let amount = missing.to_text(currency);
    let plural = |one: &str, many: &str| {
        if *missing == TraceValue::Int(1) { one.to_owned() } else { many.to_owned() }
    };
    match action {
        HintAction::Spend => format!("spend {amount} more"),
        HintAction::AddToOrder => format!("add {amount} more"),
        HintAction::PlaceOrders => format!("place {amount} more {}", plural("order", "orders")),
        HintAction::RepeatEvent => {
            let name = match left {
                Expr::Call(Call::Events(name, _)) => name.as_str(),
                _ => "",
            };
            format!("{amount} more \"{name}\" {}", plural("event", "events"))
        }
        HintAction::Redeem => format!("redeem {amount} more {}", plural("time", "times")),
        HintAction::CollectPoints => format!("collect {amount} more {}", plural("point", "points")),
        HintAction::AddItems => format!("add {amount} more {}", plural("item", "items")),
        HintAction::AddMatchingItems => {
            format!("add {amount} more matching {}", plural("item", "items"))
        }
    }
}

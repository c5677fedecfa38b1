//! Rules on the wire: given as the JSON form or the text form, answered with both forms, what the rule
//! reads, and explanations as a tree of checked conditions.

use crate::error::ApiError;
use crate::error::ErrorCode;
use fidelis_core::money::Currency;
use fidelis_core::rules::{Hint, HintAction, Json, Reads, Rule, RuleError, RuleSchema, Trace, TraceValue};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// Parses a rule given as a string (text form) or an object (JSON form).
pub fn parse(value: &Value, currency: Currency) -> Result<Rule, ApiError> {
    let schema = RuleSchema::new(currency);
    let result = match value {
        Value::String(text) => Rule::parse_text(text, &schema),
        other => match serde_json::from_value::<Json>(other.clone()) {
            Ok(json) => Rule::from_json(&json, &schema),
            Err(e) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidRule,
                    format!("the rule is not JSON a rule can be read from: {e}"),
                ));
            }
        },
    };
    result.map_err(|errors| invalid(&errors))
}

/// 422 with every error of the rule.
pub fn invalid(errors: &[RuleError]) -> ApiError {
    let list: Vec<Value> = errors
        .iter()
        .map(|e| json!({ "path": e.path, "offset": e.offset, "key": e.kind.as_str(), "message": e.message }))
        .collect();
    let first = errors.first().map(|e| e.message.clone()).unwrap_or_default();
    ApiError::new(ErrorCode::InvalidRule, format!("the rule is invalid: {first}"))
        .with_details(json!({ "errors": list }))
}

/// The canonical JSON text of a rule, as stored.
pub fn canonical(rule: &Rule) -> String {
    rule.to_json().to_string()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadsResponse {
    pub customer_profile: bool,
    pub customer_metadata: bool,
    pub order_history: bool,
    pub events: Vec<String>,
    pub redemptions: bool,
    pub loyalty: bool,
    pub segments: Vec<String>,
    pub current_order: bool,
    pub current_event: bool,
    pub clock: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResponse {
    /// The canonical JSON form (what is stored; explanation paths point into it).
    #[schema(value_type = Object)]
    pub json: Value,
    /// The readable form; parses back to the same rule.
    pub text: String,
    pub reads: ReadsResponse,
    /// The result can change with time alone (windows, calendar, hour).
    pub time_dependent: bool,
    pub nodes: usize,
}

impl RuleResponse {
    pub fn from(rule: &Rule) -> RuleResponse {
        let r: &Reads = rule.reads();
        RuleResponse {
            json: serde_json::from_str(&canonical(rule)).unwrap_or(Value::Null),
            text: rule.to_text(),
            reads: ReadsResponse {
                customer_profile: r.customer_profile,
                customer_metadata: r.customer_metadata,
                order_history: r.order_history,
                events: r.event_names.clone(),
                redemptions: r.redemptions,
                loyalty: r.loyalty,
                segments: r.segments.iter().map(ToString::to_string).collect(),
                current_order: r.current_order,
                current_event: r.current_event,
                clock: r.clock,
            },
            time_dependent: rule.is_time_dependent(),
            nodes: rule.node_count(),
        }
    }
}

fn value(v: &TraceValue, currency: Currency) -> Value {
    match v {
        TraceValue::Missing => Value::Null,
        TraceValue::Bool(b) => json!(b),
        TraceValue::Int(i) | TraceValue::Money(i) => json!(i),
        TraceValue::Number(n) => json!(n),
        TraceValue::Text(s) => json!(s),
        TraceValue::Date(d) => json!(d.to_string()),
        TraceValue::Weekday(_) => json!(v.to_text(currency)),
        TraceValue::List(items) => Value::Array(items.iter().map(|i| value(i, currency)).collect()),
    }
}

fn action(a: HintAction) -> &'static str {
    match a {
        HintAction::Spend => "spend",
        HintAction::AddToOrder => "add_to_order",
        HintAction::PlaceOrders => "place_orders",
        HintAction::RepeatEvent => "repeat_event",
        HintAction::Redeem => "redeem",
        HintAction::CollectPoints => "collect_points",
        HintAction::AddItems => "add_items",
        HintAction::AddMatchingItems => "add_matching_items",
    }
}

pub fn hint(h: &Hint, currency: Currency) -> Value {
    json!({ "action": action(h.action), "missing": value(&h.missing, currency), "text": h.text })
}

/// A trace as JSON: per condition its result, the actual and expected values (money in minor units, with
/// texts in major units), a customer-safe hint where one applies, and the conditions under it.
pub fn trace(t: &Trace, currency: Currency) -> Value {
    let text = |v: &TraceValue| v.to_text(currency);
    json!({
        "path": t.path,
        "condition": t.condition,
        "result": t.result,
        "actual": t.actual.as_ref().map(|v| value(v, currency)),
        "actual_text": t.actual.as_ref().map(text),
        "expected": t.expected.as_ref().map(|e| json!({
            "op": e.op,
            "value": e.value.as_ref().map(|v| value(v, currency)),
            "text": e.value.as_ref().map(text),
        })),
        "hint": t.hint.as_ref().map(|h| hint(h, currency)),
        "children": t.children.iter().map(|c| trace(c, currency)).collect::<Vec<_>>(),
    })
}

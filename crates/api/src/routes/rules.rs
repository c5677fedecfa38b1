//! `/v1/rules`: check a rule (all errors at once, with paths) and evaluate one with an explanation.

use crate::dto::common::{metadata, parse_time};
use crate::dto::customer::CustomerBody;
use crate::dto::order::OrderBody;
use crate::dto::rule::{RuleResponse, hint, parse, trace};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, JsonBody};
use crate::routes::check;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use fidelis_core::customer::{Customer, decide_upsert};
use fidelis_core::ids::{OrderId, SequentialIds};
use fidelis_core::metadata::Metadata;
use fidelis_core::order::{Order, OrderStatus};
use fidelis_core::rejection::FieldErrors;
use fidelis_core::rules::{Context, CustomerFacts, EventFacts, LoyaltyFacts};
use fidelis_engine::domains::customers::WhenMissing;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// The JSON form (an object) or the text form (a string).
    #[schema(value_type = Object, example = "order.amount >= 50.00 and customer.address.country in [\"AT\", \"DE\"]")]
    pub rule: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateResponse {
    /// Always "rule_validation".
    pub object: &'static str,
    pub valid: bool,
    pub rule: RuleResponse,
}

/// Check a rule: 200 with its canonical forms and what it reads, or 422 `invalid_rule` listing every
/// error with its JSON-pointer path (and, for the text form, its character offset).
#[utoipa::path(post, path = "/v1/rules/validate", tag = "rules", request_body = RuleBody,
    responses((status = 200, body = ValidateResponse), (status = "4XX", body = ErrorBody)))]
pub async fn validate(auth: Auth, body: JsonBody<RuleBody>) -> Result<Json<ValidateResponse>, ApiError> {
    let rule = parse(&body.value.rule, auth.0.project.currency)?;
    Ok(Json(ValidateResponse { object: "rule_validation", valid: true, rule: RuleResponse::from(&rule) }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventContextBody {
    pub event: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// A rule and what to evaluate it against. `customer` naming an existing customer (`id` or `source_id`)
/// uses everything stored about them (aggregates, segments, balances); otherwise its fields describe a
/// customer without history. `order` is a cart or order as `POST /v1/orders` takes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateBody {
    #[schema(value_type = Object)]
    pub rule: Value,
    #[serde(default)]
    pub customer: Option<CustomerBody>,
    #[serde(default)]
    pub order: Option<OrderBody>,
    #[serde(default)]
    pub event: Option<EventContextBody>,
    /// The instant to evaluate at (RFC 3339); defaults to now.
    #[serde(default)]
    pub now: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluateResponse {
    /// Always "rule_evaluation".
    pub object: &'static str,
    pub result: bool,
    /// Per condition: result, actual and expected values, hint.
    #[schema(value_type = Object)]
    pub explanation: Value,
    /// Customer-safe hints of the conditions that failed ("spend 12.00 more").
    #[schema(value_type = Vec<Object>)]
    pub hints: Vec<Value>,
}

/// Evaluate a rule against a customer, an order and/or an event, with an explanation of every condition.
#[utoipa::path(post, path = "/v1/rules/evaluate", tag = "rules", request_body = EvaluateBody,
    responses((status = 200, body = EvaluateResponse), (status = "4XX", body = ErrorBody)))]
pub async fn evaluate(
    State(state): State<AppState>,
    auth: Auth,
    body: JsonBody<EvaluateBody>,
) -> Result<Json<EvaluateResponse>, ApiError> {
    let project = &auth.0.project;
    let rule = parse(&body.value.rule, project.currency)?;
    let mut errors = FieldErrors::default();
    let now = match &body.value.now {
        Some(t) => errors.take(parse_time("/now", t)),
        None => Some(state.engine.clock().now()),
    };
    let order_input = body.value.order.as_ref().map(|o| {
        let mut inner = FieldErrors::default();
        let input = o.input(&mut inner);
        errors.nested("/order", inner);
        input
    });
    let event_metadata =
        body.value.event.as_ref().map(|e| metadata(&mut errors, "/event/metadata", e.metadata.as_ref()));
    let customer_input = body.value.customer.as_ref().map(|c| c.input(&mut errors, "/customer", WhenMissing::Create));
    check(errors)?;
    let now = now.unwrap_or_else(|| state.engine.clock().now());
    let (customer, memberships) = match customer_input {
        Some(input) => Some(load_or_describe(&state, &auth, &input, now).await?).unzip(),
        None => (None, None),
    };
    let memberships = memberships.unwrap_or_default();
    let loyalty: Vec<LoyaltyFacts<'_>> =
        memberships.iter().map(|m| LoyaltyFacts::of(&m.membership, m.balance)).collect();
    let order = order_input.map(|input| describe_order(&auth, input.draft, now));
    let tz = project.tz();
    let event_metadata = event_metadata.unwrap_or_default();
    let ctx = Context {
        now,
        time_zone: &tz,
        currency: project.currency,
        customer: customer.as_ref().map(|c| CustomerFacts { customer: c, segments: &c.segments, loyalty: &loyalty }),
        order: order.as_ref(),
        event: body.value.event.as_ref().map(|e| EventFacts { name: &e.event, metadata: &event_metadata }),
    };
    let explained = rule.explain(&ctx);
    Ok(Json(EvaluateResponse {
        object: "rule_evaluation",
        result: rule.evaluate(&ctx),
        hints: explained.hints().into_iter().map(|h| hint(h, project.currency)).collect(),
        explanation: trace(&explained, project.currency),
    }))
}

async fn load_or_describe(
    state: &AppState,
    auth: &Auth,
    input: &fidelis_engine::domains::customers::CustomerInput,
    now: jiff::Timestamp,
) -> Result<(Customer, Vec<fidelis_engine::domains::members::MemberView>), ApiError> {
    let reads = state.engine.reads();
    if let Some(reference) = &input.reference
        && let Some(stored) = reads.customer(auth.project(), reference).await?
    {
        let memberships = reads.customer_memberships(auth.project(), &stored.id).await?;
        let programs = reads.program_list(auth.project()).await?;
        let tz = auth.0.project.tz();
        let views = fidelis_engine::queries::members::views(reads, memberships, &programs, &tz, now).await?;
        return Ok((stored, views));
    }
    let mut ids = SequentialIds::starting_at(0);
    let described = match decide_upsert(auth.project(), None, &input.patch, now, &mut ids) {
        Ok(decided) => decided.customer,
        Err(fidelis_core::rejection::Rejection::Invalid(list)) => {
            let mut errors = FieldErrors::default();
            errors.nested("/customer", FieldErrors(list));
            return Err(ApiError::invalid(errors.0));
        }
        Err(other) => return Err(crate::error::rejection(&other)),
    };
    Ok((described, Vec::new()))
}

fn describe_order(auth: &Auth, draft: fidelis_core::order::OrderDraft, now: jiff::Timestamp) -> Order {
    // An order described only in part (no amount, say) is evaluated with what it has.
    let lines = draft.lines.and_then(|patch| patch.apply(None).ok()).unwrap_or(fidelis_core::order::OrderLines {
        amount: fidelis_core::money::Money::ZERO,
        discount_amount: fidelis_core::money::Money::ZERO,
        items: Vec::new(),
    });
    Order {
        id: OrderId::fresh(&mut SequentialIds::starting_at(0)),
        project_id: auth.project().clone(),
        source_id: draft.source_id,
        customer_id: None,
        status: draft.status.unwrap_or(OrderStatus::Created),
        lines,
        metadata: Metadata::default().merge("/metadata", &draft.metadata).unwrap_or_default(),
        refunded_amount: fidelis_core::money::Money::ZERO,
        paid_at: None,
        paid_on: None,
        earnings: Vec::new(),
        created_at: now,
        updated_at: now,
    }
}

//! `/v1/orders`: upsert (status changes drive earning and clawback), refunds, read, list.

use super::{PathArgs, check, order_ref};
use crate::RequestId;
use crate::dto::common::ListBody;
use crate::dto::earning::explanation;
use crate::dto::order::{OrderBody, OrderResponse, RefundBody};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, JsonBody, Query};
use crate::extract::{DryRun, Explained};
use crate::render::{Rendered, bytes, created};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use fidelis_core::money::Money;
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use fidelis_engine::command::Action;
use fidelis_engine::command::Scope;
use fidelis_engine::domains::orders;
use fidelis_engine::domains::orders::Command as OrderCommand;

/// Create or update an order, matched on `source_id`. Becoming PAID (or FULFILLED) earns points once;
/// CANCELED, REFUNDED and partial refunds claw back in proportion.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = OrderBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = OrderResponse), (status = 200, body = OrderResponse),
              (status = "4XX", body = ErrorBody)))]
pub async fn upsert(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    query: Explained,
    body: JsonBody<OrderBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let mut input = body.value.input(&mut errors);
    check(errors)?;
    input.explain = query.explain;
    let action = Action::Orders(OrderCommand::Upsert(Box::new(input)));
    super::run_or_dry(&state, &auth, request_id, body.idempotency, query.dry_run, action).await
}

/// Refund part of a paid order (`amount` more than before); refunding the rest makes it REFUNDED.
#[utoipa::path(post, path = "/v1/orders/{order}/refunds", tag = "orders", request_body = RefundBody,
    params(("order" = String, Path, description = "ord_… id or source_id")),
    responses((status = 200, body = OrderResponse), (status = "4XX", body = ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(reference): PathArgs<String>,
    dry_run: DryRun,
    body: JsonBody<RefundBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let amount = body.value.amount.read(&mut errors, "/amount").ok().and_then(Money::new);
    let Some(amount) = amount.filter(|m| m.minor_units() > 0) else {
        if errors.is_empty() {
            errors.push("/amount", FieldErrorKey::OutOfRange, "must be a positive amount in minor units");
        }
        return Err(ApiError::invalid(errors.0));
    };
    let action = Action::Orders(OrderCommand::Refund { order: order_ref(&reference), amount });
    super::run_or_dry(&state, &auth, request_id, body.idempotency, dry_run, action).await
}

#[utoipa::path(get, path = "/v1/orders/{order}", tag = "orders",
    params(("order" = String, Path, description = "ord_… id or source_id")),
    responses((status = 200, body = OrderResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(reference): PathArgs<String>,
) -> Result<Json<OrderResponse>, ApiError> {
    let found = state.engine.reads().order(auth.project(), &order_ref(&reference)).await?;
    let currency = auth.0.project.currency.code();
    found.map(|o| Json(OrderResponse::from(&o, currency, None))).ok_or_else(|| ApiError::not_found("order", &reference))
}

/// Orders, newest first; `customer` (id or source_id) narrows to one customer.
#[utoipa::path(get, path = "/v1/orders", tag = "orders",
    params(("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query), ("customer" = Option<String>, Query)),
    responses((status = 200, body = ListBody<OrderResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    query: Query,
) -> Result<Json<ListBody<OrderResponse>>, ApiError> {
    let mut page = query.page(&["customer"], fidelis_core::ids::OrderId::PREFIX)?;
    let limit = page.limit;
    page.limit += 1;
    let reads = state.engine.reads();
    let customer = super::customer_filter(&state, &auth, &query).await?;
    let rows = reads.order_page(auth.project(), customer.as_ref(), &page).await?;
    let currency = auth.0.project.currency.code();
    Ok(Json(ListBody::page(rows, limit, |o| o.id.to_string(), |o| OrderResponse::from(o, currency, None))))
}

/// The answer of an order command.
pub fn render(scope: &Scope, o: &orders::Outcome) -> Rendered {
    let currency = scope.project.currency;
    let mut body = OrderResponse::from(&o.order, currency.code(), Some(&o.entries));
    if !o.earning.is_empty() {
        body.earning = Some(o.earning.iter().map(|e| explanation(&e.program_id, &e.rules, currency)).collect());
    }
    (created(o.created), bytes(&body))
}

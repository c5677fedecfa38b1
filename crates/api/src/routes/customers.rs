//! `/v1/customers`: upsert, read, list, erase, memberships.

use super::{PathArgs, check, customer_ref, run};
use crate::RequestId;
use crate::dto::common::ListBody;
use crate::dto::customer::{AsOf, CustomerBody, CustomerResponse};
use crate::dto::member::MemberResponse;
use crate::dto::segment::SegmentResponse;
use crate::error::{ApiError, ErrorBody};
use crate::extract::DryRun;
use crate::extract::{Auth, IdempotencyOnly, JsonBody, Query};
use crate::render::{Rendered, bytes, created};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use fidelis_core::rejection::FieldErrors;
use fidelis_engine::command::Action;
use fidelis_engine::command::Scope;
use fidelis_engine::domains::customers;
use fidelis_engine::domains::customers::{Command as CustomerCommand, WhenMissing};

/// Create or update a customer. With `source_id`, an existing customer with it is updated (200) or a new
/// one created (201); with `id`, that customer is updated; with neither, a new customer is created.
#[utoipa::path(post, path = "/v1/customers", tag = "customers", request_body = CustomerBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = CustomerResponse), (status = 200, body = CustomerResponse),
              (status = "4XX", body = ErrorBody)))]
pub async fn upsert(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    dry_run: DryRun,
    body: JsonBody<CustomerBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let when_missing = if body.value.id.is_some() { WhenMissing::Reject } else { WhenMissing::Create };
    let input = body.value.input(&mut errors, "", when_missing);
    check(errors)?;
    let action = Action::Customers(CustomerCommand::Upsert(Box::new(input)));
    super::run_or_dry(&state, &auth, request_id, body.idempotency, dry_run, action).await
}

/// Update an existing customer named by id or `source_id`.
#[utoipa::path(post, path = "/v1/customers/{customer}", tag = "customers", request_body = CustomerBody,
    params(("customer" = String, Path, description = "cust_… id or source_id")),
    responses((status = 200, body = CustomerResponse), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(reference): PathArgs<String>,
    body: JsonBody<CustomerBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let mut input = body.value.input(&mut errors, "", WhenMissing::Reject);
    input.reference = Some(customer_ref(&reference));
    if body.value.id.is_some() || body.value.source_id.is_some() {
        errors.push(
            "/source_id",
            fidelis_core::rejection::FieldErrorKey::Conflict,
            "the path names the customer; leave id and source_id out",
        );
    }
    check(errors)?;
    run(&state, &auth, request_id, body.idempotency, Action::Customers(CustomerCommand::Upsert(Box::new(input)))).await
}

#[utoipa::path(get, path = "/v1/customers/{customer}", tag = "customers",
    params(("customer" = String, Path, description = "cust_… id or source_id")),
    responses((status = 200, body = CustomerResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(reference): PathArgs<String>,
) -> Result<Json<CustomerResponse>, ApiError> {
    let found = state.engine.reads().customer(auth.project(), &customer_ref(&reference)).await?;
    let tz = auth.0.project.tz();
    let as_of = AsOf { now: state.engine.clock().now(), time_zone: &tz };
    found.map(|c| Json(CustomerResponse::from(&c, &as_of))).ok_or_else(|| ApiError::not_found("customer", &reference))
}

/// Customers, newest first.
#[utoipa::path(get, path = "/v1/customers", tag = "customers",
    params(("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<CustomerResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    query: Query,
) -> Result<Json<ListBody<CustomerResponse>>, ApiError> {
    let mut page = query.page(&[], fidelis_core::ids::CustomerId::PREFIX)?;
    let limit = page.limit;
    page.limit += 1;
    let rows = state.engine.reads().customer_page(auth.project(), &page).await?;
    let tz = auth.0.project.tz();
    let as_of = AsOf { now: state.engine.clock().now(), time_zone: &tz };
    Ok(Json(ListBody::page(rows, limit, |c| c.id.to_string(), |c| CustomerResponse::from(c, &as_of))))
}

/// Erase a customer's personal data (profile, metadata, source_id, and the metadata of their orders and
/// events). Ledger entries and aggregates stay, attached to the bare id.
#[utoipa::path(delete, path = "/v1/customers/{customer}", tag = "customers",
    params(("customer" = String, Path, description = "cust_… id or source_id")),
    responses((status = 200, body = CustomerResponse), (status = "4XX", body = ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    IdempotencyOnly(idempotency): IdempotencyOnly,
    PathArgs(reference): PathArgs<String>,
) -> Result<Response, ApiError> {
    run(&state, &auth, request_id, idempotency, Action::Customers(CustomerCommand::Erase(customer_ref(&reference))))
        .await
}

/// The customer's memberships of every program.
#[utoipa::path(get, path = "/v1/customers/{customer}/memberships", tag = "customers",
    params(("customer" = String, Path, description = "cust_… id or source_id")),
    responses((status = 200, body = ListBody<MemberResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn memberships(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(reference): PathArgs<String>,
) -> Result<Json<ListBody<MemberResponse>>, ApiError> {
    let reads = state.engine.reads();
    let customer = reads
        .customer(auth.project(), &customer_ref(&reference))
        .await?
        .ok_or_else(|| ApiError::not_found("customer", &reference))?;
    let rows = reads.customer_memberships(auth.project(), &customer.id).await?;
    let programs = reads.program_list(auth.project()).await?;
    let now = state.engine.clock().now();
    let views = fidelis_engine::queries::members::views(reads, rows, &programs, &auth.0.project.tz(), now).await?;
    let count = views.len();
    Ok(Json(ListBody::page(views, count, |m| m.membership.id.to_string(), MemberResponse::from)))
}

/// The segments the customer belongs to.
#[utoipa::path(get, path = "/v1/customers/{customer}/segments", tag = "customers",
    params(("customer" = String, Path, description = "cust_… id or source_id")),
    responses((status = 200, body = ListBody<SegmentResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn segments(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(reference): PathArgs<String>,
) -> Result<Json<ListBody<SegmentResponse>>, ApiError> {
    let reads = state.engine.reads();
    let customer = reads
        .customer(auth.project(), &customer_ref(&reference))
        .await?
        .ok_or_else(|| ApiError::not_found("customer", &reference))?;
    let all = reads.segment_list(auth.project()).await?;
    let mine: Vec<_> = all.into_iter().filter(|s| customer.segments.binary_search(&s.id).is_ok()).collect();
    let count = mine.len();
    let currency = auth.0.project.currency;
    Ok(Json(ListBody::page(mine, count, |s| s.id.to_string(), |s| SegmentResponse::from(s, currency, None))))
}

/// The answer of a customer command.
pub fn render(scope: &Scope, o: &customers::Outcome, now: jiff::Timestamp) -> Rendered {
    let tz = scope.project.tz();
    (created(o.created), bytes(&CustomerResponse::from(&o.customer, &AsOf { now, time_zone: &tz })))
}

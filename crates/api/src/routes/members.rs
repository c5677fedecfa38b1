//! `/v1/programs/{program}/members`: enrolment, balances, manual points changes, transactions and
//! points expiring soon.

use super::programs::program_id;
use super::{PathArgs, check, member_ref, run};
use crate::RequestId;
use crate::dto::common::ListBody;
use crate::dto::member::{
    AdjustmentResponse, EnrolBody, ExpiringDate, ExpiringResponse, MemberResponse, PointsBody, TransactionResponse,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, JsonBody, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use fidelis_core::calendar::{add_days, local_date};
use fidelis_core::ids::{EntryId, MembershipId, ProgramId};
use fidelis_core::ledger::Membership;
use fidelis_core::limits::EXPIRING_SOON_DAYS_MAX;
use fidelis_core::rejection::FieldErrors;
use fidelis_engine::command::{Action, Direction, PointsAdjustment, WhenMissing};
use std::collections::BTreeMap;

/// Days of "expiring soon" when the request does not say.
pub const EXPIRING_SOON_DAYS_DEFAULT: i32 = 30;

/// Enrol a customer (201), or return their existing membership (200).
#[utoipa::path(post, path = "/v1/programs/{program}/members", tag = "members", request_body = EnrolBody,
    params(("program" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = MemberResponse), (status = 200, body = MemberResponse), (status = "4XX", body = ErrorBody)))]
pub async fn enrol(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(program): PathArgs<String>,
    body: JsonBody<EnrolBody>,
) -> Result<Response, ApiError> {
    let program = program_id(&program)?;
    let mut errors = FieldErrors::default();
    let customer = body.value.customer.input(&mut errors, "/customer", WhenMissing::Create);
    if customer.reference.is_none() {
        errors.push(
            "/customer",
            fidelis_core::rejection::FieldErrorKey::Required,
            "name the customer by id or source_id",
        );
    }
    let card_code = body.value.card_code(&mut errors);
    check(errors)?;
    run(&state, &auth, request_id, body.idempotency, Action::Enrol { program, customer, card_code }).await
}

#[utoipa::path(get, path = "/v1/programs/{program}/members", tag = "members",
    params(("program" = String, Path), ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<MemberResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(program_raw): PathArgs<String>,
    query: Query,
) -> Result<Json<ListBody<MemberResponse>>, ApiError> {
    let program = program_id(&program_raw)?;
    let mut page = query.page(&[], MembershipId::PREFIX)?;
    let limit = page.limit;
    page.limit += 1;
    let reads = state.engine.reads();
    // An unknown program has no member list, not an empty one (as every other path under it).
    if reads.program(auth.project(), &program).await?.is_none() {
        return Err(ApiError::not_found("program", &program_raw));
    }
    let rows = reads.membership_page(auth.project(), &program, &page).await?;
    Ok(Json(ListBody::page(rows, limit, |m| m.id.to_string(), MemberResponse::from)))
}

async fn membership(state: &AppState, auth: &Auth, program: &ProgramId, member: &str) -> Result<Membership, ApiError> {
    let found = state.engine.reads().membership(auth.project(), program, &member_ref(member)).await?;
    found.ok_or_else(|| ApiError::not_found("member", member))
}

/// A member by `mem_…` id or card code: balance and totals.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}", tag = "members",
    params(("program" = String, Path), ("member" = String, Path, description = "mem_… id or card code")),
    responses((status = 200, body = MemberResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((program, member)): PathArgs<(String, String)>,
) -> Result<Json<MemberResponse>, ApiError> {
    let program = program_id(&program)?;
    Ok(Json(MemberResponse::from(&membership(&state, &auth, &program, &member).await?)))
}

async fn adjust(
    state: AppState,
    auth: Auth,
    request_id: RequestId,
    (program, member): (String, String),
    body: JsonBody<PointsBody>,
    direction: Direction,
) -> Result<Response, ApiError> {
    let program = program_id(&program)?;
    let mut errors = FieldErrors::default();
    let (points, reason, expires_on) = body.value.parse(&mut errors);
    if direction == Direction::Remove && expires_on.is_some() {
        errors.push("/expires_on", fidelis_core::rejection::FieldErrorKey::Conflict, "only additions take an expiry");
    }
    check(errors)?;
    let Some(points) = points else {
        return Err(ApiError::invalid(Vec::new()));
    };
    let adjustment = PointsAdjustment { program, member: member_ref(&member), direction, points, reason, expires_on };
    run(&state, &auth, request_id, body.idempotency, Action::AdjustPoints(adjustment)).await
}

/// Add points by hand (a new lot; `expires_on` overrides the program's expiry).
#[utoipa::path(post, path = "/v1/programs/{program}/members/{member}/points/add", tag = "members", request_body = PointsBody,
    params(("program" = String, Path), ("member" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = AdjustmentResponse), (status = "4XX", body = ErrorBody)))]
pub async fn add_points(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(path): PathArgs<(String, String)>,
    body: JsonBody<PointsBody>,
) -> Result<Response, ApiError> {
    adjust(state, auth, request_id, path, body, Direction::Add).await
}

/// Remove points by hand (soonest-expiring lots first); more than the balance is refused.
#[utoipa::path(post, path = "/v1/programs/{program}/members/{member}/points/remove", tag = "members", request_body = PointsBody,
    params(("program" = String, Path), ("member" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = AdjustmentResponse), (status = "4XX", body = ErrorBody)))]
pub async fn remove_points(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(path): PathArgs<(String, String)>,
    body: JsonBody<PointsBody>,
) -> Result<Response, ApiError> {
    adjust(state, auth, request_id, path, body, Direction::Remove).await
}

/// The member's ledger, newest first; each transaction names its cause.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}/transactions", tag = "members",
    params(("program" = String, Path), ("member" = String, Path), ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<TransactionResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn transactions(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((program, member)): PathArgs<(String, String)>,
    query: Query,
) -> Result<Json<ListBody<TransactionResponse>>, ApiError> {
    let program = program_id(&program)?;
    let mut page = query.page(&[], EntryId::PREFIX)?;
    let limit = page.limit;
    page.limit += 1;
    let m = membership(&state, &auth, &program, &member).await?;
    let rows = state.engine.reads().entry_page(auth.project(), &m.id, &page).await?;
    Ok(Json(ListBody::page(rows, limit, |e| e.id.to_string(), TransactionResponse::from)))
}

/// Points whose last usable day falls within the next `days` days (default 30), summed per date.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}/expiring", tag = "members",
    params(("program" = String, Path), ("member" = String, Path), ("days" = Option<i32>, Query)),
    responses((status = 200, body = ExpiringResponse), (status = "4XX", body = ErrorBody)))]
pub async fn expiring(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((program_raw, member)): PathArgs<(String, String)>,
    query: Query,
) -> Result<Json<ExpiringResponse>, ApiError> {
    let program_id = program_id(&program_raw)?;
    query.only(&["days"])?;
    let days = match query.0.get("days") {
        None => EXPIRING_SOON_DAYS_DEFAULT,
        Some(raw) => raw.parse::<i32>().ok().filter(|d| (0..=EXPIRING_SOON_DAYS_MAX).contains(d)).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("days must be a whole number from 0 to {EXPIRING_SOON_DAYS_MAX}"),
            )
        })?,
    };
    let reads = state.engine.reads();
    let program = reads
        .program(auth.project(), &program_id)
        .await?
        .ok_or_else(|| ApiError::not_found("program", &program_raw))?;
    let m = membership(&state, &auth, &program_id, &member).await?;
    let tz = program
        .time_zone
        .as_deref()
        .and_then(|z| jiff::tz::TimeZone::get(z).ok())
        .unwrap_or_else(|| auth.0.project.tz());
    let today = local_date(state.engine.clock().now(), &tz);
    let until = add_days(today, days).unwrap_or(today);
    let mut by_date: BTreeMap<jiff::civil::Date, i64> = BTreeMap::new();
    for lot in reads.open_lot_list(auth.project(), &m.id).await? {
        if let Some(day) = lot.expires_on.filter(|d| *d >= today && *d <= until) {
            *by_date.entry(day).or_default() += lot.remaining;
        }
    }
    Ok(Json(ExpiringResponse {
        object: "expiring_points",
        member_id: m.id.to_string(),
        within_days: days,
        total: by_date.values().sum(),
        dates: by_date.into_iter().map(|(d, points)| ExpiringDate { date: d.to_string(), points }).collect(),
    }))
}

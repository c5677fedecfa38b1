//! `/v1/programs/{program}/members`: enrolment, balances, manual points changes, transfers, transactions
//! and points expiring soon.

use super::programs::program_id;
use super::{PathArgs, check, member_ref, run_or_dry};
use crate::RequestId;
use crate::dto::common::ListBody;
use crate::dto::member::{
    AdjustmentResponse, EnrolBody, ExpiringDate, ExpiringResponse, MemberResponse, PointsBody, TransactionResponse,
    TransferBody, TransferResponse,
};
use crate::dto::tier::MemberTierResponse;
use crate::error::ErrorCode;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, DryRun, JsonBody, Query};
use crate::render::{Rendered, bytes, created};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fidelis_core::ids::{EntryId, MembershipId, ProgramId};
use fidelis_core::limits::{EXPIRING_SOON_DAYS_MAX, REASON_CHARS_MAX};
use fidelis_core::money::Points;
use fidelis_core::program::Program;
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use fidelis_engine::command::Action;
use fidelis_engine::domains::customers::WhenMissing;
use fidelis_engine::domains::members;
use fidelis_engine::domains::members::{
    Command as MemberCommand, Direction, MemberView, PointsAdjustment, PointsTransfer,
};
use fidelis_engine::port::CustomerRef;
use fidelis_engine::queries::members as member_queries;

/// Days of "expiring soon" when the request does not say.
pub const EXPIRING_SOON_DAYS_DEFAULT: i32 = 30;

/// Enrol a customer (201), or return their existing membership (200).
#[utoipa::path(post, path = "/v1/programs/{program}/members", tag = "members", request_body = EnrolBody,
    params(("program" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
           ("dry_run" = Option<bool>, Query, description = "Answer what the call would do; commit nothing")),
    responses((status = 201, body = MemberResponse), (status = 200, body = MemberResponse), (status = "4XX", body = ErrorBody)))]
pub async fn enrol(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(program): PathArgs<String>,
    dry_run: DryRun,
    body: JsonBody<EnrolBody>,
) -> Result<Response, ApiError> {
    let program = program_id(&program)?;
    let mut errors = FieldErrors::default();
    let customer = body.value.customer.input(&mut errors, "/customer", WhenMissing::Create);
    if customer.reference.is_none() {
        errors.push("/customer", FieldErrorKey::Required, "name the customer by id or source_id");
    }
    let card_code = body.value.card_code(&mut errors);
    check(errors)?;
    let action = Action::Members(MemberCommand::Enrol { program, customer: Box::new(customer), card_code });
    run_or_dry(&state, &auth, request_id, body.idempotency, dry_run, action).await
}

/// The program, or 404: every path under an unknown program answers the same.
pub(super) async fn program(state: &AppState, auth: &Auth, raw: &str) -> Result<Program, ApiError> {
    let id = program_id(raw)?;
    state.engine.reads().program(auth.project(), &id).await?.ok_or_else(|| ApiError::not_found("program", raw))
}

#[utoipa::path(get, path = "/v1/programs/{program}/members", tag = "members",
    params(("program" = String, Path), ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<MemberResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(raw): PathArgs<String>,
    query: Query,
) -> Result<Json<ListBody<MemberResponse>>, ApiError> {
    let mut page = query.page(&[], MembershipId::PREFIX)?;
    let program = program(&state, &auth, &raw).await?;
    let limit = page.limit;
    page.limit += 1;
    let reads = state.engine.reads();
    let rows = reads.membership_page(auth.project(), &program.id, &page).await?;
    let now = state.engine.clock().now();
    let views = member_queries::views(reads, rows, std::slice::from_ref(&program), &auth.0.project.tz(), now).await?;
    Ok(Json(ListBody::page(views, limit, |m| m.membership.id.to_string(), MemberResponse::from)))
}

pub(super) async fn member(
    state: &AppState,
    auth: &Auth,
    program: &Program,
    member: &str,
) -> Result<MemberView, ApiError> {
    let reads = state.engine.reads();
    let found = reads.membership(auth.project(), &program.id, &member_ref(member)).await?;
    let membership = found.ok_or_else(|| ApiError::not_found("member", member))?;
    let today = member_queries::program_today(Some(program), &auth.0.project.tz(), state.engine.clock().now());
    Ok(member_queries::view(reads, membership, today).await?)
}

/// A member by `mem_…` id or card code: what they can spend now, holds and totals.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}", tag = "members",
    params(("program" = String, Path), ("member" = String, Path, description = "mem_… id or card code")),
    responses((status = 200, body = MemberResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((raw, member_raw)): PathArgs<(String, String)>,
) -> Result<Json<MemberResponse>, ApiError> {
    let program = program(&state, &auth, &raw).await?;
    let view = member(&state, &auth, &program, &member_raw).await?;
    let mut body = MemberResponse::from(&view);
    if let Some(config) = &program.tiers {
        let m = &view.membership;
        let today = member_queries::program_today(Some(&program), &auth.0.project.tz(), state.engine.clock().now());
        let customer = state.engine.reads().customer(auth.project(), &CustomerRef::Id(m.customer_id.clone())).await?;
        let spent = |from: jiff::civil::Date| customer.as_ref().map_or(0, |c| c.stats.window(from, today).0);
        let value = config.value(&m.tier, view.balance.value(), spent, today);
        body.tier_progress = Some(MemberTierResponse::from(config, &m.tier, value, today));
    }
    Ok(Json(body))
}

struct Change {
    program: ProgramId,
    member: String,
    dry_run: DryRun,
}

async fn adjust(
    state: AppState,
    auth: Auth,
    request_id: RequestId,
    change: Change,
    body: JsonBody<PointsBody>,
    direction: Direction,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let (points, reason, expires_on) = body.value.parse(&mut errors);
    if direction == Direction::Remove && expires_on.is_some() {
        errors.push("/expires_on", FieldErrorKey::Conflict, "only additions take an expiry");
    }
    check(errors)?;
    let Some(points) = points else {
        return Err(ApiError::invalid(Vec::new()));
    };
    let member = member_ref(&change.member);
    let adjustment = PointsAdjustment { program: change.program, member, direction, points, reason, expires_on };
    let action = Action::Members(MemberCommand::Adjust(adjustment));
    run_or_dry(&state, &auth, request_id, body.idempotency, change.dry_run, action).await
}

/// Add points by hand (a new lot; `expires_on` overrides the program's expiry).
#[utoipa::path(post, path = "/v1/programs/{program}/members/{member}/points/add", tag = "members", request_body = PointsBody,
    params(("program" = String, Path), ("member" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
           ("dry_run" = Option<bool>, Query, description = "Answer what the call would do; commit nothing")),
    responses((status = 201, body = AdjustmentResponse), (status = "4XX", body = ErrorBody)))]
pub async fn add_points(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs((program, member)): PathArgs<(String, String)>,
    dry_run: DryRun,
    body: JsonBody<PointsBody>,
) -> Result<Response, ApiError> {
    let change = Change { program: program_id(&program)?, member, dry_run };
    adjust(state, auth, request_id, change, body, Direction::Add).await
}

/// Remove points by hand (soonest-expiring lots first); more than the member can spend is refused.
#[utoipa::path(post, path = "/v1/programs/{program}/members/{member}/points/remove", tag = "members", request_body = PointsBody,
    params(("program" = String, Path), ("member" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
           ("dry_run" = Option<bool>, Query, description = "Answer what the call would do; commit nothing")),
    responses((status = 201, body = AdjustmentResponse), (status = "4XX", body = ErrorBody)))]
pub async fn remove_points(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs((program, member)): PathArgs<(String, String)>,
    dry_run: DryRun,
    body: JsonBody<PointsBody>,
) -> Result<Response, ApiError> {
    let change = Change { program: program_id(&program)?, member, dry_run };
    adjust(state, auth, request_id, change, body, Direction::Remove).await
}

/// Move points to another member of the same program: the soonest-expiring points first, and they keep
/// their last usable day. More than the member can spend is refused whole.
#[utoipa::path(post, path = "/v1/programs/{program}/members/{member}/points/transfer", tag = "members", request_body = TransferBody,
    params(("program" = String, Path), ("member" = String, Path, description = "The giving member: mem_… id or card code"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
           ("dry_run" = Option<bool>, Query, description = "Answer what the call would do; commit nothing")),
    responses((status = 201, body = TransferResponse), (status = "4XX", body = ErrorBody)))]
pub async fn transfer(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs((program, member)): PathArgs<(String, String)>,
    dry_run: DryRun,
    body: JsonBody<TransferBody>,
) -> Result<Response, ApiError> {
    let program = program_id(&program)?;
    let mut errors = FieldErrors::default();
    let points = body.value.points.read(&mut errors, "/points").ok().and_then(Points::positive);
    let reason = errors.take(fidelis_core::text::bounded("/reason", &body.value.reason, REASON_CHARS_MAX));
    let to = body.value.to.trim();
    if to.is_empty() || to.chars().count() > fidelis_core::limits::CARD_CODE_CHARS_MAX {
        errors.push("/to", FieldErrorKey::InvalidFormat, "name the receiving member by mem_… id or card code");
    }
    check(errors)?;
    let (Some(points), Some(reason)) = (points, reason) else {
        return Err(ApiError::invalid(Vec::new()));
    };
    let transfer = PointsTransfer { program, from: member_ref(&member), to: member_ref(to), points, reason };
    let action = Action::Members(MemberCommand::Transfer(transfer));
    run_or_dry(&state, &auth, request_id, body.idempotency, dry_run, action).await
}

/// The member's ledger, newest first; each transaction names its cause.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}/transactions", tag = "members",
    params(("program" = String, Path), ("member" = String, Path), ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<TransactionResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn transactions(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((raw, member_raw)): PathArgs<(String, String)>,
    query: Query,
) -> Result<Json<ListBody<TransactionResponse>>, ApiError> {
    let mut page = query.page(&[], EntryId::PREFIX)?;
    let program = program(&state, &auth, &raw).await?;
    let limit = page.limit;
    page.limit += 1;
    let m = member(&state, &auth, &program, &member_raw).await?;
    let rows = state.engine.reads().entry_page(auth.project(), &m.membership.id, &page).await?;
    Ok(Json(ListBody::page(rows, limit, |e| e.id.to_string(), TransactionResponse::from)))
}

/// Points whose last usable day falls within the next `days` days (default 30), summed per date.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}/expiring", tag = "members",
    params(("program" = String, Path), ("member" = String, Path), ("days" = Option<i32>, Query)),
    responses((status = 200, body = ExpiringResponse), (status = "4XX", body = ErrorBody)))]
pub async fn expiring(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((raw, member_raw)): PathArgs<(String, String)>,
    query: Query,
) -> Result<Json<ExpiringResponse>, ApiError> {
    query.only(&["days"])?;
    let days = match query.0.get("days") {
        None => EXPIRING_SOON_DAYS_DEFAULT,
        Some(raw) => raw.parse::<i32>().ok().filter(|d| (0..=EXPIRING_SOON_DAYS_MAX).contains(d)).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!("days must be a whole number from 0 to {EXPIRING_SOON_DAYS_MAX}"),
            )
        })?,
    };
    let program = program(&state, &auth, &raw).await?;
    let m = member(&state, &auth, &program, &member_raw).await?;
    let today = member_queries::program_today(Some(&program), &auth.0.project.tz(), state.engine.clock().now());
    let expiring = member_queries::expiring(state.engine.reads(), &m.membership, today, days).await?;
    Ok(Json(ExpiringResponse {
        object: "expiring_points",
        member_id: m.membership.id.to_string(),
        within_days: days,
        total: expiring.total.value(),
        dates: expiring
            .dates
            .into_iter()
            .map(|(d, points)| ExpiringDate { date: d.to_string(), points: points.value() })
            .collect(),
    }))
}

/// The answer of a member command.
pub fn render(o: &members::Outcome) -> Rendered {
    match o {
        members::Outcome::Member { member, created: c } => (created(*c), bytes(&MemberResponse::from(member))),
        members::Outcome::Points { entry, member } => {
            let body = AdjustmentResponse {
                transaction: TransactionResponse::from(entry),
                member: MemberResponse::from(member),
            };
            (StatusCode::CREATED, bytes(&body))
        }
        members::Outcome::Transfer { entries, from, to } => {
            let body = TransferResponse {
                object: "points_transfer",
                from: MemberResponse::from(from),
                to: MemberResponse::from(to),
                transactions: entries.iter().map(TransactionResponse::from).collect(),
            };
            (StatusCode::CREATED, bytes(&body))
        }
        members::Outcome::Pending { hold, entry, member } => super::pending::render(hold, entry.as_deref(), member),
    }
}

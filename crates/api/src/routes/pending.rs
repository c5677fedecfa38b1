//! `/v1/programs/{program}/members/{member}/pending`: pending points (an order rule's return window) —
//! listed with their state, activated early, or canceled. They activate by themselves at midnight of
//! `activates_on` (`jobs run-due`, the scheduler).

use super::members::{member, program};
use super::{PathArgs, member_ref, run};
use crate::RequestId;
use crate::dto::common::time;
use crate::dto::member::{MemberResponse, TransactionResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, IdempotencyOnly, Query};
use crate::render::{Rendered, bytes};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fidelis_core::ids::HoldId;
use fidelis_core::ledger::Cause;
use fidelis_core::ledger::Entry;
use fidelis_core::ledger::hold::{Hold, HoldKind};
use fidelis_engine::command::Action;
use fidelis_engine::domains::members::{Command, MemberView};
use serde::Serialize;
use utoipa::ToSchema;

/// Points promised by an order rule, not spendable until they activate.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingResponse {
    /// Always "pending_points".
    pub object: &'static str,
    pub id: String,
    pub member_id: String,
    pub program_id: String,
    /// What is still pending (a refund inside the window reduces it).
    pub points: i64,
    /// `pending`, `posted` (activated), `voided` (canceled, or refunded away).
    pub state: &'static str,
    /// The day they activate by themselves, at midnight in the program's time zone.
    pub activates_on: String,
    pub order_id: Option<String>,
    pub rule_id: Option<String>,
    pub rule_version: Option<i64>,
    pub created_at: String,
    pub resolved_at: Option<String>,
}

impl PendingResponse {
    pub fn from(h: &Hold) -> PendingResponse {
        let order_id = match &h.cause {
            Cause::Order { order_id } => Some(order_id.to_string()),
            _ => None,
        };
        PendingResponse {
            object: "pending_points",
            id: h.id.to_string(),
            member_id: h.membership_id.to_string(),
            program_id: h.program_id.to_string(),
            points: h.points.value(),
            state: h.state.as_str(),
            activates_on: h.until.to_string(),
            order_id,
            rule_id: h.rule.as_ref().map(|r| r.id.to_string()),
            rule_version: h.rule.as_ref().map(|r| r.version),
            created_at: time(h.created_at),
            resolved_at: h.resolved_at.map(time),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingList {
    /// Always "list".
    pub object: &'static str,
    pub data: Vec<PendingResponse>,
}

/// An activation or cancellation: the pending points after it, the member, and (activation) the entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingChangeResponse {
    pub pending: PendingResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionResponse>,
    pub member: MemberResponse,
}

/// The member's pending points, newest first, in every state.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}/pending", tag = "members", operation_id = "pending_list",
    params(("program" = String, Path), ("member" = String, Path)),
    responses((status = 200, body = PendingList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((raw, member_raw)): PathArgs<(String, String)>,
    query: Query,
) -> Result<Json<PendingList>, ApiError> {
    query.only(&[])?;
    let program = program(&state, &auth, &raw).await?;
    let m = member(&state, &auth, &program, &member_raw).await?;
    let holds = state.engine.reads().hold_list(auth.project(), &m.membership.id).await?;
    let data = holds.iter().filter(|h| h.kind == HoldKind::Credit).map(PendingResponse::from).collect();
    Ok(Json(PendingList { object: "list", data }))
}

async fn change(
    state: AppState,
    auth: Auth,
    request_id: RequestId,
    path: (String, String, String),
    key: IdempotencyOnly,
    activate: bool,
) -> Result<Response, ApiError> {
    let (raw, member_raw, pending) = path;
    let program = super::programs::program_id(&raw)?;
    let hold = HoldId::parse(&pending).ok_or_else(|| ApiError::not_found("pending_points", &pending))?;
    let command = Command::Pending { program, member: member_ref(&member_raw), hold, activate };
    run(&state, &auth, request_id, key.0, Action::Members(command)).await
}

/// Activate pending points now: they become a lot whose expiry clock starts today.
#[utoipa::path(post, path = "/v1/programs/{program}/members/{member}/pending/{pending}/activate", tag = "members", operation_id = "pending_activate",
    params(("program" = String, Path), ("member" = String, Path), ("pending" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 200, body = PendingChangeResponse), (status = "4XX", body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(path): PathArgs<(String, String, String)>,
    key: IdempotencyOnly,
) -> Result<Response, ApiError> {
    change(state, auth, request_id, path, key, true).await
}

/// Cancel pending points: nothing reaches the ledger.
#[utoipa::path(post, path = "/v1/programs/{program}/members/{member}/pending/{pending}/cancel", tag = "members", operation_id = "pending_cancel",
    params(("program" = String, Path), ("member" = String, Path), ("pending" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 200, body = PendingChangeResponse), (status = "4XX", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(path): PathArgs<(String, String, String)>,
    key: IdempotencyOnly,
) -> Result<Response, ApiError> {
    change(state, auth, request_id, path, key, false).await
}

pub fn render(hold: &Hold, entry: Option<&Entry>, member: &MemberView) -> Rendered {
    let body = PendingChangeResponse {
        pending: PendingResponse::from(hold),
        transaction: entry.map(TransactionResponse::from),
        member: MemberResponse::from(member),
    };
    (StatusCode::OK, bytes(&body))
}

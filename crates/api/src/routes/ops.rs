//! Operations: liveness, readiness, Prometheus metrics, and the caller's project.

use crate::error::{ApiError, ErrorBody};
use crate::extract::Auth;
use crate::render::{Rendered, bytes};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fidelis_engine::domains::jobs;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// Health status of the process.
#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, body = StatusResponse)))]
pub async fn healthz() -> Json<StatusResponse> {
    Json(StatusResponse { status: "ok" })
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, body = StatusResponse),
              (status = 503, description = "The database does not answer.", body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<StatusResponse>, ApiError> {
    state.engine.reads().ping().await?;
    Ok(Json(StatusResponse { status: "ready" }))
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format.", content_type = "text/plain", body = String),
              (status = 404, description = "Metrics are not enabled in this process.", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProjectResponse {
    /// Always "project".
    pub object: &'static str,
    pub id: String,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub key_id: String,
}

/// The project the API key belongs to.
#[utoipa::path(get, path = "/v1/project", tag = "operations",
    responses((status = 200, body = ProjectResponse), (status = "4XX", body = ErrorBody)))]
pub async fn project(auth: Auth) -> Json<ProjectResponse> {
    let p = &auth.0.project;
    Json(ProjectResponse {
        object: "project",
        id: p.id.to_string(),
        name: p.name.clone(),
        currency: p.currency.code().to_owned(),
        time_zone: p.time_zone.clone(),
        key_id: auth.0.key.id.to_string(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct OutboxResponse {
    /// Always "outbox_event".
    pub object: &'static str,
    pub id: String,
    /// `customer.created`, `customer.changed`, `customer.erased`, `order.paid`, `order.refunded`,
    /// `order.canceled`, `event.recorded`, `points.credited`, `points.debited`, `points.expired`,
    /// `member.enrolled`, `segment.entered` or `segment.left`.
    pub topic: &'static str,
    /// The payload's version for its topic (a change that is not backwards compatible bumps it).
    pub version: u16,
    pub customer_id: Option<String>,
    /// What the event is about (order, ledger entry, segment, …).
    pub subject_id: String,
    /// The event's fields: ids, amounts in minor units, points, timestamps.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: String,
}

fn payload(event: &fidelis_core::domain_event::DomainEvent) -> Value {
    use fidelis_core::domain_event::DomainEvent as E;
    let value = match event {
        E::CustomerCreated(p) | E::CustomerChanged(p) | E::CustomerErased(p) => serde_json::to_value(p),
        E::OrderPaid(p) | E::OrderRefunded(p) | E::OrderCanceled(p) => serde_json::to_value(p),
        E::EventRecorded(p) => serde_json::to_value(p),
        E::PointsCredited(p) | E::PointsDebited(p) | E::PointsExpired(p) => serde_json::to_value(p),
        E::MemberEnrolled(p) => serde_json::to_value(p),
        E::SegmentEntered(p) | E::SegmentLeft(p) => serde_json::to_value(p),
        E::Tier(p) => serde_json::to_value(p),
        E::PendingPlaced(p) | E::PendingReduced(p) | E::PendingActivated(p) | E::PendingVoided(p) => {
            serde_json::to_value(p)
        }
    };
    value.unwrap_or(Value::Null)
}

/// Domain events for the outside world, newest first, written in the same commit as their cause. Events of
/// one change, and events of one topic, keep the order they happened in; within one group commit, ledger
/// (`points.*`) and `event.recorded` events come before the commit's other events.
#[utoipa::path(get, path = "/v1/outbox", tag = "operations",
    params(("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = crate::dto::common::ListBody<OutboxResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    auth: Auth,
    query: crate::extract::Query,
) -> Result<Json<crate::dto::common::ListBody<OutboxResponse>>, ApiError> {
    let mut page = query.page(&[], fidelis_core::ids::OutboxId::PREFIX)?;
    let limit = page.limit;
    page.limit += 1;
    let rows = state.engine.reads().outbox_page(auth.project(), &page).await?;
    Ok(Json(crate::dto::common::ListBody::page(
        rows,
        limit,
        |o| o.id.to_string(),
        |o| OutboxResponse {
            object: "outbox_event",
            id: o.id.to_string(),
            topic: o.topic.as_str(),
            version: o.version,
            customer_id: o.customer_id.as_ref().map(ToString::to_string),
            subject_id: o.subject_id.clone(),
            payload: payload(&o.event),
            created_at: o.created_at.to_string(),
        },
    )))
}

/// The answer of a scheduled job (not an HTTP endpoint; rendered for completeness).
pub fn render_job(o: &jobs::Outcome) -> Rendered {
    let body = match o {
        jobs::Outcome::Expired { lots, points, more_due } => {
            json!({ "object": "expiry_run", "expired_lots": lots, "expired_points": points, "more_due": more_due })
        }
        jobs::Outcome::Activated { holds, points, more_due } => json!({
            "object": "pending_activation_run", "activated": holds, "activated_points": points, "more_due": more_due
        }),
        jobs::Outcome::Reviewed { members, downgraded, more_due } => json!({
            "object": "tier_review_run", "reviewed": members, "downgraded": downgraded, "more_due": more_due
        }),
        jobs::Outcome::Celebrated { members, birthdays, anniversaries, more_due } => json!({
            "object": "occasions_run", "members": members, "birthdays": birthdays,
            "anniversaries": anniversaries, "more_due": more_due
        }),
        jobs::Outcome::Pruned { records } => json!({ "object": "idempotency_prune", "records": records }),
    };
    (StatusCode::OK, bytes(&body))
}

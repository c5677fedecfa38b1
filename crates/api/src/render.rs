//! Outcomes to HTTP responses. The writer uses the same rendering to store idempotent responses, so a
//! replay returns byte for byte what the first request returned.

use crate::dto::customer::{AsOf, CustomerResponse};
use crate::dto::event::{EventBatchResponse, EventResponse};
use crate::dto::member::{AdjustmentResponse, MemberResponse, TransactionResponse};
use crate::dto::order::OrderResponse;
use crate::dto::program::ProgramResponse;
use crate::dto::segment::{MemberErrorResponse, MembersChangeResponse, RecomputeResponse, SegmentResponse};
use crate::error::rejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fidelis_engine::Renderer;
use fidelis_engine::command::{Outcome, Scope, Submission};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

pub const REPLAYED_HEADER: &str = "idempotent-replayed";

fn created(is_new: bool) -> StatusCode {
    if is_new { StatusCode::CREATED } else { StatusCode::OK }
}

fn bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// (status, JSON body) of an outcome decided at `now`.
pub fn render(scope: &Scope, outcome: &Outcome, now: Timestamp) -> (StatusCode, Vec<u8>) {
    let currency = scope.project.currency.code();
    let tz = scope.project.tz();
    let as_of = AsOf { now, time_zone: &tz };
    match outcome {
        Outcome::Customer { customer, created: c } => (created(*c), bytes(&CustomerResponse::from(customer, &as_of))),
        Outcome::Order { order, created: c, entries } => {
            (created(*c), bytes(&OrderResponse::from(order, currency, Some(entries))))
        }
        Outcome::Events { events: list, submission: Submission::Single } if list.len() == 1 => {
            (created(!list[0].duplicate), bytes(&EventResponse::outcome(&list[0])))
        }
        Outcome::Events { events: list, .. } => {
            let duplicates = list.iter().filter(|e| e.duplicate).count();
            let body = EventBatchResponse {
                object: "event_batch",
                recorded: list.len() - duplicates,
                duplicates,
                data: list.iter().map(EventResponse::outcome).collect(),
            };
            (StatusCode::OK, bytes(&body))
        }
        Outcome::Program { program, created: c } => (created(*c), bytes(&ProgramResponse::from(program))),
        Outcome::Member { membership, created: c } => (created(*c), bytes(&MemberResponse::from(membership))),
        Outcome::Points { entry, membership } => {
            let body = AdjustmentResponse {
                transaction: TransactionResponse::from(entry),
                member: MemberResponse::from(membership),
            };
            (StatusCode::CREATED, bytes(&body))
        }
        Outcome::Jobs(report) => (
            StatusCode::OK,
            bytes(&json!({
                "object": "job_report",
                "expired_lots": report.expired_lots,
                "expired_points": report.expired_points,
                "idempotency_records_pruned": report.idempotency_records_pruned,
            })),
        ),
        Outcome::Segment { segment, created: c } => {
            (created(*c), bytes(&SegmentResponse::from(segment, scope.project.currency, None)))
        }
        Outcome::SegmentMembers { added, removed, unchanged, errors } => {
            let body = MembersChangeResponse {
                object: "segment_members_change",
                added: *added,
                removed: *removed,
                unchanged: *unchanged,
                errors: errors
                    .iter()
                    .map(|e| MemberErrorResponse {
                        row: e.index,
                        reference: e.reference.clone(),
                        message: e.reason.to_owned(),
                    })
                    .collect(),
            };
            (StatusCode::OK, bytes(&body))
        }
        Outcome::Recomputed { evaluated, entered, left, .. } => {
            let body = RecomputeResponse {
                object: "segment_recompute",
                evaluated: *evaluated,
                entered: *entered,
                left: *left,
            };
            (StatusCode::OK, bytes(&body))
        }
        Outcome::Rejected(r) => {
            let error = rejection(r);
            (error.status, bytes(&error.body(&scope.request_id)))
        }
        // Only ever seen inside `Engine::keyed`, never answered.
        Outcome::KeyFree => (StatusCode::OK, b"{}".to_vec()),
        Outcome::Replayed { status, body } => (StatusCode::from_u16(*status).unwrap_or(StatusCode::OK), body.clone()),
    }
}

/// The HTTP response of an outcome.
pub fn respond(scope: &Scope, outcome: &Outcome, now: Timestamp) -> Response {
    let (status, body) = render(scope, outcome, now);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if matches!(outcome, Outcome::Replayed { .. }) {
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, scope: &Scope, outcome: &Outcome, now: Timestamp) -> (u16, Vec<u8>) {
        let (status, body) = render(scope, outcome, now);
        (status.as_u16(), body)
    }
}

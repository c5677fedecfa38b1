//! Outcomes to HTTP responses. The writer uses the same rendering to store idempotent responses, so a
//! replay returns byte for byte what the first request returned.

use crate::dto::customer::CustomerResponse;
use crate::dto::event::{EventBatchResponse, EventResponse};
use crate::dto::member::{AdjustmentResponse, MemberResponse, TransactionResponse};
use crate::dto::order::OrderResponse;
use crate::dto::program::ProgramResponse;
use crate::error::rejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fidelis_engine::Renderer;
use fidelis_engine::command::{Outcome, Scope, Submission};
use serde::Serialize;
use serde_json::json;

pub const REPLAYED_HEADER: &str = "idempotent-replayed";

fn created(is_new: bool) -> StatusCode {
    if is_new { StatusCode::CREATED } else { StatusCode::OK }
}

fn bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// (status, JSON body) of an outcome.
pub fn render(scope: &Scope, outcome: &Outcome) -> (StatusCode, Vec<u8>) {
    let currency = scope.project.currency.code();
    match outcome {
        Outcome::Customer { customer, created: c } => (created(*c), bytes(&CustomerResponse::from(customer))),
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
        Outcome::Rejected(r) => {
            let error = rejection(r);
            (error.status, bytes(&error.body(&scope.request_id)))
        }
        Outcome::Replayed { status, body } => (StatusCode::from_u16(*status).unwrap_or(StatusCode::OK), body.clone()),
    }
}

/// The HTTP response of an outcome.
pub fn respond(scope: &Scope, outcome: &Outcome) -> Response {
    let (status, body) = render(scope, outcome);
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
    fn render(&self, scope: &Scope, outcome: &Outcome) -> (u16, Vec<u8>) {
        let (status, body) = render(scope, outcome);
        (status.as_u16(), body)
    }
}

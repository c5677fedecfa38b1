//! Outcomes to HTTP responses. The writer renders an outcome once, with the batch's clock reading, when
//! it must store it under an idempotency key; the live answer is then exactly those bytes, and so is
//! every replay. Each domain has its own render function; `render` only delegates.

use crate::error::rejection;
use crate::routes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fidelis_engine::Renderer;
use fidelis_engine::command::{Answer, Outcome, Scope, Stored};
use jiff::Timestamp;
use serde::Serialize;

pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Set on the answer of a dry run: what the call would have answered; nothing was committed.
pub const DRY_RUN_HEADER: &str = "fidelis-dry-run";

pub fn created(is_new: bool) -> StatusCode {
    if is_new { StatusCode::CREATED } else { StatusCode::OK }
}

pub fn bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

pub type Rendered = (StatusCode, Vec<u8>);

/// (status, JSON body) of an outcome decided at `now`.
pub fn render(scope: &Scope, outcome: &Outcome, now: Timestamp) -> Rendered {
    match outcome {
        Outcome::Customers(o) => routes::customers::render(scope, o, now),
        Outcome::Orders(o) => routes::orders::render(scope, o),
        Outcome::Events(o) => routes::events::render(scope, o),
        Outcome::Programs(o) => routes::programs::render(scope, o),
        Outcome::Members(o) => routes::members::render(o),
        Outcome::Segments(o) => routes::segments::render(scope, o),
        Outcome::Jobs(o) => routes::ops::render_job(o),
        Outcome::Rejected(r) => {
            let error = rejection(r);
            (error.status, bytes(&error.body(&scope.request_id)))
        }
        // Only ever seen inside `Engine::keyed`, never answered.
        Outcome::KeyFree => (StatusCode::OK, b"{}".to_vec()),
        Outcome::Replayed(stored) => {
            (StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK), stored.body.clone())
        }
    }
}

/// The HTTP response of an answer: the stored bytes when there are some, else the outcome rendered at the
/// clock reading it was decided at.
pub fn respond(scope: &Scope, answer: &Answer) -> Response {
    let (status, body) = match &answer.stored {
        Some(stored) => (StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK), stored.body.clone()),
        None => render(scope, &answer.outcome, answer.now),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if matches!(answer.outcome, Outcome::Replayed(_)) {
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, scope: &Scope, outcome: &Outcome, now: Timestamp) -> Stored {
        let (status, body) = render(scope, outcome, now);
        Stored { status: status.as_u16(), body }
    }
}

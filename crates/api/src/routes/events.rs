//! `/v1/events`: custom events, one or a batch, deduplicated by `client_event_id`.

use super::check;
use crate::RequestId;
use crate::dto::common::ListBody;
use crate::dto::event::{EventBatchBody, EventBatchResponse, EventBody, EventResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Explained;
use crate::extract::{Auth, JsonBody, Query};
use crate::render::{Rendered, bytes, created};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fidelis_core::rejection::FieldErrors;
use fidelis_engine::command::{Action, Scope};
use fidelis_engine::domains::events;
use fidelis_engine::domains::events::{Command as EventCommand, Submission};

/// Record a custom event (201), or find the earlier one with the same `client_event_id` (200).
#[utoipa::path(post, path = "/v1/events", tag = "events", request_body = EventBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = EventResponse), (status = 200, body = EventResponse), (status = "4XX", body = ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    query: Explained,
    body: JsonBody<EventBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let input = body.value.input(&mut errors, "");
    check(errors)?;
    let command = EventCommand::Record { events: vec![input], submission: Submission::Single, explain: query.explain };
    super::run_or_dry(&state, &auth, request_id, body.idempotency, query.dry_run, Action::Events(command)).await
}

/// Record up to 1000 events at once. Every event is validated first; nothing is recorded if any is
/// invalid. Duplicates (same `client_event_id`) are reported and skipped.
#[utoipa::path(post, path = "/v1/events/batch", tag = "events", request_body = EventBatchBody,
    responses((status = 200, body = EventBatchResponse), (status = "4XX", body = ErrorBody)))]
pub async fn record_batch(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    query: Explained,
    body: JsonBody<EventBatchBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let inputs = body.value.inputs(&mut errors);
    check(errors)?;
    let command = EventCommand::Record { events: inputs, submission: Submission::Batch, explain: query.explain };
    super::run_or_dry(&state, &auth, request_id, body.idempotency, query.dry_run, Action::Events(command)).await
}

/// Events, newest first; `customer` narrows to one customer.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query), ("customer" = Option<String>, Query)),
    responses((status = 200, body = ListBody<EventResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    query: Query,
) -> Result<Json<ListBody<EventResponse>>, ApiError> {
    let mut page = query.page(&["customer"], fidelis_core::ids::EventId::PREFIX)?;
    let limit = page.limit;
    page.limit += 1;
    let reads = state.engine.reads();
    let customer = super::customer_filter(&state, &auth, &query).await?;
    let rows = reads.event_page(auth.project(), customer.as_ref(), &page).await?;
    Ok(Json(ListBody::page(rows, limit, |e| e.id.to_string(), |e| EventResponse::from(e, None))))
}

/// The answer of an event command: one event, or a batch.
pub fn render(scope: &Scope, o: &events::Outcome) -> Rendered {
    let currency = scope.project.currency;
    match (o.submission, o.events.as_slice()) {
        (events::Submission::Single, [one]) => (created(!one.duplicate), bytes(&EventResponse::outcome(one, currency))),
        _ => {
            let duplicates = o.events.iter().filter(|e| e.duplicate).count();
            let body = EventBatchResponse {
                object: "event_batch",
                recorded: o.events.len() - duplicates,
                duplicates,
                data: o.events.iter().map(|e| EventResponse::outcome(e, currency)).collect(),
            };
            (StatusCode::OK, bytes(&body))
        }
    }
}

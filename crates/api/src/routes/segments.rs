//! `/v1/segments`: static and dynamic segments, members (by hand or CSV), recompute and preview.

use super::{PathArgs, check, execute, run};
use crate::RequestId;
use crate::dto::common::ListBody;
use crate::dto::rule::{RuleResponse, canonical, parse};
use crate::dto::segment::*;
use crate::dto::segment::{MemberErrorResponse, MembersChangeResponse, RecomputeResponse};
use crate::error::ErrorCode;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, IdempotencyOnly, JsonBody, Query, UploadBody};
use crate::render::respond;
use crate::render::{Rendered, bytes, created};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fidelis_core::ids::{CustomerId, SegmentId};
use fidelis_core::rejection::{FieldErrorKey, FieldErrors};
use fidelis_engine::command::Scope;
use fidelis_engine::command::{Action, Outcome};
use fidelis_engine::domains::segments::{
    Command as SegmentCommand, Outcome as SegmentOutcome, SegmentDefinition, UnknownCustomers,
};
use fidelis_engine::port::CustomerRef;
use fidelis_engine::queries::segments as segment_queries;
use std::time::Instant;

/// Rows in one CSV import.
pub const SEGMENT_IMPORT_ROWS_MAX: usize = 100_000;
pub use segment_queries::SEGMENT_IMPORT_ROWS_PER_COMMAND;
/// Largest preview sample.
pub const PREVIEW_SAMPLE_MAX: usize = 100;
/// Preview sample when none is asked for.
pub const PREVIEW_SAMPLE_DEFAULT: usize = 10;

fn segment_id(raw: &str) -> Result<SegmentId, ApiError> {
    SegmentId::parse(raw).ok_or_else(|| ApiError::not_found("segment", raw))
}

/// Starts evaluating every customer for a new or changed dynamic segment; answers do not wait for it.
fn recompute_in_background(state: &AppState, scope: fidelis_engine::command::Scope, outcome: &Outcome) {
    if let Outcome::Segments(SegmentOutcome::Segment { segment, .. }) = outcome
        && matches!(segment.kind, fidelis_core::segment::SegmentKind::Dynamic { .. })
    {
        let (engine, id) = (state.engine.clone(), segment.id.clone());
        tokio::spawn(async move {
            if let Err(error) = engine.recompute_segment(&scope, &id).await {
                tracing::warn!(%error, segment = %id, "segment recompute failed; the scheduler retries it");
            }
        });
    }
}

/// Create a segment. A dynamic one is evaluated for every customer in the background (`computed_at`
/// is set when done) and kept current as customers change.
#[utoipa::path(post, path = "/v1/segments", tag = "segments", request_body = SegmentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = SegmentResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    body: JsonBody<SegmentBody>,
) -> Result<Response, ApiError> {
    let definition = match (body.value.kind.as_str(), &body.value.rule) {
        ("static", None) => SegmentDefinition::Static,
        ("dynamic", Some(rule)) => {
            SegmentDefinition::Dynamic { rule: canonical(&parse(rule, auth.0.project.currency)?) }
        }
        ("static", Some(_)) => return Err(invalid("/rule", "a static segment takes no rule")),
        ("dynamic", None) => return Err(invalid("/rule", "a dynamic segment needs a rule")),
        _ => return Err(invalid("/type", "must be static or dynamic")),
    };
    let action = Action::Segments(SegmentCommand::Create { name: body.value.name.clone(), definition });
    let (scope, answer) = execute(&state, &auth, request_id, body.idempotency, action).await?;
    recompute_in_background(&state, scope.clone(), &answer.outcome);
    Ok(respond(&scope, &answer))
}

fn invalid(path: &str, message: &str) -> ApiError {
    let mut errors = FieldErrors::default();
    errors.push(path, FieldErrorKey::InvalidFormat, message);
    ApiError::invalid(errors.0)
}

/// Rename a segment or change its rule (which re-evaluates every customer).
#[utoipa::path(post, path = "/v1/segments/{segment}", tag = "segments", request_body = SegmentUpdateBody,
    params(("segment" = String, Path)),
    responses((status = 200, body = SegmentResponse), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(segment): PathArgs<String>,
    body: JsonBody<SegmentUpdateBody>,
) -> Result<Response, ApiError> {
    let segment = segment_id(&segment)?;
    let rule = match &body.value.rule {
        Some(rule) => Some(canonical(&parse(rule, auth.0.project.currency)?)),
        None => None,
    };
    let action =
        Action::Segments(SegmentCommand::Update { segment, name: body.value.name.clone(), rule: rule.clone() });
    let (scope, answer) = execute(&state, &auth, request_id, body.idempotency, action).await?;
    if rule.is_some() {
        recompute_in_background(&state, scope.clone(), &answer.outcome);
    }
    Ok(respond(&scope, &answer))
}

#[utoipa::path(get, path = "/v1/segments/{segment}", tag = "segments", params(("segment" = String, Path)),
    responses((status = 200, body = SegmentResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(raw): PathArgs<String>,
) -> Result<Json<SegmentResponse>, ApiError> {
    let id = segment_id(&raw)?;
    let reads = state.engine.reads();
    let segment = reads.segment(auth.project(), &id).await?.ok_or_else(|| ApiError::not_found("segment", &raw))?;
    let count = reads.segment_member_count(auth.project(), &id).await?;
    Ok(Json(SegmentResponse::from(&segment, auth.0.project.currency, Some(count))))
}

/// The project's segments, newest first.
#[utoipa::path(get, path = "/v1/segments", tag = "segments",
    params(("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<SegmentResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    query: Query,
) -> Result<Json<ListBody<SegmentResponse>>, ApiError> {
    let page = query.page(&[], SegmentId::PREFIX)?;
    // A project has at most a few hundred segments: they are read whole and paged here.
    let rows = state.engine.reads().segment_list(auth.project()).await?;
    let rows = super::page_of_short_list(rows, &page, |s| s.id.as_str());
    let currency = auth.0.project.currency;
    Ok(Json(ListBody::page(rows, page.limit, |s| s.id.to_string(), |s| SegmentResponse::from(s, currency, None))))
}

/// Members of a segment, by customer id (newest first).
#[utoipa::path(get, path = "/v1/segments/{segment}/members", tag = "segments",
    params(("segment" = String, Path), ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<MemberEntryResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(raw): PathArgs<String>,
    query: Query,
) -> Result<Json<ListBody<MemberEntryResponse>>, ApiError> {
    let id = segment_id(&raw)?;
    let reads = state.engine.reads();
    reads.segment(auth.project(), &id).await?.ok_or_else(|| ApiError::not_found("segment", &raw))?;
    let mut page = query.page(&[], CustomerId::PREFIX)?;
    let limit = page.limit;
    page.limit += 1;
    let rows = reads.segment_member_page(auth.project(), &id, &page).await?;
    Ok(Json(ListBody::page(
        rows,
        limit,
        |(c, _)| c.to_string(),
        |(c, since)| MemberEntryResponse { customer_id: c.to_string(), since: since.to_string() },
    )))
}

/// Add and remove members of a static segment; all named customers must exist, or nothing changes.
#[utoipa::path(post, path = "/v1/segments/{segment}/members", tag = "segments", request_body = MembersBody,
    params(("segment" = String, Path)),
    responses((status = 200, body = MembersChangeResponse), (status = "4XX", body = ErrorBody)))]
pub async fn change_members(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(raw): PathArgs<String>,
    body: JsonBody<MembersBody>,
) -> Result<Response, ApiError> {
    let segment = segment_id(&raw)?;
    let mut errors = FieldErrors::default();
    let mut refs = |list: &[crate::dto::customer::CustomerBody], name: &str| -> Vec<CustomerRef> {
        list.iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let path = format!("/{name}/{i}");
                if c.id.is_some() && c.source_id.is_some() {
                    errors.push(
                        path,
                        FieldErrorKey::InvalidFormat,
                        "name the customer by id or by source_id, not both",
                    );
                    return None;
                }
                let reference = c.reference(&mut errors, &path);
                if reference.is_none() && c.id.is_none() && c.source_id.is_none() {
                    errors.push(path, FieldErrorKey::Required, "name the customer by id or source_id");
                }
                reference
            })
            .collect()
    };
    let add = refs(&body.value.add, "add");
    let remove = refs(&body.value.remove, "remove");
    if add.len() + remove.len() > SEGMENT_IMPORT_ROWS_PER_COMMAND {
        errors.push(
            "/add",
            FieldErrorKey::TooMany,
            format!("at most {SEGMENT_IMPORT_ROWS_PER_COMMAND} changes per request; import a CSV for more"),
        );
    }
    check(errors)?;
    let action =
        Action::Segments(SegmentCommand::ChangeMembers { segment, add, remove, unknown: UnknownCustomers::Reject });
    run(&state, &auth, request_id, body.idempotency, action).await
}

/// Add the customers of a CSV file to a static segment. Rows that name no customer are reported by line
/// number; the others are added (in chunks of 1000, each atomic). With an `Idempotency-Key`, a retry
/// replays the first answer.
#[utoipa::path(post, path = "/v1/segments/{segment}/members/import", tag = "segments",
    request_body(content = String, content_type = "text/csv", description = "source_id\nalice\nbob"),
    params(("segment" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 200, body = MembersChangeResponse), (status = "4XX", body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(raw): PathArgs<String>,
    headers: axum::http::HeaderMap,
    body: UploadBody,
) -> Result<Response, ApiError> {
    let segment = segment_id(&raw)?;
    if let Some(kind) = headers.get(axum::http::header::CONTENT_TYPE) {
        let essence = kind.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !["text/csv", "text/plain"].contains(&essence.as_str()) {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "send the file as text/csv"));
        }
    }
    let text = std::str::from_utf8(&body.bytes)
        .map_err(|_| ApiError::new(ErrorCode::InvalidCsv, "the file is not UTF-8 text"))?;
    let (references, errors) = super::csv::customer_references(text, SEGMENT_IMPORT_ROWS_MAX)?;
    let mut scope = auth.scope();
    scope.request_id = request_id.0;
    let answer =
        segment_queries::import_members(&state.engine, &scope, &segment, &references, errors, body.idempotency).await?;
    Ok(respond(&scope, &answer))
}

/// Evaluate a dynamic segment for every customer now, and wait for it.
#[utoipa::path(post, path = "/v1/segments/{segment}/recompute", tag = "segments",
    params(("segment" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 200, body = RecomputeResponse), (status = "4XX", body = ErrorBody)))]
pub async fn recompute(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(raw): PathArgs<String>,
    IdempotencyOnly(key): IdempotencyOnly,
) -> Result<Response, ApiError> {
    let id = segment_id(&raw)?;
    let mut scope = auth.scope();
    scope.request_id = request_id.0;
    let engine = &state.engine;
    let answer = engine.keyed(&scope, key, || engine.recompute_segment(&scope, &id)).await?;
    Ok(respond(&scope, &answer))
}

/// Count the customers a rule selects, with a sample, without saving anything (a dry run of a segment).
#[utoipa::path(post, path = "/v1/segments/preview", tag = "segments", request_body = PreviewBody,
    responses((status = 200, body = PreviewResponse), (status = "4XX", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    auth: Auth,
    body: JsonBody<PreviewBody>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let started = Instant::now();
    let project = &auth.0.project;
    let rule = parse(&body.value.rule, project.currency)?;
    let mut errors = FieldErrors::default();
    let sample_size = match &body.value.sample_size {
        None => PREVIEW_SAMPLE_DEFAULT,
        Some(n) => n.read_as::<usize>(&mut errors, "/sample_size").unwrap_or(PREVIEW_SAMPLE_DEFAULT),
    };
    check(errors)?;
    let reads = state.engine.reads();
    let existing: Vec<SegmentId> = reads.segment_list(auth.project()).await?.into_iter().map(|s| s.id).collect();
    if let Some(problem) = fidelis_core::segment::rule_problem(&rule, &existing, None) {
        return Err(invalid("/rule", &problem));
    }
    let (now, tz) = (state.engine.clock().now(), project.tz());
    let place = segment_queries::Place { project: &project.id, currency: project.currency, time_zone: &tz, now };
    let found = segment_queries::preview(reads, &place, &rule, sample_size).await?;
    let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(Json(PreviewResponse {
        object: "segment_preview",
        evaluated: found.evaluated,
        count: found.count,
        sample: found.sample.iter().map(ToString::to_string).collect(),
        rule: RuleResponse::from(&rule),
        took_ms,
    }))
}

/// The answer of a segment command.
pub fn render(scope: &Scope, o: &SegmentOutcome) -> Rendered {
    match o {
        SegmentOutcome::Segment { segment, created: c } => {
            (created(*c), bytes(&SegmentResponse::from(segment, scope.project.currency, None)))
        }
        SegmentOutcome::Members { added, removed, unchanged, errors } => {
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
        SegmentOutcome::Recomputed { evaluated, entered, left, .. } => {
            let body = RecomputeResponse {
                object: "segment_recompute",
                evaluated: *evaluated,
                entered: *entered,
                left: *left,
            };
            (StatusCode::OK, bytes(&body))
        }
    }
}

//! One module per resource. Handlers parse (collecting every field error), run one engine command or
//! query, and render.

pub mod csv;
pub mod customers;
pub mod earning_rules;
pub mod events;
pub mod home;
pub mod members;
pub mod ops;
pub mod orders;
pub mod pending;
pub mod programs;
pub mod rule_sets;
pub mod rules;
pub mod segments;
pub mod tier_history;

use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::extract::Auth;
use crate::render::respond;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::Response;
use fidelis_core::ids::{CustomerId, MembershipId, OrderId};
use fidelis_core::rejection::FieldErrors;
use fidelis_engine::command::{Action, Answer, Command, IdempotencyRequest, Scope};
use fidelis_engine::port::{CustomerRef, MemberRef, OrderRef};
use serde::de::DeserializeOwned;

/// Path parameters with our error object on failure.
pub struct PathArgs<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| PathArgs(v))
            .map_err(|e| ApiError::new(ErrorCode::InvalidPath, e.body_text()))
    }
}

/// Stops with every collected field error, if there are any.
pub fn check(errors: FieldErrors) -> Result<(), ApiError> {
    if errors.is_empty() { Ok(()) } else { Err(ApiError::invalid(errors.0)) }
}

/// Runs a command through the writer and renders its answer.
pub async fn run(
    state: &AppState,
    auth: &Auth,
    request_id: crate::RequestId,
    idempotency: Option<IdempotencyRequest>,
    action: Action,
) -> Result<Response, ApiError> {
    let (scope, answer) = execute(state, auth, request_id, idempotency, action).await?;
    Ok(respond(&scope, &answer))
}

/// Runs a command, or with `?dry_run=true` decides it exactly as the writer would on a read snapshot,
/// commits nothing and ignores the idempotency key; the answer then carries `Fidelis-Dry-Run: true`.
pub async fn run_or_dry(
    state: &AppState,
    auth: &Auth,
    request_id: crate::RequestId,
    idempotency: Option<IdempotencyRequest>,
    dry_run: crate::extract::DryRun,
    action: Action,
) -> Result<Response, ApiError> {
    if !dry_run.0 {
        return run(state, auth, request_id, idempotency, action).await;
    }
    let mut scope = auth.scope();
    scope.request_id = request_id.0;
    let answer = state.engine.dry_run(Command { scope: scope.clone(), idempotency: None, action }).await?;
    let mut response = respond(&scope, &answer);
    response.headers_mut().insert(crate::render::DRY_RUN_HEADER, axum::http::HeaderValue::from_static("true"));
    Ok(response)
}

/// Runs a command through the writer, for handlers that look at the answer before responding.
pub async fn execute(
    state: &AppState,
    auth: &Auth,
    request_id: crate::RequestId,
    idempotency: Option<IdempotencyRequest>,
    action: Action,
) -> Result<(Scope, Answer), ApiError> {
    let mut scope = auth.scope();
    scope.request_id = request_id.0;
    let command = Command { scope: scope.clone(), idempotency, action };
    let answer = state.engine.execute(command).await?;
    Ok((scope, answer))
}

/// One page (newest first, plus one row to tell whether more follow) of a short list read whole, such as a
/// project's programs or segments (ids sort by creation time).
pub fn page_of_short_list<T>(
    mut rows: Vec<T>,
    page: &fidelis_engine::port::PageRequest,
    id: impl Fn(&T) -> &str,
) -> Vec<T> {
    rows.sort_by(|a, b| id(b).cmp(id(a)));
    if let Some(cursor) = &page.before {
        rows.retain(|r| id(r) < cursor.as_str());
    }
    rows.truncate(page.limit + 1);
    rows
}

/// The customer a list's `customer` query parameter names (id or source_id), if it names one.
pub async fn customer_filter(
    state: &AppState,
    auth: &Auth,
    query: &crate::extract::Query,
) -> Result<Option<CustomerId>, ApiError> {
    let Some(raw) = query.0.get("customer") else { return Ok(None) };
    let found = state.engine.reads().customer(auth.project(), &customer_ref(raw)).await?;
    found.map(|c| Some(c.id)).ok_or_else(|| ApiError::not_found("customer", raw))
}

/// `cust_…` ids name customers by id; anything else is a `source_id`.
pub fn customer_ref(raw: &str) -> CustomerRef {
    CustomerId::parse(raw).map_or_else(|| CustomerRef::Source(raw.to_owned()), CustomerRef::Id)
}

pub fn order_ref(raw: &str) -> OrderRef {
    OrderId::parse(raw).map_or_else(|| OrderRef::Source(raw.to_owned()), OrderRef::Id)
}

/// `mem_…` ids name memberships; anything else is a card code.
pub fn member_ref(raw: &str) -> MemberRef {
    MembershipId::parse(raw).map_or_else(|| MemberRef::Card(raw.to_ascii_uppercase()), MemberRef::Id)
}

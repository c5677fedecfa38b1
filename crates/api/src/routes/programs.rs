//! `/v1/programs`: create, update (including pause), read, list.

use super::{PathArgs, check, run};
use crate::RequestId;
use crate::dto::common::ListBody;
use crate::dto::earning::EarningRuleResponse;
use crate::dto::program::{ProgramBody, ProgramResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, JsonBody};
use crate::render::{Rendered, bytes, created};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use fidelis_core::ids::ProgramId;
use fidelis_core::rejection::FieldErrors;
use fidelis_engine::command::Action;
use fidelis_engine::domains::programs;

pub fn program_id(raw: &str) -> Result<ProgramId, ApiError> {
    ProgramId::parse(raw).ok_or_else(|| ApiError::not_found("program", raw))
}

#[utoipa::path(post, path = "/v1/programs", tag = "programs", request_body = ProgramBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = ProgramResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    body: JsonBody<ProgramBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let draft = body.value.draft(&mut errors);
    check(errors)?;
    run(&state, &auth, request_id, body.idempotency, Action::Programs(programs::Command::Create(draft))).await
}

/// Change a program; only the fields sent change. `"paused": true` stops earning at once.
#[utoipa::path(post, path = "/v1/programs/{program}", tag = "programs", request_body = ProgramBody,
    params(("program" = String, Path)),
    responses((status = 200, body = ProgramResponse), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(program): PathArgs<String>,
    dry_run: crate::extract::DryRun,
    body: JsonBody<ProgramBody>,
) -> Result<Response, ApiError> {
    let program = program_id(&program)?;
    let mut errors = FieldErrors::default();
    let draft = body.value.draft(&mut errors);
    check(errors)?;
    let action = Action::Programs(programs::Command::Update { program, draft });
    super::run_or_dry(&state, &auth, request_id, body.idempotency, dry_run, action).await
}

#[utoipa::path(get, path = "/v1/programs/{program}", tag = "programs", params(("program" = String, Path)),
    responses((status = 200, body = ProgramResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(program): PathArgs<String>,
) -> Result<Json<ProgramResponse>, ApiError> {
    let id = program_id(&program)?;
    let found = state.engine.reads().program(auth.project(), &id).await?;
    found.map(|p| Json(ProgramResponse::from(&p))).ok_or_else(|| ApiError::not_found("program", &program))
}

/// The project's programs, newest first.
#[utoipa::path(get, path = "/v1/programs", tag = "programs",
    params(("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<ProgramResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    query: crate::extract::Query,
) -> Result<Json<ListBody<ProgramResponse>>, ApiError> {
    let page = query.page(&[], ProgramId::PREFIX)?;
    // A project has a handful of programs: they are read whole and paged here.
    let rows = state.engine.reads().program_list(auth.project()).await?;
    let rows = super::page_of_short_list(rows, &page, |p| p.id.as_str());
    Ok(Json(ListBody::page(rows, page.limit, |p| p.id.to_string(), ProgramResponse::from)))
}

/// The answer of a program command.
pub fn render(scope: &fidelis_engine::command::Scope, o: &programs::Outcome) -> Rendered {
    let rule = o.rule.as_ref().and_then(|id| o.program.earning_rules.iter().find(|r| &r.id == id));
    match rule {
        Some(rule) => {
            let body = EarningRuleResponse::from(&o.program.id, rule, scope.project.currency);
            (created(o.created), bytes(&body))
        }
        None => (created(o.created), bytes(&ProgramResponse::from(&o.program))),
    }
}

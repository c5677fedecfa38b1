//! `/v1/programs/{program}/earning-rules`: create, change (pause, resume, archive), read, list. Every
//! change is a new version of the program's rule set; ledger entries name the rule and that version.

use super::programs::program_id;
use super::{PathArgs, check, run_or_dry};
use crate::RequestId;
use crate::dto::earning::{EarningRuleBody, EarningRuleList, EarningRuleResponse};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, DryRun, JsonBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use fidelis_core::ids::EarningRuleId;
use fidelis_core::rejection::FieldErrors;
use fidelis_engine::command::Action;
use fidelis_engine::domains::programs::Command;

fn rule_id(raw: &str) -> Result<EarningRuleId, ApiError> {
    EarningRuleId::parse(raw).ok_or_else(|| ApiError::not_found("earning_rule", raw))
}

/// Add an earning rule to a program (`name`, `trigger` and `amount` required).
#[utoipa::path(post, path = "/v1/programs/{program}/earning-rules", tag = "earning",
    request_body = EarningRuleBody, params(("program" = String, Path)),
    responses((status = 201, body = EarningRuleResponse), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs(program): PathArgs<String>,
    dry_run: DryRun,
    body: JsonBody<EarningRuleBody>,
) -> Result<Response, ApiError> {
    let program = program_id(&program)?;
    let mut errors = FieldErrors::default();
    let draft = body.value.draft(&mut errors, auth.0.project.currency)?;
    check(errors)?;
    let action = Action::Programs(Command::CreateRule { program, draft: Box::new(draft) });
    run_or_dry(&state, &auth, request_id, body.idempotency, dry_run, action).await
}

/// Change a rule; only the fields sent change. `"status": "paused"` stops it at once, `"active"` resumes
/// it, `"archived"` retires it for good.
#[utoipa::path(post, path = "/v1/programs/{program}/earning-rules/{rule}", tag = "earning",
    request_body = EarningRuleBody, params(("program" = String, Path), ("rule" = String, Path)),
    responses((status = 200, body = EarningRuleResponse), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    request_id: RequestId,
    PathArgs((program, rule)): PathArgs<(String, String)>,
    dry_run: DryRun,
    body: JsonBody<EarningRuleBody>,
) -> Result<Response, ApiError> {
    let (program, rule) = (program_id(&program)?, rule_id(&rule)?);
    let mut errors = FieldErrors::default();
    let draft = body.value.draft(&mut errors, auth.0.project.currency)?;
    check(errors)?;
    let action = Action::Programs(Command::UpdateRule { program, rule, draft: Box::new(draft) });
    run_or_dry(&state, &auth, request_id, body.idempotency, dry_run, action).await
}

#[utoipa::path(get, path = "/v1/programs/{program}/earning-rules/{rule}", tag = "earning",
    params(("program" = String, Path), ("rule" = String, Path)),
    responses((status = 200, body = EarningRuleResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((program, rule)): PathArgs<(String, String)>,
) -> Result<Json<EarningRuleResponse>, ApiError> {
    let id = program_id(&program)?;
    let found = state.engine.reads().program(auth.project(), &id).await?;
    let found = found.ok_or_else(|| ApiError::not_found("program", &program))?;
    let r = found.earning_rules.iter().find(|r| r.id.as_str() == rule);
    let r = r.ok_or_else(|| ApiError::not_found("earning_rule", &rule))?;
    Ok(Json(EarningRuleResponse::from(&found.id, r, auth.0.project.currency)))
}

/// The program's rules, oldest first (a program has at most 100), with the rule set's current version.
#[utoipa::path(get, path = "/v1/programs/{program}/earning-rules", tag = "earning",
    params(("program" = String, Path)),
    responses((status = 200, body = EarningRuleList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(program): PathArgs<String>,
    query: crate::extract::Query,
) -> Result<Json<EarningRuleList>, ApiError> {
    query.only(&[])?;
    let id = program_id(&program)?;
    let found = state.engine.reads().program(auth.project(), &id).await?;
    let found = found.ok_or_else(|| ApiError::not_found("program", &program))?;
    let currency = auth.0.project.currency;
    let data = found.earning_rules.iter().map(|r| EarningRuleResponse::from(&found.id, r, currency)).collect();
    Ok(Json(EarningRuleList { object: "list", data, rules_version: found.rules_version }))
}

//! `/v1/programs/{program}/rule-sets`: every version of a program's earning rules, as it was made
//! (immutable), listed newest first, and each with what changed against another version.

use super::PathArgs;
use super::programs::program_id;
use crate::dto::common::time;
use crate::dto::earning::EarningRuleResponse;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::{Auth, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use fidelis_core::earning::RuleSet;
use fidelis_core::limits::{PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
use fidelis_core::money::Currency;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetSummary {
    /// Always "rule_set".
    pub object: &'static str,
    pub program_id: String,
    pub version: i64,
    pub rules_count: usize,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetList {
    /// Always "list".
    pub object: &'static str,
    pub data: Vec<RuleSetSummary>,
    pub has_more: bool,
    /// Pass as `before` for the next page.
    pub next_before: Option<i64>,
}

/// How one rule differs between the compared version and this one.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleChange {
    pub rule_id: String,
    pub name: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The fields that differ (for `changed`).
    pub fields: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetResponse {
    /// Always "rule_set".
    pub object: &'static str,
    pub program_id: String,
    pub version: i64,
    pub created_at: String,
    pub rules: Vec<EarningRuleResponse>,
    /// The version compared with (`compare_to`, by default the one before; 0: none).
    pub compared_to: i64,
    pub changes: Vec<RuleChange>,
}

fn summary(s: &RuleSet) -> RuleSetSummary {
    RuleSetSummary {
        object: "rule_set",
        program_id: s.program_id.to_string(),
        version: s.version,
        rules_count: s.rules.len(),
        created_at: time(s.created_at),
    }
}

/// A version number in the query: digits only; beyond any version there is, it reads as the largest.
fn whole(query: &Query, name: &str) -> Result<Option<i64>, ApiError> {
    query.0.get(name).map_or(Ok(None), |raw| {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::new(ErrorCode::InvalidQuery, format!("{name} must be a whole number ≥ 0")));
        }
        Ok(Some(raw.parse::<i64>().unwrap_or(i64::MAX)))
    })
}

/// Versions of the program's rule set, newest first (`limit` ≤ 100, `before` a version).
#[utoipa::path(get, path = "/v1/programs/{program}/rule-sets", tag = "earning", operation_id = "rule_sets_list",
    params(("program" = String, Path), ("limit" = Option<usize>, Query), ("before" = Option<i64>, Query)),
    responses((status = 200, body = RuleSetList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs(program): PathArgs<String>,
    query: Query,
) -> Result<Json<RuleSetList>, ApiError> {
    query.only(&["limit", "before"])?;
    let limit = match whole(&query, "limit")? {
        None => PAGE_SIZE_DEFAULT,
        Some(l) => usize::try_from(l).ok().filter(|l| (1..=PAGE_SIZE_MAX).contains(l)).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidQuery, format!("limit must be a whole number from 1 to {PAGE_SIZE_MAX}"))
        })?,
    };
    let before = whole(&query, "before")?;
    let id = program_id(&program)?;
    let reads = state.engine.reads();
    reads.program(auth.project(), &id).await?.ok_or_else(|| ApiError::not_found("program", &program))?;
    let mut rows = reads.rule_set_list(auth.project(), &id, before, limit + 1).await?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_before = if has_more { rows.last().map(|s| s.version) } else { None };
    Ok(Json(RuleSetList { object: "list", data: rows.iter().map(summary).collect(), has_more, next_before }))
}

/// One version of the rule set, whole, with what changed against `compare_to` (default: the version before).
#[utoipa::path(get, path = "/v1/programs/{program}/rule-sets/{version}", tag = "earning", operation_id = "rule_set_get",
    params(("program" = String, Path), ("version" = i64, Path), ("compare_to" = Option<i64>, Query)),
    responses((status = 200, body = RuleSetResponse), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((program, version)): PathArgs<(String, String)>,
    query: Query,
) -> Result<Json<RuleSetResponse>, ApiError> {
    query.only(&["compare_to"])?;
    let id = program_id(&program)?;
    let not_found = || ApiError::not_found("rule_set", &version);
    let number = version.parse::<i64>().ok().filter(|v| *v >= 1).ok_or_else(not_found)?;
    let reads = state.engine.reads();
    let set = reads.rule_set(auth.project(), &id, number).await?.ok_or_else(not_found)?;
    let compared_to = whole(&query, "compare_to")?.unwrap_or(number - 1);
    let other = match compared_to {
        0 => None,
        v => Some(
            reads
                .rule_set(auth.project(), &id, v)
                .await?
                .ok_or_else(|| ApiError::not_found("rule_set", &v.to_string()))?,
        ),
    };
    let currency = auth.0.project.currency;
    let changes = diff(other.as_ref(), &set, currency);
    Ok(Json(RuleSetResponse {
        object: "rule_set",
        program_id: set.program_id.to_string(),
        version: set.version,
        created_at: time(set.created_at),
        rules: set.rules.iter().map(|r| EarningRuleResponse::from(&set.program_id, r, currency)).collect(),
        compared_to,
        changes,
    }))
}

/// Rules added, removed and changed (by the fields of their wire form, bookkeeping fields aside).
fn diff(before: Option<&RuleSet>, after: &RuleSet, currency: Currency) -> Vec<RuleChange> {
    let wire = |s: &RuleSet| -> Vec<(String, String, Value)> {
        s.rules
            .iter()
            .map(|r| {
                let value = serde_json::to_value(EarningRuleResponse::from(&s.program_id, r, currency));
                (r.id.to_string(), r.name.clone(), value.unwrap_or(Value::Null))
            })
            .collect()
    };
    let old = before.map(wire).unwrap_or_default();
    let new = wire(after);
    let mut changes = Vec::new();
    for (id, name, value) in &new {
        match old.iter().find(|(o, _, _)| o == id) {
            None => {
                changes.push(RuleChange { rule_id: id.clone(), name: name.clone(), change: "added", fields: vec![] })
            }
            Some((_, _, previous)) => {
                let fields: Vec<String> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| !["version", "updated_at"].contains(&k.as_str()))
                    .filter(|(k, v)| previous.get(k.as_str()) != Some(v))
                    .map(|(k, _)| k.clone())
                    .collect();
                if !fields.is_empty() {
                    changes.push(RuleChange { rule_id: id.clone(), name: name.clone(), change: "changed", fields });
                }
            }
        }
    }
    for (id, name, _) in old.iter().filter(|(o, _, _)| !new.iter().any(|(n, _, _)| n == o)) {
        changes.push(RuleChange { rule_id: id.clone(), name: name.clone(), change: "removed", fields: vec![] });
    }
    changes
}

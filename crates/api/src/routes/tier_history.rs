//! `/v1/programs/{program}/members/{member}/tier-history`: every move of the member's tier, newest first.

use super::PathArgs;
use super::members::{member, program};
use crate::dto::common::{ListBody, time};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use fidelis_core::ids::TierMoveId;
use fidelis_core::tier::TierHistoryEntry;
use serde::Serialize;
use utoipa::ToSchema;

/// One move of a member's tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierMoveResponse {
    /// Always "tier_move".
    pub object: &'static str,
    pub id: String,
    pub member_id: String,
    pub program_id: String,
    /// `joined`, `upgraded`, `downgraded`, `left` or `prolonged`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The level before (`null`: below the first).
    pub from: Option<String>,
    /// The level after (`null`: below the first).
    pub to: Option<String>,
    /// The last day the new status is guaranteed (windowed tiers).
    pub until: Option<String>,
    pub created_at: String,
}

impl TierMoveResponse {
    pub fn from(e: &TierHistoryEntry) -> TierMoveResponse {
        TierMoveResponse {
            object: "tier_move",
            id: e.id.to_string(),
            member_id: e.membership_id.to_string(),
            program_id: e.program_id.to_string(),
            kind: e.kind.as_str(),
            from: e.from.clone(),
            to: e.to.clone(),
            until: e.until.map(|d| d.to_string()),
            created_at: time(e.created_at),
        }
    }
}

/// The member's tier history, newest first: joins, upgrades, downgrades, departures and prolongations.
#[utoipa::path(get, path = "/v1/programs/{program}/members/{member}/tier-history", tag = "members",
    operation_id = "tier_history",
    params(("program" = String, Path), ("member" = String, Path), ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListBody<TierMoveResponse>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathArgs((raw, member_raw)): PathArgs<(String, String)>,
    query: Query,
) -> Result<Json<ListBody<TierMoveResponse>>, ApiError> {
    let mut page = query.page(&[], TierMoveId::PREFIX)?;
    let program = program(&state, &auth, &raw).await?;
    let limit = page.limit;
    page.limit += 1;
    let m = member(&state, &auth, &program, &member_raw).await?;
    let rows = state.engine.reads().tier_history_page(auth.project(), &m.membership.id, &page).await?;
    Ok(Json(ListBody::page(rows, limit, |e| e.id.to_string(), TierMoveResponse::from)))
}

//! Fidelis HTTP API: the axum router, request ids, access logs and latency metrics, the error object,
//! and the OpenAPI document with its docs UI served from the binary.

pub mod dto;
pub mod error;
pub mod extract;
mod objects_only;
mod openapi;
pub mod render;
pub mod routes;
pub mod state;

pub use openapi::{ApiDoc, document as openapi_document};
pub use render::JsonRenderer;
pub use state::{ApiConfig, AppState};

use crate::error::ApiError;
use crate::error::ErrorCode;
use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::time::Instant;
use utoipa_swagger_ui::SwaggerUi;

/// The id of the current request (`X-Request-Id`), also in every error body.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<RequestId, Self::Rejection> {
        Ok(parts.extensions.get::<RequestId>().cloned().unwrap_or_else(|| RequestId(String::new())))
    }
}

fn new_request_id() -> String {
    let mut id = String::from("req_");
    fidelis_core::ids::encode_u128(rand::random::<u128>(), &mut id);
    id
}

/// Assigns the request id, fills it into error bodies, and records latency per route.
async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = new_request_id();
    request.extensions_mut().insert(RequestId(id.clone()));
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = request.method().clone();
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let status = error.status;
        response = (status, Json(error.body(&id))).into_response();
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed();
    metrics::histogram!("fidelis_http_request_duration_seconds", "route" => route.clone(), "method" => method.to_string(), "status" => status.clone())
        .record(elapsed);
    tracing::debug!(target: "fidelis::access", request_id = %id, %method, route, status, micros = elapsed.as_micros() as u64, "request");
    response
}

async fn route_not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no such endpoint; see /docs")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take that method")
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    use routes::{
        customers, earning_rules, events, home, members, ops, orders, pending, programs, rule_sets, rules, segments,
        tier_history,
    };
    let v1 = Router::new()
        .route("/customers", post(customers::upsert).get(customers::list))
        .route("/customers/{customer}", get(customers::get).post(customers::update).delete(customers::erase))
        .route("/customers/{customer}/memberships", get(customers::memberships))
        .route("/customers/{customer}/segments", get(customers::segments))
        .route("/segments", post(segments::create).get(segments::list))
        .route("/segments/preview", post(segments::preview))
        .route("/segments/{segment}", get(segments::get).post(segments::update))
        .route("/segments/{segment}/members", get(segments::members).post(segments::change_members))
        .route("/segments/{segment}/members/import", post(segments::import))
        .route("/segments/{segment}/recompute", post(segments::recompute))
        .route("/rules/validate", post(rules::validate))
        .route("/rules/evaluate", post(rules::evaluate))
        .route("/outbox", get(ops::outbox))
        .route("/orders", post(orders::upsert).get(orders::list))
        .route("/orders/{order}", get(orders::get))
        .route("/orders/{order}/refunds", post(orders::refund))
        .route("/events", post(events::record).get(events::list))
        .route("/events/batch", post(events::record_batch))
        .route("/programs", post(programs::create).get(programs::list))
        .route("/programs/{program}", get(programs::get).post(programs::update))
        .route("/programs/{program}/earning-rules", post(earning_rules::create).get(earning_rules::list))
        .route("/programs/{program}/earning-rules/{rule}", get(earning_rules::get).post(earning_rules::update))
        .route("/programs/{program}/rule-sets", get(rule_sets::list))
        .route("/programs/{program}/rule-sets/{version}", get(rule_sets::get))
        .route("/programs/{program}/members", post(members::enrol).get(members::list))
        .route("/programs/{program}/members/{member}", get(members::get))
        .route("/programs/{program}/members/{member}/points/add", post(members::add_points))
        .route("/programs/{program}/members/{member}/points/remove", post(members::remove_points))
        .route("/programs/{program}/members/{member}/points/transfer", post(members::transfer))
        .route("/programs/{program}/members/{member}/transactions", get(members::transactions))
        .route("/programs/{program}/members/{member}/expiring", get(members::expiring))
        .route("/programs/{program}/members/{member}/pending", get(pending::list))
        .route("/programs/{program}/members/{member}/tier-history", get(tier_history::list))
        .route("/programs/{program}/members/{member}/pending/{pending}/activate", post(pending::activate))
        .route("/programs/{program}/members/{member}/pending/{pending}/cancel", post(pending::cancel))
        .route("/project", get(ops::project))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }));
    Router::new()
        .nest("/v1", v1)
        .route("/", get(home::home))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/docs/openapi.json", openapi::document().clone()))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(observe))
        .with_state(state)
}

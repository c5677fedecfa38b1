//! The error object and the one table that maps every rejection and failure to a status and a stable key.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fidelis_core::rejection::{CustomerRejection, FieldError, LedgerRejection, OrderRejection, Rejection};
use fidelis_engine::port::StoreError;
use fidelis_engine::writer::WriteError;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// Every error response has this shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    pub code: u16,
    /// A stable snake_case key to branch on.
    pub key: &'static str,
    /// A sentence for humans.
    pub message: String,
    /// Structured details (field errors with JSON-pointer paths, balances, …).
    #[schema(value_type = Object)]
    pub details: Value,
    pub request_id: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub key: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, key: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, key, message: message.into(), details: json!({}) }
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    pub fn bad_request(key: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, key, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(resource: &str, reference: &str) -> ApiError {
        // A reference is echoed back, but never more than an id or source_id can be long.
        let reference: String = reference.chars().take(fidelis_core::limits::SOURCE_ID_CHARS_MAX).collect();
        let reference = reference.as_str();
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {resource} '{reference}' in this project"))
            .with_details(json!({ "resource": resource, "reference": reference }))
    }

    pub fn invalid(errors: Vec<FieldError>) -> ApiError {
        let first = errors.first().map(|e| format!("{}: {}", e.path, e.message)).unwrap_or_default();
        let list: Vec<Value> =
            errors.iter().map(|e| json!({ "path": e.path, "key": e.key.as_str(), "message": e.message })).collect();
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", format!("the request is invalid: {first}"))
            .with_details(json!({ "errors": list }))
    }

    /// The body, once the request id is known.
    pub fn body(&self, request_id: &str) -> ErrorBody {
        ErrorBody {
            code: self.status.as_u16(),
            key: self.key,
            message: self.message.clone(),
            details: self.details.clone(),
            request_id: request_id.to_owned(),
        }
    }
}

/// The table: each rejection → (status, key). Exhaustive, so a new rejection cannot go unmapped.
pub fn rejection(r: &Rejection) -> ApiError {
    let message = r.to_string();
    match r {
        Rejection::Invalid(errors) => ApiError::invalid(errors.clone()),
        Rejection::NotFound { resource, reference } => ApiError::not_found(resource.as_str(), reference),
        Rejection::IdempotencyKeyReused => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", message)
        }
        Rejection::LimitReached { limit, max } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "limit_reached", message)
                .with_details(json!({ "limit": limit, "max": max }))
        }
        Rejection::Order(r) => order_rejection(r, message),
        Rejection::Customer(CustomerRejection::Erased) => {
            ApiError::new(StatusCode::CONFLICT, "customer_erased", message)
        }
        Rejection::Ledger(r) => ledger_rejection(r, message),
        Rejection::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", message),
    }
}

fn order_rejection(r: &OrderRejection, message: String) -> ApiError {
    match r {
        OrderRejection::IllegalTransition { from, to } => {
            ApiError::new(StatusCode::CONFLICT, "illegal_transition", message)
                .with_details(json!({ "from": from.as_str(), "to": to.as_str() }))
        }
        OrderRejection::Locked { field } => {
            ApiError::new(StatusCode::CONFLICT, "order_locked", message).with_details(json!({ "field": field }))
        }
        OrderRejection::RefundExceedsPaid { refundable, requested } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refund_exceeds_paid", message)
                .with_details(json!({ "refundable": refundable, "requested": requested }))
        }
    }
}

fn ledger_rejection(r: &LedgerRejection, message: String) -> ApiError {
    match r {
        LedgerRejection::InsufficientPoints { balance, requested } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_points", message)
                .with_details(json!({ "balance": balance, "requested": requested }))
        }
        LedgerRejection::CardCodeTaken => ApiError::new(StatusCode::CONFLICT, "card_code_taken", message),
        LedgerRejection::SameMember => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "same_member", message),
        LedgerRejection::Overflow => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "points_overflow", message),
        LedgerRejection::InvalidHoldState { from, to } => {
            ApiError::new(StatusCode::CONFLICT, "invalid_hold_state", message)
                .with_details(json!({ "from": from, "to": to }))
        }
    }
}

/// Failures of the machinery: opaque to clients, logged once with the cause.
pub fn write_failure(e: &WriteError) -> ApiError {
    match e {
        WriteError::Overloaded => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the server is busy; retry with the same Idempotency-Key",
        ),
        WriteError::Stopped => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is shutting down")
        }
        WriteError::Store(s) => store_failure(s),
    }
}

pub fn store_failure(e: &StoreError) -> ApiError {
    tracing::error!(error = %e, "storage failure");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database is unavailable; retry later")
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        write_failure(&e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        store_failure(&e)
    }
}

impl IntoResponse for ApiError {
    /// The request id is filled in by the request-id middleware, which sees this response's extension.
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, axum::Json(self.body(""))).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

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

/// Every error the API answers with: its stable key and HTTP status, in one place. `docs/errors.md` lists
/// them all (a test compares the two).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    MalformedJson,
    JsonTooDeep,
    UnknownField,
    MissingField,
    InvalidType,
    InvalidQuery,
    InvalidPath,
    InvalidIdempotencyKey,
    InvalidCsv,
    PayloadTooLarge,
    TooManyRows,
    UnsupportedMediaType,
    RequestTimeout,
    Unauthorized,
    NotFound,
    RouteNotFound,
    MethodNotAllowed,
    ValidationFailed,
    InvalidRule,
    IdempotencyKeyReused,
    LimitReached,
    Conflict,
    IllegalTransition,
    OrderLocked,
    RefundExceedsPaid,
    CustomerErased,
    InsufficientPoints,
    CardCodeTaken,
    SameMember,
    PointsOverflow,
    InvalidHoldState,
    InvalidPendingState,
    Overloaded,
    Unavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 34] = [
        ErrorCode::MalformedJson,
        ErrorCode::JsonTooDeep,
        ErrorCode::UnknownField,
        ErrorCode::MissingField,
        ErrorCode::InvalidType,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidPath,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::InvalidCsv,
        ErrorCode::PayloadTooLarge,
        ErrorCode::TooManyRows,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RequestTimeout,
        ErrorCode::Unauthorized,
        ErrorCode::NotFound,
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::ValidationFailed,
        ErrorCode::InvalidRule,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::LimitReached,
        ErrorCode::Conflict,
        ErrorCode::IllegalTransition,
        ErrorCode::OrderLocked,
        ErrorCode::RefundExceedsPaid,
        ErrorCode::CustomerErased,
        ErrorCode::InsufficientPoints,
        ErrorCode::CardCodeTaken,
        ErrorCode::SameMember,
        ErrorCode::PointsOverflow,
        ErrorCode::InvalidHoldState,
        ErrorCode::InvalidPendingState,
        ErrorCode::Overloaded,
        ErrorCode::Unavailable,
    ];

    /// (key, status) of every code: the table.
    fn entry(self) -> (&'static str, StatusCode) {
        use ErrorCode::*;
        match self {
            MalformedJson => ("malformed_json", StatusCode::BAD_REQUEST),
            JsonTooDeep => ("json_too_deep", StatusCode::BAD_REQUEST),
            UnknownField => ("unknown_field", StatusCode::BAD_REQUEST),
            MissingField => ("missing_field", StatusCode::BAD_REQUEST),
            InvalidType => ("invalid_type", StatusCode::BAD_REQUEST),
            InvalidQuery => ("invalid_query", StatusCode::BAD_REQUEST),
            InvalidPath => ("invalid_path", StatusCode::BAD_REQUEST),
            InvalidIdempotencyKey => ("invalid_idempotency_key", StatusCode::BAD_REQUEST),
            InvalidCsv => ("invalid_csv", StatusCode::BAD_REQUEST),
            PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            TooManyRows => ("too_many_rows", StatusCode::PAYLOAD_TOO_LARGE),
            UnsupportedMediaType => ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            RequestTimeout => ("request_timeout", StatusCode::REQUEST_TIMEOUT),
            Unauthorized => ("unauthorized", StatusCode::UNAUTHORIZED),
            NotFound => ("not_found", StatusCode::NOT_FOUND),
            RouteNotFound => ("route_not_found", StatusCode::NOT_FOUND),
            MethodNotAllowed => ("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED),
            ValidationFailed => ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY),
            InvalidRule => ("invalid_rule", StatusCode::UNPROCESSABLE_ENTITY),
            IdempotencyKeyReused => ("idempotency_key_reused", StatusCode::UNPROCESSABLE_ENTITY),
            LimitReached => ("limit_reached", StatusCode::UNPROCESSABLE_ENTITY),
            Conflict => ("conflict", StatusCode::CONFLICT),
            IllegalTransition => ("illegal_transition", StatusCode::CONFLICT),
            OrderLocked => ("order_locked", StatusCode::CONFLICT),
            RefundExceedsPaid => ("refund_exceeds_paid", StatusCode::UNPROCESSABLE_ENTITY),
            CustomerErased => ("customer_erased", StatusCode::CONFLICT),
            InsufficientPoints => ("insufficient_points", StatusCode::UNPROCESSABLE_ENTITY),
            CardCodeTaken => ("card_code_taken", StatusCode::CONFLICT),
            SameMember => ("same_member", StatusCode::UNPROCESSABLE_ENTITY),
            PointsOverflow => ("points_overflow", StatusCode::UNPROCESSABLE_ENTITY),
            InvalidHoldState => ("invalid_hold_state", StatusCode::CONFLICT),
            InvalidPendingState => ("invalid_pending_state", StatusCode::CONFLICT),
            Overloaded => ("overloaded", StatusCode::SERVICE_UNAVAILABLE),
            Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        }
    }

    pub fn key(self) -> &'static str {
        self.entry().0
    }

    pub fn status(self) -> StatusCode {
        self.entry().1
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub status: StatusCode,
    pub key: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, status: code.status(), key: code.key(), message: message.into(), details: json!({}) }
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    /// The error of a value nested at `prefix` in the body: every `details.errors[].path` is prefixed.
    pub fn at_path(mut self, prefix: &str) -> ApiError {
        if let Some(Value::Array(errors)) = self.details.get_mut("errors") {
            for e in errors {
                if let Some(Value::String(path)) = e.get_mut("path") {
                    *path = format!("{prefix}{path}");
                }
            }
        }
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Unauthorized, message)
    }

    pub fn not_found(resource: &str, reference: &str) -> ApiError {
        // A reference is echoed back, but never more than an id or source_id can be long.
        let reference: String = reference.chars().take(fidelis_core::limits::SOURCE_ID_CHARS_MAX).collect();
        let reference = reference.as_str();
        ApiError::new(ErrorCode::NotFound, format!("no {resource} '{reference}' in this project"))
            .with_details(json!({ "resource": resource, "reference": reference }))
    }

    pub fn invalid(errors: Vec<FieldError>) -> ApiError {
        let first = errors.first().map(|e| format!("{}: {}", e.path, e.message)).unwrap_or_default();
        let list: Vec<Value> =
            errors.iter().map(|e| json!({ "path": e.path, "key": e.key.as_str(), "message": e.message })).collect();
        ApiError::new(ErrorCode::ValidationFailed, format!("the request is invalid: {first}"))
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
        Rejection::IdempotencyKeyReused => ApiError::new(ErrorCode::IdempotencyKeyReused, message),
        Rejection::LimitReached { limit, max } => {
            ApiError::new(ErrorCode::LimitReached, message).with_details(json!({ "limit": limit, "max": max }))
        }
        Rejection::Order(r) => order_rejection(r, message),
        Rejection::Customer(CustomerRejection::Erased) => ApiError::new(ErrorCode::CustomerErased, message),
        Rejection::Ledger(r) => ledger_rejection(r, message),
        Rejection::Conflict { .. } => ApiError::new(ErrorCode::Conflict, message),
    }
}

fn order_rejection(r: &OrderRejection, message: String) -> ApiError {
    match r {
        OrderRejection::IllegalTransition { from, to } => ApiError::new(ErrorCode::IllegalTransition, message)
            .with_details(json!({ "from": from.as_str(), "to": to.as_str() })),
        OrderRejection::Locked { field } => {
            ApiError::new(ErrorCode::OrderLocked, message).with_details(json!({ "field": field }))
        }
        OrderRejection::RefundExceedsPaid { refundable, requested } => {
            ApiError::new(ErrorCode::RefundExceedsPaid, message)
                .with_details(json!({ "refundable": refundable, "requested": requested }))
        }
    }
}

fn ledger_rejection(r: &LedgerRejection, message: String) -> ApiError {
    match r {
        LedgerRejection::InsufficientPoints { balance, requested } => {
            ApiError::new(ErrorCode::InsufficientPoints, message)
                .with_details(json!({ "balance": balance, "requested": requested }))
        }
        LedgerRejection::CardCodeTaken => ApiError::new(ErrorCode::CardCodeTaken, message),
        LedgerRejection::SameMember => ApiError::new(ErrorCode::SameMember, message),
        LedgerRejection::Overflow => ApiError::new(ErrorCode::PointsOverflow, message),
        LedgerRejection::InvalidHoldState { from, to } => {
            ApiError::new(ErrorCode::InvalidHoldState, message).with_details(json!({ "from": from, "to": to }))
        }
        LedgerRejection::InvalidPendingState { from, to } => {
            ApiError::new(ErrorCode::InvalidPendingState, message).with_details(json!({ "from": from, "to": to }))
        }
    }
}

/// Failures of the machinery: opaque to clients, logged once with the cause.
pub fn write_failure(e: &WriteError) -> ApiError {
    match e {
        WriteError::Overloaded => {
            ApiError::new(ErrorCode::Overloaded, "the server is busy; retry with the same Idempotency-Key")
        }
        WriteError::Stopped => ApiError::new(ErrorCode::Unavailable, "the server is shutting down"),
        WriteError::Store(s) => store_failure(s),
    }
}

pub fn store_failure(e: &StoreError) -> ApiError {
    tracing::error!(error = %e, "storage failure");
    ApiError::new(ErrorCode::Unavailable, "the database is unavailable; retry later")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/errors.md` is what clients read; its table must be exactly the codes the API can answer with.
    #[test]
    fn the_error_table_in_docs_lists_every_code() {
        let doc = include_str!("../../../docs/errors.md");
        let documented: Vec<(String, u16)> = doc
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((key.to_owned(), cells.get(2)?.parse().ok()?))
            })
            .collect();
        let coded: Vec<(String, u16)> =
            ErrorCode::ALL.iter().map(|c| (c.key().to_owned(), c.status().as_u16())).collect();
        assert_eq!(documented, coded);
    }

    #[test]
    fn every_error_key_is_distinct_snake_case() {
        let mut keys: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.key()).collect();
        assert!(keys.iter().all(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ErrorCode::ALL.len());
    }
}

//! Why a command or an input was refused, as data. The API maps each variant to a status and a stable key
//! in one exhaustive table; nothing here knows about HTTP.

use crate::order::OrderStatus;
use std::fmt;

/// One problem with one input field. `path` is a JSON pointer into the request (`/items/2/amount`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub key: FieldErrorKey,
    pub message: String,
}

/// The stable kinds of field problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorKey {
    Required,
    OutOfRange,
    TooLong,
    TooMany,
    InvalidFormat,
    AmountMismatch,
    Conflict,
}

impl FieldErrorKey {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldErrorKey::Required => "required",
            FieldErrorKey::OutOfRange => "out_of_range",
            FieldErrorKey::TooLong => "too_long",
            FieldErrorKey::TooMany => "too_many",
            FieldErrorKey::InvalidFormat => "invalid_format",
            FieldErrorKey::AmountMismatch => "amount_mismatch",
            FieldErrorKey::Conflict => "conflict",
        }
    }
}

impl FieldError {
    pub fn new(path: impl Into<String>, key: FieldErrorKey, message: impl Into<String>) -> FieldError {
        FieldError { path: path.into(), key, message: message.into() }
    }
}

/// Collects field errors so that a client sees all of them at once.
#[derive(Default, Debug)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, path: impl Into<String>, key: FieldErrorKey, message: impl Into<String>) {
        self.0.push(FieldError::new(path, key, message));
    }

    /// Adds errors found inside a nested object, their paths put under `prefix` (e.g. `/order`).
    pub fn nested(&mut self, prefix: &str, inner: FieldErrors) {
        self.0.extend(inner.0.into_iter().map(|e| FieldError { path: format!("{prefix}{}", e.path), ..e }));
    }

    /// Records the error of a fallible step and returns its value, if any.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() { Ok(value()) } else { Err(self.0) }
    }
}

/// The kinds of things a command can refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Project,
    Customer,
    Order,
    Event,
    Program,
    Member,
    Segment,
    EarningRule,
    Pending,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Project => "project",
            Resource::Customer => "customer",
            Resource::Order => "order",
            Resource::EarningRule => "earning_rule",
            Resource::Pending => "pending_points",
            Resource::Event => "event",
            Resource::Program => "program",
            Resource::Member => "member",
            Resource::Segment => "segment",
        }
    }
}

/// A decision that refuses a command. Every variant leaves all state unchanged. Refusals shared by every
/// domain are variants here; each domain's own refusals are one enum of that domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Input fields failed validation (all of them listed).
    Invalid(Vec<FieldError>),
    NotFound {
        resource: Resource,
        reference: String,
    },
    /// The same idempotency key was used earlier with a different request.
    IdempotencyKeyReused,
    /// A configured bound was reached (programs per project, …).
    LimitReached {
        limit: &'static str,
        max: i64,
    },
    /// A unique `source_id` already used by another resource.
    Conflict {
        message: String,
    },
    Order(OrderRejection),
    Customer(CustomerRejection),
    Ledger(LedgerRejection),
}

/// Refusals of the order lifecycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderRejection {
    /// A status change that the order lifecycle does not allow.
    IllegalTransition { from: OrderStatus, to: OrderStatus },
    /// A paid order's amounts, items or customer cannot change any more.
    Locked { field: &'static str },
    /// A refund larger than what is left to refund.
    RefundExceedsPaid { refundable: i64, requested: i64 },
}

/// Refusals about a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerRejection {
    /// The customer was erased; nothing new may be attached to them.
    Erased,
}

/// Refusals of the points ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerRejection {
    /// A debit larger than the spendable balance.
    InsufficientPoints { balance: i64, requested: i64 },
    /// A member card code that another member already holds.
    CardCodeTaken,
    /// A transfer from a member to the same member.
    SameMember,
    /// A balance or total would leave the range of 64-bit points.
    Overflow,
    /// A hold can only be posted, voided or expired while it is pending.
    InvalidHoldState { from: &'static str, to: &'static str },
    /// Pending points can only activate or be canceled while pending.
    InvalidPendingState { from: &'static str, to: &'static str },
}

impl Rejection {
    pub fn customer_erased() -> Rejection {
        Rejection::Customer(CustomerRejection::Erased)
    }

    pub fn insufficient_points(balance: i64, requested: i64) -> Rejection {
        Rejection::Ledger(LedgerRejection::InsufficientPoints { balance, requested })
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Invalid(errors) => {
                let first = errors.first().map_or("", |e| e.message.as_str());
                write!(f, "the request is invalid: {first}")
            }
            Rejection::NotFound { resource, reference } => {
                write!(f, "no {} '{reference}' in this project", resource.as_str())
            }
            Rejection::IdempotencyKeyReused => f.write_str("this Idempotency-Key was used with a different request"),
            Rejection::LimitReached { limit, max } => write!(f, "limit {limit} of {max} reached"),
            Rejection::Conflict { message } => f.write_str(message),
            Rejection::Order(r) => r.fmt(f),
            Rejection::Customer(CustomerRejection::Erased) => f.write_str("the customer was erased"),
            Rejection::Ledger(r) => r.fmt(f),
        }
    }
}

impl fmt::Display for OrderRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderRejection::IllegalTransition { from, to } => {
                write!(f, "an order cannot go from {} to {}", from.as_str(), to.as_str())
            }
            OrderRejection::Locked { field } => write!(f, "the order was paid; its {field} can no longer change"),
            OrderRejection::RefundExceedsPaid { refundable, requested } => {
                write!(f, "{requested} cannot be refunded, only {refundable} is left to refund")
            }
        }
    }
}

impl fmt::Display for LedgerRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerRejection::InsufficientPoints { balance, requested } => {
                write!(f, "the balance is {balance} points, {requested} were requested")
            }
            LedgerRejection::CardCodeTaken => f.write_str("another member already holds this card code"),
            LedgerRejection::SameMember => f.write_str("points cannot be transferred to the same member"),
            LedgerRejection::Overflow => f.write_str("the points would leave the range a wallet can hold"),
            LedgerRejection::InvalidHoldState { from, to } => write!(f, "a {from} hold cannot become {to}"),
            LedgerRejection::InvalidPendingState { from, to } => {
                write!(f, "{from} pending points cannot become {to}")
            }
        }
    }
}

//! Problems found while parsing or type-checking a rule, as data: a JSON pointer, a text offset, a stable kind.

use super::limits::RULE_ERRORS_MAX;
use std::fmt;

/// One problem with a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// JSON pointer of the offending node in the JSON form (`/and/1/right`). For text input it is the place the
    /// node has in the JSON form of the same rule; empty for syntax errors.
    pub path: String,
    /// Character offset in the text form (text input only).
    pub offset: Option<usize>,
    pub kind: RuleErrorKind,
    pub message: String,
}

/// The stable kinds of rule problems (the API exposes `as_str`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// A JSON node has the wrong shape: unknown or missing keys, a wrong JSON type.
    Shape,
    UnknownField,
    UnknownFunction,
    UnknownWindow,
    WindowOutOfRange,
    ArgumentCount,
    /// Operands whose types do not fit the operator or each other.
    TypeMismatch,
    /// A literal that does not parse (a bad date, too many decimals for the currency, a bad id).
    InvalidLiteral,
    /// An operand used where it is not available (item fields outside a quantifier, nested quantifiers).
    OutOfScope,
    TooDeep,
    TooManyNodes,
    TooLong,
    TooManyItems,
}

impl RuleErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleErrorKind::Syntax => "syntax",
            RuleErrorKind::Shape => "shape",
            RuleErrorKind::UnknownField => "unknown_field",
            RuleErrorKind::UnknownFunction => "unknown_function",
            RuleErrorKind::UnknownWindow => "unknown_window",
            RuleErrorKind::WindowOutOfRange => "window_out_of_range",
            RuleErrorKind::ArgumentCount => "argument_count",
            RuleErrorKind::TypeMismatch => "type_mismatch",
            RuleErrorKind::InvalidLiteral => "invalid_literal",
            RuleErrorKind::OutOfScope => "out_of_scope",
            RuleErrorKind::TooDeep => "too_deep",
            RuleErrorKind::TooManyNodes => "too_many_nodes",
            RuleErrorKind::TooLong => "too_long",
            RuleErrorKind::TooManyItems => "too_many_items",
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (self.path.is_empty(), self.offset) {
            (false, Some(offset)) => write!(f, " (at {}, character {offset})", self.path),
            (false, None) => write!(f, " (at {})", self.path),
            (true, Some(offset)) => write!(f, " (at character {offset})"),
            (true, None) => Ok(()),
        }
    }
}

impl std::error::Error for RuleError {}

/// Collects errors up to `RULE_ERRORS_MAX`.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub Vec<RuleError>);

impl Errors {
    pub fn push(&mut self, path: &str, offset: Option<usize>, kind: RuleErrorKind, message: impl Into<String>) {
        if self.0.len() < RULE_ERRORS_MAX {
            self.0.push(RuleError { path: path.to_owned(), offset, kind, message: message.into() });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

//! The untyped syntax tree that both front ends (JSON and text) produce and the checker turns into a `Cond`.
//! It mirrors the JSON form node for node, so a text node knows its JSON pointer.

use super::ast::{CompareOp, Quantifier};

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SynCond {
    /// Character offset in the text form (text input only).
    pub at: Option<usize>,
    pub kind: SynCondKind,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SynCondKind {
    And(Vec<SynCond>),
    Or(Vec<SynCond>),
    Not(Box<SynCond>),
    /// `op` is `None` when the JSON named an unknown operator (the operands are still checked).
    Compare {
        op: Option<SynOp>,
        left: SynExpr,
        right: SynExpr,
    },
    Exists(SynExpr),
    Items(Quantifier, Box<SynCond>),
    /// An operand in condition position: must be true/false.
    Test(SynExpr),
    /// A node the reader already reported; it keeps its place so that siblings keep their paths.
    Invalid,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SynOp {
    Compare(CompareOp),
    In,
    /// The right operand is a list of the two bounds.
    Between,
}

impl SynOp {
    pub fn as_str(self) -> &'static str {
        match self {
            SynOp::Compare(op) => op.as_str(),
            SynOp::In => "in",
            SynOp::Between => "between",
        }
    }

    pub fn parse(raw: &str) -> Option<SynOp> {
        match raw {
            "in" => Some(SynOp::In),
            "between" => Some(SynOp::Between),
            other => CompareOp::parse(other).map(SynOp::Compare),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SynExpr {
    pub at: Option<usize>,
    pub kind: SynExprKind,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SynExprKind {
    Field(String),
    Call {
        name: String,
        args: Vec<SynExpr>,
    },
    Count(Box<SynCond>),
    /// A window name as a call argument (`last_30_days`).
    Window(String),
    /// A number as written; its type comes from what it is compared with.
    Number(String),
    /// A money amount in major units as written (JSON `{"money": "50.00"}`).
    Money(String),
    Str(String),
    Bool(bool),
    Date(String),
    List(Vec<SynExpr>),
    /// An operand the reader already reported.
    Invalid,
}

impl SynCond {
    pub fn invalid() -> SynCond {
        SynCond { at: None, kind: SynCondKind::Invalid }
    }
}

impl SynExpr {
    pub fn invalid() -> SynExpr {
        SynExpr { at: None, kind: SynExprKind::Invalid }
    }
}

impl SynExprKind {
    pub fn is_literal(&self) -> bool {
        matches!(
            self,
            SynExprKind::Number(_)
                | SynExprKind::Money(_)
                | SynExprKind::Str(_)
                | SynExprKind::Bool(_)
                | SynExprKind::Date(_)
                | SynExprKind::List(_)
        )
    }
}

//! Writes a checked rule in its canonical text and JSON forms (both parse back to the same rule).

use super::ast::{Call, Cond, Expr, Field, Literal};
use super::json::Json;
use crate::money::Currency;
use std::fmt::Write as _;

/// Canonical text of a condition.
pub(crate) fn cond_text(cond: &Cond, currency: Currency, out: &mut String) {
    match cond {
        Cond::And(items) => join_text(items, " and ", |c| matches!(c, Cond::And(_) | Cond::Or(_)), currency, out),
        Cond::Or(items) => join_text(items, " or ", |c| matches!(c, Cond::Or(_)), currency, out),
        Cond::Not(inner) => {
            out.push_str("not ");
            grouped_text(inner, matches!(**inner, Cond::And(_) | Cond::Or(_)), currency, out);
        }
        Cond::Compare { op, left, right } => {
            expr_text(left, currency, out);
            let _ = write!(out, " {} ", op.as_str());
            expr_text(right, currency, out);
        }
        Cond::In { left, list } => {
            expr_text(left, currency, out);
            out.push_str(" in [");
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                literal_text(item, currency, out);
            }
            out.push(']');
        }
        Cond::Between { left, low, high } => {
            expr_text(left, currency, out);
            out.push_str(" between ");
            literal_text(low, currency, out);
            out.push_str(" and ");
            literal_text(high, currency, out);
        }
        Cond::Exists(expr) => {
            out.push_str("exists(");
            expr_text(expr, currency, out);
            out.push(')');
        }
        Cond::Items { quantifier, predicate } => {
            out.push_str(quantifier.as_str());
            out.push('(');
            cond_text(predicate, currency, out);
            out.push(')');
        }
        Cond::Test(expr) => expr_text(expr, currency, out),
    }
}

fn join_text(items: &[Cond], separator: &str, needs_parens: fn(&Cond) -> bool, currency: Currency, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        grouped_text(item, needs_parens(item), currency, out);
    }
}

fn grouped_text(cond: &Cond, parens: bool, currency: Currency, out: &mut String) {
    if parens {
        out.push('(');
    }
    cond_text(cond, currency, out);
    if parens {
        out.push(')');
    }
}

pub(crate) fn expr_text(expr: &Expr, currency: Currency, out: &mut String) {
    match expr {
        Expr::Literal(literal) => literal_text(literal, currency, out),
        Expr::Field(field) => field_text(field, out),
        Expr::Call(call) => {
            out.push_str(call.name());
            out.push('(');
            call_args_text(call, out);
            out.push(')');
        }
        Expr::Count(predicate) => {
            out.push_str("count(");
            cond_text(predicate, currency, out);
            out.push(')');
        }
    }
}

fn call_args_text(call: &Call, out: &mut String) {
    match call {
        Call::Spent(w) | Call::Orders(w) | Call::AverageOrderValue(w) | Call::Redemptions(w) => out.push_str(&w.name()),
        Call::Events(name, w) => {
            string_text(name, out);
            out.push_str(", ");
            out.push_str(&w.name());
        }
        Call::Balance(Some(program)) | Call::Tier(program) => string_text(program.as_str(), out),
        Call::InSegment(segment) => string_text(segment.as_str(), out),
        _ => {}
    }
}

fn field_text(field: &Field, out: &mut String) {
    let prefix = field.prefix();
    match field.metadata_key() {
        None => out.push_str(prefix),
        Some(key) if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
            out.push_str(prefix);
            out.push_str(key);
        }
        Some(key) => {
            out.push_str(prefix.trim_end_matches('.'));
            out.push('[');
            string_text(key, out);
            out.push(']');
        }
    }
}

pub(crate) fn literal_text(literal: &Literal, currency: Currency, out: &mut String) {
    match literal {
        Literal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Literal::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Literal::Number(x) => {
            let _ = write!(out, "{x}");
        }
        Literal::Money(m) => out.push_str(&currency.format_major(m.minor_units())),
        Literal::String(s) => string_text(s, out),
        Literal::Date(d) => {
            let _ = write!(out, "{d}");
        }
        Literal::Weekday(d) => string_text(d.as_str(), out),
    }
}

/// A double-quoted string with `"`, `\` and control characters escaped.
pub(crate) fn string_text(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Canonical JSON of a condition.
pub(crate) fn cond_json(cond: &Cond, currency: Currency) -> Json {
    let list = |items: &[Literal]| {
        Json::object([("list", Json::Array(items.iter().map(|l| literal_json(l, currency)).collect()))])
    };
    match cond {
        Cond::And(items) => {
            Json::object([("and", Json::Array(items.iter().map(|c| cond_json(c, currency)).collect()))])
        }
        Cond::Or(items) => Json::object([("or", Json::Array(items.iter().map(|c| cond_json(c, currency)).collect()))]),
        Cond::Not(inner) => Json::object([("not", cond_json(inner, currency))]),
        Cond::Compare { op, left, right } => Json::object([
            ("op", Json::string(op.as_str())),
            ("left", expr_json(left, currency)),
            ("right", expr_json(right, currency)),
        ]),
        Cond::In { left, list: items } => {
            Json::object([("op", Json::string("in")), ("left", expr_json(left, currency)), ("right", list(items))])
        }
        Cond::Between { left, low, high } => Json::object([
            ("op", Json::string("between")),
            ("left", expr_json(left, currency)),
            ("right", list(&[low.clone(), high.clone()])),
        ]),
        Cond::Exists(expr) => Json::object([("exists", expr_json(expr, currency))]),
        Cond::Items { quantifier, predicate } => Json::object([(quantifier.as_str(), cond_json(predicate, currency))]),
        Cond::Test(expr) => expr_json(expr, currency),
    }
}

pub(crate) fn expr_json(expr: &Expr, currency: Currency) -> Json {
    match expr {
        Expr::Literal(literal) => literal_json(literal, currency),
        Expr::Field(field) => Json::object([("field", Json::String(field.name()))]),
        Expr::Count(predicate) => Json::object([("count", cond_json(predicate, currency))]),
        Expr::Call(call) => {
            let window = |w: super::ast::Window| Json::object([("window", Json::String(w.name()))]);
            let text = |s: &str| Json::object([("string", Json::string(s))]);
            let args: Vec<Json> = match call {
                Call::Spent(w) | Call::Orders(w) | Call::AverageOrderValue(w) | Call::Redemptions(w) => {
                    vec![window(*w)]
                }
                Call::Events(name, w) => vec![text(name), window(*w)],
                Call::Balance(Some(program)) | Call::Tier(program) => vec![text(program.as_str())],
                Call::InSegment(segment) => vec![text(segment.as_str())],
                _ => Vec::new(),
            };
            let name = Json::string(call.name());
            if args.is_empty() {
                Json::object([("call", name)])
            } else {
                Json::object([("call", name), ("args", Json::Array(args))])
            }
        }
    }
}

pub(crate) fn literal_json(literal: &Literal, currency: Currency) -> Json {
    match literal {
        Literal::Bool(b) => Json::object([("bool", Json::Bool(*b))]),
        Literal::Int(i) => Json::object([("number", Json::Number(i.to_string()))]),
        Literal::Number(x) => Json::object([("number", Json::Number(x.to_string()))]),
        Literal::Money(m) => Json::object([("money", Json::String(currency.format_major(m.minor_units())))]),
        Literal::String(s) => Json::object([("string", Json::string(s.as_str()))]),
        Literal::Date(d) => Json::object([("date", Json::String(d.to_string()))]),
        Literal::Weekday(d) => Json::object([("string", Json::string(d.as_str()))]),
    }
}

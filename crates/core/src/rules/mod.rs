//! The rule language (R1, R2): typed AST, text form, type checking, evaluation with explanations.
//!
//! One condition language decides eligibility everywhere (earning rules, validation rules, reward eligibility,
//! segments). A rule is parsed from its JSON form ([`Rule::from_json`]) or its text form ([`Rule::parse_text`]),
//! type-checked with every error reported at once ([`RuleError`]: a JSON pointer, a text offset, a kind), and
//! compiled: field names become enum variants, money literals become minor units of the project currency,
//! `in` lists are sorted. [`Rule::evaluate`] is the allocation-free fast path; [`Rule::explain`] returns a
//! [`Trace`]; [`Rule::reads`] says which data the rule depends on.
//!
//! # Text form
//!
//! ```text
//! order.amount >= 50.00 and customer.address.country in ["AT", "DE"] and spent(last_calendar_year) > 1000.00
//! any(item.collections contains "shoes" and item.price >= 20.00) or count(item.sku_id == "sku-1") >= 2
//! not in_segment("seg_01J…") and day_of_week() in ["saturday", "sunday"] and hour() between 17 and 19
//! customer.metadata.vip == true and exists(customer.email) and customer.metadata["favourite colour"] == "red"
//! ```
//!
//! Grammar (loosest first): `or` < `and` < `not` < comparison. A comparison is `operand OP operand` with `OP` one
//! of `== != < <= > >= contains starts_with`, or `operand in [literal, …]`, `operand between literal and
//! literal`, `exists(operand)`, `any(…)`/`every(…)`/`none(…)` over the order's items, or a true/false operand
//! alone (`in_segment("seg_…")`, `is_birthday_month()`, `true`). Operands: fields (below), calls
//! `name(args)`, `count(item predicate)`, literals: numbers `50`, `-2.5`; strings `"DE"` (escapes `\" \\ \n \r
//! \t \u{HEX}`); dates `2024-01-31`; `true`/`false`. A number compared with money is an amount in major units of
//! the project currency (`50.00` is 5000 minor units in EUR; JPY takes no decimals, KWD three). One side of
//! each comparison must be a field or a call. Text comparisons are exact (case-sensitive).
//!
//! Fields: `customer.{source_id,name,email,phone,birthdate,timezone,created_at,last_order_date}`,
//! `customer.address.{line_1,line_2,city,state,postal_code,country}`, `customer.metadata.<key>`,
//! `order.{amount,discount_amount,total,items_count,items_quantity}`, `order.metadata.<key>`, inside
//! quantifiers `item.{product_id,sku_id,collections,price,quantity,amount}` and `item.metadata.<key>`,
//! `event.name`, `event.metadata.<key>`. `customer.created_at` and `customer.last_order_date` are dates in the
//! project's time zone. A metadata key that is not `[A-Za-z0-9_]+` is written in brackets:
//! `customer.metadata["a key"]`. Metadata is typed when the rule runs: a value of another type than the
//! literal it is compared with makes the comparison false.
//!
//! Calls: `spent(w)`, `average_order_value(w)` (money); `orders(w)`, `redemptions(w)`, `events("name", w)`
//! (whole numbers) over a window `w`: `last_N_days` (the N days ending today, N ≤ 730),
//! `this_calendar_{month,quarter,half_year,year}` (up to today), `last_calendar_{…}` (the whole previous
//! period), `lifetime`; `days_since_last_order()`, `days_since_joined()`; `balance()` (summed over programs),
//! `balance("prog_…")`, `tier("prog_…")`; `in_segment("seg_…")`; `today()`, `day_of_week()`, `hour()`,
//! `month()`, `is_birthday_month()`, `is_birthday()`. Calendar values use the project's time zone.
//!
//! # JSON form
//!
//! Every node is an object with one key saying what it is:
//!
//! ```text
//! {"and": [C, …]}   {"or": [C, …]}   {"not": C}   {"exists": E}   {"any"|"every"|"none": C}
//! {"op": "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "starts_with" | "in" | "between", "left": E, "right": E}
//! E (an operand, also allowed where a condition is expected if it is true/false):
//! {"field": "order.amount"}   {"call": "spent", "args": [{"window": "last_calendar_year"}]}   {"call": "hour"}
//! {"count": C}   (call arguments: {"window": …}, or {"string": …} for event names, program and segment ids)
//! {"money": "50.00"}   {"number": 3}   {"string": "DE"}   {"bool": true}   {"date": "2024-01-31"}
//! {"list": [E, …]}   (the right side of "in"; the two bounds [low, high] of "between")
//! ```
//!
//! For example `{"and":[{"op":">=","left":{"field":"order.amount"},"right":{"money":"50.00"}},
//! {"op":"in","left":{"field":"customer.address.country"},"right":{"list":[{"string":"AT"},{"string":"DE"}]}}]}`.
//! Error paths and trace paths are JSON pointers into this form (`/and/1/right/list/0`). [`Rule::to_json`]
//! returns the canonical form (an `and`/`or` of one condition is that condition, an empty `and` is `true`,
//! `in` lists are sorted); store that, so that trace paths match the stored rule.
//!
//! # Semantics
//!
//! Missing data (no customer, order or event; an unset field; a missing metadata key; no membership in the
//! program; no orders to average) is absent: every comparison with it is false, `exists` is false, and so are
//! `any`/`every`/`none` without an order (`not` still negates). Evaluation cannot fail: sizes are bounded at
//! parse time (see [`limits`]), arithmetic saturates, nothing recurses deeper than [`RULE_DEPTH_MAX`].

mod aggregates;
mod ast;
mod check;
mod check_operand;
mod context;
mod error;
mod eval;
mod explain;
mod json;
mod lexer;
pub mod limits;
mod parse_json;
mod parse_text;
mod print;
mod reads;
mod syntax;
mod value;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests_bench;
#[cfg(test)]
mod tests_eval;
#[cfg(test)]
mod tests_explain;
#[cfg(test)]
mod tests_forms;
#[cfg(test)]
mod tests_generators;
#[cfg(test)]
mod tests_invalid;
#[cfg(test)]
mod tests_props;
#[cfg(test)]
mod tests_reference;

pub use ast::{
    Call, CompareOp, Cond, CustomerField, Expr, Field, ItemField, Literal, OrderField, Quantifier, Weekday, Window,
};
pub use context::{Context, CustomerFacts, EventFacts, LoyaltyFacts};
pub use error::{RuleError, RuleErrorKind};
pub use explain::{Expected, Hint, HintAction, Trace, TraceValue};
pub use json::Json;
pub use limits::*;
pub use reads::Reads;

use crate::ids::SegmentId;
use crate::money::Currency;
use error::Errors;

/// What a rule is checked against when it is saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSchema {
    /// The project's currency: money literals are converted to its minor units.
    pub currency: Currency,
}

impl RuleSchema {
    pub fn new(currency: Currency) -> RuleSchema {
        RuleSchema { currency }
    }
}

/// A checked, compiled rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    root: Cond,
    currency: Currency,
    reads: Reads,
}

impl Rule {
    /// Parses and type-checks the JSON form, reporting every problem at once.
    pub fn from_json(json: &Json, schema: &RuleSchema) -> Result<Rule, Vec<RuleError>> {
        let mut errors = Errors::default();
        let syntax = parse_json::read_condition(json, &mut errors);
        let root = check::check(&syntax, schema.currency, &mut errors);
        match root {
            Some(root) if errors.is_empty() => Ok(Rule::new(root, schema.currency)),
            _ => Err(errors.0),
        }
    }

    /// Parses and type-checks the text form. A syntax error stops at the first one; type errors are all
    /// reported, each with its character offset and the JSON pointer the node has in the JSON form.
    pub fn parse_text(text: &str, schema: &RuleSchema) -> Result<Rule, Vec<RuleError>> {
        let syntax = parse_text::parse(text).map_err(|e| vec![e])?;
        let mut errors = Errors::default();
        let root = check::check(&syntax, schema.currency, &mut errors);
        match root {
            Some(root) if errors.is_empty() => Ok(Rule::new(root, schema.currency)),
            _ => Err(errors.0),
        }
    }

    fn new(root: Cond, currency: Currency) -> Rule {
        let reads = Reads::of(&root);
        Rule { root, currency, reads }
    }

    /// The canonical JSON form.
    pub fn to_json(&self) -> Json {
        print::cond_json(&self.root, self.currency)
    }

    /// The canonical text form.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        print::cond_text(&self.root, self.currency, &mut out);
        out
    }

    /// Whether the rule holds in `ctx`. Allocation-free.
    pub fn evaluate(&self, ctx: &Context) -> bool {
        eval::eval_cond(&self.root, &eval::Env::new(ctx), None)
    }

    /// The rule's decision in `ctx`, node by node, with hints for failed thresholds.
    pub fn explain(&self, ctx: &Context) -> Trace {
        let mut explainer =
            explain::Explainer { env: eval::Env::new(ctx), currency: self.currency, path: String::new() };
        explainer.cond(&self.root, None)
    }

    /// The data the rule depends on.
    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    /// The result can change with the clock alone (relative windows, calendar, time of day, birthdays).
    pub fn is_time_dependent(&self) -> bool {
        self.reads.clock
    }

    /// Segments the rule tests membership of, sorted.
    pub fn segments_referenced(&self) -> &[SegmentId] {
        &self.reads.segments
    }

    /// Nodes of the rule, counted as `RULE_NODES_MAX` counts them.
    pub fn node_count(&self) -> usize {
        self.root.node_count()
    }

    /// The checked tree.
    pub fn condition(&self) -> &Cond {
        &self.root
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

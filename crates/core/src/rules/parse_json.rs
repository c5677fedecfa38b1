//! Reads the JSON form into the syntax tree, reporting every shape problem (unknown, missing or duplicate keys,
//! wrong JSON types) with its JSON pointer. Types are the checker's business.

use super::ast::Quantifier;
use super::error::{Errors, RuleErrorKind};
use super::json::Json;
use super::limits::{RULE_DEPTH_MAX, RULE_NODES_MAX};
use super::syntax::{SynCond, SynCondKind, SynExpr, SynExprKind, SynOp};

const COND_KINDS: [&str; 8] = ["and", "or", "not", "op", "exists", "any", "every", "none"];
const EXPR_KINDS: [&str; 10] =
    ["field", "call", "count", "window", "number", "money", "string", "bool", "date", "list"];

/// Reads a condition. Bad nodes are recorded in `errors` and become `Invalid` placeholders.
pub(crate) fn read_condition(json: &Json, errors: &mut Errors) -> SynCond {
    let mut reader = Reader { errors, path: String::new(), nodes: 0 };
    reader.cond(json, 1)
}

struct Reader<'e> {
    errors: &'e mut Errors,
    /// JSON pointer of the node being read.
    path: String,
    nodes: usize,
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub(crate) fn pointer_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl Reader<'_> {
    fn error(&mut self, kind: RuleErrorKind, message: impl Into<String>) {
        self.errors.push(&self.path, None, kind, message);
    }

    /// Runs `read` with `segment` appended to the path.
    fn at<T>(&mut self, segment: &str, read: impl FnOnce(&mut Self) -> T) -> T {
        let len = self.path.len();
        self.path.push('/');
        self.path.push_str(segment);
        let out = read(self);
        self.path.truncate(len);
        out
    }

    /// Counts a node and checks the depth; `false` stops reading this subtree.
    fn enter(&mut self, depth: usize) -> bool {
        if depth > RULE_DEPTH_MAX {
            self.error(RuleErrorKind::TooDeep, format!("rules nest at most {RULE_DEPTH_MAX} levels deep"));
            return false;
        }
        self.nodes += 1;
        if self.nodes == RULE_NODES_MAX + 1 {
            self.error(RuleErrorKind::TooManyNodes, format!("a rule has at most {RULE_NODES_MAX} nodes"));
        }
        self.nodes <= RULE_NODES_MAX
    }

    /// The one key that says what the node is, after reporting duplicate, conflicting and unknown keys.
    fn kind<'j>(&mut self, pairs: &'j [(String, Json)], expected: &str) -> Option<&'j str> {
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs.iter().take(i).any(|(k, _)| k == key) {
                let segment = pointer_key(key);
                self.at(&segment, |r| r.error(RuleErrorKind::Shape, format!("duplicate key `{key}`")));
            }
        }
        let is_kind = |k: &str| COND_KINDS.contains(&k) || EXPR_KINDS.contains(&k);
        let mut kinds = pairs.iter().map(|(k, _)| k.as_str()).filter(|k| is_kind(k));
        let Some(kind) = kinds.next() else {
            self.error(RuleErrorKind::Shape, format!("expected {expected}, found an object without a known key"));
            return None;
        };
        if let Some(second) = kinds.find(|k| *k != kind) {
            self.error(RuleErrorKind::Shape, format!("a node has one kind; found both `{kind}` and `{second}`"));
            return None;
        }
        let extras: &[&str] = match kind {
            "op" => &["left", "right"],
            "call" => &["args"],
            _ => &[],
        };
        for (key, _) in pairs {
            if key != kind && !extras.contains(&key.as_str()) {
                let segment = pointer_key(key);
                self.at(&segment, |r| r.error(RuleErrorKind::Shape, format!("unknown key `{key}` in a `{kind}` node")));
            }
        }
        Some(kind)
    }

    fn cond(&mut self, json: &Json, depth: usize) -> SynCond {
        let Json::Object(pairs) = json else {
            self.error(RuleErrorKind::Shape, format!("expected a condition object, found {}", json.kind()));
            return SynCond::invalid();
        };
        let Some(kind) = self.kind(pairs, "a condition (`and`, `or`, `not`, `op`, `exists`, `any`, `every`, `none`)")
        else {
            return SynCond::invalid();
        };
        if EXPR_KINDS.contains(&kind) {
            return SynCond { at: None, kind: SynCondKind::Test(self.expr(json, depth)) };
        }
        let Some(value) = json.get(kind).filter(|_| self.enter(depth)) else {
            return SynCond::invalid();
        };
        let built = match kind {
            "and" => SynCondKind::And(self.at(kind, |r| r.cond_list(value, depth + 1))),
            "or" => SynCondKind::Or(self.at(kind, |r| r.cond_list(value, depth + 1))),
            "not" => SynCondKind::Not(Box::new(self.at("not", |r| r.cond(value, depth + 1)))),
            "op" => self.comparison(json, value, depth),
            "exists" => SynCondKind::Exists(self.at("exists", |r| r.expr(value, depth + 1))),
            _ => match Quantifier::parse(kind) {
                Some(quantifier) => {
                    SynCondKind::Items(quantifier, Box::new(self.at(kind, |r| r.cond(value, depth + 1))))
                }
                None => SynCondKind::Invalid,
            },
        };
        SynCond { at: None, kind: built }
    }

    fn cond_list(&mut self, json: &Json, depth: usize) -> Vec<SynCond> {
        let Json::Array(items) = json else {
            self.error(RuleErrorKind::Shape, format!("expected an array of conditions, found {}", json.kind()));
            return vec![SynCond::invalid()];
        };
        items.iter().enumerate().map(|(i, item)| self.at(&i.to_string(), |r| r.cond(item, depth))).collect()
    }

    fn comparison(&mut self, json: &Json, op: &Json, depth: usize) -> SynCondKind {
        let op = match op {
            Json::String(raw) => SynOp::parse(raw).or_else(|| {
                self.at("op", |r| {
                    let known = "==, !=, <, <=, >, >=, in, between, contains, starts_with";
                    r.error(RuleErrorKind::Shape, format!("unknown operator `{raw}`; use one of {known}"))
                });
                None
            }),
            other => {
                let kind = other.kind();
                self.at("op", |r| r.error(RuleErrorKind::Shape, format!("expected an operator string, found {kind}")));
                None
            }
        };
        let left = self.operand_key(json, "left", depth);
        let right = self.operand_key(json, "right", depth);
        SynCondKind::Compare { op, left, right }
    }

    fn operand_key(&mut self, json: &Json, key: &str, depth: usize) -> SynExpr {
        match json.get(key) {
            Some(value) => self.at(key, |r| r.expr(value, depth + 1)),
            None => {
                self.error(RuleErrorKind::Shape, format!("a comparison needs `{key}`"));
                SynExpr::invalid()
            }
        }
    }

    fn expr(&mut self, json: &Json, depth: usize) -> SynExpr {
        let Json::Object(pairs) = json else {
            let found = json.kind();
            self.error(
                RuleErrorKind::Shape,
                format!("expected an operand object such as {{\"field\": …}}, found {found}"),
            );
            return SynExpr::invalid();
        };
        let Some(kind) = self.kind(pairs, "an operand (`field`, `call`, `count` or a literal such as `money`)") else {
            return SynExpr::invalid();
        };
        if COND_KINDS.contains(&kind) {
            self.error(RuleErrorKind::Shape, format!("expected an operand, found a `{kind}` condition"));
            return SynExpr::invalid();
        }
        let Some(value) = json.get(kind).filter(|_| self.enter(depth)) else {
            return SynExpr::invalid();
        };
        let built = match kind {
            "call" => self.call(json, value, depth),
            "count" => SynExprKind::Count(Box::new(self.at("count", |r| r.cond(value, depth + 1)))),
            "list" => SynExprKind::List(self.at("list", |r| r.expr_list(value, depth + 1))),
            "bool" => match value {
                Json::Bool(b) => SynExprKind::Bool(*b),
                other => self.wrong_type(kind, "true or false", other),
            },
            "number" | "money" => match value {
                Json::Number(text) | Json::String(text) if kind == "number" => SynExprKind::Number(text.clone()),
                Json::Number(text) | Json::String(text) => SynExprKind::Money(text.clone()),
                other => self.wrong_type(kind, "a number", other),
            },
            _ => match value {
                Json::String(text) => string_kind(kind, text.clone()),
                other => self.wrong_type(kind, "a string", other),
            },
        };
        SynExpr { at: None, kind: built }
    }

    fn wrong_type(&mut self, key: &str, expected: &str, found: &Json) -> SynExprKind {
        let found = found.kind();
        self.at(key, |r| r.error(RuleErrorKind::Shape, format!("`{key}` takes {expected}, found {found}")));
        SynExprKind::Invalid
    }

    fn call(&mut self, json: &Json, name: &Json, depth: usize) -> SynExprKind {
        let Json::String(name) = name else {
            return self.wrong_type("call", "a function name", name);
        };
        let args = match json.get("args") {
            None => Vec::new(),
            Some(args) => self.at("args", |r| r.expr_list(args, depth + 1)),
        };
        SynExprKind::Call { name: name.clone(), args }
    }

    fn expr_list(&mut self, json: &Json, depth: usize) -> Vec<SynExpr> {
        let Json::Array(items) = json else {
            self.error(RuleErrorKind::Shape, format!("expected an array, found {}", json.kind()));
            return vec![SynExpr::invalid()];
        };
        items.iter().enumerate().map(|(i, item)| self.at(&i.to_string(), |r| r.expr(item, depth))).collect()
    }
}

fn string_kind(kind: &str, text: String) -> SynExprKind {
    match kind {
        "field" => SynExprKind::Field(text),
        "window" => SynExprKind::Window(text),
        "date" => SynExprKind::Date(text),
        _ => SynExprKind::Str(text),
    }
}

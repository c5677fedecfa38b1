//! Type-checks the syntax tree into a `Cond`, collecting every error with its JSON pointer: conditions and
//! comparisons here, operands and literals in `check_operand`.

use super::ast::{CompareOp, Cond, Expr, Literal, Type, canonical_list};
use super::error::{Errors, RuleErrorKind};
use super::limits::{RULE_DEPTH_MAX, RULE_LIST_ITEMS_MAX, RULE_NODES_MAX};
use super::syntax::{SynCond, SynCondKind, SynExpr, SynExprKind, SynOp};
use crate::money::Currency;

/// Checks a whole rule; `None` when errors were recorded.
pub(crate) fn check(syn: &SynCond, currency: Currency, errors: &mut Errors) -> Option<Cond> {
    let mut checker = Checker { currency, errors, path: String::new(), nodes: 0 };
    checker.cond(syn, 1, Scope::Rule)
}

/// Where a node sits: item fields and quantifiers need to know whether they are inside a quantifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Rule,
    Items,
}

pub(crate) struct Checker<'e> {
    pub currency: Currency,
    pub errors: &'e mut Errors,
    /// JSON pointer of the node being checked.
    pub path: String,
    pub nodes: usize,
}

/// A checked operand. Literals wait for the type of the other side before they are converted.
pub(crate) enum Operand {
    Expr(Expr, Type),
    Literal,
    /// Has errors, but its type is known (a call with bad arguments, an item field outside a quantifier):
    /// the rest of the comparison is still checked against it, so that every error is reported at once.
    Broken(Type),
    Invalid,
}

impl Checker<'_> {
    pub fn error(&mut self, at: Option<usize>, kind: RuleErrorKind, message: impl Into<String>) {
        self.errors.push(&self.path, at, kind, message);
    }

    /// Runs `check` with `segment` appended to the path.
    pub fn at<T>(&mut self, segment: &str, check: impl FnOnce(&mut Self) -> T) -> T {
        let len = self.path.len();
        self.path.push('/');
        self.path.push_str(segment);
        let out = check(self);
        self.path.truncate(len);
        out
    }

    /// Counts a node and checks its depth; `false` stops checking this subtree.
    pub fn enter(&mut self, depth: usize, at: Option<usize>) -> bool {
        if depth > RULE_DEPTH_MAX {
            self.error(at, RuleErrorKind::TooDeep, format!("rules nest at most {RULE_DEPTH_MAX} levels deep"));
            return false;
        }
        self.nodes += 1;
        if self.nodes == RULE_NODES_MAX + 1 {
            self.error(at, RuleErrorKind::TooManyNodes, format!("a rule has at most {RULE_NODES_MAX} nodes"));
        }
        self.nodes <= RULE_NODES_MAX
    }

    pub fn cond(&mut self, syn: &SynCond, depth: usize, scope: Scope) -> Option<Cond> {
        match &syn.kind {
            SynCondKind::Test(expr) => return self.test(expr, depth, scope),
            SynCondKind::Invalid => return None,
            _ => {}
        }
        if !self.enter(depth, syn.at) {
            return None;
        }
        match &syn.kind {
            SynCondKind::And(items) => {
                self.at("and", |c| c.conds(items, depth + 1, scope)).map(|items| join(items, true))
            }
            SynCondKind::Or(items) => {
                self.at("or", |c| c.conds(items, depth + 1, scope)).map(|items| join(items, false))
            }
            SynCondKind::Not(inner) => {
                let inner = self.at("not", |c| c.cond(inner, depth + 1, scope))?;
                Some(Cond::Not(Box::new(inner)))
            }
            SynCondKind::Compare { op: Some(op), left, right } => self.compare(*op, left, right, syn.at, depth, scope),
            SynCondKind::Compare { op: None, left, right } => {
                // The reader reported the operator; the operands may have problems of their own.
                self.at("left", |c| c.operand_alone(left, depth + 1, scope));
                self.at("right", |c| c.operand_alone(right, depth + 1, scope));
                None
            }
            SynCondKind::Exists(expr) => self.at("exists", |c| c.exists(expr, depth + 1, scope)),
            SynCondKind::Items(quantifier, predicate) => {
                self.outside_items(scope, syn.at)?;
                let predicate = self.at(quantifier.as_str(), |c| c.cond(predicate, depth + 1, Scope::Items))?;
                Some(Cond::Items { quantifier: *quantifier, predicate: Box::new(predicate) })
            }
            SynCondKind::Test(_) | SynCondKind::Invalid => None,
        }
    }

    /// Checks every child, so that all their errors are reported.
    fn conds(&mut self, items: &[SynCond], depth: usize, scope: Scope) -> Option<Vec<Cond>> {
        let mut out = Vec::with_capacity(items.len());
        let mut complete = true;
        for (i, item) in items.iter().enumerate() {
            match self.at(&i.to_string(), |c| c.cond(item, depth, scope)) {
                Some(cond) => out.push(cond),
                None => complete = false,
            }
        }
        complete.then_some(out)
    }

    /// Quantifiers and `count` open the item scope; they do not nest (evaluation stays linear in the items).
    pub fn outside_items(&mut self, scope: Scope, at: Option<usize>) -> Option<()> {
        if scope == Scope::Items {
            self.error(at, RuleErrorKind::OutOfScope, "any(), every(), none() and count() do not nest");
            return None;
        }
        Some(())
    }

    fn test(&mut self, syn: &SynExpr, depth: usize, scope: Scope) -> Option<Cond> {
        match self.operand(syn, depth, scope) {
            Operand::Expr(expr, Type::Bool | Type::Meta) => Some(Cond::Test(expr)),
            Operand::Expr(_, ty) => {
                let message =
                    format!("a condition must be true or false, found {}; compare it, e.g. `>=`", ty.describe());
                self.error(syn.at, RuleErrorKind::TypeMismatch, message);
                None
            }
            Operand::Broken(ty) => {
                if !matches!(ty, Type::Bool | Type::Meta) {
                    let message =
                        format!("a condition must be true or false, found {}; compare it, e.g. `>=`", ty.describe());
                    self.error(syn.at, RuleErrorKind::TypeMismatch, message);
                }
                None
            }
            Operand::Literal => self.literal(syn, Type::Bool).map(|l| Cond::Test(Expr::Literal(l))),
            Operand::Invalid => None,
        }
    }

    fn exists(&mut self, syn: &SynExpr, depth: usize, scope: Scope) -> Option<Cond> {
        match self.operand(syn, depth, scope) {
            Operand::Expr(expr, _) => Some(Cond::Exists(expr)),
            Operand::Literal => {
                self.error(syn.at, RuleErrorKind::TypeMismatch, "exists() takes a field or a function, not a literal");
                None
            }
            Operand::Broken(_) | Operand::Invalid => None,
        }
    }

    fn compare(
        &mut self,
        op: SynOp,
        left: &SynExpr,
        right: &SynExpr,
        at: Option<usize>,
        depth: usize,
        scope: Scope,
    ) -> Option<Cond> {
        let checked_left = self.at("left", |c| c.operand(left, depth + 1, scope));
        let SynOp::Compare(op) = op else {
            let (left, left_ty) = match checked_left {
                Operand::Expr(expr, ty) => (Some(expr), ty),
                Operand::Broken(ty) => (None, ty),
                Operand::Literal => {
                    let message = format!("the left side of `{}` must be a field or a function", op.as_str());
                    self.at("left", |c| c.error(left.at, RuleErrorKind::TypeMismatch, message));
                    return None;
                }
                Operand::Invalid => {
                    self.at("right", |c| c.literal_alone(right));
                    return None;
                }
            };
            return match op {
                SynOp::In => {
                    let list = self.at("right", |c| c.in_list(right, left_ty, at, depth + 1))?;
                    Some(Cond::In { left: left?, list })
                }
                _ => {
                    let (low, high) = self.at("right", |c| c.bounds(right, left_ty, at, depth + 1))?;
                    Some(Cond::Between { left: left?, low, high })
                }
            };
        };
        let checked_right = self.at("right", |c| c.operand(right, depth + 1, scope));
        let (left, left_ty) = match (checked_left, &checked_right) {
            (Operand::Expr(expr, ty), _) => (Some(expr), ty),
            (Operand::Broken(ty), _) => (None, ty),
            (Operand::Literal, Operand::Expr(_, right_ty) | Operand::Broken(right_ty)) => {
                let target =
                    if matches!(op, CompareOp::Contains | CompareOp::StartsWith) { Type::String } else { *right_ty };
                let literal = self.at("left", |c| c.literal(left, target))?;
                let ty = literal.ty();
                (Some(Expr::Literal(literal)), ty)
            }
            (Operand::Literal, Operand::Literal) => {
                self.error(at, RuleErrorKind::TypeMismatch, "one side of a comparison must be a field or a function");
                return None;
            }
            (Operand::Invalid, Operand::Literal) => {
                self.at("right", |c| c.literal_alone(right));
                return None;
            }
            (Operand::Literal, Operand::Invalid) => {
                self.at("left", |c| c.literal_alone(left));
                return None;
            }
            (Operand::Invalid, _) => return None,
        };
        let (right, right_ty) = self.right_side(op, right, checked_right, left_ty)?;
        self.check_op(op, left_ty, right_ty, at)?;
        Some(Cond::Compare { op, left: left?, right: right? })
    }

    /// The right operand of a binary comparison, with literals converted to the left side's type (`None`
    /// with its type when it is broken).
    fn right_side(
        &mut self,
        op: CompareOp,
        syn: &SynExpr,
        checked: Operand,
        left_ty: Type,
    ) -> Option<(Option<Expr>, Type)> {
        match checked {
            Operand::Expr(expr, ty) => Some((Some(expr), ty)),
            Operand::Broken(ty) => Some((None, ty)),
            Operand::Literal => {
                let target = match (op, left_ty) {
                    (CompareOp::Contains | CompareOp::StartsWith, Type::StringList | Type::String) => Type::String,
                    (CompareOp::StartsWith, _) => Type::String,
                    (_, ty) => ty,
                };
                let literal = self.at("right", |c| c.literal(syn, target))?;
                let ty = literal.ty();
                Some((Some(Expr::Literal(literal)), ty))
            }
            Operand::Invalid => None,
        }
    }

    /// Checks an operand on its own (the other side is broken): reports what is wrong with it alone.
    fn operand_alone(&mut self, syn: &SynExpr, depth: usize, scope: Scope) {
        if let Operand::Literal = self.operand(syn, depth, scope) {
            self.literal_alone(syn);
        }
    }

    /// Checks a literal (or a list of them) against its own type: bad money, dates, lengths.
    fn literal_alone(&mut self, syn: &SynExpr) {
        match &syn.kind {
            SynExprKind::List(items) => self.at("list", |c| {
                for (i, item) in items.iter().enumerate() {
                    c.at(&i.to_string(), |c| c.literal_alone(item));
                }
            }),
            kind => {
                if let Some(ty) = natural_type(kind) {
                    self.literal(syn, ty);
                }
            }
        }
    }

    /// Whether `op` applies to operands of these types.
    fn check_op(&mut self, op: CompareOp, left: Type, right: Type, at: Option<usize>) -> Option<()> {
        let problem = match op {
            CompareOp::Contains => match left {
                Type::String | Type::StringList if matches!(right, Type::String | Type::Meta) => None,
                Type::Meta if right != Type::StringList => None,
                Type::String | Type::StringList | Type::Meta => {
                    Some(format!("contains takes text on the right, found {}", right.describe()))
                }
                _ => Some(format!("contains works on text and lists, not on {}", left.describe())),
            },
            CompareOp::StartsWith => (!matches!(left, Type::String | Type::Meta)
                || !matches!(right, Type::String | Type::Meta))
            .then(|| format!("starts_with compares text, found {} and {}", left.describe(), right.describe())),
            _ if left == Type::StringList || right == Type::StringList => {
                Some(format!("`{}` does not compare lists; use contains", op.as_str()))
            }
            _ if !comparable(left, right) => {
                Some(format!("cannot compare {} with {}", left.describe(), right.describe()))
            }
            _ if op.is_ordering() && !(left.is_ordered() && right.is_ordered()) => {
                let ty = if left.is_ordered() { right } else { left };
                Some(format!("`{}` orders numbers, money and dates, not {}", op.as_str(), ty.describe()))
            }
            _ => None,
        };
        match problem {
            Some(message) => {
                self.error(at, RuleErrorKind::TypeMismatch, message);
                None
            }
            None => Some(()),
        }
    }

    /// The list after `in`: literals of the left side's type, sorted and deduplicated.
    fn in_list(&mut self, syn: &SynExpr, left_ty: Type, at: Option<usize>, depth: usize) -> Option<Vec<Literal>> {
        let SynExprKind::List(items) = &syn.kind else {
            self.error(
                syn.at.or(at),
                RuleErrorKind::TypeMismatch,
                "`in` takes a list literal such as [\"DE\", \"AT\"]",
            );
            return None;
        };
        if left_ty == Type::StringList {
            self.error(at, RuleErrorKind::TypeMismatch, "the left side is a list; use contains");
            return None;
        }
        if items.len() > RULE_LIST_ITEMS_MAX {
            self.error(
                syn.at,
                RuleErrorKind::TooManyItems,
                format!("a list holds at most {RULE_LIST_ITEMS_MAX} values"),
            );
            return None;
        }
        let literals = self.list_items(syn, items, left_ty, depth)?;
        Some(canonical_list(literals))
    }

    /// The two bounds of `between`, of the left side's type, low ≤ high.
    fn bounds(&mut self, syn: &SynExpr, left_ty: Type, at: Option<usize>, depth: usize) -> Option<(Literal, Literal)> {
        let items = match &syn.kind {
            SynExprKind::List(items) if items.len() == 2 => items,
            _ => {
                let message = "between takes two bounds: [low, high] (text: `x between low and high`)";
                self.error(syn.at.or(at), RuleErrorKind::ArgumentCount, message);
                return None;
            }
        };
        if !left_ty.is_ordered() {
            self.error(
                at,
                RuleErrorKind::TypeMismatch,
                format!("between orders numbers, money and dates, not {}", left_ty.describe()),
            );
            return None;
        }
        let mut bounds = self.list_items(syn, items, left_ty, depth)?.into_iter();
        let (low, high) = (bounds.next()?, bounds.next()?);
        if !low.ty().is_ordered() {
            self.error(
                at,
                RuleErrorKind::TypeMismatch,
                format!("between orders numbers, money and dates, not {}", low.ty().describe()),
            );
            return None;
        }
        if low.cmp_canonical(&high).is_gt() {
            self.error(syn.at.or(at), RuleErrorKind::InvalidLiteral, "the lower bound is above the upper bound");
            return None;
        }
        Some((low, high))
    }

    /// Elements of a list literal converted to `target` (metadata: to their own type, which must be shared).
    fn list_items(&mut self, syn: &SynExpr, items: &[SynExpr], target: Type, depth: usize) -> Option<Vec<Literal>> {
        if !self.enter(depth, syn.at) {
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut complete = true;
        self.at("list", |c| {
            for (i, item) in items.iter().enumerate() {
                let literal = c.at(&i.to_string(), |c| c.list_item(item, target, out.first(), depth + 1));
                match literal {
                    Some(l) => out.push(l),
                    None => complete = false,
                }
            }
        });
        complete.then_some(out)
    }

    fn list_item(&mut self, item: &SynExpr, target: Type, first: Option<&Literal>, depth: usize) -> Option<Literal> {
        if !self.enter(depth, item.at) {
            return None;
        }
        if !item.kind.is_literal() || matches!(item.kind, SynExprKind::List(_)) {
            self.error(
                item.at,
                RuleErrorKind::TypeMismatch,
                "a list holds literals (text, numbers, money, dates, true/false)",
            );
            return None;
        }
        let literal = self.literal(item, target)?;
        match first {
            Some(first) if first.ty() != literal.ty() => {
                let message =
                    format!("a list holds one type; found {} after {}", literal.ty().describe(), first.ty().describe());
                self.error(item.at, RuleErrorKind::TypeMismatch, message);
                None
            }
            _ => Some(literal),
        }
    }
}

/// Types that `==` and the ordering operators accept together.
fn comparable(left: Type, right: Type) -> bool {
    let with_meta = |t: Type| matches!(t, Type::Bool | Type::Number | Type::String | Type::Date | Type::Meta);
    left == right || (left == Type::Meta && with_meta(right)) || (right == Type::Meta && with_meta(left))
}

/// The type a literal has on its own (used when both sides are literals).
pub(crate) fn natural_type(kind: &SynExprKind) -> Option<Type> {
    match kind {
        SynExprKind::Number(_) => Some(Type::Number),
        SynExprKind::Money(_) => Some(Type::Money),
        SynExprKind::Str(_) => Some(Type::String),
        SynExprKind::Bool(_) => Some(Type::Bool),
        SynExprKind::Date(_) => Some(Type::Date),
        _ => None,
    }
}

/// `and`/`or` in canonical form: no children is `true`/`false`, one child is that child.
fn join(mut items: Vec<Cond>, all: bool) -> Cond {
    match items.len() {
        0 => Cond::Test(Expr::Literal(Literal::Bool(all))),
        1 => items.pop().unwrap_or(Cond::Test(Expr::Literal(Literal::Bool(all)))),
        _ if all => Cond::And(items),
        _ => Cond::Or(items),
    }
}

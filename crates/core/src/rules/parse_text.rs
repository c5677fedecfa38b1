//! Parses the text form into the syntax tree (recursive descent; the first syntax error stops it).
//!
//! Precedence, loosest first: `or`, `and`, `not`, then comparisons. Parentheses group conditions.

use super::ast::{CompareOp, Quantifier};
use super::error::{RuleError, RuleErrorKind};
use super::lexer::{Tok, Token, syntax_error, tokenize};
use super::limits::{RULE_DEPTH_MAX, RULE_TEXT_CHARS_MAX};
use super::syntax::{SynCond, SynCondKind, SynExpr, SynExprKind, SynOp};

/// Parser frames allowed: a rule at the depth limit needs about four frames per level (parentheses around
/// `and`/`or`); the precise depth is checked by the checker. This only keeps hostile input off the stack.
const PARSE_FRAMES_MAX: usize = 8 * RULE_DEPTH_MAX;

const KEYWORDS: [&str; 14] = [
    "and",
    "or",
    "not",
    "in",
    "between",
    "contains",
    "starts_with",
    "exists",
    "any",
    "every",
    "none",
    "count",
    "true",
    "false",
];

pub(crate) fn parse(text: &str) -> Result<SynCond, RuleError> {
    if text.chars().count() > RULE_TEXT_CHARS_MAX {
        return Err(RuleError {
            path: String::new(),
            offset: Some(RULE_TEXT_CHARS_MAX),
            kind: RuleErrorKind::TooLong,
            message: format!("a rule's text has at most {RULE_TEXT_CHARS_MAX} characters"),
        });
    }
    let mut parser = Parser { tokens: tokenize(text)?, pos: 0 };
    let cond = parser.or(0)?;
    match parser.peek() {
        Tok::End => Ok(cond),
        other => Err(syntax_error(parser.at(), format!("expected `and`, `or` or the end, found {other}"))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

fn word_is(tok: &Tok, keyword: &str) -> bool {
    matches!(tok, Tok::Word(w) if w == keyword)
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.pos).map_or(&Tok::End, |t| &t.tok)
    }

    fn peek_second(&self) -> &Tok {
        self.tokens.get(self.pos + 1).map_or(&Tok::End, |t| &t.tok)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).or(self.tokens.last()).map_or(0, |t| t.at)
    }

    fn bump(&mut self) -> Tok {
        let tok = self.peek().clone();
        self.pos += 1;
        tok
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), RuleError> {
        if self.peek() == tok {
            self.pos += 1;
            Ok(())
        } else {
            Err(syntax_error(self.at(), format!("expected {tok}, found {}", self.peek())))
        }
    }

    fn guard(&self, depth: usize) -> Result<(), RuleError> {
        if depth > PARSE_FRAMES_MAX {
            return Err(RuleError {
                path: String::new(),
                offset: Some(self.at()),
                kind: RuleErrorKind::TooDeep,
                message: format!("rules nest at most {RULE_DEPTH_MAX} levels deep"),
            });
        }
        Ok(())
    }

    fn or(&mut self, depth: usize) -> Result<SynCond, RuleError> {
        self.guard(depth)?;
        let at = self.at();
        let mut items = vec![self.and(depth + 1)?];
        while word_is(self.peek(), "or") {
            self.pos += 1;
            items.push(self.and(depth + 1)?);
        }
        Ok(join(items, at, SynCondKind::Or))
    }

    fn and(&mut self, depth: usize) -> Result<SynCond, RuleError> {
        self.guard(depth)?;
        let at = self.at();
        let mut items = vec![self.unary(depth + 1)?];
        while word_is(self.peek(), "and") {
            self.pos += 1;
            items.push(self.unary(depth + 1)?);
        }
        Ok(join(items, at, SynCondKind::And))
    }

    fn unary(&mut self, depth: usize) -> Result<SynCond, RuleError> {
        self.guard(depth)?;
        let at = self.at();
        if word_is(self.peek(), "not") {
            self.pos += 1;
            let inner = self.unary(depth + 1)?;
            return Ok(SynCond { at: Some(at), kind: SynCondKind::Not(Box::new(inner)) });
        }
        self.primary(depth + 1)
    }

    fn primary(&mut self, depth: usize) -> Result<SynCond, RuleError> {
        self.guard(depth)?;
        let at = self.at();
        let opens_call = *self.peek_second() == Tok::LParen;
        let kind = match self.peek().clone() {
            Tok::LParen => {
                self.pos += 1;
                let inner = self.or(depth + 1)?;
                self.expect(&Tok::RParen)?;
                return Ok(inner);
            }
            Tok::Word(w) if opens_call && Quantifier::parse(&w).is_some() => {
                self.pos += 2;
                let predicate = self.or(depth + 1)?;
                self.expect(&Tok::RParen)?;
                SynCondKind::Items(Quantifier::parse(&w).unwrap_or(Quantifier::Any), Box::new(predicate))
            }
            Tok::Word(w) if opens_call && w == "exists" => {
                self.pos += 2;
                let operand = self.expr(depth + 1)?;
                self.expect(&Tok::RParen)?;
                SynCondKind::Exists(operand)
            }
            _ => self.comparison(depth + 1)?,
        };
        Ok(SynCond { at: Some(at), kind })
    }

    fn comparison(&mut self, depth: usize) -> Result<SynCondKind, RuleError> {
        let left = self.expr(depth)?;
        let op = match self.peek() {
            Tok::Op(op) => CompareOp::parse(op).map(SynOp::Compare),
            Tok::Word(w) if matches!(w.as_str(), "in" | "between" | "contains" | "starts_with") => SynOp::parse(w),
            _ => None,
        };
        let Some(op) = op else {
            return Ok(SynCondKind::Test(left));
        };
        self.pos += 1;
        let right = match op {
            SynOp::Between => {
                let low = self.expr(depth)?;
                if !word_is(self.peek(), "and") {
                    return Err(syntax_error(self.at(), format!("expected `and` in `between`, found {}", self.peek())));
                }
                self.pos += 1;
                let high = self.expr(depth)?;
                SynExpr { at: low.at, kind: SynExprKind::List(vec![low, high]) }
            }
            SynOp::In if *self.peek() != Tok::LBracket => {
                return Err(syntax_error(
                    self.at(),
                    format!("expected a list `[…]` after `in`, found {}", self.peek()),
                ));
            }
            _ => self.expr(depth)?,
        };
        Ok(SynCondKind::Compare { op: Some(op), left, right })
    }

    fn expr(&mut self, depth: usize) -> Result<SynExpr, RuleError> {
        self.guard(depth)?;
        let at = self.at();
        let opens_call = *self.peek_second() == Tok::LParen;
        let kind = match self.bump() {
            Tok::Num(n) => SynExprKind::Number(n),
            Tok::Date(d) => SynExprKind::Date(d),
            Tok::Str(s) => SynExprKind::Str(s),
            Tok::LBracket => SynExprKind::List(self.list(depth + 1)?),
            Tok::Word(w) if w == "true" || w == "false" => SynExprKind::Bool(w == "true"),
            Tok::Word(w) if opens_call && w == "count" => {
                self.pos += 1;
                let predicate = self.or(depth + 1)?;
                self.expect(&Tok::RParen)?;
                SynExprKind::Count(Box::new(predicate))
            }
            Tok::Word(w) if opens_call => {
                self.pos += 1;
                SynExprKind::Call { name: w, args: self.args(depth + 1)? }
            }
            Tok::Word(w) if !KEYWORDS.contains(&w.as_str()) => self.field(w)?,
            other => {
                return Err(syntax_error(at, format!("expected an operand, found {other}")));
            }
        };
        Ok(SynExpr { at: Some(at), kind })
    }

    /// A dotted name, optionally followed by a metadata key in brackets: `customer.metadata["a key"]`.
    fn field(&mut self, word: String) -> Result<SynExprKind, RuleError> {
        if word.ends_with(".metadata") && *self.peek() == Tok::LBracket {
            self.pos += 1;
            let Tok::Str(key) = self.bump() else {
                return Err(syntax_error(self.at(), "expected a quoted metadata key after `[`"));
            };
            self.expect(&Tok::RBracket)?;
            return Ok(SynExprKind::Field(format!("{word}.{key}")));
        }
        Ok(SynExprKind::Field(word))
    }

    fn list(&mut self, depth: usize) -> Result<Vec<SynExpr>, RuleError> {
        let mut items = Vec::new();
        if *self.peek() == Tok::RBracket {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.expr(depth)?);
            match self.bump() {
                Tok::Comma => {}
                Tok::RBracket => return Ok(items),
                other => {
                    let at = self.tokens.get(self.pos.saturating_sub(1)).map_or(0, |t| t.at);
                    return Err(syntax_error(at, format!("expected `,` or `]`, found {other}")));
                }
            }
        }
    }

    /// Call arguments after `(`: operands, or bare window names such as `last_30_days`.
    fn args(&mut self, depth: usize) -> Result<Vec<SynExpr>, RuleError> {
        let mut args = Vec::new();
        if *self.peek() == Tok::RParen {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            let at = self.at();
            let bare_name = match (self.peek(), self.peek_second()) {
                (Tok::Word(w), second)
                    if !w.contains('.') && *second != Tok::LParen && !KEYWORDS.contains(&w.as_str()) =>
                {
                    Some(w.clone())
                }
                _ => None,
            };
            match bare_name {
                Some(name) => {
                    self.pos += 1;
                    args.push(SynExpr { at: Some(at), kind: SynExprKind::Window(name) });
                }
                None => args.push(self.expr(depth)?),
            }
            match self.bump() {
                Tok::Comma => {}
                Tok::RParen => return Ok(args),
                other => {
                    let at = self.tokens.get(self.pos.saturating_sub(1)).map_or(0, |t| t.at);
                    return Err(syntax_error(at, format!("expected `,` or `)`, found {other}")));
                }
            }
        }
    }
}

fn join(mut items: Vec<SynCond>, at: usize, make: fn(Vec<SynCond>) -> SynCondKind) -> SynCond {
    if items.len() == 1
        && let Some(only) = items.pop()
    {
        return only;
    }
    SynCond { at: Some(at), kind: make(items) }
}

//! Splits the text form into tokens, each with its character offset.

use super::error::{RuleError, RuleErrorKind};
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A name or a dotted path (`customer.address.country`, `and`, `last_30_days`).
    Word(String),
    Str(String),
    /// `-?digits(.digits)?` as written.
    Num(String),
    /// `YYYY-MM-DD` as written (validated by the checker).
    Date(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(&'static str),
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) => write!(f, "`{w}`"),
            Tok::Str(_) => f.write_str("a string"),
            Tok::Num(n) => write!(f, "`{n}`"),
            Tok::Date(d) => write!(f, "`{d}`"),
            Tok::LParen => f.write_str("`(`"),
            Tok::RParen => f.write_str("`)`"),
            Tok::LBracket => f.write_str("`[`"),
            Tok::RBracket => f.write_str("`]`"),
            Tok::Comma => f.write_str("`,`"),
            Tok::Op(op) => write!(f, "`{op}`"),
            Tok::End => f.write_str("the end of the rule"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Character offset of the token's first character.
    pub at: usize,
}

pub(crate) fn syntax_error(at: usize, message: impl Into<String>) -> RuleError {
    RuleError { path: String::new(), offset: Some(at), kind: RuleErrorKind::Syntax, message: message.into() }
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Tokens of `text`, ending with `Tok::End`; the first lexical problem is an error.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let next = chars.get(i + 1).copied();
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '[' => (Tok::LBracket, 1),
            ']' => (Tok::RBracket, 1),
            ',' => (Tok::Comma, 1),
            '=' if next == Some('=') => (Tok::Op("=="), 2),
            '=' => return Err(syntax_error(start, "use `==` to compare")),
            '!' if next == Some('=') => (Tok::Op("!="), 2),
            '<' if next == Some('=') => (Tok::Op("<="), 2),
            '<' => (Tok::Op("<"), 1),
            '>' if next == Some('=') => (Tok::Op(">="), 2),
            '>' => (Tok::Op(">"), 1),
            '"' => string(&chars, start)?,
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => number(&chars, start)?,
            c if is_word_start(c) => {
                let len = chars.iter().skip(start).take_while(|c| is_word_char(**c)).count();
                (Tok::Word(chars.iter().skip(start).take(len).collect()), len)
            }
            other => {
                return Err(syntax_error(start, format!("unexpected character `{other}`")));
            }
        };
        tokens.push(Token { tok, at: start });
        i = start + len;
    }
    tokens.push(Token { tok: Tok::End, at: chars.len() });
    Ok(tokens)
}

fn digits_at(chars: &[char], from: usize) -> usize {
    chars.iter().skip(from).take_while(|c| c.is_ascii_digit()).count()
}

/// A number, or a date when four digits are followed by `-DD-DD`.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize), RuleError> {
    let negative = chars.get(start) == Some(&'-');
    let whole = digits_at(chars, start + usize::from(negative));
    let mut len = usize::from(negative) + whole;
    let date_shape = |i: usize| {
        let at = |k: usize| chars.get(i + k).copied();
        at(0) == Some('-')
            && at(1).is_some_and(|c| c.is_ascii_digit())
            && at(2).is_some_and(|c| c.is_ascii_digit())
            && at(3) == Some('-')
            && at(4).is_some_and(|c| c.is_ascii_digit())
            && at(5).is_some_and(|c| c.is_ascii_digit())
    };
    let tok = if !negative && whole == 4 && date_shape(start + 4) {
        len = 10;
        Tok::Date(chars.iter().skip(start).take(len).collect())
    } else {
        if chars.get(start + len) == Some(&'.') {
            let fraction = digits_at(chars, start + len + 1);
            if fraction == 0 {
                return Err(syntax_error(start, "a decimal point needs digits after it"));
            }
            len += 1 + fraction;
        }
        Tok::Num(chars.iter().skip(start).take(len).collect())
    };
    if let Some(&c) = chars.get(start + len).filter(|c| is_word_char(**c)) {
        return Err(syntax_error(start + len, format!("unexpected `{c}` after a number")));
    }
    Ok((tok, len))
}

/// A double-quoted string with the escapes `\"`, `\\`, `\n`, `\r`, `\t` and `\u{HEX}`.
fn string(chars: &[char], start: usize) -> Result<(Tok, usize), RuleError> {
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(syntax_error(start, "this string is not closed")),
            Some('"') => return Ok((Tok::Str(out), i + 1 - start)),
            Some('\\') => {
                let (c, len) = escape(chars, i)?;
                out.push(c);
                i += len;
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

fn escape(chars: &[char], at: usize) -> Result<(char, usize), RuleError> {
    match chars.get(at + 1) {
        Some('"') => Ok(('"', 2)),
        Some('\\') => Ok(('\\', 2)),
        Some('n') => Ok(('\n', 2)),
        Some('r') => Ok(('\r', 2)),
        Some('t') => Ok(('\t', 2)),
        Some('u') if chars.get(at + 2) == Some(&'{') => {
            let hex: String = chars.iter().skip(at + 3).take_while(|c| c.is_ascii_hexdigit()).take(7).collect();
            let closed = chars.get(at + 3 + hex.len()) == Some(&'}');
            let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
            match code {
                Some(c) if closed => Ok((c, hex.len() + 4)),
                _ => Err(syntax_error(at, "write a character escape as \\u{HEX} with a valid code point")),
            }
        }
        _ => Err(syntax_error(at, "unknown escape; use \\\" \\\\ \\n \\r \\t or \\u{HEX}")),
    }
}

//! The CQL parser: tokens to [`Query`], stopping at the first syntax error with its position,
//! what was expected there and, where one is obvious, a fix.
//!
//! ```text
//! query   := [ or ] [ ORDER BY key ("," key)* ]
//! or      := and ( OR and )*
//! and     := not ( AND not )*
//! not     := NOT not | "(" or ")" | clause
//! clause  := field op value | field [NOT] IN "(" value ("," value)* ")"
//! value   := quoted | word | word "(" [ arg ("," arg)* ] ")"
//! key     := field [ ASC | DESC ]
//! ```

use std::ops::Range;

use super::ast::{Arg, Clause, Expr, Op, OrderKey, Query, Value, ValueKind};
use super::lexer::{Tok, Token, lex};
use super::schema::is_reserved;
use super::{Issue, ProblemKind};

/// Nesting deeper than this is refused (it also bounds the parser's recursion).
const MAX_DEPTH: usize = 64;

pub(crate) const OPERATORS: &str = "=, !=, ~, !~, >, >=, <, <=, IN, NOT IN";

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    i: usize,
}

fn is_kw(t: Option<&Token>, k: &str) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
}

/// Parses `text`. An empty text is an error (`cql` is required).
pub(crate) fn parse(text: &str) -> Result<Query, Issue> {
    if text.trim().is_empty() {
        return Err(Issue::error(
            ProblemKind::EmptyQuery,
            0..text.len(),
            "cql query parameter is required",
        ));
    }
    let mut p = Parser {
        text,
        toks: lex(text),
        i: 0,
    };
    p.query()
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn peek2_tok(&self) -> Option<&Tok> {
        self.toks.get(self.i + 1).map(|t| &t.tok)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    /// The span of the current token, or an empty span at the end of the text.
    fn here(&self) -> Range<usize> {
        self.peek()
            .map_or(self.text.len()..self.text.len(), |t| t.span.clone())
    }

    /// A problem a token carries by itself: a bad character, an open quote.
    fn lexical(&self, t: &Token) -> Option<Issue> {
        match &t.tok {
            Tok::Bad('!') => Some(
                Issue::error(
                    ProblemKind::Syntax,
                    t.span.clone(),
                    "expected '!=' or '!~' after '!'",
                )
                .expected(["!=", "!~"]),
            ),
            Tok::Bad(c) => Some(
                Issue::error(
                    ProblemKind::Syntax,
                    t.span.clone(),
                    format!(
                        "the character '{c}' is reserved in CQL: values holding it must be quoted"
                    ),
                )
                .suggest("put the value in double quotes"),
            ),
            Tok::Quoted {
                closed: false,
                text,
            } => {
                let quote = self.text[t.span.clone()].chars().next().unwrap_or('"');
                Some(
                    Issue::error(
                        ProblemKind::Syntax,
                        t.span.clone(),
                        format!("unterminated string: the {quote} is never closed"),
                    )
                    .expected([quote.to_string()])
                    .suggest(format!("{quote}{text}{quote}")),
                )
            }
            _ => None,
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the query".to_owned(),
            Some(t) => format!("'{}'", &self.text[t.span.clone()]),
        }
    }

    fn unexpected<const N: usize>(&self, what: &str, expected: [&str; N]) -> Issue {
        if let Some(issue) = self.peek().and_then(|t| self.lexical(t)) {
            return issue;
        }
        Issue::error(
            ProblemKind::Syntax,
            self.here(),
            format!("expected {what}, found {}", self.found()),
        )
        .expected(expected)
    }

    fn query(&mut self) -> Result<Query, Issue> {
        let expr = if self.peek().is_none() || is_kw(self.peek(), "order") {
            None
        } else {
            Some(self.or_expr(0)?)
        };
        let mut order_by = Vec::new();
        if is_kw(self.peek(), "order") {
            self.bump();
            if !is_kw(self.peek(), "by") {
                return Err(self
                    .unexpected("'BY' after 'ORDER'", ["BY"])
                    .suggest("ORDER BY"));
            }
            self.bump();
            loop {
                let (field, span) = match self.peek_tok() {
                    Some(Tok::Word(w)) if !is_reserved(w) => {
                        let t = self.bump().unwrap_or_else(unreachable_token);
                        (w_of(&t), t.span)
                    }
                    _ => {
                        return Err(self.unexpected(
                            "a field to order by",
                            ["created", "lastmodified", "title"],
                        ));
                    }
                };
                let mut descending = false;
                if is_kw(self.peek(), "desc") {
                    descending = true;
                    self.bump();
                } else if is_kw(self.peek(), "asc") {
                    self.bump();
                }
                order_by.push(OrderKey {
                    field,
                    span,
                    descending,
                });
                if self.peek_tok() == Some(&Tok::Comma) {
                    self.bump();
                    continue;
                }
                break;
            }
            if self.peek().is_some() {
                return Err(self.unexpected(
                    "',', 'ASC', 'DESC' or the end of the query",
                    [",", "ASC", "DESC"],
                ));
            }
        }
        if self.peek().is_some() {
            let closing = self.peek_tok() == Some(&Tok::RParen);
            let issue = if closing {
                Issue::error(
                    ProblemKind::Syntax,
                    self.here(),
                    "unbalanced parentheses: this ')' closes nothing",
                )
                .expected(["AND", "OR", "ORDER BY"])
                .suggest("remove the ')' or add a '(' before")
            } else {
                self.unexpected(
                    "'AND', 'OR', 'ORDER BY' or the end of the query",
                    ["AND", "OR", "ORDER BY"],
                )
            };
            return Err(issue);
        }
        Ok(Query { expr, order_by })
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, Issue> {
        let mut left = self.and_expr(depth)?;
        while is_kw(self.peek(), "or") {
            self.bump();
            let right = self.and_expr(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, Issue> {
        let mut left = self.not_expr(depth)?;
        while is_kw(self.peek(), "and") {
            self.bump();
            let right = self.not_expr(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self, depth: usize) -> Result<Expr, Issue> {
        if depth > MAX_DEPTH {
            return Err(Issue::error(
                ProblemKind::Syntax,
                self.here(),
                format!("the query nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        if is_kw(self.peek(), "not") && !matches!(self.peek2_tok(), Some(Tok::Op(_))) {
            let not = self.bump().map(|t| t.span).unwrap_or_default();
            let inner = self.not_expr(depth + 1)?;
            return Ok(Expr::Not(Box::new(inner), not));
        }
        if self.peek_tok() == Some(&Tok::LParen) {
            let open = self.here();
            self.bump();
            let e = self.or_expr(depth + 1)?;
            if self.peek_tok() != Some(&Tok::RParen) {
                let mut issue = self.unexpected("')', 'AND' or 'OR'", [")", "AND", "OR"]);
                if self.peek().is_none() {
                    issue.message = format!(
                        "unbalanced parentheses: the '(' at character {} is never closed",
                        super::utf16_offset(self.text, open.start) + 1
                    );
                    issue.suggestion = Some("add ')'".to_owned());
                }
                return Err(issue);
            }
            self.bump();
            return Ok(e);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, Issue> {
        let (field, field_span) = match self.peek_tok() {
            Some(Tok::Word(w)) if !is_reserved(w) || is_kw(self.peek(), "not") => {
                let t = self.bump().unwrap_or_else(unreachable_token);
                (w_of(&t), t.span)
            }
            _ => return Err(self.unexpected("a field, 'NOT' or '('", ["field", "NOT", "("])),
        };
        let (op, op_span) = match self.peek_tok() {
            Some(Tok::Op(op)) => {
                let op = *op;
                (op, self.bump().map(|t| t.span).unwrap_or_default())
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => {
                (Op::In, self.bump().map(|t| t.span).unwrap_or_default())
            }
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("not")
                    && matches!(self.peek2_tok(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case("in")) =>
            {
                let start = self.bump().map(|t| t.span.start).unwrap_or_default();
                let end = self.bump().map(|t| t.span.end).unwrap_or_default();
                (Op::NotIn, start..end)
            }
            _ => {
                return Err(self.unexpected(
                    &format!("an operator after '{field}' ({OPERATORS})"),
                    ["=", "!=", "~", "!~", ">", ">=", "<", "<=", "IN", "NOT IN"],
                ));
            }
        };
        let values = if op.takes_list() {
            if self.peek_tok() != Some(&Tok::LParen) {
                let fix = match (self.peek_tok(), self.peek2_tok()) {
                    (Some(Tok::Word(f)), Some(Tok::LParen)) => format!("{} ({f}())", op.as_str()),
                    _ => format!("{} (\"value\", ...)", op.as_str()),
                };
                return Err(self
                    .unexpected(&format!("'(' after '{}'", op.as_str()), ["("])
                    .suggest(fix));
            }
            self.bump();
            if self.peek_tok() == Some(&Tok::RParen) {
                return Err(Issue::error(
                    ProblemKind::EmptyList,
                    self.here(),
                    format!(
                        "the list after '{}' is empty: give at least one value",
                        op.as_str()
                    ),
                )
                .expected(["value"]));
            }
            let mut vs = Vec::new();
            loop {
                vs.push(self.value()?);
                if self.peek_tok() == Some(&Tok::Comma) {
                    self.bump();
                    continue;
                }
                break;
            }
            if self.peek_tok() != Some(&Tok::RParen) {
                return Err(self.unexpected("',' or ')' in the list", [",", ")"]));
            }
            self.bump();
            vs
        } else {
            vec![self.value()?]
        };
        let end = values.last().map_or(op_span.end, |v| v.span.end);
        let span = field_span.start..self.closing_end(end);
        Ok(Expr::Clause(Clause {
            field,
            field_span,
            op,
            op_span,
            values,
            span,
        }))
    }

    /// The end of a clause, including the `)` of an `IN` list.
    fn closing_end(&self, end: usize) -> usize {
        match self.i.checked_sub(1).and_then(|i| self.toks.get(i)) {
            Some(t) if t.tok == Tok::RParen && t.span.start >= end => t.span.end,
            _ => end,
        }
    }

    fn value(&mut self) -> Result<Value, Issue> {
        match self.peek_tok().cloned() {
            Some(Tok::Quoted { text, closed: true }) => {
                let t = self.bump().unwrap_or_else(unreachable_token);
                Ok(Value {
                    kind: ValueKind::Literal { text, quoted: true },
                    span: t.span,
                })
            }
            Some(Tok::Word(w)) => {
                if self.peek2_tok() == Some(&Tok::LParen) {
                    let name = self.bump().unwrap_or_else(unreachable_token);
                    self.bump();
                    let mut args = Vec::new();
                    if self.peek_tok() != Some(&Tok::RParen) {
                        loop {
                            match self.peek_tok().cloned() {
                                Some(Tok::Quoted { text, closed: true })
                                | Some(Tok::Word(text)) => {
                                    let t = self.bump().unwrap_or_else(unreachable_token);
                                    args.push(Arg { text, span: t.span });
                                }
                                _ => {
                                    return Err(self.unexpected("a function argument", ["\"-1d\""]));
                                }
                            }
                            if self.peek_tok() == Some(&Tok::Comma) {
                                self.bump();
                                continue;
                            }
                            break;
                        }
                    }
                    if self.peek_tok() != Some(&Tok::RParen) {
                        return Err(
                            self.unexpected(&format!("',' or ')' closing '{w}('"), [",", ")"])
                        );
                    }
                    let close = self.bump().map(|t| t.span.end).unwrap_or_default();
                    return Ok(Value {
                        kind: ValueKind::Function { name: w, args },
                        span: name.span.start..close,
                    });
                }
                if is_reserved(&w) {
                    return Err(Issue::error(
                        ProblemKind::ReservedWord,
                        self.here(),
                        format!("'{w}' is a reserved word: quote it to use it as a value"),
                    )
                    .expected(["value"])
                    .suggest(format!("\"{w}\"")));
                }
                let t = self.bump().unwrap_or_else(unreachable_token);
                Ok(Value {
                    kind: ValueKind::Literal {
                        text: w,
                        quoted: false,
                    },
                    span: t.span,
                })
            }
            _ => Err(self.unexpected("a value", ["value", "\"quoted value\"", "function()"])),
        }
    }
}

fn w_of(t: &Token) -> String {
    match &t.tok {
        Tok::Word(w) => w.clone(),
        _ => String::new(),
    }
}

/// Only reached if a token that was just peeked is gone, which cannot happen.
fn unreachable_token() -> Token {
    Token {
        tok: Tok::Comma,
        span: 0..0,
    }
}

//! Our own CQL: a lexer, a parser and a checker that validate a query offline, the way
//! Confluence would refuse it, but with the position of each problem, what was expected there
//! and a suggestion; plus what the UI's editor needs (highlighting tokens and completions).
//!
//! The grammar, fields, operators, functions and date forms are those of section 8 of
//! `confluence-api.md`. Positions in [`CqlProblem`], [`EditorToken`] and [`Completion`] are
//! UTF-16 code units, as JavaScript strings count them.

mod ast;
mod check;
mod editor;
mod lexer;
mod parser;
mod schema;

use std::ops::Range;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use ast::{Arg, Clause, Expr, Op, OrderKey, Query, Value, ValueKind};
pub use editor::{
    Completion, CompletionKind, EditorContext, EditorToken, SpaceHint, TokenKind, complete, tokens,
};
pub use schema::CONTENT_TYPES;

use crate::config::Severity;
use crate::confluence::Flavor;

/// What kind of problem a query has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The query is empty.
    EmptyQuery,
    /// Not valid CQL syntax (Confluence: "Could not parse cql").
    Syntax,
    /// A reserved word used as a value without quotes.
    ReservedWord,
    /// A field that does not exist.
    UnknownField,
    /// An operator the field does not take.
    OperatorNotAllowed,
    /// A value the field does not take (e.g. an unknown `type`).
    BadValue,
    /// A date literal in none of the four accepted forms.
    BadDate,
    /// A relative date increment that does not parse.
    BadIncrement,
    /// An empty value (`title = ""`).
    EmptyValue,
    /// An empty `IN ()` list.
    EmptyList,
    /// A query starting with `NOT`, `!=`, `!~` or `NOT IN`.
    NegativeFirst,
    /// A function that does not exist.
    UnknownFunction,
    /// A function the field or operator does not take.
    FunctionNotAllowed,
    /// Wrong arguments to a function.
    BadArguments,
    /// An `ORDER BY` field Confluence cannot sort on.
    Unorderable,
    /// Confluence refused the query (remote validation).
    Remote,
}

/// One problem of a query, located in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CqlProblem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// Whether the query is unusable (`error`) or only suspicious (`warning`).
    pub severity: Severity,
    /// Start of the problem in the query (UTF-16 code units).
    pub start: u32,
    /// End of the problem (exclusive); equal to `start` at the end of the query.
    pub end: u32,
    /// What is wrong, in Confluence's words where it has some.
    pub message: String,
    /// What would have been accepted at that position.
    pub expected: Vec<String>,
    /// A likely fix: a replacement for the text at `start..end`, or a hint.
    pub suggestion: Option<String>,
}

impl CqlProblem {
    /// The problem for people: its message and where it is, counting characters from 1 as an
    /// editor's column does ("... (at character 17)").
    pub fn describe(&self) -> String {
        format!("{} (at character {})", self.message, self.start + 1)
    }
}

/// A problem in byte offsets, before conversion for the API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issue {
    pub kind: ProblemKind,
    pub severity: Severity,
    pub span: Range<usize>,
    pub message: String,
    pub expected: Vec<String>,
    pub suggestion: Option<String>,
}

impl Issue {
    pub(crate) fn error(
        kind: ProblemKind,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            kind,
            severity: Severity::Error,
            span,
            message: message.into(),
            expected: Vec::new(),
            suggestion: None,
        }
    }

    pub(crate) fn warning(
        kind: ProblemKind,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(kind, span, message)
        }
    }

    pub(crate) fn expected<S: Into<String>>(mut self, items: impl IntoIterator<Item = S>) -> Issue {
        self.expected = items.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn suggest(mut self, s: impl Into<String>) -> Issue {
        self.suggestion = Some(s.into());
        self
    }

    pub(crate) fn suggest_opt(mut self, s: Option<String>) -> Issue {
        self.suggestion = s;
        self
    }

    fn located(self, text: &str) -> CqlProblem {
        CqlProblem {
            kind: self.kind,
            severity: self.severity,
            start: utf16_offset(text, self.span.start),
            end: utf16_offset(text, self.span.end.max(self.span.start)),
            message: self.message,
            expected: self.expected,
            suggestion: self.suggestion,
        }
    }
}

/// The UTF-16 offset of byte offset `byte` of `text` (clamped to the text).
pub(crate) fn utf16_offset(text: &str, byte: usize) -> u32 {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text[..byte].encode_utf16().count() as u32
}

/// The byte offset of UTF-16 offset `units` of `text` (clamped to the text).
pub(crate) fn byte_offset(text: &str, units: u32) -> usize {
    let mut count = 0u32;
    for (i, c) in text.char_indices() {
        if count >= units {
            return i;
        }
        count += c.len_utf16() as u32;
    }
    text.len()
}

/// Parses a query; the first syntax problem is the error.
pub fn parse(text: &str) -> Result<Query, CqlProblem> {
    parser::parse(text).map_err(|i| i.located(text))
}

/// Every problem of a query for a deployment flavor, in text order: the first syntax error, or
/// else every field, operator, value, function and date problem. Empty when the query is valid.
pub fn validate(text: &str, flavor: Flavor) -> Vec<CqlProblem> {
    let issues = match parser::parse(text) {
        Err(issue) => vec![issue],
        Ok(query) => {
            let mut issues = check::check(&query, flavor);
            issues.sort_by_key(|i| (i.span.start, i.span.end));
            issues
        }
    };
    issues.into_iter().map(|i| i.located(text)).collect()
}

/// Whether `problems` hold an error (warnings alone leave a query usable).
pub fn has_errors(problems: &[CqlProblem]) -> bool {
    problems.iter().any(|p| p.severity == Severity::Error)
}

/// `value` as a CQL string literal: double-quoted, `\` and `"` escaped.
pub fn quote(value: &str) -> String {
    crate::confluence::cql_quote(value)
}

#[cfg(test)]
mod tests;

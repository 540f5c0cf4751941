//! What the UI's CQL editor needs from the engine: tokens for highlighting and completion
//! candidates at a cursor position. Both work on any text, valid or not.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ast::Op;
use super::lexer::{Tok, Token, is_word_char, lex};
use super::schema::{self, CONTENT_TYPES, FIELDS, FUNCTIONS, FieldType, ORDERABLE, SPACE_TYPES};
use super::{byte_offset, utf16_offset};
use crate::confluence::Flavor;

/// The highlighting class of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// `AND`, `OR`, `NOT`, `IN`, `ORDER`, `BY`, `ASC`, `DESC`.
    Keyword,
    /// A field name.
    Field,
    /// `=`, `!=`, `~`, `!~`, `>`, `>=`, `<`, `<=`.
    Operator,
    /// A quoted string.
    String,
    /// A bare value.
    Value,
    /// A bare number.
    Number,
    /// A function name.
    Function,
    /// `(`, `)`, `,`.
    Punctuation,
    /// Something that cannot be there: a reserved character, an open quote, a misplaced token.
    Error,
}

/// A token of the editor's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EditorToken {
    /// Its class.
    pub kind: TokenKind,
    /// Start (UTF-16 code units).
    pub start: u32,
    /// End, exclusive (UTF-16 code units).
    pub end: u32,
}

/// What a completion inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CompletionKind {
    /// A field.
    Field,
    /// An operator.
    Operator,
    /// A keyword.
    Keyword,
    /// A function call.
    Function,
    /// A value (content type, space type).
    Value,
    /// A space key.
    Space,
    /// A label.
    Label,
}

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Completion {
    /// What the list shows.
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// The text that replaces `start..end`.
    pub insert: String,
    /// A short explanation (field type, space name, function use).
    pub detail: Option<String>,
    /// Start of the replaced text (UTF-16 code units).
    pub start: u32,
    /// End of the replaced text (UTF-16 code units).
    pub end: u32,
}

/// A space the editor can complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SpaceHint {
    /// The key.
    pub key: String,
    /// The name.
    pub name: String,
}

/// Site facts completions draw on: spaces and labels (see `rules::editor_context`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EditorContext {
    /// Spaces.
    pub spaces: Vec<SpaceHint>,
    /// Label names.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    ClauseStart,
    Operator(String),
    NotIn(String),
    Value(String, Op),
    ListOpen(String, Op),
    ListValue(String, Op),
    ListNext(String, Op),
    FuncOpen(Box<State>),
    FuncArgs(Box<State>),
    AfterClause,
    OrderBy,
    OrderField,
    AfterOrderField,
    AfterDirection,
}

fn word_is(t: &Tok, k: &str) -> bool {
    matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case(k))
}

fn literal_kind(t: &Tok) -> TokenKind {
    match t {
        Tok::Quoted { closed: true, .. } => TokenKind::String,
        Tok::Word(w) if w.chars().all(|c| c.is_ascii_digit()) => TokenKind::Number,
        Tok::Word(_) => TokenKind::Value,
        _ => TokenKind::Error,
    }
}

/// One step of the editor's state machine: the class of `t` and the state after it.
fn step(state: State, t: &Tok, next: Option<&Tok>) -> (TokenKind, State) {
    use State as S;
    use TokenKind as K;
    match (state, t) {
        (_, Tok::Bad(_)) | (_, Tok::Quoted { closed: false, .. }) => (K::Error, S::AfterClause),
        (S::ClauseStart, t) if word_is(t, "not") && !matches!(next, Some(Tok::Op(_))) => {
            (K::Keyword, S::ClauseStart)
        }
        (S::ClauseStart, Tok::LParen) => (K::Punctuation, S::ClauseStart),
        (S::ClauseStart, t) if word_is(t, "order") && next.is_some_and(|n| word_is(n, "by")) => {
            (K::Keyword, S::OrderBy)
        }
        (S::ClauseStart, Tok::Word(w)) => (K::Field, S::Operator(w.clone())),
        (S::Operator(f), Tok::Op(op)) => (K::Operator, S::Value(f, *op)),
        (S::Operator(f), t) if word_is(t, "in") => (K::Keyword, S::ListOpen(f, Op::In)),
        (S::Operator(f), t) if word_is(t, "not") => (K::Keyword, S::NotIn(f)),
        (S::NotIn(f), t) if word_is(t, "in") => (K::Keyword, S::ListOpen(f, Op::NotIn)),
        (S::Value(..), Tok::Word(_)) if next == Some(&Tok::LParen) => {
            (K::Function, S::FuncOpen(Box::new(S::AfterClause)))
        }
        (S::Value(..), t @ (Tok::Word(_) | Tok::Quoted { .. })) => {
            (literal_kind(t), S::AfterClause)
        }
        (S::FuncOpen(after), Tok::LParen) => (K::Punctuation, S::FuncArgs(after)),
        (S::FuncArgs(after), t @ (Tok::Word(_) | Tok::Quoted { .. })) => {
            (literal_kind(t), S::FuncArgs(after))
        }
        (S::FuncArgs(after), Tok::Comma) => (K::Punctuation, S::FuncArgs(after)),
        (S::FuncArgs(after), Tok::RParen) => (K::Punctuation, *after),
        (S::ListOpen(f, op), Tok::LParen) => (K::Punctuation, S::ListValue(f, op)),
        (S::ListValue(f, op), Tok::Word(_)) if next == Some(&Tok::LParen) => {
            (K::Function, S::FuncOpen(Box::new(S::ListNext(f, op))))
        }
        (S::ListValue(f, op), t @ (Tok::Word(_) | Tok::Quoted { .. })) => {
            (literal_kind(t), S::ListNext(f, op))
        }
        (S::ListValue(..), Tok::RParen) => (K::Punctuation, S::AfterClause),
        (S::ListNext(f, op), Tok::Comma) => (K::Punctuation, S::ListValue(f, op)),
        (S::ListNext(..), Tok::RParen) => (K::Punctuation, S::AfterClause),
        (S::AfterClause, t) if word_is(t, "and") || word_is(t, "or") => {
            (K::Keyword, S::ClauseStart)
        }
        (S::AfterClause, t) if word_is(t, "order") => (K::Keyword, S::OrderBy),
        (S::AfterClause, Tok::RParen) => (K::Punctuation, S::AfterClause),
        (S::OrderBy, t) if word_is(t, "by") => (K::Keyword, S::OrderField),
        (S::OrderField, Tok::Word(_)) => (K::Field, S::AfterOrderField),
        (S::AfterOrderField, t) if word_is(t, "asc") || word_is(t, "desc") => {
            (K::Keyword, S::AfterDirection)
        }
        (S::AfterOrderField | S::AfterDirection, Tok::Comma) => (K::Punctuation, S::OrderField),
        (state, _) => (K::Error, state),
    }
}

/// Highlighting tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<EditorToken> {
    let toks = lex(text);
    let mut state = State::ClauseStart;
    let mut out = Vec::with_capacity(toks.len());
    for (i, t) in toks.iter().enumerate() {
        let (kind, next) = step(state, &t.tok, toks.get(i + 1).map(|n| &n.tok));
        state = next;
        out.push(EditorToken {
            kind,
            start: utf16_offset(text, t.span.start),
            end: utf16_offset(text, t.span.end),
        });
    }
    out
}

fn state_after(toks: &[Token]) -> State {
    let mut state = State::ClauseStart;
    for (i, t) in toks.iter().enumerate() {
        state = step(state, &t.tok, toks.get(i + 1).map(|n| &n.tok)).1;
    }
    state
}

/// `value` as it must be written: bare when it is a plain word, else quoted.
fn as_value(value: &str) -> String {
    if !value.is_empty() && value.chars().all(is_word_char) && !schema::is_reserved(value) {
        value.to_owned()
    } else {
        super::quote(value)
    }
}

/// Completion candidates at `cursor` (UTF-16 code units) of `text`.
pub fn complete(
    text: &str,
    cursor: u32,
    context: &EditorContext,
    flavor: Flavor,
) -> Vec<Completion> {
    let at = byte_offset(text, cursor);
    let toks = lex(text);
    // The token being typed: a word or string the cursor is inside or just after.
    let typing = toks.iter().position(|t| {
        t.span.start < at
            && at <= t.span.end
            && match &t.tok {
                Tok::Word(_) => true,
                Tok::Quoted { closed, .. } => !closed || at < t.span.end,
                _ => false,
            }
    });
    let (before, prefix, replace) = match typing {
        Some(i) => {
            let t = &toks[i];
            let raw = &text[t.span.start..at];
            let prefix = raw.trim_start_matches(['"', '\'']).to_owned();
            (&toks[..i], prefix, t.span.clone())
        }
        None => {
            let n = toks.iter().take_while(|t| t.span.end <= at).count();
            (&toks[..n], String::new(), at..at)
        }
    };
    let depth = before.iter().fold(0i32, |d, t| match t.tok {
        Tok::LParen => d + 1,
        Tok::RParen => d - 1,
        _ => d,
    });
    let state = state_after(before);
    let mut out = Vec::new();
    let mut add = |label: String, kind: CompletionKind, insert: String, detail: Option<String>| {
        out.push((label, kind, insert, detail));
    };
    match &state {
        State::ClauseStart => {
            for f in FIELDS.iter().filter(|f| f.ty != FieldType::UserSearch) {
                add(
                    f.display.to_owned(),
                    CompletionKind::Field,
                    f.display.to_owned(),
                    Some(format!("{}: {}", f.ty.label(), f.doc)),
                );
            }
            add("NOT".into(), CompletionKind::Keyword, "NOT ".into(), None);
            add("(".into(), CompletionKind::Keyword, "(".into(), None);
        }
        State::Operator(field) => match schema::field(field) {
            Some(info) => {
                for op in schema::operators(&info.name, info.ty) {
                    add(
                        op.as_str().to_owned(),
                        CompletionKind::Operator,
                        format!("{} ", op.as_str()),
                        None,
                    );
                }
            }
            None => {
                for op in ["=", "!=", "~", "!~", "IN", "NOT IN"] {
                    add(
                        op.to_owned(),
                        CompletionKind::Operator,
                        format!("{op} "),
                        None,
                    );
                }
            }
        },
        State::NotIn(_) => add("IN".into(), CompletionKind::Keyword, "IN (".into(), None),
        State::ListOpen(..) => add("(".into(), CompletionKind::Keyword, "(".into(), None),
        State::Value(field, op) | State::ListValue(field, op) => {
            values(field, *op, context, flavor, &mut add);
        }
        State::ListNext(..) => {
            add(",".into(), CompletionKind::Keyword, ", ".into(), None);
            add(")".into(), CompletionKind::Keyword, ")".into(), None);
        }
        State::AfterClause => {
            add("AND".into(), CompletionKind::Keyword, "AND ".into(), None);
            add("OR".into(), CompletionKind::Keyword, "OR ".into(), None);
            if depth > 0 {
                add(")".into(), CompletionKind::Keyword, ")".into(), None);
            } else {
                add(
                    "ORDER BY".into(),
                    CompletionKind::Keyword,
                    "ORDER BY ".into(),
                    None,
                );
            }
        }
        State::OrderBy => add("BY".into(), CompletionKind::Keyword, "BY ".into(), None),
        State::OrderField => {
            for f in ORDERABLE {
                add(
                    (*f).to_owned(),
                    CompletionKind::Field,
                    (*f).to_owned(),
                    None,
                );
            }
        }
        State::AfterOrderField => {
            for k in ["DESC", "ASC"] {
                add(k.to_owned(), CompletionKind::Keyword, k.to_owned(), None);
            }
            add(",".into(), CompletionKind::Keyword, ", ".into(), None);
        }
        State::AfterDirection => add(",".into(), CompletionKind::Keyword, ", ".into(), None),
        State::FuncOpen(_) | State::FuncArgs(_) => {}
    }
    let lower = prefix.to_lowercase();
    let (start, end) = (
        utf16_offset(text, replace.start),
        utf16_offset(text, replace.end),
    );
    out.into_iter()
        .filter(|(label, ..)| lower.is_empty() || label.to_lowercase().starts_with(&lower))
        .map(|(label, kind, insert, detail)| Completion {
            label,
            kind,
            insert,
            detail,
            start,
            end,
        })
        .collect()
}

type Add<'a> = dyn FnMut(String, CompletionKind, String, Option<String>) + 'a;

fn values(field: &str, op: Op, context: &EditorContext, flavor: Flavor, add: &mut Add<'_>) {
    let Some(info) = schema::field(field) else {
        return;
    };
    match info.ty {
        FieldType::Type => {
            for t in CONTENT_TYPES {
                add(
                    (*t).to_owned(),
                    CompletionKind::Value,
                    (*t).to_owned(),
                    None,
                );
            }
        }
        FieldType::SpaceType => {
            for t in SPACE_TYPES {
                add(
                    (*t).to_owned(),
                    CompletionKind::Value,
                    (*t).to_owned(),
                    None,
                );
            }
        }
        FieldType::Space => {
            for s in &context.spaces {
                add(
                    s.key.clone(),
                    CompletionKind::Space,
                    as_value(&s.key),
                    Some(s.name.clone()),
                );
            }
        }
        FieldType::Str if info.name == "label" => {
            for l in &context.labels {
                add(l.clone(), CompletionKind::Label, as_value(l), None);
            }
        }
        _ => {}
    }
    for f in FUNCTIONS {
        if f.types.contains(&info.ty)
            && f.allows(op, flavor)
            && !(f.dc_only && flavor == Flavor::Cloud)
        {
            let insert = match f.args {
                schema::Args::Increment if f.name == "now" => "now(\"-1d\")".to_owned(),
                _ => format!("{}()", f.name),
            };
            add(
                format!("{}()", f.name),
                CompletionKind::Function,
                insert,
                Some(f.doc.to_owned()),
            );
        }
    }
}

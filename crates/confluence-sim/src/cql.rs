//! CQL: a parser and evaluator for the subset real crawlers use, with Confluence's errors.
//!
//! The grammar is section 8.1 of `confluence-api.md`: clauses joined by `AND`/`OR`, `NOT`,
//! parentheses, `IN`/`NOT IN` lists, functions (`now()`, `startOfDay("-1d")`, `currentUser()`),
//! and `ORDER BY`. [`parse`] validates a query offline, as the simulator's search routes do
//! before evaluating it.

use std::fmt;

use chrono::Datelike;
use chrono_tz::Tz;

use crate::model::{Caller, Kind, Site};
use crate::options::Flavor;
use crate::text::plain_text;
use crate::time;

/// Why a query was refused. `Display` gives Confluence's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CqlError {
    /// The query is not valid CQL syntax.
    Syntax {
        /// The whole query, as Confluence echoes it.
        query: String,
        /// Where parsing stopped (byte offset) and what was expected, for validators.
        detail: String,
    },
    /// A field that does not exist.
    UnknownField {
        /// The field as written.
        name: String,
        /// Nearest known fields.
        suggestions: Vec<String>,
    },
    /// A `type` value outside the known set.
    BadType(String),
    /// The query parsed but cannot be executed (operator not allowed, bad date, ...).
    Unsupported(String),
    /// The `cql` parameter is missing or empty.
    Missing,
}

impl fmt::Display for CqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const BRE: &str = "com.atlassian.confluence.api.service.exceptions.BadRequestException";
        match self {
            CqlError::Syntax { query, .. } => write!(f, "{BRE}: Could not parse cql : {query}"),
            CqlError::UnknownField { name, suggestions } => write!(
                f,
                "{BRE}: No field exists with the name: '{name}' Did you mean one of : {}",
                suggestions.join(", ")
            ),
            CqlError::BadType(v) => write!(
                f,
                "{BRE}: Unsupported value for type, got : {v}, expected one of : [{}]",
                TYPES.join(", ")
            ),
            CqlError::Unsupported(m) => write!(
                f,
                "CQL was parsed but the search manager was unable to execute the search. Error message: {m}"
            ),
            CqlError::Missing => write!(
                f,
                "com.atlassian.confluence.api.service.exceptions.api.BadRequestException: cql query parameter is required"
            ),
        }
    }
}

impl std::error::Error for CqlError {}

/// The content types CQL accepts for `type`.
pub const TYPES: &[&str] = &[
    "space",
    "user",
    "page",
    "blogpost",
    "comment",
    "attachment",
    "database",
    "whiteboard",
    "slide",
    "embed",
    "folder",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    Content,
    Date,
    User,
    Str,
    Space,
    Text,
    Type,
    SpaceType,
}

/// Known fields, their type and the operators they take.
const FIELDS: &[(&str, FieldType)] = &[
    ("ancestor", FieldType::Content),
    ("parent", FieldType::Content),
    ("container", FieldType::Content),
    ("content", FieldType::Content),
    ("id", FieldType::Content),
    ("created", FieldType::Date),
    ("lastmodified", FieldType::Date),
    ("creator", FieldType::User),
    ("contributor", FieldType::User),
    ("mention", FieldType::User),
    ("watcher", FieldType::User),
    ("favourite", FieldType::User),
    ("favorite", FieldType::User),
    ("label", FieldType::Str),
    ("macro", FieldType::Str),
    ("space", FieldType::Space),
    ("space.key", FieldType::Space),
    ("space.title", FieldType::Text),
    ("space.desc", FieldType::Text),
    ("space.type", FieldType::SpaceType),
    ("space.category", FieldType::Str),
    ("title", FieldType::Text),
    ("text", FieldType::Text),
    ("type", FieldType::Type),
    ("subtype", FieldType::Str),
    ("sitesearch", FieldType::Text),
];

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `~`
    Contains,
    /// `!~`
    NotContains,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `IN`
    In,
    /// `NOT IN`
    NotIn,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
        }
    }

    fn negative(self) -> bool {
        matches!(self, Op::Ne | Op::NotContains | Op::NotIn)
    }
}

/// A clause value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A literal (quoted or bare).
    Lit(String),
    /// A function call with its string arguments.
    Func(String, Vec<String>),
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both sides hold.
    And(Box<Expr>, Box<Expr>),
    /// Either side holds.
    Or(Box<Expr>, Box<Expr>),
    /// The inner expression does not hold.
    Not(Box<Expr>),
    /// `field op value(s)`.
    Clause {
        /// Canonical (lower-case) field name.
        field: String,
        /// Operator.
        op: Op,
        /// One value, or several for `IN`/`NOT IN`.
        values: Vec<Value>,
    },
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The condition (`None` when the query is only an `ORDER BY`).
    pub expr: Option<Expr>,
    /// Sort keys: canonical field and descending flag.
    pub order: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(Op),
    LParen,
    RParen,
    Comma,
}

fn tokenize(q: &str) -> Result<Vec<(usize, Tok)>, (usize, String)> {
    let chars: Vec<(usize, char)> = q.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((pos, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((pos, Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push((pos, Tok::Comma));
                i += 1;
            }
            '"' | '\'' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    let ch = chars[i].1;
                    if ch == '\\' && i + 1 < chars.len() {
                        s.push(chars[i + 1].1);
                        i += 2;
                        continue;
                    }
                    if ch == quote {
                        closed = true;
                        i += 1;
                        break;
                    }
                    s.push(ch);
                    i += 1;
                }
                if !closed {
                    return Err((pos, "unterminated quoted value".into()));
                }
                out.push((pos, Tok::Quoted(s)));
            }
            '=' => {
                out.push((pos, Tok::Op(Op::Eq)));
                i += 1;
            }
            '~' => {
                out.push((pos, Tok::Op(Op::Contains)));
                i += 1;
            }
            '!' => {
                let next = chars.get(i + 1).map(|x| x.1);
                match next {
                    Some('=') => out.push((pos, Tok::Op(Op::Ne))),
                    Some('~') => out.push((pos, Tok::Op(Op::NotContains))),
                    _ => return Err((pos, "expected `!=` or `!~`".into())),
                }
                i += 2;
            }
            '>' | '<' => {
                let eq = chars.get(i + 1).is_some_and(|x| x.1 == '=');
                let op = match (c, eq) {
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    ('<', false) => Op::Lt,
                    _ => Op::Le,
                };
                out.push((pos, Tok::Op(op)));
                i += if eq { 2 } else { 1 };
            }
            c if is_word_char(c) => {
                let mut s = String::new();
                while i < chars.len() && is_word_char(chars[i].1) {
                    s.push(chars[i].1);
                    i += 1;
                }
                out.push((pos, Tok::Word(s)));
            }
            other => return Err((pos, format!("unexpected character `{other}`"))),
        }
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | ':' | '+' | '*' | '@' | '[' | ']')
}

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    i: usize,
    query: &'a str,
}

fn kw(t: Option<&Tok>, k: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.1)
    }

    fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.i + 1).map(|t| &t.1)
    }

    fn syntax(&self, expected: &str) -> CqlError {
        let pos = self.toks.get(self.i).map_or(self.query.len(), |t| t.0);
        CqlError::Syntax {
            query: self.query.to_owned(),
            detail: format!("at {pos}: expected {expected}"),
        }
    }

    fn query(&mut self) -> Result<Query, CqlError> {
        let expr = if self.peek().is_none() || kw(self.peek(), "order") {
            None
        } else {
            Some(self.or_expr(0)?)
        };
        let mut order = Vec::new();
        if kw(self.peek(), "order") {
            self.i += 1;
            if !kw(self.peek(), "by") {
                return Err(self.syntax("BY"));
            }
            self.i += 1;
            loop {
                let field = match self.peek() {
                    Some(Tok::Word(w)) => w.clone(),
                    _ => return Err(self.syntax("a field to order by")),
                };
                self.i += 1;
                let canon = canonical_field(&field)?;
                let mut desc = false;
                if kw(self.peek(), "desc") {
                    desc = true;
                    self.i += 1;
                } else if kw(self.peek(), "asc") {
                    self.i += 1;
                }
                if !matches!(
                    canon.as_str(),
                    "created" | "lastmodified" | "title" | "id" | "type" | "space" | "space.key"
                ) {
                    return Err(CqlError::Unsupported(format!(
                        "Cannot order by field '{field}'"
                    )));
                }
                order.push((canon, desc));
                if self.peek() == Some(&Tok::Comma) {
                    self.i += 1;
                    continue;
                }
                break;
            }
        }
        if self.peek().is_some() {
            return Err(self.syntax("end of query"));
        }
        Ok(Query { expr, order })
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, CqlError> {
        let mut left = self.and_expr(depth)?;
        while kw(self.peek(), "or") {
            self.i += 1;
            let right = self.and_expr(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, CqlError> {
        let mut left = self.not_expr(depth)?;
        while kw(self.peek(), "and") {
            self.i += 1;
            let right = self.not_expr(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self, depth: usize) -> Result<Expr, CqlError> {
        if depth > 64 {
            return Err(self.syntax("less nesting"));
        }
        if kw(self.peek(), "not") && !matches!(self.peek2(), Some(Tok::Op(_))) {
            self.i += 1;
            return Ok(Expr::Not(Box::new(self.not_expr(depth + 1)?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.i += 1;
            let e = self.or_expr(depth + 1)?;
            if self.peek() != Some(&Tok::RParen) {
                return Err(self.syntax("`)`"));
            }
            self.i += 1;
            return Ok(e);
        }
        self.clause()
    }

    fn value(&mut self) -> Result<Value, CqlError> {
        match self.peek().cloned() {
            Some(Tok::Quoted(s)) => {
                self.i += 1;
                Ok(Value::Lit(s))
            }
            Some(Tok::Word(w)) => {
                if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&w)) {
                    return Err(self.syntax("a value (reserved words must be quoted)"));
                }
                self.i += 1;
                if self.peek() == Some(&Tok::LParen) {
                    self.i += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        loop {
                            match self.peek().cloned() {
                                Some(Tok::Quoted(a)) | Some(Tok::Word(a)) => {
                                    args.push(a);
                                    self.i += 1;
                                }
                                _ => return Err(self.syntax("a function argument")),
                            }
                            if self.peek() == Some(&Tok::Comma) {
                                self.i += 1;
                                continue;
                            }
                            break;
                        }
                    }
                    if self.peek() != Some(&Tok::RParen) {
                        return Err(self.syntax("`)`"));
                    }
                    self.i += 1;
                    return Ok(Value::Func(w, args));
                }
                Ok(Value::Lit(w))
            }
            _ => Err(self.syntax("a value")),
        }
    }

    fn clause(&mut self) -> Result<Expr, CqlError> {
        let field = match self.peek() {
            Some(Tok::Word(w)) => w.clone(),
            _ => return Err(self.syntax("a field")),
        };
        self.i += 1;
        let op = match self.peek() {
            Some(Tok::Op(op)) => {
                let op = *op;
                self.i += 1;
                op
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => {
                self.i += 1;
                Op::In
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") && kw(self.peek2(), "in") => {
                self.i += 2;
                Op::NotIn
            }
            _ => return Err(self.syntax("an operator")),
        };
        let values = if matches!(op, Op::In | Op::NotIn) {
            if self.peek() != Some(&Tok::LParen) {
                return Err(self.syntax("`(`"));
            }
            self.i += 1;
            let mut vs = Vec::new();
            loop {
                vs.push(self.value()?);
                if self.peek() == Some(&Tok::Comma) {
                    self.i += 1;
                    continue;
                }
                break;
            }
            if self.peek() != Some(&Tok::RParen) {
                return Err(self.syntax("`)`"));
            }
            self.i += 1;
            vs
        } else {
            vec![self.value()?]
        };
        let canon = canonical_field(&field)?;
        Ok(Expr::Clause {
            field: canon,
            op,
            values,
        })
    }
}

const RESERVED: &[&str] = &[
    "after", "and", "as", "avg", "before", "begin", "by", "commit", "contains", "count",
    "distinct", "else", "empty", "end", "explain", "from", "having", "if", "in", "inner", "insert",
    "into", "is", "isnull", "left", "like", "limit", "max", "min", "not", "null", "or", "order",
    "outer", "right", "select", "sum", "then", "was", "where", "update",
];

fn canonical_field(name: &str) -> Result<String, CqlError> {
    let lower = name.to_ascii_lowercase();
    if FIELDS.iter().any(|(f, _)| *f == lower) {
        return Ok(lower);
    }
    // `content.property[x].y` style fields exist on DC; treat them as unknown-but-valid strings.
    if lower.starts_with("content.property") {
        return Ok(lower);
    }
    let mut scored: Vec<(usize, &str)> = FIELDS
        .iter()
        .map(|(f, _)| (distance(&lower, f), *f))
        .collect();
    scored.sort();
    let suggestions = scored
        .iter()
        .take(5)
        .map(|(_, f)| match *f {
            "sitesearch" => "siteSearch".to_owned(),
            f => f.to_owned(),
        })
        .collect();
    Err(CqlError::UnknownField {
        name: name.to_owned(),
        suggestions,
    })
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let v = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            cur.push(v);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn field_type(field: &str) -> FieldType {
    FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(FieldType::Str, |(_, t)| *t)
}

fn first_clause(e: &Expr) -> &Expr {
    match e {
        Expr::And(l, _) | Expr::Or(l, _) => first_clause(l),
        other => other,
    }
}

fn check(e: &Expr, flavor: Flavor) -> Result<(), CqlError> {
    match e {
        Expr::And(l, r) | Expr::Or(l, r) => {
            check(l, flavor)?;
            check(r, flavor)
        }
        Expr::Not(x) => check(x, flavor),
        Expr::Clause { field, op, values } => {
            let ty = field_type(field);
            let allowed: &[Op] = match ty {
                FieldType::Content
                | FieldType::Str
                | FieldType::Space
                | FieldType::Type
                | FieldType::SpaceType
                | FieldType::User => &[Op::Eq, Op::Ne, Op::In, Op::NotIn],
                FieldType::Date => &[Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le],
                FieldType::Text if field == "title" => &[
                    Op::Eq,
                    Op::Ne,
                    Op::Contains,
                    Op::NotContains,
                    Op::In,
                    Op::NotIn,
                ],
                FieldType::Text => &[Op::Contains, Op::NotContains],
            };
            if !allowed.contains(op) {
                return Err(CqlError::Unsupported(format!(
                    "The operator '{}' is not supported by the '{field}' field",
                    op.as_str()
                )));
            }
            for v in values {
                match v {
                    Value::Lit(s) => {
                        if s.trim().is_empty() && field != "sitesearch" {
                            return Err(CqlError::Unsupported(format!(
                                "The value for field '{field}' must not be empty"
                            )));
                        }
                        if ty == FieldType::Type && !TYPES.iter().any(|t| t.eq_ignore_ascii_case(s))
                        {
                            return Err(CqlError::BadType(s.clone()));
                        }
                        if ty == FieldType::Date && time::parse_cql_date(s).is_none() {
                            return Err(CqlError::Unsupported(format!(
                                "Unable to parse date '{s}'. Expected one of: \"yyyy/MM/dd HH:mm\", \"yyyy-MM-dd HH:mm\", \"yyyy/MM/dd\", \"yyyy-MM-dd\""
                            )));
                        }
                    }
                    Value::Func(name, args) => check_func(field, ty, *op, name, args, flavor)?,
                }
            }
            Ok(())
        }
    }
}

fn check_func(
    field: &str,
    ty: FieldType,
    op: Op,
    name: &str,
    args: &[String],
    flavor: Flavor,
) -> Result<(), CqlError> {
    let lname = name.to_ascii_lowercase();
    let bad = || {
        CqlError::Unsupported(format!(
            "The function '{name}' is not supported by the '{field}' field"
        ))
    };
    match lname.as_str() {
        "now" | "startofday" | "endofday" | "startofweek" | "endofweek" | "startofmonth"
        | "endofmonth" | "startofyear" | "endofyear" => {
            if ty != FieldType::Date {
                return Err(bad());
            }
            if args.len() > 1 {
                return Err(CqlError::Unsupported(format!(
                    "Function '{name}' takes at most one argument"
                )));
            }
            if let Some(a) = args.first() {
                parse_increment(a).ok_or_else(|| {
                    CqlError::Unsupported(format!(
                        "Invalid date increment '{a}' for function '{name}'"
                    ))
                })?;
            }
            Ok(())
        }
        "currentuser" => {
            let ok_op = matches!(op, Op::Eq | Op::Ne)
                || (flavor.is_server_like() && matches!(op, Op::In | Op::NotIn));
            if ty == FieldType::User && ok_op {
                Ok(())
            } else {
                Err(bad())
            }
        }
        "favouritespaces" | "favoritespaces" | "recentlyviewedspaces" | "currentspace" => {
            if ty == FieldType::Space {
                Ok(())
            } else {
                Err(bad())
            }
        }
        "recentlyviewedcontent" => {
            if ty == FieldType::Content {
                Ok(())
            } else {
                Err(bad())
            }
        }
        _ => Err(CqlError::Unsupported(format!("Unknown function '{name}'"))),
    }
}

/// Parses `(+|-)nn(y|M|w|d|h|m)` into (amount, unit).
fn parse_increment(s: &str) -> Option<(i64, char)> {
    let s = s.trim();
    let unit = s.chars().last()?;
    if !matches!(unit, 'y' | 'M' | 'w' | 'd' | 'h' | 'm') {
        return None;
    }
    let num = &s[..s.len() - 1];
    let (sign, digits) = match num.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, num.strip_prefix('+').unwrap_or(num)),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    Some((sign * digits.parse::<i64>().ok()?, unit))
}

/// Parses and validates a query for a flavor.
pub fn parse(query: &str, flavor: Flavor) -> Result<Query, CqlError> {
    if query.trim().is_empty() {
        return Err(CqlError::Missing);
    }
    let toks = tokenize(query).map_err(|(pos, d)| CqlError::Syntax {
        query: query.to_owned(),
        detail: format!("at {pos}: {d}"),
    })?;
    let mut p = Parser { toks, i: 0, query };
    let q = p.query()?;
    if let Some(e) = &q.expr {
        check(e, flavor)?;
        let first = first_clause(e);
        let negative = match first {
            Expr::Not(_) => true,
            Expr::Clause { op, .. } => op.negative(),
            _ => false,
        };
        if negative {
            return Err(CqlError::Unsupported(
                "A negative expression cannot be the first clause".into(),
            ));
        }
    }
    Ok(q)
}

/// An item a search can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    Content(u32),
    Space(u32),
}

/// Evaluation context.
pub(crate) struct Ctx<'a> {
    pub site: &'a Site,
    pub caller: Caller,
    pub now: i64,
    /// The caller's time zone: date literals and date functions are read in it.
    pub tz: Tz,
}

/// The instants a date value stands for, as a half-open range `[lo, hi)`: a minute for a
/// `yyyy-MM-dd HH:mm` literal, the whole local day for a date-only one (23 or 25 hours on a
/// DST change), a single instant (`hi = lo + 1`) for a function.
fn date_value(v: &Value, now: i64, tz: Tz) -> Option<(i64, i64)> {
    match v {
        Value::Lit(s) => {
            let d = time::parse_cql_date(s)?;
            let next = if d.with_time {
                d.local + chrono::Duration::minutes(1)
            } else {
                time::add_calendar(d.local, 1, 'd')
            };
            Some((time::from_local(tz, d.local), time::from_local(tz, next)))
        }
        Value::Func(name, args) => {
            let inc = args.first().and_then(|a| parse_increment(a));
            let lname = name.to_ascii_lowercase();
            let local = time::to_local(tz, now);
            let today = local.date();
            // Weeks start on Sunday (the default locale's first day of the week).
            let sunday =
                today - chrono::Duration::days(i64::from(today.weekday().num_days_from_sunday()));
            let first_of_month = today.with_day(1).unwrap_or(today);
            let first_of_year = first_of_month.with_month(1).unwrap_or(first_of_month);
            let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN);
            // Calendar increments (y, M, w, d) move the wall time; h and m move the instant.
            let (cal, abs) = match inc {
                Some((n, u @ ('y' | 'M' | 'w' | 'd'))) => (Some((n, u)), 0),
                Some((n, 'h')) => (None, n * 3_600_000),
                Some((n, _)) => (None, n * 60_000),
                None => (None, 0),
            };
            let shift = |t: chrono::NaiveDateTime| match cal {
                Some((n, u)) => time::add_calendar(t, n, u),
                None => t,
            };
            // `startOfX(inc)`: the start of the period, moved by `inc`; `endOfX(inc)`: the
            // last millisecond of the period that starts there.
            let start = |t: chrono::NaiveDateTime| time::from_local(tz, shift(t)) + abs;
            let end = |t: chrono::NaiveDateTime, n: i64, u: char| {
                time::from_local(tz, time::add_calendar(shift(t), n, u)) - 1 + abs
            };
            let t = match lname.as_str() {
                "now" => match cal {
                    Some(_) => start(local),
                    None => now + abs,
                },
                "startofday" => start(midnight(today)),
                "endofday" => end(midnight(today), 1, 'd'),
                "startofweek" => start(midnight(sunday)),
                "endofweek" => end(midnight(sunday), 1, 'w'),
                "startofmonth" => start(midnight(first_of_month)),
                "endofmonth" => end(midnight(first_of_month), 1, 'M'),
                "startofyear" => start(midnight(first_of_year)),
                "endofyear" => end(midnight(first_of_year), 1, 'y'),
                _ => return None,
            };
            Some((t, t + 1))
        }
    }
}

/// Lower-case words of a text.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Lucene-ish `~`: every term of the query must match a word of the text (prefix match for
/// terms ending in `*` and for stems); a quoted phrase inside the value must appear verbatim.
fn text_matches(hay: &str, needle: &str) -> bool {
    let hay_l = hay.to_lowercase();
    let n = needle.trim();
    if n.len() > 2 && n.starts_with('"') && n.ends_with('"') {
        let phrase = words(&n[1..n.len() - 1]).join(" ");
        return words(&hay_l).join(" ").contains(&phrase);
    }
    let hay_words = words(&hay_l);
    let terms: Vec<(String, bool)> = n
        .split_whitespace()
        .map(|t| (t.trim_end_matches('*').to_lowercase(), t.ends_with('*')))
        .flat_map(|(t, wild)| words(&t).into_iter().map(move |w| (w, wild)))
        .collect();
    if terms.is_empty() {
        return false;
    }
    terms.iter().all(|(t, wild)| {
        hay_words.iter().any(|w| {
            w == t
                || (*wild && w.starts_with(t.as_str()))
                || (t.len() >= 4 && w.starts_with(t.as_str()))
        })
    })
}

impl Ctx<'_> {
    fn lit_user(&self, v: &Value) -> Option<u32> {
        match v {
            Value::Lit(s) => self.site.user_by_ident(s),
            Value::Func(_, _) => self.caller,
        }
    }

    fn content_ref(&self, v: &Value) -> Option<u32> {
        match v {
            Value::Lit(s) => self.site.parse_id(s),
            Value::Func(_, _) => None,
        }
    }

    fn eq_one(&self, hit: Hit, field: &str, v: &Value) -> bool {
        let site = self.site;
        let lit = match v {
            Value::Lit(s) => s.as_str(),
            Value::Func(..) => "",
        };
        match hit {
            Hit::Space(s) => {
                let sp = &site.spaces[s as usize];
                match field {
                    "type" => lit.eq_ignore_ascii_case("space"),
                    "space" | "space.key" => {
                        matches!(v, Value::Lit(_)) && sp.key.eq_ignore_ascii_case(lit)
                    }
                    "space.type" => {
                        (lit.eq_ignore_ascii_case("personal") && sp.personal)
                            || (lit.eq_ignore_ascii_case("global") && !sp.personal)
                    }
                    "title" => sp.name.eq_ignore_ascii_case(lit),
                    "id" | "content" => sp.id.to_string() == lit,
                    "creator" => self.lit_user(v) == Some(sp.creator),
                    "created" | "lastmodified" => date_eq(sp.created, v, self.now, self.tz),
                    _ => false,
                }
            }
            Hit::Content(i) => {
                let c = site.c(i);
                let sp = &site.spaces[c.space as usize];
                match field {
                    "type" => c.kind.as_str().eq_ignore_ascii_case(lit),
                    "space" | "space.key" => {
                        matches!(v, Value::Lit(_)) && sp.key.eq_ignore_ascii_case(lit)
                    }
                    "space.type" => {
                        (lit.eq_ignore_ascii_case("personal") && sp.personal)
                            || (lit.eq_ignore_ascii_case("global") && !sp.personal)
                    }
                    "title" => c.title.eq_ignore_ascii_case(lit.trim_matches('"')),
                    "id" | "content" => self.content_ref(v) == Some(i),
                    "parent" => {
                        let target = self.content_ref(v);
                        target.is_some() && c.parent == target && c.kind == Kind::Page
                    }
                    "container" => {
                        let target = self.content_ref(v);
                        target.is_some()
                            && match c.kind {
                                Kind::Attachment | Kind::Comment => c.parent == target,
                                _ => false,
                            }
                    }
                    "ancestor" => match self.content_ref(v) {
                        Some(t) => {
                            let holder = if c.kind == Kind::Page {
                                i
                            } else {
                                site.permission_holder(i)
                            };
                            let mut anc = site.ancestors(holder);
                            if holder != i {
                                anc.push(holder);
                            }
                            anc.contains(&t)
                        }
                        None => false,
                    },
                    "label" => site
                        .label_names(i)
                        .iter()
                        .any(|l| l.eq_ignore_ascii_case(lit)),
                    "creator" => self.lit_user(v) == Some(c.creator),
                    "contributor" => {
                        let u = self.lit_user(v);
                        u == Some(c.creator) || u == Some(c.modifier)
                    }
                    "created" => date_eq(c.created, v, self.now, self.tz),
                    "lastmodified" => date_eq(c.modified, v, self.now, self.tz),
                    "macro" => {
                        matches!(c.kind, Kind::Page | Kind::BlogPost)
                            && crate::text::storage_body(site, i)
                                .contains(&format!("ac:name=\"{}\"", lit.to_lowercase()))
                    }
                    _ => false,
                }
            }
        }
    }

    fn contains(&self, hit: Hit, field: &str, v: &Value) -> bool {
        let Value::Lit(needle) = v else { return false };
        let site = self.site;
        let hay = match (hit, field) {
            (Hit::Space(s), "title" | "space.title") => site.spaces[s as usize].name.clone(),
            (Hit::Space(s), "space.desc") => site.spaces[s as usize].description.clone(),
            (Hit::Space(s), _) => {
                let sp = &site.spaces[s as usize];
                format!("{} {} {}", sp.name, sp.key, sp.description)
            }
            (Hit::Content(i), "title") => site.c(i).title.to_string(),
            (Hit::Content(i), "space.title") => site.spaces[site.c(i).space as usize].name.clone(),
            (Hit::Content(i), "space.desc") => {
                site.spaces[site.c(i).space as usize].description.clone()
            }
            (Hit::Content(i), _) => {
                let c = site.c(i);
                let body = match c.kind {
                    Kind::Attachment => String::new(),
                    _ => plain_text(&crate::text::storage_body(site, i)),
                };
                format!("{} {} {}", c.title, site.label_names(i).join(" "), body)
            }
        };
        text_matches(&hay, needle)
    }

    fn compare(&self, hit: Hit, field: &str, op: Op, v: &Value) -> bool {
        let t = match (hit, field) {
            (Hit::Space(s), _) => self.site.spaces[s as usize].created,
            (Hit::Content(i), "created") => self.site.c(i).created,
            (Hit::Content(i), _) => self.site.c(i).modified,
        };
        let Some((lo, hi)) = date_value(v, self.now, self.tz) else {
            return false;
        };
        // A literal covers its whole minute or day: `> "2024-01-01"` starts the next day,
        // `<= "2024-01-01 10:05"` ends at 10:05:59.999.
        match op {
            Op::Gt => t >= hi,
            Op::Ge => t >= lo,
            Op::Lt => t < lo,
            Op::Le => t < hi,
            _ => false,
        }
    }

    /// Whether an item matches an expression.
    pub(crate) fn eval(&self, e: &Expr, hit: Hit) -> bool {
        match e {
            Expr::And(l, r) => self.eval(l, hit) && self.eval(r, hit),
            Expr::Or(l, r) => self.eval(l, hit) || self.eval(r, hit),
            Expr::Not(x) => !self.eval(x, hit),
            Expr::Clause { field, op, values } => match op {
                Op::Eq | Op::In => values.iter().any(|v| self.eq_one(hit, field, v)),
                Op::Ne | Op::NotIn => !values.iter().any(|v| self.eq_one(hit, field, v)),
                Op::Contains => values.iter().any(|v| self.contains(hit, field, v)),
                Op::NotContains => !values.iter().any(|v| self.contains(hit, field, v)),
                Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                    values.iter().any(|v| self.compare(hit, field, *op, v))
                }
            },
        }
    }
}

fn date_eq(t: i64, v: &Value, now: i64, tz: Tz) -> bool {
    match date_value(v, now, tz) {
        // A function's instant matches its minute.
        Some((x, hi)) if hi == x + 1 => t.div_euclid(60_000) == x.div_euclid(60_000),
        Some((lo, hi)) => t >= lo && t < hi,
        None => false,
    }
}

/// Space keys a query is restricted to by a top-level `space = K` / `space IN (...)` clause.
pub(crate) fn space_scope(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::And(l, r) => space_scope(l).or_else(|| space_scope(r)),
        Expr::Clause {
            field,
            op: Op::Eq | Op::In,
            values,
        } if field == "space" || field == "space.key" => {
            let mut keys = Vec::new();
            for v in values {
                match v {
                    Value::Lit(s) => keys.push(s.clone()),
                    Value::Func(..) => return None,
                }
            }
            Some(keys)
        }
        _ => None,
    }
}

/// Whether the query can return spaces (`type = space` somewhere).
pub(crate) fn mentions_space_type(e: &Expr) -> bool {
    match e {
        Expr::And(l, r) | Expr::Or(l, r) => mentions_space_type(l) || mentions_space_type(r),
        Expr::Not(x) => mentions_space_type(x),
        Expr::Clause { field, values, .. } => {
            field == "type"
                && values
                    .iter()
                    .any(|v| matches!(v, Value::Lit(s) if s.eq_ignore_ascii_case("space")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) -> Query {
        match parse(q, Flavor::Cloud) {
            Ok(q) => q,
            Err(e) => panic!("{q}: {e}"),
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        ok("type = page and space = ENG");
        ok("space in ('A', \"B\") AND type=blogpost ORDER BY lastmodified DESC, title");
        ok("created > 2014/09/01");
        ok("created >= now(\"-4w\") and lastModified < startOfYear()");
        ok("title = \"\\\"Advanced Searching\\\"\"");
        ok("label = runbook AND (type = page OR type = blogpost) AND NOT label = draft");
        ok("ancestor = 123 and creator = currentUser()");
        ok("ORDER BY created");
        let q = ok("type = page and space = ENG");
        assert_eq!(
            space_scope(q.expr.as_ref().unwrap_or(&Expr::Not(Box::new(Expr::Clause {
                field: "x".into(),
                op: Op::Eq,
                values: vec![]
            })))),
            Some(vec!["ENG".to_owned()])
        );
    }

    #[test]
    fn refuses_with_confluence_messages() {
        let e = parse("type = page and status = current", Flavor::Cloud).err();
        assert!(matches!(&e, Some(CqlError::UnknownField { name, .. }) if name == "status"));
        assert!(
            e.map(|e| e.to_string())
                .unwrap_or_default()
                .contains("No field exists with the name: 'status' Did you mean one of : ")
        );
        let e = parse("type = bogustype", Flavor::Cloud)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(
            "Unsupported value for type, got : bogustype, expected one of : [space, user, page"
        ));
        let e = parse("type = page and (", Flavor::Cloud)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.ends_with("Could not parse cql : type = page and ("),
            "{e}"
        );
        assert!(matches!(
            parse("NOT type = page", Flavor::Cloud),
            Err(CqlError::Unsupported(_))
        ));
        assert!(matches!(
            parse("type != page", Flavor::Cloud),
            Err(CqlError::Unsupported(_))
        ));
        assert!(matches!(
            parse("label > x", Flavor::Cloud),
            Err(CqlError::Unsupported(_))
        ));
        assert!(matches!(
            parse("space ~ x", Flavor::Cloud),
            Err(CqlError::Unsupported(_))
        ));
        assert!(matches!(
            parse("created > \"2026-05-12T09:00:00.000Z\"", Flavor::Cloud),
            Err(CqlError::Unsupported(_))
        ));
        assert!(matches!(
            parse("created > now(\"-4q\")", Flavor::Cloud),
            Err(CqlError::Unsupported(_))
        ));
        assert!(matches!(
            parse("title = \"\"", Flavor::Cloud),
            Err(CqlError::Unsupported(_))
        ));
        assert!(matches!(parse("  ", Flavor::Cloud), Err(CqlError::Missing)));
        assert!(matches!(
            parse("title = \"abc", Flavor::Cloud),
            Err(CqlError::Syntax { .. })
        ));
        assert!(matches!(
            parse("type = page and", Flavor::Cloud),
            Err(CqlError::Syntax { .. })
        ));
        assert!(matches!(
            parse("type = and", Flavor::Cloud),
            Err(CqlError::Syntax { .. })
        ));
    }

    #[test]
    fn text_matching_is_word_based() {
        assert!(text_matches("Deployment runbook for ENG", "runbook"));
        assert!(text_matches("Deployment runbook for ENG", "run*"));
        assert!(text_matches("Deployment runbook for ENG", "eng deployment"));
        assert!(!text_matches("Deployment runbook", "rollback"));
        assert!(text_matches("the quick brown fox", "\"quick brown\""));
        assert!(!text_matches("the quick brown fox", "\"brown quick\""));
    }

    #[test]
    fn increments_parse() {
        assert_eq!(parse_increment("-4w"), Some((-4, 'w')));
        assert_eq!(parse_increment("1M"), Some((1, 'M')));
        assert_eq!(parse_increment("+2d"), Some((2, 'd')));
        assert_eq!(parse_increment("4q"), None);
    }

    /// Whether `cql` matches a page last modified (and created) at `at` (ms), evaluated for a
    /// caller in `tz` at `now`.
    fn matches_at(tz: &str, now: i64, at: i64, cql: &str) -> bool {
        let mut site = crate::generate::generate(Flavor::Cloud, crate::SiteSize::Tiny, 7);
        let tz: Tz = tz.parse().unwrap_or(Tz::UTC);
        let i = (0..site.contents.len() as u32)
            .find(|&i| site.c(i).kind == Kind::Page)
            .unwrap_or(0);
        site.contents[i as usize].modified = at;
        site.contents[i as usize].created = at;
        let q = ok(cql);
        let ctx = Ctx {
            site: &site,
            caller: Some(crate::model::CRAWLER),
            now,
            tz,
        };
        q.expr
            .as_ref()
            .is_some_and(|e| ctx.eval(e, Hit::Content(i)))
    }

    fn utc(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0)
    }

    #[test]
    fn date_literals_are_read_in_the_callers_zone_to_the_minute() {
        let now = utc("2026-12-05T00:00:00Z");
        // 10:05 in Kolkata (UTC+05:30) is 04:35Z.
        for q in [
            "lastmodified >= \"2026-12-02 10:05\"",
            "lastmodified >= \"2026/12/02 10:05\"",
        ] {
            assert!(matches_at(
                "Asia/Kolkata",
                now,
                utc("2026-12-02T04:35:00.000Z"),
                q
            ));
            assert!(!matches_at(
                "Asia/Kolkata",
                now,
                utc("2026-12-02T04:34:59.999Z"),
                q
            ));
            // The same literal for a UTC caller is 5 h 30 min later.
            assert!(!matches_at("UTC", now, utc("2026-12-02T04:35:00.000Z"), q));
            assert!(matches_at("UTC", now, utc("2026-12-02T10:05:00.000Z"), q));
        }
        // A date-only literal starts at local midnight (18:30Z the day before).
        for q in ["created >= \"2026-12-02\"", "created >= 2026/12/02"] {
            assert!(matches_at(
                "Asia/Kolkata",
                now,
                utc("2026-12-01T18:30:00.000Z"),
                q
            ));
            assert!(!matches_at(
                "Asia/Kolkata",
                now,
                utc("2026-12-01T18:29:59.999Z"),
                q
            ));
        }
        // `<` excludes the named minute, `<=` includes it whole.
        let at = utc("2026-12-02T04:35:59.999Z");
        assert!(!matches_at(
            "Asia/Kolkata",
            now,
            at,
            "lastmodified < \"2026-12-02 10:05\""
        ));
        assert!(matches_at(
            "Asia/Kolkata",
            now,
            at,
            "lastmodified <= \"2026-12-02 10:05\""
        ));
        assert!(matches_at(
            "Asia/Kolkata",
            now,
            at,
            "lastmodified = \"2026-12-02 10:05\""
        ));
    }

    #[test]
    fn date_literals_follow_dst() {
        let now = utc("2026-12-05T00:00:00Z");
        let ny = "America/New_York";
        // Winter (EST, UTC-5) and summer (EDT, UTC-4).
        let q = "lastmodified >= \"2026-01-15 09:00\"";
        assert!(matches_at(ny, now, utc("2026-01-15T14:00:00Z"), q));
        assert!(!matches_at(ny, now, utc("2026-01-15T13:59:59.999Z"), q));
        let q = "lastmodified >= \"2026-07-15 09:00\"";
        assert!(matches_at(ny, now, utc("2026-07-15T13:00:00Z"), q));
        assert!(!matches_at(ny, now, utc("2026-07-15T12:59:59.999Z"), q));
        // 02:30 on 2026-03-08 does not exist: read as 03:30 EDT (07:30Z).
        let q = "lastmodified >= \"2026-03-08 02:30\"";
        assert!(matches_at(ny, now, utc("2026-03-08T07:30:00Z"), q));
        assert!(!matches_at(ny, now, utc("2026-03-08T07:29:59.999Z"), q));
        // 01:30 on 2026-11-01 happens twice: the earlier (EDT, 05:30Z) is taken, so a
        // `>=` delta never misses the second hour.
        let q = "lastmodified >= \"2026-11-01 01:30\"";
        assert!(matches_at(ny, now, utc("2026-11-01T05:30:00Z"), q));
        assert!(!matches_at(ny, now, utc("2026-11-01T05:29:59.999Z"), q));
        // The spring-forward day lasts 23 hours: 05:00Z to 04:00Z.
        let q = "lastmodified = \"2026-03-08\"";
        assert!(matches_at(ny, now, utc("2026-03-08T05:00:00Z"), q));
        assert!(matches_at(ny, now, utc("2026-03-09T03:59:59.999Z"), q));
        assert!(!matches_at(ny, now, utc("2026-03-09T04:00:00Z"), q));
        assert!(!matches_at(ny, now, utc("2026-03-08T04:59:59.999Z"), q));
        // The fall-back day lasts 25 hours: 04:00Z to 05:00Z the next day.
        let q = "lastmodified = \"2026-11-01\"";
        assert!(matches_at(ny, now, utc("2026-11-02T04:59:59.999Z"), q));
        assert!(!matches_at(ny, now, utc("2026-11-02T05:00:00Z"), q));
        // Europe switches on another day: 2026-03-29 02:30 in Berlin is 03:30 CEST (01:30Z).
        let q = "lastmodified >= \"2026-03-29 02:30\"";
        assert!(matches_at(
            "Europe/Berlin",
            now,
            utc("2026-03-29T01:30:00Z"),
            q
        ));
        assert!(!matches_at(
            "Europe/Berlin",
            now,
            utc("2026-03-29T01:29:59.999Z"),
            q
        ));
    }

    #[test]
    fn date_functions_use_the_callers_zone() {
        // 20:00Z on Wednesday 2026-12-02 is already Thursday 01:30 in Kolkata.
        let now = utc("2026-12-02T20:00:00Z");
        let k = "Asia/Kolkata";
        assert!(matches_at(
            k,
            now,
            utc("2026-12-02T18:30:00Z"),
            "lastmodified >= startOfDay()"
        ));
        assert!(!matches_at(
            k,
            now,
            utc("2026-12-02T18:29:59.999Z"),
            "lastmodified >= startOfDay()"
        ));
        assert!(matches_at(
            "UTC",
            now,
            utc("2026-12-02T00:00:00Z"),
            "lastmodified >= startOfDay()"
        ));
        assert!(matches_at(
            k,
            now,
            utc("2026-12-03T18:29:59.999Z"),
            "lastmodified <= endOfDay()"
        ));
        assert!(!matches_at(
            k,
            now,
            utc("2026-12-03T18:30:00Z"),
            "lastmodified <= endOfDay()"
        ));
        // Yesterday in Kolkata starts at 2026-12-01T18:30Z.
        assert!(matches_at(
            k,
            now,
            utc("2026-12-01T18:30:00Z"),
            "created >= startOfDay(\"-1d\")"
        ));
        assert!(!matches_at(
            k,
            now,
            utc("2026-12-01T18:29:00Z"),
            "created >= startOfDay(\"-1d\")"
        ));
        // Weeks start on Sunday: Sunday 2026-11-29 00:00 IST = 11-28T18:30Z.
        assert!(matches_at(
            k,
            now,
            utc("2026-11-28T18:30:00Z"),
            "created >= startOfWeek()"
        ));
        assert!(!matches_at(
            k,
            now,
            utc("2026-11-28T18:29:00Z"),
            "created >= startOfWeek()"
        ));
        // Month and year in the caller's zone.
        assert!(matches_at(
            k,
            now,
            utc("2026-11-30T18:30:00Z"),
            "created >= startOfMonth()"
        ));
        assert!(!matches_at(
            k,
            now,
            utc("2026-11-30T18:29:00Z"),
            "created >= startOfMonth()"
        ));
        assert!(matches_at(
            k,
            now,
            utc("2025-12-31T18:30:00Z"),
            "created >= startOfYear()"
        ));
        assert!(!matches_at(
            k,
            now,
            utc("2025-12-31T18:29:00Z"),
            "created >= startOfYear()"
        ));
        // `now("-1h")` is an instant: the zone does not matter.
        assert!(matches_at(
            k,
            now,
            utc("2026-12-02T19:00:00Z"),
            "created >= now(\"-1h\")"
        ));
        assert!(!matches_at(
            k,
            now,
            utc("2026-12-02T18:59:59.999Z"),
            "created >= now(\"-1h\")"
        ));
        // Across DST: a day before 12:00 EDT on Sunday 2026-03-08 is 12:00 EST on 03-07
        // (17:00Z), 23 hours earlier, not 24.
        let now = utc("2026-03-08T16:00:00Z");
        let ny = "America/New_York";
        assert!(matches_at(
            ny,
            now,
            utc("2026-03-07T17:00:00Z"),
            "created >= now(\"-1d\")"
        ));
        assert!(!matches_at(
            ny,
            now,
            utc("2026-03-07T16:59:59.999Z"),
            "created >= now(\"-1d\")"
        ));
        assert!(matches_at(
            ny,
            now,
            utc("2026-03-08T05:00:00Z"),
            "created >= startOfDay()"
        ));
        assert!(!matches_at(
            ny,
            now,
            utc("2026-03-08T04:59:59.999Z"),
            "created >= startOfDay()"
        ));
        assert!(matches_at(
            ny,
            now,
            utc("2026-03-07T05:00:00Z"),
            "created >= startOfDay(\"-1d\")"
        ));
        assert!(!matches_at(
            ny,
            now,
            utc("2026-03-07T04:59:59.999Z"),
            "created >= startOfDay(\"-1d\")"
        ));
        // The 23-hour day ends at 04:00Z.
        assert!(matches_at(
            ny,
            now,
            utc("2026-03-09T03:59:59.999Z"),
            "created <= endOfDay()"
        ));
        assert!(!matches_at(
            ny,
            now,
            utc("2026-03-09T04:00:00Z"),
            "created <= endOfDay()"
        ));
    }

    #[test]
    fn anonymous_callers_and_users_without_a_zone_use_the_site_default() {
        let mut site = crate::generate::generate(Flavor::Cloud, crate::SiteSize::Tiny, 7);
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap_or(Tz::UTC);
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        assert_eq!(site.zone_of(None), Tz::UTC);
        site.default_tz = kolkata;
        assert_eq!(site.zone_of(None), kolkata);
        assert_eq!(site.zone_of(Some(crate::model::CRAWLER)), kolkata);
        site.users[crate::model::CRAWLER as usize].time_zone = Some(berlin);
        assert_eq!(site.zone_of(Some(crate::model::CRAWLER)), berlin);
        assert_eq!(site.zone_of(Some(crate::model::ADMIN)), kolkata);
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s, Flavor::Cloud);
            let _ = parse(&s, Flavor::DataCenter);
        }

        #[test]
        fn parser_never_panics_on_cql_like_input(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "type", "=", "page", "and", "or", "not", "(", ")", "in", "space", "\"ENG\"", ",",
                "created", ">", "now(\"-1d\")", "order", "by", "desc", "~", "!=", "'x'", "label",
                "title", "\"", "\\", "startOfWeek(", "NOT IN", "ancestor", "123", "!~", "<=",
            ]), 0..16)) {
            let q = parts.join(" ");
            let _ = parse(&q, Flavor::Cloud);
        }
    }
}

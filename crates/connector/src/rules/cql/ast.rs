//! The syntax tree of a CQL query. Spans are byte ranges of the query text.

use std::ops::Range;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// How the operator is written.
    pub fn as_str(self) -> &'static str {
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

    /// Operators that negate (a query may not start with one).
    pub fn is_negative(self) -> bool {
        matches!(self, Op::Ne | Op::NotContains | Op::NotIn)
    }

    /// `IN` and `NOT IN`, which take a list.
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::NotIn)
    }
}

/// A parsed query: an optional condition and sort keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The condition; `None` for a query that is only `ORDER BY ...`.
    pub expr: Option<Expr>,
    /// `ORDER BY` keys.
    pub order_by: Vec<OrderKey>,
}

/// One `ORDER BY` key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// The field as written.
    pub field: String,
    /// Where it is.
    pub span: Range<usize>,
    /// `DESC`.
    pub descending: bool,
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// The inner condition does not hold; `span` covers the `NOT` keyword.
    Not(Box<Expr>, Range<usize>),
    /// `field op value(s)`.
    Clause(Clause),
}

/// `field op value` or `field [NOT] IN (values)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The field as written.
    pub field: String,
    /// Where the field is.
    pub field_span: Range<usize>,
    /// The operator.
    pub op: Op,
    /// Where the operator is.
    pub op_span: Range<usize>,
    /// One value, or the list of `IN`/`NOT IN`.
    pub values: Vec<Value>,
    /// The whole clause.
    pub span: Range<usize>,
}

/// A value: a literal or a function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What it is.
    pub kind: ValueKind,
    /// Where it is (for a function: its name to its closing parenthesis).
    pub span: Range<usize>,
}

/// The two kinds of values.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// A quoted string (unescaped) or a bare word.
    Literal {
        /// The text, without quotes.
        text: String,
        /// Whether it was quoted.
        quoted: bool,
    },
    /// `name(args)`.
    Function {
        /// The name as written.
        name: String,
        /// The arguments.
        args: Vec<Arg>,
    },
}

/// A function argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// The text, without quotes.
    pub text: String,
    /// Where it is.
    pub span: Range<usize>,
}

impl Expr {
    /// The leftmost clause or negation: what Confluence calls the first clause.
    pub fn first(&self) -> &Expr {
        match self {
            Expr::And(l, _) | Expr::Or(l, _) => l.first(),
            other => other,
        }
    }

    /// Every clause, left to right.
    pub fn clauses(&self) -> Vec<&Clause> {
        let mut out = Vec::new();
        self.visit(&mut |c| out.push(c));
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Clause)) {
        match self {
            Expr::And(l, r) | Expr::Or(l, r) => {
                l.visit(f);
                r.visit(f);
            }
            Expr::Not(x, _) => x.visit(f),
            Expr::Clause(c) => f(c),
        }
    }
}

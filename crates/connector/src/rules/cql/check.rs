//! Checks of a parsed query against the schema: fields, operators, values, functions, dates,
//! and the rule that a query may not start with a negation. Every problem is reported, not only
//! the first.

use super::ast::{Clause, Expr, Op, Query, ValueKind};
use super::schema::{
    self, Args, CONTENT_TYPES, DATE_FORMATS, FIELDS, FUNCTIONS, FieldType, ORDERABLE, SPACE_TYPES,
};
use super::{Issue, ProblemKind};
use crate::confluence::Flavor;

pub(crate) fn check(query: &Query, flavor: Flavor) -> Vec<Issue> {
    let mut issues = Vec::new();
    if let Some(expr) = &query.expr {
        for clause in expr.clauses() {
            check_clause(clause, flavor, &mut issues);
        }
        match expr.first() {
            Expr::Not(_, span) => issues.push(negative_first(span.clone(), None)),
            Expr::Clause(c) if c.op.is_negative() => {
                issues.push(negative_first(c.span.clone(), Some(c)));
            }
            _ => {}
        }
    }
    for key in &query.order_by {
        match schema::field(&key.field) {
            None => issues.push(unknown_field(&key.field, key.span.clone())),
            Some(f) if !ORDERABLE.contains(&f.name.as_str()) => issues.push(
                Issue::error(
                    ProblemKind::Unorderable,
                    key.span.clone(),
                    format!("Cannot order by field '{}'", key.field),
                )
                .expected(ORDERABLE.iter().copied())
                .suggest("lastmodified"),
            ),
            Some(_) => {}
        }
    }
    issues
}

fn negative_first(span: std::ops::Range<usize>, clause: Option<&Clause>) -> Issue {
    let fix = clause.and_then(|c| match c.op {
        Op::Ne => Some(format!("type = page AND {} != ...", c.field)),
        _ => None,
    });
    let issue = Issue::error(
        ProblemKind::NegativeFirst,
        span,
        "A negative expression cannot be the first clause: start with a positive clause (e.g. 'type = page AND NOT ...')",
    );
    match fix {
        Some(f) => issue.suggest(f),
        None => issue.suggest("type in (page, blogpost) AND NOT ..."),
    }
}

pub(crate) fn unknown_field(name: &str, span: std::ops::Range<usize>) -> Issue {
    let near = schema::nearest(
        name,
        FIELDS
            .iter()
            .filter(|f| f.ty != FieldType::UserSearch)
            .map(|f| f.display),
        5,
    );
    Issue::error(
        ProblemKind::UnknownField,
        span,
        format!(
            "No field exists with the name: '{name}' Did you mean one of : {}",
            near.join(", ")
        ),
    )
    .expected(near.iter().copied())
    .suggest_opt(near.first().map(|s| (*s).to_owned()))
}

fn check_clause(c: &Clause, flavor: Flavor, issues: &mut Vec<Issue>) {
    let Some(field) = schema::field(&c.field) else {
        issues.push(unknown_field(&c.field, c.field_span.clone()));
        return;
    };
    if field.ty == FieldType::UserSearch {
        issues.push(Issue::error(
            ProblemKind::UnknownField,
            c.field_span.clone(),
            format!(
                "the field '{}' only exists in user search (rest/api/search/user), not in content search",
                c.field
            ),
        ));
        return;
    }
    let allowed = schema::operators(&field.name, field.ty);
    if !allowed.contains(&c.op) {
        let better = match (field.ty, c.op) {
            (_, Op::Contains) if allowed.contains(&Op::Eq) => Some("="),
            (_, Op::NotContains) if allowed.contains(&Op::Ne) => Some("!="),
            (_, Op::Eq) if allowed.contains(&Op::Contains) => Some("~"),
            (_, Op::Ne) if allowed.contains(&Op::NotContains) => Some("!~"),
            _ => allowed.first().map(|o| o.as_str()),
        };
        issues.push(
            Issue::error(
                ProblemKind::OperatorNotAllowed,
                c.op_span.clone(),
                format!(
                    "The operator '{}' is not supported by the '{}' field ({} field; it takes {})",
                    c.op.as_str(),
                    c.field,
                    field.ty.label(),
                    allowed
                        .iter()
                        .map(|o| o.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .expected(allowed.iter().map(|o| o.as_str()))
            .suggest_opt(better.map(str::to_owned)),
        );
    }
    for v in &c.values {
        match &v.kind {
            ValueKind::Literal { text, .. } => {
                let span = v.span.clone();
                if text.trim().is_empty() {
                    let message = if field.name == "sitesearch" {
                        "siteSearch ~ \"\" makes Confluence fail (500, NullPointerException): give search terms".to_owned()
                    } else {
                        format!("The value for field '{}' must not be empty", c.field)
                    };
                    issues.push(Issue::error(ProblemKind::EmptyValue, span, message));
                    continue;
                }
                match field.ty {
                    FieldType::Type
                        if !CONTENT_TYPES.iter().any(|t| t.eq_ignore_ascii_case(text)) =>
                    {
                        let near = schema::nearest(text, CONTENT_TYPES.iter().copied(), 1);
                        issues.push(
                            Issue::error(
                                ProblemKind::BadValue,
                                span,
                                format!(
                                    "Unsupported value for type, got : {text}, expected one of : [{}]",
                                    CONTENT_TYPES.join(", ")
                                ),
                            )
                            .expected(CONTENT_TYPES.iter().copied())
                            .suggest_opt(near.first().map(|s| (*s).to_owned())),
                        );
                    }
                    FieldType::SpaceType
                        if !SPACE_TYPES.iter().any(|t| t.eq_ignore_ascii_case(text)) =>
                    {
                        issues.push(
                            Issue::warning(
                                ProblemKind::BadValue,
                                span,
                                format!("'{text}' is not a documented space type (global, personal, favourite)"),
                            )
                            .expected(SPACE_TYPES.iter().copied()),
                        );
                    }
                    FieldType::Date if !schema::is_date_literal(text) => {
                        let suggestion = schema::iso_to_cql(text).map(|d| format!("\"{d}\""));
                        issues.push(
                            Issue::error(
                                ProblemKind::BadDate,
                                span,
                                format!("Unable to parse date '{text}'. Expected one of: {DATE_FORMATS}, or a date function such as now(\"-1d\")"),
                            )
                            .expected(["yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd", "yyyy-MM-dd"])
                            .suggest_opt(suggestion),
                        );
                    }
                    FieldType::Content
                        if !text.chars().all(|ch| ch.is_ascii_digit())
                            && !text.strip_prefix("att").is_some_and(|d| {
                                !d.is_empty() && d.chars().all(|ch| ch.is_ascii_digit())
                            }) =>
                    {
                        issues.push(Issue::warning(
                            ProblemKind::BadValue,
                            span,
                            format!("'{}' expects a content id (a number), got '{text}': this clause matches nothing", c.field),
                        ));
                    }
                    _ => {}
                }
            }
            ValueKind::Function { name, args } => {
                check_function(c, field.ty, name, args, v.span.clone(), flavor, issues);
            }
        }
    }
}

fn check_function(
    c: &Clause,
    ty: FieldType,
    name: &str,
    args: &[super::ast::Arg],
    span: std::ops::Range<usize>,
    flavor: Flavor,
    issues: &mut Vec<Issue>,
) {
    let Some(function) = schema::function(name) else {
        let fitting: Vec<&str> = FUNCTIONS
            .iter()
            .filter(|f| f.types.contains(&ty))
            .map(|f| f.name)
            .collect();
        let near = schema::nearest(name, FUNCTIONS.iter().map(|f| f.name), 1);
        issues.push(
            Issue::error(
                ProblemKind::UnknownFunction,
                span,
                format!("Unknown function '{name}'"),
            )
            .expected(fitting.iter().map(|f| format!("{f}()")))
            .suggest_opt(near.first().map(|f| format!("{f}()"))),
        );
        return;
    };
    if function.dc_only && flavor == Flavor::Cloud {
        issues.push(Issue::error(
            ProblemKind::FunctionNotAllowed,
            span.clone(),
            format!(
                "The function '{}' is only available on Server and Data Center",
                function.name
            ),
        ));
    }
    if !function.types.contains(&ty) {
        let fitting: Vec<String> = FUNCTIONS
            .iter()
            .filter(|f| f.types.contains(&ty))
            .map(|f| format!("{}()", f.name))
            .collect();
        issues.push(
            Issue::error(
                ProblemKind::FunctionNotAllowed,
                span,
                format!(
                    "The function '{name}' is not supported by the '{}' field",
                    c.field
                ),
            )
            .expected(fitting.iter().map(String::as_str)),
        );
        return;
    }
    if !function.allows(c.op, flavor) {
        let ops: Vec<&str> = function
            .ops
            .iter()
            .chain(if flavor == Flavor::Cloud {
                [].iter()
            } else {
                function.dc_ops.iter()
            })
            .map(|o| o.as_str())
            .collect();
        issues.push(
            Issue::error(
                ProblemKind::FunctionNotAllowed,
                c.op_span.clone(),
                format!(
                    "The function '{}' cannot be used with the operator '{}' (it takes {})",
                    function.name,
                    c.op.as_str(),
                    ops.join(", ")
                ),
            )
            .expected(ops),
        );
    }
    match function.args {
        Args::None if !args.is_empty() => issues.push(
            Issue::error(
                ProblemKind::BadArguments,
                args[0].span.start..args[args.len() - 1].span.end,
                format!("Function '{}' takes no arguments", function.name),
            )
            .suggest(format!("{}()", function.name)),
        ),
        Args::Increment => {
            if args.len() > 1 {
                issues.push(Issue::error(
                    ProblemKind::BadArguments,
                    args[1].span.start..args[args.len() - 1].span.end,
                    format!("Function '{}' takes at most one argument", function.name),
                ));
            }
            if let Some(a) = args.first()
                && schema::parse_increment(&a.text).is_none()
            {
                issues.push(
                    Issue::error(
                        ProblemKind::BadIncrement,
                        a.span.clone(),
                        format!(
                            "Invalid date increment '{}' for function '{}': use (+|-)nn followed by y, M, w, d, h or m, e.g. \"-4w\"",
                            a.text, function.name
                        ),
                    )
                    .expected(["\"-1d\"", "\"-4w\"", "\"1M\"", "\"-2y\""]),
                );
            }
        }
        Args::Numbers(n) => {
            if args.len() > n {
                issues.push(Issue::error(
                    ProblemKind::BadArguments,
                    args[n].span.start..args[args.len() - 1].span.end,
                    format!("Function '{}' takes at most {n} argument(s)", function.name),
                ));
            }
            for a in args.iter().take(n) {
                if a.text.trim().parse::<u32>().is_err() {
                    issues.push(Issue::error(
                        ProblemKind::BadArguments,
                        a.span.clone(),
                        format!(
                            "Function '{}' takes whole numbers, got '{}'",
                            function.name, a.text
                        ),
                    ));
                }
            }
        }
        Args::None => {}
    }
}

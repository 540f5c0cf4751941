//! Parser, checker and editor tests: every construct of the grammar, every documented error,
//! and properties over arbitrary input.

use super::*;
use crate::confluence::Flavor::{Cloud, DataCenter};

fn ok(q: &str) -> Query {
    let problems = validate(q, Cloud);
    assert!(!has_errors(&problems), "{q}: {problems:#?}");
    parse(q).unwrap()
}

/// The single error of `q` (on Cloud).
fn err(q: &str) -> CqlProblem {
    err_on(q, Cloud)
}

fn err_on(q: &str, flavor: crate::confluence::Flavor) -> CqlProblem {
    let problems: Vec<CqlProblem> = validate(q, flavor)
        .into_iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert_eq!(problems.len(), 1, "{q}: {problems:#?}");
    problems.into_iter().next().unwrap()
}

/// The text a problem points at.
fn at<'a>(q: &'a str, p: &CqlProblem) -> &'a str {
    &q[byte_offset(q, p.start)..byte_offset(q, p.end)]
}

fn clause(q: &str) -> Clause {
    match ok(q).expr {
        Some(Expr::Clause(c)) => c,
        other => panic!("{q}: {other:?}"),
    }
}

#[test]
fn every_operator() {
    for (q, op) in [
        ("title = x", Op::Eq),
        ("type = page and title != x", Op::Ne),
        ("title ~ x", Op::Contains),
        ("type = page and title !~ x", Op::NotContains),
        ("created > 2024-01-01", Op::Gt),
        ("created >= 2024-01-01", Op::Ge),
        ("created < 2024-01-01", Op::Lt),
        ("created <= 2024-01-01", Op::Le),
        ("space IN (A, B)", Op::In),
        ("type = page and space NOT IN (A)", Op::NotIn),
    ] {
        let query = ok(q);
        let clauses = query.expr.as_ref().unwrap().clauses();
        assert_eq!(clauses.last().unwrap().op, op, "{q}");
    }
}

#[test]
fn precedence_and_parentheses() {
    // AND binds tighter than OR.
    match ok("type = page OR type = blogpost AND space = A")
        .expr
        .unwrap()
    {
        Expr::Or(_, r) => assert!(matches!(*r, Expr::And(..))),
        other => panic!("{other:?}"),
    }
    // Parentheses override.
    match ok("(type = page OR type = blogpost) AND space = A")
        .expr
        .unwrap()
    {
        Expr::And(l, _) => assert!(matches!(*l, Expr::Or(..))),
        other => panic!("{other:?}"),
    }
    ok("((type = page))");
    ok("type = page and not (label = a or label = b)");
    ok("type = page AND NOT label = draft and not not label = x");
    // Keywords in any case.
    ok("type = page aNd space in (A) Or label = x order BY title asc");
}

#[test]
fn values_quoted_bare_numbers_and_escapes() {
    let c = clause("title = \"a \\\"b\\\" \\\\ c\"");
    assert_eq!(
        c.values[0].kind,
        ValueKind::Literal {
            text: "a \"b\" \\ c".into(),
            quoted: true
        }
    );
    let c = clause("title = 'it\\'s'");
    assert!(matches!(&c.values[0].kind, ValueKind::Literal { text, .. } if text == "it's"));
    let c = clause("ancestor = 12345");
    assert!(
        matches!(&c.values[0].kind, ValueKind::Literal { text, quoted: false } if text == "12345")
    );
    // The documented exact-phrase spelling.
    ok("title = \"\\\"Advanced Searching\\\"\"");
    ok("text ~ \"\\\"exact phrase\\\"\"");
    ok("title ~ \"win*\"");
    ok("label = \"and\"");
}

#[test]
fn dates_and_functions() {
    for q in [
        "created > 2014/09/01",
        "created > \"2014/09/01 10:30\"",
        "created > \"2014-09-01 10:30\"",
        "created > 2014-09-01",
        "created >= now(\"-4w\")",
        "created > endOfDay(\"-1d\")",
        "lastmodified < endOfMonth()",
        "lastModified < startOfYear()",
        "created >= now('-5w')",
        "created > now(-2h) and created < now(+1M) and lastmodified >= startOfWeek(1y)",
        "lastmodified > startOfMonth() and lastmodified < endOfYear() and created > startOfDay()",
        "creator = currentUser()",
        "type = page and contributor != currentUser()",
        "space in (favouriteSpaces())",
        "space in (favoriteSpaces())",
        "space in (recentlyViewedSpaces(5))",
        "id in (recentlyViewedContent(10, 7))",
        "type = page and space not in (favouriteSpaces(), A)",
    ] {
        ok(q);
    }
    let c = clause("created >= now(\"-4w\")");
    match &c.values[0].kind {
        ValueKind::Function { name, args } => {
            assert_eq!(name, "now");
            assert_eq!(args[0].text, "-4w");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn order_by() {
    let q = ok("type = page ORDER BY lastmodified DESC, title, created asc");
    let keys: Vec<(&str, bool)> = q
        .order_by
        .iter()
        .map(|k| (k.field.as_str(), k.descending))
        .collect();
    assert_eq!(
        keys,
        [("lastmodified", true), ("title", false), ("created", false)]
    );
    let q = ok("ORDER BY created");
    assert!(q.expr.is_none());
    let p = err("type = page order by label");
    assert_eq!(p.kind, ProblemKind::Unorderable);
    assert_eq!(at("type = page order by label", &p), "label");
    let p = err("type = page order title");
    assert_eq!(p.kind, ProblemKind::Syntax);
    assert_eq!(p.suggestion.as_deref(), Some("ORDER BY"));
    let p = err("type = page order by");
    assert_eq!(p.kind, ProblemKind::Syntax);
    let p = err("type = page order by title sideways");
    assert!(p.expected.contains(&"DESC".to_owned()), "{p:?}");
}

#[test]
fn the_documented_fields_all_parse() {
    for q in [
        "ancestor = 123",
        "parent = 123",
        "container = 123",
        "content = 123",
        "id = 123",
        "created > 2024-01-01",
        "lastmodified > 2024-01-01",
        "creator = jdoe",
        "contributor = jdoe",
        "mention = jdoe",
        "watcher = jdoe",
        "favourite = jdoe",
        "favorite = jdoe",
        "label = runbook",
        "macro = jira",
        "space = ENG",
        "space.key = ENG",
        "space.title ~ eng",
        "space.desc ~ eng",
        "space.type = personal",
        "space.category = docs",
        "title = Runbook",
        "text ~ deploy",
        "type = whiteboard",
        "subtype = live",
        "siteSearch ~ deploy",
        "content.property[metadata].team = ops",
    ] {
        ok(q);
    }
    // Field names are case-insensitive.
    ok("Space.Key = ENG and TITLE ~ x and LastModified > 2024-01-01");
}

#[test]
fn unknown_field_suggests_like_confluence() {
    let q = "type = page and status = current";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::UnknownField);
    assert_eq!(at(q, &p), "status");
    assert_eq!((p.start, p.end), (16, 22));
    assert!(
        p.message
            .starts_with("No field exists with the name: 'status' Did you mean one of : "),
        "{}",
        p.message
    );
    assert_eq!(p.expected.len(), 5);
    assert!(p.expected.iter().any(|f| f == "space"), "{:?}", p.expected);
    let p = err("titel ~ x");
    assert_eq!(p.suggestion.as_deref(), Some("title"));
    let p = err("lastmodifed > 2024-01-01");
    assert_eq!(p.suggestion.as_deref(), Some("lastmodified"));
    let p = err("user.fullname ~ ann");
    assert_eq!(p.kind, ProblemKind::UnknownField);
    assert!(p.message.contains("user search"), "{}", p.message);
}

#[test]
fn bad_type_value() {
    let q = "type = bogustype";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::BadValue);
    assert!(
        p.message.starts_with(
            "Unsupported value for type, got : bogustype, expected one of : [space, user, page, blogpost"
        ),
        "{}",
        p.message
    );
    assert_eq!(at(q, &p), "bogustype");
    assert_eq!(err("type = pgae").suggestion.as_deref(), Some("page"));
    assert_eq!(
        err("type in (page, blgpost)").suggestion.as_deref(),
        Some("blogpost")
    );
}

#[test]
fn operators_not_allowed_for_the_field() {
    let q = "label > x";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::OperatorNotAllowed);
    assert_eq!(at(q, &p), ">");
    assert_eq!(p.expected, ["=", "!=", "IN", "NOT IN"]);
    let p = err("space ~ ENG");
    assert_eq!(p.suggestion.as_deref(), Some("="));
    let p = err("text = deploy");
    assert_eq!(p.suggestion.as_deref(), Some("~"));
    assert_eq!(
        err("created ~ 2024-01-01").kind,
        ProblemKind::OperatorNotAllowed
    );
    assert_eq!(
        err("created in (2024-01-01)").kind,
        ProblemKind::OperatorNotAllowed
    );
    assert_eq!(err("type > page").kind, ProblemKind::OperatorNotAllowed);
}

#[test]
fn functions_must_fit_field_operator_and_arguments() {
    let q = "label = now()";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::FunctionNotAllowed);
    assert_eq!(at(q, &p), "now()");
    let p = err("creator = nowish()");
    assert_eq!(p.kind, ProblemKind::UnknownFunction);
    let p = err("created > nwo()");
    assert_eq!(p.suggestion.as_deref(), Some("now()"));
    // currentUser() takes = and != on Cloud, also IN on Server/DC.
    assert_eq!(
        err("creator in (currentUser())").kind,
        ProblemKind::FunctionNotAllowed
    );
    assert!(!has_errors(&validate(
        "creator in (currentUser())",
        DataCenter
    )));
    assert_eq!(
        err("space = favouriteSpaces()").kind,
        ProblemKind::FunctionNotAllowed
    );
    assert_eq!(
        err("space = currentSpace()").kind,
        ProblemKind::FunctionNotAllowed
    );
    assert!(!has_errors(&validate("space = currentSpace()", DataCenter)));
    let q = "created > now(\"-4q\")";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::BadIncrement);
    assert_eq!(at(q, &p), "\"-4q\"");
    assert_eq!(
        err("created > now(\"-1d\", \"2d\")").kind,
        ProblemKind::BadArguments
    );
    assert_eq!(
        err("creator = currentUser(x)").kind,
        ProblemKind::BadArguments
    );
    assert_eq!(
        err("id in (recentlyViewedContent(a))").kind,
        ProblemKind::BadArguments
    );
}

#[test]
fn dates_in_the_four_forms_only() {
    let q = "created > \"2026-05-12T09:00:00.000Z\"";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::BadDate);
    assert!(p.message.contains("\"yyyy/MM/dd HH:mm\""), "{}", p.message);
    assert_eq!(p.suggestion.as_deref(), Some("\"2026-05-12 09:00\""));
    assert_eq!(p.expected.len(), 4);
    assert_eq!(err("created > yesterday").kind, ProblemKind::BadDate);
    assert_eq!(err("created > 2024-13-01").kind, ProblemKind::BadDate);
}

#[test]
fn leading_negation_is_refused() {
    for q in [
        "NOT type = page",
        "type != page",
        "title !~ x",
        "space NOT IN (A)",
        "(NOT label = x) AND type = page",
        "type != page AND space = A",
    ] {
        assert_eq!(err(q).kind, ProblemKind::NegativeFirst, "{q}");
    }
    // Negations after a positive clause are fine.
    ok("type = page AND NOT label = x AND space != A");
}

#[test]
fn empty_values_lists_and_queries() {
    assert_eq!(err("title = \"\"").kind, ProblemKind::EmptyValue);
    let p = err("siteSearch ~ \"\"");
    assert_eq!(p.kind, ProblemKind::EmptyValue);
    assert!(p.message.contains("500"), "{}", p.message);
    let q = "space in ()";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::EmptyList);
    assert_eq!(at(q, &p), ")");
    assert_eq!(err("").kind, ProblemKind::EmptyQuery);
    assert_eq!(err("   ").kind, ProblemKind::EmptyQuery);
    assert_eq!(err("   ").message, "cql query parameter is required");
}

#[test]
fn syntax_errors_have_a_position_and_what_was_expected() {
    // Unbalanced parentheses, both ways.
    let q = "type = page and (space = A";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::Syntax);
    assert_eq!((p.start, p.end), (26, 26));
    assert!(p.message.contains("never closed"), "{}", p.message);
    // Counted from 1, as an editor's column: the `(` is the 17th character.
    assert!(
        p.message
            .contains("the '(' at character 17 is never closed"),
        "{}",
        p.message
    );
    assert_eq!(p.suggestion.as_deref(), Some("add ')'"));
    assert_eq!(
        p.describe(),
        format!("{} (at character 27)", p.message),
        "the problem itself is at the end of the query"
    );
    let q = "type = page)";
    let p = err(q);
    assert_eq!(at(q, &p), ")");
    assert!(p.message.contains("unbalanced"), "{}", p.message);
    // Unbalanced quotes.
    let q = "title = \"abc";
    let p = err(q);
    assert_eq!(at(q, &p), "\"abc");
    assert_eq!(p.suggestion.as_deref(), Some("\"abc\""));
    // A dangling connective.
    let q = "type = page and";
    let p = err(q);
    assert_eq!((p.start, p.end), (15, 15));
    assert!(p.message.contains("expected a field"), "{}", p.message);
    assert!(
        p.message.ends_with("found the end of the query"),
        "{}",
        p.message
    );
    // A missing value.
    let q = "type = and space = A";
    let p = err(q);
    assert_eq!(p.kind, ProblemKind::ReservedWord);
    assert_eq!(at(q, &p), "and");
    assert_eq!(p.suggestion.as_deref(), Some("\"and\""));
    // A missing operator.
    let q = "type page";
    let p = err(q);
    assert_eq!(at(q, &p), "page");
    assert!(p.expected.contains(&"=".to_owned()) && p.expected.contains(&"NOT IN".to_owned()));
    // Two clauses without a connective.
    let q = "type = page space = A";
    let p = err(q);
    assert_eq!(at(q, &p), "space");
    assert_eq!(p.expected, ["AND", "OR", "ORDER BY"]);
    // A reserved character, a lone `!`.
    let q = "title = a;b";
    let p = err(q);
    assert_eq!(at(q, &p), ";");
    assert!(p.message.contains("quoted"), "{}", p.message);
    let q = "title ! x";
    assert_eq!(at(q, &err(q)), "!");
    // `IN` without a list, an unclosed list.
    assert_eq!(
        err("space in A").suggestion.as_deref(),
        Some("IN (\"value\", ...)")
    );
    // The grammar wants the list's parentheses even around a single function.
    let p = err("space in favouriteSpaces()");
    assert_eq!(p.suggestion.as_deref(), Some("IN (favouriteSpaces())"));
    assert!(err("space in (A, B").message.contains("',' or ')'"));
    assert!(err("space in (A,)").message.contains("expected a value"));
    // An unclosed function call.
    assert!(
        err("created > now(\"-1d\"")
            .message
            .contains("closing 'now('")
    );
}

#[test]
fn positions_count_utf16_units() {
    // "é" is one UTF-16 unit, "𝄞" two.
    let q = "title = \"é𝄞\" and statu = x";
    let p = err(q);
    assert_eq!(at(q, &p), "statu");
    assert_eq!(p.start, 18);
    assert_eq!(p.end, 23);
}

#[test]
fn several_problems_are_all_reported() {
    let q = "type = pgae and label > x and created > tomorrow";
    let problems = validate(q, Cloud);
    let kinds: Vec<ProblemKind> = problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::BadValue,
            ProblemKind::OperatorNotAllowed,
            ProblemKind::BadDate
        ]
    );
}

#[test]
fn warnings_do_not_invalidate() {
    let problems = validate("space.type = knowledge_base", Cloud);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].severity, Severity::Warning);
    let problems = validate("ancestor = Home", Cloud);
    assert_eq!(problems[0].severity, Severity::Warning);
    assert!(!has_errors(&problems));
}

#[test]
fn highlighting_tokens() {
    let q = "type = page AND space in (\"A\", B) AND created > now(\"-1d\") ORDER BY title DESC";
    let kinds: Vec<(TokenKind, &str)> = tokens(q)
        .into_iter()
        .map(|t| (t.kind, &q[byte_offset(q, t.start)..byte_offset(q, t.end)]))
        .collect();
    use TokenKind::*;
    assert_eq!(
        kinds,
        [
            (Field, "type"),
            (Operator, "="),
            (Value, "page"),
            (Keyword, "AND"),
            (Field, "space"),
            (Keyword, "in"),
            (Punctuation, "("),
            (String, "\"A\""),
            (Punctuation, ","),
            (Value, "B"),
            (Punctuation, ")"),
            (Keyword, "AND"),
            (Field, "created"),
            (Operator, ">"),
            (Function, "now"),
            (Punctuation, "("),
            (String, "\"-1d\""),
            (Punctuation, ")"),
            (Keyword, "ORDER"),
            (Keyword, "BY"),
            (Field, "title"),
            (Keyword, "DESC"),
        ]
    );
    let t = tokens("NOT label = 12 and title = \"open");
    assert_eq!(t[0].kind, Keyword);
    assert_eq!(t[3].kind, Number);
    assert_eq!(t.last().unwrap().kind, Error);
    assert_eq!(tokens("type = a; b")[3].kind, Error);
}

fn labels(q: &str, cursor: usize, ctx: &EditorContext) -> Vec<String> {
    complete(q, cursor as u32, ctx, Cloud)
        .into_iter()
        .map(|c| c.label)
        .collect()
}

#[test]
fn completions_at_the_cursor() {
    let ctx = EditorContext {
        spaces: vec![
            SpaceHint {
                key: "ENG".into(),
                name: "Engineering".into(),
            },
            SpaceHint {
                key: "~ann".into(),
                name: "Ann".into(),
            },
        ],
        labels: vec!["runbook".into(), "release-notes".into()],
    };
    // Fields at the start, filtered by what is typed.
    let all = labels("", 0, &ctx);
    assert!(all.contains(&"type".to_owned()) && all.contains(&"NOT".to_owned()));
    assert_eq!(labels("ty", 2, &ctx), ["type"]);
    assert_eq!(labels("space.t", 7, &ctx), ["space.title", "space.type"]);
    // Operators for the field.
    assert_eq!(labels("label ", 6, &ctx), ["=", "!=", "IN", "NOT IN"]);
    assert!(labels("created ", 8, &ctx).contains(&">=".to_owned()));
    // Values: content types, space keys (quoted when needed), labels, functions.
    assert_eq!(labels("type = bl", 9, &ctx), ["blogpost"]);
    let spaces = complete("space = ", 8, &ctx, Cloud);
    assert_eq!(spaces[0].label, "ENG");
    assert_eq!(spaces[0].detail.as_deref(), Some("Engineering"));
    assert_eq!(spaces[1].insert, "\"~ann\"");
    assert!(labels("space in (", 10, &ctx).contains(&"favouriteSpaces()".to_owned()));
    assert!(!labels("space = ", 8, &ctx).contains(&"favouriteSpaces()".to_owned()));
    assert_eq!(
        labels("type = page and label in (runbook, re", 37, &ctx),
        ["release-notes"]
    );
    assert_eq!(labels("creator = ", 10, &ctx), ["currentUser()"]);
    assert!(labels("created > ", 10, &ctx).contains(&"startOfWeek()".to_owned()));
    // Connectives after a clause, `)` inside parentheses, sort keys.
    assert_eq!(labels("type = page ", 12, &ctx), ["AND", "OR", "ORDER BY"]);
    assert_eq!(labels("(type = page ", 13, &ctx), ["AND", "OR", ")"]);
    assert_eq!(labels("type = page order by ", 21, &ctx).len(), 7);
    assert_eq!(
        labels("type = page order by title ", 27, &ctx),
        ["DESC", "ASC", ","]
    );
    // The replaced range is the word being typed.
    let c = &complete("type = page and spa = x", 19, &ctx, Cloud)[0];
    assert_eq!((c.start, c.end), (16, 19));
    // Inside a quoted value.
    assert_eq!(labels("space = \"EN", 11, &ctx), ["ENG"]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn cql_like() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                "type",
                "=",
                "page",
                "and",
                "or",
                "not",
                "(",
                ")",
                "in",
                "space",
                "\"ENG\"",
                ",",
                "created",
                ">",
                "now(\"-1d\")",
                "order",
                "by",
                "desc",
                "~",
                "!=",
                "'x'",
                "label",
                "title",
                "\"",
                "\\",
                "startOfWeek(",
                "NOT IN",
                "ancestor",
                "123",
                "!~",
                "<=",
                "é",
                "𝄞",
                ";",
                "!",
                "currentUser()",
                "2024-01-01",
                "lastmodified",
                "siteSearch",
                "\"\"",
                "favouriteSpaces()",
                "blogpost",
                "status",
                "asc",
            ]),
            0..18,
        )
        .prop_map(|parts| parts.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,120}", cursor in 0u32..130) {
            let _ = validate(&s, Cloud);
            let _ = validate(&s, DataCenter);
            let _ = tokens(&s);
            let _ = complete(&s, cursor, &EditorContext::default(), Cloud);
        }

        #[test]
        fn never_panics_on_cql_like_text(s in cql_like(), cursor in 0u32..200) {
            let problems = validate(&s, Cloud);
            let len = s.encode_utf16().count() as u32;
            for p in &problems {
                prop_assert!(p.start <= p.end && p.end <= len, "{s:?}: {p:?}");
            }
            let toks = tokens(&s);
            for w in toks.windows(2) {
                prop_assert!(w[0].end <= w[1].start);
            }
            let _ = complete(&s, cursor, &EditorContext::default(), Cloud);
        }

        /// What we accept, the simulator (which follows Confluence) accepts: a query that
        /// passes offline validation does not fail the sync.
        #[test]
        fn accepted_queries_are_accepted_by_the_simulator(s in cql_like()) {
            if !has_errors(&validate(&s, Cloud)) {
                let theirs = confluence_sim::cql::parse(&s, confluence_sim::Flavor::Cloud);
                prop_assert!(theirs.is_ok(), "{s:?}: {theirs:?}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let q = format!("{}type = page{}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(err(&q).kind, ProblemKind::Syntax);
        let q = format!("{}type = page", "not ".repeat(5000));
        assert!(has_errors(&validate(&q, Cloud)));
    }
}

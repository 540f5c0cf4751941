//! Basic rules (the reference's `test_basic_rule.py` edge cases), rule-set files and offline
//! validation.

use serde_json::{Value, json};

use super::*;
use crate::confluence::Flavor;

fn rule(id: &str, order: f64, policy: Policy, field: &str, op: BasicOp, value: &str) -> BasicRule {
    BasicRule {
        id: id.into(),
        order,
        policy,
        field: field.into(),
        rule: op,
        value: value.into(),
    }
}

fn include(field: &str, op: BasicOp, value: &str) -> BasicRule {
    rule("r", 1.0, Policy::Include, field, op, value)
}

/// Whether a single include rule matches `doc` (the reference's `BasicRule.matches`).
fn matches(r: BasicRule, doc: Value) -> bool {
    let filter = BasicFilter::new(&[r]).unwrap();
    filter.decide(&doc).rule.is_some()
}

use BasicOp::*;

#[test]
fn string_operators_work_on_the_value_as_text() {
    let doc = json!({"title": "Release notes 2024", "size": 1024, "flag": true});
    assert!(matches(
        include("title", StartsWith, "Release"),
        doc.clone()
    ));
    assert!(!matches(
        include("title", StartsWith, "release"),
        doc.clone()
    ));
    assert!(matches(include("title", EndsWith, "2024"), doc.clone()));
    assert!(matches(include("title", Contains, "notes"), doc.clone()));
    assert!(matches(include("size", StartsWith, "10"), doc.clone()));
    assert!(matches(include("flag", Equals, "yes"), doc.clone()));
    // Python's `str(True)`.
    assert!(matches(include("flag", StartsWith, "Tr"), doc.clone()));
}

#[test]
fn regex_is_anchored_at_the_start_like_re_match() {
    let doc = json!({"title": "abc-123"});
    assert!(matches(include("title", Regex, "abc"), doc.clone()));
    assert!(matches(include("title", Regex, "[a-c]+-\\d+"), doc.clone()));
    assert!(!matches(include("title", Regex, "123"), doc.clone()));
    assert!(matches(include("title", Regex, ".*123"), doc.clone()));
    assert!(matches(include("title", Regex, "a|x"), doc.clone()));
    assert!(!matches(include("title", Regex, "x|1"), doc));
}

#[test]
fn a_missing_field_never_matches() {
    assert!(!matches(
        include("author", Equals, "Ann"),
        json!({"title": "x"})
    ));
    assert!(!matches(
        include("author", Contains, ""),
        json!({"author": null})
    ));
    // `_id` reads the document id.
    assert!(matches(include("_id", Equals, "42"), json!({"id": "42"})));
}

#[test]
fn values_are_coerced_to_the_document_value_type() {
    // Numbers: the rule value is parsed as a float.
    assert!(matches(include("size", Equals, "1"), json!({"size": 1})));
    assert!(matches(include("size", Equals, "1.0"), json!({"size": 1})));
    assert!(matches(include("size", LessThan, "10"), json!({"size": 5})));
    assert!(!matches(
        include("size", LessThan, "10"),
        json!({"size": 50})
    ));
    assert!(matches(
        include("size", GreaterThan, "1.5"),
        json!({"size": 2})
    ));
    assert!(matches(
        include("size", GreaterThan, "-1"),
        json!({"size": 0})
    ));
    // Strings compare as strings: "9" > "10".
    assert!(matches(
        include("version", GreaterThan, "10"),
        json!({"version": "9"})
    ));
    // Booleans: true/t/yes/y/on and false/f/no/n/off (empty is false).
    for yes in ["true", "T", "yes", "y", "on", "1"] {
        assert!(
            matches(include("flag", Equals, yes), json!({"flag": true})),
            "{yes}"
        );
    }
    for no in ["false", "f", "NO", "n", "off", "0"] {
        assert!(
            matches(include("flag", Equals, no), json!({"flag": false})),
            "{no}"
        );
    }
    // A failed coercion compares as a string: never equal to a number or a boolean, and no
    // order between them (the reference raises a TypeError there).
    assert!(!matches(include("size", Equals, "big"), json!({"size": 1})));
    assert!(!matches(
        include("size", LessThan, "big"),
        json!({"size": 1})
    ));
    assert!(!matches(
        include("flag", Equals, "maybe"),
        json!({"flag": true})
    ));
    assert_eq!(
        basic::coerce("big", &json!(1)),
        basic::Coerced::Str("big".into())
    );
    assert_eq!(basic::coerce("2.5", &json!(1)), basic::Coerced::Number(2.5));
    assert_eq!(
        basic::coerce("on", &json!(false)),
        basic::Coerced::Bool(true)
    );
    assert_eq!(
        basic::coerce("x", &json!([1])),
        basic::Coerced::Str("x".into())
    );
}

#[test]
fn dates_compare_as_dates_with_date_only_at_midnight() {
    let doc =
        json!({"_timestamp": "2024-03-01T09:30:00.000Z", "createdDate": "2023-12-31T23:59:00Z"});
    assert!(matches(
        include("_timestamp", GreaterThan, "2024-03-01"),
        doc.clone()
    ));
    assert!(matches(
        include("_timestamp", LessThan, "2024-03-02"),
        doc.clone()
    ));
    assert!(!matches(
        include("_timestamp", LessThan, "2024-03-01"),
        doc.clone()
    ));
    assert!(matches(
        include("createdDate", LessThan, "2024-01-01"),
        doc.clone()
    ));
    assert!(matches(
        include("_timestamp", GreaterThan, "2024-03-01T09:00:00+00:00"),
        doc.clone()
    ));
    // Equal instants in other spellings are equal; a date alone is midnight.
    assert!(matches(
        include("_timestamp", Equals, "2024-03-01T09:30:00Z"),
        doc.clone()
    ));
    assert!(!matches(include("_timestamp", Equals, "2024-03-01"), doc));
}

#[test]
fn list_values_match_when_one_item_does() {
    let doc = json!({"labels": ["draft", "ops"], "ancestors": [{"title": "Home"}, {"title": "Runbooks"}]});
    assert!(matches(include("labels", Equals, "ops"), doc.clone()));
    assert!(!matches(include("labels", Equals, "dev"), doc.clone()));
    assert!(matches(
        include("ancestors", Equals, "Runbooks"),
        doc.clone()
    ));
    assert!(matches(include("ancestors", StartsWith, "Run"), doc));
    assert!(!matches(
        include("labels", Equals, "ops"),
        json!({"labels": []})
    ));
}

#[test]
fn the_first_matching_rule_by_order_decides_and_no_match_includes() {
    let rules = vec![
        // Out of order on purpose: evaluation sorts by `order`.
        rule(
            "keep-runbooks",
            2.0,
            Policy::Include,
            "title",
            Contains,
            "Runbook",
        ),
        rule(
            "drop-eng",
            5.0,
            Policy::Exclude,
            "space",
            Equals,
            "Engineering",
        ),
        rule(
            "drop-drafts",
            1.0,
            Policy::Exclude,
            "title",
            StartsWith,
            "Draft",
        ),
        BasicRule::default_rule(),
    ];
    let filter = BasicFilter::new(&rules).unwrap();
    let ids: Vec<&str> = filter.rules().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["drop-drafts", "keep-runbooks", "drop-eng"],
        "DEFAULT removed, sorted"
    );
    let eng = |title: &str| json!({"title": title, "space": "Engineering"});
    assert!(
        !filter.admit_source(&eng("Draft Runbook")),
        "order 1 wins over order 2"
    );
    assert!(
        filter.admit_source(&eng("Runbook: deploy")),
        "include before the exclude"
    );
    assert!(!filter.admit_source(&eng("Roadmap")));
    assert!(
        filter.admit_source(&json!({"title": "Roadmap", "space": "Sales"})),
        "default include"
    );
    assert!(
        filter.admit_source(&json!({})),
        "no field, no match: included"
    );
    assert_eq!(filter.filtered(), 2);
    assert_eq!(filter.kept(), 3);
    let counts: Vec<(String, u64)> = filter
        .matches()
        .into_iter()
        .map(|m| (m.rule_id, m.matched))
        .collect();
    assert_eq!(
        counts,
        [
            ("drop-drafts".into(), 1),
            ("keep-runbooks".into(), 1),
            ("drop-eng".into(), 1)
        ]
    );
}

#[test]
fn only_the_default_rule_filters_nothing() {
    let set = RuleSet {
        basic: vec![BasicRule::default_rule()],
        advanced: vec![],
    };
    assert!(set.is_empty());
    assert!(set.basic_filter().unwrap().is_none());
    assert!(
        validate_offline(&set, Flavor::Cloud).valid,
        "the default rule may use `.*`"
    );
}

#[test]
fn the_reference_validators() {
    // No match-all regex outside the default rule.
    for value in [".*", "(.*)"] {
        let problems = basic::validate(&[include("title", Regex, value)]);
        assert_eq!(problems.len(), 1, "{value}");
        assert!(
            problems[0].message.contains("matches every document"),
            "{}",
            problems[0].message
        );
        assert!(!problems[0].message.contains("rule `r`"), "no internal id");
    }
    assert!(basic::validate(&[include("title", Regex, ".*x")]).is_empty());
    // Semantic duplicates: same field, rule and value, whatever the policy: both invalid.
    let problems = basic::validate(&[
        rule("a", 1.0, Policy::Include, "type", Equals, "page"),
        rule("b", 2.0, Policy::Exclude, "type", Equals, "page"),
        rule("c", 3.0, Policy::Exclude, "type", Equals, "blogpost"),
    ]);
    let ids: Vec<&str> = problems
        .iter()
        .filter_map(|p| p.rule_id.as_deref())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(
        problems[0].message,
        "rules 1 and 2 test the same field, comparison and value: only the first can ever decide; remove one of them"
    );
    // Ours: an invalid regex is reported before a sync, in one line, without the regex
    // library's report of the anchored pattern.
    let problems = basic::validate(&[include("title", Regex, "(unclosed")]);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].message,
        "the value \u{201c}(unclosed\u{201d} is not a valid regular expression: unclosed group"
    );
    assert!(BasicFilter::new(&[include("title", Regex, "(unclosed")]).is_err());
}

#[test]
fn basic_problems_name_the_rule_by_its_row_and_the_part_in_words() {
    // Stored out of order, with the default rule first: the rows follow `order`, default last.
    let set = RuleSet {
        basic: vec![
            BasicRule::default_rule(),
            rule("rule-x9k2", 2.0, Policy::Exclude, "title", Equals, ""),
            rule("rule-a1b2", 1.0, Policy::Include, "", Equals, "page"),
        ],
        advanced: vec![],
    };
    assert_eq!(basic::positions(&set.basic), [2, 1, 0]);
    let v = validate_offline(&set, Flavor::Cloud);
    let found: Vec<(Option<u32>, Option<&str>, &str)> = v
        .problems
        .iter()
        .map(|p| (p.index, p.rule_id.as_deref(), p.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                Some(1),
                Some("rule-x9k2"),
                "the value is empty: enter what the field is compared with"
            ),
            (
                Some(0),
                Some("rule-a1b2"),
                "the field is empty: name the document field to test, such as type, title or space"
            ),
        ]
    );
}

#[test]
fn the_reference_schema() {
    let good = json!({"id": "1", "order": 1, "policy": "INCLUDE", "field": "title", "rule": "Equals", "value": "x"});
    let r = BasicRule::from_json(&good).unwrap();
    assert_eq!((r.policy, r.rule), (Policy::Include, Equals));
    assert_eq!(BasicRule::from_json(&json!({"id": "1", "order": 2.5, "policy": "exclude", "field": "size", "rule": ">", "value": "10"})).unwrap().rule, GreaterThan);
    let bad = |patch: Value| {
        let mut v = good.clone();
        for (k, x) in patch.as_object().unwrap() {
            if x.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = x.clone();
            }
        }
        BasicRule::from_json(&v).unwrap_err()
    };
    assert!(bad(json!({"id": ""}))[0].contains("`id`"));
    assert!(bad(json!({"field": ""}))[0].contains("`field`"));
    assert!(bad(json!({"value": ""}))[0].contains("`value`"));
    assert!(bad(json!({"policy": "keep"}))[0].contains("`policy`"));
    assert!(bad(json!({"rule": "greater_than"}))[0].contains("`rule`"));
    assert!(bad(json!({"order": null}))[0].contains("`order`"));
    assert!(bad(json!({"order": "1"}))[0].contains("`order`"));
    assert!(bad(json!({"value": 5}))[0].contains("`value`"));
    assert_eq!(
        bad(json!({"id": "", "value": ""})).len(),
        2,
        "every problem"
    );
    assert!(BasicRule::from_json(&json!("x")).is_err());
}

#[test]
fn rule_files_in_every_shape() {
    let ours = r#"{"basic": [{"id": "a", "order": 1, "policy": "exclude", "field": "type", "rule": "equals", "value": "comment"}],
                   "advanced": [{"query": "space = ENG"}]}"#;
    let set = RuleSet::from_json(ours).unwrap();
    assert_eq!((set.basic.len(), set.advanced.len()), (1, 1));
    // Round trip through our own serialisation.
    assert_eq!(RuleSet::from_value(&set.recorded()).unwrap(), set);
    // Elastic's filtering object, also with active/draft and as Kibana's list.
    let elastic = json!({"rules": [BasicRule::default_rule()], "advanced_snippet": {"value": [{"query": "type = page"}]}});
    let set = RuleSet::from_value(&elastic).unwrap();
    assert_eq!((set.basic.len(), set.advanced.len()), (1, 1));
    let wrapped = json!({"filtering": [{"domain": "DEFAULT", "active": elastic.clone(), "draft": {"rules": [], "advanced_snippet": {"value": {}}}}]});
    assert_eq!(
        RuleSet::from_value(&wrapped).unwrap().advanced[0].query,
        "type = page"
    );
    // A bare list of advanced rules, or of basic rules.
    assert_eq!(
        RuleSet::from_json(r#"[{"query": "space = A"}]"#)
            .unwrap()
            .advanced
            .len(),
        1
    );
    assert_eq!(
        RuleSet::from_value(&json!([BasicRule::default_rule()]))
            .unwrap()
            .basic
            .len(),
        1
    );
    // Kibana's empty snippet.
    assert!(
        RuleSet::from_value(&json!({"rules": [], "advanced_snippet": {"value": {}}}))
            .unwrap()
            .is_empty()
    );
    // Schema problems, all of them, with where they are.
    let problems = RuleSet::from_json(
        r#"{"basic": [{"id": "x"}], "advanced": [{"query": ""}, {"queries": "a"}]}"#,
    )
    .unwrap_err();
    assert!(
        problems
            .iter()
            .filter(|p| p.kind == RuleKind::Basic)
            .count()
            >= 5
    );
    let advanced: Vec<Option<u32>> = problems
        .iter()
        .filter(|p| p.kind == RuleKind::Advanced)
        .map(|p| p.index)
        .collect();
    assert_eq!(advanced, [Some(0), Some(1), Some(1)]);
    assert!(RuleSet::from_json("not json").is_err());
    assert!(RuleSet::from_json(r#"{"advanced": {"query": "x"}}"#).is_err());
}

#[test]
fn offline_validation_locates_cql_problems_per_rule() {
    let set = RuleSet {
        basic: vec![include("title", Regex, ".*")],
        advanced: vec![
            AdvancedRule {
                query: "space = ENG".into(),
            },
            AdvancedRule {
                query: "type = page and status = current".into(),
            },
        ],
    };
    let v = validate_offline(&set, Flavor::Cloud);
    assert!(!v.valid);
    assert_eq!(v.problems.len(), 2);
    let cql = v
        .problems
        .iter()
        .find(|p| p.kind == RuleKind::Advanced)
        .unwrap();
    assert_eq!(cql.index, Some(1));
    assert_eq!(cql.cql.as_ref().unwrap().start, 16);
    assert!(
        describe(cql).starts_with("advanced rule 2: No field exists"),
        "{}",
        describe(cql)
    );
    assert!(
        describe(cql).ends_with("(at character 17)") && !describe(cql).contains("position"),
        "{}",
        describe(cql)
    );
    // A sync refuses the set before crawling.
    assert!(matches!(
        sync_filter(Some(&set), Flavor::Cloud),
        Err(crate::Error::InvalidInput(_))
    ));
    assert!(sync_filter(None, Flavor::Cloud).unwrap().is_none());
}

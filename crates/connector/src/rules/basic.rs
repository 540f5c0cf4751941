//! Basic sync rules, with the semantics of Elastic's framework (`connectors/filtering/basic_rule.py`):
//! rules sorted by `order`, the `DEFAULT` rule set aside, the first rule that matches decides
//! (include keeps the document, exclude drops it), and a document no rule matches is included.
//!
//! Matching: a missing field never matches; `starts_with`, `ends_with`, `contains` and `regex`
//! (anchored at the start, like Python's `re.match`) work on the document value as a string;
//! `equals`, `<` and `>` compare with the rule value coerced to the document value's type
//! (string, boolean, number; a failed coercion compares as a string).
//!
//! Deliberate improvements on the reference, each tested: a string document value that is an
//! ISO date compares with `<`/`>` as a date when the rule value is a date; a list value (labels,
//! ancestors) matches when one of its items matches; a comparison that cannot be made is no
//! match instead of an exception; an invalid regex is a validation error instead of a failed sync.

use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::document::Document;

/// The id of Kibana's catch-all rule, which evaluation skips.
pub const DEFAULT_RULE_ID: &str = "DEFAULT";

/// Keep or drop what a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Keep the document.
    Include,
    /// Drop the document.
    Exclude,
}

/// How a rule compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum BasicOp {
    /// The coerced values are equal.
    #[serde(rename = "equals")]
    Equals,
    /// The value as text contains the rule value.
    #[serde(rename = "contains")]
    Contains,
    /// The value as text starts with the rule value.
    #[serde(rename = "starts_with")]
    StartsWith,
    /// The value as text ends with the rule value.
    #[serde(rename = "ends_with")]
    EndsWith,
    /// The rule value, a regular expression, matches at the start of the value as text.
    #[serde(rename = "regex")]
    Regex,
    /// The value is less than the coerced rule value.
    #[serde(rename = "<")]
    LessThan,
    /// The value is greater than the coerced rule value.
    #[serde(rename = ">")]
    GreaterThan,
}

impl BasicOp {
    /// The spelling in rules.
    pub fn as_str(self) -> &'static str {
        match self {
            BasicOp::Equals => "equals",
            BasicOp::Contains => "contains",
            BasicOp::StartsWith => "starts_with",
            BasicOp::EndsWith => "ends_with",
            BasicOp::Regex => "regex",
            BasicOp::LessThan => "<",
            BasicOp::GreaterThan => ">",
        }
    }

    /// Parses a spelling, case-insensitively, as the reference does (`greater_than` is refused).
    pub fn parse(s: &str) -> Option<BasicOp> {
        Some(match s.to_lowercase().as_str() {
            "equals" => BasicOp::Equals,
            "contains" => BasicOp::Contains,
            "starts_with" => BasicOp::StartsWith,
            "ends_with" => BasicOp::EndsWith,
            "regex" => BasicOp::Regex,
            "<" => BasicOp::LessThan,
            ">" => BasicOp::GreaterThan,
            _ => return None,
        })
    }
}

impl Policy {
    /// Parses `include`/`exclude` in any case.
    pub fn parse(s: &str) -> Option<Policy> {
        match s.to_lowercase().as_str() {
            "include" => Some(Policy::Include),
            "exclude" => Some(Policy::Exclude),
            _ => None,
        }
    }
}

/// One basic rule, with the reference's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BasicRule {
    /// Rule id (`DEFAULT` is the catch-all include).
    pub id: String,
    /// Evaluation order, ascending.
    pub order: f64,
    /// Keep or drop.
    pub policy: Policy,
    /// A top-level document field: `type`, `space`, `title`, `size`, `author`, ...
    pub field: String,
    /// The comparison.
    pub rule: BasicOp,
    /// The value compared with.
    pub value: String,
}

impl BasicRule {
    /// Whether this is the catch-all `DEFAULT` rule.
    pub fn is_default(&self) -> bool {
        self.id == DEFAULT_RULE_ID
    }

    /// Kibana's catch-all rule.
    pub fn default_rule() -> BasicRule {
        BasicRule {
            id: DEFAULT_RULE_ID.to_owned(),
            order: 0.0,
            policy: Policy::Include,
            field: "_".to_owned(),
            rule: BasicOp::Regex,
            value: ".*".to_owned(),
        }
    }

    /// Reads a rule from JSON, checking it against the reference's schema; every problem of
    /// the rule is returned.
    pub fn from_json(v: &Value) -> Result<BasicRule, Vec<String>> {
        let Some(obj) = v.as_object() else {
            return Err(vec!["a basic rule must be a JSON object".to_owned()]);
        };
        let mut problems = Vec::new();
        let mut text = |key: &str| match obj.get(key) {
            None => {
                problems.push(format!("`{key}` is required"));
                None
            }
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) => {
                problems.push(format!("`{key}` must not be empty"));
                None
            }
            Some(_) => {
                problems.push(format!("`{key}` must be a string"));
                None
            }
        };
        let id = text("id");
        let field = text("field");
        let value = text("value");
        let policy = text("policy");
        let rule = text("rule");
        let policy = policy.and_then(|p| {
            Policy::parse(&p).or_else(|| {
                problems.push(format!(
                    "`policy` must be `include` or `exclude`, got `{p}`"
                ));
                None
            })
        });
        let rule = rule.and_then(|r| {
            BasicOp::parse(&r).or_else(|| {
                problems.push(format!(
                    "`rule` must be one of equals, contains, starts_with, ends_with, regex, <, >; got `{r}`"
                ));
                None
            })
        });
        let order = match obj.get("order") {
            None => {
                problems.push("`order` is required".to_owned());
                None
            }
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => {
                problems.push("`order` must be a number".to_owned());
                None
            }
        };
        match (id, order, policy, field, rule, value) {
            (Some(id), Some(order), Some(policy), Some(field), Some(rule), Some(value))
                if problems.is_empty() =>
            {
                Ok(BasicRule {
                    id,
                    order,
                    policy,
                    field,
                    rule,
                    value,
                })
            }
            _ => Err(problems),
        }
    }
}

impl std::fmt::Display for BasicRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rule `{}` ({:?} {} {} `{}`)",
            self.id,
            self.policy,
            self.field,
            self.rule.as_str(),
            self.value
        )
    }
}

/// The regular expressions that match everything (refused outside the default rule).
pub const MATCH_ALL_REGEXES: &[&str] = &[".*", "(.*)"];

/// A problem of one basic rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicProblem {
    /// The rule's position in evaluation order, from 0: its row in the app's table (rules
    /// sorted by `order`, the default rule last).
    pub index: usize,
    /// The rule's id, when it has one.
    pub rule_id: Option<String>,
    /// What is wrong, in an admin's words: the part of the rule (field, comparison, value)
    /// and what to do; never the rule's internal id.
    pub message: String,
}

/// Each rule's position in evaluation order (sorted by `order`, stable; the default rule
/// last), by its index in `rules`.
pub fn positions(rules: &[BasicRule]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by(|&a, &b| {
        (rules[a].is_default(), rules[a].order)
            .partial_cmp(&(rules[b].is_default(), rules[b].order))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut position = vec![0; rules.len()];
    for (rank, index) in order.into_iter().enumerate() {
        position[index] = rank;
    }
    position
}

/// Why a regular expression does not compile, in one line (the regex library's own report
/// spans lines and points into the anchored pattern the engine builds).
fn regex_reason(err: &regex::Error) -> String {
    match err {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("error:"))
            .map(|l| l.trim().to_owned())
            .unwrap_or_else(|| "it is not valid syntax".to_owned()),
        regex::Error::CompiledTooBig(_) => "it is too large".to_owned(),
        _ => "it is not valid syntax".to_owned(),
    }
}

/// The reference's validators, in its order: the schema of each rule, no match-all regex
/// (except in the default rule), no two rules with the same field, rule and value. We add: a
/// regex must compile.
pub fn validate(rules: &[BasicRule]) -> Vec<BasicProblem> {
    let position = positions(rules);
    let mut problems = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let mut problem = |message: String| {
            problems.push(BasicProblem {
                index: position[index],
                rule_id: Some(rule.id.clone()),
                message,
            })
        };
        if rule.id.is_empty() {
            problem("the rule has no id: delete it and add it again".to_owned());
        }
        if rule.field.is_empty() {
            problem(
                "the field is empty: name the document field to test, such as type, title or space"
                    .to_owned(),
            );
        }
        if rule.value.is_empty() {
            problem("the value is empty: enter what the field is compared with".to_owned());
        }
        if rule.rule == BasicOp::Regex && !rule.is_default() {
            if MATCH_ALL_REGEXES.contains(&rule.value.as_str()) {
                problem(format!(
                    "the value \u{201c}{}\u{201d} matches every document, which a rule may not do: \
                     documents no rule matches are included anyway",
                    rule.value
                ));
            } else if let Err(err) = compile(&rule.value) {
                problem(format!(
                    "the value \u{201c}{}\u{201d} is not a valid regular expression: {}",
                    rule.value,
                    regex_reason(&err)
                ));
            }
        }
    }
    for (i, a) in rules.iter().enumerate() {
        for (j, b) in rules.iter().enumerate() {
            if i != j && a.field == b.field && a.rule == b.rule && a.value == b.value {
                problems.push(BasicProblem {
                    index: position[i],
                    rule_id: Some(a.id.clone()),
                    message: format!(
                        "rules {} and {} test the same field, comparison and value: \
                         only the first can ever decide; remove one of them",
                        position[i].min(position[j]) + 1,
                        position[i].max(position[j]) + 1
                    ),
                });
                break;
            }
        }
    }
    problems
}

fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})"))
}

/// Per-rule counts of a filter: how many documents each rule decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RuleMatches {
    /// The rule id.
    pub rule_id: String,
    /// Its policy.
    pub policy: Policy,
    /// Documents it matched first (and so decided).
    #[ts(type = "number")]
    pub matched: u64,
}

/// The basic rules, ready to decide documents, with match counters (thread-safe).
#[derive(Debug)]
pub struct BasicFilter {
    rules: Vec<(BasicRule, Option<Regex>)>,
    matched: Vec<AtomicU64>,
    included: AtomicU64,
    excluded: AtomicU64,
}

/// What the filter decided for a document, and which rule (index in sorted order) decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Keep it.
    pub include: bool,
    /// The deciding rule, `None` when no rule matched (default include).
    pub rule: Option<usize>,
}

impl BasicFilter {
    /// The filter of `rules`: the default rule removed, sorted by `order` (stable). Invalid
    /// regexes are refused.
    pub fn new(rules: &[BasicRule]) -> Result<BasicFilter, String> {
        let mut sorted: Vec<BasicRule> =
            rules.iter().filter(|r| !r.is_default()).cloned().collect();
        sorted.sort_by(|a, b| a.order.total_cmp(&b.order));
        let rules = sorted
            .into_iter()
            .map(|r| {
                let regex = match r.rule {
                    BasicOp::Regex => Some(compile(&r.value).map_err(|e| {
                        format!(
                            "{r}: \u{201c}{}\u{201d} is not a valid regular expression: {}",
                            r.value,
                            regex_reason(&e)
                        )
                    })?),
                    _ => None,
                };
                Ok((r, regex))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(BasicFilter {
            matched: rules.iter().map(|_| AtomicU64::new(0)).collect(),
            rules,
            included: AtomicU64::new(0),
            excluded: AtomicU64::new(0),
        })
    }

    /// True when there is no rule to apply.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules in evaluation order.
    pub fn rules(&self) -> impl Iterator<Item = &BasicRule> {
        self.rules.iter().map(|(r, _)| r)
    }

    /// Decides a document given as its JSON source, without counting.
    pub fn decide(&self, doc: &Value) -> Decision {
        for (i, (rule, regex)) in self.rules.iter().enumerate() {
            if matches(rule, regex.as_ref(), doc) {
                return Decision {
                    include: rule.policy == Policy::Include,
                    rule: Some(i),
                };
            }
        }
        Decision {
            include: true,
            rule: None,
        }
    }

    /// Decides a document and counts the decision.
    pub fn admit_source(&self, doc: &Value) -> bool {
        let decision = self.decide(doc);
        if let Some(i) = decision.rule {
            self.matched[i].fetch_add(1, Ordering::Relaxed);
        }
        let counter = if decision.include {
            &self.included
        } else {
            &self.excluded
        };
        counter.fetch_add(1, Ordering::Relaxed);
        decision.include
    }

    /// True when the rules exclude `doc` whatever its text turns out to be: a rule on a field
    /// that is known before the download decides it first. False when it is kept, or when a
    /// rule on a field that only the download and extraction fill (`body`,
    /// `extraction_note`) or that is set afterwards (`_allow_access_control`) comes first.
    /// Counts nothing: the writer decides (and counts) the document again.
    pub fn excludes_before_download(&self, doc: &Document) -> bool {
        const LATER: [&str; 3] = ["body", "extraction_note", "_allow_access_control"];
        if self.is_empty() {
            return false;
        }
        let source = doc.to_source();
        for (rule, regex) in &self.rules {
            if LATER.contains(&rule.field.as_str()) {
                return false;
            }
            if matches(rule, regex.as_ref(), &source) {
                return rule.policy == Policy::Exclude;
            }
        }
        false
    }

    /// Decides an index document and counts the decision.
    pub fn admit(&self, doc: &Document) -> bool {
        self.is_empty() || self.admit_source(&doc.to_source())
    }

    /// Documents dropped so far.
    pub fn filtered(&self) -> u64 {
        self.excluded.load(Ordering::Relaxed)
    }

    /// Documents kept so far.
    pub fn kept(&self) -> u64 {
        self.included.load(Ordering::Relaxed)
    }

    /// How many documents each rule decided, in evaluation order.
    pub fn matches(&self) -> Vec<RuleMatches> {
        self.rules
            .iter()
            .zip(&self.matched)
            .map(|((r, _), n)| RuleMatches {
                rule_id: r.id.clone(),
                policy: r.policy,
                matched: n.load(Ordering::Relaxed),
            })
            .collect()
    }
}

/// The field's value; `_id` reads `id`.
fn field<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    let v = doc
        .get(name)
        .or_else(|| (name == "_id").then(|| doc.get("id")).flatten())?;
    (!v.is_null()).then_some(v)
}

fn matches(rule: &BasicRule, regex: Option<&Regex>, doc: &Value) -> bool {
    let Some(value) = field(doc, &rule.field) else {
        return false;
    };
    match value {
        Value::Array(items) => items.iter().any(|item| {
            let item = match item {
                // `ancestors` holds objects with a title.
                Value::Object(o) => o.get("title").unwrap_or(item),
                other => other,
            };
            matches_value(rule, regex, item)
        }),
        other => matches_value(rule, regex, other),
    }
}

/// Python's `str()` of a JSON value.
fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

/// The rule value coerced to the type of the document value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Coerced {
    Str(String),
    Bool(bool),
    Number(f64),
}

/// The reference's `str_to_bool`, strict: unknown words fail.
fn str_to_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

pub(crate) fn coerce(rule_value: &str, doc_value: &Value) -> Coerced {
    let fallback = || Coerced::Str(rule_value.to_owned());
    match doc_value {
        Value::Bool(_) => str_to_bool(rule_value).map_or_else(fallback, Coerced::Bool),
        Value::Number(_) => rule_value
            .trim()
            .parse::<f64>()
            .map_or_else(|_| fallback(), Coerced::Number),
        _ => fallback(),
    }
}

/// A date or date-time string as milliseconds since the epoch (date-only is midnight UTC).
fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, format) {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
        }
    }
    None
}

fn matches_value(rule: &BasicRule, regex: Option<&Regex>, value: &Value) -> bool {
    let text = python_str(value);
    match rule.rule {
        BasicOp::StartsWith => text.starts_with(&rule.value),
        BasicOp::EndsWith => text.ends_with(&rule.value),
        BasicOp::Contains => text.contains(&rule.value),
        BasicOp::Regex => regex.is_some_and(|r| r.is_match(&text)),
        BasicOp::Equals => match (coerce(&rule.value, value), value) {
            (Coerced::Str(s), Value::String(v)) => {
                *v == s
                    || matches!((parse_date(v), parse_date(&s)), (Some(a), Some(b)) if a == b && v.contains(['T', ' ']))
            }
            (Coerced::Str(_), _) => false,
            (Coerced::Bool(b), Value::Bool(v)) => *v == b,
            (Coerced::Number(n), Value::Number(v)) => v.as_f64() == Some(n),
            _ => false,
        },
        BasicOp::LessThan | BasicOp::GreaterThan => {
            let ordering = match (coerce(&rule.value, value), value) {
                (Coerced::Number(n), Value::Number(v)) => {
                    v.as_f64().and_then(|v| v.partial_cmp(&n))
                }
                (Coerced::Bool(b), Value::Bool(v)) => Some(v.cmp(&b)),
                (Coerced::Str(s), Value::String(v)) => match (parse_date(v), parse_date(&s)) {
                    (Some(a), Some(b)) => Some(a.cmp(&b)),
                    _ => Some(v.as_str().cmp(s.as_str())),
                },
                _ => None,
            };
            match (rule.rule, ordering) {
                (BasicOp::LessThan, Some(o)) => o.is_lt(),
                (BasicOp::GreaterThan, Some(o)) => o.is_gt(),
                _ => false,
            }
        }
    }
}

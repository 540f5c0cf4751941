//! Sync rules: what a sync indexes.
//!
//! - **Basic rules** ([`basic`]): ordered include/exclude rules on document fields, with the
//!   reference's semantics and validators. They filter every document before it is written;
//!   filtered documents are counted as `skipped`, and those indexed before leave the index at
//!   the next full sync (they are not seen).
//! - **Advanced rules** ([`advanced`]): a list of CQL queries. When set, they replace the
//!   standard crawl ([`execute`]): each query's results are indexed with the standard path's
//!   document schema, full bodies and attachment text, duplicates across queries removed.
//! - **CQL** ([`cql`]): our own parser and checker, for offline validation with positions and
//!   suggestions, and the editor's tokens and completions.
//! - **Preview** ([`preview`]): a draft rule set's count and first matches, per rule.
//!
//! A [`RuleSet`] holds both kinds; [`validate_offline`] checks it without a network, and
//! [`validate_remote`] runs each query once with `limit=1`. Rule sets are stored per connection
//! with a draft and an active version (`Store::save_draft_rules`, `Store::activate_rules`).

pub mod advanced;
pub mod basic;
pub mod cql;
pub mod editor_context;
pub mod preview;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

pub use advanced::AdvancedRule;
pub use basic::{BasicFilter, BasicOp, BasicRule, Policy, RuleMatches};
pub use editor_context::editor_context;
pub use preview::{Preview, PreviewItem, PreviewOptions, RulePreview, preview};

use crate::config::Severity;
use crate::confluence::{ClientError, ConfluenceClient, Flavor};

/// A set of sync rules: basic rules and advanced (CQL) rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct RuleSet {
    /// Basic rules, in any order (they are sorted by `order`).
    #[serde(default)]
    pub basic: Vec<BasicRule>,
    /// Advanced rules; when non-empty they replace the standard crawl.
    #[serde(default)]
    pub advanced: Vec<AdvancedRule>,
}

/// Which part of a rule set a problem belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A basic rule.
    Basic,
    /// An advanced (CQL) rule.
    Advanced,
    /// The file or set as a whole.
    Set,
}

/// One problem of a rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RuleProblem {
    /// Basic, advanced, or the whole set.
    pub kind: RuleKind,
    /// The rule's position in its list.
    pub index: Option<u32>,
    /// A basic rule's id.
    pub rule_id: Option<String>,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// For an advanced rule: the located CQL problem.
    pub cql: Option<cql::CqlProblem>,
}

/// The outcome of validating a rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RuleValidation {
    /// No errors (warnings allowed).
    pub valid: bool,
    /// Every problem found.
    pub problems: Vec<RuleProblem>,
}

impl RuleValidation {
    fn from(problems: Vec<RuleProblem>) -> RuleValidation {
        RuleValidation {
            valid: !problems.iter().any(|p| p.severity == Severity::Error),
            problems,
        }
    }
}

fn set_problem(message: impl Into<String>) -> RuleProblem {
    RuleProblem {
        kind: RuleKind::Set,
        index: None,
        rule_id: None,
        severity: Severity::Error,
        message: message.into(),
        cql: None,
    }
}

impl RuleSet {
    /// True when the set changes nothing (no rule besides the default).
    pub fn is_empty(&self) -> bool {
        self.advanced.is_empty() && self.basic.iter().all(BasicRule::is_default)
    }

    /// True when advanced rules replace the standard crawl.
    pub fn has_advanced(&self) -> bool {
        !self.advanced.is_empty()
    }

    /// The basic filter, or `None` when no basic rule applies.
    pub fn basic_filter(&self) -> Result<Option<BasicFilter>, String> {
        let filter = BasicFilter::new(&self.basic)?;
        Ok((!filter.is_empty()).then_some(filter))
    }

    /// Reads rules from JSON text in any of these shapes:
    /// - ours: `{"basic": [...], "advanced": [...]}`;
    /// - Elastic's filtering: `{"rules": [...], "advanced_snippet": {"value": [...]}}`, also
    ///   inside `{"active": ...}`/`{"draft": ...}` or a `filtering` list (the active one is read);
    /// - a bare list of advanced rules (`[{"query": ...}]`) or of basic rules.
    ///
    /// Schema problems (the reference's JSON-schema validators) are returned, all of them.
    pub fn from_json(text: &str) -> Result<RuleSet, Vec<RuleProblem>> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| vec![set_problem(format!("not valid JSON: {e}"))])?;
        RuleSet::from_value(&v)
    }

    /// As [`RuleSet::from_json`], from a parsed value.
    pub fn from_value(v: &Value) -> Result<RuleSet, Vec<RuleProblem>> {
        let v = unwrap_filtering(v);
        let (basic, advanced) = match v {
            // A list of basic rules when every item looks like one, else of advanced rules.
            Value::Array(items)
                if !items.is_empty()
                    && items.iter().all(|i| {
                        ["policy", "rule", "field", "order"]
                            .iter()
                            .any(|k| i.get(k).is_some())
                    }) =>
            {
                (v, &Value::Null)
            }
            Value::Array(_) => (&Value::Null, v),
            Value::Object(o) if o.contains_key("basic") || o.contains_key("advanced") => (
                o.get("basic").unwrap_or(&Value::Null),
                o.get("advanced").unwrap_or(&Value::Null),
            ),
            Value::Object(o) if o.contains_key("rules") || o.contains_key("advanced_snippet") => (
                o.get("rules").unwrap_or(&Value::Null),
                o.get("advanced_snippet")
                    .map(|s| s.get("value").unwrap_or(&Value::Null))
                    .unwrap_or(&Value::Null),
            ),
            _ => {
                return Err(vec![set_problem(
                    "expected rules: {\"basic\": [...], \"advanced\": [...]}, Elastic's filtering object, or a list of rules",
                )]);
            }
        };
        let mut problems = Vec::new();
        let mut set = RuleSet::default();
        match basic {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match BasicRule::from_json(item) {
                        Ok(rule) => set.basic.push(rule),
                        Err(messages) => {
                            problems.extend(messages.into_iter().map(|message| RuleProblem {
                                kind: RuleKind::Basic,
                                index: Some(i as u32),
                                rule_id: item.get("id").and_then(Value::as_str).map(str::to_owned),
                                severity: Severity::Error,
                                message,
                                cql: None,
                            }))
                        }
                    }
                }
            }
            _ => problems.push(set_problem("basic rules must be a JSON array")),
        }
        match advanced::from_json(advanced) {
            Ok(rules) => set.advanced = rules,
            Err(errs) => problems.extend(errs.into_iter().map(|(index, message)| RuleProblem {
                kind: RuleKind::Advanced,
                index: index.map(|i| i as u32),
                rule_id: None,
                severity: Severity::Error,
                message,
                cql: None,
            })),
        }
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(problems)
        }
    }

    /// The rules as recorded on a sync job.
    pub fn recorded(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn unwrap_filtering(v: &Value) -> &Value {
    match v {
        Value::Object(o) if o.contains_key("filtering") => unwrap_filtering(&o["filtering"]),
        Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.get("active").is_some() || i.get("draft").is_some()) =>
        {
            unwrap_filtering(&items[0])
        }
        Value::Object(o) if o.contains_key("active") => unwrap_filtering(&o["active"]),
        Value::Object(o) if o.contains_key("draft") && !o.contains_key("rules") => {
            unwrap_filtering(&o["draft"])
        }
        other => other,
    }
}

/// Validates a rule set offline: the basic validators and every CQL query against our parser
/// for `flavor`.
pub fn validate_offline(rules: &RuleSet, flavor: Flavor) -> RuleValidation {
    let mut problems: Vec<RuleProblem> = basic::validate(&rules.basic)
        .into_iter()
        .map(|p| RuleProblem {
            kind: RuleKind::Basic,
            index: Some(p.index as u32),
            rule_id: p.rule_id,
            severity: Severity::Error,
            message: p.message,
            cql: None,
        })
        .collect();
    for (i, rule) in rules.advanced.iter().enumerate() {
        for p in cql::validate(&rule.query, flavor) {
            problems.push(RuleProblem {
                kind: RuleKind::Advanced,
                index: Some(i as u32),
                rule_id: None,
                severity: p.severity,
                message: p.describe(),
                cql: Some(p),
            });
        }
    }
    RuleValidation::from(problems)
}

/// Offline validation, then each valid query run once against Confluence with `limit=1`;
/// Confluence's refusals are reported per rule (kind `remote`). Connection failures are
/// errors of the call, not of the rules.
pub async fn validate_remote(
    rules: &RuleSet,
    client: &ConfluenceClient,
) -> Result<RuleValidation, ClientError> {
    let offline = validate_offline(rules, client.flavor());
    let mut problems = offline.problems;
    for (i, rule) in rules.advanced.iter().enumerate() {
        let broken = problems.iter().any(|p| {
            p.kind == RuleKind::Advanced
                && p.index == Some(i as u32)
                && p.severity == Severity::Error
        });
        if broken {
            continue;
        }
        let mut pager = client.search_cql(&rule.query, 1)?;
        match pager.next_page().await {
            Ok(_) => {}
            Err(ClientError::BadRequest { message, .. }) => problems.push(RuleProblem {
                kind: RuleKind::Advanced,
                index: Some(i as u32),
                rule_id: None,
                severity: Severity::Error,
                message: format!("Confluence refused the query: {message}"),
                cql: Some(cql::CqlProblem {
                    kind: cql::ProblemKind::Remote,
                    severity: Severity::Error,
                    start: 0,
                    end: rule.query.encode_utf16().count() as u32,
                    message,
                    expected: Vec::new(),
                    suggestion: None,
                }),
            }),
            Err(ClientError::Server { status, .. }) => problems.push(RuleProblem {
                kind: RuleKind::Advanced,
                index: Some(i as u32),
                rule_id: None,
                severity: Severity::Error,
                message: format!("Confluence failed on the query (HTTP {status})"),
                cql: None,
            }),
            Err(other) => return Err(other),
        }
    }
    problems.sort_by_key(|p| (p.kind != RuleKind::Basic, p.index));
    Ok(RuleValidation::from(problems))
}

/// The checks a sync runs on its rules before it crawls anything (an invalid rule set fails
/// the job and deletes nothing), and the basic filter its writer applies.
pub(crate) fn sync_filter(
    rules: Option<&RuleSet>,
    flavor: Flavor,
) -> crate::Result<Option<std::sync::Arc<BasicFilter>>> {
    let Some(rules) = rules else {
        return Ok(None);
    };
    let validation = validate_offline(rules, flavor);
    if !validation.valid {
        let errors: Vec<String> = validation
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(describe)
            .collect();
        return Err(crate::Error::InvalidInput(format!(
            "invalid sync rules: {}",
            errors.join("; ")
        )));
    }
    rules
        .basic_filter()
        .map(|f| f.map(std::sync::Arc::new))
        .map_err(crate::Error::InvalidInput)
}

/// A problem in one line: which rule, then what.
pub fn describe(p: &RuleProblem) -> String {
    let which = match (p.kind, p.index, &p.rule_id) {
        (RuleKind::Basic, _, Some(id)) => format!("basic rule `{id}`"),
        (RuleKind::Basic, Some(i), None) => format!("basic rule {}", i + 1),
        (RuleKind::Advanced, Some(i), _) => format!("advanced rule {}", i + 1),
        _ => "rules".to_owned(),
    };
    format!("{which}: {}", p.message)
}

/// Validates a connection's draft offline and makes it the active version; an invalid draft
/// is refused with its problems.
pub fn activate_draft(
    store: &mut crate::Store,
    connection_id: &str,
    flavor: Flavor,
) -> crate::Result<crate::store::StoredRules> {
    let draft = store
        .rules(connection_id, crate::store::RuleState::Draft)?
        .ok_or_else(|| {
            crate::Error::NotFound(format!("a draft of the rules of `{connection_id}`"))
        })?;
    let validation = validate_offline(&draft.rules, flavor);
    if !validation.valid {
        let errors: Vec<String> = validation.problems.iter().map(describe).collect();
        return Err(crate::Error::InvalidInput(format!(
            "the draft rules are invalid: {}",
            errors.join("; ")
        )));
    }
    store.activate_rules(connection_id)
}

#[cfg(test)]
mod tests;

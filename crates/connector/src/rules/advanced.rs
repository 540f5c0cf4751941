//! Advanced rules: a JSON list of `{"query": "<CQL>"}`, the reference's schema
//! (`connectors/sources/atlassian.py`, `AtlassianAdvancedRulesValidator`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// One advanced rule: a CQL query whose results are indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AdvancedRule {
    /// The CQL.
    pub query: String,
}

/// Reads an advanced snippet: an empty value (`[]`, `{}` or `null`) or an array of objects
/// each with exactly one non-empty string `query`. Every problem is returned, with the index
/// of the rule it belongs to.
pub fn from_json(v: &Value) -> Result<Vec<AdvancedRule>, Vec<(Option<usize>, String)>> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Object(o) if o.is_empty() => Ok(Vec::new()),
        Value::Array(items) => {
            let mut rules = Vec::new();
            let mut problems = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let Some(obj) = item.as_object() else {
                    problems.push((
                        Some(i),
                        "an advanced rule must be an object `{\"query\": \"<CQL>\"}`".to_owned(),
                    ));
                    continue;
                };
                for key in obj.keys().filter(|k| *k != "query") {
                    problems.push((
                        Some(i),
                        format!("unknown key `{key}`: an advanced rule has only `query`"),
                    ));
                }
                match obj.get("query") {
                    None => problems.push((Some(i), "`query` is required".to_owned())),
                    Some(Value::String(q)) if q.is_empty() => {
                        problems.push((Some(i), "`query` must not be empty".to_owned()))
                    }
                    Some(Value::String(q)) => rules.push(AdvancedRule { query: q.clone() }),
                    Some(_) => problems.push((Some(i), "`query` must be a string".to_owned())),
                }
            }
            if problems.is_empty() {
                Ok(rules)
            } else {
                Err(problems)
            }
        }
        _ => Err(vec![(
            None,
            "advanced rules must be a JSON array of `{\"query\": \"<CQL>\"}` objects".to_owned(),
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The reference's `test_atlassian.py` cases.
    #[test]
    fn the_reference_schema_cases() {
        assert_eq!(from_json(&json!([])), Ok(vec![]));
        assert_eq!(from_json(&json!({})), Ok(vec![]));
        assert_eq!(
            from_json(&json!([{"query": "space = DEV"}])).map(|r| r.len()),
            Ok(1)
        );
        assert_eq!(
            from_json(&json!([{"query": "space = DEV"}, {"query": "created >= now('-5w')"}]))
                .map(|r| r.len()),
            Ok(2)
        );
        assert!(from_json(&json!([{"query": ""}])).is_err());
        assert!(from_json(&json!([{"queries": "space = DEV"}])).is_err());
        assert!(from_json(&json!({"query": "space = DEV"})).is_err());
        assert!(from_json(&json!([{"query": "a", "extra": 1}])).is_err());
        assert!(from_json(&json!([{"query": 5}])).is_err());
        assert!(from_json(&json!(["space = DEV"])).is_err());
    }
}

//! Identity documents: one per user, in the reference's shape (`_id`, `identity`, `created_at`,
//! `query.template` with `params.access_control` and the search template).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

/// The reference's search template: documents without `_allow_access_control`, or whose
/// `_allow_access_control` shares an identity with the user's `access_control`.
pub const SEARCH_TEMPLATE: &str = r#"{"bool":{"should":[{"bool":{"must_not":{"exists":{"field":"_allow_access_control"}}}},{"terms":{"_allow_access_control.keyword":{{#toJson}}access_control{{/toJson}}}}]}}"#;

/// One user's identity document, before it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IdentityDoc {
    /// `_id`: Cloud account id, Data Center user key, Server user key (else name).
    pub id: String,
    /// The user's name for people: username (Server/DC) or display name (Cloud).
    pub name: String,
    /// The `identity` object: field name to prefixed value.
    pub identity: BTreeMap<String, String>,
    /// `query.template.params.access_control`: the identities the user holds, sorted.
    pub access_control: Vec<String>,
}

/// The JSON body of an identity document (the reference's fields, in its order); the user id is
/// the document's `_id` and, as the reference's framework adds it, its `id` field.
pub fn identity_doc_body(doc: &IdentityDoc, created_at: &str) -> Value {
    json!({
        "id": doc.id,
        "identity": doc.identity,
        "created_at": created_at,
        "query": {
            "template": {
                "params": { "access_control": doc.access_control },
                "source": SEARCH_TEMPLATE
            }
        }
    })
}

/// The identities of an identity document body (`query.template.params.access_control`).
pub fn access_control_of(body: &Value) -> Vec<String> {
    body["query"]["template"]["params"]["access_control"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Whether `needle` names the user of identity document `(id, body)`: its id, or one of its
/// identity values with or without the prefix (case-insensitive), e.g. `ann.lee`,
/// `name:Ann-Lee`, `ann@example.com`.
pub fn names_user(id: &str, body: &Value, needle: &str) -> bool {
    if id == needle {
        return true;
    }
    let needle = needle.to_lowercase();
    let hit = |value: &str| {
        let value = value.to_lowercase();
        value == needle
            || value
                .split_once(':')
                .is_some_and(|(_, v)| v == needle || v.replace('-', " ") == needle)
    };
    body["identity"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str())
        .any(hit)
        || access_control_of(body)
            .iter()
            .filter(|i| !super::Dialect::is_group(i))
            .any(|i| hit(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_has_the_reference_shape_and_renders_as_json() {
        let doc = IdentityDoc {
            id: "5b10".into(),
            name: "Ann Lee".into(),
            identity: [
                ("account_id".to_owned(), "account_id:5b10".to_owned()),
                ("display_name".to_owned(), "name:Ann-Lee".to_owned()),
            ]
            .into_iter()
            .collect(),
            access_control: vec!["account_id:5b10".into(), "group_id:g1".into()],
        };
        let body = identity_doc_body(&doc, "2026-01-01T00:00:00Z");
        assert_eq!(body["id"], "5b10");
        assert_eq!(body["query"]["template"]["source"], SEARCH_TEMPLATE);
        assert_eq!(access_control_of(&body), doc.access_control);
        // The template is valid JSON once mustache renders the list.
        let rendered = SEARCH_TEMPLATE.replace(
            "{{#toJson}}access_control{{/toJson}}",
            &serde_json::to_string(&doc.access_control).unwrap(),
        );
        let query: Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(
            query["bool"]["should"][1]["terms"]["_allow_access_control.keyword"][1],
            "group_id:g1"
        );
        assert!(names_user("5b10", &body, "5b10"));
        assert!(names_user("5b10", &body, "ann lee"));
        assert!(names_user("5b10", &body, "account_id:5b10"));
        assert!(!names_user("5b10", &body, "g1"));
    }
}

//! The explicit index mappings: the content index and its `.search-acl-filter-<index>` companion.
//!
//! The content mapping keeps the reference connector's field names (so existing search
//! applications keep working) and adds ours (`space_key`, `ancestor_ids`, `parent_id`, ...).
//! `dynamic` is `false`: fields outside the mapping stay in `_source` but are not indexed, so an
//! unexpected field can never make a document fail, nor grow the mapping without bound.

use serde_json::{Value, json};

/// Text fields that also carry a `keyword` subfield, so they can be filtered on exactly.
const TEXT_WITH_KEYWORD: &[&str] = &[
    "title",
    "space",
    "author",
    "last_modifier",
    "page",
    "blogpost",
    "ancestors.title",
];

/// A text field with a `keyword` subfield for exact filters, sorting and aggregations.
fn text_with_keyword() -> Value {
    json!({ "type": "text", "fields": { "keyword": { "type": "keyword", "ignore_above": 1024 } } })
}

/// The mapping of the content index (the value of the `mappings` key of a create-index body).
pub fn content_mapping() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "id": { "type": "keyword" },
            "type": { "type": "keyword" },
            "title": text_with_keyword(),
            "body": { "type": "text" },
            "url": { "type": "keyword", "ignore_above": 4096 },
            "space": text_with_keyword(),
            "space_key": { "type": "keyword" },
            "key": { "type": "keyword" },
            "ancestors": {
                "type": "object",
                "properties": { "title": text_with_keyword() }
            },
            "ancestor_ids": { "type": "keyword" },
            "parent_id": { "type": "keyword" },
            "labels": {
                "type": "keyword",
                "fields": { "text": { "type": "text" } }
            },
            "author": text_with_keyword(),
            "last_modifier": text_with_keyword(),
            "createdDate": { "type": "date" },
            "_timestamp": { "type": "date" },
            "size": { "type": "long" },
            "version": { "type": "integer" },
            "status": { "type": "keyword" },
            "extension": { "type": "keyword" },
            "media_type": { "type": "keyword" },
            "page": text_with_keyword(),
            "blogpost": text_with_keyword(),
            "comments": { "type": "text" },
            // A keyword, plus a `keyword` subfield: the reference's identity-document search
            // template queries `_allow_access_control.keyword`, our own queries the field itself,
            // and both must match the same identities.
            "_allow_access_control": {
                "type": "keyword",
                "fields": { "keyword": { "type": "keyword" } }
            }
        }
    })
}

/// The mapping of the `.search-acl-filter-<index>` identity documents: `identity` (prefixed
/// identity strings, as keywords), `created_at`, and `query` (the search template, stored but
/// not indexed).
pub fn acl_filter_mapping() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "id": { "type": "keyword" },
            "_timestamp": { "type": "date" },
            "created_at": { "type": "date" },
            "identity": {
                "type": "object",
                "dynamic": true,
                "properties": {
                    "account_id": { "type": "keyword" },
                    "username": { "type": "keyword" },
                    "display_name": { "type": "keyword" },
                    "email_address": { "type": "keyword" },
                    "locale": { "type": "keyword" }
                }
            },
            "query": { "type": "object", "enabled": false }
        },
        "dynamic_templates": [{
            "identity_strings": {
                "path_match": "identity.*",
                "match_mapping_type": "string",
                "mapping": { "type": "keyword" }
            }
        }]
    })
}

/// The name of the identity-document index that belongs to content index `index`.
pub fn acl_filter_index_name(index: &str) -> String {
    format!(".search-acl-filter-{index}")
}

/// The field an exact filter on `field` must query: the `keyword` subfield of a text field, the
/// field itself otherwise.
pub fn filter_field(field: &str) -> String {
    if TEXT_WITH_KEYWORD.contains(&field) {
        format!("{field}.keyword")
    } else {
        field.to_owned()
    }
}

/// The fields free text is matched against, with their boosts.
pub const SEARCH_FIELDS: &[&str] = &[
    "title^3",
    "body",
    "labels.text^2",
    "space",
    "comments",
    "ancestors.title",
    "key",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_are_filtered_on_their_keyword_subfield() {
        assert_eq!(filter_field("space"), "space.keyword");
        assert_eq!(filter_field("space_key"), "space_key");
        assert_eq!(filter_field("type"), "type");
        for field in TEXT_WITH_KEYWORD {
            let path: Vec<&str> = field.split('.').collect();
            let mapping = content_mapping();
            let mut node = &mapping["properties"];
            for (i, part) in path.iter().enumerate() {
                node = &node[part];
                if i + 1 < path.len() {
                    node = &node["properties"];
                }
            }
            assert_eq!(node["fields"]["keyword"]["type"], "keyword", "{field}");
        }
    }

    #[test]
    fn acl_query_is_stored_but_not_indexed() {
        assert_eq!(
            acl_filter_mapping()["properties"]["query"]["enabled"],
            false
        );
        assert_eq!(
            acl_filter_index_name("search-confluence"),
            ".search-acl-filter-search-confluence"
        );
    }
}

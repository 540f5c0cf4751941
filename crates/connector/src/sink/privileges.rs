//! What the connector needs on an Elasticsearch cluster, derived from every API the sink calls,
//! and the least-privilege role and API-key request an admin pastes into Kibana's console.
//!
//! | request | privilege |
//! | --- | --- |
//! | `GET /` (version, Test connection) | cluster `monitor` |
//! | `GET /_ingest/pipeline/<pipeline>` (Test connection, only with a pipeline) | cluster `read_pipeline` |
//! | `HEAD /<index>`, `GET /_alias/<index>`, `GET /<index>-*/_mapping` | `view_index_metadata` |
//! | `PUT /<index>` (create with the mapping) | `create_index` |
//! | `POST /_bulk` index and update (access lists, identity upserts) | `index` |
//! | `POST /_bulk` delete | `delete` |
//! | `_search`, `_count`, `_mget`, `_search/template`, `_reindex` source | `read` |
//! | `POST /<index>/_refresh` | `maintenance` |
//! | `PUT /<index>/_settings`, `POST /_aliases`, `DELETE /<index>` (alias swap, settings) | `manage` |
//!
//! `POST /_security/user/_has_privileges` (Test connection) needs no privilege.

use serde_json::{Value, json};

use super::EsOptions;
use super::mapping::acl_filter_index_name;

/// The privileges of one group of indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPrivileges {
    /// Index names or patterns.
    pub names: Vec<String>,
    /// Index privileges.
    pub privileges: Vec<&'static str>,
}

/// Everything the connector needs on the cluster with given options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privileges {
    /// The content index name (the alias with the alias swap).
    pub index: String,
    /// Cluster privileges.
    pub cluster: Vec<&'static str>,
    /// Index privileges: the content index (and its rebuilt copies), then the identity index.
    pub indices: Vec<IndexPrivileges>,
}

/// What the sink with `options` calls, as privileges (see the module documentation).
pub fn needed_privileges(options: &EsOptions) -> Privileges {
    let index = options.index.trim().to_owned();
    let mut cluster = vec!["monitor"];
    if options.pipeline.is_some() {
        cluster.push("read_pipeline");
    }
    let base = [
        "create_index",
        "index",
        "delete",
        "read",
        "view_index_metadata",
        "maintenance",
    ];
    let mut content = base.to_vec();
    if options.alias_swap || options.settings.changes_existing() {
        content.push("manage");
    }
    let mut names = vec![index.clone()];
    if options.alias_swap {
        names.push(format!("{index}-*"));
    }
    Privileges {
        cluster,
        indices: vec![
            IndexPrivileges {
                names,
                privileges: content,
            },
            IndexPrivileges {
                names: vec![acl_filter_index_name(&index)],
                privileges: base.to_vec(),
            },
        ],
        index,
    }
}

impl Privileges {
    /// The role's name: `confluence-connector-<index>`.
    pub fn role_name(&self) -> String {
        format!("confluence-connector-{}", self.index)
    }

    /// The role descriptor (`cluster` and `indices`), as `PUT /_security/role` and the API-key
    /// request's `role_descriptors` take it.
    pub fn role_descriptor(&self) -> Value {
        json!({
            "cluster": self.cluster,
            "indices": self.indices.iter().map(|group| json!({
                "names": group.names,
                "privileges": group.privileges,
            })).collect::<Vec<_>>(),
        })
    }

    /// The body of `POST /_security/user/_has_privileges` that checks all of them.
    pub fn has_privileges_body(&self) -> Value {
        json!({
            "cluster": self.cluster,
            "index": self.indices.iter().map(|group| json!({
                "names": group.names,
                "privileges": group.privileges,
            })).collect::<Vec<_>>(),
        })
    }

    /// The `POST /_security/api_key` request, ready to paste into Kibana's console.
    pub fn api_key_request(&self) -> String {
        let body = json!({
            "name": self.role_name(),
            "role_descriptors": { self.role_name(): self.role_descriptor() },
            "metadata": { "application": "confluence-connector", "index": self.index },
        });
        format!(
            "POST /_security/api_key\n{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        )
    }

    /// The `PUT /_security/role/<name>` request, for a user that signs in with a password.
    pub fn role_request(&self) -> String {
        format!(
            "PUT /_security/role/{}\n{}",
            self.role_name(),
            serde_json::to_string_pretty(&self.role_descriptor()).unwrap_or_default()
        )
    }

    /// Both requests with what to do with them, as Kibana's console takes them (`#` comments).
    pub fn console(&self) -> String {
        format!(
            "# Least-privilege access for the Confluence connector writing `{index}`.\n\
             # Paste into Kibana > Dev Tools > Console and run. Enter the answer's `encoded` value\n\
             # as the connection's \"Elasticsearch API key\".\n\
             {api_key}\n\n\
             # Or, for a user that signs in with a password: this role, then give it to the user\n\
             # (Stack Management > Users).\n\
             {role}\n",
            index = self.index,
            api_key = self.api_key_request(),
            role = self.role_request(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_target_needs_no_manage_and_no_pattern() {
        let privileges = needed_privileges(&EsOptions::new("https://es:9200", "search-wiki"));
        assert_eq!(privileges.cluster, ["monitor"]);
        assert_eq!(privileges.indices[0].names, ["search-wiki"]);
        assert!(!privileges.indices[0].privileges.contains(&"manage"));
        assert!(privileges.indices[0].privileges.contains(&"maintenance"));
        assert_eq!(
            privileges.indices[1].names,
            [".search-acl-filter-search-wiki"]
        );
    }

    #[test]
    fn the_alias_swap_and_a_pipeline_add_what_they_call() {
        let mut options = EsOptions::new("https://es:9200", "search-wiki");
        options.alias_swap = true;
        options.pipeline = Some("search-default-ingestion".into());
        let privileges = needed_privileges(&options);
        assert_eq!(privileges.cluster, ["monitor", "read_pipeline"]);
        assert_eq!(
            privileges.indices[0].names,
            ["search-wiki", "search-wiki-*"]
        );
        assert!(privileges.indices[0].privileges.contains(&"manage"));
        assert!(!privileges.indices[1].privileges.contains(&"manage"));
    }

    #[test]
    fn the_console_text_is_two_requests_with_json_bodies() {
        let text = needed_privileges(&EsOptions::new("https://es:9200", "search-wiki")).console();
        let mut requests = Vec::new();
        let mut current: Option<(String, String)> = None;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            if line.starts_with("POST ") || line.starts_with("PUT ") {
                requests.extend(current.take());
                current = Some((line.to_owned(), String::new()));
            } else if let Some((_, body)) = &mut current {
                body.push_str(line);
                body.push('\n');
            }
        }
        requests.extend(current);
        assert_eq!(requests.len(), 2, "{text}");
        assert_eq!(requests[0].0, "POST /_security/api_key");
        let key: Value = serde_json::from_str(&requests[0].1).unwrap();
        let role = &key["role_descriptors"]["confluence-connector-search-wiki"];
        assert_eq!(role["cluster"], json!(["monitor"]));
        assert_eq!(
            role["indices"][1]["names"],
            json!([".search-acl-filter-search-wiki"])
        );
        assert_eq!(
            requests[1].0,
            "PUT /_security/role/confluence-connector-search-wiki"
        );
        let role_body: Value = serde_json::from_str(&requests[1].1).unwrap();
        assert_eq!(&role_body, role);
    }
}

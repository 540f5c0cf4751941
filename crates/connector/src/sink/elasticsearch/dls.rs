//! Document-level security on Elasticsearch: running a user's own search template against the
//! content index, and reading every identity document.

use elasticsearch::http::Method;
use serde_json::{Value, json};

use super::{AclIndex, EsSink};
use crate::Result;

/// Hits per page when listing.
const PAGE: usize = 1000;

impl EsSink {
    /// The ids of every document matched by the query template `source` (a mustache query, e.g.
    /// an identity document's `query.template.source`) rendered with `params`, through
    /// `_search/template`, in id order.
    pub async fn template_search_ids(&self, source: &str, params: &Value) -> Result<Vec<String>> {
        let path = format!("/{}/_search/template", self.index);
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let after_clause = match &after {
                Some(id) => format!(r#","search_after":[{}]"#, Value::String(id.clone())),
                None => String::new(),
            };
            let template = format!(
                r#"{{"size":{PAGE},"_source":false,"sort":[{{"id":"asc"}}]{after_clause},"query":{source}}}"#
            );
            let answer = self
                .client
                .json(
                    Method::Post,
                    &path,
                    Some(json!({ "source": template, "params": params })),
                )
                .await?;
            if answer.is_index_not_found() {
                return Ok(ids);
            }
            if !answer.is_success() {
                return Err(answer.refused(&format!("POST {path}")).into());
            }
            let hits = answer.body["hits"]["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let n = hits.len();
            for hit in hits {
                if let Some(id) = hit["_id"].as_str() {
                    ids.push(id.to_owned());
                }
            }
            if n < PAGE {
                return Ok(ids);
            }
            after = ids.last().cloned();
        }
    }
}

impl AclIndex {
    /// Every identity document as `(id, body)`, in id order.
    pub async fn all(&self) -> Result<Vec<(String, Value)>> {
        let path = format!("/{}/_search", self.index);
        let mut out: Vec<(String, Value)> = Vec::new();
        loop {
            let mut body = json!({ "size": PAGE, "sort": [{ "id": "asc" }] });
            if let Some((last, _)) = out.last() {
                body["search_after"] = json!([last]);
            }
            let answer = self.client.json(Method::Post, &path, Some(body)).await?;
            if answer.is_index_not_found() {
                return Ok(out);
            }
            if !answer.is_success() {
                return Err(answer.refused(&format!("POST {path}")).into());
            }
            let hits = answer.body["hits"]["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let n = hits.len();
            for hit in hits {
                let id = hit["_id"].as_str().unwrap_or_default().to_owned();
                out.push((id, hit["_source"].clone()));
            }
            if n < PAGE {
                return Ok(out);
            }
        }
    }
}

//! [`AclStore`]: where identity documents live, and how a user's own query runs against the
//! content index, for either target.

use std::future::Future;

use serde_json::Value;

use super::identity::access_control_of;
use crate::Result;
use crate::sink::{BulkOutcome, EsSink, LocalIndex, Sink};
use crate::target::AnySink;

/// Identity documents beside a content index: `.search-acl-filter-<index>` on Elasticsearch,
/// a table of the local index's file otherwise.
pub trait AclStore: Send + Sync {
    /// Creates or replaces identity documents `(user id, body)`.
    fn upsert_identities(
        &self,
        docs: Vec<(String, Value)>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send;

    /// Deletes identity documents by user id.
    fn delete_identities(
        &self,
        ids: Vec<String>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send;

    /// Every identity document, `(id, body)`, in id order.
    fn identities(&self) -> impl Future<Output = Result<Vec<(String, Value)>>> + Send;

    /// The ids of the content documents the user of identity document `body` can read, found by
    /// running the user's own query: on Elasticsearch the stored mustache template through
    /// `_search/template`; on the local index the same semantics in SQL.
    fn readable_by(&self, body: &Value) -> impl Future<Output = Result<Vec<String>>> + Send;
}

impl AclStore for EsSink {
    async fn upsert_identities(&self, docs: Vec<(String, Value)>) -> Result<BulkOutcome> {
        let acl = self.acl_index();
        let outcome = acl.upsert(docs).await?;
        acl.refresh().await?;
        Ok(outcome)
    }

    async fn delete_identities(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        let acl = self.acl_index();
        let outcome = acl.delete(ids).await?;
        acl.refresh().await?;
        Ok(outcome)
    }

    async fn identities(&self) -> Result<Vec<(String, Value)>> {
        self.acl_index().all().await
    }

    async fn readable_by(&self, body: &Value) -> Result<Vec<String>> {
        let template = &body["query"]["template"];
        let source = template["source"]
            .as_str()
            .unwrap_or(super::SEARCH_TEMPLATE);
        self.refresh().await?;
        self.template_search_ids(source, &template["params"]).await
    }
}

impl AclStore for LocalIndex {
    async fn upsert_identities(&self, docs: Vec<(String, Value)>) -> Result<BulkOutcome> {
        LocalIndex::upsert_identities(self, docs).await
    }

    async fn delete_identities(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        LocalIndex::delete_identities(self, ids).await
    }

    async fn identities(&self) -> Result<Vec<(String, Value)>> {
        LocalIndex::identities(self).await
    }

    async fn readable_by(&self, body: &Value) -> Result<Vec<String>> {
        self.readable_ids(access_control_of(body)).await
    }
}

impl AclStore for AnySink {
    async fn upsert_identities(&self, docs: Vec<(String, Value)>) -> Result<BulkOutcome> {
        match self {
            AnySink::Local(s) => AclStore::upsert_identities(s, docs).await,
            AnySink::Elasticsearch(s) => AclStore::upsert_identities(s, docs).await,
        }
    }

    async fn delete_identities(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        match self {
            AnySink::Local(s) => AclStore::delete_identities(s, ids).await,
            AnySink::Elasticsearch(s) => AclStore::delete_identities(s, ids).await,
        }
    }

    async fn identities(&self) -> Result<Vec<(String, Value)>> {
        match self {
            AnySink::Local(s) => AclStore::identities(s).await,
            AnySink::Elasticsearch(s) => AclStore::identities(s).await,
        }
    }

    async fn readable_by(&self, body: &Value) -> Result<Vec<String>> {
        match self {
            AnySink::Local(s) => s.readable_by(body).await,
            AnySink::Elasticsearch(s) => s.readable_by(body).await,
        }
    }
}

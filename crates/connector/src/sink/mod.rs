//! Where documents go: Elasticsearch (or OpenSearch), or the embedded local index.
//!
//! Every target implements [`Sink`]; the sync is generic over it and pushes documents through a
//! [`BulkWriter`], which batches them, keeps a few requests in flight and adds up the
//! [`BulkOutcome`]s.
//!
//! - [`EsSink`]: an Elasticsearch or OpenSearch index, created with the explicit
//!   [`mapping::content_mapping`]; [`AclIndex`] is its `.search-acl-filter-<index>` companion.
//! - [`LocalIndex`]: the embedded SQLite FTS5 index for demos and dry runs.

use std::future::Future;

pub mod bulk;
pub mod elasticsearch;
mod es_client;
pub mod local;
pub mod mapping;
mod privileges;

pub use bulk::{BulkOptions, BulkWriter};
pub use elasticsearch::{
    AclIndex, ClusterCheck, EsAuth, EsOptions, EsSink, IndexSettings, PrivilegeCheck, RetryPolicy,
};
pub use local::LocalIndex;
pub use privileges::{Privileges, needed_privileges};

use crate::Result;

/// One document to index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDoc {
    /// The document id (`_id`), always a string.
    pub id: String,
    /// The key of the space the document belongs to, when it belongs to one.
    pub space_key: Option<String>,
    /// The document's `_timestamp` (RFC 3339), used to skip unchanged documents.
    pub timestamp: String,
    /// The full document body, including `_timestamp`, `_allow_access_control` and so on.
    pub source: serde_json::Value,
}

/// What [`Sink::scan`] reports about one indexed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingDoc {
    /// The document id.
    pub id: String,
    /// Its `space_key`, when it has one.
    pub space_key: Option<String>,
    /// Its `_timestamp`, when it has one.
    pub timestamp: Option<String>,
    /// Its `type` (`page`, `comment`, ...), when it has one.
    pub kind: Option<String>,
}

/// The bulk operation an [`ItemError`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOp {
    /// Create or overwrite a document.
    Index,
    /// Create or merge a document (`update` with `doc_as_upsert`).
    Upsert,
    /// Replace the access list of an existing document (`update` with a script; a missing
    /// document is an error, never created).
    SetAccess,
    /// Delete a document.
    Delete,
}

impl BulkOp {
    /// The operation's name in the `_bulk` API.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkOp::Index => "index",
            BulkOp::Upsert | BulkOp::SetAccess => "update",
            BulkOp::Delete => "delete",
        }
    }
}

/// One document the target refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// The document id.
    pub id: String,
    /// The operation that failed.
    pub op: BulkOp,
    /// The item's HTTP status, or `None` when the whole request failed (no item answer at all).
    pub status: Option<u16>,
    /// The target's reason, e.g. `mapper_parsing_exception: failed to parse field [size]`.
    pub reason: String,
}

/// What one or more write or delete requests did, item by item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// Documents that did not exist before.
    pub created: u64,
    /// Documents that existed and were overwritten.
    pub updated: u64,
    /// Documents deleted (a delete of a missing id counts in none of the counters).
    pub deleted: u64,
    /// Items refused, with their reasons.
    pub failed: Vec<ItemError>,
    /// Bytes of document sources sent (the reference's `indexed_document_volume`, before MiB).
    pub bytes: u64,
}

impl BulkOutcome {
    /// Adds `other`'s counters and failures to these.
    pub fn merge(&mut self, other: BulkOutcome) {
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.bytes += other.bytes;
        self.failed.extend(other.failed);
    }
}

/// A search over the content index, as the documents browser and the ACL inspector ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// Free text; empty matches every document.
    pub query: String,
    /// Exact `field = value` filters, all of which must hold, e.g. `("type", "page")`.
    pub filters: Vec<(String, String)>,
    /// How many hits to skip.
    pub from: usize,
    /// How many hits to return.
    pub size: usize,
    /// When `Some`, only documents readable by one of these identities: those whose
    /// `_allow_access_control` shares an identity with the list, and those that have no
    /// `_allow_access_control` at all (the reference's document-level security semantics; an empty
    /// list counts as none, as in Elasticsearch).
    pub access_control: Option<Vec<String>>,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            filters: Vec::new(),
            from: 0,
            size: 10,
            access_control: None,
        }
    }
}

/// One search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The document id.
    pub id: String,
    /// Its relevance score (higher is better; 1.0 when there is no free text to rank by).
    pub score: f32,
    /// The document body.
    pub source: serde_json::Value,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// How many documents match in all.
    pub total: u64,
    /// The hits of this page, best first.
    pub hits: Vec<SearchHit>,
}

/// The callback [`Sink::scan`] hands each page of existing documents to.
pub type ScanVisitor<'a> = dyn FnMut(Vec<ExistingDoc>) -> Result<()> + Send + 'a;

/// A place documents are written to and searched in. Callers are generic over it (`S: Sink`).
pub trait Sink: Send + Sync {
    /// Creates the index with the explicit mapping if it does not exist (idempotent).
    fn prepare(&self) -> impl Future<Output = Result<()>> + Send;

    /// Indexes (creates or overwrites) `docs`; counts created and updated from the item results.
    fn write(&self, docs: Vec<IndexDoc>) -> impl Future<Output = Result<BulkOutcome>> + Send;

    /// Replaces only the `_allow_access_control` of existing documents (`None`: the field is
    /// removed, the document is readable by everyone who can search the index). A document that
    /// does not exist is reported as failed, not created. Counts go to `updated`.
    fn update_access(
        &self,
        docs: Vec<(String, Option<Vec<String>>)>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send;

    /// Deletes documents by id; a missing id is not an error (and is not counted as deleted).
    fn delete(&self, ids: Vec<String>) -> impl Future<Output = Result<BulkOutcome>> + Send;

    /// Hands every indexed document's id, `space_key` and `_timestamp` to `visit`, `page_size` at
    /// a time, in id order; never loads all ids at once. An error from `visit` stops the scan and
    /// is returned. Sees what the last [`Sink::refresh`] made visible.
    fn scan(
        &self,
        page_size: usize,
        visit: &mut ScanVisitor<'_>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Makes every write so far visible to [`Sink::scan`], [`Sink::count`] and [`Sink::search`].
    fn refresh(&self) -> impl Future<Output = Result<()>> + Send;

    /// How many documents the index holds (0 when it does not exist yet).
    fn count(&self) -> impl Future<Output = Result<u64>> + Send;

    /// The body of document `id`, or `None` when there is no such document.
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<serde_json::Value>>> + Send;

    /// Runs `req` and returns one page of hits.
    fn search(&self, req: &SearchRequest) -> impl Future<Output = Result<SearchPage>> + Send;

    /// A full sync of job `job_id` starts writing (after [`Sink::prepare`]). The target may get
    /// ready for bulk loading (a longer refresh interval) or open a fresh index that writes go
    /// to until [`Sink::end_full_sync`] (the alias swap). Returns what the admin should know.
    /// The default does nothing.
    fn begin_full_sync(&self, job_id: &str) -> impl Future<Output = Result<Vec<String>>> + Send {
        let _ = job_id;
        async { Ok(Vec::new()) }
    }

    /// Whether writes go to a fresh index that a full sync is rebuilding (then nothing is
    /// "unchanged": every document must be written).
    fn rebuilding(&self) -> bool {
        false
    }

    /// While rebuilding: copies into the fresh index the documents of the live index that
    /// `pick` chooses (it gets their ids a page at a time and returns those to copy), so that
    /// the deletion phase judges them as it would judge them in place. Returns how many were
    /// copied. The default copies nothing.
    fn carry_over(&self, pick: &mut CarryPicker<'_>) -> impl Future<Output = Result<u64>> + Send {
        let _ = pick;
        async { Ok(0) }
    }

    /// The full sync ended; `complete`: it reached its end (completed or partial). A rebuilt
    /// index replaces the live one only when complete, and is deleted otherwise; the refresh
    /// interval is put back either way. Returns what the admin should know.
    fn end_full_sync(&self, complete: bool) -> impl Future<Output = Result<Vec<String>>> + Send {
        let _ = complete;
        async { Ok(Vec::new()) }
    }
}

/// The callback [`Sink::carry_over`] hands each page of live document ids to; it returns the
/// ids to copy.
pub type CarryPicker<'a> = dyn FnMut(Vec<String>) -> Result<Vec<String>> + Send + 'a;

/// What can go wrong in a sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The connection options are unusable (bad URL, bad CA certificate, ...).
    #[error("invalid search connection options: {0}")]
    Options(String),
    /// The search cluster could not be reached (after retries).
    #[error("search cluster at `{url}` unreachable: {message}")]
    Unreachable {
        /// The cluster URL (without credentials).
        url: String,
        /// What the HTTP client said.
        message: String,
    },
    /// The search cluster answered a request with an error status (after retries).
    #[error("search cluster refused `{request}` with status {status}: {reason}")]
    Refused {
        /// The request, e.g. `PUT /my-index`.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The error type and reason from the body, or the body itself.
        reason: String,
    },
    /// The search cluster answered with something that is not the expected JSON.
    #[error("unexpected answer to `{request}`: {message}")]
    BadAnswer {
        /// The request.
        request: String,
        /// What was wrong.
        message: String,
    },
    /// The search cluster refuses writes or index creation because of a block, most often its
    /// disk passing a watermark; the message says so in an admin's words, with the fix.
    #[error("{message}")]
    Blocked {
        /// The request, e.g. `PUT /my-index`.
        request: String,
        /// What happened and what to do.
        message: String,
    },
    /// The embedded local index could not be opened or queried.
    #[error("local index: {0}")]
    Local(#[from] rusqlite::Error),
    /// A background task of the sink panicked or was cancelled.
    #[error("sink task failed: {0}")]
    Task(String),
}

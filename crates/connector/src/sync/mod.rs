//! Every run of the engine: full syncs, (soon) incremental syncs and access-control syncs, as
//! one [`Job`] with one lifecycle (lease, heartbeat, checkpoints, job record).
//!
//! - [`job`]: the [`Job`] value and its lifecycle; the only entry point.
//! - [`full`]: the full sync: the crawl ([`crawl`], or [`cql_crawl`] when advanced rules replace
//!   it) produces [`Document`](crate::document::Document)s into a bounded channel; one writer
//!   task records each id in the checkpoint and feeds a [`BulkWriter`](crate::sink::BulkWriter);
//!   when the crawl ends, the deletion phase removes the documents that were not seen, but only
//!   where every listing completed, and never more than the safety threshold allows.
//! - [`access_control`]: the identity documents of document-level security.

mod access_control;
pub mod checkpoint;
mod cql_crawl;
pub(crate) mod crawl;
mod errors;
mod full;
mod incremental;
mod job;
mod manifest;
mod routes;
mod scope;
mod writer;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

pub use crawl::SpaceOutcome;
pub use job::{Job, scope_key};
pub use scope::{DeletionPreview, deletion_preview};
pub use tokio_util::sync::CancellationToken;

use crate::events::{EventHandler, SyncEvent};
use crate::sink::BulkOptions;
use crate::store::{JobError, Store};

/// How a sync runs, beyond the connector configuration.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The saved connection this job belongs to, if any.
    pub connection_id: Option<String>,
    /// `manual`, `cli`, `demo`, `scheduled`.
    pub trigger: String,
    /// Refuse a deletion phase that would remove more than this share of the index (0 to 1);
    /// `None` takes the connection's `deletion_threshold_percent`.
    pub max_deletion_ratio: Option<f64>,
    /// The user confirmed the deletions of a deliberate scope change (rules or spaces changed
    /// since the last sync): the safety threshold does not stop this run.
    pub allow_deletions: bool,
    /// Spaces crawled at once (requests stay under the client's global limit).
    pub space_concurrency: usize,
    /// Content items of one space processed at once.
    pub item_concurrency: usize,
    /// Bulk batching towards the target.
    pub bulk: BulkOptions,
    /// Where the sync keeps its checkpoints and temporary files.
    pub work_dir: PathBuf,
    /// How often progress events are sent.
    pub progress_every: Duration,
    /// Sync rules: basic rules filter every document, advanced rules replace the crawl.
    pub rules: Option<crate::rules::RuleSet>,
    /// Incremental syncs fetch what changed since the previous sync's start minus this
    /// window: search results lag behind edits (CONFCLOUD-73997) and clocks differ.
    pub overlap: Duration,
    /// Incremental syncs: run the id-only reconciliation (deletions, moves, restores,
    /// permission changes). Without it only the delta is fetched and nothing is deleted.
    pub reconcile: bool,
}

impl SyncOptions {
    /// Where attachments that crashed or overran the extractor are remembered: beside the work
    /// directory (`<data dir>/quarantine` for the app and the CLI), since they are state, not
    /// temporary files.
    pub fn quarantine_dir(&self) -> PathBuf {
        match self.work_dir.parent() {
            Some(parent) => parent.join("quarantine"),
            None => self.work_dir.join("quarantine"),
        }
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            connection_id: None,
            trigger: "manual".to_owned(),
            max_deletion_ratio: None,
            allow_deletions: false,
            space_concurrency: 4,
            item_concurrency: 8,
            bulk: BulkOptions::default(),
            work_dir: std::env::temp_dir(),
            progress_every: Duration::from_millis(250),
            rules: None,
            overlap: Duration::from_secs(300),
            reconcile: true,
        }
    }
}

/// Shared counters of a running sync.
#[derive(Default)]
pub(crate) struct Live {
    pub docs_seen: AtomicU64,
    pub downloaded_bytes: AtomicU64,
    pub failed_docs: AtomicU64,
    pub indexed: AtomicU64,
    pub volume: AtomicU64,
    pub spaces_done: AtomicU64,
    pub spaces_total: AtomicU64,
    pub resumed: AtomicU64,
    pub duplicates: AtomicU64,
    pub current: Mutex<Vec<String>>,
    pub errors: Mutex<errors::ErrorLog>,
    /// Documents that failed (download, extraction, rejected by the target), with why.
    pub failed: Mutex<Vec<(String, String)>>,
    /// Child routes the server lacks.
    pub routes: routes::Routes,
}

impl Live {
    /// Records a document that failed; it is retried by the next run.
    pub(crate) fn fail(&self, id: &str, reason: impl Into<String>) {
        self.failed_docs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.push((id.to_owned(), reason.into()));
    }

    pub(crate) fn error(
        &self,
        events: &EventHandler,
        context: impl Into<String>,
        message: impl Into<String>,
    ) {
        let error = JobError {
            context: context.into(),
            message: message.into(),
        };
        tracing::warn!(context = %error.context, message = %error.message, "sync problem");
        events(&SyncEvent::Warning {
            message: format!("{}: {}", error.context, error.message),
        });
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(error);
    }

    /// Records the error that ended the job: kept first whatever came before.
    pub(crate) fn fatal(&self, events: &EventHandler, context: &str, message: String) {
        tracing::warn!(context, %message, "sync failed");
        events(&SyncEvent::Warning {
            message: format!("{context}: {message}"),
        });
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fatal(JobError {
                context: context.to_owned(),
                message,
            });
    }

    /// The job's errors, grouped (see [`errors::ErrorLog::into_errors`]).
    pub(crate) fn take_errors(&self) -> Vec<JobError> {
        std::mem::take(&mut *self.errors.lock().unwrap_or_else(|e| e.into_inner())).into_errors()
    }
}

/// The current time, RFC 3339 with milliseconds.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The store, even after a panic elsewhere poisoned its lock.
pub(crate) fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

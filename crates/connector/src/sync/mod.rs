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
mod crawl_v2;
mod errors;
mod full;
mod incremental;
mod job;
mod manifest;
mod memory;
mod routes;
mod scope;
mod writer;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use crawl::SpaceOutcome;
pub use job::{Job, scope_key};
pub use memory::{BLOCKING_THREADS, EXTRACTION_BYTES, QUEUE_BYTES, runtime};
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
    /// Spaces crawled at once, at least (a quarter of `max_concurrent_requests` when that is
    /// more; requests stay under the client's global limit).
    pub space_concurrency: usize,
    /// Content items of one space processed at once, at least (half of
    /// `max_concurrent_requests` when that is more).
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
    /// Documents the listings returned (or the crawl produced without a listing: spaces).
    pub docs_listed: AtomicU64,
    /// Documents done: every document the writer received, and listed items that turned out
    /// to produce none (gone meanwhile, unreadable).
    pub docs_done: AtomicU64,
    /// Confluence's count of the documents in scope (0: not known), less what a resumed run
    /// wrote before.
    pub docs_expected: AtomicU64,
    /// Set once every listing ended: the documents listed are then the total.
    pub listings_ended: std::sync::atomic::AtomicBool,
    pub created: AtomicU64,
    pub updated: AtomicU64,
    pub deleted: AtomicU64,
    pub skipped: AtomicU64,
    pub moved: AtomicU64,
    /// What is under way (see [`crate::events::Activity`]).
    pub activity: Gauges,
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

/// One step of a content sync, for [`Live::busy`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    Listing,
    Fetching,
    Downloading,
    Extracting,
}

/// How many of each step are under way.
#[derive(Default)]
pub(crate) struct Gauges {
    pub listing: AtomicU64,
    pub fetching: AtomicU64,
    pub downloading: AtomicU64,
    pub extracting: AtomicU64,
    /// Documents sent to the target and not yet acknowledged (set by the writer).
    pub writing: AtomicU64,
}

impl Gauges {
    fn of(&self, step: Step) -> &AtomicU64 {
        match step {
            Step::Listing => &self.listing,
            Step::Fetching => &self.fetching,
            Step::Downloading => &self.downloading,
            Step::Extracting => &self.extracting,
        }
    }

    pub(crate) fn snapshot(&self) -> crate::events::Activity {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        crate::events::Activity {
            listing: get(&self.listing),
            fetching: get(&self.fetching),
            downloading: get(&self.downloading),
            extracting: get(&self.extracting),
            writing: get(&self.writing),
        }
    }
}

/// A step under way; it ends when dropped.
pub(crate) struct Busy<'a>(&'a AtomicU64);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Live {
    /// Marks one `step` as under way until the guard is dropped.
    pub(crate) fn busy(&self, step: Step) -> Busy<'_> {
        let gauge = self.activity.of(step);
        gauge.fetch_add(1, Ordering::Relaxed);
        Busy(gauge)
    }

    /// `n` more documents listed.
    pub(crate) fn listed(&self, n: u64) {
        self.docs_listed.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` listed documents that produce nothing to write (gone meanwhile, unreadable): done.
    pub(crate) fn dropped(&self, n: u64) {
        self.docs_done.fetch_add(n, Ordering::Relaxed);
    }

    /// The documents this run handles in all, when known: Confluence's count of the scope or,
    /// once every listing ended, what they returned; never below what is done.
    pub(crate) fn docs_total(&self) -> Option<u64> {
        let listed = self.docs_listed.load(Ordering::Relaxed);
        let done = self.docs_done.load(Ordering::Relaxed);
        let expected = self.docs_expected.load(Ordering::Relaxed);
        if self.listings_ended.load(Ordering::Relaxed) {
            Some(listed.max(done))
        } else if expected > 0 {
            Some(expected.max(listed).max(done))
        } else {
            None
        }
    }

    /// Records a document that failed; it is retried by the next run.
    pub(crate) fn fail(&self, id: &str, reason: impl Into<String>) {
        self.failed_docs.fetch_add(1, Ordering::Relaxed);
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

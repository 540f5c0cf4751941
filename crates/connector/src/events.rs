//! What a running sync tells its caller: typed progress events, and the counters they carry.
//!
//! The engine calls an [`EventHandler`] from its tasks; the CLI turns events into a progress
//! bar, the desktop shell forwards them to the window.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The phases of a sync, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Checking the configuration and reaching Confluence and the target.
    Validating,
    /// Listing spaces.
    ListingSpaces,
    /// Listing and indexing content.
    Crawling,
    /// Incremental syncs: listing ids, versions and restrictions of everything in scope, to
    /// find what moved, what is gone and whose access changed.
    Reconciling,
    /// Incremental syncs: rewriting the access lists of documents whose permissions changed.
    UpdatingAccess,
    /// Deleting documents that are gone from Confluence.
    Deleting,
    /// Done; the final report follows.
    Finished,
}

/// The counters of a sync job, named as in Elastic's connector where it has them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Counters {
    /// Documents the target accepted (created or updated).
    #[ts(type = "number")]
    pub indexed_document_count: u64,
    /// Bytes of the documents the target accepted.
    #[ts(type = "number")]
    pub indexed_document_volume: u64,
    /// Documents deleted because they are gone from Confluence.
    #[ts(type = "number")]
    pub deleted_document_count: u64,
    /// Documents that were new to the target.
    #[ts(type = "number")]
    pub created: u64,
    /// Documents that replaced an earlier version.
    #[ts(type = "number")]
    pub updated: u64,
    /// Documents left out on purpose (sync rules, unchanged).
    #[ts(type = "number")]
    pub skipped: u64,
    /// Documents the target rejected or that could not be built.
    #[ts(type = "number")]
    pub failed: u64,
    /// Attachment bytes downloaded from Confluence.
    #[ts(type = "number")]
    pub downloaded_bytes: u64,
    /// Documents already written by an earlier, interrupted or cancelled run that this run
    /// resumed: not fetched again.
    #[ts(type = "number")]
    pub resumed: u64,
    /// Results Confluence returned more than once in one sync (written once, counted once).
    #[ts(type = "number")]
    pub duplicates: u64,
    /// Requests sent again after a retryable failure (429, 5xx, a reset connection).
    #[ts(type = "number")]
    pub retries: u64,
    /// Documents written with the deny marker because their access could not be read.
    #[ts(type = "number")]
    pub acl_failures: u64,
    /// Documents whose version and access did not change: not downloaded, not written again.
    #[ts(type = "number")]
    pub unchanged: u64,
    /// Documents whose access list alone changed: only `_allow_access_control` was rewritten.
    #[ts(type = "number")]
    pub permissions_updated: u64,
    /// Pages and blog posts re-indexed because their place changed: moved to another space or
    /// parent, or renamed (themselves or an ancestor). Counted by incremental syncs.
    #[ts(type = "number")]
    pub moved: u64,
}

/// A snapshot of a running sync, sent every few hundred milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct Progress {
    /// Seconds since the sync started.
    pub elapsed_s: f64,
    /// Documents sent per second so far.
    pub docs_per_second: f64,
    /// Documents produced by the crawl so far.
    #[ts(type = "number")]
    pub docs_seen: u64,
    /// The counters so far.
    pub counters: Counters,
    /// Requests sent to Confluence.
    #[ts(type = "number")]
    pub requests: u64,
    /// Times Confluence asked us to slow down (429).
    #[ts(type = "number")]
    pub rate_limit_waits: u64,
    /// Seconds spent waiting for rate limits.
    pub rate_limit_wait_s: f64,
    /// Spaces finished, of `spaces_total`.
    #[ts(type = "number")]
    pub spaces_done: u64,
    /// Spaces in scope (known once they are listed).
    #[ts(type = "number")]
    pub spaces_total: u64,
    /// The spaces being crawled right now.
    pub current_spaces: Vec<String>,
    /// Rough seconds left, from the spaces finished so far; `None` until one finished.
    pub eta_s: Option<f64>,
}

/// One thing that happened during a sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A new phase began.
    Phase {
        /// The phase.
        phase: SyncPhase,
    },
    /// A space's content listing started.
    SpaceStarted {
        /// The space key.
        key: String,
    },
    /// A space's content listing ended; `complete` is false when a listing in it failed.
    SpaceFinished {
        /// The space key.
        key: String,
        /// Whether every listing of the space finished without error.
        complete: bool,
    },
    /// Periodic counters.
    Progress(Progress),
    /// Something went wrong but the sync goes on.
    Warning {
        /// What happened, with its context.
        message: String,
    },
}

/// Receives a sync's events. Called from the engine's tasks: keep it quick.
pub type EventHandler = Arc<dyn Fn(&SyncEvent) + Send + Sync>;

/// A handler that drops every event.
pub fn ignore_events() -> EventHandler {
    Arc::new(|_| {})
}

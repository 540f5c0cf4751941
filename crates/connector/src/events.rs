//! What a running sync tells its caller: typed progress events, and the counters they carry.
//!
//! The engine calls an [`EventHandler`] from its tasks; the CLI turns events into a progress
//! bar, the desktop shell forwards them to the window.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The phases of a sync, in order. A content sync's crawl lists, fetches, downloads, extracts
/// and writes side by side: [`Progress::activity`] says how much of each is under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Checking the configuration and reaching Confluence and the target.
    Validating,
    /// Listing spaces.
    ListingSpaces,
    /// Listing content and, as it is listed, fetching it, downloading and extracting
    /// attachments and writing the documents.
    Crawling,
    /// Incremental syncs: listing ids, versions and restrictions of everything in scope, to
    /// find what moved, what is gone and whose access changed.
    Reconciling,
    /// Incremental syncs: rewriting the access lists of documents whose permissions changed.
    UpdatingAccess,
    /// Everything is listed and fetched: the target acknowledges the last documents.
    Writing,
    /// Reconciling deletions: finding the documents that are gone from Confluence (each
    /// confirmed gone) and deleting them.
    Deleting,
    /// Access-control syncs: listing users and writing their identity documents.
    AccessControl,
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
    /// Documents in the index when the job ended, as the target counted them (Elastic's
    /// `total_document_count`); `None` when it could not be counted, and for jobs recorded
    /// before it was.
    #[ts(type = "number | null")]
    pub total_document_count: Option<u64>,
}

/// How much of each step of a content sync is under way at the time of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Activity {
    /// Content listings running (a space's pages or blog posts, an advanced rule's query, an
    /// incremental sync's id listings).
    #[ts(type = "number")]
    pub listing: u64,
    /// Pages and blog posts whose labels, attachments and comments are being listed.
    #[ts(type = "number")]
    pub fetching: u64,
    /// Attachment files downloading.
    #[ts(type = "number")]
    pub downloading: u64,
    /// Attachment files whose text is being extracted.
    #[ts(type = "number")]
    pub extracting: u64,
    /// Documents sent to the target and not yet acknowledged.
    #[ts(type = "number")]
    pub writing: u64,
}

/// A snapshot of a running sync, sent every few hundred milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Progress {
    /// Seconds since the sync started.
    pub elapsed_s: f64,
    /// Documents sent per second so far.
    pub docs_per_second: f64,
    /// Documents produced by the crawl so far (written or found unchanged).
    #[ts(type = "number")]
    pub docs_seen: u64,
    /// Documents this run's listings returned so far.
    #[ts(type = "number")]
    pub docs_listed: u64,
    /// Documents this run is done with: written, unchanged, left out by the rules, or failed.
    #[ts(type = "number")]
    pub docs_done: u64,
    /// Documents this run handles in all: Confluence's count of what is in scope, counted at
    /// the start (an estimate on Cloud), or what the listings returned once they all ended;
    /// never below `docs_done`. `None` while only the listings so far are known.
    #[ts(type = "number | null")]
    pub docs_total: Option<u64>,
    /// The counters so far.
    pub counters: Counters,
    /// What is under way right now.
    pub activity: Activity,
    /// Requests sent to Confluence.
    #[ts(type = "number")]
    pub requests: u64,
    /// Times Confluence asked us to slow down (429).
    #[ts(type = "number")]
    pub rate_limit_waits: u64,
    /// Seconds spent waiting for rate limits.
    pub rate_limit_wait_s: f64,
    /// Seconds every request still waits for Confluence's rate limit (0 when not paused): the
    /// sync is "waiting for Confluence's rate limit, resuming in N s".
    pub rate_limit_resume_s: f64,
    /// Spaces finished, of `spaces_total`.
    #[ts(type = "number")]
    pub spaces_done: u64,
    /// Spaces in scope (known once they are listed).
    #[ts(type = "number")]
    pub spaces_total: u64,
    /// The spaces being crawled right now.
    pub current_spaces: Vec<String>,
    /// Rough seconds left, from the documents done so far against `docs_total`; `None` until
    /// the total is known and some documents are done.
    pub eta_s: Option<f64>,
}

impl Progress {
    /// The share of the documents done, 0 to 1; `None` while the total is unknown.
    pub fn share_done(&self) -> Option<f64> {
        self.docs_total
            .filter(|t| *t > 0)
            .map(|t| (self.docs_done as f64 / t as f64).min(1.0))
    }
}

/// Seconds left when `done` of `total` documents took `elapsed_s`: `None` before anything is
/// done, before a second passed, or while the total is unknown.
pub fn eta(total: Option<u64>, done: u64, elapsed_s: f64) -> Option<f64> {
    let total = total?;
    if done == 0 || elapsed_s < 1.0 {
        return None;
    }
    Some(elapsed_s / done as f64 * total.saturating_sub(done) as f64)
}

/// One thing that happened during a sync.
// A progress snapshot is the large variant, and the one sent most: boxing it would only add an
// allocation to every snapshot.
#[allow(clippy::large_enum_variant)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_comes_from_documents_done_against_the_total() {
        assert_eq!(eta(None, 10, 5.0), None);
        assert_eq!(eta(Some(100), 0, 5.0), None);
        assert_eq!(eta(Some(100), 10, 0.5), None);
        assert_eq!(eta(Some(100), 25, 10.0), Some(30.0));
        assert_eq!(eta(Some(100), 100, 10.0), Some(0.0));
    }

    #[test]
    fn the_share_done_needs_a_total() {
        let mut p = Progress {
            docs_done: 30,
            ..Progress::default()
        };
        assert_eq!(p.share_done(), None);
        p.docs_total = Some(120);
        assert_eq!(p.share_done(), Some(0.25));
        p.docs_total = Some(0);
        assert_eq!(p.share_done(), None);
    }

    #[test]
    fn snapshots_recorded_before_the_document_counts_still_read() {
        let old = serde_json::json!({
            "elapsed_s": 1.0, "docs_per_second": 2.0, "docs_seen": 2,
            "counters": {"indexed_document_count": 2}, "requests": 3,
            "rate_limit_waits": 0, "rate_limit_wait_s": 0.0,
            "spaces_done": 0, "spaces_total": 1, "current_spaces": [], "eta_s": null
        });
        let p: Progress = serde_json::from_value(old).unwrap();
        assert_eq!(p.docs_total, None);
        assert_eq!(p.counters.total_document_count, None);
        assert_eq!(p.activity, Activity::default());
    }
}

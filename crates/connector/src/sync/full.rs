//! The full sync: list everything in scope, index it, then delete what is gone.
//!
//! The crawl ([`crawl`], or [`super::cql_crawl`] when advanced rules replace it) sends
//! [`Item`]s through a bounded channel to one writer task ([`Writer`]), which records every
//! document in the [`Checkpoint`], batches it to the target, and every few seconds waits for the
//! target to acknowledge what was sent and checkpoints the pages and listings that are now fully
//! written. A run that resumes a checkpoint skips those. When the crawl ends, the deletion phase
//! removes the indexed documents that were not seen, but only where every listing completed, and
//! never more than the safety threshold allows unless the user confirmed a scope change.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::mpsc;

use super::checkpoint::{Checkpoint, checkpoint_path};
use super::crawl::{self, Item, SpaceOutcome};
use super::job::Run;
use super::writer::{Tally, Writer};
use super::{Live, lock, scope};
use crate::acl::{AclRecorder, AclResolver, AclStore};
use crate::config::ConnectorConfig;
use crate::confluence::{ConfluenceClient, Space};
use crate::events::{Counters, EventHandler, Progress, SyncEvent, SyncPhase};
use crate::sink::{BulkWriter, Sink};
use crate::store::{JobRecord, JobStatus};
use crate::{Error, Result};

/// Runs a full sync and fills `job` (status, counters, requests, errors). A failed or cancelled
/// sync deletes nothing; a sync whose listing of some space failed deletes nothing in that space.
pub(crate) async fn run<S: Sink + AclStore + 'static>(
    run: &Run<'_, S>,
    job: &mut JobRecord,
    plan: Option<super::incremental::Plan>,
) -> Result<()> {
    let this = run.job;
    let live = Arc::new(Live::default());
    // Document-level security: every document's access is recorded for the inspector.
    let recorder = this
        .config
        .use_document_level_security
        .then(|| Arc::new(AclRecorder::default()));
    let mut full = FullSync {
        run,
        live: live.clone(),
        job_id: job.id.clone(),
        counters: Counters::default(),
        requests: 0,
        tally: Arc::new(Tally::default()),
        listings_complete: false,
        lenient: false,
        plan,
        delta: None,
        notes: Vec::new(),
        ran_full: false,
        manifest_scope: this.scope_key(),
        crawl_stop: this.cancel.child_token(),
        listed_groups: Vec::new(),
        listings: Vec::new(),
        recorder: recorder.clone(),
    };
    // Whatever happens from here on, a full sync's changes to the target (refresh interval,
    // the fresh index of an alias swap) are put back or completed: below, or when this future
    // is dropped before.
    let mut end_guard = EndFullSync(Some(this.sink.clone()));
    let mut status = match full.sync(recorder.clone()).await {
        Ok(status) => status,
        Err(err) => {
            live.fatal(run.events, "sync", err.to_string());
            JobStatus::Failed
        }
    };
    end_guard.0 = None;
    let complete = matches!(status, JobStatus::Completed | JobStatus::Partial);
    match this.sink.end_full_sync(complete).await {
        Ok(notes) => full.notes.extend(notes),
        Err(err) if complete => {
            live.fatal(
                run.events,
                "index",
                format!("the documents are written, but finishing the index failed: {err}"),
            );
            status = JobStatus::Failed;
        }
        Err(err) => live.error(
            run.events,
            "index",
            format!("putting the index back after the sync failed: {err}"),
        ),
    }
    if full.manifest_scope != this.scope_key() {
        // A rebuilt index: what this run wrote is all the new index holds, or nothing at all.
        let store = lock(&this.store);
        if status == JobStatus::Failed || !complete {
            store.clear_manifest(&full.manifest_scope)?;
        } else {
            store.replace_manifest(
                &this.scope_key(),
                &full.manifest_scope,
                &super::manifest::target_key(&this.config),
            )?;
        }
    }
    job.status = status;
    job.requests = full.requests;
    job.counters = full.counters;
    job.counters.total_document_count = index_count(&*this.sink).await;
    job.notes.append(&mut full.notes);
    job.delta = full.delta.take();
    if full.ran_full {
        job.job_type = crate::store::JobType::Full;
    }
    // Documents hidden from everybody because their access could not be read are lost
    // search results: the sync did not do all its work.
    if let Some(recorder) = &recorder {
        job.counters.acl_failures = recorder.failed();
        if recorder.failed() > 0 && job.status == JobStatus::Completed {
            job.status = JobStatus::Partial;
        }
    }
    // The same document listed more than once (a server that ignores paging, results that
    // shift): written once, counted once; many of them say the listing was not trustworthy.
    if job.counters.duplicates * 20 > job.counters.indexed_document_count.max(1)
        && job.status == JobStatus::Completed
    {
        job.status = JobStatus::Partial;
        live.error(
            run.events,
            "listings",
            format!(
                "Confluence returned {} results more than once (a server or proxy that ignores \
                 paging parameters?); each document was written once",
                job.counters.duplicates
            ),
        );
    }
    if let Some(recorder) = &recorder
        && recorder.denied() > 0
    {
        // Every denial is a failure to compute access (see `AclResolver`), which made the job
        // partial above; say how many, why, and what to do.
        let (denied, recorded) = (recorder.denied(), recorder.len() as u64);
        live.error(
            run.events,
            "document-level security",
            format!(
                "{denied} of {recorded} documents ({}%) were written with the deny marker \
                 (readable by nobody), {} of them because their access could not be read; the \
                 errors above say why. Check that the account may read space permissions, \
                 users and groups (Test connection says which right is missing), then sync again",
                (denied * 100).div_ceil(recorded.max(1)),
                recorder.failed(),
            ),
        );
    }
    job.errors = live.take_errors();
    let failed = std::mem::take(&mut *live.failed.lock().unwrap_or_else(|e| e.into_inner()));
    {
        let mut store = lock(&this.store);
        // A run that crawled everything knows exactly what fails now; a cancelled or resumed
        // one only adds to what failed before.
        let whole = matches!(status, JobStatus::Completed | JobStatus::Partial);
        let whole = whole && job.job_type == crate::store::JobType::Full;
        store.record_failed_documents(&this.scope_key(), &job.id, &failed, whole)?;
        // Everything up to this run's start is written: the next incremental starts there.
        if full.listings_complete && matches!(status, JobStatus::Completed | JobStatus::Partial) {
            let cursor = crate::store::SyncCursor {
                since: job.started_at.clone(),
                job_id: job.id.clone(),
                fingerprint: String::new(),
                groups: std::mem::take(&mut full.listed_groups),
                listings: std::mem::take(&mut full.listings),
            };
            super::incremental::save_cursor(
                &store,
                &this.scope_key(),
                cursor,
                &this.config,
                this.options.rules.as_ref(),
            )?;
        }
        if let Some(recorder) = &recorder {
            store.record_doc_acls(&job.id, recorder)?;
        }
    }
    Ok(())
}

/// How many documents the index holds now (what searchers see), or `None` when the target does
/// not say within a few seconds.
pub(super) async fn index_count<S: Sink>(sink: &S) -> Option<u64> {
    let count = async {
        sink.refresh().await.ok();
        sink.count().await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(15), count).await {
        Ok(Ok(n)) => Some(n),
        Ok(Err(err)) => {
            tracing::warn!(%err, "could not count the documents in the index");
            None
        }
        Err(_) => {
            tracing::warn!("counting the documents in the index took too long");
            None
        }
    }
}

/// One full sync in progress.
pub(super) struct FullSync<'a, 'r, S> {
    pub run: &'a Run<'r, S>,
    pub live: Arc<Live>,
    pub job_id: String,
    pub counters: Counters,
    pub requests: u64,
    pub tally: Arc<Tally>,
    /// Whether every listing completed (the run's start can be the next incremental cursor).
    pub listings_complete: bool,
    /// An incremental sync's reconciliation: documents its listings missed that still exist
    /// are normal (search results lag behind edits) and do not make the run partial.
    pub lenient: bool,
    /// The incremental sync to run instead of a full one.
    pub plan: Option<super::incremental::Plan>,
    /// The incremental sync's cursor, as recorded on the job.
    pub delta: Option<crate::store::DeltaInfo>,
    /// What the admin should know that is not an error.
    pub notes: Vec<String>,
    /// An incremental sync that ran as a full one.
    pub ran_full: bool,
    /// Where the writer records the manifest: the connection's scope, or a scope of its own
    /// while the target rebuilds a fresh index (it becomes the connection's when complete).
    pub manifest_scope: String,
    /// Stops the crawl: the job's cancellation, or the writer failing for good (nothing can
    /// be written, so nothing more is listed).
    pub crawl_stop: super::CancellationToken,
    /// The groups whose members this sync listed (see [`AclResolver::listed_groups`]).
    pub listed_groups: Vec<(String, String)>,
    /// An incremental's reconciliation listings, for the next one to start early.
    pub listings: Vec<Vec<crate::store::SpaceRef>>,
    /// Document-level security: every document's access, saved under the job as it goes.
    pub recorder: Option<Arc<AclRecorder>>,
}

/// Ends a full sync on the target (see [`Sink::end_full_sync`]) when the sync's future is
/// dropped before it could: a discarded fresh index, a refresh interval put back.
struct EndFullSync<S: Sink + 'static>(Option<Arc<S>>);

impl<S: Sink + 'static> Drop for EndFullSync<S> {
    fn drop(&mut self) {
        if let (Some(sink), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move {
                if let Err(err) = sink.end_full_sync(false).await {
                    tracing::warn!(%err, "could not put the index back after a dropped sync");
                }
            });
        }
    }
}

impl<S: Sink + AclStore + 'static> FullSync<'_, '_, S> {
    pub(super) fn events(&self) -> &EventHandler {
        self.run.events
    }

    async fn sync(&mut self, recorder: Option<Arc<AclRecorder>>) -> Result<JobStatus> {
        let this = self.run.job;
        let started = Instant::now();
        (self.events())(&SyncEvent::Phase {
            phase: SyncPhase::Validating,
        });
        let problems: Vec<_> = crate::config::validate(&this.config, &this.secrets)
            .into_iter()
            .filter(|p| p.severity == crate::config::Severity::Error)
            .collect();
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let client = ConfluenceClient::from_config(&this.config, &this.secrets)?;
        let result = self.sync_with(&client, recorder, started).await;
        let stats = client.stats();
        self.requests = stats.requests;
        self.counters.retries = stats.retries;
        result
    }

    async fn sync_with(
        &mut self,
        client: &ConfluenceClient,
        recorder: Option<Arc<AclRecorder>>,
        started: Instant,
    ) -> Result<JobStatus> {
        let this = self.run.job;
        // Progress ticker: a snapshot of the counters every `progress_every`, from the first
        // request on (a rate-limit pause shows while signing in too).
        let ticker = {
            let (live, tally, client, events, every) = (
                self.live.clone(),
                self.tally.clone(),
                client.clone(),
                self.events().clone(),
                this.options.progress_every,
            );
            Ticker(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    events(&SyncEvent::Progress(snapshot(
                        &live, &tally, &client, started,
                    )));
                }
            }))
        };
        // Who we are before anything is listed: a refused token served as anonymous would
        // make restricted content look deleted.
        // The target and the permission source are readied and the spaces listed meanwhile;
        // the listing is used only once the identity is confirmed.
        let with_restrictions = recorder.is_some();
        let acl = async {
            match recorder {
                Some(recorder) => acl_resolver(&this.config, client, recorder)
                    .await
                    .map(|acl| Some(Arc::new(acl))),
                None => Ok(None),
            }
        };
        let spaces = client.spaces();
        // An incremental starts the last one's reconciliation listings now, beside the sign-in.
        let early = match &self.plan {
            Some(plan) if this.options.reconcile => super::incremental::start_early_listings(
                client,
                &plan.cursor.listings,
                with_restrictions,
            ),
            _ => Vec::new(),
        };
        let (identity, prepared, acl, spaces) =
            tokio::join!(client.verify_identity(), this.sink.prepare(), acl, spaces);
        let identity = identity?;
        // A failed listing is made again (and its error reported) by the crawl.
        let spaces = spaces.ok();
        tracing::info!(who = %identity.describe(), zone = ?identity.time_zone, "signed in");
        prepared?;
        let acl = acl?;
        // A full sync proper (not an incremental one that runs as full): the target may get
        // ready for bulk loading, or rebuild into a fresh index behind its alias.
        if this.kind == crate::store::JobType::Full && self.plan.is_none() {
            let notes = this.sink.begin_full_sync(&self.job_id).await?;
            self.notes.extend(notes);
            if this.sink.rebuilding() {
                self.manifest_scope = format!("{}#rebuild", this.scope_key());
                lock(&this.store).clear_manifest(&self.manifest_scope)?;
            }
        }

        // A sync lists at once the members of the groups the last one needed: the access of
        // restricted content then need not wait for them (a group is used only if it still
        // has that name, so a cursor of another configuration does no harm).
        let groups = match &self.plan {
            Some(plan) => plan.cursor.groups.clone(),
            None if acl.is_some() => lock(&this.store)
                .sync_cursor(&this.scope_key())
                .ok()
                .flatten()
                .map(|cursor| cursor.groups)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let prefetch = match &acl {
            Some(acl) if !groups.is_empty() => {
                let acl = acl.clone();
                Some(tokio::spawn(
                    async move { acl.prefetch_members(&groups).await },
                ))
            }
            _ => None,
        };
        let resolver = acl.clone();
        let result = match self.plan.take() {
            Some(plan) => {
                self.incremental(client, acl, &identity, plan, spaces, early)
                    .await
            }
            None => self.crawl_and_reconcile(client, acl, spaces).await,
        };
        // Ended by now, but for a cancelled run's.
        if let Some(prefetch) = prefetch {
            if this.cancel.is_cancelled() {
                prefetch.abort();
            } else {
                let _ = prefetch.await;
            }
        }
        self.listed_groups = resolver.map(|r| r.listed_groups()).unwrap_or_default();
        drop(ticker);
        // Whatever was listed is all there is now.
        self.live.listings_ended.store(true, Ordering::Relaxed);
        (self.events())(&SyncEvent::Progress(snapshot(
            &self.live,
            &self.tally,
            client,
            started,
        )));
        result
    }

    /// The crawl of a full sync and its reconciliation; `spaces`: every space Confluence lists,
    /// when already listed.
    pub(super) async fn crawl_and_reconcile(
        &mut self,
        client: &ConfluenceClient,
        acl: Option<Arc<AclResolver>>,
        spaces: Option<Vec<Space>>,
    ) -> Result<JobStatus> {
        let this = self.run.job;
        let options = &this.options;
        let work_dir = &options.work_dir;
        std::fs::create_dir_all(work_dir).map_err(|source| Error::Io {
            context: format!("creating the work directory `{}`", work_dir.display()),
            source,
        })?;
        let checkpoint_file = checkpoint_path(work_dir, &this.scope_key());
        let rebuilding = this.sink.rebuilding();
        if rebuilding {
            // What an earlier run wrote went to an index that is gone: nothing to resume.
            super::checkpoint::remove_files(&checkpoint_file);
        }
        let (checkpoint, resume) = Checkpoint::open(
            &checkpoint_file,
            &fingerprint(&this.config, options.rules.as_ref()),
        )?;
        if !resume.is_empty() {
            let message = format!(
                "resuming an earlier run of this sync: {} pages and blog posts and {} listings \
                 were already written; they are not fetched again",
                resume.units.len(),
                resume.listings.len()
            );
            tracing::info!("{message}");
            self.counters.resumed = resume.seen;
            self.live.resumed.store(resume.seen, Ordering::Relaxed);
        }
        let resume = Arc::new(resume);
        let filter = crate::rules::sync_filter(options.rules.as_ref(), client.flavor())?;
        let spool_dir = work_dir.join(format!("spool-{}", self.job_id));

        // A fresh index holds nothing: every document is written.
        let manifest = Arc::new(if rebuilding {
            super::manifest::Manifest::default()
        } else {
            super::manifest::load(&this.store, &this.scope_key(), &this.config, &*this.sink).await?
        });
        let (tx, writer) = self.spawn_writer(checkpoint, filter.clone(), manifest.clone());

        (self.events())(&SyncEvent::Phase {
            phase: SyncPhase::ListingSpaces,
        });
        let crawl = crawl::Crawl {
            config: &this.config,
            client,
            options,
            events: self.events(),
            cancel: &self.crawl_stop,
            live: &self.live,
            tx,
            acl,
            resume: resume.clone(),
            spool_dir: spool_dir.clone(),
            manifest,
            listed_spaces: spaces,
            filter: filter.clone(),
            memory: super::memory::MemoryBudget::default(),
        };
        let spaces = match options.rules.as_ref().filter(|r| r.has_advanced()) {
            Some(rules) => super::cql_crawl::run(crawl, &rules.advanced).await,
            None => crawl.run().await,
        };
        self.live.listings_ended.store(true, Ordering::Relaxed);
        (self.events())(&SyncEvent::Phase {
            phase: SyncPhase::Writing,
        });
        let _ = std::fs::remove_dir_all(&spool_dir);
        let (mut checkpoint, totals) = writer.await.map_err(|e| Error::Io {
            context: "the index writer stopped".into(),
            source: std::io::Error::other(e),
        })??;

        self.tally_up(&totals, filter.as_deref());

        // The space listing itself failed: nothing can be said about what is gone.
        let mut spaces = spaces?;
        if this.cancel.is_cancelled() {
            return Ok(JobStatus::Canceled);
        }
        let protected = self.route_report(&mut spaces);
        self.listings_complete = spaces.iter().all(|s| s.complete);
        if rebuilding {
            self.carry_over(&mut checkpoint).await?;
        }
        let mut status = self
            .delete_unseen(client, &spaces, &protected, &mut checkpoint)
            .await?;
        if status == JobStatus::Completed && !protected.is_empty() {
            status = JobStatus::Partial;
        }
        if matches!(status, JobStatus::Completed | JobStatus::Partial) {
            checkpoint.finish();
        }
        Ok(status)
    }

    /// Starts the writer task of a content sync; the crawl sends it [`Item`]s through `tx`.
    pub(super) fn spawn_writer(
        &self,
        checkpoint: Checkpoint,
        filter: Option<Arc<crate::rules::BasicFilter>>,
        manifest: Arc<super::manifest::Manifest>,
    ) -> (mpsc::Sender<Item>, WriterTask) {
        let this = self.run.job;
        let (tx, rx) = mpsc::channel::<Item>(256);
        let mut writer = Writer::new(
            this.sink.clone(),
            self.events().clone(),
            checkpoint,
            BulkWriter::new(this.sink.clone(), this.options.bulk),
            filter,
            self.live.clone(),
            manifest,
            this.store.clone(),
            self.manifest_scope.clone(),
            self.tally.clone(),
        );
        writer.acl_snapshot = self.recorder.clone().map(|r| (r, self.job_id.clone()));
        let stop = self.crawl_stop.clone();
        let task = tokio::spawn(async move {
            let result = writer.run(rx).await;
            if result.is_err() {
                stop.cancel();
            }
            result
        });
        (tx, task)
    }

    /// A rebuild: copies into the fresh index the live documents this run did not write (not
    /// listed, or refused by the target), so that the deletion phase judges them as it would
    /// in place (kept when their space was not listed completely, deleted when gone).
    async fn carry_over(&mut self, checkpoint: &mut Checkpoint) -> Result<()> {
        let failed: HashSet<String> = self
            .live
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        let copied = self
            .run
            .job
            .sink
            .carry_over(&mut |ids| {
                let mut pick = checkpoint.unseen(ids.iter().map(String::as_str))?;
                pick.extend(ids.into_iter().filter(|id| failed.contains(id)));
                Ok(pick)
            })
            .await?;
        if copied > 0 {
            self.notes.push(format!(
                "{copied} documents of the live index that this sync did not write (not listed, \
                 or refused) were copied into the fresh index, where the deletion phase judged \
                 them as usual."
            ));
        }
        Ok(())
    }

    /// The counters of a content sync whose writer finished with `totals`. Every failure
    /// (downloads, extractions, the target's rejections, which the writer reports as it
    /// settles) went through `Live::fail`.
    pub(super) fn tally_up(
        &mut self,
        totals: &crate::sink::BulkOutcome,
        filter: Option<&crate::rules::BasicFilter>,
    ) {
        let counters = &mut self.counters;
        counters.created = totals.created;
        counters.updated = totals.updated;
        counters.unchanged = self.tally.unchanged.load(Ordering::Relaxed);
        counters.permissions_updated = self.tally.permissions_updated.load(Ordering::Relaxed);
        counters.indexed_document_count = totals.created + totals.updated;
        counters.indexed_document_volume = totals.bytes;
        counters.downloaded_bytes = self.live.downloaded_bytes.load(Ordering::Relaxed);
        counters.duplicates = self.live.duplicates.load(Ordering::Relaxed);
        counters.skipped += filter.map_or(0, |f| f.filtered());
        counters.failed = self.live.failed_docs.load(Ordering::Relaxed);
        for item in &totals.failed {
            self.live.error(
                self.run.events,
                format!("document {}", item.id),
                format!("the target rejected it: {}", item.reason),
            );
        }
    }

    /// Reports the child routes the server lacks (once each) and the items whose child
    /// listing failed on a route that works (their spaces become incomplete). Returns the
    /// document types the missing routes list: they are neither indexed nor deleted.
    pub(super) fn route_report(&self, spaces: &mut [SpaceOutcome]) -> Vec<&'static str> {
        let report = self.live.routes.report();
        for (route, miss) in &report.failed {
            self.live.error(
                self.run.events,
                format!("space {}", miss.space),
                format!(
                    "listing {} of {} failed: not found although the item exists (the route \
                     works for other items); nothing in this space is deleted",
                    route.what(),
                    miss.item
                ),
            );
            if let Some(space) = spaces.iter_mut().find(|s| s.key == miss.space) {
                space.complete = false;
            }
        }
        for route in &report.missing {
            self.live.error(
                self.run.events,
                format!("route {}", route.path()),
                format!(
                    "this server does not offer {} (`{}` answers 404 or 501 for items that \
                     exist): they are not indexed, and those indexed before are kept",
                    route.what(),
                    route.path()
                ),
            );
        }
        report.missing.iter().filter_map(|r| r.kind()).collect()
    }

    /// The ids of `ids` that Confluence still has (or that could not be checked): a listing
    /// that missed them does not make them gone.
    async fn still_there(
        &self,
        client: &ConfluenceClient,
        ids: &HashSet<String>,
    ) -> HashSet<String> {
        use futures_util::StreamExt;
        futures_util::stream::iter(ids.iter().cloned())
            .map(|id| async move {
                match client.content_exists(&id).await {
                    Ok(false) => None,
                    Ok(true) => Some(id),
                    Err(err) => {
                        tracing::warn!(%err, %id, "could not confirm that a document is gone");
                        Some(id)
                    }
                }
            })
            .buffer_unordered(8)
            .filter_map(std::future::ready)
            .collect()
            .await
    }

    /// The deletion phase: documents of complete scopes that were not seen are gone. Documents
    /// of a `protected` type (listed by a route the server lacks) stay.
    pub(super) async fn delete_unseen(
        &mut self,
        client: &ConfluenceClient,
        spaces: &[SpaceOutcome],
        protected: &[&str],
        checkpoint: &mut Checkpoint,
    ) -> Result<JobStatus> {
        let this = self.run.job;
        let sink = &this.sink;
        let incomplete: Vec<&SpaceOutcome> = spaces.iter().filter(|s| !s.complete).collect();
        (self.events())(&SyncEvent::Phase {
            phase: SyncPhase::Deleting,
        });
        sink.refresh().await?;
        let crawled: HashSet<&str> = spaces.iter().map(|s| s.key.as_str()).collect();
        let keep_space: HashSet<&str> = incomplete.iter().map(|s| s.key.as_str()).collect();
        // With every space in scope, a space Confluence no longer lists (deleted, archived, or
        // the crawler lost its permission) is a question for the user, not a deletion.
        let standard = this
            .options
            .rules
            .as_ref()
            .is_none_or(|r| !r.has_advanced());
        let guard_vanished = standard && this.config.all_spaces() && !this.options.allow_deletions;
        let mut vanished: std::collections::BTreeMap<String, u64> = Default::default();
        let mut doomed: Vec<String> = Vec::new();
        // Content of a listed space that its listings did not return: gone, unless Confluence
        // still has it (results that shift while a listing pages, a server that shuffles).
        let mut unconfirmed: HashSet<String> = HashSet::new();
        let mut scan_error: Option<Error> = None;
        sink.scan(1000, &mut |page| {
            // Documents of a space whose listing failed stay; so do documents without a space,
            // which this sync cannot place.
            let mut listed_space: HashSet<&str> = HashSet::new();
            let candidates: Vec<&str> = page
                .iter()
                .filter(|d| match d.space_key.as_deref() {
                    _ if d.kind.as_deref().is_some_and(|k| protected.contains(&k)) => false,
                    Some(space) if keep_space.contains(space) => false,
                    Some(space) if crawled.contains(space) => {
                        if d.kind.as_deref() != Some("space") {
                            listed_space.insert(d.id.as_str());
                        }
                        true
                    }
                    Some(space) if guard_vanished => {
                        *vanished.entry(space.to_owned()).or_default() += 1;
                        false
                    }
                    Some(_) => incomplete.is_empty(),
                    None => false,
                })
                .map(|d| d.id.as_str())
                .collect();
            let unseen = checkpoint.unseen(candidates).and_then(|unseen| {
                let listed = unseen
                    .iter()
                    .filter(|id| listed_space.contains(id.as_str()))
                    .map(String::as_str);
                let unexplained = checkpoint.not_filtered(listed)?;
                Ok((unseen, unexplained))
            });
            match unseen {
                Ok((unseen, unexplained)) => {
                    unconfirmed.extend(unexplained);
                    doomed.extend(unseen);
                }
                Err(err) => scan_error = Some(err),
            }
            Ok(())
        })
        .await?;
        if let Some(err) = scan_error {
            return Err(err);
        }

        for (space, count) in &vanished {
            self.live.error(
                self.run.events,
                format!("space {space}"),
                format!(
                    "Confluence no longer lists this space (deleted, archived, or the crawler's \
                     permission removed?); its {count} documents were kept. Confirm their \
                     removal once (the dashboard's \"Sync and remove\" button, or \
                     `--allow-deletions` in the CLI)"
                ),
            );
        }
        let indexed = sink.count().await?;
        let options = &this.options;
        let ratio = options
            .max_deletion_ratio
            .unwrap_or(f64::from(this.config.deletion_threshold_percent) / 100.0);
        let allowed = (indexed as f64 * ratio).floor() as u64;
        if !options.allow_deletions && !doomed.is_empty() && doomed.len() as u64 > allowed {
            let changes = {
                let store = lock(&this.store);
                scope::last_full_sync(&store, &this.scope_key())?
                    .map(|previous| {
                        scope::scope_changes(&previous, &this.config, options.rules.as_ref())
                    })
                    .unwrap_or_default()
            };
            let why = if changes.is_empty() {
                "If so much content really is gone, raise the deletion threshold \
                 (`deletion_threshold_percent` of the connection, or \
                 `--max-deletion-percent` for one CLI run)"
                    .to_owned()
            } else {
                format!(
                    "The scope changed since the last sync ({}): confirm the removal once \
                     (the dashboard's \"Sync and remove\" button, or `--allow-deletions` in the CLI)",
                    changes.join("; ")
                )
            };
            self.live.error(
                self.run.events,
                "deletion phase",
                format!(
                    "refused to delete {} of {} documents ({:.0}%), above the safety threshold \
                     of {:.0}%; nothing was deleted. {why}",
                    doomed.len(),
                    indexed,
                    doomed.len() as f64 * 100.0 / indexed.max(1) as f64,
                    ratio * 100.0
                ),
            );
            return Ok(JobStatus::Failed);
        }
        let mut still_there = self.still_there(client, &unconfirmed).await;
        if self.lenient && !still_there.is_empty() {
            tracing::info!(
                kept = still_there.len(),
                "documents the reconciliation did not list still exist (search results lag)"
            );
            doomed.retain(|id| !still_there.contains(id));
            still_there.clear();
        }
        if !still_there.is_empty() {
            self.live.error(
                self.run.events,
                "listings",
                format!(
                    "{} documents the listings did not return still exist in Confluence \
                     (results that shifted while the listing paged, or a server that does not \
                     page reliably); they were kept and the next sync looks at them again",
                    still_there.len()
                ),
            );
            doomed.retain(|id| !still_there.contains(id));
        }
        for chunk in doomed.chunks(500) {
            let outcome = sink.delete(chunk.to_vec()).await?;
            self.counters.deleted_document_count += outcome.deleted;
            self.live
                .deleted
                .fetch_add(outcome.deleted, Ordering::Relaxed);
            let refused: HashSet<&str> = outcome.failed.iter().map(|f| f.id.as_str()).collect();
            let gone: Vec<String> = chunk
                .iter()
                .filter(|id| !refused.contains(id.as_str()))
                .cloned()
                .collect();
            lock(&this.store).remove_from_manifest(&self.manifest_scope, &gone)?;
            for item in outcome.failed {
                self.live.error(
                    self.run.events,
                    format!("document {}", item.id),
                    format!("could not be deleted: {}", item.reason),
                );
            }
        }
        sink.refresh().await?;
        Ok(
            if incomplete.is_empty()
                && vanished.is_empty()
                && still_there.is_empty()
                && self.counters.failed == 0
            {
                JobStatus::Completed
            } else {
                JobStatus::Partial
            },
        )
    }
}

/// The writer task: it returns the checkpoint and the bulk totals when the crawl is done.
pub(super) type WriterTask =
    tokio::task::JoinHandle<Result<(Checkpoint, crate::sink::BulkOutcome)>>;

/// What a checkpoint is valid for: the configuration (secrets excluded) and the rules.
fn fingerprint(config: &ConnectorConfig, rules: Option<&crate::rules::RuleSet>) -> String {
    serde_json::json!({
        "config": config,
        "rules": rules.map(crate::rules::RuleSet::recorded),
    })
    .to_string()
}

/// The resolver of a sync with document-level security: finds where space permissions come
/// from (a configuration error on Server/DC without a permission API), probing with a space in
/// scope (on Server/DC; Cloud has one source).
async fn acl_resolver(
    config: &ConnectorConfig,
    client: &ConfluenceClient,
    recorder: Arc<AclRecorder>,
) -> Result<AclResolver> {
    let probe = match config.spaces.iter().find(|k| k.as_str() != "*") {
        Some(key) => Some(key.clone()),
        // Cloud's permissions come with the space listing: nothing to probe.
        None if client.flavor() == crate::confluence::Flavor::Cloud => None,
        None => {
            let mut pager = client.space_pager()?;
            pager
                .next_page()
                .await?
                .and_then(|page| page.results.into_iter().find_map(|s| s.key))
        }
    };
    let source =
        crate::acl::prereq::detect(client, probe.as_deref(), &config.confluence_url).await?;
    Ok(AclResolver::new(client.clone(), source, recorder))
}

/// Stops the progress ticker when the sync ends, however it ends.
struct Ticker(tokio::task::JoinHandle<()>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The progress of a content sync now: documents listed, done and in all, the counters as the
/// target acknowledged them, what is under way, and whether Confluence's rate limit holds every
/// request.
fn snapshot(live: &Live, tally: &Tally, client: &ConfluenceClient, started: Instant) -> Progress {
    let stats = client.stats();
    let elapsed = started.elapsed().as_secs_f64();
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let docs_done = get(&live.docs_done);
    let docs_total = live.docs_total();
    Progress {
        elapsed_s: elapsed,
        docs_per_second: if elapsed > 0.0 {
            get(&live.docs_seen) as f64 / elapsed
        } else {
            0.0
        },
        docs_seen: get(&live.docs_seen),
        docs_listed: get(&live.docs_listed),
        docs_done,
        docs_total,
        counters: Counters {
            indexed_document_count: get(&live.indexed),
            indexed_document_volume: get(&live.volume),
            deleted_document_count: get(&live.deleted),
            created: get(&live.created),
            updated: get(&live.updated),
            skipped: get(&live.skipped),
            failed: get(&live.failed_docs),
            downloaded_bytes: get(&live.downloaded_bytes),
            resumed: get(&live.resumed),
            duplicates: get(&live.duplicates),
            retries: stats.retries,
            unchanged: get(&tally.unchanged),
            permissions_updated: get(&tally.permissions_updated),
            moved: get(&live.moved),
            ..Counters::default()
        },
        activity: live.activity.snapshot(),
        requests: stats.requests,
        rate_limit_waits: stats.rate_limited,
        rate_limit_wait_s: stats.rate_limit_wait_ms as f64 / 1000.0,
        rate_limit_resume_s: stats.paused_ms as f64 / 1000.0,
        spaces_done: get(&live.spaces_done),
        spaces_total: get(&live.spaces_total),
        current_spaces: live.current.lock().map(|c| c.clone()).unwrap_or_default(),
        eta_s: crate::events::eta(docs_total, docs_done, elapsed),
    }
}

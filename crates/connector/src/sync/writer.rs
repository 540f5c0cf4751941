//! The writer task of content syncs: records what the crawl sends in the checkpoint, compares
//! each document with the [`Manifest`] (unchanged: not written; access alone changed: only
//! `_allow_access_control` rewritten; otherwise written whole through the [`BulkWriter`]), and
//! every half second waits for the target to acknowledge what was sent, then checkpoints the
//! pages and listings that are fully written and records the documents in the manifest.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::checkpoint::{Checkpoint, ListingKey};
use super::crawl::{Item, Text};
use super::manifest::{Change, Hashes, Manifest, acl_hash};
use super::{Live, lock};
use crate::Result;
use crate::acl::AclRecorder;
use crate::document::Document;
use crate::events::EventHandler;
use crate::sink::{BulkOutcome, BulkWriter, IndexDoc, Sink};
use crate::store::{ManifestEntry, Store};

/// The writer checkpoints at least this often...
const SETTLE_EVERY: Duration = Duration::from_millis(500);
/// ...or after this many documents.
const SETTLE_DOCS: usize = 500;

/// What the writer counted besides the bulk writer's totals.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Documents not written because nothing changed.
    pub unchanged: AtomicU64,
    /// Documents whose access list alone was rewritten.
    pub permissions_updated: AtomicU64,
}

pub(crate) struct Writer<S: Sink + 'static> {
    pub sink: Arc<S>,
    pub events: EventHandler,
    pub checkpoint: Checkpoint,
    pub bulk: BulkWriter<S>,
    pub filter: Option<Arc<crate::rules::BasicFilter>>,
    pub live: Arc<Live>,
    pub manifest: Arc<Manifest>,
    pub store: Arc<Mutex<Store>>,
    pub scope_key: String,
    pub tally: Arc<Tally>,
    /// Units whose every document was sent, waiting for the target's acknowledgement.
    pending_units: Vec<(String, ListingKey)>,
    /// Listings whose every unit was sent.
    pending_listings: Vec<ListingKey>,
    /// Listings with a unit that failed: not checkpointed, so the next run lists them again.
    dirty: HashSet<ListingKey>,
    /// The unit of each document sent since the last settle.
    unit_of: HashMap<String, String>,
    /// Every document id written by this run.
    written: HashSet<String>,
    /// Every document whose access list alone was rewritten by this run.
    access_sent: HashSet<String>,
    /// Manifest entries of the documents sent since the last settle.
    entries: Vec<(String, ManifestEntry)>,
    /// Access lists to rewrite at the next settle, with their hashes.
    access: Vec<(String, Option<Vec<String>>, u64)>,
    /// Documents to forget in the manifest (written incomplete, or deleted).
    forget: Vec<String>,
    /// Document-level security: the resolver's record of every document's access, saved under
    /// this job as the sync goes.
    pub acl_snapshot: Option<(Arc<AclRecorder>, String)>,
    since_settle: usize,
    /// Documents pushed to the bulk writer since the last settle.
    unacknowledged: u64,
    last_settle: Instant,
}

/// Recorded accesses saved to the store at a settle once there are this many.
const ACL_SNAPSHOT_BATCH: usize = 2_000;

/// Copies the bulk writer's totals (the requests that ended) into the live counters.
fn show(live: &Live, totals: &BulkOutcome) {
    live.created.store(totals.created, Ordering::Relaxed);
    live.updated.store(totals.updated, Ordering::Relaxed);
    live.indexed
        .store(totals.created + totals.updated, Ordering::Relaxed);
    live.volume.store(totals.bytes, Ordering::Relaxed);
}

impl<S: Sink + 'static> Writer<S> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        sink: Arc<S>,
        events: EventHandler,
        checkpoint: Checkpoint,
        bulk: BulkWriter<S>,
        filter: Option<Arc<crate::rules::BasicFilter>>,
        live: Arc<Live>,
        manifest: Arc<Manifest>,
        store: Arc<Mutex<Store>>,
        scope_key: String,
        tally: Arc<Tally>,
    ) -> Writer<S> {
        Writer {
            sink,
            events,
            checkpoint,
            bulk,
            filter,
            live,
            manifest,
            store,
            scope_key,
            tally,
            pending_units: Vec::new(),
            pending_listings: Vec::new(),
            dirty: HashSet::new(),
            unit_of: HashMap::new(),
            written: HashSet::new(),
            access_sent: HashSet::new(),
            entries: Vec::new(),
            access: Vec::new(),
            forget: Vec::new(),
            acl_snapshot: None,
            since_settle: 0,
            unacknowledged: 0,
            last_settle: Instant::now(),
        }
    }

    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Item>,
    ) -> Result<(Checkpoint, BulkOutcome)> {
        while let Some(item) = rx.recv().await {
            match item {
                Item::Doc {
                    doc,
                    unit,
                    text,
                    claim,
                } => {
                    self.doc(*doc, unit, text).await?;
                    // In a bulk batch now (bounded apart): its place in the queue is free.
                    drop(claim);
                }
                Item::UnitDone { unit, listing, ok } => {
                    if ok {
                        self.pending_units.push((unit, listing));
                    } else {
                        self.dirty.insert(listing);
                    }
                }
                Item::ListingDone(listing) => self.pending_listings.push(listing),
                Item::Gone { unit, listing } => {
                    self.checkpoint.forget_unit(&unit)?;
                    self.pending_units.push((unit, listing));
                }
                Item::Seen(ids) => {
                    for (id, space) in ids {
                        self.checkpoint.see(&id, space.as_deref(), None)?;
                    }
                }
                Item::Access { ids, field } => {
                    let hash = acl_hash(&field);
                    for id in ids {
                        // Written whole by this run already, or not in the index. A later
                        // whole write of the same document carries the same access.
                        if self.written.contains(&id) || !self.access_sent.insert(id.clone()) {
                            continue;
                        }
                        match self.manifest.get(&id) {
                            Some(entry) if entry.acl != hash => {
                                self.access.push((id, field.clone(), hash));
                                self.since_settle += 1;
                            }
                            _ => {}
                        }
                    }
                }
            }
            if self.since_settle >= SETTLE_DOCS || self.last_settle.elapsed() >= SETTLE_EVERY {
                self.settle().await?;
            }
        }
        self.settle().await?;
        let totals = self.bulk.finish().await?;
        show(&self.live, &totals);
        self.live.activity.writing.store(0, Ordering::Relaxed);
        Ok((self.checkpoint, totals))
    }

    async fn doc(&mut self, mut doc: Document, unit: Option<String>, text: Text) -> Result<()> {
        // Whatever becomes of it, the run is done with it once it got here.
        self.live.docs_done.fetch_add(1, Ordering::Relaxed);
        // Filtered by basic rules: not seen, so an earlier copy is deleted.
        if self.filter.as_ref().is_some_and(|f| !f.admit(&doc)) {
            self.live.skipped.fetch_add(1, Ordering::Relaxed);
            self.checkpoint.filter_out(&doc.id)?;
            return Ok(());
        }
        // Deletion works per space: a document without its space could never be deleted
        // again, so it is not written.
        if doc.space_key.is_none() {
            self.live
                .fail(&doc.id, "no space key in Confluence's answer");
            self.live.error(
                &self.events,
                format!("document {}", doc.id),
                "Confluence's answer names no space for it (a proxy that trims fields?); not \
                 written, so that it cannot become an orphan",
            );
            return Ok(());
        }
        // Written once per run, however often the listings return it.
        if !self.written.insert(doc.id.clone()) {
            self.live.duplicates.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        self.checkpoint
            .see(&doc.id, doc.space_key.as_deref(), unit.as_deref())?;
        self.live.docs_seen.fetch_add(1, Ordering::Relaxed);

        let hashes = Hashes::of(&doc);
        let previous = self.manifest.get(&doc.id);
        match hashes.compare(previous, text == Text::Reused) {
            Change::Unchanged => {
                self.tally.unchanged.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Change::AccessOnly => {
                if let Some(unit) = unit {
                    self.unit_of.insert(doc.id.clone(), unit);
                }
                self.access
                    .push((doc.id.clone(), doc.allow_access_control.clone(), hashes.acl));
                self.since_settle += 1;
                return Ok(());
            }
            Change::New | Change::Changed => {}
        }
        match text {
            Text::Fresh => self
                .entries
                .push((doc.id.clone(), hashes.entry(&doc, previous))),
            // Not recorded: the next run fetches its text again.
            Text::KeepPrevious => {
                keep_previous_text(&*self.sink, &mut doc).await;
                self.forget.push(doc.id.clone());
            }
            // Metadata unchanged is what made the text reusable, so this is a document whose
            // indexed copy changed meanwhile: its text is taken over as it is, and it is
            // fetched again next time.
            Text::Reused => {
                if let Ok(Some(previous)) = self.sink.get(&doc.id).await {
                    let text = |key: &str| {
                        previous
                            .get(key)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned)
                    };
                    doc.body = text("body");
                    doc.extraction_note = text("extraction_note");
                }
                self.forget.push(doc.id.clone());
            }
        }
        if let Some(unit) = unit {
            self.unit_of.insert(doc.id.clone(), unit);
        }
        self.bulk
            .push(IndexDoc {
                id: doc.id.clone(),
                space_key: doc.space_key.clone(),
                timestamp: doc.timestamp.clone(),
                source: doc.to_source(),
            })
            .await?;
        self.since_settle += 1;
        self.unacknowledged += 1;
        self.show_totals();
        Ok(())
    }

    /// Shows what the target acknowledged so far in the live counters.
    fn show_totals(&self) {
        let totals = self.bulk.totals();
        show(&self.live, totals);
        self.live
            .activity
            .writing
            .store(self.unacknowledged, Ordering::Relaxed);
    }

    /// Waits for the target to acknowledge everything sent, then checkpoints the units and
    /// listings that are fully written and records the acknowledged documents in the manifest.
    async fn settle(&mut self) -> Result<()> {
        let mut failures = self.bulk.settle().await?;
        self.unacknowledged = 0;
        self.show_totals();
        let access = std::mem::take(&mut self.access);
        let mut access_hashes = Vec::with_capacity(access.len());
        for chunk in access.chunks(500) {
            let docs = chunk
                .iter()
                .map(|(id, field, _)| (id.clone(), field.clone()))
                .collect();
            let outcome = match self.sink.update_access(docs).await {
                Ok(outcome) => outcome,
                Err(err) => BulkOutcome {
                    failed: chunk
                        .iter()
                        .map(|(id, _, _)| crate::sink::ItemError {
                            id: id.clone(),
                            op: crate::sink::BulkOp::SetAccess,
                            status: None,
                            reason: err.to_string(),
                        })
                        .collect(),
                    ..BulkOutcome::default()
                },
            };
            let refused: HashSet<&str> = outcome.failed.iter().map(|f| f.id.as_str()).collect();
            for (id, _, hash) in chunk {
                if !refused.contains(id.as_str()) {
                    access_hashes.push((id.clone(), *hash));
                }
            }
            self.tally
                .permissions_updated
                .fetch_add(outcome.updated, Ordering::Relaxed);
            failures.extend(outcome.failed);
        }
        let mut failed_units: HashSet<&str> = HashSet::new();
        let mut failed_ids: HashSet<&str> = HashSet::new();
        for failure in &failures {
            failed_ids.insert(&failure.id);
            if let Some(unit) = self.unit_of.get(&failure.id) {
                failed_units.insert(unit);
            }
            self.live.fail(
                &failure.id,
                format!("the target rejected it: {}", failure.reason),
            );
        }
        let mut units = Vec::new();
        for (unit, listing) in self.pending_units.drain(..) {
            if failed_units.contains(unit.as_str()) {
                self.dirty.insert(listing);
            } else {
                units.push(unit);
            }
        }
        let listings: Vec<ListingKey> = self
            .pending_listings
            .drain(..)
            .filter(|l| !self.dirty.contains(l))
            .collect();
        self.checkpoint.commit(&units, &listings)?;
        // A document the target refused is in an unknown state there: forgotten, so the next
        // run writes it again.
        let entries: Vec<(String, ManifestEntry)> = self
            .entries
            .drain(..)
            .filter(|(id, _)| !failed_ids.contains(id.as_str()))
            .collect();
        let mut forget = std::mem::take(&mut self.forget);
        forget.extend(failed_ids.iter().map(|id| (*id).to_owned()));
        {
            let mut store = lock(&self.store);
            store.upsert_manifest(&self.scope_key, &entries)?;
            store.update_manifest_access(&self.scope_key, &access_hashes)?;
            store.remove_from_manifest(&self.scope_key, &forget)?;
            if let Some((recorder, job_id)) = &self.acl_snapshot
                && recorder.pending() >= ACL_SNAPSHOT_BATCH
            {
                store.record_doc_acls(job_id, recorder)?;
            }
        }
        self.unit_of.clear();
        self.since_settle = 0;
        self.last_settle = Instant::now();
        Ok(())
    }
}

/// A document whose text could not be fetched this time (a failed download or extraction)
/// keeps the text the index already has: a transient failure never erases what an earlier
/// sync found. Its metadata and access are still updated.
pub(crate) async fn keep_previous_text<S: Sink>(sink: &S, doc: &mut Document) {
    let previous = match sink.get(&doc.id).await {
        Ok(Some(previous)) => previous,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(%err, id = %doc.id, "could not read the indexed copy");
            return;
        }
    };
    if let Some(body) = previous
        .get("body")
        .and_then(|b| b.as_str())
        .filter(|b| !b.is_empty())
    {
        doc.body = Some(body.to_owned());
        doc.extraction_note = Some(format!(
            "{}; the text indexed by an earlier sync is kept",
            doc.extraction_note
                .as_deref()
                .unwrap_or("not fetched this time")
        ));
    }
}

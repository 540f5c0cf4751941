//! The incremental sync: only what changed since the cursor, plus a cheap reconciliation.
//!
//! 1. **Cursor.** The start of the last sync whose listings all completed (saved by
//!    [`save_cursor`] once everything before it is written), minus an overlap window (search
//!    results lag behind edits, clocks differ). CQL reads date literals in the crawling user's
//!    time zone, to the minute, so the cursor is written in that zone ([`since_literal`]).
//!    Without a cursor, with another scope or with an empty manifest, the run is a full sync
//!    and says so.
//! 2. **Reconciliation** (id-only listings, largest pages, smallest expansions): every page and
//!    blog post in scope with its version, ancestors and space (and read restrictions with
//!    document-level security), every comment and attachment id. Compared with the
//!    [`Manifest`]: new or restored items, edits the delta missed, moves (another space or
//!    parent, or an ancestor renamed) are fetched again; items whose computed access differs
//!    get only their access list rewritten, with their attachments and comments.
//! 3. **Delta**: `lastmodified >= "<cursor>"` over pages and blog posts (processed like the full
//!    crawl: labels, attachments, comments) and over comments and attachments (their container
//!    is fetched again). Failed documents of earlier runs are fetched again too.
//! 4. **Deletions**: the full sync's deletion phase over what the reconciliation listed: only
//!    complete listings delete, under the same threshold and scope-change rules, and every
//!    candidate is confirmed gone by Confluence first.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::{StreamExt, stream};
use tokio::sync::Semaphore;

use super::checkpoint::{Checkpoint, ListingKey, checkpoint_path, remove_files};
use super::crawl::{self, Comments, Item, SpaceOutcome};
use super::full::FullSync;
use super::manifest::{Manifest, acl_hash, place_hash};
use super::{Live, Step, lock};
use crate::acl::{AclResolver, AclStore, Derivation};
use crate::config::ConnectorConfig;
use crate::confluence::{
    ClientError, ConfluenceClient, Content, Flavor, Identity, Space, V2Content, v2_units,
};
use crate::document::{Document, site_links};
use crate::events::{SyncEvent, SyncPhase};
use crate::sink::Sink;
use crate::store::{DeltaInfo, JobStatus, SpaceRef, Store, SyncCursor};
use crate::{Error, Result};

/// Spaces per CQL query (`space in (...)`), to keep URLs short.
const SPACES_PER_QUERY: usize = 40;
/// Ids per `id in (...)` query (the crawl's page size with a body expansion).
const IDS_PER_QUERY: usize = 50;
/// Pages and blog posts the manifest knows per reconciliation listing of several spaces: what
/// one page holds (v2: 250; v1 with the restriction expansions: 200), less room for growth
/// since the last sync.
const UNITS_PER_LISTING: usize = 200;
/// Comments and attachments the manifest knows per id listing of several spaces: what
/// `content/search` returns in one page (1,000), less room for growth.
const CHILDREN_PER_LISTING: usize = 800;

/// Where an incremental sync starts, decided before it runs.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub cursor: SyncCursor,
}

/// What the cursor of a scope is valid for: the configuration's content settings and the
/// rules. Another value means the scope changed: the next incremental runs as a full sync.
pub(crate) fn cursor_fingerprint(
    config: &ConnectorConfig,
    rules: Option<&crate::rules::RuleSet>,
) -> String {
    serde_json::json!({
        "settings": super::manifest::content_settings(config),
        "rules": rules.map(crate::rules::RuleSet::recorded),
    })
    .to_string()
}

/// The plan of an incremental sync of `scope_key`, or why it must run as a full sync.
pub(crate) fn plan(
    store: &Store,
    scope_key: &str,
    config: &ConnectorConfig,
    rules: Option<&crate::rules::RuleSet>,
) -> Result<std::result::Result<Plan, String>> {
    if rules.is_some_and(|r| r.has_advanced()) {
        return Ok(Err(
            "Advanced sync rules replace the crawl with CQL queries; an incremental \
             sync of them runs as a full sync (which skips unchanged documents)."
                .to_owned(),
        ));
    }
    let Some(cursor) = store.sync_cursor(scope_key)? else {
        return Ok(Err(
            "No earlier sync of this connection listed everything: this \
             incremental sync ran as a full sync."
                .to_owned(),
        ));
    };
    if cursor.fingerprint != cursor_fingerprint(config, rules) {
        return Ok(Err(
            "The spaces, sync rules or content settings changed since the last \
             sync: this incremental sync ran as a full sync."
                .to_owned(),
        ));
    }
    Ok(Ok(Plan { cursor }))
}

/// Saves `cursor` (the start of a sync whose listings all completed, with its hints) as the
/// next one, valid for `config` and `rules`.
pub(crate) fn save_cursor(
    store: &Store,
    scope_key: &str,
    cursor: SyncCursor,
    config: &ConnectorConfig,
    rules: Option<&crate::rules::RuleSet>,
) -> Result<()> {
    store.set_sync_cursor(
        scope_key,
        &SyncCursor {
            fingerprint: cursor_fingerprint(config, rules),
            ..cursor
        },
    )
}

/// The CQL literal (`yyyy-MM-dd HH:mm`) of `since` in the time zone Confluence reads the
/// crawling user's literals in, rounded down to the minute, and the zone's name. Without a
/// known zone the literal is UTC minus 12 hours, which is at or before `since` in every zone
/// (UTC-12 is the westernmost). A local time that occurs twice (the hour clocks go back) is
/// moved an hour earlier, so that either reading is at or before `since`.
pub(crate) fn since_literal(since: DateTime<Utc>, zone: Option<&str>) -> (String, String) {
    const FORMAT: &str = "%Y-%m-%d %H:%M";
    match zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => {
            let local = since.with_timezone(&tz).naive_local();
            let local = match tz.from_local_datetime(&local) {
                chrono::LocalResult::Ambiguous(..) => local - chrono::Duration::hours(1),
                _ => local,
            };
            (local.format(FORMAT).to_string(), tz.name().to_owned())
        }
        None => (
            (since - chrono::Duration::hours(12))
                .format(FORMAT)
                .to_string(),
            "unknown (Confluence did not say; the literal looks back 12 hours further, which \
             covers every zone)"
                .to_owned(),
        ),
    }
}

impl<S: Sink + AclStore + 'static> FullSync<'_, '_, S> {
    /// Runs the incremental sync of `plan` (see the module documentation).
    pub(super) async fn incremental(
        &mut self,
        client: &ConfluenceClient,
        acl: Option<Arc<AclResolver>>,
        identity: &Identity,
        plan: Plan,
        spaces: Option<Vec<Space>>,
        early: Vec<EarlyListing>,
    ) -> Result<JobStatus> {
        let this = self.run.job;
        let options = &this.options;
        let key = this.scope_key();
        let manifest =
            Arc::new(super::manifest::load(&this.store, &key, &this.config, &*this.sink).await?);
        if manifest.is_empty() {
            self.notes.push(
                "The index holds none of what the last sync wrote (a new or emptied index): \
                 this incremental sync ran as a full sync."
                    .to_owned(),
            );
            self.ran_full = true;
            return self.crawl_and_reconcile(client, acl, spaces).await;
        }

        // The delta's cursor.
        let since = DateTime::parse_from_rfc3339(&plan.cursor.since)
            .map_err(|e| Error::InvalidInput(format!("the stored sync cursor is unreadable: {e}")))?
            .with_timezone(&Utc)
            - chrono::Duration::from_std(options.overlap).unwrap_or_default();
        let (literal, zone) = since_literal(since, identity.time_zone.as_deref());
        self.delta = Some(DeltaInfo {
            since: since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            since_literal: literal.clone(),
            time_zone: zone,
            overlap_s: options.overlap.as_secs(),
            cursor_job: plan.cursor.job_id.clone(),
            reconciled: false,
        });

        let work_dir = &options.work_dir;
        std::fs::create_dir_all(work_dir).map_err(|source| Error::Io {
            context: format!("creating the work directory `{}`", work_dir.display()),
            source,
        })?;
        let checkpoint_file = checkpoint_path(work_dir, &format!("{key}#incremental"));
        remove_files(&checkpoint_file);
        let (checkpoint, _) = Checkpoint::open(&checkpoint_file, "incremental")?;
        let filter = crate::rules::sync_filter(options.rules.as_ref(), client.flavor())?;
        let spool_dir = work_dir.join(format!("spool-{}", self.job_id));
        let (tx, writer) = self.spawn_writer(checkpoint, filter.clone(), manifest.clone());
        let crawl = crawl::Crawl {
            config: &this.config,
            client,
            options,
            events: self.events(),
            cancel: &self.crawl_stop,
            live: &self.live,
            tx,
            acl: acl.clone(),
            resume: Arc::new(Default::default()),
            spool_dir: spool_dir.clone(),
            manifest: manifest.clone(),
            listed_spaces: spaces,
            filter: filter.clone(),
            memory: super::memory::MemoryBudget::default(),
        };
        let mut delta = Delta {
            spaces_by_key: Default::default(),
            early: std::sync::Mutex::new(early),
            listings: Default::default(),
            crawl: &crawl,
            manifest: &manifest,
            acl: acl.as_deref(),
            live: &self.live,
            literal,
            store: &this.store,
            key: &key,
        };
        let started = std::time::Instant::now();
        let outcome = delta.run().await;
        tracing::debug!(elapsed = ?started.elapsed(), "incremental: listed, reconciled and fetched");
        let listings = std::mem::take(&mut *lock_any(&delta.listings));
        drop(crawl);
        self.listings = listings;
        self.live.listings_ended.store(true, Ordering::Relaxed);
        (self.events())(&SyncEvent::Phase {
            phase: SyncPhase::Writing,
        });
        let _ = std::fs::remove_dir_all(&spool_dir);
        let (mut checkpoint, totals) = writer.await.map_err(|e| Error::Io {
            context: "the index writer stopped".into(),
            source: std::io::Error::other(e),
        })??;
        tracing::debug!(elapsed = ?started.elapsed(), "incremental: writer done");
        self.tally_up(&totals, filter.as_deref());
        let DeltaOutcome {
            mut spaces,
            delta_complete,
            moved,
            retried,
        } = outcome?;
        self.counters.moved = moved;
        if let Some(delta) = &mut self.delta {
            delta.reconciled = options.reconcile;
        }
        if this.cancel.is_cancelled() {
            remove_files(&checkpoint_file);
            return Ok(JobStatus::Canceled);
        }
        if !options.reconcile {
            // The delta alone: nothing is known to be gone, nothing is deleted.
            checkpoint.finish();
            self.listings_complete = delta_complete;
            return Ok(if delta_complete && self.counters.failed == 0 {
                JobStatus::Completed
            } else {
                JobStatus::Partial
            });
        }
        let protected = self.route_report(&mut spaces);
        self.listings_complete = delta_complete && spaces.iter().all(|s| s.complete);
        self.lenient = true;
        let mut status = self
            .delete_unseen(client, &spaces, &protected, &mut checkpoint)
            .await?;
        tracing::debug!(elapsed = ?started.elapsed(), "incremental: deletion phase done");
        checkpoint.finish();
        if status == JobStatus::Completed && (!protected.is_empty() || !delta_complete) {
            status = JobStatus::Partial;
        }
        // Documents that failed before and were written now.
        let failed_now: HashSet<String> = self
            .live
            .failed
            .lock()
            .map(|f| f.iter().map(|(id, _)| id.clone()).collect())
            .unwrap_or_default();
        let healed: Vec<String> = retried
            .into_iter()
            .filter(|id| !failed_now.contains(id))
            .collect();
        lock(&this.store).clear_failed_documents(&key, &healed)?;
        Ok(status)
    }
}

/// A page or blog post of the reconciliation listing, with its access when document-level
/// security is on.
type Listed = (Content, Option<(crate::acl::Access, Derivation)>);

/// What the delta did while the reconciliation listed.
struct Early {
    /// The pages and blog posts processed.
    processed: HashSet<String>,
    /// Whether the delta's listings and fetches completed.
    delta_complete: bool,
    /// Documents of earlier failures that were fetched again.
    retried: Vec<String>,
}

/// Locks `m`, whatever a panicking holder left in it.
fn lock_any<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the delta lists in a group of spaces: the changed pages and blog posts, and the
/// containers of changed comments and attachments (true: of a comment).
type Changes = (Vec<Content>, Vec<(String, bool)>);

/// What the delta and the reconciliation found.
struct DeltaOutcome {
    spaces: Vec<SpaceOutcome>,
    /// Whether the delta's listings completed (else the cursor stays where it was).
    delta_complete: bool,
    moved: u64,
    /// Documents of earlier failures that were fetched again.
    retried: Vec<String>,
}

struct Delta<'a, 'c> {
    crawl: &'a crawl::Crawl<'c>,
    manifest: &'a Manifest,
    acl: Option<&'a AclResolver>,
    live: &'a Arc<Live>,
    literal: String,
    store: &'a std::sync::Mutex<Store>,
    key: &'a str,
    /// The spaces in scope by key (id, key and name), from the space listing.
    spaces_by_key: std::collections::HashMap<String, Space>,
    /// Reconciliation listings started with the sign-in ([`start_early_listings`]).
    early: std::sync::Mutex<Vec<EarlyListing>>,
    /// The reconciliation listings this run made, for the next run to start early.
    listings: std::sync::Mutex<Vec<Vec<SpaceRef>>>,
}

/// A reconciliation listing started with the sign-in, from the last sync's listings (see
/// [`SyncCursor::listings`]); stopped when dropped unused.
pub(crate) struct EarlyListing {
    spaces: Vec<Space>,
    task: tokio::task::JoinHandle<Vec<(String, Result<Vec<Content>>)>>,
}

impl Drop for EarlyListing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the reconciliation listings of the last sync (`listings`) at once, before the
/// sign-in and the space listing answer: [`Delta::list_units`] keeps a listing only if every
/// space in it is still in scope with the same id and name, and lists the others itself.
pub(crate) fn start_early_listings(
    client: &ConfluenceClient,
    listings: &[Vec<SpaceRef>],
    with_restrictions: bool,
) -> Vec<EarlyListing> {
    listings
        .iter()
        .filter(|group| !group.is_empty())
        .filter_map(|group| {
            let spaces: Vec<Space> = group
                .iter()
                .map(|s| Space {
                    key: Some(s.key.clone()),
                    id: s.id.clone(),
                    name: s.name.clone(),
                    ..Space::default()
                })
                .collect();
            let v2 = client.flavor() == Flavor::Cloud && spaces.iter().all(|s| s.id.is_some());
            if !v2 && spaces.len() > 1 {
                return None;
            }
            let client = client.clone();
            let listing = UnitListing::Now {
                v2,
                spaces: spaces.clone(),
            };
            let task = tokio::spawn(async move { listing.run(&client, with_restrictions).await });
            Some(EarlyListing { spaces, task })
        })
        .collect()
}

/// One reconciliation listing of [`Delta::list_units`].
enum UnitListing {
    /// Started with the sign-in.
    Early(EarlyListing),
    /// To make now: through v2 (several spaces) or v1 (one space).
    Now { v2: bool, spaces: Vec<Space> },
}

impl UnitListing {
    fn spaces(&self) -> &[Space] {
        match self {
            UnitListing::Early(e) => &e.spaces,
            UnitListing::Now { spaces, .. } => spaces,
        }
    }

    async fn run(
        self,
        client: &ConfluenceClient,
        with_restrictions: bool,
    ) -> Vec<(String, Result<Vec<Content>>)> {
        match self {
            UnitListing::Early(mut early) => match (&mut early.task).await {
                Ok(units) => units,
                Err(err) => early
                    .spaces
                    .iter()
                    .map(|space| {
                        let key = space.key.clone().unwrap_or_default();
                        let error = Error::Io {
                            context: format!("listing the pages and blog posts of space {key}"),
                            source: std::io::Error::other(err.to_string()),
                        };
                        (key, Err(error))
                    })
                    .collect(),
            },
            UnitListing::Now { v2: true, spaces } => {
                list_cloud_units(client, &spaces, with_restrictions).await
            }
            UnitListing::Now { v2: false, spaces } => {
                let space = &spaces[0];
                let key = space.key.clone().unwrap_or_default();
                vec![(key, list_v1_units(client, space, with_restrictions).await)]
            }
        }
    }
}

impl Delta<'_, '_> {
    async fn run(&mut self) -> Result<DeltaOutcome> {
        let crawl = self.crawl;
        let events = crawl.events;
        let links = site_links(crawl.client);

        // Spaces: their documents go through the writer (unchanged ones are not written).
        events(&SyncEvent::Phase {
            phase: SyncPhase::ListingSpaces,
        });
        let (spaces, missing) = crawl.spaces_in_scope().await?;
        let keys: Vec<String> = spaces.iter().filter_map(|s| s.key.clone()).collect();
        self.spaces_by_key = spaces
            .iter()
            .filter_map(|s| {
                let space = Space {
                    id: s.id.clone(),
                    key: s.key.clone(),
                    name: s.name.clone(),
                    ..Space::default()
                };
                Some((s.key.clone()?, space))
            })
            .collect();
        self.live
            .spaces_total
            .store(keys.len() as u64, Ordering::Relaxed);
        // The space documents are written beside the listings below: their access needs each
        // space's permissions (on Cloud a request per space), read all at once.
        let space_docs: Vec<(&Space, Document)> = spaces
            .iter()
            .filter_map(|space| Some((space, Document::from_space(space, &links)?)))
            .collect();
        self.live.listed(space_docs.len() as u64);
        let write_spaces = async {
            if let Some(acl) = crawl.acl.as_ref() {
                acl.prefetch_spaces(&spaces).await;
            }
            for (space, mut doc) in space_docs {
                if let Some(acl) = crawl.acl.as_ref() {
                    let key = space.key.clone().unwrap_or_default();
                    let (access, derivation) = acl.space_access(&key, Some(space)).await;
                    crawl.apply_acl(&mut doc, &access, &derivation);
                }
                crawl.send(doc, None).await;
            }
        };

        // Every listing at once: the reconciliation of each space, the ids of comments and
        // attachments, and the delta, a group of spaces per query. What the delta names is
        // fetched and written while the reconciliation still lists.
        events(&SyncEvent::Phase {
            phase: SyncPhase::Reconciling,
        });
        let groups: Vec<&[String]> = keys.chunks(SPACES_PER_QUERY).collect();
        // Child ids: groups of spaces that fit a page each, side by side.
        let child_groups = pack(
            &keys,
            |key| self.manifest.space_size(key).children,
            CHILDREN_PER_LISTING,
        );
        let child_groups: Vec<&[String]> = child_groups.iter().map(Vec::as_slice).collect();
        let reconcile = crawl.options.reconcile;
        let no_keys: &[String] = &[];
        let downloads = Arc::new(Semaphore::new(
            crawl.config.concurrent_downloads.clamp(1, 50) as usize,
        ));
        // Expected so far: the spaces; the delta and the reconciliation add what they fetch.
        self.live.docs_expected.store(
            self.live.docs_listed.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        let (units, children, early, ()) = tokio::join!(
            self.list_units(if reconcile { &keys } else { no_keys }),
            self.list_children(if reconcile { &child_groups } else { &[] }),
            self.delta(&groups, &links, &downloads),
            write_spaces,
        );
        let Early {
            mut processed,
            mut delta_complete,
            retried,
        } = early?;
        tracing::debug!("incremental: every listing is in");

        let mut refetch: BTreeSet<String> = BTreeSet::new();
        let mut complete_spaces: HashSet<String> = HashSet::new();
        let mut moved = 0;
        let mut listed = Vec::new();
        for (key, result) in units {
            match result {
                Ok(units) => {
                    complete_spaces.insert(key);
                    listed.extend(units);
                }
                Err(err) => self
                    .live
                    .error(events, format!("space {key}"), err.to_string()),
            }
        }
        // The listings are in: rewrite the access lists that changed (and note what moved).
        if crawl.acl.is_some() {
            events(&SyncEvent::Phase {
                phase: SyncPhase::UpdatingAccess,
            });
        }
        match self.reconcile_units(listed, &links, &mut refetch).await {
            Ok(n) => {
                moved = n;
                self.live.moved.store(n, Ordering::Relaxed);
            }
            Err(err) => {
                complete_spaces.clear();
                self.live.error(events, "reconciliation", err.to_string());
            }
        }
        tracing::debug!("incremental: places and access compared");
        let mut unknown = Vec::new();
        for (group, result) in child_groups.iter().zip(children) {
            match result {
                Ok((seen, new)) => {
                    crawl.mark(Item::Seen(seen)).await;
                    unknown.extend(new);
                }
                Err(err) => {
                    for key in group.iter() {
                        complete_spaces.remove(key);
                    }
                    self.live.error(
                        events,
                        format!("spaces {}", group.join(", ")),
                        err.to_string(),
                    );
                }
            }
        }
        // Comments and attachments the index lacks (restored, or missed by an earlier delta):
        // their containers are fetched again.
        for chunk in unknown.chunks(IDS_PER_QUERY) {
            match self.crawl.client.content_by_ids(chunk) {
                Ok(pager) => match pager.collect_all().await {
                    Ok(found) => refetch.extend(found.iter().filter_map(container_of)),
                    Err(err) => {
                        delta_complete = false;
                        self.live
                            .error(events, "new comments and attachments", err.to_string());
                    }
                },
                Err(err) => return Err(err.into()),
            }
        }
        let mut outcomes: Vec<SpaceOutcome> = missing
            .into_iter()
            .map(|key| SpaceOutcome {
                key,
                complete: false,
            })
            .collect();
        outcomes.extend(keys.iter().map(|key| SpaceOutcome {
            key: key.clone(),
            complete: complete_spaces.contains(key),
        }));

        // What the reconciliation found that the delta did not: new, restored and moved
        // pages and blog posts, and the containers of unknown comments and attachments.
        events(&SyncEvent::Phase {
            phase: SyncPhase::Crawling,
        });
        refetch.retain(|id| !processed.contains(id));
        self.expect(refetch.iter());
        if let Err(err) = self
            .fetch_units(refetch, &links, &downloads, &mut processed, None)
            .await
        {
            delta_complete = false;
            self.live.error(
                events,
                "new and moved pages and blog posts",
                err.to_string(),
            );
        }
        self.live
            .spaces_done
            .store(keys.len() as u64, Ordering::Relaxed);
        Ok(DeltaOutcome {
            spaces: outcomes,
            delta_complete: delta_complete && !crawl.cancel.is_cancelled(),
            moved,
            retried,
        })
    }

    /// The delta: lists what changed since the cursor, per group of spaces, and processes it
    /// at once: the changed pages and blog posts, the containers of changed comments and
    /// attachments, and the documents that failed before.
    async fn delta(
        &self,
        groups: &[&[String]],
        links: &crate::document::SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> Result<Early> {
        let events = self.crawl.events;
        let mut delta_complete = true;
        let mut changed_units = Vec::new();
        let mut refetch: BTreeSet<String> = BTreeSet::new();
        // The items whose comments are listed again: containers of changed comments, earlier
        // failures (a container of changed attachments alone keeps its comments).
        let mut listed_comments: BTreeSet<String> = BTreeSet::new();
        for (group, result) in groups.iter().zip(self.list_changes(groups).await) {
            match result {
                Ok((units, containers)) => {
                    changed_units.extend(units);
                    for (container, comment) in containers {
                        if comment {
                            listed_comments.insert(container.clone());
                        }
                        refetch.insert(container);
                    }
                }
                Err(err) => {
                    delta_complete = false;
                    self.live.error(
                        events,
                        format!("changes in spaces {}", group.join(", ")),
                        err.to_string(),
                    );
                }
            }
        }
        let mut processed: HashSet<String> = HashSet::new();
        changed_units.retain(|c| c.id.as_ref().is_some_and(|id| processed.insert(id.clone())));
        let failed = lock(self.store).failed_documents(self.key, 10_000)?;
        let retried: Vec<String> = failed.into_iter().map(|f| f.doc_id).collect();
        for id in &retried {
            let unit = self
                .manifest
                .get(id)
                .and_then(|e| e.unit.clone())
                .unwrap_or_else(|| id.clone());
            listed_comments.insert(unit.clone());
            refetch.insert(unit);
        }
        refetch.retain(|id| !processed.contains(id));
        let changed_ids: Vec<&String> =
            changed_units.iter().filter_map(|c| c.id.as_ref()).collect();
        self.expect(changed_ids.into_iter().chain(refetch.iter()));
        // The changed pages at hand and the ones fetched by id, side by side.
        let (changed, fetched) = tokio::join!(
            self.process(changed_units, links, downloads, Some(&listed_comments)),
            self.fetch_units(
                refetch,
                links,
                downloads,
                &mut processed,
                Some(&listed_comments)
            ),
        );
        for result in [changed, fetched] {
            if let Err(err) = result {
                delta_complete = false;
                self.live
                    .error(events, "changed pages and blog posts", err.to_string());
            }
        }
        Ok(Early {
            processed,
            delta_complete,
            retried,
        })
    }

    /// Adds to the documents expected the pages and blog posts `units` and, as far as the
    /// manifest knows, their attachments and comments (new ones are counted as listed).
    fn expect<'i>(&self, units: impl Iterator<Item = &'i String>) {
        let expected: usize = units.map(|id| 1 + self.manifest.children(id).len()).sum();
        self.live
            .docs_expected
            .fetch_add(expected as u64, Ordering::Relaxed);
    }

    /// The reconciliation listing of every space, all at once (the request permits bound
    /// them). On Cloud the pages and blog posts come from REST v2 (parents, titles and
    /// versions, 250 a page), several spaces per listing as the manifest sizes them, and, with
    /// document-level security, their restrictions from one v1 listing of the same spaces
    /// beside it; elsewhere, or where a proxy hides v2, from v1 with `children.page`, a space
    /// per listing. Each space's access is computed as soon as its listing is in.
    async fn list_units(&self, keys: &[String]) -> Vec<(String, Result<Vec<Listed>>)> {
        let client = self.crawl.client;
        let with_restrictions = self.acl.is_some();
        let space_of = |key: &String| {
            self.spaces_by_key.get(key).cloned().unwrap_or(Space {
                key: Some(key.clone()),
                ..Space::default()
            })
        };
        let (v2_keys, v1_keys): (Vec<String>, Vec<String>) =
            keys.iter().cloned().partition(|key| {
                client.flavor() == Flavor::Cloud
                    && self.spaces_by_key.get(key).is_some_and(|s| s.id.is_some())
            });
        // The listings started with the sign-in whose spaces are all still in scope, unchanged;
        // the others are stopped.
        let in_scope: HashSet<&String> = keys.iter().collect();
        let mut covered: HashSet<String> = HashSet::new();
        let mut groups: Vec<UnitListing> = Vec::new();
        for early in std::mem::take(&mut *lock_any(&self.early)) {
            let current = early.spaces.iter().all(|s| {
                s.key.as_ref().is_some_and(|key| {
                    in_scope.contains(key)
                        && !covered.contains(key)
                        && self
                            .spaces_by_key
                            .get(key)
                            .is_some_and(|now| now.id == s.id && now.name == s.name)
                })
            });
            if current {
                covered.extend(early.spaces.iter().filter_map(|s| s.key.clone()));
                groups.push(UnitListing::Early(early));
            }
        }
        let v2_keys: Vec<String> = v2_keys
            .into_iter()
            .filter(|k| !covered.contains(k))
            .collect();
        let size = |key: &str| self.manifest.space_size(key).units;
        groups.extend(
            pack(&v2_keys, size, UNITS_PER_LISTING)
                .into_iter()
                .map(|group| UnitListing::Now {
                    v2: true,
                    spaces: group.iter().map(space_of).collect(),
                }),
        );
        groups.extend(v1_keys.iter().filter(|k| !covered.contains(*k)).map(|key| {
            UnitListing::Now {
                v2: false,
                spaces: vec![space_of(key)],
            }
        }));
        *lock_any(&self.listings) = groups
            .iter()
            .map(|g| {
                g.spaces()
                    .iter()
                    .map(|s| SpaceRef {
                        key: s.key.clone().unwrap_or_default(),
                        id: s.id.clone(),
                        name: s.name.clone(),
                    })
                    .collect()
            })
            .collect();
        let acl = self.crawl.acl.clone();
        let live = self.live.clone();
        let fan_out = groups.len().max(1);
        let listed: Vec<Vec<(String, Result<Vec<Listed>>)>> = stream::iter(groups)
            .map(move |group| {
                let (client, acl, live) = (client.clone(), acl.clone(), live.clone());
                async move {
                    let listing = live.busy(Step::Listing);
                    let spaces = group.spaces().len();
                    let units = group.run(&client, with_restrictions).await;
                    // Access while other spaces are still being listed: every item's own
                    // restriction first (its descendants, all in its space, need it), then
                    // each item's access.
                    let out =
                        futures_util::future::join_all(units.into_iter().map(|(key, units)| {
                            let acl = acl.clone();
                            async move {
                                let Ok(units) = units else {
                                    return (key, units.map(|_| Vec::new()));
                                };
                                let Some(acl) = acl else {
                                    return (
                                        key,
                                        Ok(units.into_iter().map(|u| (u, None)).collect()),
                                    );
                                };
                                futures_util::future::join_all(units.iter().map(|u| acl.prime(u)))
                                    .await;
                                let accesses = futures_util::future::join_all(
                                    units.iter().map(|u| acl.content_access(u)),
                                )
                                .await;
                                let listed = units
                                    .into_iter()
                                    .zip(accesses.into_iter().map(Some))
                                    .collect();
                                (key, Ok(listed))
                            }
                        }))
                        .await;
                    drop(listing);
                    live.spaces_done.fetch_add(spaces as u64, Ordering::Relaxed);
                    out
                }
            })
            .buffer_unordered(fan_out)
            .collect()
            .await;
        listed.into_iter().flatten().collect()
    }

    /// The ids of every comment and attachment, per group of spaces: those the manifest knows
    /// (with their space) and those it does not.
    async fn list_children(
        &self,
        groups: &[&[String]],
    ) -> Vec<Result<(Vec<(String, Option<String>)>, Vec<String>)>> {
        let jobs: Vec<(Vec<String>, ConfluenceClient)> = groups
            .iter()
            .map(|g| (g.to_vec(), self.crawl.client.clone()))
            .collect();
        let manifest = self.manifest;
        let live = self.live;
        stream::iter(jobs)
            .map(move |(spaces, client)| async move {
                let _listing = live.busy(Step::Listing);
                let children =
                    client
                        .child_ids(&spaces)?
                        .collect_all()
                        .await
                        .map_err(|source| Error::Listing {
                            what: format!(
                                "ids of comments and attachments in {}",
                                spaces.join(", ")
                            ),
                            source,
                        })?;
                let mut seen = Vec::with_capacity(children.len());
                let mut unknown = Vec::new();
                for id in children.into_iter().filter_map(|c| c.id) {
                    match manifest.get(&id) {
                        Some(entry) => seen.push((id, entry.space_key.clone())),
                        None => unknown.push(id),
                    }
                }
                Ok((seen, unknown))
            })
            .buffered(groups.len().max(1))
            .collect()
            .await
    }

    /// The delta per group of spaces: the changed pages and blog posts (with the crawl's
    /// expansions) and the containers of changed comments and attachments.
    async fn list_changes(&self, groups: &[&[String]]) -> Vec<Result<Changes>> {
        let since = format!("lastmodified >= \"{}\"", self.literal);
        let jobs: Vec<(Vec<String>, ConfluenceClient, String)> = groups
            .iter()
            .map(|g| (g.to_vec(), self.crawl.client.clone(), since.clone()))
            .collect();
        let live = self.live;
        stream::iter(jobs)
            .map(|(spaces, client, since)| async move {
                let _listing = live.busy(Step::Listing);
                let scope = crate::confluence::cql_spaces(&spaces);
                let listing = |what: &str| {
                    let what = format!("changed {what} in {}", spaces.join(", "));
                    move |source| Error::Listing { what, source }
                };
                let units = client
                    .content_search(&format!("{scope} and type in (page, blogpost) and {since}"))?
                    .collect_all();
                let children = client
                    .light_search(
                        &format!("{scope} and type in (comment, attachment) and {since}"),
                        "container",
                    )?
                    .collect_all();
                let (units, children) = tokio::join!(units, children);
                let units = units.map_err(listing("pages and blog posts"))?;
                let children = children.map_err(listing("comments and attachments"))?;
                let containers = children
                    .iter()
                    .filter_map(|c| {
                        Some((container_of(c)?, c.kind.as_deref() != Some("attachment")))
                    })
                    .collect();
                Ok((units, containers))
            })
            .buffered(4)
            .collect()
            .await
    }

    /// Compares the reconciliation listing with the manifest. Items that are new, restored or
    /// moved go to `refetch`; items whose access alone changed get their access list
    /// rewritten. Returns how many items moved.
    async fn reconcile_units(
        &self,
        units: Vec<Listed>,
        links: &crate::document::SiteLinks,
        refetch: &mut BTreeSet<String>,
    ) -> Result<u64> {
        let crawl = self.crawl;
        let mut moved = 0;
        let mut seen = Vec::with_capacity(units.len());
        let mut same = Vec::new();
        for (content, access) in units {
            let Some(doc) = Document::from_content(&content, None, links) else {
                continue;
            };
            seen.push((doc.id.clone(), doc.space_key.clone()));
            match self.manifest.get(&doc.id) {
                None => {
                    refetch.insert(doc.id.clone());
                }
                Some(entry) if entry.place != place_hash(&doc) => {
                    moved += 1;
                    refetch.insert(doc.id.clone());
                }
                Some(_) => same.extend(access.map(|(a, d)| (doc, a, d))),
            }
        }
        crawl.mark(Item::Seen(seen)).await;
        let Some(acl) = self.acl else {
            return Ok(moved);
        };
        for (doc, access, derivation) in same {
            let field = access.field();
            if self.manifest.get(&doc.id).map(|e| e.acl) == Some(acl_hash(&field)) {
                continue;
            }
            let mut ids = vec![doc.id.clone()];
            ids.extend(self.manifest.children(&doc.id).iter().cloned());
            for id in &ids {
                let derivation = Derivation {
                    inherited_from: (id != &doc.id).then(|| doc.id.clone()),
                    ..derivation.clone()
                };
                acl.recorder().record(id, &access, &derivation);
            }
            crawl.mark(Item::Access { ids, field }).await;
        }
        Ok(moved)
    }

    /// Fetches pages and blog posts by id and processes them; comments and attachments among
    /// the ids send their container for a second round.
    async fn fetch_units(
        &self,
        ids: BTreeSet<String>,
        links: &crate::document::SiteLinks,
        downloads: &Arc<Semaphore>,
        processed: &mut HashSet<String>,
        listed_comments: Option<&BTreeSet<String>>,
    ) -> Result<()> {
        let mut round: Vec<String> = ids.into_iter().collect();
        // The containers of the second round (of documents that failed before) list their
        // comments.
        let mut listed_comments = listed_comments;
        for _ in 0..2 {
            let mut next = Vec::new();
            for chunk in round.chunks(IDS_PER_QUERY) {
                let found = self
                    .crawl
                    .client
                    .content_by_ids(chunk)?
                    .collect_all()
                    .await
                    .map_err(|source| Error::Listing {
                        what: "changed pages and blog posts by id".to_owned(),
                        source,
                    })?;
                let mut units = Vec::new();
                for content in found {
                    match content.kind.as_deref() {
                        Some("page" | "blogpost") => {
                            if content
                                .id
                                .as_ref()
                                .is_some_and(|id| processed.insert(id.clone()))
                            {
                                units.push(content);
                            }
                        }
                        _ => next.extend(container_of(&content)),
                    }
                }
                self.process(units, links, downloads, listed_comments)
                    .await?;
            }
            listed_comments = None;
            next.retain(|id| !processed.contains(id));
            if next.is_empty() {
                break;
            }
            round = next;
        }
        Ok(())
    }

    /// Processes pages and blog posts as the full crawl does (labels, attachments, comments).
    /// With `listed_comments` (what the delta found), only the items it names (containers of
    /// changed comments, earlier failures) and those whose place or access changed list their
    /// comments again.
    async fn process(
        &self,
        units: Vec<Content>,
        links: &crate::document::SiteLinks,
        downloads: &Arc<Semaphore>,
        listed_comments: Option<&BTreeSet<String>>,
    ) -> Result<()> {
        let crawl = self.crawl;
        self.live.listed(units.len() as u64);
        let results: Vec<Result<()>> = stream::iter(units)
            .map(|content| async move {
                let space = content
                    .space
                    .as_ref()
                    .and_then(|s| s.key.clone())
                    .unwrap_or_default();
                let listing: ListingKey = (space, "incremental".to_owned());
                let comments = match (listed_comments, content.id.as_ref()) {
                    (Some(must), Some(id)) if !must.contains(id) => Comments::IfInheritedChanged,
                    _ => Comments::List,
                };
                crawl
                    .item(content, &listing, links, downloads, comments)
                    .await
            })
            .buffer_unordered(crawl.item_fan_out() * 2)
            .collect()
            .await;
        results.into_iter().collect()
    }
}

/// The pages and blog posts of the Cloud `spaces` (each with a v2 id) with their place (space
/// and ancestors) and, when `with_restrictions`, their read restrictions, per space: see
/// [`Delta::list_units`].
async fn list_cloud_units(
    client: &ConfluenceClient,
    spaces: &[Space],
    with_restrictions: bool,
) -> Vec<(String, Result<Vec<Content>>)> {
    let ids: Vec<String> = spaces.iter().filter_map(|s| s.id.clone()).collect();
    let keys: Vec<String> = spaces.iter().filter_map(|s| s.key.clone()).collect();
    let v2 = |kind: &'static str| {
        let ids = &ids;
        async move { client.v2_space_content(ids, kind)?.collect_all().await }
    };
    // Beside v2's pages (with their parents): v2's blog posts, or with document-level
    // security the v1 restriction listing, which names every page and blog post anyway (blog
    // posts have no parents).
    let others = async {
        Ok::<_, ClientError>(if with_restrictions {
            Others::Restricted(client.unit_restrictions(&keys)?.collect_all().await?)
        } else {
            Others::Blogposts(v2("blogpost").await?)
        })
    };
    let pages = v2("page");
    let failed = |key: &str, source: ClientError| Error::Listing {
        what: format!("ids of pages and blog posts in space {key}"),
        source,
    };
    match tokio::join!(pages, others) {
        (Ok(pages), Ok(others)) => split_by_space(spaces, pages, others)
            .into_iter()
            .map(|(space, pages, others)| {
                let key = space.key.clone().unwrap_or_default();
                (key, Ok(cloud_units(space, pages, others)))
            })
            .collect(),
        // A proxy or gateway that does not pass v2 through: v1 has it all.
        (Err(ClientError::NotFound { .. }), _) => {
            tracing::debug!(spaces = ?keys, "REST v2 not served; listing through v1");
            futures_util::future::join_all(spaces.iter().map(|space| async move {
                let key = space.key.clone().unwrap_or_default();
                (key, list_v1_units(client, space, with_restrictions).await)
            }))
            .await
        }
        (Err(source), _) | (_, Err(source)) => keys
            .iter()
            .map(|key| (key.clone(), Err(failed(key, source.clone()))))
            .collect(),
    }
}

/// The listings of several spaces cut per space: v2 rows by their space id, restriction rows
/// by their space (a row that names none goes to the only space, or is left out: it cannot be
/// placed, and a unit left out is only deleted once Confluence confirms it gone).
fn split_by_space(
    spaces: &[Space],
    pages: Vec<V2Content>,
    others: Others,
) -> Vec<(&Space, Vec<V2Content>, Others)> {
    let mut out: Vec<(&Space, Vec<V2Content>, Others)> = spaces
        .iter()
        .map(|space| {
            let others = match others {
                Others::Blogposts(_) => Others::Blogposts(Vec::new()),
                Others::Restricted(_) => Others::Restricted(Vec::new()),
            };
            (space, Vec::new(), others)
        })
        .collect();
    let by_id: HashMap<&str, usize> = spaces
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((s.id.as_deref()?, i)))
        .collect();
    let by_key: HashMap<&str, usize> = spaces
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((s.key.as_deref()?, i)))
        .collect();
    let only = (spaces.len() == 1).then_some(0);
    let v2_slot = |row: &V2Content| {
        row.space_id
            .as_deref()
            .and_then(|id| by_id.get(id).copied())
            .or(only)
    };
    for row in pages {
        if let Some(i) = v2_slot(&row) {
            out[i].1.push(row);
        }
    }
    match others {
        Others::Blogposts(rows) => {
            for row in rows {
                if let Some(i) = v2_slot(&row)
                    && let Others::Blogposts(list) = &mut out[i].2
                {
                    list.push(row);
                }
            }
        }
        Others::Restricted(rows) => {
            for row in rows {
                let slot = row
                    .space
                    .as_ref()
                    .and_then(|s| s.key.as_deref())
                    .and_then(|key| by_key.get(key).copied())
                    .or(only);
                if let Some(i) = slot
                    && let Others::Restricted(list) = &mut out[i].2
                {
                    list.push(row);
                }
            }
        }
    }
    out
}

/// The pages and blog posts of `space` from REST v1, with their place (space and ancestors)
/// and, when `with_restrictions`, their read restrictions.
async fn list_v1_units(
    client: &ConfluenceClient,
    space: &Space,
    with_restrictions: bool,
) -> Result<Vec<Content>> {
    let key = space.key.clone().unwrap_or_default();
    let failed = |source| Error::Listing {
        what: format!("ids of pages and blog posts in space {key}"),
        source,
    };
    let mut units = client
        .unit_ids(&key, with_restrictions)?
        .collect_all()
        .await
        .map_err(failed)?;
    for unit in &mut units {
        let listed = unit.space.get_or_insert_with(Default::default);
        listed.key = space.key.clone();
        listed.name = space.name.clone();
    }
    rebuild_ancestors(client, &mut units).await?;
    Ok(units)
}

/// Groups `keys` for listings of at most `cap` items each, by `size` (what the manifest says
/// each space held; a space larger than `cap` has a listing to itself, which pages), and at
/// most [`SPACES_PER_QUERY`] spaces each: first fit, largest first.
fn pack(keys: &[String], size: impl Fn(&str) -> usize, cap: usize) -> Vec<Vec<String>> {
    let mut sized: Vec<(usize, &String)> = keys.iter().map(|k| (size(k), k)).collect();
    sized.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut groups: Vec<(usize, Vec<String>)> = Vec::new();
    for (weight, key) in sized {
        let fits = groups
            .iter_mut()
            .find(|(load, group)| group.len() < SPACES_PER_QUERY && load + weight <= cap);
        match fits {
            Some((load, group)) => {
                *load += weight;
                group.push(key.clone());
            }
            None => groups.push((weight, vec![key.clone()])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// What the Cloud reconciliation lists beside v2's pages.
enum Others {
    /// v2's blog posts (without document-level security).
    Blogposts(Vec<V2Content>),
    /// Every page and blog post with its read restrictions (v1).
    Restricted(Vec<Content>),
}

/// The pages and blog posts of a Cloud space from v2's pages and [`Others`], with their
/// ancestors and, from the restriction listing, their read restrictions. A page the two
/// listings disagree on (made or removed in between) gets its restriction read on its own by
/// the access resolver.
fn cloud_units(space: &Space, pages: Vec<V2Content>, others: Others) -> Vec<Content> {
    let (blogposts, restricted) = match others {
        Others::Blogposts(blogposts) => (blogposts, Vec::new()),
        Others::Restricted(restricted) => (Vec::new(), restricted),
    };
    let (mut units, parents) = v2_units(space, pages, blogposts);
    set_ancestors(&mut units, &parents);
    let mut restrictions = HashMap::new();
    for mut row in restricted {
        match row.kind.as_deref() {
            Some("blogpost") => {
                row.space = Some(Box::new(Space {
                    id: space.id.clone(),
                    key: space.key.clone(),
                    name: space.name.clone(),
                    ..Space::default()
                }));
                units.push(row);
            }
            _ => {
                if let Some(id) = row.id {
                    restrictions.insert(id, row.restrictions);
                }
            }
        }
    }
    for unit in units
        .iter_mut()
        .filter(|u| u.kind.as_deref() == Some("page"))
    {
        if let Some(id) = unit.id.as_ref() {
            unit.restrictions = restrictions.remove(id).flatten();
        }
    }
    units
}

/// Sets every page's `ancestors` from the child pages the listing gave each page (a page's
/// ancestors are in its space, and Confluence lists a page only to whom its ancestors are
/// visible). Child lists cut short are completed with one listing each.
async fn rebuild_ancestors(client: &ConfluenceClient, units: &mut [Content]) -> Result<()> {
    let mut parent: HashMap<String, String> = HashMap::new();
    for unit in units.iter() {
        let Some(id) = unit.id.clone() else { continue };
        let Some(children) = unit.children.as_ref().and_then(|c| c.page.as_ref()) else {
            continue;
        };
        let listed: Vec<crate::confluence::ContentRef> = if children.links.next.is_some() {
            client
                .child_pages(&id)?
                .collect_all()
                .await
                .map_err(|source| Error::Listing {
                    what: format!("child pages of page {id}"),
                    source,
                })?
        } else {
            children.results.clone()
        };
        for child in listed {
            if let Some(child) = child.id {
                parent.insert(child, id.clone());
            }
        }
    }
    set_ancestors(units, &parent);
    for unit in units.iter_mut() {
        unit.children = None;
    }
    Ok(())
}

/// Sets every unit's `ancestors` (root first, with titles from `units`) by following `parent`
/// (child id to parent id) up; a parent that is not among `units` ends the chain.
pub(super) fn set_ancestors(units: &mut [Content], parent: &HashMap<String, String>) {
    let titles: HashMap<String, Option<String>> = units
        .iter()
        .filter_map(|u| Some((u.id.clone()?, u.title.clone())))
        .collect();
    for unit in units.iter_mut() {
        let Some(id) = unit.id.clone() else { continue };
        let mut chain: Vec<crate::confluence::ContentRef> = Vec::new();
        let mut at = id;
        while let Some(up) = parent.get(&at) {
            let Some(title) = titles.get(up) else { break };
            if chain.len() > 1000 || chain.iter().any(|c| c.id.as_ref() == Some(up)) {
                break;
            }
            chain.push(crate::confluence::ContentRef {
                id: Some(up.clone()),
                title: title.clone(),
                ..Default::default()
            });
            at = up.clone();
        }
        chain.reverse();
        unit.ancestors = chain;
    }
}

/// The page or blog post a comment or attachment belongs to.
fn container_of(content: &Content) -> Option<String> {
    content.container.as_ref().and_then(|c| c.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_literal_is_written_in_the_users_zone_and_rounded_down() {
        let since = at("2026-12-02T10:07:59.900Z");
        assert_eq!(
            since_literal(since, Some("Asia/Kolkata")).0,
            "2026-12-02 15:37"
        );
        assert_eq!(since_literal(since, Some("UTC")).0, "2026-12-02 10:07");
        assert_eq!(
            since_literal(since, Some("America/Los_Angeles")).0,
            "2026-12-02 02:07"
        );
    }

    #[test]
    fn an_unknown_zone_looks_back_far_enough_for_any_zone() {
        let since = at("2026-12-02T10:07:00.000Z");
        let (literal, zone) = since_literal(since, None);
        assert_eq!(literal, "2026-12-01 22:07");
        assert!(zone.starts_with("unknown"));
        let (literal, _) = since_literal(since, Some("Not/AZone"));
        assert_eq!(literal, "2026-12-01 22:07");
    }

    #[test]
    fn a_local_time_that_occurs_twice_is_taken_an_hour_earlier() {
        // Berlin goes from 03:00 CEST back to 02:00 CET on 2026-10-25: 02:30 happens twice.
        let since = at("2026-10-25T00:30:00.000Z"); // 02:30 CEST, the first one
        assert_eq!(
            since_literal(since, Some("Europe/Berlin")).0,
            "2026-10-25 01:30"
        );
    }

    #[test]
    fn spaces_are_packed_into_listings_that_fit_a_page() {
        let keys: Vec<String> = ["A", "B", "C", "D", "E"].map(str::to_owned).to_vec();
        let size = |key: &str| match key {
            "A" => 150,
            "B" => 120,
            "C" => 50,
            "D" => 900, // more than a page: a listing of its own, which pages
            _ => 0,     // never written: packed anywhere
        };
        let groups = pack(&keys, size, 200);
        let load = |g: &Vec<String>| g.iter().map(|k| size(k)).sum::<usize>();
        assert!(
            groups.iter().all(|g| g.len() == 1 || load(g) <= 200),
            "{groups:?}"
        );
        let mut all: Vec<&String> = groups.iter().flatten().collect();
        all.sort();
        assert_eq!(all, keys.iter().collect::<Vec<_>>(), "every space once");
        assert!(groups.contains(&vec!["D".to_owned()]));
        assert_eq!(groups.len(), 3, "{groups:?}");

        let many: Vec<String> = (0..100).map(|i| format!("S{i}")).collect();
        let groups = pack(&many, |_| 1, 1000);
        assert!(groups.iter().all(|g| g.len() <= SPACES_PER_QUERY));
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 100);
    }

    #[test]
    fn a_listing_of_several_spaces_is_cut_per_space() {
        let space = |id: &str, key: &str| Space {
            id: Some(id.to_owned()),
            key: Some(key.to_owned()),
            ..Space::default()
        };
        let spaces = [space("1", "A"), space("2", "B")];
        let page = |id: &str, space: &str| V2Content {
            id: Some(id.to_owned()),
            space_id: Some(space.to_owned()),
            ..V2Content::default()
        };
        let row = |id: &str, key: Option<&str>| Content {
            id: Some(id.to_owned()),
            kind: Some("blogpost".to_owned()),
            space: key.map(|k| {
                Box::new(Space {
                    key: Some(k.to_owned()),
                    ..Space::default()
                })
            }),
            ..Content::default()
        };
        let pages = vec![page("10", "1"), page("20", "2"), page("30", "9")];
        let rows = vec![row("11", Some("A")), row("21", Some("B")), row("99", None)];
        let cut = split_by_space(&spaces, pages, Others::Restricted(rows));
        let ids = |i: usize| {
            let (_, pages, others) = &cut[i];
            let Others::Restricted(rows) = others else {
                panic!("restriction rows expected")
            };
            let mut ids: Vec<String> = pages.iter().filter_map(|p| p.id.clone()).collect();
            ids.extend(rows.iter().filter_map(|r| r.id.clone()));
            ids
        };
        // Rows of another space, or naming none among several, are placed nowhere.
        assert_eq!(ids(0), ["10", "11"]);
        assert_eq!(ids(1), ["20", "21"]);
    }
}

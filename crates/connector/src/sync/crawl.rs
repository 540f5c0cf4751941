//! The crawl: spaces in scope, then each space's pages and blog posts, and for each of those its
//! labels, attachments (with their text) and comments. Spaces run concurrently, items of a space
//! too, all under the client's one global request limit; downloads are bounded separately by
//! `concurrent_downloads`. Documents leave through a bounded channel, so memory stays flat.
//! This is the crawl through REST v1 (Server, Data Center, and Cloud behind a proxy without
//! v2); on Cloud, [`Crawl::run`] hands the spaces to `crawl_v2.rs`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::{StreamExt, TryStreamExt, stream};
use tokio::sync::{Semaphore, mpsc};

use super::checkpoint::{ListingKey, Resume};
use super::manifest::{acl_hash, place_hash};
use super::memory::{Claim, MemoryBudget};
use super::routes::{Miss, Route};
use super::{CancellationToken, Live, Step, SyncOptions};
use crate::acl::{Access, AclResolver, Derivation};
use crate::config::ConnectorConfig;
use crate::confluence::{ClientError, ConfluenceClient, Content, ContentType, Space};
use crate::document::{Document, SiteLinks, site_links};
use crate::events::{EventHandler, SyncEvent, SyncPhase};
use crate::{Error, Result, extract, text};

/// What became of a child listing that answered "not found".
enum Child {
    /// Not listed: the server does not offer the route; the item goes on without it.
    Skipped,
    /// The item itself is gone.
    Gone,
}

/// A child listing, fetched whole, when it is wanted.
async fn listed<T: serde::de::DeserializeOwned + Send + 'static>(
    pager: Option<std::result::Result<crate::confluence::Pager<T>, ClientError>>,
) -> Option<std::result::Result<Vec<T>, ClientError>> {
    Some(match pager? {
        Ok(pager) => pager.collect_all().await,
        Err(err) => Err(err),
    })
}

/// An item in words: `page 123 ('Title')`.
fn describe(item: &Document) -> String {
    format!("{} {} ('{}')", item.kind.as_str(), item.id, item.title)
}

/// How the listings of one space ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceOutcome {
    /// The space key.
    pub key: String,
    /// Whether every listing in the space completed; only then may its documents be deleted.
    pub complete: bool,
}

/// Where a document's text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// Fetched (or extracted) now.
    Fresh,
    /// It could not be fetched this time: keep the text already indexed.
    KeepPrevious,
    /// Not fetched because the attachment did not change: the indexed text is current.
    Reused,
}

/// Whether [`Crawl::item`] lists an item's comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comments {
    /// Always: full crawls, and what an incremental fetches because its comments or
    /// attachments changed, it is new, moved or failed before.
    List,
    /// Only when the item's place (title, space, ancestors) or access differs from what the
    /// index holds, since its comments inherit both: an incremental's edited page whose
    /// comments did not change since the cursor (the delta names the containers of changed
    /// and new comments, the reconciliation's id listing finds deleted ones) keeps the
    /// comments the index holds.
    IfInheritedChanged,
}

/// An attachment's document and how its text was obtained.
pub(crate) struct Fetched {
    pub doc: Document,
    /// Whether the document is complete (no failed download or extraction).
    pub complete: bool,
    pub text: Text,
}

/// What the crawl sends to the index writer, in order.
pub(crate) enum Item {
    /// A document, and the unit (page or blog post) it belongs to; spaces have none.
    Doc {
        /// The document.
        doc: Box<Document>,
        /// The id of the page or blog post it belongs to.
        unit: Option<String>,
        /// Where its text comes from.
        text: Text,
        /// Its bytes, held from the queue's memory budget until the writer has taken it.
        claim: Claim,
    },
    /// Documents listed by an incremental sync's reconciliation: they exist, whether or not
    /// they are written again (id and space).
    Seen(Vec<(String, Option<String>)>),
    /// Documents whose access alone changed (an incremental sync's reconciliation): the writer
    /// rewrites `_allow_access_control` of each of them whose access list differs.
    Access {
        /// The documents (a page or blog post and its attachments and comments).
        ids: Vec<String>,
        /// Their access list.
        field: Option<Vec<String>>,
    },
    /// Every document of `unit` was sent. With `ok` false one of them is incomplete (a
    /// download or an extraction failed): the unit is fetched again by the next run.
    UnitDone {
        /// The page or blog post id.
        unit: String,
        /// The listing it came from.
        listing: ListingKey,
        /// Whether every document of the unit is complete.
        ok: bool,
    },
    /// A listing ended; every unit in it was sent.
    ListingDone(ListingKey),
    /// The item was deleted while the sync ran (its child listing and the item itself answer
    /// 404): its documents are not seen, so the deletion phase removes them.
    Gone {
        /// The page or blog post id.
        unit: String,
        /// The listing it came from.
        listing: ListingKey,
    },
}

pub(crate) struct Crawl<'a> {
    pub config: &'a ConnectorConfig,
    pub client: &'a ConfluenceClient,
    pub options: &'a SyncOptions,
    pub events: &'a EventHandler,
    pub cancel: &'a CancellationToken,
    pub live: &'a Arc<Live>,
    pub tx: mpsc::Sender<Item>,
    /// Document-level security: computes each document's `_allow_access_control`.
    pub acl: Option<Arc<AclResolver>>,
    /// What an earlier run of this sync already wrote.
    pub resume: Arc<Resume>,
    /// Where downloads are spooled (removed at the end, and by the recovery of a dead run).
    pub spool_dir: std::path::PathBuf,
    /// What the index holds already: unchanged attachments are not downloaded.
    pub manifest: Arc<super::manifest::Manifest>,
    /// Every space Confluence lists, when listed already (beside the identity check).
    pub listed_spaces: Option<Vec<Space>>,
    /// The basic sync rules, to skip the download of attachments they exclude.
    pub filter: Option<Arc<crate::rules::BasicFilter>>,
    /// What documents and extractions may hold in memory at once.
    pub memory: MemoryBudget,
}

impl Crawl<'_> {
    /// Crawls every space in scope. `Err` only when the spaces themselves could not be listed.
    pub async fn run(self) -> Result<Vec<SpaceOutcome>> {
        // On Cloud, REST v2 unless the site (or a proxy before it) does not serve it.
        let (scope, v2) = tokio::join!(self.spaces_in_scope(), self.v2_served());
        let (spaces, missing) = scope?;
        self.live
            .spaces_total
            .store(spaces.len() as u64, Ordering::Relaxed);
        (self.events)(&SyncEvent::Phase {
            phase: SyncPhase::Crawling,
        });
        // Confluence's count of what the spaces hold, beside the crawl: the progress total.
        let _count = AbortOnDrop(tokio::spawn(expect_documents(
            self.client.clone(),
            self.live.clone(),
            spaces.iter().filter_map(|s| s.key.clone()).collect(),
        )));
        let links = site_links(self.client);
        let downloads = Arc::new(Semaphore::new(
            self.config.concurrent_downloads.clamp(1, 50) as usize,
        ));
        // Every space's permissions at once, beside the crawl (REST v2 reads them per space).
        let prefetch = async {
            if let Some(acl) = &self.acl {
                acl.prefetch_spaces(&spaces).await;
            }
        };
        let crawl = async {
            if v2 {
                self.run_v2(spaces.clone(), &links, &downloads).await
            } else {
                stream::iter(spaces.clone())
                    .map(|space| self.space(space, &links, &downloads))
                    .buffer_unordered(self.space_fan_out())
                    .collect::<Vec<_>>()
                    .await
            }
        };
        let (mut outcomes, ()) = tokio::join!(crawl, prefetch);
        // A configured space that is not there is a question, not a deletion: incomplete, so
        // its documents stay.
        outcomes.extend(missing.into_iter().map(|key| SpaceOutcome {
            key,
            complete: false,
        }));
        Ok(outcomes)
    }

    /// The spaces to crawl, and the configured keys Confluence did not list.
    pub(crate) async fn spaces_in_scope(&self) -> Result<(Vec<Space>, Vec<String>)> {
        let all: Vec<Space> = match &self.listed_spaces {
            Some(listed) => listed.clone(),
            None => self.client.spaces().await?,
        };
        let wanted = &self.config.spaces;
        if wanted.is_empty() || wanted.iter().any(|k| k == "*") {
            return Ok((all, Vec::new()));
        }
        let missing: Vec<String> = wanted
            .iter()
            .filter(|k| !all.iter().any(|s| s.key.as_deref() == Some(k.as_str())))
            .cloned()
            .collect();
        for key in &missing {
            self.live.error(
                self.events,
                format!("space {key}"),
                format!(
                    "this configured space is not available to the crawler (deleted, its key \
                     mistyped, or the crawler's permission removed?); its documents were kept. \
                     Available spaces: {}",
                    all.iter()
                        .filter_map(|s| s.key.as_deref())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let spaces = all
            .into_iter()
            .filter(|s| s.key.as_ref().is_some_and(|k| wanted.contains(k)))
            .collect();
        Ok((spaces, missing))
    }

    pub(crate) async fn send(&self, doc: Document, unit: Option<&str>) -> bool {
        self.send_doc(doc, unit, Text::Fresh).await
    }

    /// Sends a document, saying where its text comes from.
    /// Waits while the documents already queued for the writer hold the queue's budget.
    pub(crate) async fn send_doc(&self, doc: Document, unit: Option<&str>, text: Text) -> bool {
        // Its text, and about as much again for the rest of its fields.
        let bytes = doc.body.as_ref().map_or(0, String::len) as u64 + 1024;
        let claim = self.memory.queue.claim(bytes).await;
        self.tx
            .send(Item::Doc {
                doc: Box::new(doc),
                unit: unit.map(str::to_owned),
                text,
                claim,
            })
            .await
            .is_ok()
    }

    /// Spaces crawled at once: the option's, or a quarter of the request limit when that is
    /// more, so that a higher limit is used (requests stay under the limit either way).
    pub(crate) fn space_fan_out(&self) -> usize {
        let by_limit = self.config.http.max_concurrent_requests as usize / 4;
        self.options.space_concurrency.max(by_limit).max(1)
    }

    /// Pages and blog posts of one space processed at once: the option's, or the request limit
    /// when that is more. An item holds its place while its files download (two round trips
    /// each, under `concurrent_downloads`, not the request limit), so it uses a request permit
    /// about a third of its time: half the limit left a quarter of the permits idle.
    pub(crate) fn item_fan_out(&self) -> usize {
        let by_limit = self.config.http.max_concurrent_requests as usize;
        self.options.item_concurrency.max(by_limit).max(1)
    }

    pub(crate) async fn mark(&self, item: Item) {
        let _ = self.tx.send(item).await;
    }

    async fn space(
        &self,
        space: Space,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> SpaceOutcome {
        let key = space.key.clone().unwrap_or_default();
        let kinds = [ContentType::Page, ContentType::BlogPost];
        let done = |kind: ContentType| {
            self.resume
                .listings
                .contains(&(key.clone(), kind.as_str().to_owned()))
        };
        if kinds.iter().all(|k| done(*k)) {
            // Written whole by the run this one resumes.
            self.live.spaces_done.fetch_add(1, Ordering::Relaxed);
            return SpaceOutcome {
                key,
                complete: true,
            };
        }
        self.space_started(&key);
        self.send_space(&space, &key, links).await;
        let mut complete = true;
        for kind in kinds {
            if self.cancel.is_cancelled() {
                complete = false;
                break;
            }
            if done(kind) {
                continue;
            }
            match self.content_of(&key, kind, links, downloads).await {
                Ok(()) if !self.cancel.is_cancelled() => {
                    self.mark(Item::ListingDone((key.clone(), kind.as_str().to_owned())))
                        .await;
                }
                Ok(()) => complete = false,
                Err(err) => {
                    complete = false;
                    self.live
                        .error(self.events, format!("space {key}"), err.to_string());
                }
            }
        }
        self.space_finished(&key, complete);
        SpaceOutcome { key, complete }
    }

    /// Says that the crawl of a space starts.
    pub(crate) fn space_started(&self, key: &str) {
        (self.events)(&SyncEvent::SpaceStarted {
            key: key.to_owned(),
        });
        self.live
            .current
            .lock()
            .map(|mut c| c.push(key.to_owned()))
            .ok();
    }

    /// Says that the crawl of a space ended, and whether every listing in it completed.
    pub(crate) fn space_finished(&self, key: &str, complete: bool) {
        self.live
            .current
            .lock()
            .map(|mut c| c.retain(|k| k != key))
            .ok();
        self.live.spaces_done.fetch_add(1, Ordering::Relaxed);
        (self.events)(&SyncEvent::SpaceFinished {
            key: key.to_owned(),
            complete,
        });
    }

    /// Writes the space's own document.
    pub(crate) async fn send_space(&self, space: &Space, key: &str, links: &SiteLinks) {
        if let Some(mut doc) = Document::from_space(space, links) {
            if let Some(acl) = &self.acl {
                let (access, derivation) = acl.space_access(key, Some(space)).await;
                self.apply_acl(&mut doc, &access, &derivation);
            }
            self.live.listed(1);
            self.send(doc, None).await;
        }
    }

    /// Lists one type of content in a space and processes each item; the first listing error
    /// (after the client's retries) ends the listing and is returned.
    async fn content_of(
        &self,
        space_key: &str,
        kind: ContentType,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> std::result::Result<(), Error> {
        let listing: ListingKey = (space_key.to_owned(), kind.as_str().to_owned());
        let what = format!("{}s of space {space_key}", kind.as_str());
        let items = self.client.content_in_space(space_key, kind)?.into_stream();
        let _listing = self.live.busy(Step::Listing);
        let mut failed: Option<Error> = None;
        let listing = &listing;
        items
            .map_err(|source| Error::Listing {
                what: what.clone(),
                source,
            })
            .take_while(|_| std::future::ready(!self.cancel.is_cancelled()))
            .map(|item| async move {
                match item {
                    Ok(content)
                        if content
                            .id
                            .as_ref()
                            .is_some_and(|id| self.resume.units.contains(id)) =>
                    {
                        Ok(())
                    }
                    Ok(content) => {
                        self.live.listed(1);
                        self.item(content, listing, links, downloads, Comments::List)
                            .await
                    }
                    Err(err) => Err(err),
                }
            })
            .buffer_unordered(self.item_fan_out())
            .for_each(|result| {
                if let Err(err) = result {
                    failed.get_or_insert(err);
                }
                std::future::ready(())
            })
            .await;
        match failed {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// One page or blog post with its labels, attachments and comments. An error here means a
    /// child listing failed, which makes the space incomplete; a child listing that answers 404
    /// because the item itself was deleted meanwhile is not an error: the item is gone. The
    /// caller counted the item as listed; its attachments and comments are counted here.
    pub(crate) async fn item(
        &self,
        content: Content,
        listing: &ListingKey,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
        comments: Comments,
    ) -> Result<()> {
        let fetching = self.live.busy(Step::Fetching);
        let body = content.storage().map(text::storage_to_text);
        let Some(mut doc) = Document::from_content(&content, body, links) else {
            self.live.dropped(1);
            return Ok(());
        };
        // The space being crawled, whatever the payload says (a proxy may trim `space.key`):
        // deletion works per space, so no document may lack it.
        if doc.space_key.is_none() {
            doc.space_key = Some(listing.0.clone());
        }
        let unit = doc.id.clone();
        let container_acl = match &self.acl {
            Some(acl) => {
                let (access, derivation) = acl.content_access(&content).await;
                self.apply_acl(&mut doc, &access, &derivation);
                Some((access, derivation))
            }
            None => None,
        };
        let list_comments = comments == Comments::List
            || self.manifest.get(&doc.id).is_none_or(|indexed| {
                indexed.place != place_hash(&doc)
                    || indexed.acl != acl_hash(&doc.allow_access_control)
            });
        // Labels, attachments and comments are listed side by side, then handled in order.
        let expanded_attachments = content
            .children
            .as_ref()
            .and_then(|c| c.attachment.as_ref());
        let has_attachments =
            expanded_attachments.is_none_or(|a| a.size.unwrap_or(1) > 0 || !a.results.is_empty());
        // Attachments come with the listing unless it cut them short.
        let expanded_attachments = expanded_attachments
            .filter(|a| a.is_complete())
            .map(|a| a.results.clone());
        let routes = &self.live.routes;
        let id = doc.id.clone();
        // Labels come with the listing (`metadata.labels`) unless it cut them short.
        let expanded_labels = content.expanded_labels();
        let (labels, attachments, comments) = tokio::join!(
            listed(
                (self.config.index_labels
                    && expanded_labels.is_none()
                    && !routes.is_missing(Route::Labels))
                .then(|| self.client.labels(&id))
            ),
            listed(
                (has_attachments
                    && expanded_attachments.is_none()
                    && !routes.is_missing(Route::Attachments))
                .then(|| self.client.attachments(&id))
            ),
            listed(
                (list_comments && !routes.is_missing(Route::Comments))
                    .then(|| self.client.comments(&id))
            ),
        );
        // Every failed listing is judged before anything is written or downloaded: one that
        // says the item is gone ends it here.
        let labels = match labels {
            Some(Ok(labels)) => {
                self.live.routes.ok(Route::Labels);
                Some(labels)
            }
            Some(Err(err)) => match self.child_failed(Route::Labels, &doc, listing, err).await? {
                Child::Gone => {
                    self.live.dropped(1);
                    return Ok(());
                }
                Child::Skipped => None,
            },
            None => None,
        };
        let attachments = match attachments {
            Some(Ok(attachments)) => {
                self.live.routes.ok(Route::Attachments);
                attachments
            }
            Some(Err(err)) => match self
                .child_failed(Route::Attachments, &doc, listing, err)
                .await?
            {
                Child::Gone => {
                    self.live.dropped(1);
                    return Ok(());
                }
                Child::Skipped => Vec::new(),
            },
            None => expanded_attachments.unwrap_or_default(),
        };
        let comments = match comments {
            Some(Ok(comments)) => {
                self.live.routes.ok(Route::Comments);
                comments
            }
            Some(Err(err)) => match self
                .child_failed(Route::Comments, &doc, listing, err)
                .await?
            {
                Child::Gone => {
                    self.live.dropped(1);
                    return Ok(());
                }
                Child::Skipped => Vec::new(),
            },
            None => Vec::new(),
        };
        if let Some(labels) = labels {
            doc.set_labels(labels.into_iter().filter_map(|l| l.name));
        } else if let Some(labels) = expanded_labels.filter(|_| self.config.index_labels) {
            doc.set_labels(labels);
        }
        drop(fetching);
        self.live
            .listed((attachments.len() + comments.len()) as u64);
        let container = doc.clone();
        self.send(doc, Some(&unit)).await;
        let mut ok = true;

        if !attachments.is_empty() {
            let docs = stream::iter(attachments)
                .map(|att| self.attachment(att, &container, links, downloads))
                .buffer_unordered(self.config.concurrent_downloads.clamp(1, 50) as usize);
            futures_util::pin_mut!(docs);
            while let Some(fetched) = docs.next().await {
                if let Some(Fetched {
                    mut doc,
                    complete,
                    text,
                }) = fetched
                {
                    ok &= complete;
                    self.inherit_acl(&mut doc, &container, container_acl.as_ref());
                    self.send_doc(doc, Some(&unit), text).await;
                } else {
                    self.live.dropped(1);
                }
            }
        }

        for comment in comments {
            let body = comment.storage().map(text::storage_to_text);
            if let Some(mut doc) = Document::from_content(&comment, body, links) {
                doc.inherit_container(&container);
                self.inherit_acl(&mut doc, &container, container_acl.as_ref());
                self.send(doc, Some(&unit)).await;
            } else {
                self.live.dropped(1);
            }
        }
        self.mark(Item::UnitDone {
            unit,
            listing: listing.clone(),
            ok,
        })
        .await;
        Ok(())
    }

    /// A child listing (`route`) of `item` failed. A 404 while the item itself is gone means
    /// the item was deleted during the sync: it leaves the index. A 404 or 501 while the item
    /// exists counts against the route (a server that lacks it; see `routes.rs`): the item goes
    /// on without that listing. Anything else is a failed listing, named as such.
    async fn child_failed(
        &self,
        route: Route,
        item: &Document,
        listing: &ListingKey,
        err: ClientError,
    ) -> Result<Child> {
        let not_there = match &err {
            ClientError::NotFound { .. } => true,
            ClientError::Status { status, .. } | ClientError::Server { status, .. } => {
                *status == 501
            }
            _ => false,
        };
        if not_there {
            match self.client.content_exists(&item.id).await {
                Ok(false) => {
                    tracing::info!(id = %item.id, route = route.what(), "item deleted during the sync");
                    self.mark(Item::Gone {
                        unit: item.id.clone(),
                        listing: listing.clone(),
                    })
                    .await;
                    return Ok(Child::Gone);
                }
                Ok(true) => {
                    let miss = Miss {
                        space: listing.0.clone(),
                        item: describe(item),
                    };
                    self.live.routes.miss(route, miss);
                    return Ok(Child::Skipped);
                }
                Err(_) => {}
            }
        }
        Err(Error::Listing {
            what: format!("{} of {}", route.what(), describe(item)),
            source: err,
        })
    }

    /// Sets a document's `_allow_access_control` and records its access; a document that fails
    /// closed is reported on the job, once per distinct reason.
    pub(crate) fn apply_acl(&self, doc: &mut Document, access: &Access, derivation: &Derivation) {
        doc.allow_access_control = access.field();
        if let Some(acl) = &self.acl
            && let Some(reason) = acl.recorder().record(&doc.id, access, derivation)
        {
            self.live.error(
                self.events,
                format!("document {}", doc.id),
                format!("written with the deny marker, readable by nobody: {reason}"),
            );
        }
    }

    /// Attachments and comments take their container's access.
    pub(crate) fn inherit_acl(
        &self,
        doc: &mut Document,
        container: &Document,
        container_acl: Option<&(Access, Derivation)>,
    ) {
        if let Some((access, derivation)) = container_acl {
            let derivation = Derivation {
                inherited_from: Some(container.id.clone()),
                ..derivation.clone()
            };
            self.apply_acl(doc, access, &derivation);
        }
    }

    /// An attachment's document, with the text of its file when the format is supported and
    /// the file is within the download cap. A failed download leaves a metadata document; the
    /// document is incomplete when a download or extraction failed, so the next run tries
    /// again. An attachment the index holds unchanged (same version, size, name and
    /// container) is not downloaded: its indexed text is current.
    pub(crate) async fn attachment(
        &self,
        att: Content,
        container: &Document,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> Option<Fetched> {
        let doc = Document::from_attachment(&att, container, links)?;
        // The sync rules decide before the download where they can: an excluded file is not
        // fetched (the writer drops and counts the document).
        if self
            .filter
            .as_ref()
            .is_some_and(|f| f.excludes_before_download(&doc))
        {
            return Some(Fetched {
                doc,
                complete: true,
                text: Text::Fresh,
            });
        }
        if self.manifest.attachment_unchanged(&doc) {
            return Some(Fetched {
                doc,
                complete: true,
                text: Text::Reused,
            });
        }
        let (doc, complete) = self.fetch_attachment(doc, &att, downloads).await?;
        Some(Fetched {
            doc,
            complete,
            text: if complete {
                Text::Fresh
            } else {
                Text::KeepPrevious
            },
        })
    }

    /// Downloads and extracts an attachment's file into `doc`; false when that failed. `None`
    /// when the attachment was deleted since it was listed (its download and the attachment
    /// itself answer 404): it is not written, and the deletion phase removes it.
    async fn fetch_attachment(
        &self,
        mut doc: Document,
        att: &Content,
        downloads: &Arc<Semaphore>,
    ) -> Option<(Document, bool)> {
        let extractor = extract::Extractor::new(self.config);
        let extension = doc.extension.clone().unwrap_or_default();
        if let Some(reason) = extractor.skip_reason(&extension, doc.size) {
            doc.extraction_note = Some(reason);
            return Some((doc, true));
        }
        let Some(link) = att.links.download.as_deref() else {
            doc.extraction_note = Some("Confluence gave no download link".to_owned());
            return Some((doc, true));
        };
        // A file that blew the extraction's budget or crashed it once is not tried again (a
        // new version of it is).
        let quarantine = extract::Quarantine::new(self.options.quarantine_dir());
        let version = doc.version.unwrap_or(0);
        if let Some(reason) = quarantine.reason(&doc.id, version) {
            doc.extraction_note = Some(extract::quarantine_note(&reason));
            return Some((doc, true));
        }
        // The permit covers the download and the extraction: at most `concurrent_downloads`
        // files are on disk or being read at once.
        let Ok(_permit) = downloads.acquire().await else {
            return Some((doc, false));
        };
        let downloading = self.live.busy(Step::Downloading);
        let spooled = match self.client.download(link).await {
            Ok(download) => {
                extract::spool(
                    download,
                    &extension,
                    Some(&self.spool_dir),
                    !extractor.uses_service(),
                )
                .await
            }
            Err(err) => Err(err.into()),
        };
        drop(downloading);
        let mut complete = true;
        match spooled {
            Ok(mut file) => {
                self.live
                    .downloaded_bytes
                    .fetch_add(file.len(), Ordering::Relaxed);
                // Waits while other extractions hold the memory this one needs.
                let _memory = self
                    .memory
                    .extraction
                    .claim(extractor.memory_estimate(&extension, file.len()))
                    .await;
                let extracting = self.live.busy(Step::Extracting);
                let extraction = extractor
                    .extract_guarded(&quarantine, &doc.id, version, file.source(), &extension)
                    .await;
                drop(extracting);
                if extraction.failed {
                    let note = extraction.note.clone().unwrap_or_default();
                    self.live.fail(&doc.id, note.clone());
                    self.live
                        .error(self.events, format!("attachment {}", doc.id), note);
                    complete = false;
                }
                doc.body = extraction.text;
                doc.extraction_note = extraction.note;
            }
            Err(extract::SpoolError::Download(ClientError::NotFound { .. }))
                if self.client.content_exists(&doc.id).await.ok() == Some(false) =>
            {
                tracing::info!(id = %doc.id, "attachment deleted during the sync");
                return None;
            }
            Err(extract::SpoolError::Download(err)) => {
                complete = matches!(err, ClientError::TooLarge { .. });
                self.download_failed(&mut doc, err);
            }
            Err(err) => {
                let note = err.to_string();
                self.live.fail(&doc.id, note.clone());
                self.live
                    .error(self.events, format!("attachment {}", doc.id), note.clone());
                doc.extraction_note = Some(note);
                complete = false;
            }
        }
        Some((doc, complete))
    }

    fn download_failed(&self, doc: &mut Document, err: ClientError) {
        let message = match &err {
            ClientError::TooLarge { .. } => "file larger than the download cap".to_owned(),
            other => format!("download failed: {other}"),
        };
        if !matches!(err, ClientError::TooLarge { .. }) {
            self.live.fail(&doc.id, message.clone());
        }
        self.live.error(
            self.events,
            format!("attachment {}", doc.id),
            message.clone(),
        );
        doc.extraction_note = Some(message);
    }
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Spaces per counting query (`space in (...)`), to keep URLs short.
const SPACES_PER_COUNT: usize = 40;

/// Sets [`Live::docs_expected`] to Confluence's count of the documents in `spaces` (the spaces
/// themselves, and their pages, blog posts, attachments and comments, archived spaces
/// included), less what a resumed run wrote before: one search per group of spaces, one row
/// each, for its `totalSize` (an estimate on Cloud). Nothing is set when a count fails: the
/// progress then follows what the listings returned.
pub(crate) async fn expect_documents(
    client: ConfluenceClient,
    live: Arc<Live>,
    spaces: Vec<String>,
) {
    let mut total = spaces.len() as u64;
    for group in spaces.chunks(SPACES_PER_COUNT) {
        let cql = format!(
            "{} and type in (page, blogpost, attachment, comment)",
            crate::confluence::cql_spaces(group)
        );
        let counted = match client.search_cql_everywhere::<serde_json::Value>(&cql, 1, "") {
            Ok(mut pager) => pager
                .next_page()
                .await
                .ok()
                .flatten()
                .and_then(|p| p.total_size),
            Err(_) => None,
        };
        match counted {
            Some(n) => total += n,
            None => {
                tracing::debug!(%cql, "no count of the documents in scope");
                return;
            }
        }
    }
    let resumed = live.resumed.load(Ordering::Relaxed);
    live.docs_expected
        .store(total.saturating_sub(resumed).max(1), Ordering::Relaxed);
}

//! The advanced-rules crawl: each CQL query's results become documents with the standard
//! path's schema (bodies as text, labels, ancestors, attachments with their extracted text,
//! comments tied to their container), instead of the standard crawl.
//!
//! Paging is the client's: cursor links on Cloud, offsets on Server/Data Center (whose search
//! pages are clipped to 50 rows with a body expansion, so the offset advances by the rows
//! actually returned). A document found by several queries, or twice by one (Cloud cursors
//! shift when content changes mid-listing), is indexed once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::{StreamExt, stream};
use tokio::sync::Semaphore;

use super::checkpoint::ListingKey;
use super::crawl::{Crawl, Fetched, Item, SpaceOutcome, Text};
use crate::Result;
use crate::confluence::ClientError;
use crate::document::search_row::{Built, INCOMPLETE, PAGE_SIZE, Row, build, full_expand};
use crate::document::site_links;
use crate::document::{Document, SiteLinks};
use crate::events::{SyncEvent, SyncPhase};
use crate::rules::AdvancedRule;

/// Runs the advanced rules in place of the standard crawl: every query in order, its pages one
/// at a time, the rows of a page concurrently. Returns no outcome when every query completed
/// (so documents that were not seen are deleted), or one incomplete outcome (nothing deleted).
pub(crate) async fn run(crawl: Crawl<'_>, rules: &[AdvancedRule]) -> Result<Vec<SpaceOutcome>> {
    let producer = Producer {
        links: site_links(crawl.client),
        downloads: Arc::new(Semaphore::new(
            crawl.config.concurrent_downloads.clamp(1, 50) as usize,
        )),
        crawl,
    };
    producer.run(rules).await
}

struct Producer<'a> {
    crawl: Crawl<'a>,
    links: SiteLinks,
    downloads: Arc<Semaphore>,
}

impl Producer<'_> {
    async fn run(&self, rules: &[AdvancedRule]) -> Result<Vec<SpaceOutcome>> {
        let crawl = &self.crawl;
        crawl
            .live
            .spaces_total
            .store(rules.len() as u64, Ordering::Relaxed);
        (crawl.events)(&SyncEvent::Phase {
            phase: SyncPhase::Crawling,
        });
        let expand = full_expand(crawl.client.flavor());
        let mut seen: HashSet<String> = HashSet::new();
        let mut complete = true;
        for (i, rule) in rules.iter().enumerate() {
            if crawl.cancel.is_cancelled() {
                complete = false;
                break;
            }
            let label = format!("advanced rule {}", i + 1);
            let listing: ListingKey = (format!("\u{0}{label}"), rule.query.clone());
            if crawl.resume.listings.contains(&listing) {
                // Written whole by the run this one resumes.
                crawl.live.spaces_done.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            (crawl.events)(&SyncEvent::SpaceStarted { key: label.clone() });
            crawl
                .live
                .current
                .lock()
                .map(|mut c| c.push(label.clone()))
                .ok();
            let done = self.query(&rule.query, &expand, &listing, &mut seen).await;
            if let Err(err) = &done {
                crawl.live.error(
                    crawl.events,
                    format!("{label} `{}`", rule.query),
                    format!("the search failed, nothing will be deleted: {err}"),
                );
            }
            let ok = done.is_ok() && !crawl.cancel.is_cancelled();
            complete &= ok;
            if ok {
                crawl.mark(Item::ListingDone(listing)).await;
            }
            crawl
                .live
                .current
                .lock()
                .map(|mut c| c.retain(|k| k != &label))
                .ok();
            crawl.live.spaces_done.fetch_add(1, Ordering::Relaxed);
            (crawl.events)(&SyncEvent::SpaceFinished {
                key: label,
                complete: ok,
            });
        }
        Ok(if complete {
            Vec::new()
        } else {
            vec![SpaceOutcome {
                key: INCOMPLETE.to_owned(),
                complete: false,
            }]
        })
    }

    async fn query(
        &self,
        cql: &str,
        expand: &str,
        listing: &ListingKey,
        seen: &mut HashSet<String>,
    ) -> std::result::Result<(), ClientError> {
        let crawl = &self.crawl;
        let _listing = crawl.live.busy(super::Step::Listing);
        let mut pager = crawl
            .client
            .search_cql_with::<serde_json::Value>(cql, PAGE_SIZE, expand)?;
        let mut first = true;
        while let Some(page) = pager.next_page().await? {
            if std::mem::take(&mut first)
                && let Some(total) = page.total_size
            {
                // Confluence's count of the query's results: the progress total grows by it.
                crawl.live.docs_expected.fetch_add(total, Ordering::Relaxed);
            }
            let fresh: Vec<Row> = page
                .results
                .into_iter()
                .filter_map(Row::from_value)
                .filter(|row| {
                    row.id().is_some_and(|id| {
                        seen.insert(id.clone()) && !crawl.resume.units.contains(&id)
                    })
                })
                .collect();
            crawl.live.listed(fresh.len() as u64);
            let docs = stream::iter(fresh)
                .map(|row| self.row(row))
                .buffer_unordered(crawl.item_fan_out());
            futures_util::pin_mut!(docs);
            while let Some(built) = docs.next().await {
                let Some(Fetched {
                    doc,
                    complete,
                    text,
                }) = built
                else {
                    crawl.live.dropped(1);
                    continue;
                };
                let ok = complete;
                let unit = doc.id.clone();
                if !crawl.send_doc(doc, Some(&unit), text).await {
                    return Ok(());
                }
                crawl
                    .mark(Item::UnitDone {
                        unit,
                        listing: listing.clone(),
                        ok,
                    })
                    .await;
            }
            if crawl.cancel.is_cancelled() {
                break;
            }
        }
        Ok(())
    }

    async fn row(&self, row: Row) -> Option<Fetched> {
        let index_labels = self.crawl.config.index_labels;
        match build(&row, &self.links, index_labels) {
            Built::Doc(mut doc) => {
                self.acl_for(&mut doc, &row).await;
                Some(Fetched {
                    doc: *doc,
                    complete: true,
                    text: Text::Fresh,
                })
            }
            Built::Attachment(att, container) => {
                let mut fetched = self
                    .crawl
                    .attachment(*att, &container, &self.links, &self.downloads)
                    .await?;
                self.acl_for(&mut fetched.doc, &row).await;
                Some(fetched)
            }
            Built::Skip(why) => {
                tracing::debug!(id = ?row.id(), why, "search row not indexed");
                None
            }
        }
    }

    /// Document-level security on the advanced-rules path: the same `_allow_access_control`
    /// as the standard path, from the same resolver. Search rows carry what the standard
    /// listings carry (space, ancestors, read restrictions; for attachments and comments those
    /// of the container), so no extra request per item is needed.
    async fn acl_for(&self, doc: &mut Document, row: &Row) {
        let Some(acl) = &self.crawl.acl else {
            return;
        };
        match (&row.result.content, &row.result.space) {
            (Some(content), _) if row.container.is_none() => {
                let (access, derivation) = acl.content_access(content).await;
                self.crawl.apply_acl(doc, &access, &derivation);
            }
            (Some(_), _) => {
                let Some(container) = &row.container else {
                    return;
                };
                let Some(container_doc) = Document::from_content(container, None, &self.links)
                else {
                    return;
                };
                let found = acl.content_access(container).await;
                self.crawl.inherit_acl(doc, &container_doc, Some(&found));
            }
            (None, Some(space)) => {
                let key = space.key.clone().unwrap_or_default();
                let (access, derivation) = acl.space_access(&key, Some(space)).await;
                self.crawl.apply_acl(doc, &access, &derivation);
            }
            (None, None) => {}
        }
    }
}

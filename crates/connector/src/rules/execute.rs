//! The advanced-rules path: each CQL query's results become documents with the standard
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

use super::AdvancedRule;
use super::cql::{EditorContext, SpaceHint};
use crate::confluence::{ClientError, ConfluenceClient, Content, Flavor, SearchResult};
use crate::document::{Document, SiteLinks};
use crate::events::SyncEvent;
use crate::sync::crawl::{Crawl, SpaceOutcome, site_links};
use crate::{Result, text};

/// Rows per search page: Server/Data Center clip searches with a body expansion to 50.
const PAGE_SIZE: usize = 50;

/// The key of the outcome that marks an incomplete advanced-rules run (nothing is deleted).
const INCOMPLETE: &str = "\u{0}advanced-rules";

const CONTENT_EXPAND: &str = "content.space,content.history,content.version,content.ancestors,\
content.container,content.container.ancestors,content.container.space,content.container.history,\
content.container.version,content.body.storage,content.extensions,content.metadata.labels,\
content.restrictions.read.restrictions.user,content.restrictions.read.restrictions.group,\
content.container.restrictions.read.restrictions.user,\
content.container.restrictions.read.restrictions.group,space.description.plain";

/// The expansions of the advanced-rules search for `flavor`. Cloud also has space history and
/// space permissions (as the standard listings expand them; Server and Data Center answer
/// `permissions` with a 500 for non-admins, CONFSERVER-99908).
pub(crate) fn full_expand(flavor: Flavor) -> String {
    match flavor {
        Flavor::Cloud => format!(
            "{CONTENT_EXPAND},space.history,space.permissions,content.space.permissions,\
             content.container.space.permissions"
        ),
        Flavor::Server | Flavor::DataCenter => CONTENT_EXPAND.to_owned(),
    }
}

/// What a search row becomes.
pub(crate) enum Built {
    /// A finished document.
    Doc(Box<Document>),
    /// An attachment and its container's document; the file is still to be fetched.
    Attachment(Box<Content>, Box<Document>),
    /// Nothing to index, and why.
    Skip(&'static str),
}

/// One row of `rest/api/search`, with its content's container read as full content (the
/// client's model keeps only a reference, without the ancestors the expansion brings).
pub(crate) struct Row {
    pub result: SearchResult,
    pub container: Option<Content>,
}

impl Row {
    pub(crate) fn from_value(v: serde_json::Value) -> Option<Row> {
        // Only attachments and comments have content as their container (pages and blog
        // posts have their space there).
        let content = v.get("content");
        let contained = content
            .and_then(|c| c.get("type"))
            .and_then(|t| t.as_str())
            .is_some_and(|t| matches!(t, "attachment" | "comment"));
        let container = content
            .and_then(|c| c.get("container"))
            .filter(|_| contained)
            .and_then(|c| serde_json::from_value::<Content>(c.clone()).ok());
        let result = serde_json::from_value::<SearchResult>(v).ok()?;
        Some(Row { result, container })
    }

    /// The id the row will be indexed under.
    pub(crate) fn id(&self) -> Option<String> {
        row_id(&self.result)
    }
}

/// The id a row will be indexed under.
pub(crate) fn row_id(row: &SearchResult) -> Option<String> {
    match (&row.content, &row.space) {
        (Some(c), _) => c.id.clone(),
        (None, Some(s)) => s.id.clone(),
        _ => None,
    }
}

/// Turns a search row into a document the way the standard crawl builds the same object.
pub(crate) fn build(row: &Row, links: &SiteLinks, index_labels: bool) -> Built {
    let result = &row.result;
    if let Some(content) = &result.content {
        let kind = content.kind.as_deref().unwrap_or_default();
        match kind {
            "page" | "blogpost" => {
                let body = content.storage().map(text::storage_to_text);
                let Some(mut doc) = Document::from_content(content, body, links) else {
                    return Built::Skip("content without an id");
                };
                if index_labels {
                    doc.labels = labels_of(content);
                }
                if doc.url.is_none() {
                    doc.url = links.absolute(result.url.as_deref());
                }
                Built::Doc(Box::new(doc))
            }
            "comment" | "attachment" => {
                let Some(container) = &row.container else {
                    return Built::Skip("no container");
                };
                if container.title.as_deref().is_none_or(str::is_empty) {
                    // The reference skips attachments whose container has no title.
                    return Built::Skip("container without a title");
                }
                let Some(container_doc) = Document::from_content(container, None, links) else {
                    return Built::Skip("container without an id or type");
                };
                let mut own = content.clone();
                // The standard listings do not expand ancestors of comments and attachments:
                // they inherit the container's hierarchy.
                own.ancestors.clear();
                if kind == "attachment" {
                    return Built::Attachment(Box::new(own), Box::new(container_doc));
                }
                let body = own.storage().map(text::storage_to_text);
                let Some(mut doc) = Document::from_content(&own, body, links) else {
                    return Built::Skip("content without an id");
                };
                doc.inherit_container(&container_doc);
                Built::Doc(Box::new(doc))
            }
            _ => Built::Skip("a content type the connector does not index"),
        }
    } else if let Some(space) = &result.space {
        match Document::from_space(space, links) {
            Some(mut doc) => {
                if doc.url.is_none() {
                    doc.url = links.absolute(result.url.as_deref());
                }
                Built::Doc(Box::new(doc))
            }
            None => Built::Skip("space without an id or key"),
        }
    } else {
        Built::Skip("neither content nor space")
    }
}

fn labels_of(content: &Content) -> Vec<String> {
    content
        .metadata
        .as_ref()
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get("results"))
        .and_then(|r| r.as_array())
        .map(|rows| {
            rows.iter()
                .filter_map(|l| l.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

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
        let expand = full_expand(crawl.client.flavor());
        let mut seen: HashSet<String> = HashSet::new();
        let mut complete = true;
        for (i, rule) in rules.iter().enumerate() {
            if crawl.cancel.is_cancelled() {
                complete = false;
                break;
            }
            let label = format!("advanced rule {}", i + 1);
            (crawl.events)(&SyncEvent::SpaceStarted { key: label.clone() });
            crawl
                .live
                .current
                .lock()
                .map(|mut c| c.push(label.clone()))
                .ok();
            let done = self.query(&rule.query, &expand, &mut seen).await;
            if let Err(err) = &done {
                crawl.live.error(
                    crawl.events,
                    format!("{label} `{}`", rule.query),
                    format!("the search failed, nothing will be deleted: {err}"),
                );
            }
            let ok = done.is_ok() && !crawl.cancel.is_cancelled();
            complete &= ok;
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
        seen: &mut HashSet<String>,
    ) -> std::result::Result<(), ClientError> {
        let crawl = &self.crawl;
        let mut pager = crawl
            .client
            .search_cql_with::<serde_json::Value>(cql, PAGE_SIZE, expand)?;
        while let Some(page) = pager.next_page().await? {
            let fresh: Vec<Row> = page
                .results
                .into_iter()
                .filter_map(Row::from_value)
                .filter(|row| row.id().is_some_and(|id| seen.insert(id)))
                .collect();
            let docs = stream::iter(fresh)
                .map(|row| self.row(row))
                .buffer_unordered(crawl.options.item_concurrency.max(1));
            futures_util::pin_mut!(docs);
            while let Some(doc) = docs.next().await {
                if let Some(doc) = doc
                    && crawl.tx.send(doc).await.is_err()
                {
                    return Ok(());
                }
            }
            if crawl.cancel.is_cancelled() {
                break;
            }
        }
        Ok(())
    }

    async fn row(&self, row: Row) -> Option<Document> {
        let index_labels = self.crawl.config.index_labels;
        match build(&row, &self.links, index_labels) {
            Built::Doc(mut doc) => {
                self.acl_for(&mut doc, &row).await;
                Some(*doc)
            }
            Built::Attachment(att, container) => {
                let mut doc = self
                    .crawl
                    .attachment(*att, &container, &self.links, &self.downloads)
                    .await?;
                self.acl_for(&mut doc, &row).await;
                Some(doc)
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
                let (access, derivation) = acl.space_access(&key, Some(&space.permissions)).await;
                self.crawl.apply_acl(doc, &access, &derivation);
            }
            (None, None) => {}
        }
    }
}

/// Spaces and labels for the CQL editor's completions: every space, and the labels of the 100
/// most recently modified pages and blog posts.
pub async fn editor_context(
    client: &ConfluenceClient,
) -> std::result::Result<EditorContext, ClientError> {
    let spaces = client.spaces()?.collect_all().await?;
    let mut labels: Vec<String> = Vec::new();
    let mut pager = client.search_cql_with::<SearchResult>(
        "type in (page, blogpost) order by lastmodified desc",
        100,
        "content.metadata.labels",
    )?;
    if let Some(page) = pager.next_page().await? {
        for row in &page.results {
            if let Some(c) = &row.content {
                labels.extend(labels_of(c));
            }
        }
    }
    labels.sort();
    labels.dedup();
    let mut spaces: Vec<SpaceHint> = spaces
        .into_iter()
        .filter_map(|s| {
            let key = s.key?;
            Some(SpaceHint {
                name: s.name.unwrap_or_else(|| key.clone()),
                key,
            })
        })
        .collect();
    spaces.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(EditorContext { spaces, labels })
}

//! The crawl: spaces in scope, then each space's pages and blog posts, and for each of those its
//! labels, attachments (with their text) and comments. Spaces run concurrently, items of a space
//! too, all under the client's one global request limit; downloads are bounded separately by
//! `concurrent_downloads`. Documents leave through a bounded channel, so memory stays flat.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::{StreamExt, TryStreamExt, stream};
use tokio::sync::{Semaphore, mpsc};

use super::{CancellationToken, Live, SyncOptions};
use crate::acl::{Access, AclResolver, Derivation};
use crate::config::ConnectorConfig;
use crate::confluence::{ClientError, ConfluenceClient, Content, ContentType, Space};
use crate::document::{Document, SiteLinks, site_links};
use crate::events::{EventHandler, SyncEvent};
use crate::{Error, Result, extract, text};

/// How the listings of one space ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceOutcome {
    /// The space key.
    pub key: String,
    /// Whether every listing in the space completed; only then may its documents be deleted.
    pub complete: bool,
}

pub(crate) struct Crawl<'a> {
    pub config: &'a ConnectorConfig,
    pub client: &'a ConfluenceClient,
    pub options: &'a SyncOptions,
    pub events: &'a EventHandler,
    pub cancel: &'a CancellationToken,
    pub live: &'a Arc<Live>,
    pub tx: mpsc::Sender<Document>,
    /// Document-level security: computes each document's `_allow_access_control`.
    pub acl: Option<Arc<AclResolver>>,
}

impl Crawl<'_> {
    /// Crawls every space in scope. `Err` only when the spaces themselves could not be listed.
    pub async fn run(self) -> Result<Vec<SpaceOutcome>> {
        let spaces = self.spaces_in_scope().await?;
        self.live
            .spaces_total
            .store(spaces.len() as u64, Ordering::Relaxed);
        let links = site_links(self.client);
        let downloads = Arc::new(Semaphore::new(
            self.config.concurrent_downloads.clamp(1, 50) as usize,
        ));
        let outcomes = stream::iter(spaces)
            .map(|space| self.space(space, &links, &downloads))
            .buffer_unordered(self.options.space_concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        Ok(outcomes)
    }

    async fn spaces_in_scope(&self) -> Result<Vec<Space>> {
        let all: Vec<Space> = self.client.spaces()?.collect_all().await?;
        let wanted = &self.config.spaces;
        if wanted.is_empty() || wanted.iter().any(|k| k == "*") {
            return Ok(all);
        }
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|k| !all.iter().any(|s| s.key.as_deref() == Some(k.as_str())))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let available: Vec<&str> = all.iter().filter_map(|s| s.key.as_deref()).collect();
            self.live.error(
                self.events,
                "spaces",
                format!(
                    "Spaces '{}' are not available. Available spaces are: '{}'",
                    missing.join(", "),
                    available.join(", ")
                ),
            );
        }
        Ok(all
            .into_iter()
            .filter(|s| s.key.as_ref().is_some_and(|k| wanted.contains(k)))
            .collect())
    }

    async fn send(&self, doc: Document) -> bool {
        self.tx.send(doc).await.is_ok()
    }

    async fn space(
        &self,
        space: Space,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> SpaceOutcome {
        let key = space.key.clone().unwrap_or_default();
        (self.events)(&SyncEvent::SpaceStarted { key: key.clone() });
        self.live
            .current
            .lock()
            .map(|mut c| c.push(key.clone()))
            .ok();
        let mut complete = true;
        if let Some(mut doc) = Document::from_space(&space, links) {
            if let Some(acl) = &self.acl {
                let (access, derivation) = acl.space_access(&key, Some(&space.permissions)).await;
                self.apply_acl(&mut doc, &access, &derivation);
            }
            self.send(doc).await;
        }
        for kind in [ContentType::Page, ContentType::BlogPost] {
            if self.cancel.is_cancelled() {
                complete = false;
                break;
            }
            if let Err(err) = self.content_of(&key, kind, links, downloads).await {
                complete = false;
                self.live.error(
                    self.events,
                    format!("space {key}"),
                    format!("listing {}s failed: {err}", kind.as_str()),
                );
            }
        }
        self.live
            .current
            .lock()
            .map(|mut c| c.retain(|k| k != &key))
            .ok();
        self.live.spaces_done.fetch_add(1, Ordering::Relaxed);
        (self.events)(&SyncEvent::SpaceFinished {
            key: key.clone(),
            complete,
        });
        SpaceOutcome { key, complete }
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
        let items = self.client.content_in_space(space_key, kind)?.into_stream();
        let mut failed: Option<Error> = None;
        items
            .map_err(Error::from)
            .take_while(|_| std::future::ready(!self.cancel.is_cancelled()))
            .map(|item| async move {
                match item {
                    Ok(content) => self.item(content, links, downloads).await,
                    Err(err) => Err(err),
                }
            })
            .buffer_unordered(self.options.item_concurrency.max(1))
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
    /// child listing failed, which makes the space incomplete.
    async fn item(
        &self,
        content: Content,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> Result<()> {
        let body = content.storage().map(text::storage_to_text);
        let Some(mut doc) = Document::from_content(&content, body, links) else {
            return Ok(());
        };
        let container_acl = match &self.acl {
            Some(acl) => {
                let (access, derivation) = acl.content_access(&content).await;
                self.apply_acl(&mut doc, &access, &derivation);
                Some((access, derivation))
            }
            None => None,
        };
        if self.config.index_labels {
            let labels = self.client.labels(&doc.id)?.collect_all().await?;
            doc.labels = labels.into_iter().filter_map(|l| l.name).collect();
        }
        let container = doc.clone();
        self.send(doc).await;

        let has_attachments = content
            .children
            .as_ref()
            .and_then(|c| c.attachment.as_ref())
            .is_none_or(|a| a.size.unwrap_or(1) > 0 || !a.results.is_empty());
        if has_attachments {
            let attachments: Vec<Content> = self
                .client
                .attachments(&container.id)?
                .collect_all()
                .await?;
            let docs = stream::iter(attachments)
                .map(|att| self.attachment(att, &container, links, downloads))
                .buffer_unordered(self.config.concurrent_downloads.clamp(1, 50) as usize);
            futures_util::pin_mut!(docs);
            while let Some(doc) = docs.next().await {
                if let Some(mut doc) = doc {
                    self.inherit_acl(&mut doc, &container, container_acl.as_ref());
                    self.send(doc).await;
                }
            }
        }

        let mut comments = self.client.comments(&container.id)?.into_stream();
        while let Some(comment) = comments.next().await {
            let comment = comment?;
            let body = comment.storage().map(text::storage_to_text);
            if let Some(mut doc) = Document::from_content(&comment, body, links) {
                doc.inherit_container(&container);
                self.inherit_acl(&mut doc, &container, container_acl.as_ref());
                self.send(doc).await;
            }
        }
        Ok(())
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
    /// the file is within the download cap. A failed download leaves a metadata document.
    pub(crate) async fn attachment(
        &self,
        att: Content,
        container: &Document,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> Option<Document> {
        let mut doc = Document::from_attachment(&att, container, links)?;
        let extractor = extract::Extractor::new(self.config);
        let extension = doc.extension.clone().unwrap_or_default();
        if let Some(reason) = extractor.skip_reason(&extension, doc.size) {
            doc.extraction_note = Some(reason);
            return Some(doc);
        }
        let Some(link) = att.links.download.as_deref() else {
            doc.extraction_note = Some("Confluence gave no download link".to_owned());
            return Some(doc);
        };
        // The permit covers the download and the extraction: at most `concurrent_downloads`
        // files are on disk or being read at once.
        let _permit = downloads.acquire().await.ok()?;
        let spooled = match self.client.download(link).await {
            Ok(download) => extract::spool(download, &extension).await,
            Err(err) => Err(err.into()),
        };
        match spooled {
            Ok(file) => {
                self.live
                    .downloaded_bytes
                    .fetch_add(file.len(), Ordering::Relaxed);
                let extraction = extractor.extract(file.path(), &extension).await;
                if extraction.failed {
                    let note = extraction.note.clone().unwrap_or_default();
                    self.live
                        .error(self.events, format!("attachment {}", doc.id), note);
                }
                doc.body = extraction.text;
                doc.extraction_note = extraction.note;
            }
            Err(extract::SpoolError::Download(err)) => self.download_failed(&mut doc, err),
            Err(err) => {
                let note = err.to_string();
                self.live
                    .error(self.events, format!("attachment {}", doc.id), note.clone());
                doc.extraction_note = Some(note);
            }
        }
        Some(doc)
    }

    fn download_failed(&self, doc: &mut Document, err: ClientError) {
        let message = match &err {
            ClientError::TooLarge { .. } => "file larger than the download cap".to_owned(),
            other => format!("download failed: {other}"),
        };
        self.live.error(
            self.events,
            format!("attachment {}", doc.id),
            message.clone(),
        );
        doc.extraction_note = Some(message);
    }
}

//! The standard crawl on Confluence Cloud through REST v2, what [`Crawl::run`] takes when the
//! site serves v2 (a proxy that does not pass `/wiki/api/v2` through leaves the v1 crawl).
//!
//! v2 has no expansions: a page listing carries neither labels, attachments, comments,
//! ancestors nor restrictions, and its child routes cost a request per page each. So the crawl
//! reads listings, never one request per item:
//! - per space, its pages without bodies (parents and titles: every page's ancestors) and,
//!   with document-level security, v1's restriction listing of its pages and blog posts (v2 has
//!   no restrictions); then its pages and blog posts with their storage bodies, each written as
//!   it arrives with its ancestors, labels and access; account ids become names through
//!   `users-bulk`, once each;
//! - once for the crawl, beside the spaces' first listings, the labels used in each space and
//!   per label the pages and blog posts carrying it in up to 100 spaces (or, where the last
//!   sync's counts say that costs more, each item's own labels);
//! - site-wide, from the start, the attachments: a row waits until its page or blog post is
//!   written, then goes to the downloads; once every space is in, the footer and inline
//!   comments. Rows of pages this crawl did not write (other spaces) are passed over.
//!
//! Pages and listings are checkpointed when the site-wide listings complete: a run that stops
//! before lists again, and what the index holds unchanged is neither downloaded nor written
//! again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures_util::{StreamExt, TryStreamExt, stream};
use tokio::sync::{Semaphore, mpsc};

use super::Step;
use super::checkpoint::ListingKey;
use super::crawl::{Crawl, Fetched, Item, SpaceOutcome};
use crate::acl::{Access, Derivation};
use crate::confluence::{
    ClientError, ConfluenceClient, Content, ContentRef, ContentType, History, Names, Space,
    USERS_PER_LOOKUP, V2Attachment, V2Comment, V2Content, V2Label,
};
use crate::document::{Ancestor, DocType, Document, SiteLinks};
use crate::{Error, text};

/// Spaces per label listing (`space-id`, at most 100).
const SPACES_PER_LABEL_LISTING: usize = 100;

/// The labels of the crawl, read once beside the first listings of the spaces.
type LabelCell = tokio::sync::OnceCell<Labels>;

/// Ids per v1 search for the creators v2 does not give (CQL `id in (...)`).
const CREATORS_PER_SEARCH: usize = 100;

/// A page or blog post in its tree: id, title and parent. A page holds its parent's place,
/// so the pages of a space share their ancestors instead of each keeping a copy of the chain.
struct Place {
    id: Box<str>,
    title: Box<str>,
    parent: Option<Arc<Place>>,
}

impl Place {
    /// Its ancestors, root first: titles and ids.
    fn chain(&self) -> (Vec<Ancestor>, Vec<String>) {
        let mut up: Vec<&Place> = Vec::new();
        let mut at = self.parent.as_deref();
        while let Some(place) = at {
            up.push(place);
            at = place.parent.as_deref();
        }
        up.iter()
            .rev()
            .map(|p| {
                let ancestor = Ancestor {
                    title: p.title.to_string(),
                };
                (ancestor, p.id.to_string())
            })
            .unzip()
    }

    /// Its ancestors as a listing with `ancestors` expanded gives them.
    fn ancestors(&self) -> Vec<ContentRef> {
        let (titles, ids) = self.chain();
        titles
            .into_iter()
            .zip(ids)
            .map(|(a, id)| ContentRef {
                id: Some(id),
                title: Some(a.title),
                ..ContentRef::default()
            })
            .collect()
    }
}

/// The places of a space's pages and blog posts from its first listing, by id: each page's
/// parent, up to the first one the listing does not hold (a folder, or another space's),
/// with no cycle and at most 1,000 levels.
fn places(rows: Vec<V2Content>) -> HashMap<String, Arc<Place>> {
    let mut rows: HashMap<String, V2Content> = rows
        .into_iter()
        .filter_map(|r| Some((r.id.clone()?, r)))
        .collect();
    let parents: HashMap<String, String> = rows
        .iter()
        .filter_map(|(id, r)| Some((id.clone(), r.parent_id.clone()?)))
        .collect();
    let ids: Vec<String> = rows.keys().cloned().collect();
    let mut places: HashMap<String, Arc<Place>> = HashMap::with_capacity(ids.len());
    for id in ids {
        // Up to the first page placed already or without a listed parent, then down again.
        let mut path = vec![id];
        loop {
            let at = &path[path.len() - 1];
            if places.contains_key(at) {
                break;
            }
            match parents.get(at) {
                Some(up)
                    if (rows.contains_key(up) || places.contains_key(up))
                        && !path.contains(up)
                        && path.len() <= 1000 =>
                {
                    path.push(up.clone())
                }
                _ => break,
            }
        }
        let mut parent = places.get(&path[path.len() - 1]).cloned();
        for id in path.into_iter().rev() {
            if let Some(placed) = places.get(&id) {
                parent = Some(placed.clone());
                continue;
            }
            let title = rows.remove(&id).and_then(|r| r.title).unwrap_or_default();
            let place = Arc::new(Place {
                id: id.clone().into(),
                title: title.into(),
                parent: parent.take(),
            });
            places.insert(id, place.clone());
            parent = Some(place);
        }
    }
    places
}

/// A page or blog post this crawl wrote: what its attachments and comments take from it. It
/// is kept until the site-wide listings end, so it is small: its place, space and access are
/// shared with the pages beside it.
struct Container {
    place: Arc<Place>,
    kind: DocType,
    /// The space's name and key (one per space).
    space: Arc<(Option<String>, Option<String>)>,
    /// Its access (one per space and set of restrictions).
    acl: Option<Arc<(Access, Derivation)>>,
}

impl std::borrow::Borrow<str> for ById {
    fn borrow(&self) -> &str {
        &self.0.place.id
    }
}

/// A container in the set of those written, found by its id.
struct ById(Arc<Container>);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.place.id == other.0.place.id
    }
}

impl Eq for ById {}

impl std::hash::Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.place.id.hash(state)
    }
}

impl Container {
    fn id(&self) -> &str {
        &self.place.id
    }

    /// The container as a document, for [`Document::inherit_container`].
    fn document(&self) -> Document {
        Document::container(
            self.id().to_owned(),
            self.kind,
            self.place.title.to_string(),
            (*self.space).clone(),
            self.place.chain(),
        )
    }

    /// The listing it came from (checkpoint).
    fn listing(&self) -> ListingKey {
        let kind = match self.kind {
            DocType::Blogpost => ContentType::BlogPost,
            _ => ContentType::Page,
        };
        let key = self.space.1.clone().unwrap_or_default();
        (key, kind.as_str().to_owned())
    }
}

/// What the pages or blog posts of one listing share as they are written.
struct Listing<'a> {
    labels: &'a LabelCell,
    /// The listing (checkpoint), and its space's key.
    listing: &'a ListingKey,
    /// The space's name and key, shared by every page kept for its attachments and comments.
    names: &'a Arc<(Option<String>, Option<String>)>,
    containers: &'a Containers,
    ready: &'a mpsc::Sender<Ready>,
}

/// The same access computed twice: same space, same restriction layers, no failure.
type AclKey = (Option<String>, Vec<String>);

/// The pages and blog posts written so far, by id, those with an incomplete document, and the
/// accesses they share.
#[derive(Default)]
struct Containers {
    written: Mutex<Written>,
    incomplete: Mutex<HashSet<String>>,
    accesses: Mutex<HashMap<AclKey, Arc<(Access, Derivation)>>>,
}

/// The written pages and blog posts, and the attachments listed before their page was
/// written (the site-wide listing runs beside the spaces), until it is.
#[derive(Default)]
struct Written {
    by_id: HashSet<ById>,
    pending: HashMap<String, Vec<Content>>,
    pending_rows: usize,
    /// Every space's pages are in: an attachment of a page not written now is out of scope.
    all_in: bool,
}

/// An attachment ready for its download, with its page or blog post.
type Ready = (Content, Arc<Container>);

/// Attachments held for pages not written yet, at most: the listing waits above this.
const PENDING_ATTACHMENTS: usize = 2_000;

impl Containers {
    fn get(&self, id: Option<&String>) -> Option<Arc<Container>> {
        let id = id?;
        lock(&self.written)
            .by_id
            .get(id.as_str())
            .map(|c| c.0.clone())
    }

    /// An attachment listed: ready when its page or blog post was written, held until it is,
    /// or passed over (`None` both ways) once every space is in.
    fn place(&self, att: Content) -> Option<Ready> {
        let mut written = lock(&self.written);
        let id = att
            .container
            .as_ref()
            .and_then(|c| c.id.clone())
            .unwrap_or_default();
        if let Some(container) = written.by_id.get(id.as_str()) {
            return Some((att, container.0.clone()));
        }
        if !written.all_in {
            written.pending.entry(id).or_default().push(att);
            written.pending_rows += 1;
        }
        None
    }

    /// Whether the listing should wait for pages to be written before it reads on.
    fn pending_full(&self) -> bool {
        let written = lock(&self.written);
        !written.all_in && written.pending_rows >= PENDING_ATTACHMENTS
    }

    /// Every space is in: the attachments still held whose page was written are ready, the
    /// others are out of scope.
    fn all_in(&self) -> Vec<Ready> {
        let mut written = lock(&self.written);
        written.all_in = true;
        written.pending_rows = 0;
        let pending = std::mem::take(&mut written.pending);
        pending
            .into_iter()
            .filter_map(|(id, atts)| Some((written.by_id.get(id.as_str())?.0.clone(), atts)))
            .flat_map(|(container, atts)| atts.into_iter().map(move |a| (a, container.clone())))
            .collect()
    }

    /// Keeps a written page or blog post, in its place (renamed since the first listing: the
    /// title written).
    fn keep(
        &self,
        doc: &Document,
        place: Arc<Place>,
        space: &Arc<(Option<String>, Option<String>)>,
        acl: Option<(Access, Derivation)>,
    ) -> Vec<Ready> {
        let place = if *place.title == *doc.title {
            place
        } else {
            Arc::new(Place {
                id: place.id.clone(),
                title: doc.title.as_str().into(),
                parent: place.parent.clone(),
            })
        };
        let acl = acl.map(|(access, derivation)| {
            if derivation.failure.is_some() {
                return Arc::new((access, derivation));
            }
            let key = (
                derivation.space_key.clone(),
                derivation
                    .layers
                    .iter()
                    .map(|l| l.content_id.clone())
                    .collect(),
            );
            lock(&self.accesses)
                .entry(key)
                .or_insert_with(|| Arc::new((access, derivation)))
                .clone()
        });
        let container = Container {
            place,
            kind: doc.kind,
            space: space.clone(),
            acl,
        };
        let container = Arc::new(container);
        let mut written = lock(&self.written);
        written.by_id.insert(ById(container.clone()));
        let held = written.pending.remove(&doc.id).unwrap_or_default();
        written.pending_rows -= held.len().min(written.pending_rows);
        held.into_iter().map(|a| (a, container.clone())).collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Display names of the account ids met so far: v2 names people by account id only.
#[derive(Default)]
pub(crate) struct People {
    names: Mutex<Names>,
    /// Ids asked for already, found or not.
    asked: Mutex<HashSet<String>>,
    lookup: tokio::sync::Mutex<()>,
}

impl People {
    /// Looks up the names of the ids not asked for yet. A failed lookup leaves them unnamed
    /// (documents then show the account id) and is not repeated.
    pub(crate) async fn learn(&self, client: &ConfluenceClient, ids: Vec<String>) {
        // One lookup at a time: an id another listing is asking for is named once it returns.
        let _turn = self.lookup.lock().await;
        let new: Vec<String> = {
            let mut asked = lock(&self.asked);
            ids.into_iter()
                .filter(|id| asked.insert(id.clone()))
                .collect()
        };
        for chunk in new.chunks(USERS_PER_LOOKUP) {
            match client.v2_users(chunk).await {
                Ok(users) => {
                    let mut names = lock(&self.names);
                    for user in users {
                        if let (Some(id), Some(name)) = (user.account_id, user.display_name) {
                            names.insert(id, name);
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(%err, "users-bulk failed; these authors keep their account ids");
                }
            }
        }
    }

    /// Runs `f` with the names known.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Names) -> T) -> T {
        f(&lock(&self.names))
    }
}

/// How labels are read: per label used in the spaces in scope (two listings each, over up to
/// 100 spaces), or per page or blog post where that is fewer requests (as the last sync's
/// counts say) or the label listings failed.
enum Labels {
    /// Not indexed.
    Off,
    /// Label names by content id.
    ByLabel(HashMap<String, Vec<String>>),
    /// One listing per page or blog post.
    PerItem,
}

impl Crawl<'_> {
    /// Whether the site serves REST v2 (Cloud only; one small request).
    pub(crate) async fn v2_served(&self) -> bool {
        if self.client.flavor() != crate::confluence::Flavor::Cloud {
            return false;
        }
        match self.client.v2_probe().await {
            Ok(_) => true,
            Err(err) => {
                tracing::info!(%err, "REST v2 is not served here; crawling through REST v1");
                false
            }
        }
    }

    /// The v2 crawl of `spaces` (see the module's documentation).
    pub(crate) async fn run_v2(
        &self,
        spaces: Vec<Space>,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
    ) -> Vec<SpaceOutcome> {
        let containers = Containers::default();
        let people = People::default();
        // The labels are read beside the spaces' first listings; bodies wait for them.
        let labels = LabelCell::new();
        // Attachments are listed site-wide from the start and downloaded as soon as their page
        // is written, beside the crawl of the spaces.
        let limit = self.config.concurrent_downloads.clamp(1, 50) as usize;
        let (ready, mut queue) = mpsc::channel::<Ready>(4 * limit);
        let listing_ready = ready.clone();
        let (containers, people, labels, spaces) = (&containers, &people, &labels, &spaces);
        let spaces_then_comments = async move {
            let (_, listed) = tokio::join!(
                labels.get_or_init(|| self.labels(spaces)),
                stream::iter(spaces.clone())
                    .map(|space| {
                        self.v2_space(space, links, labels, containers, &ready, people)
                    })
                    .buffer_unordered(self.space_fan_out())
                    .collect::<Vec<(SpaceOutcome, bool)>>()
            );
            for att in containers.all_in() {
                let _ = ready.send(att).await;
            }
            drop(ready);
            let (footer, inline) = tokio::join!(
                self.v2_comments(false, links, containers, people),
                self.v2_comments(true, links, containers, people),
            );
            (listed, footer, inline)
        };
        let attachments = self.v2_attachments(containers, people, listing_ready);
        let fetch = stream::poll_fn(|cx| queue.poll_recv(cx))
            .map(|(att, container)| {
                self.v2_attachment(att, container, links, downloads, containers)
            })
            .buffer_unordered(limit)
            .collect::<()>();
        let ((listed, footer, inline), attachments, ()) =
            tokio::join!(spaces_then_comments, attachments, fetch);
        let mut children = !self.cancel.is_cancelled();
        for (what, outcome) in [
            ("attachments", attachments),
            ("footer comments", footer),
            ("inline comments", inline),
        ] {
            if let Err(source) = outcome {
                children = false;
                let err = Error::Listing {
                    what: what.to_owned(),
                    source,
                };
                self.live
                    .error(self.events, "site-wide listing", err.to_string());
            }
        }
        let written = std::mem::take(&mut lock(&containers.written).by_id);
        let incomplete = std::mem::take(&mut *lock(&containers.incomplete));
        if children {
            for ById(container) in written {
                let unit = container.id().to_owned();
                let ok = !incomplete.contains(&unit);
                let listing = container.listing();
                self.mark(Item::UnitDone { unit, listing, ok }).await;
            }
        }
        let mut outcomes = Vec::with_capacity(listed.len());
        for (mut outcome, resumed) in listed {
            if !resumed {
                outcome.complete &= children;
                if outcome.complete {
                    for kind in [ContentType::Page, ContentType::BlogPost] {
                        let listing = (outcome.key.clone(), kind.as_str().to_owned());
                        self.mark(Item::ListingDone(listing)).await;
                    }
                }
            }
            outcomes.push(outcome);
        }
        outcomes
    }

    /// One space: its document, then its pages and blog posts. The flag says the run this
    /// one resumes wrote the space whole.
    async fn v2_space(
        &self,
        space: Space,
        links: &SiteLinks,
        labels: &LabelCell,
        containers: &Containers,
        ready: &mpsc::Sender<Ready>,
        people: &People,
    ) -> (SpaceOutcome, bool) {
        let key = space.key.clone().unwrap_or_default();
        let done = [ContentType::Page, ContentType::BlogPost]
            .iter()
            .all(|kind| {
                self.resume
                    .listings
                    .contains(&(key.clone(), kind.as_str().to_owned()))
            });
        if done {
            self.live
                .spaces_done
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let outcome = SpaceOutcome {
                key,
                complete: true,
            };
            return (outcome, true);
        }
        self.space_started(&key);
        self.send_space(&space, &key, links).await;
        let complete = match self
            .v2_units(&space, links, labels, containers, ready, people)
            .await
        {
            Ok(()) => !self.cancel.is_cancelled(),
            Err(err) => {
                self.live
                    .error(self.events, format!("space {key}"), err.to_string());
                false
            }
        };
        self.space_finished(&key, complete);
        (SpaceOutcome { key, complete }, false)
    }

    /// A space's pages and blog posts, each written with its place, labels and access.
    async fn v2_units(
        &self,
        space: &Space,
        links: &SiteLinks,
        labels: &LabelCell,
        containers: &Containers,
        ready: &mpsc::Sender<Ready>,
        people: &People,
    ) -> Result<(), Error> {
        let key = space.key.clone().unwrap_or_default();
        let Some(space_id) = space.id.clone() else {
            return Err(Error::Listing {
                what: format!("pages of space {key}"),
                source: ClientError::Decode {
                    url: "space listing".to_owned(),
                    message: "the space has no id".to_owned(),
                },
            });
        };
        let places = self.skeleton(space, &space_id).await?;
        // Bodies are written with their labels: wait while `run_v2` reads them (once, for
        // every space; `Off` only if that stopped).
        labels.get_or_init(|| async { Labels::Off }).await;
        // The space's name and key, shared by every page kept for its attachments and comments.
        let names = Arc::new((space.name.clone(), space.key.clone()));
        for kind in [ContentType::Page, ContentType::BlogPost] {
            let what = format!("{}s of space {key}", kind.as_str());
            let listing: ListingKey = (key.clone(), kind.as_str().to_owned());
            let _listing = self.live.busy(Step::Listing);
            let mut pages = self
                .client
                .v2_space_bodies(&space_id, kind.as_str())
                .map_err(|source| Error::Listing {
                    what: what.clone(),
                    source,
                })?
                .into_page_stream();
            while let Some(page) = pages.next().await {
                if self.cancel.is_cancelled() {
                    return Ok(());
                }
                let rows = page
                    .map_err(|source| Error::Listing {
                        what: what.clone(),
                        source,
                    })?
                    .results;
                let rows: Vec<V2Content> = rows
                    .into_iter()
                    .filter(|r| {
                        r.id.as_ref()
                            .is_none_or(|id| !self.resume.units.contains(id))
                    })
                    .collect();
                let ids = rows.iter().flat_map(V2Content::people).cloned().collect();
                people.learn(self.client, ids).await;
                let units: Vec<(Content, Arc<Place>)> = people.with(|names| {
                    rows.into_iter()
                        .map(|row| self.v2_content(row, kind, space, &places, names))
                        .collect()
                });
                self.live.listed(units.len() as u64);
                let cx = Listing {
                    labels,
                    listing: &listing,
                    names: &names,
                    containers,
                    ready,
                };
                stream::iter(units)
                    .for_each_concurrent(self.item_fan_out(), |unit| self.v2_unit(unit, &cx, links))
                    .await;
            }
        }
        Ok(())
    }

    /// A listed page or blog post as v1 would give it, with its space and ancestors (its own
    /// restriction is the resolver's already, see [`Crawl::skeleton`]), and its place.
    fn v2_content(
        &self,
        row: V2Content,
        kind: ContentType,
        space: &Space,
        places: &HashMap<String, Arc<Place>>,
        names: &Names,
    ) -> (Content, Arc<Place>) {
        let parent = row.parent_id.clone();
        let mut content = row.into_content(kind.as_str(), names);
        content.space = Some(Box::new(Space {
            id: space.id.clone(),
            key: space.key.clone(),
            name: space.name.clone(),
            ..Space::default()
        }));
        let id = content.id.clone().unwrap_or_default();
        let place = places.get(&id).cloned().unwrap_or_else(|| {
            // Made after the first listing: under its parent's place, when that was listed.
            Arc::new(Place {
                id: id.as_str().into(),
                title: content.title.as_deref().unwrap_or_default().into(),
                parent: parent.and_then(|p| places.get(&p).cloned()),
            })
        });
        content.ancestors = place.ancestors();
        (content, place)
    }

    /// Writes one page or blog post and keeps what its attachments and comments need.
    async fn v2_unit(
        &self,
        (content, place): (Content, Arc<Place>),
        cx: &Listing<'_>,
        links: &SiteLinks,
    ) {
        let Listing {
            labels,
            listing,
            names,
            containers,
            ready,
        } = cx;
        let fetching = self.live.busy(Step::Fetching);
        let body = content.storage().map(text::storage_to_text);
        let Some(mut doc) = Document::from_content(&content, body, links) else {
            self.live.dropped(1);
            return;
        };
        if doc.space_key.is_none() {
            doc.space_key = Some(listing.0.clone());
        }
        match labels.get().unwrap_or(&Labels::Off) {
            Labels::Off => {}
            Labels::ByLabel(by_content) => {
                if let Some(labels) = by_content.get(&doc.id) {
                    doc.set_labels(labels.iter().cloned());
                }
            }
            Labels::PerItem => match self.item_labels(&doc).await {
                Ok(labels) => doc.set_labels(labels),
                Err(err) => {
                    // Written without them, and fetched again by the next run.
                    lock(&containers.incomplete).insert(doc.id.clone());
                    self.live.error(
                        self.events,
                        format!("{} {}", doc.kind.as_str(), doc.id),
                        format!("its labels could not be listed: {err}"),
                    );
                }
            },
        }
        let acl = match &self.acl {
            Some(acl) => {
                let (access, derivation) = acl.content_access(&content).await;
                self.apply_acl(&mut doc, &access, &derivation);
                Some((access, derivation))
            }
            None => None,
        };
        let held = containers.keep(&doc, place, names, acl);
        drop(fetching);
        let unit = doc.id.clone();
        self.send(doc, Some(&unit)).await;
        for att in held {
            let _ = ready.send(att).await;
        }
    }

    /// The first listings of a space: its pages' places and, with document-level security, the
    /// restrictions of its pages and blog posts, each read into the resolver (an item's access
    /// needs its ancestors').
    async fn skeleton(
        &self,
        space: &Space,
        space_id: &str,
    ) -> Result<HashMap<String, Arc<Place>>, Error> {
        let key = space.key.clone().unwrap_or_default();
        let failed = |what: &str, source: ClientError| Error::Listing {
            what: format!("{what} of space {key}"),
            source,
        };
        let pages = async {
            self.client
                .v2_space_content(&[space_id.to_owned()], "page")?
                .collect_all()
                .await
        };
        let restrictions = async {
            match self.acl {
                Some(_) => {
                    self.client
                        .unit_restrictions(std::slice::from_ref(&key))?
                        .collect_all()
                        .await
                }
                None => Ok(Vec::new()),
            }
        };
        let (pages, restricted) = tokio::join!(pages, restrictions);
        let pages = pages.map_err(|e| failed("pages", e))?;
        let restricted = restricted.map_err(|e| failed("read restrictions", e))?;
        if let Some(acl) = &self.acl {
            futures_util::future::join_all(restricted.iter().map(|row| acl.prime(row))).await;
        }
        Ok(places(pages))
    }

    /// Label listings read at once: the request limit (they run before any body is written).
    fn label_fan_out(&self) -> usize {
        (self.config.http.max_concurrent_requests as usize).max(4)
    }

    /// Where the labels of the spaces in scope come from (see [`Labels`]).
    async fn labels(&self, spaces: &[Space]) -> Labels {
        if !self.config.index_labels {
            return Labels::Off;
        }
        match self.labels_by_label(spaces).await {
            Ok(Some(by_content)) => Labels::ByLabel(by_content),
            Ok(None) => Labels::PerItem,
            Err(err) => {
                tracing::warn!(%err, "the label listings failed; labels are listed per page");
                Labels::PerItem
            }
        }
    }

    /// Label names by content id: the labels used in each space, then per label the pages and
    /// blog posts carrying it in the spaces in scope. `None` when the last sync's counts say
    /// that one listing per page or blog post costs less.
    async fn labels_by_label(
        &self,
        spaces: &[Space],
    ) -> Result<Option<HashMap<String, Vec<String>>>, ClientError> {
        let ids: Vec<String> = spaces.iter().filter_map(|s| s.id.clone()).collect();
        let used: Vec<Vec<V2Label>> = stream::iter(ids.clone())
            .map(|id| async move {
                self.client
                    .v2_space_content_labels(&id)?
                    .collect_all()
                    .await
            })
            .buffer_unordered(self.label_fan_out())
            .try_collect()
            .await?;
        let labels: HashMap<String, String> = used
            .into_iter()
            .flatten()
            .filter_map(|l| Some((l.id?, l.name?)))
            .collect();
        let groups: Vec<String> = ids
            .chunks(SPACES_PER_LABEL_LISTING)
            .map(|c| c.join(","))
            .collect();
        let items: usize = spaces
            .iter()
            .filter_map(|s| s.key.as_deref())
            .map(|key| self.manifest.space_size(key).units)
            .sum();
        if items > 0 && 2 * labels.len() * groups.len() > items {
            return Ok(None);
        }
        let listings = labels.into_iter().flat_map(|(id, name)| {
            groups.iter().flat_map(move |group| {
                [ContentType::Page, ContentType::BlogPost]
                    .map(|kind| (id.clone(), name.clone(), group.clone(), kind))
            })
        });
        // Each listing page is cut down to its ids as it arrives: the rows are whole pages.
        let carriers: Vec<(String, Vec<String>)> = stream::iter(listings.collect::<Vec<_>>())
            .map(|(id, name, group, kind)| async move {
                let mut ids = Vec::new();
                let mut pages = self
                    .client
                    .v2_labelled(&id, kind.as_str(), &group)?
                    .into_page_stream();
                while let Some(page) = pages.next().await {
                    ids.extend(page?.results.into_iter().filter_map(|r| r.id));
                }
                Ok::<_, ClientError>((name, ids))
            })
            .buffer_unordered(self.label_fan_out())
            .try_collect()
            .await?;
        let mut by_content: HashMap<String, Vec<String>> = HashMap::new();
        for (name, ids) in carriers {
            for id in ids {
                by_content.entry(id).or_default().push(name.clone());
            }
        }
        Ok(Some(by_content))
    }

    /// The labels of one page or blog post, from its own listing.
    async fn item_labels(&self, doc: &Document) -> Result<Vec<String>, ClientError> {
        let labels = self
            .client
            .v2_item_labels(&doc.id, doc.kind.as_str())?
            .collect_all()
            .await?;
        Ok(labels.into_iter().filter_map(|l| l.name).collect())
    }

    /// The site-wide attachment listing: each row to the downloads once its page or blog post
    /// is written (see [`Containers::place`]).
    async fn v2_attachments(
        &self,
        containers: &Containers,
        people: &People,
        ready: mpsc::Sender<Ready>,
    ) -> Result<(), ClientError> {
        let mut pages = self.client.v2_attachments()?.into_page_stream();
        let _busy = self.live.busy(Step::Listing);
        while let Some(page) = pages.next().await {
            if self.cancel.is_cancelled() {
                break;
            }
            let rows = page?.results;
            let ids = rows
                .iter()
                .flat_map(V2Attachment::people)
                .cloned()
                .collect();
            people.learn(self.client, ids).await;
            let mut rows: Vec<Content> = people.with(|names| {
                rows.into_iter()
                    .map(|row| row.into_content(names))
                    .collect()
            });
            self.creators(rows.iter_mut()).await?;
            for att in rows {
                if let Some(ready_now) = containers.place(att) {
                    let _ = ready.send(ready_now).await;
                }
            }
            // Pages not written yet hold many attachments: let the spaces catch up.
            while containers.pending_full() && !self.cancel.is_cancelled() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    /// Who made each of these comments or attachments, and when, where v2 did not say: it
    /// gives only the author of the current version, so those edited since their creation
    /// (`history` unset by the conversion) are looked up in v1's search by id, 100 at a time,
    /// with their `history` (who, and when, by name).
    async fn creators(
        &self,
        contents: impl Iterator<Item = &mut Content>,
    ) -> Result<(), ClientError> {
        let mut unknown: Vec<&mut Content> = contents.filter(|c| c.history.is_none()).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        // CQL names attachments by number, without the `att` of their ids.
        let ids: Vec<String> = unknown
            .iter()
            .filter_map(|c| c.id.as_deref())
            .map(|id| id.trim_start_matches("att").to_owned())
            .collect();
        let mut found: HashMap<String, Option<Box<History>>> = HashMap::new();
        for chunk in ids.chunks(CREATORS_PER_SEARCH) {
            let cql = format!("id in ({})", chunk.join(", "));
            for row in self
                .client
                .light_search(&cql, "history")?
                .collect_all()
                .await?
            {
                if let Some(id) = row.id {
                    found.insert(id.trim_start_matches("att").to_owned(), row.history);
                }
            }
        }
        for content in unknown.iter_mut() {
            let id = content
                .id
                .as_deref()
                .unwrap_or_default()
                .trim_start_matches("att");
            if let Some(history) = found.remove(id) {
                content.history = history;
            }
        }
        Ok(())
    }

    /// One attachment of a written page or blog post: its document, its file's text.
    async fn v2_attachment(
        &self,
        att: Content,
        container: Arc<Container>,
        links: &SiteLinks,
        downloads: &Arc<Semaphore>,
        containers: &Containers,
    ) {
        let holder = container.document();
        let fetched = self.attachment(att, &holder, links, downloads).await;
        match fetched {
            Some(Fetched {
                mut doc,
                complete,
                text,
            }) => {
                if !complete {
                    lock(&containers.incomplete).insert(container.id().to_owned());
                }
                self.inherit_acl(&mut doc, &holder, container.acl.as_deref());
                self.send_doc(doc, Some(container.id()), text).await;
            }
            None => self.live.dropped(1),
        }
    }

    async fn v2_comments(
        &self,
        inline: bool,
        links: &SiteLinks,
        containers: &Containers,
        people: &People,
    ) -> Result<(), ClientError> {
        let location = if inline { "inline" } else { "footer" };
        let mut pages = self.client.v2_comments(inline)?.into_page_stream();
        let _busy = self.live.busy(Step::Listing);
        while let Some(page) = pages.next().await {
            if self.cancel.is_cancelled() {
                return Ok(());
            }
            let rows: Vec<(V2Comment, Arc<Container>)> = page?
                .results
                .into_iter()
                .filter_map(|row| {
                    let container = containers.get(row.container_id())?;
                    Some((row, container))
                })
                .collect();
            let ids = rows.iter().flat_map(|(r, _)| r.people()).cloned().collect();
            people.learn(self.client, ids).await;
            self.live.listed(rows.len() as u64);
            let mut rows: Vec<(Content, Arc<Container>)> = people.with(|names| {
                rows.into_iter()
                    .map(|(row, c)| (row.into_content(location, names), c))
                    .collect()
            });
            self.creators(rows.iter_mut().map(|(comment, _)| comment))
                .await?;
            for (comment, container) in rows {
                let body = comment.storage().map(text::storage_to_text);
                let Some(mut doc) = Document::from_content(&comment, body, links) else {
                    self.live.dropped(1);
                    continue;
                };
                let holder = container.document();
                doc.inherit_container(&holder);
                self.inherit_acl(&mut doc, &holder, container.acl.as_deref());
                self.send(doc, Some(container.id())).await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, title: &str, parent: Option<&str>) -> V2Content {
        V2Content {
            id: Some(id.to_owned()),
            title: Some(title.to_owned()),
            parent_id: parent.map(str::to_owned),
            ..V2Content::default()
        }
    }

    fn ids(place: &Place) -> Vec<String> {
        place.chain().1
    }

    #[test]
    fn places_share_their_ancestors_and_stop_at_what_the_listing_does_not_hold() {
        // Children listed before their parents; 9 is a folder v2's page listing leaves out.
        let places = places(vec![
            row("4", "Leaf", Some("3")),
            row("3", "Mid", Some("2")),
            row("2", "Root", None),
            row("5", "Sibling", Some("3")),
            row("7", "Under a folder", Some("9")),
        ]);
        assert_eq!(places.len(), 5);
        assert_eq!(ids(&places["4"]), ["2", "3"]);
        let (titles, _) = places["4"].chain();
        let titles: Vec<&str> = titles.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["Root", "Mid"]);
        assert_eq!(ids(&places["5"]), ["2", "3"]);
        assert!(ids(&places["2"]).is_empty());
        assert!(ids(&places["7"]).is_empty());
        // One place per page: siblings hold the same parent.
        let parent = |id: &str| places[id].parent.clone().unwrap();
        assert!(Arc::ptr_eq(&parent("4"), &parent("5")));
        assert!(Arc::ptr_eq(&parent("4"), &places["3"]));
        let refs = places["4"].ancestors();
        assert_eq!(refs[1].id.as_deref(), Some("3"));
        assert_eq!(refs[1].title.as_deref(), Some("Mid"));
    }

    #[test]
    fn a_cycle_of_parents_ends_instead_of_looping() {
        let places = places(vec![row("1", "A", Some("2")), row("2", "B", Some("1"))]);
        let depth = |id: &str| ids(&places[id]).len();
        assert_eq!(
            depth("1") + depth("2"),
            1,
            "one of the two is the other's root"
        );
    }
}

//! Paged listings, fetched one page at a time so a listing is never held whole in memory.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use futures_util::stream::{self, BoxStream, StreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use url::Url;

use super::error::redact;
use super::model::{id_string, lenient_string};
use super::{ClientError, ConfluenceClient};

/// How the next page is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Follow `_links.next` until absent (Cloud's cursor listings). Offsets are never computed:
    /// Cloud search ignores `start`.
    Links,
    /// Offset listings: `param` (`start`, `startAt`) advances by the rows returned, `limit`
    /// rows are asked per page. See [`End`] for when they end.
    Offset {
        param: &'static str,
        limit: usize,
        end: End,
    },
}

/// When an offset listing ends. Every offset listing ends on an empty page, on a page of rows
/// it returned already ([`ClientError::RepeatedPage`]), and after a hard cap of pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// v1 collections (`space`, `child/*`, `label`, `group`, ...): follow `_links.next` where
    /// given. Without it, a short page (fewer rows than asked, or than the `limit` the server
    /// echoes) ends the listing; a full page is followed by one offset page, which must be empty
    /// or new: a server that drops `next` loses nothing, and one that ignores `start` is caught
    /// as a repeated page.
    Collection,
    /// Server/Data Center CQL search: offsets (their `next` links have been seen broken),
    /// `totalSize` (exact there) as the end and cap; without it, as [`End::Collection`].
    Search,
    /// Listings without `next` or a usable total (Cloud `search/user`, user lists): a full
    /// page asks for the next one, a short or empty page ends.
    FullPage,
}

/// Pages any listing may take when the server reports no size: 100,000 pages is 5 million rows
/// at the smallest page size, far beyond any space.
const MAX_PAGES: u64 = 100_000;

/// Where the rows are in a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// `{"results": [...]}`.
    Results,
    /// `{"<key>": [...]}` (the Extender app's `users`).
    Key(&'static str),
    /// A bare JSON array (Cloud `rest/api/3/users/search`).
    Array,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub results: Vec<T>,
    /// `start` as echoed by the server.
    pub start: Option<u64>,
    /// `limit` as echoed (possibly clipped) by the server.
    pub limit: Option<u64>,
    /// `totalSize`, when given (an estimate on Cloud).
    pub total_size: Option<u64>,
}

/// A listing fetched page by page. A failed page is returned as an error and the pager keeps
/// its position, so calling [`Pager::next_page`] again retries that page; it never ends early
/// without saying so.
pub struct Pager<T> {
    client: ConfluenceClient,
    next: Option<Url>,
    mode: Mode,
    rows: Rows,
    pages: u64,
    /// Fingerprints of the rows returned so far.
    seen: HashSet<u64>,
    /// Pages allowed, lowered once the server reports its size.
    max_pages: u64,
    /// The size the server reported, if any.
    total: Option<u64>,
    /// A broken listing stays broken: every later call returns this error.
    broken: Option<ClientError>,
    _rows: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("next", &self.next.as_ref().map(redact))
            .field("mode", &self.mode)
            .field("pages", &self.pages)
            .finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> Pager<T> {
    pub(crate) fn new(client: ConfluenceClient, first: Url, mode: Mode, rows: Rows) -> Self {
        Pager {
            client,
            next: Some(first),
            mode,
            rows,
            pages: 0,
            seen: HashSet::new(),
            max_pages: MAX_PAGES,
            total: None,
            broken: None,
            _rows: PhantomData,
        }
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages
    }

    /// True once the last page has been returned (never after an error).
    pub fn is_done(&self) -> bool {
        self.next.is_none() && self.broken.is_none()
    }

    /// The next page, `Ok(None)` after the last one. A listing the server does not page
    /// properly (rows repeated, no end in sight) fails with [`ClientError::RepeatedPage`] or
    /// [`ClientError::TooManyPages`], and keeps failing: it never ends as if complete.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>, ClientError> {
        if let Some(err) = &self.broken {
            return Err(err.clone());
        }
        let Some(url) = self.next.clone() else {
            return Ok(None);
        };
        if self.pages >= self.max_pages {
            let err = ClientError::TooManyPages {
                url: redact(&url),
                pages: self.pages,
                total: self.total,
            };
            self.broken = Some(err.clone());
            return Err(err);
        }
        let body = self.client.get_json(&url).await?;
        let shown = || redact(&url);
        let decode = |message: String| ClientError::Decode {
            url: shown(),
            message,
        };
        let raw = RawPage::parse(&body, self.rows).map_err(decode)?;
        let count = raw.rows.len();
        // A page of nothing but rows this listing returned already: the server ignores the
        // offset (or the cursor). Going on would never end.
        let fingerprints: Vec<u64> = raw.rows.iter().map(|r| fingerprint(r)).collect();
        if count > 0 && fingerprints.iter().all(|f| self.seen.contains(f)) {
            let err = ClientError::RepeatedPage { url: shown() };
            tracing::warn!(%err, "stopping a listing");
            self.broken = Some(err.clone());
            return Err(err);
        }
        let results = raw
            .rows
            .iter()
            .map(|row| serde_json::from_str::<T>(row.get()))
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| decode(format!("a row does not have the expected shape ({e})")))?;
        self.seen.extend(fingerprints);
        let number = |k: &str| raw.number(k);
        let link = |k: &str| raw.link(k);
        let page = Page {
            results,
            start: number("start"),
            limit: number("limit"),
            total_size: number("totalSize"),
        };
        let next_link = link("next");
        self.next = if count == 0 {
            None
        } else {
            match self.mode {
                Mode::Links => {
                    // Cloud's `totalSize` is an estimate: only a generous cap comes from it.
                    if let Some(total) = page.total_size
                        && self.total.is_none()
                    {
                        let size = page.limit.map_or(count, |l| l as usize).max(count);
                        self.cap_pages(total, size.max(1));
                    }
                    match next_link {
                        Some(next) => Some(self.client.resolve_link(
                            &next,
                            link("base").as_deref(),
                            link("context").as_deref(),
                        )?),
                        None => None,
                    }
                }
                Mode::Offset { param, limit, end } => {
                    // Servers clip `limit` and echo the clipped value.
                    let page_size = page
                        .limit
                        .filter(|l| *l > 0)
                        .map_or(limit, |l| (l as usize).min(limit))
                        .max(1);
                    let full = count >= page_size;
                    let offset = offset_of(&url, param);
                    let rows_so_far = page.start.unwrap_or(offset) + count as u64;
                    let total = match end {
                        End::Search => page.total_size,
                        End::Collection | End::FullPage => None,
                    };
                    if let Some(total) = total {
                        self.cap_pages(total, page_size);
                    }
                    let more = match (end, total) {
                        (End::Search, Some(total)) => rows_so_far < total,
                        (End::FullPage, _) => full,
                        (End::Collection | End::Search, _) => next_link.is_some() || full,
                    };
                    match (more, end, next_link) {
                        (false, _, _) => None,
                        (true, End::Collection, Some(next)) => Some(self.client.resolve_link(
                            &next,
                            link("base").as_deref(),
                            link("context").as_deref(),
                        )?),
                        (true, _, _) => Some(advance(&url, param, count)),
                    }
                }
            }
        };
        self.pages += 1;
        Ok(Some(page))
    }

    /// Lowers the page cap to what `total` rows at `page_size` per page need, with room for
    /// short pages and results that change while the listing runs.
    fn cap_pages(&mut self, total: u64, page_size: usize) {
        self.total = Some(total);
        let needed = total.div_ceil(page_size as u64);
        self.max_pages = self.max_pages.min(needed.saturating_mul(2) + 10);
    }

    /// The rows of every page as a stream; it ends after the first error.
    pub fn into_stream(self) -> BoxStream<'static, Result<T, ClientError>> {
        self.into_page_stream()
            .flat_map(|page| match page {
                Ok(p) => stream::iter(p.results.into_iter().map(Ok).collect::<Vec<_>>()),
                Err(e) => stream::iter(vec![Err(e)]),
            })
            .boxed()
    }

    /// The pages as a stream; it ends after the first error. The next page is requested as
    /// soon as the current one arrives, while the caller works through it: a listing's rows
    /// flow without a round trip's pause between pages (at most two pages wait unread).
    pub fn into_page_stream(self) -> BoxStream<'static, Result<Page<T>, ClientError>> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            let mut pager = self;
            loop {
                let page = match pager.next_page().await {
                    Ok(Some(page)) => Ok(page),
                    Ok(None) => break,
                    Err(err) => Err(err),
                };
                let failed = page.is_err();
                // A dropped stream stops the listing.
                if tx.send(page).await.is_err() || failed {
                    break;
                }
            }
        });
        stream::unfold(rx, |mut rx| async move { Some((rx.recv().await?, rx)) }).boxed()
    }

    /// Every row of every page, in memory. For small listings (labels, groups of a user).
    pub async fn collect_all(mut self) -> Result<Vec<T>, ClientError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page.results);
        }
        Ok(all)
    }
}

/// A row's identity for repeat detection: its `id` (with its `type`), the `id` of its
/// `content`, `user` or `space` (search rows), else the whole row.
fn fingerprint(row: &RawValue) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let probe = serde_json::from_str::<Probe>(row.get()).unwrap_or_default();
    let nested = |v: Option<&RawValue>| {
        v.and_then(|v| serde_json::from_str::<Probe>(v.get()).ok())
            .and_then(|p| p.identity())
    };
    match probe
        .identity()
        .or_else(|| nested(probe.content))
        .or_else(|| nested(probe.user))
        .or_else(|| nested(probe.space))
    {
        Some(id) => id.hash(&mut h),
        None => row.get().hash(&mut h),
    }
    h.finish()
}

/// The fields of a row that identify it, read without decoding the rest.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Probe<'a> {
    #[serde(deserialize_with = "id_string")]
    id: Option<String>,
    #[serde(deserialize_with = "id_string")]
    account_id: Option<String>,
    #[serde(deserialize_with = "id_string")]
    user_key: Option<String>,
    #[serde(deserialize_with = "id_string")]
    key: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient_string")]
    kind: Option<String>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
    #[serde(borrow)]
    user: Option<&'a RawValue>,
    #[serde(borrow)]
    space: Option<&'a RawValue>,
}

impl Probe<'_> {
    fn identity(&self) -> Option<String> {
        let id = self
            .id
            .as_ref()
            .or(self.account_id.as_ref())
            .or(self.user_key.as_ref())
            .or(self.key.as_ref())?;
        Some(format!("{}:{id}", self.kind.as_deref().unwrap_or("")))
    }
}

/// One page as sent: its rows still raw (each is decoded into the listing's type on its own),
/// and the envelope's other members.
struct RawPage<'a> {
    rows: Vec<&'a RawValue>,
    envelope: HashMap<String, &'a RawValue>,
    /// The non-blank strings of `_links`.
    links: HashMap<String, String>,
}

impl<'a> RawPage<'a> {
    fn parse(body: &'a [u8], rows: Rows) -> Result<Self, String> {
        let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let unexpected = || format!("expected a page of results, got {}", kind_of(first));
        match (rows, first) {
            (Rows::Array, Some(b'[')) => Ok(RawPage {
                rows: serde_json::from_slice(body).map_err(|e| e.to_string())?,
                envelope: HashMap::new(),
                links: HashMap::new(),
            }),
            (Rows::Results | Rows::Key(_), Some(b'{')) => {
                let key = match rows {
                    Rows::Key(k) => k,
                    _ => "results",
                };
                let mut envelope: HashMap<String, &RawValue> =
                    serde_json::from_slice(body).map_err(|e| e.to_string())?;
                let rows = match envelope.remove(key) {
                    None => Vec::new(),
                    Some(r) if r.get() == "null" => Vec::new(),
                    Some(r) => serde_json::from_str(r.get())
                        .map_err(|_| format!("`{key}` is not an array"))?,
                };
                #[derive(Deserialize)]
                struct Link(#[serde(deserialize_with = "lenient_string")] Option<String>);
                let links = envelope
                    .get("_links")
                    .and_then(|l| serde_json::from_str::<HashMap<String, Link>>(l.get()).ok())
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(k, Link(v))| Some((k, v.filter(|s| !s.trim().is_empty())?)))
                    .collect();
                Ok(RawPage {
                    rows,
                    envelope,
                    links,
                })
            }
            _ => Err(unexpected()),
        }
    }

    /// A non-negative integer member (`start`, `limit`, `totalSize`).
    fn number(&self, key: &str) -> Option<u64> {
        self.envelope.get(key)?.get().parse().ok()
    }

    /// A non-blank string in `_links`.
    fn link(&self, key: &str) -> Option<String> {
        self.links.get(key).cloned()
    }
}

/// The value of `param` in `url` (absent counts as 0).
fn offset_of(url: &Url, param: &str) -> u64 {
    url.query_pairs()
        .find(|(k, _)| k == param)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// `url` with `param` increased by `by` (absent counts as 0).
fn advance(url: &Url, param: &str, by: usize) -> Url {
    let mut current = 0u64;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter_map(|(k, v)| {
            if k == param {
                current = v.parse().unwrap_or(0);
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    let mut next = url.clone();
    {
        let mut q = next.query_pairs_mut();
        q.clear().extend_pairs(pairs);
        q.append_pair(param, &(current + by as u64).to_string());
    }
    next
}

/// What a JSON document starting with `first` is, for an error message.
fn kind_of(first: Option<u8>) -> &'static str {
    match first {
        None => "nothing",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        Some(_) => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_without_a_json_tree() {
        let body = br#"{"results":[{"id":7,"type":"page","title":"A"},{"content":{"id":"8","type":"blogpost"}}],
            "start":0,"limit":25,"size":2,"totalSize":"many","_links":{"next":"/rest/x?start=2","base":7}}"#;
        let page = RawPage::parse(body, Rows::Results).unwrap();
        assert_eq!(page.rows.len(), 2);
        assert_eq!(page.number("limit"), Some(25));
        assert_eq!(page.number("totalSize"), None, "a string is not a size");
        assert_eq!(page.link("next").as_deref(), Some("/rest/x?start=2"));
        assert_eq!(page.link("base"), None, "a number is not a link");
        // Ids as numbers or strings, nested in search rows, identify a row.
        assert_eq!(fingerprint(page.rows[0]), fingerprint(page.rows[0]));
        assert_ne!(fingerprint(page.rows[0]), fingerprint(page.rows[1]));
        let same_id: Vec<&RawValue> =
            serde_json::from_str(r#"[{"id":"7","type":"page","title":"B"}]"#).unwrap();
        assert_eq!(fingerprint(page.rows[0]), fingerprint(same_id[0]));
        // Rows without an identity are told apart by their whole text.
        let anonymous: Vec<&RawValue> = serde_json::from_str(r#"[{"a":1},{"a":2}]"#).unwrap();
        assert_ne!(fingerprint(anonymous[0]), fingerprint(anonymous[1]));

        let empty = RawPage::parse(br#"{"results":null,"size":0}"#, Rows::Results).unwrap();
        assert!(empty.rows.is_empty());
        let users = RawPage::parse(br#"{"users":[{"accountId":"a"}]}"#, Rows::Key("users"));
        assert_eq!(users.unwrap().rows.len(), 1);
        let bare = RawPage::parse(br#" [{"accountId":"a"},{"accountId":"b"}]"#, Rows::Array);
        assert_eq!(bare.unwrap().rows.len(), 2);
        assert_eq!(
            RawPage::parse(br#"{"results":{"id":1}}"#, Rows::Results)
                .err()
                .unwrap(),
            "`results` is not an array"
        );
        assert_eq!(
            RawPage::parse(br#"[1]"#, Rows::Results).err().unwrap(),
            "expected a page of results, got an array"
        );
        assert_eq!(
            RawPage::parse(br#""x""#, Rows::Array).err().unwrap(),
            "expected a page of results, got a string"
        );
    }

    #[test]
    fn advance_replaces_the_offset() {
        let u = Url::parse("http://h/rest/api/search?cql=a%26b&start=50&limit=50").unwrap();
        assert_eq!(
            advance(&u, "start", 50).as_str(),
            "http://h/rest/api/search?cql=a%26b&limit=50&start=100"
        );
        let u = Url::parse("http://h/x?limit=2").unwrap();
        assert_eq!(
            advance(&u, "startAt", 2).as_str(),
            "http://h/x?limit=2&startAt=2"
        );
    }
}

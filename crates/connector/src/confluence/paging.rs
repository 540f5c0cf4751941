//! Paged listings, fetched one page at a time so a listing is never held whole in memory.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use futures_util::stream::{self, BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::error::redact;
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
        let value = self.client.get_value(&url).await?;
        let shown = || redact(&url);
        let decode = |message: String| ClientError::Decode {
            url: shown(),
            message,
        };
        let (rows, envelope) = match (self.rows, value) {
            (Rows::Array, Value::Array(rows)) => (rows, None),
            (Rows::Results | Rows::Key(_), Value::Object(mut obj)) => {
                let key = match self.rows {
                    Rows::Key(k) => k,
                    _ => "results",
                };
                let rows = match obj.remove(key) {
                    Some(Value::Array(rows)) => rows,
                    Some(Value::Null) | None => Vec::new(),
                    Some(_) => return Err(decode(format!("`{key}` is not an array"))),
                };
                (rows, Some(obj))
            }
            (_, other) => {
                return Err(decode(format!(
                    "expected a page of results, got {}",
                    kind_of(&other)
                )));
            }
        };
        let count = rows.len();
        // A page of nothing but rows this listing returned already: the server ignores the
        // offset (or the cursor). Going on would never end.
        let fingerprints: Vec<u64> = rows.iter().map(fingerprint).collect();
        if count > 0 && fingerprints.iter().all(|f| self.seen.contains(f)) {
            let err = ClientError::RepeatedPage { url: shown() };
            tracing::warn!(%err, "stopping a listing");
            self.broken = Some(err.clone());
            return Err(err);
        }
        let results = rows
            .into_iter()
            .map(serde_json::from_value::<T>)
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| decode(format!("a row does not have the expected shape ({e})")))?;
        self.seen.extend(fingerprints);
        let number = |k: &str| {
            envelope
                .as_ref()
                .and_then(|o| o.get(k))
                .and_then(Value::as_u64)
        };
        let link = |k: &str| {
            envelope
                .as_ref()
                .and_then(|o| o.get("_links"))
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
        };
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
/// `content` or `user` (search rows), else the whole row.
fn fingerprint(row: &Value) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let id_of = |v: &Value| -> Option<String> {
        let id = v
            .get("id")
            .or_else(|| v.get("accountId"))
            .or_else(|| v.get("userKey"))
            .or_else(|| v.get("key"))?;
        let id = match id {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        Some(format!("{kind}:{id}"))
    };
    match id_of(row)
        .or_else(|| row.get("content").and_then(id_of))
        .or_else(|| row.get("user").and_then(id_of))
        .or_else(|| row.get("space").and_then(id_of))
    {
        Some(id) => id.hash(&mut h),
        None => row.to_string().hash(&mut h),
    }
    h.finish()
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

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

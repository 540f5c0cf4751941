//! Paged listings, fetched one page at a time so a listing is never held whole in memory.

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
    /// Follow `_links.next` (cursor on Cloud search, `start` on collections) until absent.
    Links,
    /// Advance the `param` query parameter by the rows returned. With `needs_next`, stop when
    /// a page has no `_links.next` and is shorter than `limit`; else stop on a short page.
    /// Always stop on an empty page.
    Offset {
        param: &'static str,
        limit: usize,
        needs_next: bool,
    },
}

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
            _rows: PhantomData,
        }
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages
    }

    /// True once the last page has been returned.
    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// The next page, `Ok(None)` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>, ClientError> {
        let Some(url) = self.next.clone() else {
            return Ok(None);
        };
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
        let results = rows
            .into_iter()
            .map(serde_json::from_value::<T>)
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| decode(format!("a row does not have the expected shape ({e})")))?;
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
                Mode::Links => match next_link {
                    Some(next) => Some(self.client.resolve_link(
                        &next,
                        link("base").as_deref(),
                        link("context").as_deref(),
                    )?),
                    None => None,
                },
                Mode::Offset {
                    param,
                    limit,
                    needs_next,
                } => {
                    let more = if needs_next {
                        next_link.is_some() || count >= limit
                    } else {
                        count >= limit
                    };
                    more.then(|| advance(&url, param, count))
                }
            }
        };
        self.pages += 1;
        Ok(Some(page))
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

    /// The pages as a stream; it ends after the first error.
    pub fn into_page_stream(self) -> BoxStream<'static, Result<Page<T>, ClientError>> {
        stream::unfold(Some(self), |state| async move {
            let mut pager = state?;
            match pager.next_page().await {
                Ok(Some(page)) => Some((Ok(page), Some(pager))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
        .boxed()
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

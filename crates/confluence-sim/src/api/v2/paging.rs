//! v2 cursor paging.
//!
//! A cursor is base64 of a small JSON object naming the last item served and the sort
//! (`{"id":"3997697","contentOrder":"id","contentOrderValue":3997697}`, the shape Confluence
//! uses): the next page starts after that item in the current order (keyset paging), so
//! items created or deleted between requests neither shift nor repeat the rest. `limit` is
//! clipped to the route's maximum; the next page's URL is in `_links.next` and in a
//! `Link: <...>; rel="next", <base>; rel="base"` header, site-relative with `/wiki`. No next
//! link means the end.
//!
//! The listing quirks apply to content listings as on v1: `ignore-start` ignores the cursor
//! (every request gets the first page, with a next link), `repeat-pages` serves every page
//! twice, `shuffle-pages` orders the items anew on every request (a cursor then resumes after
//! its item wherever it landed), and `omit-next` drops both the body link and the header.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Res, error, invalid};
use crate::api::Call;
use crate::http::Resp;
use crate::rng;

/// A sort value: a number (ids, times, positions) or a lower-cased string (titles, keys).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Key {
    Num(i64),
    Str(String),
}

impl Key {
    fn to_json(&self) -> Value {
        match self {
            Key::Num(n) => json!(n),
            Key::Str(s) => json!(s),
        }
    }

    fn from_json(v: &Value) -> Option<Key> {
        match v {
            Value::Number(n) => n.as_i64().map(Key::Num),
            Value::String(s) => Some(Key::Str(s.clone())),
            _ => None,
        }
    }
}

/// One listed item: its sort value, its id (the tie-breaker) and what the renderer needs.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub key: Key,
    pub id: u64,
    pub item: u32,
}

/// The order of a listing, as the `sort` parameter names it (`id`, `-created-date`, ...).
#[derive(Debug, Clone, Copy)]
pub(super) struct Order {
    pub field: &'static str,
    pub desc: bool,
}

impl Order {
    /// Reads `sort`: one of `allowed` (each also with a leading `-`), else `default`
    /// (ascending).
    pub(super) fn parse(
        c: &Call<'_>,
        allowed: &[&'static str],
        default: &'static str,
    ) -> Result<Order, Resp> {
        let Some(asked) = c.q().get("sort").filter(|s| !s.is_empty()) else {
            return Ok(Order {
                field: default,
                desc: false,
            });
        };
        let (desc, field) = match asked.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, asked),
        };
        let field = allowed
            .iter()
            .copied()
            .find(|a| *a == field)
            .ok_or_else(|| invalid("sort", asked))?;
        Ok(Order { field, desc })
    }

    /// The name the cursor records (`-created-date`).
    fn name(self) -> String {
        if self.desc {
            format!("-{}", self.field)
        } else {
            self.field.to_owned()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "contentOrder")]
    order: String,
    #[serde(
        rename = "contentOrderValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    value: Option<Value>,
    /// `repeat-pages`: this page is being served a second time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    again: bool,
}

impl Cursor {
    fn encode(&self) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(s: &str) -> Option<Cursor> {
        let s = s.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The cursor that resumes after `e`.
    fn after(order: Order, e: &Entry) -> Cursor {
        Cursor {
            id: Some(e.id.to_string()),
            order: order.name(),
            value: Some(e.key.to_json()),
            again: false,
        }
    }
}

/// What a route allows: default and maximum `limit`, and whether it is a content listing
/// (where the listing quirks apply).
#[derive(Debug, Clone, Copy)]
pub(super) struct Spec {
    pub default_limit: usize,
    pub max_limit: usize,
    pub content: bool,
}

impl Spec {
    /// 25 by default, at most 250: most v2 listings.
    pub(super) const CONTENT: Spec = Spec {
        default_limit: 25,
        max_limit: 250,
        content: true,
    };
}

/// Reads `limit`: an integer of at least 1, clipped to `max`.
pub(super) fn limit(c: &Call<'_>, default: usize, max: usize) -> Result<usize, Resp> {
    match c.q().get("limit") {
        None | Some("") => Ok(default),
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| invalid("limit", v))?;
            if n < 1 {
                return Err(error(
                    400,
                    &format!(
                        "Provided value {{{n}}} for 'limit' is not valid: it must be at least 1"
                    ),
                ));
            }
            Ok((n as u64).min(max as u64) as usize)
        }
    }
}

/// Sorts `entries` in `order` (`(value, id)`, reversed for a descending sort).
pub(super) fn sort(entries: &mut [Entry], order: Order) {
    entries.sort_by(|a, b| (&a.key, a.id).cmp(&(&b.key, b.id)));
    if order.desc {
        entries.reverse();
    }
}

/// The cursor of a whole listing's position `pos` (the item after which the rest starts),
/// for `include-*` fields that stop at 50.
pub(super) fn cursor_after(entries: &[Entry], order: Order, pos: usize) -> Option<String> {
    entries.get(pos).map(|e| Cursor::after(order, e).encode())
}

/// One page of a listing, answered: `{"results": [...], "_links": {"next"?, "base"}}` with
/// the `Link` header when a next page exists. `entries` are sorted here.
pub(super) fn respond(
    c: &Call<'_>,
    mut entries: Vec<Entry>,
    order: Order,
    spec: Spec,
    render: impl Fn(u32) -> Value,
) -> Res {
    let limit = limit(c, spec.default_limit, spec.max_limit)?;
    let quirks = &c.quirks;
    let mut cursor = match c.q().get("cursor").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let cur = Cursor::decode(raw).ok_or_else(|| invalid("cursor", raw))?;
            if cur.order != order.name() {
                return Err(invalid("cursor", raw));
            }
            Some(cur)
        }
    };
    if spec.content && quirks.ignore_start {
        cursor = None;
    }
    sort(&mut entries, order);
    let shuffled = spec.content && quirks.shuffle_pages && entries.len() > 1;
    if shuffled {
        let n = c.sh.requests.load(std::sync::atomic::Ordering::Relaxed);
        let mut r = rng::Rng::new(c.site.seed, &[0x5AFF1E, n]);
        for i in (1..entries.len()).rev() {
            entries.swap(i, r.index(i + 1));
        }
    }
    let start = match cursor
        .as_ref()
        .and_then(|cur| cur.id.as_ref().map(|id| (cur, id)))
    {
        None => 0,
        Some((cur, id)) => {
            let raw = c.q().get("cursor").unwrap_or("");
            let id: u64 = id.parse().map_err(|_| invalid("cursor", raw))?;
            if shuffled {
                entries.iter().position(|e| e.id == id).map_or(0, |p| p + 1)
            } else {
                let key = cur
                    .value
                    .as_ref()
                    .and_then(Key::from_json)
                    .ok_or_else(|| invalid("cursor", raw))?;
                let desc = order.desc;
                entries.partition_point(|e| {
                    let o = (&e.key, e.id).cmp(&(&key, id));
                    if desc { o.is_ge() } else { o.is_le() }
                })
            }
        }
    };
    let end = start.saturating_add(limit).min(entries.len());
    let page = entries.get(start..end).unwrap_or(&[]);
    let again = cursor.as_ref().is_some_and(|cur| cur.again);
    let next = if spec.content && quirks.repeat_pages && !again && !page.is_empty() {
        // Serve this page once more: the same cursor, marked as the second serving.
        let mut cur = cursor.clone().unwrap_or(Cursor {
            id: None,
            order: order.name(),
            value: None,
            again: false,
        });
        cur.again = true;
        Some(cur)
    } else if end < entries.len() {
        page.last().map(|e| Cursor::after(order, e))
    } else {
        None
    };
    let next = next
        .filter(|_| !quirks.omit_next)
        .map(|cur| next_link(c, limit, &cur));
    let results: Vec<Value> = page.iter().map(|e| render(e.item)).collect();
    Ok(collection(c, results, next))
}

/// A collection body with its `Link` header.
pub(super) fn collection(c: &Call<'_>, results: Vec<Value>, next: Option<String>) -> Resp {
    let base = c.sh.base();
    let mut links = json!({"base": base});
    if let Some(n) = &next {
        links["next"] = json!(n);
    }
    let resp = Resp::json(200, &json!({"results": results, "_links": links}));
    match next {
        Some(n) => resp.header(
            "Link",
            format!("<{n}>; rel=\"next\", <{base}>; rel=\"base\""),
        ),
        None => resp,
    }
}

/// The next page's URL: the request's path (with `/wiki`), `limit` first when it was given,
/// the other parameters as sent, then the cursor.
fn next_link(c: &Call<'_>, limit: usize, cur: &Cursor) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if c.q().get("limit").is_some() {
        s.append_pair("limit", &limit.to_string());
    }
    for (k, v) in &c.req.query {
        if k != "limit" && k != "cursor" {
            s.append_pair(k, v);
        }
    }
    s.append_pair("cursor", &cur.encode());
    format!("{}?{}", c.req.raw_path, s.finish())
}

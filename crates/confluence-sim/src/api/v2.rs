//! Confluence Cloud REST v2 (`/wiki/api/v2/...`): the same site, permissions and machinery as
//! the v1 routes (authentication, latency, faults, request counts and quirks run before and
//! around these handlers), in v2's shapes: string ids, space ids instead of keys, no `expand`,
//! opaque cursors with a `Link` header, and `{"errors": [...]}` bodies.
//!
//! Server and Data Center have no v2: [`super::classify`] only recognises these paths on
//! Cloud, so there they answer the plain 404 of an unknown path.
//!
//! Every route reads (`GET`, `HEAD`) except `POST /users-bulk`, a lookup that takes its ids in
//! a body; any other method answers 405 in v2's envelope.

use axum::http::Method;
use serde_json::{Value, json};

use super::Call;
use crate::http::Resp;
use crate::model::{Kind, Status};

mod attachments;
mod comments;
mod content;
mod labels;
mod paging;
mod shape;
mod spaces;
mod tree;
mod users;

/// Whether `path` (a full request path) is a v2 path on a Cloud site.
pub(crate) fn is_v2_path(path: &str) -> bool {
    path == "/wiki/api/v2" || path.starts_with("/wiki/api/v2/")
}

/// The `code` of a v2 error for a status.
fn code_of(status: u16) -> String {
    match status {
        400 => "INVALID_REQUEST_PARAMETER".into(),
        s => axum::http::StatusCode::from_u16(s)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("ERROR")
            .to_ascii_uppercase()
            .replace([' ', '-'], "_"),
    }
}

/// A v2 error: `{"errors":[{"status","code","title","detail":null}]}`.
pub(crate) fn error(status: u16, title: &str) -> Resp {
    Resp::json(
        status,
        &json!({"errors": [{"status": status, "code": code_of(status), "title": title, "detail": null}]}),
    )
}

/// The 404 that names nothing: refused credentials and purged content.
pub(crate) fn not_found() -> Resp {
    error(404, "Not Found")
}

/// What a path under `/wiki/api/v2` that is no API route answers: an HTML error page, not
/// JSON (measured on `/wiki/api/v2/folders/{id}/children` and `/wiki/api/v2/spaces/{id}/folders`).
pub(crate) fn no_route() -> Resp {
    Resp::bytes(
        404,
        "text/html;charset=UTF-8",
        "<!DOCTYPE html><html><head><title>Page Not Found - Confluence</title></head><body><h1>Page Not Found</h1><p>The page you are looking for does not exist.</p></body></html>",
    )
}

/// A 400 for a parameter value of the wrong type or outside its enumeration.
pub(super) fn invalid(name: &str, value: &str) -> Resp {
    error(
        400,
        &format!("Provided value {{{value}}} for '{name}' is not the correct type"),
    )
}

type Res = Result<Resp, Resp>;

/// Answers a v2 request of any method; `path` is what follows `/wiki/api/v2`.
pub(super) fn route(c: &Call<'_>, path: &str) -> Resp {
    let segs: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let method = &c.req.method;
    let res = if *method == Method::GET || *method == Method::HEAD {
        read_route(c, &segs)
    } else {
        match (method, segs.as_slice()) {
            (&Method::POST, ["users-bulk"]) => users::bulk(c),
            _ => Err(error(405, "Method Not Allowed")),
        }
    };
    res.unwrap_or_else(|e| e)
}

/// The `GET` (and `HEAD`) routes.
fn read_route(c: &Call<'_>, segs: &[&str]) -> Res {
    match segs {
        ["spaces"] => spaces::list(c),
        ["spaces", id] => spaces::one(c, id),
        ["spaces", id, "pages"] => content::in_space(c, id, Kind::Page),
        ["spaces", id, "blogposts"] => content::in_space(c, id, Kind::BlogPost),
        ["spaces", id, "permissions"] => spaces::permissions(c, id),
        ["spaces", id, "content", "labels"] => labels::in_space(c, id),
        ["labels"] => labels::all(c),
        ["labels", id, "pages"] => labels::content(c, id, Kind::Page),
        ["labels", id, "blogposts"] => labels::content(c, id, Kind::BlogPost),
        ["labels", id, "attachments"] => labels::attachments(c, id),
        ["users-bulk"] => Err(error(405, "Method Not Allowed")),
        ["pages", rest @ ..] => container_route(c, Kind::Page, rest),
        ["blogposts", rest @ ..] => container_route(c, Kind::BlogPost, rest),
        ["footer-comments"] => comments::all(c, false),
        ["inline-comments"] => comments::all(c, true),
        ["footer-comments", id] => comments::one(c, id, false),
        ["inline-comments", id] => comments::one(c, id, true),
        ["footer-comments", id, "children"] => comments::children(c, id, false),
        ["inline-comments", id, "children"] => comments::children(c, id, true),
        ["attachments"] => attachments::all(c),
        ["attachments", id] => attachments::one(c, id),
        _ => Err(no_route()),
    }
}

/// The routes under `pages` and `blogposts`.
fn container_route(c: &Call<'_>, kind: Kind, rest: &[&str]) -> Res {
    match rest {
        [] => content::list(c, kind),
        [id] => content::one(c, id, kind),
        [id, "children"] if kind == Kind::Page => tree::children(c, id),
        [id, "ancestors"] if kind == Kind::Page => tree::ancestors(c, id),
        [id, "labels"] => tree::labels(c, id, kind),
        [id, "footer-comments"] => comments::of_container(c, id, kind, false),
        [id, "inline-comments"] => comments::of_container(c, id, kind, true),
        [id, "attachments"] => attachments::of_container(c, id, kind),
        _ => Err(no_route()),
    }
}

/// A numeric id from the path (`400` when it is not one).
fn path_id(raw: &str) -> Result<u64, Resp> {
    raw.parse::<u64>().map_err(|_| invalid("id", raw))
}

/// Every value of a repeatable, comma-separated parameter.
fn list_param(c: &Call<'_>, name: &str) -> Vec<String> {
    c.q().all(name)
}

/// Every value of an integer list parameter (`ids`, `space-id`, `id`).
fn int_list(c: &Call<'_>, name: &str) -> Result<Vec<u64>, Resp> {
    list_param(c, name)
        .iter()
        .map(|v| v.parse::<u64>().map_err(|_| invalid(name, v)))
        .collect()
}

/// A single-valued parameter restricted to `allowed`.
fn one_of<'q>(c: &'q Call<'_>, name: &str, allowed: &[&str]) -> Result<Option<&'q str>, Resp> {
    match c.q().get(name) {
        None | Some("") => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(v) => Err(invalid(name, v)),
    }
}

/// A boolean parameter (`true`/`false`, any case).
fn flag(c: &Call<'_>, name: &str, default: bool) -> Result<bool, Resp> {
    match c.q().get(name) {
        None | Some("") => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(invalid(name, v)),
    }
}

/// The statuses asked for (`status`, repeatable and comma-separated), each in `allowed`, or
/// `default` when absent.
fn statuses(c: &Call<'_>, allowed: &[&str], default: &[&str]) -> Result<Vec<String>, Resp> {
    let asked = list_param(c, "status");
    if asked.is_empty() {
        return Ok(default.iter().map(|s| (*s).to_owned()).collect());
    }
    for s in &asked {
        if !allowed.contains(&s.as_str()) {
            return Err(invalid("status", s));
        }
    }
    Ok(asked)
}

/// Whether an item's status is among those asked for. Purged content is gone for good and
/// matches nothing; the model has no archived, draft or historical content.
fn status_wanted(status: Status, wanted: &[String]) -> bool {
    let name = match status {
        Status::Current => "current",
        Status::Trashed => "trashed",
        Status::Purged => return false,
    };
    wanted.iter().any(|w| w == name)
}

/// What a content id resolves to on a v2 route.
enum Found {
    /// The item, readable by the caller and of the route's type.
    Item(u32),
    /// Purged: the 404 that names nothing.
    Purged,
    /// Unknown, of another type, unreadable or not in an asked-for status: a 404 naming it.
    Missing,
}

/// Looks up a content item of `kind` for the caller: readable, and current unless `wanted`
/// names its status.
fn find(c: &Call<'_>, id: u64, kind: Kind, wanted: &[String]) -> Found {
    let site = c.site;
    match site.by_id.get(&id).copied() {
        Some(i)
            if site.c(i).kind == kind
                && status_wanted(site.c(i).status, wanted)
                && site.can_read_any_status(c.caller, i) =>
        {
            Found::Item(i)
        }
        Some(_) => Found::Missing,
        None if site
            .contents
            .iter()
            .any(|x| x.id == id && x.kind == kind && x.status == Status::Purged) =>
        {
            Found::Purged
        }
        None => Found::Missing,
    }
}

/// The 404 naming an id (`Cannot find a page with id [123]`).
fn missing(kind: Kind, id: &str) -> Resp {
    let what = match kind {
        Kind::Page => "a page",
        Kind::BlogPost => "a blog post",
        Kind::Comment => "a comment",
        Kind::Attachment => "an attachment",
    };
    error(404, &format!("Cannot find {what} with id [{id}]"))
}

/// A readable, current page or blog post addressed by a path id, or the 404 Confluence sends.
fn container(c: &Call<'_>, raw: &str, kind: Kind) -> Result<u32, Resp> {
    let id = path_id(raw)?;
    match find(c, id, kind, &["current".to_owned()]) {
        Found::Item(i) => Ok(i),
        Found::Purged => Err(not_found()),
        Found::Missing => Err(missing(kind, raw)),
    }
}

/// The `body-format` parameter (`allowed` differs between bulk and single routes).
fn body_format<'q>(c: &'q Call<'_>, allowed: &[&str]) -> Result<Option<&'q str>, Resp> {
    one_of(c, "body-format", allowed)
}

/// Body formats of bulk routes.
const BULK_FORMATS: &[&str] = &["storage", "atlas_doc_format"];

/// A single object's `_links` gain `base`.
fn with_base(c: &Call<'_>, mut v: Value) -> Value {
    if let Some(links) = v.get_mut("_links").and_then(Value::as_object_mut) {
        links.insert("base".into(), json!(c.sh.base()));
    } else if let Some(o) = v.as_object_mut() {
        o.insert("_links".into(), json!({"base": c.sh.base()}));
    }
    v
}

/// An `include-*` field of a single object: at most 50 results with `meta` and `_links`.
fn optional_field(results: Vec<Value>, self_link: String) -> Value {
    let more = results.len() > 50;
    let results: Vec<Value> = results.into_iter().take(50).collect();
    json!({"results": results, "meta": {"hasMore": more}, "_links": {"self": self_link}})
}

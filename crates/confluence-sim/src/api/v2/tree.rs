//! `pages/{id}/children`, `pages/{id}/ancestors`, `pages|blogposts/{id}/labels`.

use serde_json::json;

use super::content::entries;
use super::paging::{self, Entry, Order, Spec};
use super::{Res, container, labels, one_of, shape};
use crate::api::Call;
use crate::http::Resp;
use crate::model::Kind;

/// `GET /pages/{id}/children`: the child pages the caller may read (folders, which the model
/// does not have, are left out as Confluence does), by child position unless sorted otherwise.
pub(super) fn children(c: &Call<'_>, raw: &str) -> Res {
    let i = container(c, raw, Kind::Page)?;
    let order = Order::parse(
        c,
        &["created-date", "id", "child-position", "modified-date"],
        "child-position",
    )?;
    let site = c.site;
    let kids = site
        .child_pages(i)
        .into_iter()
        .filter(|&x| site.can_read(c.caller, x));
    let entries = entries(c, kids, order);
    paging::respond(c, entries, order, Spec::CONTENT, |x| {
        let p = site.c(x);
        json!({
            "id": site.id_str(x),
            "status": p.status.as_str(),
            "title": p.title,
            "spaceId": site.spaces[p.space as usize].id.to_string(),
            "childPosition": p.position
        })
    })
}

/// `GET /pages/{id}/ancestors`: top-down, the nearest `limit` of them; the rest come from the
/// same call on the first (highest) ancestor returned. No cursor and no next link.
pub(super) fn ancestors(c: &Call<'_>, raw: &str) -> Res {
    let i = container(c, raw, Kind::Page)?;
    let limit = paging::limit(c, 25, 250)?;
    let all = c.site.ancestors(i);
    let skip = all.len().saturating_sub(limit);
    let results: Vec<serde_json::Value> = all[skip..]
        .iter()
        .map(|&a| json!({"id": c.site.id_str(a), "type": "page"}))
        .collect();
    Ok(Resp::json(
        200,
        &json!({"results": results, "_links": {"base": c.sh.base()}}),
    ))
}

/// `GET /pages/{id}/labels`, `GET /blogposts/{id}/labels`: by label id unless sorted
/// otherwise. Every label of the model is a `global` one.
pub(super) fn labels(c: &Call<'_>, raw: &str, kind: Kind) -> Res {
    let i = container(c, raw, kind)?;
    let prefix = one_of(c, "prefix", &["my", "team", "global", "system"])?;
    let order = Order::parse(c, labels::LABEL_SORTS, "id")?;
    let entries: Vec<Entry> = if prefix.is_none_or(|p| p == "global") {
        c.site
            .c(i)
            .labels
            .iter()
            .map(|&l| labels::entry(c, l, order))
            .collect()
    } else {
        Vec::new()
    };
    paging::respond(c, entries, order, Spec::CONTENT, |l| {
        shape::label(c, l as u16)
    })
}

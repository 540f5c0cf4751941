//! Pages and blog posts: `pages`, `blogposts`, `spaces/{id}/pages`, `spaces/{id}/blogposts`,
//! `pages/{id}`, `blogposts/{id}`.

use serde_json::{Value, json};

use super::paging::{self, Entry, Key, Order, Spec};
use super::{
    BULK_FORMATS, Found, Res, body_format, find, flag, int_list, missing, not_found, one_of,
    optional_field, path_id, shape, spaces, status_wanted, statuses,
};
use crate::api::Call;
use crate::http::Resp;
use crate::model::Kind;

/// The statuses a listing accepts, and its default (pages: current and archived; blog posts,
/// which cannot be archived: current).
fn listing_statuses(c: &Call<'_>, kind: Kind) -> Result<Vec<String>, Resp> {
    if kind == Kind::Page {
        statuses(
            c,
            &["current", "archived", "deleted", "trashed"],
            &["current", "archived"],
        )
    } else {
        statuses(c, &["current", "deleted", "trashed"], &["current"])
    }
}

/// The `sort` fields of page and blog post listings (`PageSortOrder`, `BlogPostSortOrder`).
pub(super) fn sort_fields(kind: Kind) -> &'static [&'static str] {
    if kind == Kind::Page {
        &["id", "created-date", "modified-date", "title"]
    } else {
        &["id", "created-date", "modified-date"]
    }
}

/// The sort value of a content item.
pub(super) fn key_of(c: &Call<'_>, i: u32, field: &str) -> Key {
    let x = c.site.c(i);
    match field {
        "created-date" => Key::Num(x.created),
        "modified-date" => Key::Num(x.modified),
        "title" => Key::Str(x.title.to_lowercase()),
        "child-position" => Key::Num(i64::from(x.position)),
        _ => Key::Num(x.id as i64),
    }
}

/// The entries of `items` in `order`.
pub(super) fn entries(c: &Call<'_>, items: impl Iterator<Item = u32>, order: Order) -> Vec<Entry> {
    items
        .map(|i| Entry {
            key: key_of(c, i, order.field),
            id: c.site.c(i).id,
            item: i,
        })
        .collect()
}

/// Pages or blog posts of `spaces` that the caller may read, filtered.
fn listing(c: &Call<'_>, kind: Kind, spaces: &[u32], root_only: bool) -> Res {
    let wanted = listing_statuses(c, kind)?;
    let ids = int_list(c, "id")?;
    let title = c.q().get("title").filter(|t| !t.is_empty());
    let format = body_format(c, BULK_FORMATS)?;
    let order = Order::parse(c, sort_fields(kind), "id")?;
    let site = c.site;
    let items = spaces
        .iter()
        .filter(|&&s| site.can_view_space(c.caller, s))
        .flat_map(|&s| site.spaces[s as usize].contents.iter().copied())
        .filter(|&i| {
            let x = site.c(i);
            x.kind == kind
                && status_wanted(x.status, &wanted)
                && (!root_only || x.parent.is_none())
                && (ids.is_empty() || ids.contains(&x.id))
                && title.is_none_or(|t| x.title.eq_ignore_ascii_case(t))
                && site.can_read_any_status(c.caller, i)
        });
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, Spec::CONTENT, |i| {
        shape::page(c, i, format)
    })
}

/// `GET /pages`, `GET /blogposts`: site-wide, or in the spaces `space-id` names.
pub(super) fn list(c: &Call<'_>, kind: Kind) -> Res {
    let space_ids = int_list(c, "space-id")?;
    let spaces: Vec<u32> = (0..c.site.spaces.len() as u32)
        .filter(|&s| space_ids.is_empty() || space_ids.contains(&c.site.spaces[s as usize].id))
        .collect();
    listing(c, kind, &spaces, false)
}

/// `GET /spaces/{id}/pages` (`depth=all|root`), `GET /spaces/{id}/blogposts`.
pub(super) fn in_space(c: &Call<'_>, raw: &str, kind: Kind) -> Res {
    let s = spaces::visible(c, raw)?;
    let root = kind == Kind::Page && one_of(c, "depth", &["all", "root"])? == Some("root");
    listing(c, kind, &[s], root)
}

/// `GET /pages/{id}`, `GET /blogposts/{id}`.
pub(super) fn one(c: &Call<'_>, raw: &str, kind: Kind) -> Res {
    let id = path_id(raw)?;
    let allowed: &[&str] = if kind == Kind::Page {
        &[
            "current",
            "archived",
            "trashed",
            "deleted",
            "historical",
            "draft",
        ]
    } else {
        &["current", "trashed", "deleted", "historical", "draft"]
    };
    let wanted = statuses(c, allowed, &["current", "archived"])?;
    let format = body_format(
        c,
        &[
            "storage",
            "atlas_doc_format",
            "view",
            "export_view",
            "anonymous_export_view",
            "styled_view",
            "editor",
        ],
    )?;
    let i = match find(c, id, kind, &wanted) {
        Found::Item(i) => i,
        Found::Purged => return Err(not_found()),
        Found::Missing => return Err(missing(kind, raw)),
    };
    let mut v = shape::page(c, i, format);
    let collection = if kind == Kind::Page {
        "pages"
    } else {
        "blogposts"
    };
    let link = |what: &str| format!("/wiki/api/v2/{collection}/{raw}/{what}");
    if !flag(c, "include-version", true)?
        && let Some(o) = v.as_object_mut()
    {
        o.remove("version");
    }
    if flag(c, "include-labels", false)? {
        let mut labels = c.site.c(i).labels.clone();
        labels.sort_unstable();
        v["labels"] = optional_field(
            labels.iter().map(|&l| shape::label(c, l)).collect(),
            link("labels"),
        );
    }
    if flag(c, "include-properties", false)? {
        v["properties"] = optional_field(Vec::new(), link("properties"));
    }
    if flag(c, "include-likes", false)? {
        v["likes"] = optional_field(Vec::new(), link("likes/users"));
    }
    if flag(c, "include-operations", false)? {
        let target = if kind == Kind::Page {
            "page"
        } else {
            "blogpost"
        };
        v["operations"] = optional_field(
            vec![json!({"operation": "read", "targetType": target})],
            link("operations"),
        );
    }
    if flag(c, "include-favorited-by-current-user-status", false)? {
        v["isFavoritedByCurrentUser"] = Value::Bool(false);
    }
    Ok(Resp::json(200, &super::with_base(c, v)))
}

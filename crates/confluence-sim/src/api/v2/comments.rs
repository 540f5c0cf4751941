//! Footer and inline comments: `pages|blogposts/{id}/footer-comments|inline-comments`,
//! `footer-comments|inline-comments` (site-wide), `.../{id}` and `.../{id}/children`.

use super::content::entries;
use super::paging::{self, Order, Spec};
use super::{
    BULK_FORMATS, Found, Res, body_format, container, find, missing, not_found, one_of, path_id,
    shape, status_wanted, statuses,
};
use crate::api::Call;
use crate::http::Resp;
use crate::model::Kind;
use shape::CommentView;

/// Sort fields of comment listings; the default is creation (id) order.
const SORTS: &[&str] = &["created-date", "modified-date"];

/// The common filters: `status` (comments are current or gone), `body-format`, and for inline
/// comments `resolution-status` (every comment of the model is open).
struct Filters<'q> {
    current: bool,
    format: Option<&'q str>,
    open: bool,
}

fn filters<'q>(c: &'q Call<'_>, inline: bool) -> Result<Filters<'q>, Resp> {
    let wanted = statuses(
        c,
        &[
            "current",
            "archived",
            "trashed",
            "deleted",
            "historical",
            "draft",
        ],
        &["current"],
    )?;
    let format = body_format(c, BULK_FORMATS)?;
    let resolution = if inline {
        super::list_param(c, "resolution-status")
    } else {
        Vec::new()
    };
    for r in &resolution {
        if !["open", "reopened", "resolved", "dangling"].contains(&r.as_str()) {
            return Err(super::invalid("resolution-status", r));
        }
    }
    Ok(Filters {
        current: status_wanted(crate::model::Status::Current, &wanted),
        format,
        open: resolution.is_empty() || resolution.iter().any(|r| r == "open"),
    })
}

/// `GET /pages/{id}/footer-comments` and the like: the container's top-level comments of one
/// location.
pub(super) fn of_container(c: &Call<'_>, raw: &str, kind: Kind, inline: bool) -> Res {
    let i = container(c, raw, kind)?;
    let f = filters(c, inline)?;
    let order = Order::parse(c, SORTS, "id")?;
    let site = c.site;
    let items = site
        .children_of_kind(i, Kind::Comment)
        .into_iter()
        .filter(|&x| {
            let cm = site.c(x);
            f.current && f.open && cm.inline == inline && cm.reply_to.is_none()
        });
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, Spec::CONTENT, |x| {
        shape::comment(c, x, f.format, CommentView::Container)
    })
}

/// `GET /footer-comments`, `GET /inline-comments`: every comment of that location (replies
/// included) on content the caller may read.
pub(super) fn all(c: &Call<'_>, inline: bool) -> Res {
    let f = filters(c, inline)?;
    let order = Order::parse(c, SORTS, "id")?;
    let site = c.site;
    let items = (0..site.spaces.len() as u32)
        .filter(|&s| site.can_view_space(c.caller, s))
        .flat_map(|s| site.space_contents(s))
        .filter(|&x| {
            let cm = site.c(x);
            f.current
                && f.open
                && cm.kind == Kind::Comment
                && cm.inline == inline
                && site.can_read(c.caller, x)
        });
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, Spec::CONTENT, |x| {
        shape::comment(c, x, f.format, CommentView::Full)
    })
}

/// A readable comment of one location, by path id.
fn comment(c: &Call<'_>, raw: &str, inline: bool) -> Result<u32, Resp> {
    let id = path_id(raw)?;
    match find(c, id, Kind::Comment, &["current".to_owned()]) {
        Found::Item(i) if c.site.c(i).inline == inline => Ok(i),
        Found::Purged => Err(not_found()),
        _ => Err(missing(Kind::Comment, raw)),
    }
}

/// `GET /footer-comments/{id}`, `GET /inline-comments/{id}`.
pub(super) fn one(c: &Call<'_>, raw: &str, inline: bool) -> Res {
    let i = comment(c, raw, inline)?;
    let format = one_of(c, "body-format", &["storage", "atlas_doc_format", "view"])?;
    let v = shape::comment(c, i, format, CommentView::Full);
    Ok(Resp::json(200, &super::with_base(c, v)))
}

/// `GET /footer-comments/{id}/children`, `GET /inline-comments/{id}/children`: the replies.
pub(super) fn children(c: &Call<'_>, raw: &str, inline: bool) -> Res {
    let i = comment(c, raw, inline)?;
    let format = body_format(c, BULK_FORMATS)?;
    let order = Order::parse(c, SORTS, "id")?;
    let site = c.site;
    let holder = site.c(i).parent.unwrap_or(i);
    let items = site
        .children_of_kind(holder, Kind::Comment)
        .into_iter()
        .filter(|&x| site.c(x).reply_to == Some(i));
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, Spec::CONTENT, |x| {
        shape::comment(c, x, format, CommentView::Reply)
    })
}

//! Labels: `labels` (site-wide), `spaces/{id}/content/labels`, and what carries a label:
//! `labels/{id}/pages`, `labels/{id}/blogposts`, `labels/{id}/attachments`.
//!
//! Every label of the model is a `global` one, printed with id `1000 + index`
//! ([`shape::label_id`]); label listings sort by `id` (also what `created-date` means, since
//! labels are numbered as they are created) or `name`. Every route here pages 25 rows by
//! default and at most 250, with the listing quirks of content listings.

use std::collections::BTreeSet;

use super::content::{entries, sort_fields};
use super::paging::{self, Entry, Key, Order, Spec};
use super::{
    BULK_FORMATS, Res, body_format, error, int_list, list_param, one_of, path_id, shape, spaces,
};
use crate::api::Call;
use crate::http::Resp;
use crate::model::Kind;

/// The `sort` fields of label listings (`LabelSortOrder`).
pub(super) const LABEL_SORTS: &[&str] = &["created-date", "id", "name"];

/// The listing entry of label `l` in `order`.
pub(super) fn entry(c: &Call<'_>, l: u16, order: Order) -> Entry {
    let id = shape::label_id(l);
    Entry {
        key: match order.field {
            "name" => Key::Str(c.site.labels[l as usize].clone()),
            _ => Key::Num(id as i64),
        },
        id,
        item: u32::from(l),
    }
}

/// Answers a listing of labels (each once) in the asked-for order.
fn respond(c: &Call<'_>, labels: impl Iterator<Item = u16>, order: Order) -> Res {
    let unique: BTreeSet<u16> = labels.collect();
    let entries = unique.into_iter().map(|l| entry(c, l, order)).collect();
    paging::respond(c, entries, order, Spec::CONTENT, |l| {
        shape::label(c, l as u16)
    })
}

/// `GET /labels`: every label of the site, `label-id` and `prefix` (lists) filtering. Global
/// labels are visible to everyone who may use the site, so the caller's permissions remove
/// none; a label on no content any more is still a label, as in Confluence.
pub(super) fn all(c: &Call<'_>) -> Res {
    let ids = int_list(c, "label-id")?;
    let prefixes = list_param(c, "prefix");
    let order = Order::parse(c, LABEL_SORTS, "id")?;
    let global = prefixes.is_empty() || prefixes.iter().any(|p| p == "global");
    let labels = (0..c.site.labels.len() as u16)
        .filter(|&l| global && (ids.is_empty() || ids.contains(&shape::label_id(l))));
    respond(c, labels, order)
}

/// `GET /spaces/{id}/content/labels`: the labels of the current pages, blog posts,
/// attachments and comments of a space that the caller may read, each once.
///
/// `prefix` takes the description's values (`my`, `team`; anything else is a 400). Its
/// documented default `"my, team"` is none of them and would hide every label a person adds
/// (those are `global`), so an absent `prefix` lists labels of every prefix, as v1's label
/// routes document; `my` and `team` then list nothing, the model having only global labels.
pub(super) fn in_space(c: &Call<'_>, raw: &str) -> Res {
    let s = spaces::visible(c, raw)?;
    let prefix = one_of(c, "prefix", &["my", "team"])?;
    let order = Order::parse(c, LABEL_SORTS, "id")?;
    let site = c.site;
    let labels = site
        .space_contents(s)
        .filter(|_| prefix.is_none())
        .filter(|&i| site.can_read(c.caller, i))
        .flat_map(|i| site.c(i).labels.iter().copied());
    respond(c, labels, order)
}

/// A label addressed by a path id: `400` when the id is no number, `404` when no label has it.
///
/// An unknown label is a 404 rather than an empty listing: the description documents 404
/// for these routes ("the calling user does not have permission to view the requested label
/// or label was not found"), and a label every user may view that no readable content
/// carries is the empty listing instead.
fn label(c: &Call<'_>, raw: &str) -> Result<u16, Resp> {
    let id = path_id(raw)?;
    id.checked_sub(shape::label_id(0))
        .filter(|&n| n < c.site.labels.len() as u64)
        .map(|n| n as u16)
        .ok_or_else(|| error(404, &format!("Cannot find label with id [{raw}]")))
}

/// At most this many `space-id` values (the description's `maxItems`).
const MAX_SPACE_IDS: usize = 100;

/// `GET /labels/{id}/pages`, `GET /labels/{id}/blogposts`: the current pages or blog posts
/// carrying the label that the caller may read, in the spaces `space-id` names (all when
/// absent), as `PageBulk` / `BlogPostBulk` rows. An unknown label is a 404 (see [`label`]).
pub(super) fn content(c: &Call<'_>, raw: &str, kind: Kind) -> Res {
    let l = label(c, raw)?;
    let space_ids = int_list(c, "space-id")?;
    if space_ids.len() > MAX_SPACE_IDS {
        return Err(error(
            400,
            &format!(
                "Provided value for 'space-id' is not valid: at most {MAX_SPACE_IDS} ids are allowed"
            ),
        ));
    }
    let format = body_format(c, BULK_FORMATS)?;
    let order = Order::parse(c, sort_fields(kind), "id")?;
    let site = c.site;
    let items = (0..site.spaces.len() as u32)
        .filter(|&s| space_ids.is_empty() || space_ids.contains(&site.spaces[s as usize].id))
        .filter(|&s| site.can_view_space(c.caller, s))
        .flat_map(|s| site.space_contents(s))
        .filter(|&i| {
            let x = site.c(i);
            x.kind == kind && x.labels.contains(&l) && site.can_read(c.caller, i)
        });
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, Spec::CONTENT, |i| {
        shape::page(c, i, format)
    })
}

/// `GET /labels/{id}/attachments`: the current attachments carrying the label whose page or
/// blog post the caller may read (`AttachmentBulk` rows; 25 by default here, unlike the other
/// attachment listings). An unknown label is a 404 (see [`label`]).
pub(super) fn attachments(c: &Call<'_>, raw: &str) -> Res {
    let l = label(c, raw)?;
    let order = Order::parse(c, &["created-date", "modified-date"], "id")?;
    let site = c.site;
    let items = (0..site.spaces.len() as u32)
        .filter(|&s| site.can_view_space(c.caller, s))
        .flat_map(|s| site.space_contents(s))
        .filter(|&i| {
            let x = site.c(i);
            x.kind == Kind::Attachment && x.labels.contains(&l) && site.can_read(c.caller, i)
        });
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, Spec::CONTENT, |i| {
        shape::attachment(c, i)
    })
}

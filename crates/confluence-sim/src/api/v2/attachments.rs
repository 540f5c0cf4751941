//! Attachments: `pages|blogposts/{id}/attachments`, `attachments` (site-wide),
//! `attachments/{id}`.

use super::content::entries;
use super::paging::{self, Order, Spec};
use super::{Found, Res, container, find, missing, not_found, shape, status_wanted, statuses};
use crate::api::Call;
use crate::http::Resp;
use crate::model::{Kind, Site};

/// Attachment listings: 50 by default, at most 250.
const ATTACHMENTS: Spec = Spec {
    default_limit: 50,
    max_limit: 250,
    content: true,
};

const SORTS: &[&str] = &["created-date", "modified-date"];

/// `status` (default current and archived; trashed attachments on request), `mediaType` and
/// `filename` (exact).
struct Filters<'q> {
    wanted: Vec<String>,
    media: Option<&'q str>,
    filename: Option<&'q str>,
}

fn filters<'q>(c: &'q Call<'_>) -> Result<Filters<'q>, Resp> {
    Ok(Filters {
        wanted: statuses(
            c,
            &["current", "archived", "trashed"],
            &["current", "archived"],
        )?,
        media: c.q().get("mediaType").filter(|m| !m.is_empty()),
        filename: c.q().get("filename").filter(|f| !f.is_empty()),
    })
}

impl Filters<'_> {
    fn admits(&self, site: &Site, i: u32) -> bool {
        let a = site.c(i);
        a.kind == Kind::Attachment
            && status_wanted(a.status, &self.wanted)
            && self.filename.is_none_or(|f| *a.title == *f)
            && self
                .media
                .is_none_or(|m| a.file.is_some_and(|(k, _)| k.media_type() == m))
    }
}

/// `GET /pages/{id}/attachments`, `GET /blogposts/{id}/attachments`.
pub(super) fn of_container(c: &Call<'_>, raw: &str, kind: Kind) -> Res {
    let i = container(c, raw, kind)?;
    let f = filters(c)?;
    let order = Order::parse(c, SORTS, "id")?;
    let site = c.site;
    let items = site
        .c(i)
        .children
        .iter()
        .copied()
        .filter(|&x| f.admits(site, x));
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, ATTACHMENTS, |x| shape::attachment(c, x))
}

/// `GET /attachments`: every attachment of content the caller may read.
pub(super) fn all(c: &Call<'_>) -> Res {
    let f = filters(c)?;
    let order = Order::parse(c, SORTS, "id")?;
    let site = c.site;
    let items = (0..site.spaces.len() as u32)
        .filter(|&s| site.can_view_space(c.caller, s))
        .flat_map(|s| site.spaces[s as usize].contents.iter().copied())
        .filter(|&x| f.admits(site, x) && site.can_read_any_status(c.caller, x));
    let entries = entries(c, items, order);
    paging::respond(c, entries, order, ATTACHMENTS, |x| shape::attachment(c, x))
}

/// `GET /attachments/{id}` (`att123` or `123`).
pub(super) fn one(c: &Call<'_>, raw: &str) -> Res {
    let digits = raw.strip_prefix("att").unwrap_or(raw);
    let id = super::path_id(digits)?;
    let wanted = statuses(
        c,
        &["current", "archived", "trashed"],
        &["current", "archived"],
    )?;
    let i = match find(c, id, Kind::Attachment, &wanted) {
        Found::Item(i) => i,
        Found::Purged => return Err(not_found()),
        Found::Missing => return Err(missing(Kind::Attachment, raw)),
    };
    Ok(Resp::json(
        200,
        &super::with_base(c, shape::attachment(c, i)),
    ))
}

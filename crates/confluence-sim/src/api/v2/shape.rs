//! JSON shapes of v2 objects: pages, blog posts, comments, attachments, spaces, labels.
//!
//! Ids are strings (attachments keep their `att` prefix), people are account ids, times are
//! ISO-8601 with milliseconds. `_links.webui`, `downloadLink` and friends are relative to
//! `_links.base` (`.../wiki`), exactly as their v1 counterparts.

use serde_json::{Map, Value, json};

use crate::api::Call;
use crate::model::Kind;
use crate::render::{self, enc, representation};
use crate::text;
use crate::time::iso;

/// A user's account id.
fn account(c: &Call<'_>, u: u32) -> Value {
    json!(c.site.users[u as usize].account_id)
}

/// `version`: the current version of an item.
pub(super) fn version(c: &Call<'_>, i: u32) -> Value {
    let x = c.site.c(i);
    json!({
        "createdAt": iso(x.modified),
        "message": "",
        "number": x.version,
        "minorEdit": false,
        "authorId": account(c, x.modifier)
    })
}

/// `body`: empty unless a format was asked for, then that one representation.
pub(super) fn body(c: &Call<'_>, i: u32, format: Option<&str>) -> Value {
    let mut b = Map::new();
    if let Some(f) = format {
        let storage = text::storage_body(c.site, i);
        b.insert(
            f.into(),
            json!({"representation": f, "value": representation(&storage, f)}),
        );
    }
    Value::Object(b)
}

/// The `trim-fields` quirk: content objects without `version` and `_links.webui`.
fn trimmed(c: &Call<'_>, mut v: Value) -> Value {
    if c.quirks.trim_fields
        && let Some(o) = v.as_object_mut()
    {
        o.remove("version");
        if let Some(Value::Object(l)) = o.get_mut("_links") {
            l.remove("webui");
        }
    }
    v
}

/// A page or blog post (`PageBulk`, `BlogPostBulk`).
pub(super) fn page(c: &Call<'_>, i: u32, format: Option<&str>) -> Value {
    let site = c.site;
    let x = site.c(i);
    let mut o = Map::new();
    o.insert("id".into(), json!(site.id_str(i)));
    o.insert("status".into(), json!(x.status.as_str()));
    o.insert("title".into(), json!(x.title));
    o.insert(
        "spaceId".into(),
        json!(site.spaces[x.space as usize].id.to_string()),
    );
    if x.kind == Kind::Page {
        let parent = x.parent.filter(|&p| site.c(p).kind == Kind::Page);
        o.insert("parentId".into(), json!(parent.map(|p| site.id_str(p))));
        o.insert("parentType".into(), json!(parent.map(|_| "page")));
        o.insert("position".into(), json!(x.position));
    }
    o.insert("authorId".into(), account(c, x.creator));
    if x.kind == Kind::Page {
        o.insert("ownerId".into(), account(c, x.creator));
        o.insert("lastOwnerId".into(), Value::Null);
    }
    o.insert("createdAt".into(), json!(iso(x.created)));
    o.insert("version".into(), version(c, i));
    o.insert("body".into(), body(c, i, format));
    o.insert(
        "_links".into(),
        json!({
            "webui": c.r.webui(i),
            "editui": format!("/pages/resumedraft.action?draftId={}", x.id),
            "tinyui": render::tiny(x.id)
        }),
    );
    trimmed(c, Value::Object(o))
}

/// How a comment is listed: under its page or blog post, under its parent comment, or
/// site-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CommentView {
    /// `pages/{id}/footer-comments` and the like: the container's id, no parent.
    Container,
    /// `footer-comments/{id}/children`: the parent comment's id, no container.
    Reply,
    /// `footer-comments`, `inline-comments`, single comments: the container, and the parent
    /// comment of a reply.
    Full,
}

/// A footer or inline comment.
pub(super) fn comment(c: &Call<'_>, i: u32, format: Option<&str>, view: CommentView) -> Value {
    let site = c.site;
    let x = site.c(i);
    let mut o = Map::new();
    o.insert("id".into(), json!(site.id_str(i)));
    o.insert("status".into(), json!(x.status.as_str()));
    o.insert("title".into(), json!(x.title));
    if view != CommentView::Reply
        && let Some(p) = x.parent
    {
        let field = if site.c(p).kind == Kind::BlogPost {
            "blogPostId"
        } else {
            "pageId"
        };
        o.insert(field.into(), json!(site.id_str(p)));
    }
    if view != CommentView::Container
        && let Some(r) = x.reply_to
    {
        o.insert("parentCommentId".into(), json!(site.id_str(r)));
    }
    o.insert("version".into(), version(c, i));
    o.insert("body".into(), body(c, i, format));
    if x.inline {
        o.insert("resolutionStatus".into(), json!("open"));
        o.insert(
            "properties".into(),
            json!({
                "inlineMarkerRef": crate::rng::Rng::new(site.seed, &[x.id]).hex(32),
                "inlineOriginalSelection": x.title.trim_start_matches("Re: ")
            }),
        );
    }
    o.insert("_links".into(), json!({"webui": c.r.webui(i)}));
    trimmed(c, Value::Object(o))
}

/// An attachment (`AttachmentBulk`); its download link is the classic
/// `/download/attachments/...` path (or the API form when the simulator is set to it), which
/// the simulator serves.
pub(super) fn attachment(c: &Call<'_>, i: u32) -> Value {
    let site = c.site;
    let x = site.c(i);
    let (kind, size) = x.file.unwrap_or((crate::files::FileKind::Txt, 0));
    let mut o = Map::new();
    o.insert("id".into(), json!(site.id_str(i)));
    o.insert("status".into(), json!(x.status.as_str()));
    o.insert("title".into(), json!(x.title));
    o.insert("createdAt".into(), json!(iso(x.created)));
    if let Some(p) = x.parent {
        let field = if site.c(p).kind == Kind::BlogPost {
            "blogPostId"
        } else {
            "pageId"
        };
        o.insert(field.into(), json!(site.id_str(p)));
    }
    let webui = c.r.webui(i);
    let download = c.r.download(i);
    o.insert("mediaType".into(), json!(kind.media_type()));
    o.insert("mediaTypeDescription".into(), json!(kind.description()));
    o.insert("comment".into(), json!(""));
    o.insert("fileId".into(), json!(render::file_id(site.seed, x.id)));
    o.insert("fileSize".into(), json!(size));
    o.insert("webuiLink".into(), json!(webui));
    o.insert("downloadLink".into(), json!(download));
    o.insert("version".into(), version(c, i));
    o.insert(
        "_links".into(),
        json!({"webui": webui, "download": download}),
    );
    trimmed(c, Value::Object(o))
}

/// A space (`SpaceBulk`): `description` only in the asked-for format, `icon` only when asked.
pub(super) fn space(c: &Call<'_>, s: u32, description: Option<&str>, icon: bool) -> Value {
    let site = c.site;
    let sp = &site.spaces[s as usize];
    let mut o = Map::new();
    o.insert("id".into(), json!(sp.id.to_string()));
    o.insert("key".into(), json!(sp.key));
    o.insert("name".into(), json!(sp.name));
    o.insert(
        "type".into(),
        json!(if sp.personal { "personal" } else { "global" }),
    );
    o.insert(
        "status".into(),
        json!(if sp.archived { "archived" } else { "current" }),
    );
    o.insert("authorId".into(), account(c, sp.creator));
    o.insert("createdAt".into(), json!(iso(sp.created)));
    o.insert(
        "homepageId".into(),
        json!(
            sp.homepage
                .filter(|&h| site.c(h).live())
                .map(|h| site.id_str(h))
        ),
    );
    if let Some(f) = description {
        let value = if f == "view" {
            format!("<p>{}</p>", text::xml_escape(&sp.description))
        } else {
            sp.description.clone()
        };
        o.insert(
            "description".into(),
            json!({f: {"representation": f, "value": value}}),
        );
    }
    if icon {
        o.insert(
            "icon".into(),
            json!({"path": "/images/logo/default-space-logo-256.png"}),
        );
    }
    o.insert(
        "_links".into(),
        json!({"webui": format!("/spaces/{}", enc(&sp.key))}),
    );
    Value::Object(o)
}

/// The id a label is printed with: its index past 1000, so that label ids never look like
/// small numbers.
pub(super) fn label_id(l: u16) -> u64 {
    1000 + u64::from(l)
}

/// A label: `{id, name, prefix}`. Every label of the model is a `global` one.
pub(super) fn label(c: &Call<'_>, l: u16) -> Value {
    json!({
        "id": label_id(l).to_string(),
        "name": c.site.labels[l as usize],
        "prefix": "global"
    })
}

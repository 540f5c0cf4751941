//! The admin API: in-process mutations between syncs, fault control, and the same operations
//! over HTTP under `/__sim/` (never faulted, never counted).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::files::{ALL_KINDS, FileKind};
use crate::http::{EndpointCount, FaultRule, Req, Resp, Shared};
use crate::model::{ADMIN, Content, Kind, Site, Status};
use crate::options::{FaultPlan, Latency, Quirks};
use crate::time::now_ms;
use crate::truth;

/// Why an admin operation was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdminError {
    /// No such content, space, user or group.
    #[error("not found: {0}")]
    NotFound(String),
    /// The operation does not make sense (duplicate title, moving a page under itself, ...).
    #[error("invalid: {0}")]
    Invalid(String),
}

/// A handle on a running simulator's site and fault controls. Cheap to clone.
#[derive(Clone)]
pub struct Admin {
    pub(crate) shared: Arc<Shared>,
}

fn find_user(site: &Site, s: &str) -> Result<u32, AdminError> {
    site.users
        .iter()
        .position(|u| {
            u.account_id == s
                || u.username.eq_ignore_ascii_case(s)
                || u.user_key == s
                || u.email.eq_ignore_ascii_case(s)
        })
        .map(|u| u as u32)
        .ok_or_else(|| AdminError::NotFound(format!("user `{s}`")))
}

fn find_group(site: &Site, s: &str) -> Result<u32, AdminError> {
    site.group_by_name(s)
        .or_else(|| site.group_by_id(s))
        .ok_or_else(|| AdminError::NotFound(format!("group `{s}`")))
}

fn find_content(site: &Site, id: &str) -> Result<u32, AdminError> {
    site.parse_id(id)
        .ok_or_else(|| AdminError::NotFound(format!("content `{id}`")))
}

fn find_space(site: &Site, key: &str) -> Result<u32, AdminError> {
    site.space_by_key(key)
        .ok_or_else(|| AdminError::NotFound(format!("space `{key}`")))
}

fn title_taken(site: &Site, space: u32, title: &str, except: Option<u32>) -> bool {
    site.space_contents(space).any(|i| {
        let c = site.c(i);
        Some(i) != except
            && matches!(c.kind, Kind::Page | Kind::BlogPost)
            && c.title.eq_ignore_ascii_case(title)
    })
}

fn push_content(
    site: &mut Site,
    kind: Kind,
    space: u32,
    parent: Option<u32>,
    title: String,
) -> u32 {
    let id = site.alloc_id();
    let now = now_ms();
    let idx = site.contents.len() as u32;
    let position = parent.map_or(0, |p| site.contents[p as usize].children.len() as u32);
    site.contents.push(Content {
        id,
        kind,
        space,
        parent,
        reply_to: None,
        title: title.into_boxed_str(),
        version: 1,
        created: now,
        modified: now,
        creator: ADMIN,
        modifier: ADMIN,
        labels: Vec::new(),
        restrict_users: Vec::new(),
        restrict_groups: Vec::new(),
        children: Vec::new(),
        body: None,
        position,
        status: Status::Current,
        with_container: false,
        changed: now,
        inline: false,
        file: None,
    });
    site.by_id.insert(id, idx);
    site.spaces[space as usize].contents.push(idx);
    if let Some(p) = parent {
        site.contents[p as usize].children.push(idx);
    }
    idx
}

/// Inserts a content index into a space's id-ordered content list.
fn insert_sorted(site: &mut Site, space: u32, idx: u32) {
    let id = site.contents[idx as usize].id;
    let contents = &site.contents;
    let list = &mut site.spaces[space as usize].contents;
    if list.contains(&idx) {
        return;
    }
    let pos = list.partition_point(|&x| contents[x as usize].id < id);
    list.insert(pos, idx);
}

/// Trashes a current item (see [`Admin::delete_content`]); comments are purged.
fn trash(site: &mut Site, i: u32) {
    let c = site.c(i).clone();
    if c.kind == Kind::Comment {
        let replies: Vec<u32> = (0..site.contents.len() as u32)
            .filter(|&x| site.c(x).reply_to == Some(i) && site.c(x).status != Status::Purged)
            .collect();
        purge(site, i);
        for r in replies {
            purge(site, r);
        }
        return;
    }
    site.contents[i as usize].status = Status::Trashed;
    site.contents[i as usize].with_container = false;
    let mut moved_up = Vec::new();
    for &ch in &c.children {
        let x = site.c(ch);
        match (x.kind, x.status) {
            (Kind::Page, Status::Current) => moved_up.push(ch),
            (Kind::Page, _) | (_, Status::Trashed | Status::Purged) => {}
            (_, Status::Current) => {
                let x = &mut site.contents[ch as usize];
                x.status = Status::Trashed;
                x.with_container = true;
            }
        }
    }
    for &ch in &moved_up {
        site.contents[ch as usize].parent = c.parent;
        if let Some(p) = c.parent {
            site.contents[p as usize].children.push(ch);
        }
    }
    site.contents[i as usize]
        .children
        .retain(|x| !moved_up.contains(x));
    let sp = c.space as usize;
    if site.spaces[sp].homepage == Some(i) {
        site.spaces[sp].homepage = None;
    }
}

/// Purges an item that is not current (trashed, or a comment being deleted) with the
/// attachments and comments it holds: gone from every list and from the id index.
fn purge(site: &mut Site, i: u32) {
    let c = site.c(i).clone();
    let mut gone = vec![i];
    if matches!(c.kind, Kind::Page | Kind::BlogPost) {
        gone.extend(
            c.children
                .iter()
                .copied()
                .filter(|&ch| site.c(ch).kind != Kind::Page),
        );
    }
    for &g in &gone {
        let x = &mut site.contents[g as usize];
        x.status = Status::Purged;
        x.with_container = false;
        let id = x.id;
        site.by_id.remove(&id);
    }
    if let Some(p) = c.parent {
        site.contents[p as usize].children.retain(|&x| x != i);
    }
    site.contents[i as usize]
        .children
        .retain(|x| !gone.contains(x));
    for sp in &mut site.spaces {
        sp.contents.retain(|x| !gone.contains(x));
        if sp.homepage == Some(i) {
            sp.homepage = None;
        }
    }
}

/// Generated bodies link to other pages by title, chosen among the space's current pages:
/// before the first change to the site they are written down, as Confluence stores them, so
/// that a change to one page (a move, a rename, a trashed page) never alters another page's
/// body without a new version.
fn freeze_bodies(site: &mut Site) {
    for i in 0..site.contents.len() as u32 {
        let c = site.c(i);
        if c.body.is_none() && matches!(c.kind, Kind::Page | Kind::BlogPost) {
            let body = crate::text::storage_body(site, i);
            site.contents[i as usize].body = Some(body.into());
        }
    }
}

impl Admin {
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Site) -> Result<T, AdminError>,
    ) -> Result<T, AdminError> {
        let mut site = self.shared.site.write().unwrap_or_else(|e| e.into_inner());
        freeze_bodies(&mut site);
        f(&mut site)
    }

    /// Deletes a content item as Confluence does. A page or blog post goes to its space's
    /// trash (status `trashed`): it leaves every listing, child listing and CQL search, and
    /// `GET content/{id}` answers 404 unless `status=trashed` (or `any`) is asked; its child
    /// pages move up to its parent (the top of the space for a top-level page), while its
    /// attachments and comments go to the trash with it. An attachment goes to the trash on
    /// its own (REST v2's behaviour; the 2022 v1 description purges attachments at once). A
    /// comment (and its replies) is deleted for good, as both API versions document. Versions
    /// and last-modified times do not change.
    pub fn delete_content(&self, id: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            trash(site, i);
            Ok(())
        })
    }

    /// Purges a content item: gone for good, from the trash too (`GET content/{id}` answers
    /// 404 whatever the `status`). Current content is trashed first (child pages move up),
    /// then purged with its attachments and comments.
    pub fn purge_content(&self, id: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let i = site
                .parse_id_any(id)
                .ok_or_else(|| AdminError::NotFound(format!("content `{id}`")))?;
            if site.c(i).live() {
                trash(site, i);
            }
            purge(site, i);
            Ok(())
        })
    }

    /// Restores a trashed page, blog post or attachment to `current`. A page goes back under
    /// its old parent when that page is still current and in the same space, else to the top
    /// of its space; its own attachments and comments (those trashed with it) come back with
    /// it, while the child pages that moved up when it was trashed stay where they are. An
    /// attachment goes back to its page, which must be current. Restoring bumps neither the
    /// version nor the last-modified time (a client finds restored content by reconciling
    /// ids, not through a `lastmodified` delta); it does count as a change for the search lag.
    pub fn restore_content(&self, id: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let i = site
                .parse_id_any(id)
                .ok_or_else(|| AdminError::NotFound(format!("content `{id}`")))?;
            let c = site.c(i).clone();
            if c.status != Status::Trashed {
                return Err(AdminError::Invalid(format!("`{id}` is not in the trash")));
            }
            if c.with_container {
                return Err(AdminError::Invalid(format!(
                    "`{id}` was trashed with its page or blog post: restore that instead"
                )));
            }
            let now = now_ms();
            match c.kind {
                Kind::Page | Kind::BlogPost => {
                    if title_taken(site, c.space, &c.title, Some(i)) {
                        return Err(AdminError::Invalid(format!(
                            "a page titled `{}` already exists in the space",
                            c.title
                        )));
                    }
                    let parent = c.parent.filter(|&p| {
                        let p = site.c(p);
                        p.live() && p.kind == Kind::Page && p.space == c.space
                    });
                    if parent != c.parent {
                        if let Some(old) = c.parent {
                            site.contents[old as usize].children.retain(|&x| x != i);
                        }
                        site.contents[i as usize].parent = parent;
                        site.contents[i as usize].position =
                            parent.map_or(0, |p| site.c(p).children.len() as u32);
                        if let Some(p) = parent {
                            site.contents[p as usize].children.push(i);
                        }
                    }
                    for ch in c.children {
                        let x = &mut site.contents[ch as usize];
                        if x.status == Status::Trashed && x.with_container {
                            x.status = Status::Current;
                            x.with_container = false;
                            x.changed = now;
                        }
                    }
                }
                Kind::Attachment => {
                    let Some(container) = c.parent.filter(|&p| site.c(p).live()) else {
                        return Err(AdminError::Invalid(format!(
                            "the page of `{id}` is not current: restore it first"
                        )));
                    };
                    if site
                        .children_of_kind(container, Kind::Attachment)
                        .iter()
                        .any(|&a| site.c(a).title == c.title)
                    {
                        return Err(AdminError::Invalid(format!(
                            "`{}` is attached again already",
                            c.title
                        )));
                    }
                    let space = site.c(container).space;
                    if space != c.space {
                        site.spaces[c.space as usize].contents.retain(|&x| x != i);
                        site.contents[i as usize].space = space;
                        insert_sorted(site, space, i);
                    }
                }
                Kind::Comment => {
                    return Err(AdminError::Invalid("comments are not restorable".into()));
                }
            }
            let x = &mut site.contents[i as usize];
            x.status = Status::Current;
            x.changed = now;
            Ok(())
        })
    }

    /// Edits a page, blog post or comment: new title and/or storage body; bumps the version
    /// and the last-modified time. Returns the new version number.
    pub fn update_page(
        &self,
        id: &str,
        title: Option<&str>,
        body: Option<&str>,
    ) -> Result<u32, AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            let c = site.c(i);
            if c.kind == Kind::Attachment {
                return Err(AdminError::Invalid(
                    "use update_attachment for attachments".into(),
                ));
            }
            if let Some(t) = title
                && (t.trim().is_empty()
                    || title_taken(site, c.space, t, Some(i)) && c.kind != Kind::Comment)
            {
                return Err(AdminError::Invalid(format!(
                    "a page titled `{t}` already exists"
                )));
            }
            let c = &mut site.contents[i as usize];
            if let Some(t) = title {
                c.title = t.into();
            }
            if let Some(b) = body {
                c.body = Some(b.into());
            }
            c.version += 1;
            c.modified = now_ms().max(c.modified + 1);
            c.changed = c.modified;
            c.modifier = ADMIN;
            Ok(c.version)
        })
    }

    /// Uploads a new version of an attachment (new bytes, same name); returns the version.
    pub fn update_attachment(&self, id: &str, size: Option<u64>) -> Result<u32, AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            let c = &mut site.contents[i as usize];
            let Some((kind, old)) = c.file else {
                return Err(AdminError::Invalid(format!("`{id}` is not an attachment")));
            };
            c.file = Some((kind, size.unwrap_or(old)));
            c.version += 1;
            c.modified = now_ms().max(c.modified + 1);
            c.changed = c.modified;
            c.modifier = ADMIN;
            Ok(c.version)
        })
    }

    /// Moves a page under another page (possibly in another space, taking its subtree along)
    /// or, with `None`, to the top level of its space. The ancestors of every page below it
    /// change with it. Blog posts have no parent and cannot be moved; a page cannot go under a
    /// blog post or under itself. A move into another space is refused when a page of the
    /// subtree has the title of a page there.
    ///
    /// A move bumps neither the version nor the last-modified time. Confluence does not
    /// document either way, so this is the conservative choice for a client: it cannot rely
    /// on a `lastmodified` delta to see moves and must reconcile ancestors (and spaces). A move
    /// does count as a change for the search lag, for the page and everything below it.
    pub fn move_page(&self, id: &str, new_parent: Option<&str>) -> Result<(), AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            if site.c(i).kind != Kind::Page {
                return Err(AdminError::Invalid(format!(
                    "only pages can be moved (`{id}` is a {})",
                    site.c(i).kind.as_str()
                )));
            }
            let parent = match new_parent {
                Some(p) => {
                    let p = find_content(site, p)?;
                    if site.c(p).kind != Kind::Page || p == i || site.ancestors(p).contains(&i) {
                        return Err(AdminError::Invalid("cannot move a page there".into()));
                    }
                    Some(p)
                }
                None => None,
            };
            let old_space = site.c(i).space;
            let new_space = parent.map_or(old_space, |p| site.c(p).space);
            let mut moved = vec![i];
            moved.extend(site.descendants(i));
            if old_space != new_space {
                for &m in &moved {
                    let c = site.c(m);
                    if c.kind == Kind::Page && title_taken(site, new_space, &c.title, Some(m)) {
                        return Err(AdminError::Invalid(format!(
                            "a page titled `{}` exists in the target space",
                            c.title
                        )));
                    }
                }
            }
            if let Some(old) = site.c(i).parent {
                site.contents[old as usize].children.retain(|&x| x != i);
            }
            site.contents[i as usize].parent = parent;
            site.contents[i as usize].position =
                parent.map_or(0, |p| site.c(p).children.len() as u32);
            if let Some(p) = parent {
                site.contents[p as usize].children.push(i);
            }
            let now = now_ms();
            for &m in &moved {
                site.contents[m as usize].changed = now;
            }
            if old_space != new_space {
                for &m in &moved {
                    site.contents[m as usize].space = new_space;
                }
                site.spaces[old_space as usize]
                    .contents
                    .retain(|x| !moved.contains(x));
                for &m in &moved {
                    insert_sorted(site, new_space, m);
                }
                if site.spaces[old_space as usize].homepage == Some(i) {
                    site.spaces[old_space as usize].homepage = None;
                }
            }
            Ok(())
        })
    }

    /// Creates a page (at the top level when `parent` is `None`); returns its id.
    pub fn add_page(
        &self,
        space_key: &str,
        parent: Option<&str>,
        title: &str,
        body: &str,
    ) -> Result<String, AdminError> {
        self.write(|site| {
            let s = find_space(site, space_key)?;
            let parent = match parent {
                Some(p) => {
                    let p = find_content(site, p)?;
                    if site.c(p).kind != Kind::Page || site.c(p).space != s {
                        return Err(AdminError::Invalid(
                            "the parent must be a page of the same space".into(),
                        ));
                    }
                    Some(p)
                }
                None => None,
            };
            if title.trim().is_empty() || title_taken(site, s, title, None) {
                return Err(AdminError::Invalid(format!(
                    "a page titled `{title}` already exists"
                )));
            }
            let i = push_content(site, Kind::Page, s, parent, title.to_owned());
            site.contents[i as usize].body = Some(body.into());
            Ok(site.id_str(i))
        })
    }

    /// Creates a blog post; returns its id.
    pub fn add_blogpost(
        &self,
        space_key: &str,
        title: &str,
        body: &str,
    ) -> Result<String, AdminError> {
        self.write(|site| {
            let s = find_space(site, space_key)?;
            if title.trim().is_empty() || title_taken(site, s, title, None) {
                return Err(AdminError::Invalid(format!(
                    "a blog post titled `{title}` already exists"
                )));
            }
            let i = push_content(site, Kind::BlogPost, s, None, title.to_owned());
            site.contents[i as usize].body = Some(body.into());
            Ok(site.id_str(i))
        })
    }

    /// Adds a footer (or inline) comment to a page or blog post; returns its id.
    pub fn add_comment(
        &self,
        container: &str,
        body: &str,
        inline: bool,
    ) -> Result<String, AdminError> {
        self.write(|site| {
            let p = find_content(site, container)?;
            if !matches!(site.c(p).kind, Kind::Page | Kind::BlogPost) {
                return Err(AdminError::Invalid(
                    "comments go on pages and blog posts".into(),
                ));
            }
            let title = format!("Re: {}", site.c(p).title);
            let s = site.c(p).space;
            let i = push_content(site, Kind::Comment, s, Some(p), title);
            site.contents[i as usize].body = Some(body.into());
            site.contents[i as usize].inline = inline;
            Ok(site.id_str(i))
        })
    }

    /// Adds a reply to a comment (in the same location, on the same page or blog post);
    /// returns its id.
    pub fn add_reply(&self, comment: &str, body: &str) -> Result<String, AdminError> {
        self.write(|site| {
            let parent = find_content(site, comment)?;
            let (Kind::Comment, Some(container)) = (site.c(parent).kind, site.c(parent).parent)
            else {
                return Err(AdminError::Invalid("replies go on comments".into()));
            };
            let title = site.c(parent).title.to_string();
            let inline = site.c(parent).inline;
            let s = site.c(container).space;
            let i = push_content(site, Kind::Comment, s, Some(container), title);
            let x = &mut site.contents[i as usize];
            x.body = Some(body.into());
            x.inline = inline;
            x.reply_to = Some(parent);
            Ok(site.id_str(i))
        })
    }

    /// Attaches a generated file (type from the extension, default `.txt`) of `size` bytes
    /// (default 4 KiB); returns its id.
    pub fn add_attachment(
        &self,
        container: &str,
        file_name: &str,
        size: Option<u64>,
    ) -> Result<String, AdminError> {
        self.write(|site| {
            let p = find_content(site, container)?;
            if !matches!(site.c(p).kind, Kind::Page | Kind::BlogPost) {
                return Err(AdminError::Invalid(
                    "attachments go on pages and blog posts".into(),
                ));
            }
            if file_name.contains('/') || file_name.is_empty() {
                return Err(AdminError::Invalid("invalid file name".into()));
            }
            if site
                .children_of_kind(p, Kind::Attachment)
                .iter()
                .any(|&a| *site.c(a).title == *file_name)
            {
                return Err(AdminError::Invalid(format!(
                    "`{file_name}` is already attached"
                )));
            }
            let ext = file_name
                .rsplit_once('.')
                .map(|x| x.1.to_ascii_lowercase())
                .unwrap_or_default();
            let kind = ALL_KINDS
                .iter()
                .copied()
                .find(|k| k.ext() == ext)
                .unwrap_or(FileKind::Txt);
            let min = if kind == FileKind::Png {
                160_000
            } else {
                16_000
            };
            let s = site.c(p).space;
            let i = push_content(site, Kind::Attachment, s, Some(p), file_name.to_owned());
            site.contents[i as usize].file = Some((
                kind,
                size.unwrap_or(min)
                    .max(if kind.has_text() && kind != FileKind::Txt {
                        min
                    } else {
                        512
                    }),
            ));
            Ok(site.id_str(i))
        })
    }

    /// Attaches two decompression bombs to a page or blog post: `bomb-report.pdf` (a PDF whose
    /// content stream inflates to more than 1 GiB) and `bomb-notes.docx` (a DOCX whose
    /// `word/document.xml` inflates to more than 1 GiB). Both files are about 1 MiB, built once
    /// without ever producing their inflated bytes; neither holds text, so the ground truth
    /// gives them `text: None`. Returns their ids (PDF first).
    pub fn add_bomb_attachments(&self, container: &str) -> Result<Vec<String>, AdminError> {
        // Built outside the site lock (the first call compresses 1 MiB twice).
        let sizes = [
            (
                FileKind::BombPdf,
                "bomb-report.pdf",
                crate::bomb::pdf().len() as u64,
            ),
            (
                FileKind::BombDocx,
                "bomb-notes.docx",
                crate::bomb::docx().len() as u64,
            ),
        ];
        self.write(|site| {
            let p = find_content(site, container)?;
            if !matches!(site.c(p).kind, Kind::Page | Kind::BlogPost) {
                return Err(AdminError::Invalid(
                    "attachments go on pages and blog posts".into(),
                ));
            }
            let mut ids = Vec::new();
            for (kind, name, size) in sizes {
                if site
                    .children_of_kind(p, Kind::Attachment)
                    .iter()
                    .any(|&a| *site.c(a).title == *name)
                {
                    return Err(AdminError::Invalid(format!("`{name}` is already attached")));
                }
                let s = site.c(p).space;
                let i = push_content(site, Kind::Attachment, s, Some(p), name.to_owned());
                site.contents[i as usize].file = Some((kind, size));
                ids.push(site.id_str(i));
            }
            Ok(ids)
        })
    }

    /// Replaces the sloppy-server quirks (see [`Quirks`]); [`Quirks::none`] turns them off.
    pub fn set_quirks(&self, quirks: Quirks) {
        *self
            .shared
            .quirks
            .write()
            .unwrap_or_else(|e| e.into_inner()) = quirks;
    }

    /// The quirks in force.
    pub fn quirks(&self) -> Quirks {
        self.shared.quirks()
    }

    /// Replaces an item's read restriction (users by account id, user name or e-mail; groups
    /// by name or id). Empty lists remove the restriction. Restrictions do not bump versions.
    pub fn set_read_restriction(
        &self,
        id: &str,
        users: &[&str],
        groups: &[&str],
    ) -> Result<(), AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            let us = users
                .iter()
                .map(|u| find_user(site, u))
                .collect::<Result<Vec<_>, _>>()?;
            let gs = groups
                .iter()
                .map(|g| find_group(site, g))
                .collect::<Result<Vec<_>, _>>()?;
            let c = &mut site.contents[i as usize];
            c.restrict_users = us;
            c.restrict_groups = gs;
            Ok(())
        })
    }

    /// Renames a space. As in Confluence, the content of the space keeps its version and
    /// last-modified time (a `lastmodified` delta does not see it).
    pub fn rename_space(&self, space_key: &str, name: &str) -> Result<(), AdminError> {
        if name.trim().is_empty() {
            return Err(AdminError::Invalid("a space needs a name".into()));
        }
        self.write(|site| {
            let s = find_space(site, space_key)?;
            site.spaces[s as usize].name = name.to_owned();
            Ok(())
        })
    }

    /// Replaces a space's view permission: users, groups and anonymous access (space
    /// administrators keep theirs).
    pub fn set_space_permission(
        &self,
        space_key: &str,
        users: &[&str],
        groups: &[&str],
        anonymous: bool,
    ) -> Result<(), AdminError> {
        self.write(|site| {
            let s = find_space(site, space_key)?;
            let us = users
                .iter()
                .map(|u| find_user(site, u))
                .collect::<Result<Vec<_>, _>>()?;
            let gs = groups
                .iter()
                .map(|g| find_group(site, g))
                .collect::<Result<Vec<_>, _>>()?;
            let sp = &mut site.spaces[s as usize];
            sp.read_users = us;
            sp.read_groups = gs;
            sp.anonymous = anonymous;
            Ok(())
        })
    }

    /// Adds a user to a group.
    pub fn add_group_member(&self, group: &str, user: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let g = find_group(site, group)?;
            let u = find_user(site, user)?;
            let m = &mut site.groups[g as usize].members;
            if let Err(pos) = m.binary_search(&u) {
                m.insert(pos, u);
            }
            Ok(())
        })
    }

    /// Removes a user from a group.
    pub fn remove_group_member(&self, group: &str, user: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let g = find_group(site, group)?;
            let u = find_user(site, user)?;
            site.groups[g as usize].members.retain(|&x| x != u);
            Ok(())
        })
    }

    /// Activates or deactivates an account.
    pub fn set_user_active(&self, user: &str, active: bool) -> Result<(), AdminError> {
        self.write(|site| {
            let u = find_user(site, user)?;
            site.users[u as usize].active = active;
            Ok(())
        })
    }

    /// Sets a user's profile time zone (an IANA name such as `Asia/Kolkata`); `None` makes the
    /// user follow the site's default zone again. CQL dates in that user's searches are read
    /// in it; Cloud user objects show it as `timeZone`.
    pub fn set_user_time_zone(
        &self,
        user: &str,
        time_zone: Option<&str>,
    ) -> Result<(), AdminError> {
        let tz = time_zone
            .map(crate::parse_time_zone)
            .transpose()
            .map_err(AdminError::Invalid)?;
        self.write(|site| {
            let u = find_user(site, user)?;
            site.users[u as usize].time_zone = tz;
            Ok(())
        })
    }

    /// The time zone a user's CQL dates are read in (the user's own, else the site's
    /// default), as an IANA name.
    pub fn user_time_zone(&self, user: &str) -> Result<String, AdminError> {
        let site = self.shared.site.read().unwrap_or_else(|e| e.into_inner());
        let u = find_user(&site, user)?;
        Ok(site.zone_of(Some(u)).name().to_owned())
    }

    /// Sets the site's default time zone (see [`crate::SimOptions::time_zone`]).
    pub fn set_default_time_zone(&self, time_zone: &str) -> Result<(), AdminError> {
        let tz = crate::parse_time_zone(time_zone).map_err(AdminError::Invalid)?;
        self.write(|site| {
            site.default_tz = tz;
            Ok(())
        })
    }

    /// Sets the search lag (see [`crate::SimOptions::search_lag_ms`]); 0 turns it off. It
    /// applies to every change, past ones included, from the next search on.
    pub fn set_search_lag_ms(&self, ms: u64) {
        self.shared
            .search_lag_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// The search lag in force, in milliseconds.
    pub fn search_lag_ms(&self) -> u64 {
        self.shared
            .search_lag_ms
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Confluence requests per endpoint since the start (or the last
    /// [`Admin::reset_request_counts`]), keyed by method and route template with ids, keys and
    /// names replaced (`GET /rest/api/content/{id}/child/attachment`,
    /// `GET /rest/api/content/search`, `GET /rest/api/space`), with the response body bytes
    /// served. Admin routes (`/__sim/`) are not counted.
    pub fn request_counts(&self) -> BTreeMap<String, EndpointCount> {
        self.shared
            .endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Clears the per-endpoint counts (the running total of
    /// [`crate::RunningSim::request_count`] keeps counting).
    pub fn reset_request_counts(&self) {
        self.shared
            .endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Adds a label (label writes do not bump the version, as in Confluence).
    pub fn add_label(&self, id: &str, label: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            let l = site.intern_label(label);
            let c = &mut site.contents[i as usize];
            if !c.labels.contains(&l) {
                c.labels.push(l);
            }
            Ok(())
        })
    }

    /// Removes a label.
    pub fn remove_label(&self, id: &str, label: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            let name = label.to_lowercase();
            if let Some(l) = site.labels.iter().position(|x| *x == name) {
                site.contents[i as usize]
                    .labels
                    .retain(|&x| x as usize != l);
            }
            Ok(())
        })
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, crate::http::FaultState> {
        self.shared.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails every Confluence request whose path (or path and query) contains `path_substring`
    /// with `status` (0 closes the connection without answering), after letting
    /// `after_n_successes` matching requests through. Lasts until [`Admin::clear_faults`].
    pub fn fail_requests_matching(
        &self,
        path_substring: &str,
        status: u16,
        after_n_successes: u64,
    ) {
        self.fail_requests_matching_times(path_substring, status, after_n_successes, None);
    }

    /// As [`Admin::fail_requests_matching`], failing at most `times` requests.
    pub fn fail_requests_matching_times(
        &self,
        path_substring: &str,
        status: u16,
        after_n_successes: u64,
        times: Option<u64>,
    ) {
        self.faults().rules.push(FaultRule {
            path_contains: path_substring.to_owned(),
            status,
            after: after_n_successes,
            times,
            seen: 0,
            failed: 0,
        });
    }

    /// Runs `action` when a Confluence request whose path (or path and query) contains
    /// `path_substring` arrives, before that request is served, so that the request already
    /// sees what `action` changed. With `once`, only the first matching request runs it;
    /// otherwise every matching request does, until [`Admin::clear_request_hooks`].
    ///
    /// This is how a test deletes a page exactly between the crawler listing it and the
    /// crawler listing its comments (`content/{id}/child/comment`). The action runs on the
    /// server's task with no lock held; it may call any admin operation. Admin routes under
    /// `/__sim/` never trigger hooks.
    pub fn on_request_matching(
        &self,
        path_substring: &str,
        once: bool,
        action: impl Fn(&Admin) + Send + Sync + 'static,
    ) {
        self.shared
            .hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(crate::http::RequestHook {
                path_contains: path_substring.to_owned(),
                once,
                fired: 0,
                action: Arc::new(action),
            });
    }

    /// Removes every request hook set with [`Admin::on_request_matching`].
    pub fn clear_request_hooks(&self) {
        self.shared
            .hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Replaces the probabilistic fault plan.
    pub fn set_fault_plan(&self, plan: FaultPlan) {
        let mut st = self.faults();
        st.tokens = f64::from(plan.rps.unwrap_or(0));
        st.last_refill = Instant::now();
        st.plan = plan;
    }

    /// Sets or removes the per-request latency.
    pub fn set_latency(&self, latency: Option<Latency>) {
        self.faults().latency = latency;
    }

    /// Removes every fault rule and the fault plan (latency stays).
    pub fn clear_faults(&self) {
        let mut st = self.faults();
        st.rules.clear();
        st.plan = FaultPlan::none();
        st.burst_left = 0;
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Body {
    title: Option<String>,
    body: Option<String>,
    parent_id: Option<String>,
    space_key: Option<String>,
    container_id: Option<String>,
    inline: bool,
    file_name: Option<String>,
    size: Option<u64>,
    users: Vec<String>,
    groups: Vec<String>,
    anonymous: bool,
    user: Option<String>,
    active: Option<bool>,
    add: Vec<String>,
    remove: Vec<String>,
    path: Option<String>,
    status: Option<u16>,
    after: Option<u64>,
    times: Option<u64>,
    spec: Option<String>,
    time_zone: Option<String>,
    ms: Option<u64>,
}

fn done(r: Result<Value, AdminError>) -> Resp {
    match r {
        Ok(v) => Resp::json(200, &v),
        Err(e @ AdminError::NotFound(_)) => Resp::json(404, &json!({"error": e.to_string()})),
        Err(e) => Resp::json(400, &json!({"error": e.to_string()})),
    }
}

/// Answers `/__sim/...`.
pub(crate) fn handle_http(shared: &Arc<Shared>, req: &Req) -> Resp {
    let admin = Admin {
        shared: shared.clone(),
    };
    let b: Body = if req.body.is_empty() {
        Body::default()
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(b) => b,
            Err(e) => return Resp::json(400, &json!({"error": format!("invalid JSON body: {e}")})),
        }
    };
    let path = req
        .path
        .trim_start_matches("/__sim")
        .trim_matches('/')
        .to_owned();
    let segs: Vec<&str> = path.split('/').collect();
    let m = req.method.as_str();
    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    match (m, segs.as_slice()) {
        ("GET", ["info"]) => Resp::json(200, &crate::info_json(shared)),
        ("GET", ["requests"]) => Resp::json(
            200,
            &json!({
                "count": shared.requests.load(std::sync::atomic::Ordering::Relaxed),
                "endpoints": admin.request_counts(),
            }),
        ),
        ("DELETE", ["requests"]) => {
            admin.reset_request_counts();
            Resp::json(200, &json!({"ok": true}))
        }
        ("GET", ["search-lag"]) => Resp::json(200, &json!({"ms": admin.search_lag_ms()})),
        ("POST", ["search-lag"]) => {
            admin.set_search_lag_ms(b.ms.unwrap_or(0));
            Resp::json(200, &json!({"ms": admin.search_lag_ms()}))
        }
        ("POST", ["time-zone"]) => done(
            admin
                .set_default_time_zone(b.time_zone.as_deref().unwrap_or(""))
                .map(|_| json!({"time_zone": b.time_zone})),
        ),
        ("GET", ["user", u, "time-zone"]) => done(
            admin
                .user_time_zone(u)
                .map(|tz| json!({"user": u, "time_zone": tz})),
        ),
        ("POST", ["user", u, "time-zone"]) => done(
            admin
                .set_user_time_zone(u, b.time_zone.as_deref())
                .and_then(|_| admin.user_time_zone(u))
                .map(|tz| json!({"user": u, "time_zone": tz})),
        ),
        ("GET", ["truth"]) => {
            let site = shared.site.read().unwrap_or_else(|e| e.into_inner());
            let mut out = Vec::new();
            truth::for_each(&site, |d| {
                out.extend(serde_json::to_vec(&d).unwrap_or_default());
                out.push(b'\n');
            });
            Resp::bytes(200, "application/x-ndjson", out)
        }
        ("DELETE", ["content", id]) if crate::api::Q(&req.query).get("purge") == Some("true") => {
            done(admin.purge_content(id).map(|_| json!({"purged": id})))
        }
        ("DELETE", ["content", id])
        | ("POST", ["content", id, "delete"])
        | ("POST", ["content", id, "trash"]) => {
            done(admin.delete_content(id).map(|_| json!({"deleted": id})))
        }
        ("POST", ["content", id, "purge"]) => {
            done(admin.purge_content(id).map(|_| json!({"purged": id})))
        }
        ("POST", ["content", id, "restore"]) => {
            done(admin.restore_content(id).map(|_| json!({"restored": id})))
        }
        ("POST", ["content", id, "update"]) => done(
            admin
                .update_page(id, b.title.as_deref(), b.body.as_deref())
                .map(|v| json!({"id": id, "version": v})),
        ),
        ("POST", ["content", id, "update-attachment"]) => done(
            admin
                .update_attachment(id, b.size)
                .map(|v| json!({"id": id, "version": v})),
        ),
        ("POST", ["content", id, "move"]) => done(
            admin
                .move_page(id, b.parent_id.as_deref())
                .map(|_| json!({"moved": id})),
        ),
        ("POST", ["content", id, "restriction"]) => done(
            admin
                .set_read_restriction(id, &strs(&b.users), &strs(&b.groups))
                .map(|_| json!({"restricted": id})),
        ),
        ("POST", ["content", id, "label"]) => {
            let r = b
                .add
                .iter()
                .try_for_each(|l| admin.add_label(id, l))
                .and_then(|_| b.remove.iter().try_for_each(|l| admin.remove_label(id, l)));
            done(r.map(|_| json!({"labelled": id})))
        }
        ("POST", ["pages"]) => done(
            admin
                .add_page(
                    b.space_key.as_deref().unwrap_or(""),
                    b.parent_id.as_deref(),
                    b.title.as_deref().unwrap_or(""),
                    b.body.as_deref().unwrap_or("<p></p>"),
                )
                .map(|id| json!({"id": id})),
        ),
        ("POST", ["blogposts"]) => done(
            admin
                .add_blogpost(
                    b.space_key.as_deref().unwrap_or(""),
                    b.title.as_deref().unwrap_or(""),
                    b.body.as_deref().unwrap_or("<p></p>"),
                )
                .map(|id| json!({"id": id})),
        ),
        ("POST", ["comments"]) => done(
            admin
                .add_comment(
                    b.container_id.as_deref().unwrap_or(""),
                    b.body.as_deref().unwrap_or("<p></p>"),
                    b.inline,
                )
                .map(|id| json!({"id": id})),
        ),
        ("POST", ["attachments"]) => done(
            admin
                .add_attachment(
                    b.container_id.as_deref().unwrap_or(""),
                    b.file_name.as_deref().unwrap_or(""),
                    b.size,
                )
                .map(|id| json!({"id": id})),
        ),
        ("POST", ["space", key, "permission"]) => done(
            admin
                .set_space_permission(key, &strs(&b.users), &strs(&b.groups), b.anonymous)
                .map(|_| json!({"space": key})),
        ),
        ("POST", ["group", g, "member"]) => done(
            admin
                .add_group_member(g, b.user.as_deref().unwrap_or(""))
                .map(|_| json!({"group": g})),
        ),
        ("DELETE", ["group", g, "member", u]) => {
            done(admin.remove_group_member(g, u).map(|_| json!({"group": g})))
        }
        ("POST", ["user", u, "active"]) => done(
            admin
                .set_user_active(u, b.active.unwrap_or(true))
                .map(|_| json!({"user": u})),
        ),
        ("POST", ["faults", "rule"]) => {
            admin.fail_requests_matching_times(
                b.path.as_deref().unwrap_or(""),
                b.status.unwrap_or(500),
                b.after.unwrap_or(0),
                b.times,
            );
            Resp::json(200, &json!({"ok": true}))
        }
        ("POST", ["faults", "plan"]) => {
            match b.spec.as_deref().unwrap_or("").parse::<FaultPlan>() {
                Ok(p) => {
                    admin.set_fault_plan(p);
                    Resp::json(200, &json!({"ok": true}))
                }
                Err(e) => Resp::json(400, &json!({"error": e.to_string()})),
            }
        }
        ("POST", ["faults", "latency"]) => {
            match b.spec.as_deref().map(str::parse::<Latency>).transpose() {
                Ok(l) => {
                    admin.set_latency(l);
                    Resp::json(200, &json!({"ok": true}))
                }
                Err(e) => Resp::json(400, &json!({"error": e.to_string()})),
            }
        }
        ("POST", ["quirks"]) => match b.spec.as_deref().unwrap_or("").parse::<Quirks>() {
            Ok(q) => {
                admin.set_quirks(q);
                Resp::json(200, &json!({"ok": true}))
            }
            Err(e) => Resp::json(400, &json!({"error": e.to_string()})),
        },
        ("DELETE", ["quirks"]) => {
            admin.set_quirks(Quirks::none());
            Resp::json(200, &json!({"ok": true}))
        }
        ("POST", ["bombs"]) => done(
            admin
                .add_bomb_attachments(b.container_id.as_deref().unwrap_or(""))
                .map(|ids| json!({"ids": ids})),
        ),
        ("DELETE", ["faults"]) | ("POST", ["faults", "clear"]) => {
            admin.clear_faults();
            Resp::json(200, &json!({"ok": true}))
        }
        _ => Resp::json(
            404,
            &json!({"error": format!("no admin route {m} /__sim/{path}")}),
        ),
    }
}

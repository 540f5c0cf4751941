//! The admin API: in-process mutations between syncs, fault control, and the same operations
//! over HTTP under `/__sim/` (never faulted, never counted).

use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::files::{ALL_KINDS, FileKind};
use crate::http::{FaultRule, Req, Resp, Shared};
use crate::model::{ADMIN, Content, Kind, Site};
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
        deleted: false,
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

impl Admin {
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Site) -> Result<T, AdminError>,
    ) -> Result<T, AdminError> {
        let mut site = self.shared.site.write().unwrap_or_else(|e| e.into_inner());
        f(&mut site)
    }

    /// Trashes a content item. A deleted page's child pages move up to its parent (as in
    /// Confluence); its attachments and comments go with it.
    pub fn delete_content(&self, id: &str) -> Result<(), AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            let c = site.c(i).clone();
            site.contents[i as usize].deleted = true;
            for ch in c.children {
                let kind = site.c(ch).kind;
                if kind == Kind::Page {
                    site.contents[ch as usize].parent = c.parent;
                    if let Some(p) = c.parent {
                        site.contents[p as usize].children.push(ch);
                    }
                } else {
                    site.contents[ch as usize].deleted = true;
                }
            }
            if c.kind == Kind::Comment {
                let replies: Vec<u32> = (0..site.contents.len() as u32)
                    .filter(|&x| site.c(x).reply_to == Some(i))
                    .collect();
                for r in replies {
                    site.contents[r as usize].deleted = true;
                }
            }
            if let Some(p) = c.parent {
                site.contents[p as usize].children.retain(|&x| x != i);
            }
            let sp = c.space as usize;
            site.spaces[sp]
                .contents
                .retain(|&x| !site.contents[x as usize].deleted);
            if site.spaces[sp].homepage == Some(i) {
                site.spaces[sp].homepage = None;
            }
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
            c.modifier = ADMIN;
            Ok(c.version)
        })
    }

    /// Moves a page under another page (possibly in another space, taking its subtree along)
    /// or, with `None`, to the top level of its space.
    pub fn move_page(&self, id: &str, new_parent: Option<&str>) -> Result<(), AdminError> {
        self.write(|site| {
            let i = find_content(site, id)?;
            if site.c(i).kind != Kind::Page {
                return Err(AdminError::Invalid("only pages can be moved".into()));
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
            let new_space = parent.map_or(site.c(i).space, |p| site.c(p).space);
            if let Some(old) = site.c(i).parent {
                site.contents[old as usize].children.retain(|&x| x != i);
            }
            site.contents[i as usize].parent = parent;
            site.contents[i as usize].position =
                parent.map_or(0, |p| site.c(p).children.len() as u32);
            if let Some(p) = parent {
                site.contents[p as usize].children.push(i);
            }
            let old_space = site.c(i).space;
            if old_space != new_space {
                if title_taken(site, new_space, &site.c(i).title.clone(), Some(i)) {
                    return Err(AdminError::Invalid(
                        "a page with that title exists in the target space".into(),
                    ));
                }
                let mut moved = vec![i];
                moved.extend(site.descendants(i));
                for &m in &moved {
                    site.contents[m as usize].space = new_space;
                }
                site.spaces[old_space as usize]
                    .contents
                    .retain(|x| !moved.contains(x));
                let list = &mut site.spaces[new_space as usize].contents;
                list.extend(&moved);
                let ids: Vec<(u64, u32)> = list
                    .iter()
                    .map(|&x| (site.contents[x as usize].id, x))
                    .collect();
                let mut ids = ids;
                ids.sort();
                site.spaces[new_space as usize].contents =
                    ids.into_iter().map(|(_, x)| x).collect();
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
            &json!({"count": shared.requests.load(std::sync::atomic::Ordering::Relaxed)}),
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
        ("DELETE", ["content", id]) | ("POST", ["content", id, "delete"]) => {
            done(admin.delete_content(id).map(|_| json!({"deleted": id})))
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

//! JSON shapes of Confluence's REST v1 objects, per flavor.

use serde_json::{Map, Value, json};

use crate::model::{Caller, Kind, Site};
use crate::options::Flavor;
use crate::rng;
use crate::text;
use crate::time::{friendly, iso};

/// A parsed `expand` parameter: comma-separated dotted paths.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expand(Vec<String>);

impl Expand {
    /// Parses `a,b.c, d`.
    pub(crate) fn parse(s: &str) -> Expand {
        Expand(
            s.split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }

    /// Whether `path` or something below it was asked for.
    pub(crate) fn has(&self, path: &str) -> bool {
        self.0.iter().any(|p| {
            p == path || (p.starts_with(path) && p.as_bytes().get(path.len()) == Some(&b'.'))
        })
    }

    /// The expansions below `path`.
    pub(crate) fn sub(&self, path: &str) -> Expand {
        let prefix = format!("{path}.");
        Expand(
            self.0
                .iter()
                .filter_map(|p| p.strip_prefix(&prefix).map(str::to_owned))
                .collect(),
        )
    }

    /// The terms as given.
    pub(crate) fn terms(&self) -> &[String] {
        &self.0
    }

    /// Whether nothing was asked for.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of sub-expansion steps (dots plus terms), for the "maximum 8" check.
    pub(crate) fn depth(&self) -> usize {
        self.0
            .iter()
            .map(|p| p.split('.').count())
            .max()
            .unwrap_or(0)
    }

    /// Whether any `body.*` expansion (at any prefix) is present.
    pub(crate) fn mentions(&self, word: &str) -> bool {
        self.0.iter().any(|p| p.split('.').any(|s| s == word))
    }
}

/// Everything rendering needs.
pub(crate) struct R<'a> {
    pub site: &'a Site,
    pub flavor: Flavor,
    /// `_links.base`.
    pub base: String,
    /// `_links.context`.
    pub context: String,
    pub caller: Caller,
    /// Cloud attachment download links in the API form.
    pub api_download: bool,
}

/// Percent-encodes a path segment.
pub(crate) fn enc(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// A title as Confluence puts it in a URL: `+` for spaces.
fn slug(s: &str) -> String {
    s.split(' ').map(enc).collect::<Vec<_>>().join("+")
}

/// `/x/6QM`-style tiny link.
pub(crate) fn tiny(id: u64) -> String {
    use base64::Engine;
    let mut bytes = id.to_le_bytes().to_vec();
    while bytes.len() > 1 && bytes.last() == Some(&0) {
        bytes.pop();
    }
    let s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!("/x/{}", s.trim_end_matches('A'))
}

impl R<'_> {
    fn cloud(&self) -> bool {
        self.flavor == Flavor::Cloud
    }

    /// A user object.
    pub(crate) fn user(&self, u: u32) -> Value {
        let user = &self.site.users[u as usize];
        if self.cloud() {
            json!({
                "type": "known",
                "accountId": user.account_id,
                "accountType": if user.app { "app" } else { "atlassian" },
                "email": if user.app { "" } else { user.email.as_str() },
                "publicName": user.display_name,
                "profilePicture": {"path": format!("/wiki/aa-avatar/{}", user.account_id), "width": 48, "height": 48, "isDefault": false},
                "displayName": user.display_name,
                "timeZone": self.site.zone_of(Some(u)).name(),
                "isExternalCollaborator": false,
                "isGuest": false,
                "locale": "en_US",
                "accountStatus": if user.active { "active" } else { "inactive" },
                "_expandable": {"operations": "", "personalSpace": ""},
                "_links": {"self": format!("{}/rest/api/user?accountId={}", self.base, user.account_id)}
            })
        } else {
            json!({
                "type": "known",
                "username": user.username,
                "userKey": user.user_key,
                "profilePicture": {"path": format!("{}/images/icons/profilepics/default.svg", self.context), "width": 48, "height": 48, "isDefault": true},
                "displayName": user.display_name,
                "_links": {"self": format!("{}/rest/api/user?key={}", self.base, user.user_key)},
                "_expandable": {"status": ""}
            })
        }
    }

    /// A user object with `expand=status` style extras (Server/DC) applied.
    pub(crate) fn user_expanded(&self, u: u32, exp: &Expand) -> Value {
        let mut v = self.user(u);
        let user = &self.site.users[u as usize];
        if !self.cloud() && exp.has("status") {
            v["status"] = json!(if user.active { "Active" } else { "Deactivated" });
            v["_expandable"] = json!({});
        }
        if self.cloud()
            && exp.has("personalSpace")
            && let Some(s) = self
                .site
                .spaces
                .iter()
                .position(|s| s.personal && s.admins.contains(&u))
        {
            v["personalSpace"] = self.space(s as u32, &Expand::default());
        }
        v
    }

    /// A group object.
    pub(crate) fn group(&self, g: u32) -> Value {
        let group = &self.site.groups[g as usize];
        if self.cloud() {
            json!({"type": "group", "name": group.name, "id": group.id,
                   "_links": {"self": format!("{}/rest/api/group/by-id?id={}", self.base, group.id)}})
        } else {
            json!({"type": "group", "name": group.name,
                   "_links": {"self": format!("{}/rest/api/group/{}", self.base, enc(&group.name))}})
        }
    }

    /// The space's `webui` link.
    pub(crate) fn space_webui(&self, s: u32) -> String {
        let key = &self.site.spaces[s as usize].key;
        if self.cloud() {
            format!("/spaces/{}", enc(key))
        } else {
            format!("/display/{}", enc(key))
        }
    }

    /// A space object.
    pub(crate) fn space(&self, s: u32, exp: &Expand) -> Value {
        let sp = &self.site.spaces[s as usize];
        let mut o = Map::new();
        o.insert("id".into(), json!(sp.id));
        o.insert("key".into(), json!(sp.key));
        o.insert("name".into(), json!(sp.name));
        let mut expandable = Map::new();
        for k in [
            "settings",
            "metadata",
            "identifiers",
            "roles",
            "icon",
            "typeSettings",
            "description",
            "history",
            "operations",
            "lookAndFeel",
            "permissions",
            "theme",
            "homepage",
        ] {
            expandable.insert(k.into(), json!(""));
        }
        if !self.cloud() {
            expandable.remove("identifiers");
            expandable.remove("roles");
            expandable.remove("typeSettings");
            expandable.remove("history");
        }
        if let Some(h) = sp.homepage {
            expandable.insert(
                "homepage".into(),
                json!(format!("/rest/api/content/{}", self.site.c(h).id)),
            );
        }
        if exp.has("icon") {
            o.insert("icon".into(), json!({"path": "/images/logo/default-space-logo-256.png", "width": 48, "height": 48, "isDefault": true}));
            expandable.remove("icon");
        }
        if exp.has("description") {
            let d = exp.sub("description");
            let mut desc = Map::new();
            let mut dexp = Map::new();
            for (rep, value) in [
                ("plain", sp.description.clone()),
                (
                    "view",
                    format!("<p>{}</p>", text::xml_escape(&sp.description)),
                ),
            ] {
                if d.has(rep) {
                    desc.insert(rep.into(), json!({"value": value, "representation": rep, "embeddedContent": [], "_expandable": {"content": ""}}));
                } else {
                    dexp.insert(rep.into(), json!(""));
                }
            }
            desc.insert("_expandable".into(), Value::Object(dexp));
            o.insert("description".into(), Value::Object(desc));
            expandable.remove("description");
        }
        if exp.has("homepage") {
            if let Some(h) = sp.homepage.filter(|&h| self.site.c(h).live()) {
                o.insert("homepage".into(), self.content(h, &exp.sub("homepage")));
            }
            expandable.remove("homepage");
        }
        o.insert(
            "type".into(),
            json!(if sp.personal { "personal" } else { "global" }),
        );
        o.insert(
            "status".into(),
            json!(if sp.archived { "archived" } else { "current" }),
        );
        if exp.has("permissions") {
            o.insert("permissions".into(), self.space_permissions(s));
            expandable.remove("permissions");
        }
        if exp.has("history") && self.cloud() {
            o.insert(
                "history".into(),
                json!({"createdDate": iso(sp.created), "createdBy": self.user(sp.creator)}),
            );
            expandable.remove("history");
        }
        if exp.has("metadata") {
            o.insert("metadata".into(), json!({"labels": {"results": [], "start": 0, "limit": 200, "size": 0}, "_expandable": {}}));
            expandable.remove("metadata");
        }
        o.insert("_expandable".into(), Value::Object(expandable));
        o.insert(
            "_links".into(),
            json!({
                "webui": self.space_webui(s),
                "self": format!("{}/rest/api/space/{}", self.base, enc(&sp.key))
            }),
        );
        Value::Object(o)
    }

    /// Cloud `permissions` of a space (one entry per grant, see [`space_grants`]).
    pub(crate) fn space_permissions(&self, s: u32) -> Value {
        let out: Vec<Value> = space_grants(self.site, s)
            .into_iter()
            .map(|g| {
                let operation = json!({"operation": g.operation, "targetType": g.target});
                match g.grantee {
                    Grantee::User(u) => json!({
                        "id": g.id,
                        "subjects": {"user": {"results": [self.user(u)], "size": 1}, "_expandable": {"group": ""}},
                        "operation": operation,
                        "anonymousAccess": false, "unlicensedAccess": false
                    }),
                    Grantee::Group(gr) => json!({
                        "id": g.id,
                        "subjects": {"group": {"results": [self.group(gr)], "size": 1}, "_expandable": {"user": ""}},
                        "operation": operation,
                        "anonymousAccess": false, "unlicensedAccess": false
                    }),
                    Grantee::Anonymous => json!({
                        "id": g.id,
                        "operation": operation,
                        "anonymousAccess": true, "unlicensedAccess": false
                    }),
                }
            })
            .collect();
        Value::Array(out)
    }

    /// The `webui` link of a content item.
    pub(crate) fn webui(&self, idx: u32) -> String {
        let site = self.site;
        let c = site.c(idx);
        let key = &site.spaces[c.space as usize].key;
        let date = || {
            let (y, m, d) = crate::time::civil_from_days(c.created.div_euclid(crate::time::DAY_MS));
            format!("{y:04}/{m:02}/{d:02}")
        };
        match (c.kind, self.cloud()) {
            (Kind::Page, true) => format!("/spaces/{}/pages/{}/{}", enc(key), c.id, slug(&c.title)),
            (Kind::Page, false) => format!("/display/{}/{}", enc(key), slug(&c.title)),
            (Kind::BlogPost, true) => format!(
                "/spaces/{}/blog/{}/{}/{}",
                enc(key),
                date(),
                c.id,
                slug(&c.title)
            ),
            (Kind::BlogPost, false) => {
                format!("/display/{}/{}/{}", enc(key), date(), slug(&c.title))
            }
            (Kind::Comment, _) => {
                let holder = c.parent.unwrap_or(idx);
                let base = self.webui(holder);
                if self.cloud() {
                    format!("{base}?focusedCommentId={}", c.id)
                } else {
                    format!("{base}?focusedCommentId={}#comment-{}", c.id, c.id)
                }
            }
            (Kind::Attachment, _) => {
                let p = c.parent.map_or(0, |p| site.c(p).id);
                format!(
                    "/pages/viewpageattachments.action?pageId={p}&preview={}",
                    enc(&format!("/{p}/{}/{}", c.id, c.title))
                )
            }
        }
    }

    /// `_links.download` of an attachment (relative to `_links.base`).
    pub(crate) fn download(&self, idx: u32) -> String {
        let c = self.site.c(idx);
        let p = c.parent.map_or(0, |p| self.site.c(p).id);
        if self.api_download && self.cloud() {
            return format!(
                "/rest/api/content/{p}/child/attachment/att{}/download",
                c.id
            );
        }
        format!(
            "/download/attachments/{p}/{}?version={}&modificationDate={}&cacheVersion=1&api=v2",
            enc(&c.title),
            c.version,
            c.modified
        )
    }

    fn version(&self, idx: u32) -> Value {
        let c = self.site.c(idx);
        let mut v = json!({
            "by": self.user(c.modifier),
            "when": iso(c.modified),
            "friendlyWhen": friendly(c.modified),
            "message": "",
            "number": c.version,
            "minorEdit": false,
            "_expandable": {"collaborators": "", "content": format!("/rest/api/content/{}", self.site.id_str(idx))},
            "_links": {"self": format!("{}/rest/api/content/{}/version/{}", self.base, self.site.id_str(idx), c.version)}
        });
        if self.cloud() {
            v["contentTypeModified"] = json!(false);
            v["confRev"] = json!(format!("confluence${}.{}", c.id, c.version));
        }
        v
    }

    fn history(&self, idx: u32, exp: &Expand) -> Value {
        let c = self.site.c(idx);
        let mut h = json!({
            "latest": true,
            "createdBy": self.user(c.creator),
            "createdDate": iso(c.created),
            "_links": {"self": format!("{}/rest/api/content/{}/history", self.base, self.site.id_str(idx))}
        });
        let mut expandable = Map::new();
        for k in [
            "lastUpdated",
            "previousVersion",
            "contributors",
            "nextVersion",
        ] {
            expandable.insert(k.into(), json!(""));
        }
        if exp.has("lastUpdated") {
            h["lastUpdated"] = self.version(idx);
            expandable.remove("lastUpdated");
        }
        if exp.has("contributors") {
            let mut users = vec![self.user(c.creator)];
            if c.modifier != c.creator {
                users.push(self.user(c.modifier));
            }
            h["contributors"] = json!({"publishers": {"users": users}});
            expandable.remove("contributors");
        }
        h["_expandable"] = Value::Object(expandable);
        h
    }

    /// A label object.
    pub(crate) fn label(&self, l: u16) -> Value {
        let name = &self.site.labels[l as usize];
        json!({"prefix": "global", "name": name, "id": (1000 + u64::from(l)).to_string(), "label": name})
    }

    /// A collection envelope.
    pub(crate) fn collection(
        &self,
        results: Vec<Value>,
        start: usize,
        limit: usize,
        links: Value,
    ) -> Value {
        let size = results.len();
        json!({"results": results, "start": start, "limit": limit, "size": size, "_links": links})
    }

    fn labels(&self, idx: u32) -> Value {
        let c = self.site.c(idx);
        let results: Vec<Value> = c.labels.iter().map(|&l| self.label(l)).collect();
        self.collection(results, 0, 200, json!({"self": format!("{}/rest/api/content/{}/label", self.base, self.site.id_str(idx))}))
    }

    /// The read restriction of an item (`ContentRestriction`).
    pub(crate) fn restriction(
        &self,
        idx: u32,
        op: &str,
        exp: &Expand,
        start: usize,
        limit: usize,
    ) -> Value {
        let c = self.site.c(idx);
        let id = self.site.id_str(idx);
        let (users, groups): (Vec<u32>, Vec<u32>) = if op == "read" {
            (c.restrict_users.clone(), c.restrict_groups.clone())
        } else {
            (Vec::new(), Vec::new())
        };
        let mut restrictions = Map::new();
        let mut rexp = Map::new();
        let page = |n: usize| (start.min(n), (start + limit).min(n));
        if exp.has("restrictions.user") || exp.has("user") {
            let (a, b) = page(users.len());
            let rows: Vec<Value> = users[a..b].iter().map(|&u| self.user(u)).collect();
            let mut col = self.collection(rows, start, limit, json!({}));
            col["size"] = json!(b - a);
            restrictions.insert("user".into(), col);
        } else {
            rexp.insert(
                "user".into(),
                json!(format!(
                    "/rest/api/content/{id}/restriction/byOperation/{op}/user"
                )),
            );
        }
        if exp.has("restrictions.group") || exp.has("group") {
            let (a, b) = page(groups.len());
            let rows: Vec<Value> = groups[a..b].iter().map(|&g| self.group(g)).collect();
            let mut col = self.collection(rows, start, limit, json!({}));
            col["size"] = json!(b - a);
            restrictions.insert("group".into(), col);
        } else {
            rexp.insert(
                "group".into(),
                json!(format!(
                    "/rest/api/content/{id}/restriction/byOperation/{op}/group"
                )),
            );
        }
        if !rexp.is_empty() {
            restrictions.insert("_expandable".into(), Value::Object(rexp));
        }
        json!({
            "operation": op,
            "restrictions": restrictions,
            "_expandable": {"content": format!("/rest/api/content/{id}")},
            "_links": {"self": format!("{}/rest/api/content/{id}/restriction/byOperation/{op}", self.base)}
        })
    }

    /// A content object with expansions.
    pub(crate) fn content(&self, idx: u32, exp: &Expand) -> Value {
        let site = self.site;
        let c = site.c(idx);
        let id = site.id_str(idx);
        let sp = &site.spaces[c.space as usize];
        let mut o = Map::new();
        o.insert("id".into(), json!(id));
        o.insert("type".into(), json!(c.kind.as_str()));
        o.insert("status".into(), json!(c.status.as_str()));
        o.insert("title".into(), json!(c.title));
        let mut expandable = Map::new();
        let self_link = format!("/rest/api/content/{id}");
        for (k, v) in [
            ("childTypes", String::new()),
            ("container", format!("/rest/api/space/{}", enc(&sp.key))),
            ("metadata", String::new()),
            ("operations", String::new()),
            ("children", format!("{self_link}/child")),
            (
                "restrictions",
                format!("{self_link}/restriction/byOperation"),
            ),
            ("history", format!("{self_link}/history")),
            ("ancestors", String::new()),
            ("body", String::new()),
            ("version", String::new()),
            ("descendants", format!("{self_link}/descendant")),
            ("space", format!("/rest/api/space/{}", enc(&sp.key))),
        ] {
            expandable.insert(k.into(), json!(v));
        }
        if let (Some(p), Kind::Comment | Kind::Attachment) = (c.parent, c.kind) {
            expandable.insert(
                "container".into(),
                json!(format!("/rest/api/content/{}", site.id_str(p))),
            );
        }
        if exp.has("space") {
            o.insert("space".into(), self.space(c.space, &exp.sub("space")));
            expandable.remove("space");
        }
        if exp.has("history") {
            o.insert("history".into(), self.history(idx, &exp.sub("history")));
            expandable.remove("history");
        }
        if exp.has("version") {
            o.insert("version".into(), self.version(idx));
            expandable.remove("version");
        }
        if exp.has("ancestors") {
            let anc: Vec<u32> = match c.kind {
                Kind::Page => site.ancestors(idx),
                Kind::Comment => c.reply_to.into_iter().collect(),
                _ => Vec::new(),
            };
            let list: Vec<Value> = anc
                .iter()
                .map(|&a| self.content(a, &Expand::default()))
                .collect();
            o.insert("ancestors".into(), Value::Array(list));
            expandable.remove("ancestors");
        }
        if exp.has("container") {
            let v = match (c.kind, c.parent) {
                (Kind::Comment | Kind::Attachment, Some(p)) => {
                    self.content(p, &exp.sub("container"))
                }
                _ => self.space(c.space, &exp.sub("container")),
            };
            o.insert("container".into(), v);
            expandable.remove("container");
        }
        if exp.has("body") && c.kind != Kind::Attachment {
            let b = exp.sub("body");
            let storage = text::storage_body(site, idx);
            let mut body = Map::new();
            let mut bexp = Map::new();
            for rep in [
                "storage",
                "view",
                "export_view",
                "styled_view",
                "editor",
                "anonymous_export_view",
                "atlas_doc_format",
                "dynamic",
            ] {
                if b.has(rep) {
                    let value = representation(&storage, rep);
                    body.insert(rep.into(), json!({"value": value, "representation": rep, "embeddedContent": [], "_expandable": {"content": self_link}}));
                } else {
                    bexp.insert(rep.into(), json!(""));
                }
            }
            body.insert("_expandable".into(), Value::Object(bexp));
            o.insert("body".into(), Value::Object(body));
            expandable.remove("body");
        }
        if exp.has("children") {
            o.insert("children".into(), self.children(idx, &exp.sub("children")));
            expandable.remove("children");
        }
        if exp.has("descendants") {
            let d = exp.sub("descendants");
            let mut m = Map::new();
            for kind in [Kind::Attachment, Kind::Comment, Kind::Page] {
                if d.has(kind.as_str()) {
                    let all: Vec<u32> = site
                        .descendants(idx)
                        .into_iter()
                        .filter(|&x| site.c(x).kind == kind && site.can_read(self.caller, x))
                        .collect();
                    let rows: Vec<Value> = all
                        .iter()
                        .take(25)
                        .map(|&x| self.content(x, &Expand::default()))
                        .collect();
                    m.insert(
                        kind.as_str().into(),
                        self.collection(rows, 0, 25, json!({})),
                    );
                }
            }
            o.insert("descendants".into(), Value::Object(m));
            expandable.remove("descendants");
        }
        if exp.has("metadata") {
            let m = exp.sub("metadata");
            let mut meta = Map::new();
            if m.has("labels") {
                meta.insert("labels".into(), self.labels(idx));
            }
            if let Some((kind, _)) = c.file {
                meta.insert("mediaType".into(), json!(kind.media_type()));
                meta.insert("comment".into(), json!(""));
            }
            meta.insert("_expandable".into(), json!({"currentuser": "", "comments": "", "simple": "", "properties": "", "frontend": "", "likes": ""}));
            o.insert("metadata".into(), Value::Object(meta));
            expandable.remove("metadata");
        }
        if exp.has("restrictions") {
            let r = exp.sub("restrictions");
            let mut m = Map::new();
            if r.has("read") {
                m.insert(
                    "read".into(),
                    self.restriction(idx, "read", &r.sub("read"), 0, 200),
                );
            }
            if r.has("update") {
                m.insert(
                    "update".into(),
                    self.restriction(idx, "update", &r.sub("update"), 0, 200),
                );
            }
            m.insert(
                "_links".into(),
                json!({"self": format!("{}{self_link}/restriction/byOperation", self.base)}),
            );
            o.insert("restrictions".into(), Value::Object(m));
            expandable.remove("restrictions");
        }
        // Extensions: position for pages, location for comments, file facts for attachments.
        match c.kind {
            Kind::Page | Kind::BlogPost => {
                o.insert("extensions".into(), json!({"position": c.position}));
            }
            Kind::Comment => {
                let mut e = json!({"location": if c.inline { "inline" } else { "footer" }, "_expandable": {"resolution": ""}});
                if c.inline && exp.has("extensions.inlineProperties") {
                    e["inlineProperties"] = json!({"originalSelection": c.title.trim_start_matches("Re: "), "markerRef": rng::Rng::new(site.seed, &[c.id]).hex(32)});
                }
                if exp.has("extensions.resolution") {
                    e["resolution"] = json!({"status": "open", "lastModifier": self.user(c.modifier), "lastModifiedDate": iso(c.modified)});
                    e["_expandable"] = json!({});
                }
                o.insert("extensions".into(), e);
            }
            Kind::Attachment => {
                let (kind, size) = c.file.unwrap_or((crate::files::FileKind::Txt, 0));
                let p = c.parent.map_or(0, |p| site.c(p).id);
                let file_id = file_id(site.seed, c.id);
                let ext = if self.cloud() {
                    json!({
                        "mediaType": kind.media_type(),
                        "fileSize": size,
                        "comment": "",
                        "mediaTypeDescription": kind.description(),
                        "fileId": file_id,
                        "collectionName": format!("contentId-{p}")
                    })
                } else {
                    json!({"mediaType": kind.media_type(), "fileSize": size, "comment": ""})
                };
                o.insert("extensions".into(), ext);
            }
        }
        o.insert("_expandable".into(), Value::Object(expandable));
        let mut links = json!({
            "webui": self.webui(idx),
            "self": format!("{}{self_link}", self.base)
        });
        match c.kind {
            Kind::Page | Kind::BlogPost => {
                links["tinyui"] = json!(tiny(c.id));
                links["editui"] = json!(format!("/pages/resumedraft.action?draftId={}", c.id));
                if !self.cloud() {
                    links["edit"] = json!(format!("/pages/editpage.action?pageId={}", c.id));
                }
            }
            Kind::Attachment => {
                links["download"] = json!(self.download(idx));
                if self.cloud() {
                    links["thumbnail"] = json!(format!(
                        "/download/thumbnails/{}/{}?version={}&modificationDate={}&cacheVersion=1&api=v2",
                        c.parent.map_or(0, |p| site.c(p).id),
                        enc(&c.title),
                        c.version,
                        c.modified
                    ));
                }
            }
            Kind::Comment => {}
        }
        o.insert("_links".into(), links);
        Value::Object(o)
    }

    /// The `children` expansion: attachment, comment and page collections (first 25 each).
    fn children(&self, idx: u32, exp: &Expand) -> Value {
        let site = self.site;
        let id = site.id_str(idx);
        let mut m = Map::new();
        let mut cexp = Map::new();
        for (name, kind) in [
            ("attachment", Kind::Attachment),
            ("comment", Kind::Comment),
            ("page", Kind::Page),
        ] {
            if exp.has(name) {
                let all: Vec<u32> = if kind == Kind::Page {
                    site.child_pages(idx)
                } else {
                    site.children_of_kind(idx, kind)
                        .into_iter()
                        .filter(|&x| kind != Kind::Comment || site.c(x).reply_to.is_none())
                        .collect()
                };
                let all: Vec<u32> = all
                    .into_iter()
                    .filter(|&x| site.can_read(self.caller, x))
                    .collect();
                let limit = 25;
                let rows: Vec<Value> = all
                    .iter()
                    .take(limit)
                    .map(|&x| self.content(x, &exp.sub(name)))
                    .collect();
                let mut links =
                    json!({"self": format!("{}/rest/api/content/{id}/child/{name}", self.base)});
                if all.len() > limit {
                    links["next"] = json!(format!(
                        "/rest/api/content/{id}/child/{name}?limit={limit}&start={limit}"
                    ));
                }
                m.insert(name.into(), self.collection(rows, 0, limit, links));
            } else {
                cexp.insert(
                    name.into(),
                    json!(format!("/rest/api/content/{id}/child/{name}")),
                );
            }
        }
        m.insert("_expandable".into(), Value::Object(cexp));
        m.insert(
            "_links".into(),
            json!({"self": format!("{}/rest/api/content/{id}/child", self.base)}),
        );
        Value::Object(m)
    }
}

/// A storage body in another representation: `storage` and `editor` as stored,
/// `atlas_doc_format` as one ADF paragraph of its text (a JSON string), the view forms
/// rendered roughly.
pub(crate) fn representation(storage: &str, rep: &str) -> String {
    match rep {
        "storage" | "editor" => storage.to_owned(),
        "atlas_doc_format" => json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text::plain_text(storage)}]}]}).to_string(),
        _ => text::view_body(storage),
    }
}

/// Who a space permission is granted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grantee {
    User(u32),
    Group(u32),
    Anonymous,
}

/// One space permission grant, as both REST versions list it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grant {
    /// The permission id (stable per space and position).
    pub id: u64,
    pub grantee: Grantee,
    /// `read`, `administer`, `create`.
    pub operation: &'static str,
    /// `space`, `page`, `blogpost`, `comment`, `attachment`.
    pub target: &'static str,
}

/// Every permission grant of a space: read for each direct reader and administrator,
/// administer for each administrator, read and the four creates for each group, and read for
/// anonymous users when the space allows them. v1's `expand=permissions` and v2's
/// `spaces/{id}/permissions` both list exactly these.
pub(crate) fn space_grants(site: &Site, s: u32) -> Vec<Grant> {
    let sp = &site.spaces[s as usize];
    let mut out = Vec::new();
    let mut push = |grantee: Grantee, operation: &'static str, target: &'static str| {
        let n = out.len() as u64 + 1;
        out.push(Grant {
            id: 10_000_000 + (rng::hash(site.seed, &[sp.id, n]) % 90_000_000),
            grantee,
            operation,
            target,
        });
    };
    let mut readers: Vec<u32> = sp.read_users.clone();
    for a in &sp.admins {
        if !readers.contains(a) {
            readers.push(*a);
        }
    }
    for &u in &readers {
        push(Grantee::User(u), "read", "space");
    }
    for &u in &sp.admins {
        push(Grantee::User(u), "administer", "space");
    }
    for &g in &sp.read_groups {
        for (op, target) in [
            ("read", "space"),
            ("create", "page"),
            ("create", "blogpost"),
            ("create", "comment"),
            ("create", "attachment"),
        ] {
            push(Grantee::Group(g), op, target);
        }
    }
    if sp.anonymous {
        push(Grantee::Anonymous, "read", "space");
    }
    out
}

/// The media file id (a UUID) of an attachment.
pub(crate) fn file_id(seed: u64, id: u64) -> String {
    let mut r = rng::Rng::new(seed, &[0xF11D, id]);
    format!(
        "{}-{}-{}-{}-{}",
        r.hex(8),
        r.hex(4),
        r.hex(4),
        r.hex(4),
        r.hex(12)
    )
}

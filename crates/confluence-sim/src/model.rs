//! The site: users, groups, spaces and content, stored compactly.
//!
//! Content lives in one vector indexed by a `u32`; ids, titles and the few numbers that
//! describe an item are stored, while bodies and attachment bytes are generated on demand from
//! the seed, the id and the version (see `text` and `files`). A 100 000-document site therefore
//! takes a few tens of MiB.

use std::collections::HashMap;

use chrono_tz::Tz;

use crate::files::FileKind;
use crate::options::Flavor;

/// A user account.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// Server/DC user name (also the local part of the e-mail address).
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// E-mail address.
    pub email: String,
    /// Cloud account id.
    pub account_id: String,
    /// Server/DC user key.
    pub user_key: String,
    /// Whether the account can log in.
    pub active: bool,
    /// Cloud app account (`accountType: app`).
    pub app: bool,
    /// Secret: Cloud API token or Server/DC password of this user.
    pub secret: String,
    /// Profile time zone; `None` follows the site's default zone.
    pub time_zone: Option<Tz>,
}

/// A group and its members (user indexes, sorted).
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Group name.
    pub name: String,
    /// Cloud group id (a UUID).
    pub id: String,
    /// Member user indexes, sorted and unique.
    pub members: Vec<u32>,
}

/// A space.
#[derive(Debug, Clone)]
pub(crate) struct Space {
    /// Numeric id.
    pub id: u64,
    /// Space key.
    pub key: String,
    /// Space name.
    pub name: String,
    /// Plain description.
    pub description: String,
    /// Personal (`~key`) rather than global.
    pub personal: bool,
    /// Archived.
    pub archived: bool,
    /// Homepage content index.
    pub homepage: Option<u32>,
    /// Creation time (ms).
    pub created: i64,
    /// Creator user index.
    pub creator: u32,
    /// Users granted VIEWSPACE directly.
    pub read_users: Vec<u32>,
    /// Groups granted VIEWSPACE.
    pub read_groups: Vec<u32>,
    /// Anonymous users may view.
    pub anonymous: bool,
    /// Users with space administration.
    pub admins: Vec<u32>,
    /// Content indexes in this space, in id order (trashed and purged ones removed).
    pub contents: Vec<u32>,
}

/// The type of a content item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Page,
    BlogPost,
    Comment,
    Attachment,
}

impl Kind {
    /// The API's `type` string.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::BlogPost => "blogpost",
            Kind::Comment => "comment",
            Kind::Attachment => "attachment",
        }
    }
}

/// Where a content item is in its life: current, in the space's trash, or gone for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Live: listed, searchable, readable.
    Current,
    /// In the trash: only `GET content/{id}?status=trashed` (or `any`) and
    /// `GET content?status=trashed` see it; [`crate::Admin::restore_content`] brings it back.
    Trashed,
    /// Purged from the trash (or a deleted comment): gone for good.
    Purged,
}

impl Status {
    /// The API's `status` string.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::Trashed => "trashed",
            Status::Purged => "deleted",
        }
    }
}

/// A page, blog post, comment or attachment.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    /// Numeric id (Cloud attachments print it with an `att` prefix).
    pub id: u64,
    /// Type.
    pub kind: Kind,
    /// Space index.
    pub space: u32,
    /// Pages: parent page. Comments and attachments: their container.
    pub parent: Option<u32>,
    /// Comments: the comment this one replies to.
    pub reply_to: Option<u32>,
    /// Title (attachments: the file name).
    pub title: Box<str>,
    /// Version number.
    pub version: u32,
    /// Creation time (ms).
    pub created: i64,
    /// Last modification time (ms).
    pub modified: i64,
    /// Creator user index.
    pub creator: u32,
    /// Last modifier user index.
    pub modifier: u32,
    /// Label indexes.
    pub labels: Vec<u16>,
    /// Read restriction: users.
    pub restrict_users: Vec<u32>,
    /// Read restriction: groups.
    pub restrict_groups: Vec<u32>,
    /// Child pages, then attachments and comments, in id order.
    pub children: Vec<u32>,
    /// A storage body set through the admin API (otherwise generated).
    pub body: Option<Box<str>>,
    /// Sibling position (`extensions.position`).
    pub position: u32,
    /// Current, trashed or purged.
    pub status: Status,
    /// Trashed (or purged) along with its container page or blog post, not on its own:
    /// restoring the container brings it back.
    pub with_container: bool,
    /// When the search index last had to pick the item up (creation, edit, re-upload, move,
    /// restore): what the search lag counts from.
    pub changed: i64,
    /// Comments: inline rather than footer.
    pub inline: bool,
    /// Attachments: file type and exact size in bytes.
    pub file: Option<(FileKind, u64)>,
}

impl Content {
    /// Whether it is current (not trashed, not purged).
    pub(crate) fn live(&self) -> bool {
        self.status == Status::Current
    }

    /// Whether it has read restrictions of its own.
    pub(crate) fn restricted(&self) -> bool {
        !self.restrict_users.is_empty() || !self.restrict_groups.is_empty()
    }
}

/// Who is calling: a user index, or anonymous.
pub(crate) type Caller = Option<u32>;

/// The whole site.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// Flavor the identities are shaped for.
    pub flavor: Flavor,
    /// Generation seed.
    pub seed: u64,
    /// Users; index 0 is the crawler's account, index 1 the site administrator.
    pub users: Vec<User>,
    /// Groups; index 0 is `confluence-users`, index 1 `confluence-administrators`.
    pub groups: Vec<Group>,
    /// Spaces.
    pub spaces: Vec<Space>,
    /// All content, indexed by `u32`.
    pub contents: Vec<Content>,
    /// Content id → index.
    pub by_id: HashMap<u64, u32>,
    /// Label names (lower case).
    pub labels: Vec<String>,
    /// Next content id to hand out.
    pub next_id: u64,
    /// Next space id to hand out.
    pub next_space_id: u64,
    /// The site's default time zone: users without a zone of their own and anonymous
    /// callers read CQL dates in it.
    pub default_tz: Tz,
}

/// The index of the crawler's account.
pub(crate) const CRAWLER: u32 = 0;
/// The index of the site administrator.
pub(crate) const ADMIN: u32 = 1;

impl Site {
    /// A live (not deleted) content item by id.
    pub(crate) fn content_by_id(&self, id: u64) -> Option<u32> {
        self.by_id
            .get(&id)
            .copied()
            .filter(|&i| self.contents[i as usize].live())
    }

    /// A current or trashed (not purged) content item by id.
    pub(crate) fn content_by_id_any(&self, id: u64) -> Option<u32> {
        self.by_id
            .get(&id)
            .copied()
            .filter(|&i| self.contents[i as usize].status != Status::Purged)
    }

    /// The time zone CQL dates are read in for a caller: the user's own, else the site's.
    pub(crate) fn zone_of(&self, caller: Caller) -> Tz {
        caller
            .and_then(|u| self.users.get(u as usize))
            .and_then(|u| u.time_zone)
            .unwrap_or(self.default_tz)
    }

    /// A content item.
    pub(crate) fn c(&self, idx: u32) -> &Content {
        &self.contents[idx as usize]
    }

    /// A space by key (case-insensitive, as Confluence resolves keys).
    pub(crate) fn space_by_key(&self, key: &str) -> Option<u32> {
        self.spaces
            .iter()
            .position(|s| s.key.eq_ignore_ascii_case(key))
            .map(|i| i as u32)
    }

    /// A group by name (case-insensitive).
    pub(crate) fn group_by_name(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .position(|g| g.name.eq_ignore_ascii_case(name))
            .map(|i| i as u32)
    }

    /// A group by Cloud id.
    pub(crate) fn group_by_id(&self, id: &str) -> Option<u32> {
        self.groups
            .iter()
            .position(|g| g.id == id)
            .map(|i| i as u32)
    }

    /// A user by any identifier the flavor uses (account id, user name or user key).
    pub(crate) fn user_by_ident(&self, ident: &str) -> Option<u32> {
        self.users
            .iter()
            .position(|u| match self.flavor {
                Flavor::Cloud => u.account_id == ident,
                _ => u.username.eq_ignore_ascii_case(ident) || u.user_key == ident,
            })
            .map(|i| i as u32)
    }

    /// The identifier the flavor's user listing shows (account id or user name).
    pub(crate) fn user_ident(&self, u: u32) -> &str {
        let u = &self.users[u as usize];
        match self.flavor {
            Flavor::Cloud => &u.account_id,
            _ => &u.username,
        }
    }

    /// Whether user `u` is a member of group `g`.
    pub(crate) fn in_group(&self, u: u32, g: u32) -> bool {
        self.groups
            .get(g as usize)
            .is_some_and(|g| g.members.binary_search(&u).is_ok())
    }

    /// Groups of a user, in group order.
    pub(crate) fn groups_of(&self, u: u32) -> Vec<u32> {
        (0..self.groups.len() as u32)
            .filter(|&g| self.in_group(u, g))
            .collect()
    }

    /// Whether the caller may view the space.
    pub(crate) fn can_view_space(&self, caller: Caller, s: u32) -> bool {
        let space = &self.spaces[s as usize];
        match caller {
            None => space.anonymous,
            Some(u) => {
                self.users.get(u as usize).is_some_and(|x| x.active)
                    && (space.anonymous
                        || space.admins.contains(&u)
                        || space.read_users.contains(&u)
                        || space.read_groups.iter().any(|&g| self.in_group(u, g)))
            }
        }
    }

    /// The page or blog post that carries an item's permissions: the item itself, or the
    /// container of a comment or attachment.
    pub(crate) fn permission_holder(&self, idx: u32) -> u32 {
        let c = self.c(idx);
        match c.kind {
            Kind::Page | Kind::BlogPost => idx,
            Kind::Comment | Kind::Attachment => c.parent.unwrap_or(idx),
        }
    }

    /// Ancestor pages of a page, root first (comments and attachments: none).
    pub(crate) fn ancestors(&self, idx: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let c = self.c(idx);
        if c.kind != Kind::Page {
            return out;
        }
        let mut cur = c.parent;
        while let Some(p) = cur {
            out.push(p);
            cur = self.c(p).parent;
            if out.len() > 10_000 {
                break;
            }
        }
        out.reverse();
        out
    }

    /// The items whose read restrictions apply to `idx`: its permission holder and that
    /// holder's ancestors, restricted ones only.
    pub(crate) fn restriction_layers(&self, idx: u32) -> Vec<u32> {
        let holder = self.permission_holder(idx);
        let mut layers: Vec<u32> = self.ancestors(holder);
        layers.push(holder);
        layers.retain(|&l| self.c(l).restricted());
        layers
    }

    /// Whether a restriction admits the caller.
    pub(crate) fn restriction_admits(&self, caller: Caller, layer: u32) -> bool {
        let c = self.c(layer);
        match caller {
            None => false,
            Some(u) => {
                c.restrict_users.contains(&u)
                    || c.restrict_groups.iter().any(|&g| self.in_group(u, g))
            }
        }
    }

    /// Whether the caller may read a content item (space permission and every restriction on
    /// the item's holder and its ancestors).
    pub(crate) fn can_read(&self, caller: Caller, idx: u32) -> bool {
        self.c(idx).live() && self.can_read_any_status(caller, idx)
    }

    /// As [`Site::can_read`], whatever the item's status (for `status=trashed` reads).
    pub(crate) fn can_read_any_status(&self, caller: Caller, idx: u32) -> bool {
        let c = self.c(idx);
        if c.status == Status::Purged || !self.can_view_space(caller, c.space) {
            return false;
        }
        self.restriction_layers(idx)
            .iter()
            .all(|&l| self.restriction_admits(caller, l))
    }

    /// Active users who may view a space, sorted by index.
    pub(crate) fn space_readers(&self, s: u32) -> Vec<u32> {
        (0..self.users.len() as u32)
            .filter(|&u| self.can_view_space(Some(u), s))
            .collect()
    }

    /// Active users who may read a content item, given the space's readers.
    pub(crate) fn readers_with(&self, idx: u32, space_readers: &[u32]) -> Vec<u32> {
        let layers = self.restriction_layers(idx);
        if layers.is_empty() {
            return space_readers.to_vec();
        }
        space_readers
            .iter()
            .copied()
            .filter(|&u| layers.iter().all(|&l| self.restriction_admits(Some(u), l)))
            .collect()
    }

    /// Live child pages of a page, in position order.
    pub(crate) fn child_pages(&self, idx: u32) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .c(idx)
            .children
            .iter()
            .copied()
            .filter(|&c| {
                let c = self.c(c);
                c.kind == Kind::Page && c.live()
            })
            .collect();
        v.sort_by_key(|&c| (self.c(c).position, self.c(c).id));
        v
    }

    /// Live children of a given kind.
    pub(crate) fn children_of_kind(&self, idx: u32, kind: Kind) -> Vec<u32> {
        self.c(idx)
            .children
            .iter()
            .copied()
            .filter(|&c| {
                let c = self.c(c);
                c.kind == kind && c.live()
            })
            .collect()
    }

    /// All live descendants (pages, attachments, comments) of a page, depth first.
    pub(crate) fn descendants(&self, idx: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack = vec![idx];
        while let Some(cur) = stack.pop() {
            for &ch in self.c(cur).children.iter().rev() {
                if self.c(ch).live() {
                    out.push(ch);
                    stack.push(ch);
                }
            }
        }
        out
    }

    /// The id string the API prints for a content item.
    pub(crate) fn id_str(&self, idx: u32) -> String {
        let c = self.c(idx);
        if c.kind == Kind::Attachment && self.flavor == Flavor::Cloud {
            format!("att{}", c.id)
        } else {
            c.id.to_string()
        }
    }

    /// Parses an id string as printed by [`Site::id_str`] (current content only).
    pub(crate) fn parse_id(&self, s: &str) -> Option<u32> {
        let digits = s.strip_prefix("att").unwrap_or(s);
        let id: u64 = digits.parse().ok()?;
        self.content_by_id(id)
    }

    /// As [`Site::parse_id`], trashed content included.
    pub(crate) fn parse_id_any(&self, s: &str) -> Option<u32> {
        let digits = s.strip_prefix("att").unwrap_or(s);
        let id: u64 = digits.parse().ok()?;
        self.content_by_id_any(id)
    }

    /// Hands out a new content id.
    ///
    /// Confluence draws space and content ids from one generator, so they never coincide; the
    /// generator here steps over the ids that spaces already hold.
    pub(crate) fn alloc_id(&mut self) -> u64 {
        loop {
            let id = self.next_id;
            self.next_id += 1 + (crate::rng::hash(self.seed, &[id]) % 3);
            if !self.spaces.iter().any(|s| s.id == id) {
                return id;
            }
        }
    }

    /// Label names of an item.
    pub(crate) fn label_names(&self, idx: u32) -> Vec<String> {
        self.c(idx)
            .labels
            .iter()
            .map(|&l| self.labels[l as usize].clone())
            .collect()
    }

    /// Interns a label name.
    pub(crate) fn intern_label(&mut self, name: &str) -> u16 {
        let name = name.to_lowercase();
        if let Some(i) = self.labels.iter().position(|l| *l == name) {
            return i as u16;
        }
        self.labels.push(name);
        (self.labels.len() - 1) as u16
    }

    /// Live content of a space, in id order.
    pub(crate) fn space_contents(&self, s: u32) -> impl Iterator<Item = u32> + '_ {
        self.spaces[s as usize]
            .contents
            .iter()
            .copied()
            .filter(|&i| self.c(i).live())
    }

    /// Approximate heap bytes held by the site (for the memory figures in tests).
    pub(crate) fn approx_heap_bytes(&self) -> usize {
        let content = self.contents.len() * std::mem::size_of::<Content>()
            + self
                .contents
                .iter()
                .map(|c| {
                    c.title.len()
                        + c.labels.len() * 2
                        + (c.restrict_users.len() + c.restrict_groups.len() + c.children.len()) * 4
                        + c.body.as_ref().map_or(0, |b| b.len())
                })
                .sum::<usize>();
        let index = self.by_id.capacity() * 24;
        let spaces: usize = self.spaces.iter().map(|s| s.contents.len() * 4 + 200).sum();
        let users = self.users.len() * 300;
        let groups: usize = self.groups.iter().map(|g| g.members.len() * 4 + 80).sum();
        content + index + spaces + users + groups
    }
}

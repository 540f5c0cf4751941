//! [`AclResolver`]: a document's [`Access`] and how it was derived, with the sync-wide caches.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use ts_rs::TS;

use super::dialect::{DENY_MARKER, Dialect};
use super::fetch;
use super::intersect::{Grant, Intersection, groups_to_expand, intersect};
use super::prereq::PermissionSource;
use crate::confluence::{
    ConfluenceClient, Content, ContentRestriction, Group, Space, SpacePermission, SpacePermissions,
    User,
};

/// Who may read a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Access {
    /// Everybody: the space grants anonymous access and nothing restricts the item. The document
    /// has no `_allow_access_control`, which the reference's template reads as public.
    Public,
    /// These identities (never empty).
    Identities {
        /// Prefixed identities, sorted.
        identities: Vec<String>,
    },
    /// Nobody: the document carries [`DENY_MARKER`] only.
    Denied {
        /// Why: what could not be computed, or that nobody is left.
        reason: String,
    },
}

impl Access {
    /// The value of `_allow_access_control`: `None` for public documents, never an empty list.
    pub fn field(&self) -> Option<Vec<String>> {
        match self {
            Access::Public => None,
            Access::Identities { identities } if !identities.is_empty() => Some(identities.clone()),
            Access::Identities { .. } | Access::Denied { .. } => Some(vec![DENY_MARKER.to_owned()]),
        }
    }

    /// Whether a holder of `identities` may read under this access.
    pub fn admits(&self, identities: &[String]) -> bool {
        match self {
            Access::Public => true,
            Access::Identities { identities: acl } => identities.iter().any(|i| acl.contains(i)),
            Access::Denied { .. } => false,
        }
    }

    fn denied(reason: impl Into<String>) -> Access {
        Access::Denied {
            reason: reason.into(),
        }
    }
}

/// The space permission behind a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SpaceGrantInfo {
    /// Where it was read.
    pub source: Option<PermissionSource>,
    /// Anonymous users may view the space.
    pub anonymous: bool,
    /// Users granted view.
    pub users: Vec<String>,
    /// Groups granted view.
    pub groups: Vec<String>,
}

/// One read restriction that applies to a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LayerInfo {
    /// The page or blog post that carries it.
    pub content_id: String,
    /// Whether it is the item's own restriction (else an ancestor's).
    pub own: bool,
    /// Users it names.
    pub users: Vec<String>,
    /// Groups it names.
    pub groups: Vec<String>,
}

/// How a document's access was derived, for the inspector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Derivation {
    /// The space key.
    pub space_key: Option<String>,
    /// The space's view permission, when it could be read.
    pub space: Option<SpaceGrantInfo>,
    /// The read restrictions of the item and its ancestors, root first (restricted ones only).
    pub layers: Vec<LayerInfo>,
    /// Groups whose members were listed to intersect the layers.
    pub expanded_groups: Vec<String>,
    /// Attachments and comments: the page or blog post whose access they take.
    pub inherited_from: Option<String>,
    /// Where and why access failed closed, if it did.
    pub failure: Option<String>,
    /// Names for people of the identities above and of the resulting access (group names,
    /// users' display names), where Confluence gave them: identity to name.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

type Cell<T> = Arc<OnceCell<Result<T, String>>>;
type Cache<T> = Mutex<HashMap<String, Cell<T>>>;
/// A group's members, as identities.
type Members = Arc<HashSet<String>>;

/// Runs `fetch` once per key for the whole sync, concurrent callers waiting for the first;
/// failures are cached too, so one sync answers consistently (and fails closed consistently).
async fn cached<T, F, Fut>(cache: &Cache<T>, key: &str, fetch: F) -> Result<T, String>
where
    T: Clone,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let cell = {
        let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key.to_owned()).or_default().clone()
    };
    cell.get_or_init(fetch).await.clone()
}

/// Read restrictions by content id, each read once per sync as [`cached`] does. The resolver
/// holds one for every page and blog post of a sync (their descendants' access needs them), so
/// a restriction once read is kept as its grant alone, the many empty ones (nothing
/// restricted) as one shared grant; a failure stays cached with its error.
#[derive(Default)]
struct RestrictionCache {
    state: Mutex<RestrictionState>,
    nothing: Arc<Grant>,
}

#[derive(Default)]
struct RestrictionState {
    known: HashMap<Box<str>, Arc<Grant>>,
    reading: HashMap<String, Cell<Arc<Grant>>>,
}

impl RestrictionCache {
    async fn get<F, Fut>(&self, id: &str, fetch: F) -> Result<Arc<Grant>, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<Grant>, String>>,
    {
        let cell = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(grant) = state.known.get(id) {
                return Ok(grant.clone());
            }
            state.reading.entry(id.to_owned()).or_default().clone()
        };
        let result = cell.get_or_init(fetch).await.clone();
        if let Ok(grant) = &result {
            let grant = if grant.is_empty() {
                self.nothing.clone()
            } else {
                grant.clone()
            };
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.reading.remove(id);
            state.known.insert(id.into(), grant);
        }
        result
    }
}

struct SpaceGrant {
    grant: Grant,
    info: SpaceGrantInfo,
}

/// How a group's members are listed (see [`AclResolver::list_by`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListBy {
    /// Cloud: `group/{id}/membersByGroupId`.
    Id(String),
    /// By name.
    Name(String),
}

/// Computes documents' access during one sync, caching space permissions, restrictions, group
/// members and Data Center user keys.
pub struct AclResolver {
    client: ConfluenceClient,
    dialect: Dialect,
    source: PermissionSource,
    spaces: Cache<Arc<SpaceGrant>>,
    restrictions: RestrictionCache,
    members: Cache<Arc<HashSet<String>>>,
    /// Member listings started before any grant named their group ([`Self::prefetch_members`]):
    /// group identity to how they were listed, and the listing.
    prefetched: Mutex<HashMap<String, (ListBy, Cell<Members>)>>,
    usernames: Cache<Option<String>>,
    group_names: Mutex<HashMap<String, String>>,
    /// Cloud groups whose names were looked up by id ([`Self::name_groups`]).
    group_lookups: Cache<()>,
    /// Users' display names by identity, as Confluence gave them (for the inspector).
    user_names: Mutex<HashMap<String, String>>,
    recorder: Arc<AclRecorder>,
}

impl AclResolver {
    /// A resolver reading permissions from `source` (see [`super::prereq::detect`]) and
    /// recording every answer in `recorder`.
    pub fn new(
        client: ConfluenceClient,
        source: PermissionSource,
        recorder: Arc<AclRecorder>,
    ) -> AclResolver {
        AclResolver {
            dialect: Dialect::of(client.flavor()),
            client,
            source,
            spaces: Mutex::default(),
            restrictions: RestrictionCache::default(),
            members: Mutex::default(),
            prefetched: Mutex::default(),
            usernames: Mutex::default(),
            group_names: Mutex::default(),
            group_lookups: Mutex::default(),
            user_names: Mutex::default(),
            recorder,
        }
    }

    /// The identity dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Where everything this resolver answers is recorded.
    pub fn recorder(&self) -> &AclRecorder {
        &self.recorder
    }

    fn note_group(&self, group: &Group) -> Option<String> {
        let identity = self.dialect.group(group)?;
        if let Some(name) = &group.name {
            self.group_names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(identity.clone(), name.clone());
        }
        Some(identity)
    }

    async fn user_identity(&self, user: &User) -> Result<Option<String>, String> {
        let identity = self.identity_of_user(user).await?;
        if let (Some(identity), Some(name)) = (
            &identity,
            user.display_name.as_ref().or(user.public_name.as_ref()),
        ) {
            self.user_names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(identity.clone(), name.clone());
        }
        Ok(identity)
    }

    /// Names for people of the identities `derivation` names and of `access`.
    fn name_identities(&self, derivation: &mut Derivation, access: &Access) {
        let groups = self.group_names.lock().unwrap_or_else(|e| e.into_inner());
        let users = self.user_names.lock().unwrap_or_else(|e| e.into_inner());
        let mut named: Vec<&String> = Vec::new();
        if let Some(space) = &derivation.space {
            named.extend(space.users.iter().chain(&space.groups));
        }
        for layer in &derivation.layers {
            named.extend(layer.users.iter().chain(&layer.groups));
        }
        named.extend(&derivation.expanded_groups);
        if let Access::Identities { identities } = access {
            named.extend(identities);
        }
        let names: BTreeMap<String, String> = named
            .into_iter()
            .filter_map(|i| {
                let name = groups.get(i).or_else(|| users.get(i))?;
                // A Server/DC identity often is the name already (`group:sre`).
                let bare = i.split_once(':').map_or(i.as_str(), |(_, v)| v);
                (!bare.eq_ignore_ascii_case(name)).then(|| (i.clone(), name.clone()))
            })
            .collect();
        derivation.names = names;
    }

    async fn identity_of_user(&self, user: &User) -> Result<Option<String>, String> {
        if let Some(identity) = self.dialect.user(user) {
            return Ok(Some(identity));
        }
        if self.dialect == Dialect::ServerDc
            && !matches!(user.kind.as_deref(), Some("anonymous"))
            && let Some(key) = &user.user_key
        {
            return Ok(self
                .username_of_key(key)
                .await?
                .map(|name| self.dialect.username(&name)));
        }
        Ok(None)
    }

    async fn username_of_key(&self, key: &str) -> Result<Option<String>, String> {
        cached(&self.usernames, key, || async {
            fetch::username_of_key(&self.client, key)
                .await
                .map_err(|e| format!("the user with key `{key}` could not be looked up: {e}"))
        })
        .await
    }

    async fn grant_of(&self, users: &[User], groups: &[Group]) -> Result<Grant, String> {
        let mut grant = Grant::default();
        for user in users {
            if let Some(identity) = self.user_identity(user).await? {
                grant.users.insert(identity);
            }
        }
        for group in groups {
            if let Some(identity) = self.note_group(group) {
                grant.groups.insert(identity);
            }
        }
        Ok(grant)
    }

    /// The view permission of a space, read once per sync. `space` is the space as listed:
    /// on Cloud its permissions are used when complete (REST v1's listing carries them), and
    /// its id reads them through REST v2 otherwise.
    async fn space_grant(
        &self,
        key: &str,
        space: Option<&Space>,
    ) -> Result<Arc<SpaceGrant>, String> {
        cached(&self.spaces, key, || async {
            let grant = match self.source {
                PermissionSource::CloudExpansion => self.cloud_space(key, space).await?,
                PermissionSource::DataCenterNative => self.dc_space(key).await?,
                PermissionSource::Extender => self.extender_space(key).await?,
            };
            let info = SpaceGrantInfo {
                source: Some(self.source),
                anonymous: grant.everyone,
                users: grant.users.iter().cloned().collect(),
                groups: grant.groups.iter().cloned().collect(),
            };
            Ok(Arc::new(SpaceGrant { grant, info }))
        })
        .await
        .map_err(|e| format!("space `{key}`: {e}"))
    }

    async fn cloud_space(&self, key: &str, space: Option<&Space>) -> Result<Grant, String> {
        if let Some(perms) = space
            .map(|s| s.permissions.as_slice())
            .filter(|p| !p.is_empty())
            && let Some(grant) = self.cloud_grant(perms).await?
        {
            return Ok(grant);
        }
        let id = space.and_then(|s| s.id.as_deref());
        let fetched = match self.client.space_permissions(key, id).await {
            Ok(SpacePermissions::Cloud(perms)) => perms,
            Ok(SpacePermissions::DataCenter(_)) => Vec::new(),
            Err(e) => return Err(format!("its permissions could not be read: {e}")),
        };
        if fetched.is_empty() {
            return Err(
                "Confluence returned no permissions for it (the crawler's account may lack the \
                 right to see them)"
                    .to_owned(),
            );
        }
        let grant = self.cloud_grant(&fetched).await?.ok_or_else(|| {
            "a view permission names no subjects (Confluence did not expand them)".to_owned()
        })?;
        let unnamed: Vec<&str> = fetched
            .iter()
            .filter_map(|p| p.subjects.as_ref()?.group.as_ref())
            .flat_map(|groups| &groups.results)
            .filter(|g| g.name.is_none())
            .filter_map(|g| g.id.as_deref())
            .collect();
        self.name_groups(&unnamed).await;
        Ok(grant)
    }

    /// Looks up the names of Cloud groups known by id only (REST v2's grants name no group),
    /// for people to read in the inspector: each group once per sync, whatever else named it
    /// meanwhile (so that a sync makes the same requests whatever order its answers come in);
    /// a name that cannot be read is left out. Users granted a space directly keep their
    /// account id where nothing else names them.
    async fn name_groups(&self, ids: &[&str]) {
        futures_util::future::join_all(ids.iter().map(|&id| {
            cached(&self.group_lookups, id, move || async move {
                match self.client.group_by_id(id).await {
                    Ok(group) => {
                        self.note_group(&group);
                    }
                    Err(err) => tracing::debug!(group = id, %err, "group name unknown"),
                }
                Ok::<_, String>(())
            })
        }))
        .await;
    }

    /// `None` when a view permission's subjects are missing (unknown is not nobody).
    async fn cloud_grant(&self, perms: &[SpacePermission]) -> Result<Option<Grant>, String> {
        let mut grant = Grant::default();
        for p in perms {
            let op = p.operation.as_ref();
            let is_view = op.is_some_and(|o| {
                o.operation.as_deref() == Some("read") && o.target_type.as_deref() == Some("space")
            });
            if !is_view {
                continue;
            }
            if p.anonymous_access == Some(true) {
                grant.everyone = true;
                continue;
            }
            let Some(subjects) = &p.subjects else {
                return Ok(None);
            };
            let users = subjects
                .user
                .as_ref()
                .map(|l| l.results.as_slice())
                .unwrap_or(&[]);
            let groups = subjects
                .group
                .as_ref()
                .map(|l| l.results.as_slice())
                .unwrap_or(&[]);
            let part = self.grant_of(users, groups).await?;
            grant.users.extend(part.users);
            grant.groups.extend(part.groups);
        }
        Ok(Some(grant))
    }

    async fn dc_space(&self, key: &str) -> Result<Grant, String> {
        let rows = match self.client.space_permissions(key, None).await {
            Ok(SpacePermissions::DataCenter(rows)) => rows,
            Ok(SpacePermissions::Cloud(_)) => Vec::new(),
            Err(e) => return Err(format!("its permissions could not be read: {e}")),
        };
        let mut grant = Grant::default();
        for row in rows {
            let op = row.operation.as_ref();
            let is_view = op.is_some_and(|o| {
                o.operation_key.as_deref() == Some("read")
                    && o.target_type.as_deref() == Some("space")
            });
            let Some(subject) = row.subject.filter(|_| is_view) else {
                continue;
            };
            match subject.kind.as_deref() {
                Some("group") => {
                    if let Some(name) = &subject.name {
                        grant.groups.insert(self.dialect.group_name(name));
                        self.group_names
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(self.dialect.group_name(name), name.clone());
                    }
                }
                Some("user") => {
                    let name = match (&subject.name, &subject.user_key) {
                        (Some(name), _) => Some(name.clone()),
                        (None, Some(key)) => self.username_of_key(key).await?,
                        (None, None) => None,
                    };
                    if let Some(name) = name {
                        grant.users.insert(self.dialect.username(&name));
                    }
                }
                Some("anonymous") => grant.everyone = true,
                _ => {}
            }
        }
        match fetch::dc_anonymous_read(&self.client, key).await {
            Ok(true) => grant.everyone = true,
            Ok(false) => {}
            // Not knowing about anonymous access only ever narrows who may read.
            Err(e) => tracing::debug!(space = key, error = %e, "anonymous permission unknown"),
        }
        Ok(grant)
    }

    async fn extender_space(&self, key: &str) -> Result<Grant, String> {
        let perms = self
            .client
            .extender_space_permissions(key)
            .await
            .map_err(|e| format!("the Extender app's VIEWSPACE actors could not be read: {e}"))?;
        let Some(view) = perms.permissions.get("VIEWSPACE") else {
            return Err("the Extender app returned no VIEWSPACE permission".to_owned());
        };
        let mut grant = Grant {
            everyone: view.anonymous_access == Some(true),
            ..Grant::default()
        };
        grant
            .users
            .extend(view.users.iter().map(|u| self.dialect.username(u)));
        for name in &view.groups {
            let identity = self.dialect.group_name(name);
            self.group_names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(identity.clone(), name.clone());
            grant.groups.insert(identity);
        }
        Ok(grant)
    }

    /// The read restriction of a content item, fetched once per sync (404: the item is gone).
    async fn restriction(&self, content_id: &str) -> Result<Arc<Grant>, String> {
        self.restrictions
            .get(content_id, || async {
                match fetch::read_restriction_all(&self.client, content_id).await {
                    Ok(Some((users, groups))) => {
                        Ok(Arc::new(self.grant_of(&users, &groups).await?))
                    }
                    Ok(None) => Err(format!(
                        "ancestor `{content_id}` was not found (moved or deleted during the sync)"
                    )),
                    Err(e) => Err(format!(
                        "the read restriction of `{content_id}` could not be read: {e}"
                    )),
                }
            })
            .await
    }

    /// The item's own restriction from the content expansion, when it is there and complete;
    /// it is also cached for the item's descendants.
    async fn own_restriction(&self, content: &Content, id: &str) -> Result<Arc<Grant>, String> {
        let expanded: Option<&ContentRestriction> =
            content.restrictions.as_ref().and_then(|r| r.read.as_ref());
        let complete = expanded.is_some_and(|r| {
            let full = |n: usize, next: bool| n < 100 && !next;
            r.restrictions
                .user
                .as_ref()
                .is_some_and(|l| full(l.results.len(), l.links.next.is_some()))
                && r.restrictions
                    .group
                    .as_ref()
                    .is_some_and(|l| full(l.results.len(), l.links.next.is_some()))
        });
        match expanded.filter(|_| complete) {
            Some(r) => {
                self.restrictions
                    .get(id, || async {
                        Ok(Arc::new(self.grant_of(r.users(), r.groups()).await?))
                    })
                    .await
            }
            None => self.restriction(id).await,
        }
    }

    /// Reads an item's own read restriction from its listing's expansion into this sync's
    /// cache, so that the access of its descendants needs no request for it.
    pub async fn prime(&self, content: &Content) {
        if let Some(id) = content.id.as_deref() {
            let _ = self.own_restriction(content, id).await;
        }
    }

    /// How the members of the group with this identity are listed: by id on Cloud (REST v2
    /// names groups by id only, and an id survives a rename), by name on Server/DC.
    fn list_by(&self, identity: &str) -> Result<ListBy, String> {
        if self.dialect == Dialect::Cloud
            && let Some(id) = identity.strip_prefix("group_id:")
        {
            return Ok(ListBy::Id(id.to_owned()));
        }
        let known = self
            .group_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(identity)
            .cloned();
        known
            .map(ListBy::Name)
            .ok_or_else(|| format!("the name of group `{identity}` is unknown"))
    }

    async fn members_of(&self, group: &str) -> Result<Arc<HashSet<String>>, String> {
        cached(&self.members, group, || async {
            let by = self.list_by(group)?;
            // A listing started early is used only if it was made the way the group would be
            // listed now (by the name Confluence gives it now: a renamed group's old name may
            // belong to another group).
            let early = self
                .prefetched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(group)
                .filter(|(made, _)| *made == by)
                .map(|(_, cell)| cell.clone());
            if let Some(cell) = early
                && let Ok(members) = cell.get_or_init(|| self.list_members(&by)).await
            {
                return Ok(members.clone());
            }
            self.list_members(&by).await
        })
        .await
    }

    /// The identities of the members of a group.
    async fn list_members(&self, by: &ListBy) -> Result<Arc<HashSet<String>>, String> {
        let (pager, group) = match by {
            ListBy::Id(id) => (self.client.group_members_by_id(id), id),
            ListBy::Name(name) => (self.client.group_members(name), name),
        };
        let users = match pager {
            Ok(pager) => pager.collect_all().await,
            Err(e) => Err(e),
        }
        .map_err(|e| format!("the members of group `{group}` could not be listed: {e}"))?;
        let mut out = HashSet::new();
        for user in &users {
            if let Some(identity) = self.user_identity(user).await? {
                out.insert(identity);
            }
        }
        Ok(Arc::new(out))
    }

    /// Lists the members of `groups` (identity and name, as [`Self::listed_groups`] gave them
    /// after an earlier sync) before any grant names them, so that the access of restricted
    /// content does not wait for them. A listing is used only for a group that is listed the
    /// same way when a grant names it (on Server/DC: that still has that name); one that fails
    /// is simply made again when needed.
    pub async fn prefetch_members(&self, groups: &[(String, String)]) {
        let cells: Vec<(ListBy, Cell<Members>)> = {
            let mut prefetched = self.prefetched.lock().unwrap_or_else(|e| e.into_inner());
            groups
                .iter()
                .filter_map(|(identity, name)| {
                    let by = match self.dialect {
                        Dialect::Cloud => self.list_by(identity).ok()?,
                        Dialect::ServerDc => ListBy::Name(name.clone()),
                    };
                    let (_, cell) = prefetched
                        .entry(identity.clone())
                        .or_insert_with(|| (by.clone(), Cell::default()));
                    Some((by, cell.clone()))
                })
                .collect()
        };
        futures_util::future::join_all(
            cells
                .iter()
                .map(|(by, cell)| cell.get_or_init(|| self.list_members(by))),
        )
        .await;
    }

    /// The groups whose members this sync listed, as (identity, name), for the next
    /// incremental sync to list at its start.
    pub fn listed_groups(&self) -> Vec<(String, String)> {
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        let names = self.group_names.lock().unwrap_or_else(|e| e.into_inner());
        let mut groups: Vec<(String, String)> = members
            .iter()
            .filter(|(_, cell)| cell.get().is_some_and(|r| r.is_ok()))
            .filter_map(|(identity, _)| {
                // Cloud lists members by id: the name is only for people to read.
                let name = match (names.get(identity), self.dialect) {
                    (Some(name), _) => name.clone(),
                    (None, Dialect::Cloud) => String::new(),
                    (None, Dialect::ServerDc) => return None,
                };
                Some((identity.clone(), name))
            })
            .collect();
        groups.sort();
        groups
    }

    /// Reads the view permissions of `spaces` all at once (each once per sync, as
    /// [`Self::space_access`] and [`Self::content_access`] then find them), where they would
    /// otherwise be read one space after another: REST v2 gives them per space.
    pub async fn prefetch_spaces(&self, spaces: &[Space]) {
        futures_util::future::join_all(spaces.iter().filter_map(|space| {
            let key = space.key.as_deref()?;
            Some(self.space_grant(key, Some(space)))
        }))
        .await;
    }

    /// The access of a space document.
    pub async fn space_access(&self, key: &str, space: Option<&Space>) -> (Access, Derivation) {
        let mut derivation = Derivation {
            space_key: Some(key.to_owned()),
            ..Derivation::default()
        };
        let space = match self.space_grant(key, space).await {
            Ok(space) => space,
            Err(reason) => return fail(derivation, reason),
        };
        derivation.space = Some(space.info.clone());
        self.conclude(&[&space.grant], derivation).await
    }

    /// The access of a page or blog post: its space's view permission intersected with its own
    /// read restriction and those of every ancestor.
    pub async fn content_access(&self, content: &Content) -> (Access, Derivation) {
        let key = content.space.as_ref().and_then(|s| s.key.clone());
        let mut derivation = Derivation {
            space_key: key.clone(),
            ..Derivation::default()
        };
        let Some(key) = key else {
            return fail(derivation, "the item names no space".to_owned());
        };
        let space = match self.space_grant(&key, content.space.as_deref()).await {
            Ok(space) => space,
            Err(reason) => return fail(derivation, reason),
        };
        derivation.space = Some(space.info.clone());
        let Some(id) = content.id.clone() else {
            return fail(derivation, "the item has no id".to_owned());
        };
        let mut layers: Vec<(String, bool, Arc<Grant>)> = Vec::new();
        for ancestor in content.ancestors.iter().filter_map(|a| a.id.as_deref()) {
            match self.restriction(ancestor).await {
                Ok(grant) => layers.push((ancestor.to_owned(), false, grant)),
                Err(reason) => return fail(derivation, reason),
            }
        }
        match self.own_restriction(content, &id).await {
            Ok(grant) => layers.push((id, true, grant)),
            Err(reason) => return fail(derivation, reason),
        }
        layers.retain(|(_, _, g)| !g.is_empty());
        derivation.layers = layers
            .iter()
            .map(|(id, own, g)| LayerInfo {
                content_id: id.clone(),
                own: *own,
                users: g.users.iter().cloned().collect(),
                groups: g.groups.iter().cloned().collect(),
            })
            .collect();
        let mut grants: Vec<&Grant> = vec![&space.grant];
        grants.extend(layers.iter().map(|(_, _, g)| g.as_ref()));
        self.conclude(&grants, derivation).await
    }

    /// The access of any content item by id (the advanced-rules path, where search results
    /// carry neither ancestors nor restrictions): attachments and comments take their
    /// container's access.
    pub async fn access_by_id(&self, content_id: &str) -> (Access, Derivation) {
        let mut id = content_id.to_owned();
        let mut inherited_from = None;
        for _ in 0..3 {
            let url = match self.client.api_url(
                "rest/api/content",
                &[&id],
                &[(
                    "expand",
                    "ancestors,space,container,restrictions.read.restrictions.user,\
                     restrictions.read.restrictions.group",
                )],
            ) {
                Ok(url) => url,
                Err(e) => return fail(Derivation::default(), e.to_string()),
            };
            let content: Content = match self.client.get_value(&url).await.and_then(|v| {
                serde_json::from_value(v).map_err(|e| crate::confluence::ClientError::Decode {
                    url: url.to_string(),
                    message: e.to_string(),
                })
            }) {
                Ok(c) => c,
                Err(e) => {
                    return fail(
                        Derivation::default(),
                        format!("content `{id}` could not be read: {e}"),
                    );
                }
            };
            match content.kind.as_deref() {
                Some("attachment" | "comment") => match content.container.and_then(|c| c.id) {
                    Some(container) => {
                        inherited_from = Some(container.clone());
                        id = container;
                    }
                    None => {
                        return fail(Derivation::default(), format!("`{id}` names no container"));
                    }
                },
                _ => {
                    let (access, mut derivation) = self.content_access(&content).await;
                    derivation.inherited_from = inherited_from;
                    return (access, derivation);
                }
            }
        }
        fail(
            Derivation::default(),
            format!("`{content_id}` is nested too deeply"),
        )
    }

    async fn conclude(
        &self,
        grants: &[&Grant],
        mut derivation: Derivation,
    ) -> (Access, Derivation) {
        let expand = groups_to_expand(grants);
        let mut members = HashMap::new();
        for group in &expand {
            match self.members_of(group).await {
                Ok(set) => {
                    members.insert(group.clone(), (*set).clone());
                }
                Err(reason) => return fail(derivation, reason),
            }
        }
        derivation.expanded_groups = expand.into_iter().collect();
        let (access, mut derivation) = match intersect(grants, &members) {
            Intersection::Everyone => (Access::Public, derivation),
            Intersection::Identities(ids) if ids.is_empty() => fail(
                derivation,
                "nobody is left: the space permission and the read restrictions have no user in \
                 common"
                    .to_owned(),
            ),
            Intersection::Identities(ids) => (
                Access::Identities {
                    identities: ids
                        .into_iter()
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                },
                derivation,
            ),
        };
        self.name_identities(&mut derivation, &access);
        (access, derivation)
    }
}

fn fail(mut derivation: Derivation, reason: String) -> (Access, Derivation) {
    derivation.failure = Some(reason.clone());
    (Access::denied(reason), derivation)
}

/// Every document's access in one sync, deduplicated: the snapshot the inspector and the
/// "who gained or lost access" diff read.
#[derive(Default)]
pub struct AclRecorder {
    inner: Mutex<Recorded>,
}

#[derive(Default)]
struct Recorded {
    index: HashMap<String, u32>,
    blobs: Vec<String>,
    rows: Vec<(String, u32, u32)>,
    /// Rows taken already (saved to the store while the sync runs).
    taken: usize,
    denied: u64,
    failed: u64,
    reasons: Vec<(String, String)>,
}

impl Recorded {
    fn intern(&mut self, body: String) -> u32 {
        if let Some(&i) = self.index.get(&body) {
            return i;
        }
        let i = self.blobs.len() as u32;
        self.blobs.push(body.clone());
        self.index.insert(body, i);
        i
    }
}

/// A recorder's content, ready for the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordedSnapshot {
    /// Distinct JSON bodies (accesses and derivations).
    pub blobs: Vec<String>,
    /// `(document id, access blob, derivation blob)`.
    pub rows: Vec<(String, u32, u32)>,
}

impl AclRecorder {
    /// Records a document's access. Returns the failure reason when it is the first time that
    /// reason is seen in this sync (so the job gets it once).
    pub fn record(&self, doc_id: &str, access: &Access, derivation: &Derivation) -> Option<String> {
        let access_json = serde_json::to_string(access).unwrap_or_default();
        let derivation_json = serde_json::to_string(derivation).unwrap_or_default();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let a = inner.intern(access_json);
        let d = inner.intern(derivation_json);
        inner.rows.push((doc_id.to_owned(), a, d));
        if derivation.failure.is_some() {
            inner.failed += 1;
        }
        if let Access::Denied { reason } = access {
            inner.denied += 1;
            if !inner.reasons.iter().any(|(_, r)| r == reason) {
                inner.reasons.push((doc_id.to_owned(), reason.clone()));
                return Some(reason.clone());
            }
        }
        None
    }

    /// Documents written with the deny marker so far.
    pub fn denied(&self) -> u64 {
        self.inner.lock().map(|i| i.denied).unwrap_or_default()
    }

    /// Documents whose access could not be computed (they failed closed) so far.
    pub fn failed(&self) -> u64 {
        self.inner.lock().map(|i| i.failed).unwrap_or_default()
    }

    /// Documents recorded so far, taken or not.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .map(|i| i.taken + i.rows.len())
            .unwrap_or_default()
    }

    /// Documents recorded and not taken yet.
    pub fn pending(&self) -> usize {
        self.inner.lock().map(|i| i.rows.len()).unwrap_or_default()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes what was recorded since the last take (the counts stay): a sync saves it to the
    /// store as it goes, so that memory does not grow with the number of documents.
    pub fn take(&self) -> RecordedSnapshot {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.index = HashMap::new();
        let rows = std::mem::take(&mut inner.rows);
        inner.taken += rows.len();
        RecordedSnapshot {
            blobs: std::mem::take(&mut inner.blobs),
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_never_an_empty_list() {
        assert_eq!(Access::Public.field(), None);
        let empty = Access::Identities { identities: vec![] };
        assert_eq!(empty.field(), Some(vec![DENY_MARKER.to_owned()]));
        let denied = Access::denied("x");
        assert_eq!(denied.field(), Some(vec![DENY_MARKER.to_owned()]));
        let some = Access::Identities {
            identities: vec!["user:a".into()],
        };
        assert_eq!(some.field(), Some(vec!["user:a".to_owned()]));
        assert!(some.admits(&["user:a".into()]) && !some.admits(&["user:b".into()]));
    }

    #[test]
    fn the_recorder_deduplicates_bodies_and_reports_each_reason_once() {
        let r = AclRecorder::default();
        let d = Derivation::default();
        assert_eq!(
            r.record("1", &Access::denied("boom"), &d).as_deref(),
            Some("boom")
        );
        assert_eq!(r.record("2", &Access::denied("boom"), &d), None);
        r.record("3", &Access::Public, &d);
        assert_eq!(r.denied(), 2);
        let snap = r.take();
        assert_eq!(snap.rows.len(), 3);
        assert_eq!(snap.blobs.len(), 3, "denied, derivation, public");
        // Taken rows leave memory; the counts of the whole sync stay.
        assert_eq!((r.pending(), r.len(), r.denied()), (0, 3, 2));
        r.record("4", &Access::Public, &d);
        let next = r.take();
        assert_eq!(next.rows.len(), 1);
        assert_eq!(
            next.blobs.len(),
            2,
            "each take carries the bodies its rows name"
        );
        assert_eq!(r.len(), 4);
    }
}

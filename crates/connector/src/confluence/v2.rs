//! Confluence Cloud REST v2 (`/wiki/api/v2`): what the crawl takes from it. v2 has no
//! expansions and no CQL, and names people by account id and groups by id only. It lists the
//! spaces and each space's permission assignments, a space's pages and blog posts (with their parent, title and version, and their storage body when asked), the
//! labels used in a space and the content that carries each, and, site-wide, every attachment
//! and every footer and inline comment, all in the largest pages of any listing (250 rows);
//! `users-bulk` turns account ids into names. Pages follow `_links.next` (the same link as the
//! `Link` header), site-relative and starting with `/wiki`.

use std::collections::HashMap;

use serde::Deserialize;

use super::model::{
    Body, Extensions, Group, History, Links, Listing, PermissionOperation, PermissionSubjects,
    SpaceDescription, SpacePermission, Storage, User, id_string,
};
use super::paging::{Mode, Rows};
use super::{ClientError, ConfluenceClient, Flavor, Pager, Space, Version};
use crate::confluence::{Content, ContentRef};

/// v2 listings' largest page.
const V2_LIMIT: usize = 250;

/// A page or blog post as v2 lists it (its body only when asked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V2Content {
    /// Content id.
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// `current`, `archived`, `trashed`, ...
    pub status: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// The space's id.
    #[serde(deserialize_with = "id_string")]
    pub space_id: Option<String>,
    /// The parent page (pages only; `None` at the top of a space).
    #[serde(deserialize_with = "id_string")]
    pub parent_id: Option<String>,
    /// `page`, or `folder` etc. for parents v2 page listings leave out.
    pub parent_type: Option<String>,
    /// The current version.
    pub version: Option<V2Version>,
    /// Who created it (account id).
    pub author_id: Option<String>,
    /// When it was created.
    pub created_at: Option<String>,
    /// The body, in the format asked for (`storage`).
    pub body: Option<V2Body>,
    /// `webui`, relative to the site's `/wiki`.
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A v2 body: one representation per format asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct V2Body {
    /// Storage format (XHTML).
    pub storage: Option<Storage>,
}

/// An attachment as v2 lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V2Attachment {
    /// `att123`.
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// `current`, `archived`, `trashed`.
    pub status: Option<String>,
    /// The file name.
    pub title: Option<String>,
    /// When its first version was made.
    pub created_at: Option<String>,
    /// The page it belongs to.
    #[serde(deserialize_with = "id_string")]
    pub page_id: Option<String>,
    /// The blog post it belongs to.
    #[serde(deserialize_with = "id_string")]
    pub blog_post_id: Option<String>,
    /// The media type.
    pub media_type: Option<String>,
    /// Size in bytes.
    pub file_size: Option<u64>,
    /// The file, relative to `/wiki`.
    pub download_link: Option<String>,
    /// The attachment's page, relative to `/wiki`.
    pub webui_link: Option<String>,
    /// The current version.
    pub version: Option<V2Version>,
    /// `webui` and `download`, as the two links above.
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A footer or inline comment as v2 lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V2Comment {
    /// Comment id.
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// `current`, ...
    pub status: Option<String>,
    /// Title (`Re: <page title>`).
    pub title: Option<String>,
    /// The page it is on.
    #[serde(deserialize_with = "id_string")]
    pub page_id: Option<String>,
    /// The blog post it is on.
    #[serde(deserialize_with = "id_string")]
    pub blog_post_id: Option<String>,
    /// The comment it replies to.
    #[serde(deserialize_with = "id_string")]
    pub parent_comment_id: Option<String>,
    /// The current version (its author and time: v2 gives a comment no creator of its own).
    pub version: Option<V2Version>,
    /// The body, in the format asked for.
    pub body: Option<V2Body>,
    /// `webui`.
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A label: `{id, name, prefix}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct V2Label {
    /// Label id.
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// `global`, `my`, `team`, `system`.
    pub prefix: Option<String>,
}

/// A space as v2 lists it (`spaces?description-format=plain`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V2Space {
    /// Space id (the same number as v1's).
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// Space key.
    pub key: Option<String>,
    /// Space name.
    pub name: Option<String>,
    /// `global`, `personal`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `current` or `archived`.
    pub status: Option<String>,
    /// Who created it (account id).
    pub author_id: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: Option<String>,
    /// `{plain: {value, representation}}` when asked.
    pub description: Option<SpaceDescription>,
    /// Links (`webui`).
    #[serde(rename = "_links")]
    pub links: Links,
}

impl V2Space {
    /// The space as v1 lists it, its creator named from `names` (its permissions are read
    /// separately: [`ConfluenceClient::v2_space_view_permissions`]).
    pub fn into_space(self, names: &Names) -> Space {
        Space {
            id: self.id,
            key: self.key,
            name: self.name,
            kind: self.kind,
            status: self.status,
            permissions: Vec::new(),
            history: Some(History {
                created_by: person(self.author_id.as_ref(), names),
                created_date: self.created_at,
                ..History::default()
            }),
            description: self.description,
            links: self.links,
        }
    }
}

/// One space permission assignment (`spaces/{id}/permissions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V2SpacePermission {
    /// Who is granted: `{type: user|group|role, id}`.
    pub principal: Option<V2Principal>,
    /// What is granted: `{key: read|..., targetType: space|page|...}`.
    pub operation: Option<V2Operation>,
}

/// The principal of a [`V2SpacePermission`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct V2Principal {
    /// `user`, `group` or `role`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Account id, group id or role id.
    pub id: Option<String>,
}

/// The operation of a [`V2SpacePermission`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V2Operation {
    /// `read`, `create`, `administer`, ...
    pub key: Option<String>,
    /// `space`, `page`, ...
    pub target_type: Option<String>,
}

/// The view grants (`read` of `space`) among v2 assignments, in v1's shape (one permission per
/// user or group, named by account id or group id), or `None` when one of them names a role
/// (or no principal): what a role stands for (anonymous users among them) the v2 API does not
/// say, and v1's expansion does (`anonymousAccess`).
pub fn view_grants(rows: &[V2SpacePermission]) -> Option<Vec<SpacePermission>> {
    let mut out = Vec::new();
    for row in rows {
        let op = row.operation.as_ref();
        let is_view = op.is_some_and(|o| {
            o.key.as_deref() == Some("read") && o.target_type.as_deref() == Some("space")
        });
        if !is_view {
            continue;
        }
        // A view grant to nobody in particular is not understood either: unknown is not nobody.
        let principal = row.principal.as_ref()?;
        let id = principal.id.clone()?;
        let mut subjects = PermissionSubjects::default();
        match principal.kind.as_deref() {
            Some("user") => {
                subjects.user = Some(Listing {
                    results: vec![User {
                        kind: Some("known".to_owned()),
                        account_id: Some(id),
                        ..User::default()
                    }],
                    ..Listing::default()
                });
            }
            Some("group") => {
                subjects.group = Some(Listing {
                    results: vec![Group {
                        kind: Some("group".to_owned()),
                        name: None,
                        id: Some(id),
                    }],
                    ..Listing::default()
                });
            }
            _ => return None,
        }
        out.push(SpacePermission {
            operation: Some(PermissionOperation {
                operation: Some("read".to_owned()),
                target_type: Some("space".to_owned()),
                ..PermissionOperation::default()
            }),
            subjects: Some(subjects),
            anonymous_access: Some(false),
            unlicensed_access: Some(false),
        });
    }
    Some(out)
}

/// The answer of `users-bulk`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct V2Users {
    results: Vec<User>,
}

/// `users-bulk` takes at most this many account ids.
pub const USERS_PER_LOOKUP: usize = 250;

/// A v2 version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V2Version {
    /// Version number.
    pub number: Option<u64>,
    /// When it was made (RFC 3339).
    pub created_at: Option<String>,
    /// Who made it (account id).
    pub author_id: Option<String>,
}

impl ConfluenceClient {
    /// Cloud: the pages (`kind` = `page`) or blog posts (`blogpost`) that are current in the
    /// spaces with v2 ids `space_ids`, 250 per page: one space through its own route, several
    /// through the site-wide route filtered by `space-id` (a comma-separated list).
    pub fn v2_space_content(
        &self,
        space_ids: &[String],
        kind: &str,
    ) -> Result<Pager<V2Content>, ClientError> {
        self.cloud_only()?;
        let collection = collection(kind);
        let limit = V2_LIMIT.to_string();
        let mut query = vec![("limit", limit.as_str()), ("status", "current")];
        let url = match space_ids {
            [one] => self.api_url("api/v2/spaces", &[one, collection], &query)?,
            many => {
                let ids = many.join(",");
                query.push(("space-id", ids.as_str()));
                self.api_url(&format!("api/v2/{collection}"), &[], &query)?
            }
        };
        Ok(Pager::new(self.clone(), url, Mode::Links, Rows::Results))
    }

    /// Cloud: the current pages (`kind` = `page`) or blog posts (`blogpost`) of the space with
    /// v2 id `space_id`, with their storage bodies, 250 per page.
    pub fn v2_space_bodies(
        &self,
        space_id: &str,
        kind: &str,
    ) -> Result<Pager<V2Content>, ClientError> {
        self.cloud_only()?;
        let collection = collection(kind);
        let limit = V2_LIMIT.to_string();
        let query = [
            ("limit", limit.as_str()),
            ("status", "current"),
            ("body-format", "storage"),
        ];
        let url = self.api_url("api/v2/spaces", &[space_id, collection], &query)?;
        Ok(Pager::new(self.clone(), url, Mode::Links, Rows::Results))
    }

    /// Cloud: every attachment of content the crawler may read, site-wide (v2 lists them per
    /// page or for the whole site, not per space), 250 per page.
    pub fn v2_attachments(&self) -> Result<Pager<V2Attachment>, ClientError> {
        self.cloud_only()?;
        let limit = V2_LIMIT.to_string();
        let url = self.api_url("api/v2/attachments", &[], &[("limit", limit.as_str())])?;
        Ok(Pager::new(self.clone(), url, Mode::Links, Rows::Results))
    }

    /// Cloud: every footer (`inline` false) or inline comment, replies included, with its
    /// storage body, site-wide, 250 per page.
    pub fn v2_comments(&self, inline: bool) -> Result<Pager<V2Comment>, ClientError> {
        self.cloud_only()?;
        let path = if inline {
            "api/v2/inline-comments"
        } else {
            "api/v2/footer-comments"
        };
        let limit = V2_LIMIT.to_string();
        let query = [("limit", limit.as_str()), ("body-format", "storage")];
        let url = self.api_url(path, &[], &query)?;
        Ok(Pager::new(self.clone(), url, Mode::Links, Rows::Results))
    }

    /// Cloud: the labels used on the content of the space with v2 id `space_id`.
    pub fn v2_space_content_labels(&self, space_id: &str) -> Result<Pager<V2Label>, ClientError> {
        self.cloud_only()?;
        let limit = V2_LIMIT.to_string();
        let url = self.api_url(
            "api/v2/spaces",
            &[space_id, "content", "labels"],
            &[("limit", limit.as_str())],
        )?;
        Ok(Pager::new(self.clone(), url, Mode::Links, Rows::Results))
    }

    /// Cloud: the labels of one page (`kind` = `page`) or blog post.
    pub fn v2_item_labels(&self, id: &str, kind: &str) -> Result<Pager<V2Label>, ClientError> {
        self.cloud_only()?;
        let collection = collection(kind);
        let limit = V2_LIMIT.to_string();
        let url = self.api_url(
            &format!("api/v2/{collection}"),
            &[id, "labels"],
            &[("limit", limit.as_str())],
        )?;
        Ok(Pager::new(self.clone(), url, Mode::Links, Rows::Results))
    }

    /// Cloud: the pages (`kind` = `page`) or blog posts carrying the label `label_id` in the
    /// space `space_id` (ids, titles, no bodies).
    pub fn v2_labelled(
        &self,
        label_id: &str,
        kind: &str,
        space_id: &str,
    ) -> Result<Pager<V2Content>, ClientError> {
        self.cloud_only()?;
        let collection = collection(kind);
        let limit = V2_LIMIT.to_string();
        let query = [("limit", limit.as_str()), ("space-id", space_id)];
        let url = self.api_url("api/v2/labels", &[label_id, collection], &query)?;
        Ok(Pager::new(self.clone(), url, Mode::Links, Rows::Results))
    }

    /// Cloud: every space the crawler may view, 250 per page, with its plain description and
    /// its creator's name (`users-bulk`; a name that cannot be read is left out).
    pub async fn v2_spaces(&self) -> Result<Vec<Space>, ClientError> {
        self.cloud_only()?;
        let limit = V2_LIMIT.to_string();
        let query = [("limit", limit.as_str()), ("description-format", "plain")];
        let url = self.api_url("api/v2/spaces", &[], &query)?;
        let rows: Vec<V2Space> = Pager::new(self.clone(), url, Mode::Links, Rows::Results)
            .collect_all()
            .await?;
        let mut authors: Vec<String> = rows.iter().filter_map(|s| s.author_id.clone()).collect();
        authors.sort();
        authors.dedup();
        let mut names = Names::new();
        for chunk in authors.chunks(USERS_PER_LOOKUP) {
            match self.v2_users(chunk).await {
                Ok(users) => names.extend(users.into_iter().filter_map(|u| {
                    let name = u.display_name.or(u.public_name)?;
                    Some((u.account_id?, name))
                })),
                Err(err) => tracing::debug!(%err, "space creators' names unknown"),
            }
        }
        Ok(rows.into_iter().map(|s| s.into_space(&names)).collect())
    }

    /// Cloud: the v2 id of the space with key `key` (`spaces?keys=`), `None` when it is not
    /// listed.
    pub async fn v2_space_id(&self, key: &str) -> Result<Option<String>, ClientError> {
        self.cloud_only()?;
        let url = self.api_url("api/v2/spaces", &[], &[("keys", key), ("limit", "1")])?;
        let mut pager: Pager<V2Space> = Pager::new(self.clone(), url, Mode::Links, Rows::Results);
        let page = pager.next_page().await?;
        Ok(page.and_then(|p| p.results.into_iter().find_map(|s| s.id)))
    }

    /// Cloud: the view grants of the space with v2 id `space_id` (`spaces/{id}/permissions`,
    /// see [`view_grants`]); `None` when they name a role.
    pub async fn v2_space_view_permissions(
        &self,
        space_id: &str,
    ) -> Result<Option<Vec<SpacePermission>>, ClientError> {
        self.cloud_only()?;
        let limit = V2_LIMIT.to_string();
        let url = self.api_url(
            "api/v2/spaces",
            &[space_id, "permissions"],
            &[("limit", limit.as_str())],
        )?;
        let rows: Vec<V2SpacePermission> =
            Pager::new(self.clone(), url, Mode::Links, Rows::Results)
                .collect_all()
                .await?;
        Ok(view_grants(&rows))
    }

    /// Cloud: the users with these account ids (at most [`USERS_PER_LOOKUP`]); unknown ids
    /// are left out.
    pub async fn v2_users(&self, account_ids: &[String]) -> Result<Vec<User>, ClientError> {
        self.cloud_only()?;
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        let url = self.api_url("api/v2/users-bulk", &[], &[])?;
        let ids = &account_ids[..account_ids.len().min(USERS_PER_LOOKUP)];
        let users: V2Users = self
            .post_typed(&url, &serde_json::json!({ "accountIds": ids }))
            .await?;
        Ok(users.results)
    }

    /// Cloud: whether the site answers REST v2 (`spaces?limit=1`); a proxy may not pass it
    /// through.
    pub async fn v2_probe(&self) -> Result<(), ClientError> {
        self.cloud_only()?;
        let url = self.api_url("api/v2/spaces", &[], &[("limit", "1")])?;
        self.get_json(&url).await.map(drop)
    }

    fn cloud_only(&self) -> Result<(), ClientError> {
        if self.flavor() == Flavor::Cloud {
            Ok(())
        } else {
            Err(ClientError::InvalidUrl(
                "REST v2 exists on Confluence Cloud only".to_owned(),
            ))
        }
    }
}

/// The v2 collection of a content type: `blogposts` for `blogpost`, else `pages`.
fn collection(kind: &str) -> &'static str {
    if kind == "blogpost" {
        "blogposts"
    } else {
        "pages"
    }
}

/// Display names by account id, as `users-bulk` gave them.
pub type Names = HashMap<String, String>;

/// A person from an account id, with the name `names` knows (the document falls back to the
/// account id without one).
fn person(account: Option<&String>, names: &Names) -> Option<User> {
    let account = account?;
    Some(User {
        kind: Some("known".to_owned()),
        account_id: Some(account.clone()),
        display_name: names.get(account).cloned(),
        ..User::default()
    })
}

/// A v2 version as v1's `version` (`when`, `by`, `number`).
fn version_of(version: Option<&V2Version>, names: &Names) -> Option<Box<Version>> {
    let v = version?;
    Some(Box::new(Version {
        by: person(v.author_id.as_ref(), names),
        when: v.created_at.clone(),
        number: v.number,
        ..Version::default()
    }))
}

/// What a v2 row gives as `history` when it names no creator of its own (comments,
/// attachments): its first version is its creation, a later one says nothing about it.
fn history_from_first_version(version: Option<&V2Version>, names: &Names) -> Option<Box<History>> {
    let v = version.filter(|v| v.number == Some(1))?;
    Some(Box::new(History {
        created_by: person(v.author_id.as_ref(), names),
        created_date: v.created_at.clone(),
        ..History::default()
    }))
}

/// The page or blog post a v2 attachment or comment belongs to.
fn container_ref(
    page_id: Option<&String>,
    blog_post_id: Option<&String>,
) -> Option<Box<ContentRef>> {
    let (id, kind) = match (page_id, blog_post_id) {
        (Some(id), _) => (id, "page"),
        (None, Some(id)) => (id, "blogpost"),
        (None, None) => return None,
    };
    Some(Box::new(ContentRef {
        id: Some(id.clone()),
        kind: Some(kind.to_owned()),
        ..ContentRef::default()
    }))
}

impl V2Body {
    fn into_body(self) -> Body {
        Body {
            storage: self.storage,
            ..Body::default()
        }
    }
}

impl V2Content {
    /// The account ids this row names.
    pub fn people(&self) -> impl Iterator<Item = &String> {
        self.author_id
            .iter()
            .chain(self.version.iter().filter_map(|v| v.author_id.as_ref()))
    }

    /// A page (`kind` = `page`) or blog post with its body as v1 gives it: `space` and
    /// `ancestors` are the caller's to set.
    pub fn into_content(self, kind: &str, names: &Names) -> Content {
        Content {
            id: self.id,
            kind: Some(kind.to_owned()),
            status: self.status,
            title: self.title,
            history: Some(Box::new(History {
                created_by: person(self.author_id.as_ref(), names),
                created_date: self.created_at,
                ..History::default()
            })),
            version: version_of(self.version.as_ref(), names),
            body: self.body.map(V2Body::into_body),
            links: Links {
                webui: self.links.webui,
                ..Links::default()
            },
            ..Content::default()
        }
    }
}

impl V2Attachment {
    /// The account ids this row names.
    pub fn people(&self) -> impl Iterator<Item = &String> {
        self.version.iter().filter_map(|v| v.author_id.as_ref())
    }

    /// The attachment as v1 lists it under its container.
    pub fn into_content(self, names: &Names) -> Content {
        let container = container_ref(self.page_id.as_ref(), self.blog_post_id.as_ref());
        Content {
            id: self.id,
            kind: Some("attachment".to_owned()),
            status: self.status,
            title: self.title,
            history: history_from_first_version(self.version.as_ref(), names),
            version: version_of(self.version.as_ref(), names),
            container,
            extensions: Some(Extensions {
                file_size: self.file_size,
                media_type: self.media_type,
                ..Extensions::default()
            }),
            links: Links {
                webui: self.links.webui.or(self.webui_link),
                download: self.download_link.or(self.links.download),
                ..Links::default()
            },
            ..Content::default()
        }
    }
}

impl V2Comment {
    /// The page or blog post it is on.
    pub fn container_id(&self) -> Option<&String> {
        self.page_id.as_ref().or(self.blog_post_id.as_ref())
    }

    /// The account ids this row names.
    pub fn people(&self) -> impl Iterator<Item = &String> {
        self.version.iter().filter_map(|v| v.author_id.as_ref())
    }

    /// The comment as v1 lists it under its container, `location` being `footer` or `inline`.
    pub fn into_content(self, location: &str, names: &Names) -> Content {
        let container = container_ref(self.page_id.as_ref(), self.blog_post_id.as_ref());
        Content {
            id: self.id,
            kind: Some("comment".to_owned()),
            status: self.status,
            title: self.title,
            history: history_from_first_version(self.version.as_ref(), names),
            version: version_of(self.version.as_ref(), names),
            container,
            body: self.body.map(V2Body::into_body),
            extensions: Some(Extensions {
                location: Some(location.to_owned()),
                ..Extensions::default()
            }),
            links: Links {
                webui: self.links.webui,
                ..Links::default()
            },
            ..Content::default()
        }
    }
}

/// The reconciliation's view of a space's pages and blog posts from v2: each as a [`Content`]
/// with its space, and each page's parent by id (pages only; a parent v2 does not list, such
/// as a folder, is there too and ends the chain of ancestors built from it).
pub fn v2_units(
    space: &Space,
    pages: Vec<V2Content>,
    blogposts: Vec<V2Content>,
) -> (Vec<Content>, HashMap<String, String>) {
    let parents: HashMap<String, String> = pages
        .iter()
        .filter_map(|p| Some((p.id.clone()?, p.parent_id.clone()?)))
        .collect();
    let unit = |row: V2Content, kind: &str| Content {
        id: row.id,
        kind: Some(kind.to_owned()),
        status: row.status,
        title: row.title,
        space: Some(Box::new(Space {
            id: space.id.clone(),
            key: space.key.clone(),
            name: space.name.clone(),
            ..Space::default()
        })),
        version: row.version.map(|v| {
            Box::new(Version {
                number: v.number,
                ..Version::default()
            })
        }),
        ..Content::default()
    };
    let mut units: Vec<Content> = Vec::with_capacity(pages.len() + blogposts.len());
    units.extend(pages.into_iter().map(|p| unit(p, "page")));
    units.extend(blogposts.into_iter().map(|b| unit(b, "blogpost")));
    (units, parents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        Names::from([("5b10".to_owned(), "Ann".to_owned())])
    }

    #[test]
    fn view_grants_are_users_and_groups_by_id_and_a_role_defers_to_v1() {
        let rows: Vec<V2SpacePermission> = serde_json::from_value(serde_json::json!([
            {"id": "1", "principal": {"type": "user", "id": "acc-1"},
             "operation": {"key": "read", "targetType": "space"}},
            {"id": "2", "principal": {"type": "group", "id": "g-1"},
             "operation": {"key": "read", "targetType": "space"}},
            {"id": "3", "principal": {"type": "group", "id": "g-2"},
             "operation": {"key": "create", "targetType": "page"}},
            {"id": "4", "principal": {"type": "role", "id": "r-1"},
             "operation": {"key": "administer", "targetType": "space"}}
        ]))
        .unwrap();
        let grants = view_grants(&rows).unwrap();
        assert_eq!(grants.len(), 2, "only the two view grants: {grants:?}");
        let subjects = |n: usize| grants[n].subjects.clone().unwrap();
        assert_eq!(
            subjects(0).user.unwrap().results[0].account_id.as_deref(),
            Some("acc-1")
        );
        assert_eq!(
            subjects(1).group.unwrap().results[0].id.as_deref(),
            Some("g-1")
        );
        assert!(grants.iter().all(|g| g.anonymous_access == Some(false)));

        // A role that may view the space: what it stands for is v1's to say.
        let mut with_role = rows.clone();
        with_role[3].operation = Some(V2Operation {
            key: Some("read".into()),
            target_type: Some("space".into()),
        });
        assert_eq!(view_grants(&with_role), None);
        // A view grant without an id, or without a principal, is not understood either.
        let mut no_id = rows.clone();
        no_id[0].principal = Some(V2Principal {
            kind: Some("user".into()),
            id: None,
        });
        assert_eq!(view_grants(&no_id), None);
        let mut nobody = rows;
        nobody[1].principal = None;
        assert_eq!(view_grants(&nobody), None);
    }

    #[test]
    fn a_page_row_becomes_what_v1_lists_with_names_for_account_ids() {
        let row: V2Content = serde_json::from_value(json!({
            "id": "1001", "status": "current", "title": "Runbook", "spaceId": "42",
            "parentId": "900", "parentType": "page", "authorId": "5b10",
            "createdAt": "2024-01-02T10:00:00.000Z",
            "version": {"number": 7, "createdAt": "2024-03-01T09:30:00.000Z", "authorId": "77aa"},
            "body": {"storage": {"representation": "storage", "value": "<p>Hi</p>"}},
            "_links": {"webui": "/spaces/ENG/pages/1001/Runbook"}
        }))
        .unwrap();
        assert_eq!(row.people().collect::<Vec<_>>(), ["5b10", "77aa"]);
        let content = row.into_content("page", &names());
        assert_eq!(content.kind.as_deref(), Some("page"));
        assert_eq!(content.storage(), Some("<p>Hi</p>"));
        let history = content.history.as_deref().unwrap();
        assert_eq!(
            history.created_by.as_ref().unwrap().display_name.as_deref(),
            Some("Ann")
        );
        assert_eq!(
            history.created_date.as_deref(),
            Some("2024-01-02T10:00:00.000Z")
        );
        let version = content.version.as_deref().unwrap();
        assert_eq!(version.number, Some(7));
        assert_eq!(version.when.as_deref(), Some("2024-03-01T09:30:00.000Z"));
        // An account the lookup did not name keeps its id only.
        let by = version.by.as_ref().unwrap();
        assert_eq!(
            (by.account_id.as_deref(), by.display_name.as_deref()),
            (Some("77aa"), None)
        );
        assert_eq!(
            content.links.webui.as_deref(),
            Some("/spaces/ENG/pages/1001/Runbook")
        );
    }

    #[test]
    fn attachments_and_comments_take_their_container_and_first_version_as_v1_gives_them() {
        let att: V2Attachment = serde_json::from_value(json!({
            "id": "att5", "status": "current", "title": "plan.pdf", "blogPostId": "77",
            "mediaType": "application/pdf", "fileSize": 1234,
            "downloadLink": "/download/attachments/77/plan.pdf?version=1",
            "webuiLink": "/pages/viewpageattachments.action?pageId=77",
            "version": {"number": 1, "createdAt": "2024-05-01T00:00:00.000Z", "authorId": "5b10"},
            "_links": {"webui": "/pages/viewpageattachments.action?pageId=77"}
        }))
        .unwrap();
        let content = att.into_content(&names());
        let container = content.container.as_deref().unwrap();
        assert_eq!(
            (container.id.as_deref(), container.kind.as_deref()),
            (Some("77"), Some("blogpost"))
        );
        let ext = content.extensions.as_ref().unwrap();
        assert_eq!(
            (ext.file_size, ext.media_type.as_deref()),
            (Some(1234), Some("application/pdf"))
        );
        assert_eq!(
            content.links.download.as_deref(),
            Some("/download/attachments/77/plan.pdf?version=1")
        );
        let history = content.history.as_deref().unwrap();
        assert_eq!(
            history.created_by.as_ref().unwrap().display_name.as_deref(),
            Some("Ann")
        );

        let comment: V2Comment = serde_json::from_value(json!({
            "id": "9", "status": "current", "title": "Re: Runbook", "pageId": "1001",
            "parentCommentId": "8",
            "version": {"number": 2, "createdAt": "2024-06-01T00:00:00.000Z", "authorId": "5b10"},
            "body": {"storage": {"value": "<p>Agreed</p>"}},
            "_links": {"webui": "/spaces/ENG/pages/1001?focusedCommentId=9"}
        }))
        .unwrap();
        let content = comment.into_content("inline", &names());
        assert_eq!(
            content.container.as_deref().and_then(|c| c.id.as_deref()),
            Some("1001")
        );
        assert_eq!(
            content
                .extensions
                .as_ref()
                .and_then(|e| e.location.as_deref()),
            Some("inline")
        );
        assert_eq!(content.storage(), Some("<p>Agreed</p>"));
        // A later version says nothing of who made the comment, or when.
        assert!(content.history.is_none());
    }
}

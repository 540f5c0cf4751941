//! The typed calls the crawl needs, one per endpoint, per flavour where they differ.

use serde_json::Value;

use super::paging::{End, Mode, Rows};
use super::{
    ClientError, CloudUser, CloudUserDetail, ConfluenceClient, Content, ContentRef,
    ContentRestriction, DcSpacePermission, ExtenderSpacePermissions, ExtenderUser, Flavor, Group,
    Label, Pager, SearchResult, Space, SpacePermissions, User,
};

/// Content search expansions on Cloud (the reference's list, plus `version`).
/// The first 25 attachments come with what the attachment listing gives (`version,history`):
/// most pages need no listing of their own.
const CONTENT_EXPAND: &str = "ancestors,children.attachment.version,children.attachment.history,\
history.lastUpdated,body.storage,space,version,metadata.labels";
/// What document-level security adds on Cloud.
const ACCESS_EXPAND_CLOUD: &str =
    "space.permissions,restrictions.read.restrictions.user,restrictions.read.restrictions.group";
/// Server/DC: without `space.permissions` (HTTP 500 for non-admins, CONFSERVER-99908).
const ACCESS_EXPAND_DC: &str =
    "restrictions.read.restrictions.user,restrictions.read.restrictions.group";
/// Advanced-rules search expansions (the reference's list).
const SEARCH_EXPAND: &str = "content.history,content.extensions,content.container,content.space,\
content.body.storage,content.version,space.description,space.history";
const COMMENT_EXPAND: &str =
    "body.storage,version,history,extensions.inlineProperties,extensions.resolution";

/// Page sizes (the reference's, where it has one).
const SPACE_LIMIT: usize = 100;
/// Server/DC clip content search with a body expansion to 50.
const CONTENT_LIMIT: usize = 50;
const ATTACHMENT_LIMIT: usize = 100;
const COMMENT_LIMIT: usize = 100;
const LABEL_LIMIT: usize = 200;
const SEARCH_LIMIT: usize = 100;
const SEARCH_USER_LIMIT: usize = 100;
const GROUP_LIMIT: usize = 200;
const DC_USER_LIMIT: usize = 200;
const EXTENDER_USER_LIMIT: usize = 1000;

/// Pages or blog posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// `page`.
    Page,
    /// `blogpost`.
    BlogPost,
}

impl ContentType {
    /// The CQL / API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Page => "page",
            ContentType::BlogPost => "blogpost",
        }
    }
}

/// How to name a user in `user/memberof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRef<'a> {
    /// Cloud account id.
    AccountId(&'a str),
    /// Server/DC user key.
    Key(&'a str),
    /// Server/DC username.
    Username(&'a str),
}

/// `value` as a CQL string literal: double-quoted, `\` and `"` escaped.
pub fn cql_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl ConfluenceClient {
    fn limit(n: usize) -> String {
        n.to_string()
    }

    /// Pagination for v1 collections (`start`/`limit` everywhere): `_links.next` where given,
    /// else offsets while pages come back full (see [`End::Collection`]).
    fn collection<T>(&self, url: url::Url, limit: usize) -> Pager<T>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let mode = Mode::Offset {
            param: "start",
            limit,
            end: End::Collection,
        };
        Pager::new(self.clone(), url, mode, Rows::Results)
    }

    /// Pagination for CQL listings: cursor links on Cloud; own offsets on Server/DC, whose
    /// `next` links on search have been seen broken (and whose pages are clipped to 50).
    fn cql_pager<T>(&self, url: url::Url, limit: usize) -> Pager<T>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let mode = match self.flavor() {
            Flavor::Cloud => Mode::Links,
            Flavor::Server | Flavor::DataCenter => Mode::Offset {
                param: "start",
                limit,
                end: End::Search,
            },
        };
        Pager::new(self.clone(), url, mode, Rows::Results)
    }

    /// Checks the URL and that the server answers: `GET rest/api/space?limit=1`. It does not
    /// tell a refused token served as anonymous from the configured account: run
    /// [`Self::verify_identity`] before listing.
    pub async fn ping(&self) -> Result<(), ClientError> {
        let url = self.api_url("rest/api/space", &[], &[("limit", "1")])?;
        self.get_value(&url).await.map(|_| ())
    }

    /// Every space the crawler may view, with its description and, on Cloud, its creator: on
    /// Cloud through REST v2 ([`Self::v2_spaces`], without permissions), or through v1 (with
    /// them) where v2 refuses (see [`v2_refused`]); on Server and Data Center through v1
    /// ([`Self::space_pager`]).
    pub async fn spaces(&self) -> Result<Vec<Space>, ClientError> {
        if self.flavor() == Flavor::Cloud {
            match self.v2_spaces().await {
                Err(err) if v2_refused(&err) => {
                    tracing::info!(%err, "REST v2 lists no spaces here; listing them through v1");
                }
                listed => return listed,
            }
        }
        self.space_pager()?.collect_all().await
    }

    /// REST v1's space listing, 100 per page, with descriptions; Cloud also expands
    /// `permissions,history`.
    pub fn space_pager(&self) -> Result<Pager<Space>, ClientError> {
        let limit = Self::limit(SPACE_LIMIT);
        // Server and Data Center answer `permissions` with a 500 for non-admins
        // (CONFSERVER-99908); the description is safe everywhere and becomes the space's body.
        let expand = match self.flavor() {
            Flavor::Cloud => "permissions,history,description.plain",
            Flavor::Server | Flavor::DataCenter => "description.plain",
        };
        let query = vec![("limit", limit.as_str()), ("expand", expand)];
        Ok(self.collection(self.api_url("rest/api/space", &[], &query)?, SPACE_LIMIT))
    }

    /// The pages or blog posts of one space (`content/search`, CQL
    /// `space = "<KEY>" and type = <type>`), with the crawl's expansions.
    pub fn content_in_space(
        &self,
        space_key: &str,
        content_type: ContentType,
    ) -> Result<Pager<Content>, ClientError> {
        let cql = format!(
            "space = {} and type = {}",
            cql_quote(space_key),
            content_type.as_str()
        );
        self.content_search(&cql)
    }

    /// Any `content/search` CQL listing with the crawl's expansions (e.g. an incremental
    /// `lastmodified >= "..."` query). The CQL is percent-encoded.
    pub fn content_search(&self, cql: &str) -> Result<Pager<Content>, ClientError> {
        let expand = self.content_expand();
        let limit = Self::limit(CONTENT_LIMIT);
        let url = self.api_url(
            "rest/api/content/search",
            &[],
            &[("cql", cql), ("limit", &limit), ("expand", &expand)],
        )?;
        Ok(self.cql_pager(url, CONTENT_LIMIT))
    }
}

impl ConfluenceClient {
    /// The crawl's expansions of pages and blog posts, with what document-level security needs
    /// only when it is on.
    fn content_expand(&self) -> String {
        let access = match self.flavor() {
            Flavor::Cloud => ACCESS_EXPAND_CLOUD,
            Flavor::Server | Flavor::DataCenter => ACCESS_EXPAND_DC,
        };
        if self.options().access_control {
            format!("{CONTENT_EXPAND},{access}")
        } else {
            CONTENT_EXPAND.to_owned()
        }
    }
}

/// Reconciliation listings ask for the largest page each flavor allows (clipped by the
/// server: Server/DC give 200 rows with expansions, 1000 without).
const RECONCILE_LIMIT: usize = 1000;

/// `space in ("A", "B")` for a CQL query.
pub fn cql_spaces(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| cql_quote(k)).collect();
    format!("space in ({})", quoted.join(", "))
}

impl ConfluenceClient {
    /// The id-only reconciliation listing of the pages and blog posts of one space: each with
    /// only what tells a move or a rename (its first child pages: the space's page tree is
    /// rebuilt from them, at one small object per page where `ancestors` costs one per level)
    /// and, for document-level security, its read restrictions.
    pub fn unit_ids(
        &self,
        space: &str,
        with_restrictions: bool,
    ) -> Result<Pager<Content>, ClientError> {
        let cql = format!("space = {} and type in (page, blogpost)", cql_quote(space));
        let mut expand = "children.page".to_owned();
        if with_restrictions {
            expand.push_str(
                ",restrictions.read.restrictions.user,restrictions.read.restrictions.group",
            );
        }
        self.light_search(&cql, &expand)
    }

    /// The read restrictions of every page and blog post in `spaces` (ids, titles and the
    /// restrictions only, and the space when there are several): with v2's listings of the
    /// same spaces, what the reconciliation of a sync with document-level security needs.
    pub fn unit_restrictions(&self, spaces: &[String]) -> Result<Pager<Content>, ClientError> {
        let cql = format!("{} and type in (page, blogpost)", cql_spaces(spaces));
        let mut expand =
            "restrictions.read.restrictions.user,restrictions.read.restrictions.group".to_owned();
        if spaces.len() > 1 {
            expand.push_str(",space");
        }
        self.light_search(&cql, &expand)
    }

    /// Every child page of a page (ids and titles), 200 per page.
    pub fn child_pages(&self, content_id: &str) -> Result<Pager<ContentRef>, ClientError> {
        let url = self.api_url(
            "rest/api/content",
            &[content_id, "child", "page"],
            &[("limit", "200")],
        )?;
        Ok(self.collection(url, 200))
    }

    /// The id-only reconciliation listing of comments and attachments in `spaces`.
    pub fn child_ids(&self, spaces: &[String]) -> Result<Pager<Content>, ClientError> {
        let cql = format!("{} and type in (comment, attachment)", cql_spaces(spaces));
        self.light_search(&cql, "")
    }

    /// `content/search` with the given expansions (none: ids only), as many rows per page as
    /// the server gives.
    pub fn light_search(&self, cql: &str, expand: &str) -> Result<Pager<Content>, ClientError> {
        let limit = Self::limit(RECONCILE_LIMIT);
        let mut query = vec![("cql", cql), ("limit", limit.as_str())];
        if !expand.is_empty() {
            query.push(("expand", expand));
        }
        let url = self.api_url("rest/api/content/search", &[], &query)?;
        Ok(self.cql_pager(url, RECONCILE_LIMIT))
    }

    /// Content items by id (CQL `id in (...)`, at most 50 ids) with the crawl's expansions and
    /// their container.
    pub fn content_by_ids(&self, ids: &[String]) -> Result<Pager<Content>, ClientError> {
        let cql = format!("id in ({})", ids.join(", "));
        let expand = format!("{},container", self.content_expand());
        let limit = Self::limit(CONTENT_LIMIT);
        let url = self.api_url(
            "rest/api/content/search",
            &[],
            &[
                ("cql", cql.as_str()),
                ("limit", &limit),
                ("expand", &expand),
            ],
        )?;
        Ok(self.cql_pager(url, CONTENT_LIMIT))
    }
}

impl ConfluenceClient {
    /// The attachments of a page or blog post, 100 per page, with `version,history`.
    pub fn attachments(&self, content_id: &str) -> Result<Pager<Content>, ClientError> {
        let limit = Self::limit(ATTACHMENT_LIMIT);
        let url = self.api_url(
            "rest/api/content",
            &[content_id, "child", "attachment"],
            &[("limit", &limit), ("expand", "version,history")],
        )?;
        Ok(self.collection(url, ATTACHMENT_LIMIT))
    }

    /// The comments of a page or blog post: footer, inline and resolved, replies included
    /// (`depth=all`), with `body.storage`, version, history and location.
    pub fn comments(&self, content_id: &str) -> Result<Pager<Content>, ClientError> {
        let limit = Self::limit(COMMENT_LIMIT);
        let url = self.api_url(
            "rest/api/content",
            &[content_id, "child", "comment"],
            &[
                ("limit", &limit),
                ("expand", COMMENT_EXPAND),
                ("depth", "all"),
                ("location", "footer"),
                ("location", "inline"),
                ("location", "resolved"),
            ],
        )?;
        Ok(self.collection(url, COMMENT_LIMIT))
    }

    /// Every label of a content item (all pages, 200 per page).
    pub fn labels(&self, content_id: &str) -> Result<Pager<Label>, ClientError> {
        let limit = Self::limit(LABEL_LIMIT);
        let url = self.api_url(
            "rest/api/content",
            &[content_id, "label"],
            &[("limit", &limit)],
        )?;
        Ok(self.collection(url, LABEL_LIMIT))
    }

    /// Whether content item `id` still exists (`GET content/{id}`); `false` on a 404. Tells an
    /// item deleted while a sync ran from a child listing that failed for another reason.
    pub async fn content_exists(&self, content_id: &str) -> Result<bool, ClientError> {
        let url = self.api_url("rest/api/content", &[content_id], &[])?;
        match self.get_value(&url).await {
            Ok(_) => Ok(true),
            Err(ClientError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The read restriction of a content item; `Ok(None)` when the item is gone (404).
    pub async fn read_restrictions(
        &self,
        content_id: &str,
    ) -> Result<Option<ContentRestriction>, ClientError> {
        let url = self.api_url(
            "rest/api/content",
            &[content_id, "restriction", "byOperation", "read"],
            &[("expand", "restrictions.user,restrictions.group")],
        )?;
        match self.get_typed(&url).await {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `rest/api/search` (the advanced-rules CQL search), `limit` per page.
    pub fn search_cql(&self, cql: &str, limit: usize) -> Result<Pager<SearchResult>, ClientError> {
        let limit_s = limit.max(1).to_string();
        let url = self.api_url(
            "rest/api/search",
            &[],
            &[("cql", cql), ("limit", &limit_s), ("expand", SEARCH_EXPAND)],
        )?;
        Ok(self.cql_pager(url, limit.max(1)))
    }

    /// `rest/api/search` with the caller's expansions (advanced sync rules, previews), `limit`
    /// per page, rows as `T` ([`SearchResult`] or raw JSON); paged like [`Self::search_cql`].
    pub fn search_cql_with<T>(
        &self,
        cql: &str,
        limit: usize,
        expand: &str,
    ) -> Result<Pager<T>, ClientError>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let limit_s = limit.max(1).to_string();
        let mut query = vec![("cql", cql), ("limit", limit_s.as_str())];
        if !expand.is_empty() {
            query.push(("expand", expand));
        }
        let url = self.api_url("rest/api/search", &[], &query)?;
        Ok(self.cql_pager(url, limit.max(1)))
    }

    /// [`Self::search_cql_with`] over archived spaces too (`includeArchivedSpaces=true`; a
    /// site-wide search leaves them out otherwise): what the standard crawl, which lists every
    /// space, indexes. For counts and previews of that scope.
    pub fn search_cql_everywhere<T>(
        &self,
        cql: &str,
        limit: usize,
        expand: &str,
    ) -> Result<Pager<T>, ClientError>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let limit_s = limit.max(1).to_string();
        let mut query = vec![
            ("cql", cql),
            ("limit", limit_s.as_str()),
            ("includeArchivedSpaces", "true"),
        ];
        if !expand.is_empty() {
            query.push(("expand", expand));
        }
        let url = self.api_url("rest/api/search", &[], &query)?;
        Ok(self.cql_pager(url, limit.max(1)))
    }

    /// [`Self::search_cql`] with the reference's page size (100).
    pub fn search(&self, cql: &str) -> Result<Pager<SearchResult>, ClientError> {
        self.search_cql(cql, SEARCH_LIMIT)
    }

    /// Cloud: users through `rest/api/search/user` (CQL, e.g. `type = user`); at most 100 rows
    /// per page and no `next` link, so offsets advance until a short page.
    pub fn cloud_search_users(&self, cql: &str) -> Result<Pager<SearchResult>, ClientError> {
        let limit = Self::limit(SEARCH_USER_LIMIT);
        let url = self.api_url(
            "rest/api/search/user",
            &[],
            &[("cql", cql), ("limit", &limit)],
        )?;
        Ok(Pager::new(
            self.clone(),
            url,
            Mode::Offset {
                param: "start",
                limit: SEARCH_USER_LIMIT,
                end: End::FullPage,
            },
            Rows::Results,
        ))
    }

    /// Cloud: every user of the site (`<site>/rest/api/3/users/search?startAt=n`, no `/wiki`),
    /// until an empty page.
    pub fn cloud_users(&self) -> Result<Pager<CloudUser>, ClientError> {
        let url = self.site_url("rest/api/3/users/search", &[("startAt", "0")])?;
        Ok(Pager::new(
            self.clone(),
            url,
            Mode::Offset {
                param: "startAt",
                limit: 1,
                end: End::FullPage,
            },
            Rows::Array,
        ))
    }

    /// Cloud: one user with `groups` and `applicationRoles`
    /// (`<site>/rest/api/3/user?accountId=...`).
    pub async fn cloud_user_detail(
        &self,
        account_id: &str,
    ) -> Result<CloudUserDetail, ClientError> {
        let url = self.site_url(
            "rest/api/3/user",
            &[
                ("accountId", account_id),
                ("expand", "groups,applicationRoles"),
            ],
        )?;
        self.get_typed(&url).await
    }

    /// Data Center: all users (`rest/api/user/list`, 200 per page) until an empty page.
    pub fn dc_users(&self) -> Result<Pager<User>, ClientError> {
        let limit = Self::limit(DC_USER_LIMIT);
        let url = self.api_url(
            "rest/api/user/list",
            &[],
            &[("limit", &limit), ("start", "0")],
        )?;
        Ok(Pager::new(
            self.clone(),
            url,
            Mode::Offset {
                param: "start",
                limit: 1,
                end: End::FullPage,
            },
            Rows::Results,
        ))
    }

    /// Server with the Extender app: users with Confluence access, 1000 per page.
    pub fn extender_users(&self) -> Result<Pager<ExtenderUser>, ClientError> {
        let limit = Self::limit(EXTENDER_USER_LIMIT);
        let url = self.api_url(
            "rest/extender/1.0/user/getUsersWithConfluenceAccess",
            &[],
            &[
                ("showExtendedDetails", "true"),
                ("maxResults", &limit),
                ("startAt", "0"),
            ],
        )?;
        Ok(Pager::new(
            self.clone(),
            url,
            Mode::Offset {
                param: "startAt",
                limit: 1,
                end: End::FullPage,
            },
            Rows::Key("users"),
        ))
    }

    /// The groups a user belongs to (`rest/api/user/memberof`).
    pub fn user_groups(&self, user: UserRef<'_>) -> Result<Pager<Group>, ClientError> {
        let (param, value) = match user {
            UserRef::AccountId(v) => ("accountId", v),
            UserRef::Key(v) => ("key", v),
            UserRef::Username(v) => ("username", v),
        };
        let limit = Self::limit(GROUP_LIMIT);
        let url = self.api_url(
            "rest/api/user/memberof",
            &[],
            &[(param, value), ("limit", &limit)],
        )?;
        Ok(self.collection(url, GROUP_LIMIT))
    }

    /// All groups (`rest/api/group`, 200 per page).
    pub fn groups(&self) -> Result<Pager<Group>, ClientError> {
        let limit = Self::limit(GROUP_LIMIT);
        Ok(self.collection(
            self.api_url("rest/api/group", &[], &[("limit", &limit)])?,
            GROUP_LIMIT,
        ))
    }

    /// The members of a group: Cloud `rest/api/group/member?name=`, Server/DC
    /// `rest/api/group/{name}/member`.
    pub fn group_members(&self, group_name: &str) -> Result<Pager<User>, ClientError> {
        let limit = Self::limit(GROUP_LIMIT);
        let url = match self.flavor() {
            Flavor::Cloud => self.api_url(
                "rest/api/group/member",
                &[],
                &[("name", group_name), ("limit", &limit)],
            )?,
            Flavor::Server | Flavor::DataCenter => self.api_url(
                "rest/api/group",
                &[group_name, "member"],
                &[("limit", &limit)],
            )?,
        };
        Ok(self.collection(url, GROUP_LIMIT))
    }

    /// Cloud: the group with id `group_id` (`rest/api/group/by-id`), for its name.
    pub async fn group_by_id(&self, group_id: &str) -> Result<Group, ClientError> {
        let url = self.api_url("rest/api/group/by-id", &[], &[("id", group_id)])?;
        self.get_typed(&url).await
    }

    /// Cloud: the members of the group with id `group_id` (`rest/api/group/{id}/membersByGroupId`;
    /// an id, unlike a name, does not change when the group is renamed).
    pub fn group_members_by_id(&self, group_id: &str) -> Result<Pager<User>, ClientError> {
        let limit = Self::limit(GROUP_LIMIT);
        let url = self.api_url(
            "rest/api/group",
            &[group_id, "membersByGroupId"],
            &[("limit", &limit)],
        )?;
        Ok(self.collection(url, GROUP_LIMIT))
    }

    /// The permissions of a space: on Cloud, with the space's id, its view grants from REST v2
    /// (`spaces/{id}/permissions`), else (or when v2 names a role, or is not served)
    /// `space/{key}?expand=permissions`; Data Center 9.1+ `space/{key}/permissions` (older
    /// versions answer 404: use the Extender app then).
    pub async fn space_permissions(
        &self,
        space_key: &str,
        space_id: Option<&str>,
    ) -> Result<SpacePermissions, ClientError> {
        match self.flavor() {
            Flavor::Cloud => {
                if let Some(id) = space_id {
                    match self.v2_space_view_permissions(id).await {
                        Ok(Some(grants)) => return Ok(SpacePermissions::Cloud(grants)),
                        Ok(None) => {
                            tracing::debug!(space = space_key, "a role is granted: asking REST v1");
                        }
                        Err(err) if v2_refused(&err) => {}
                        Err(err) => return Err(err),
                    }
                }
                let url =
                    self.api_url("rest/api/space", &[space_key], &[("expand", "permissions")])?;
                let space: Space = self.get_typed(&url).await?;
                Ok(SpacePermissions::Cloud(space.permissions))
            }
            Flavor::Server | Flavor::DataCenter => {
                let url = self.api_url("rest/api/space", &[space_key, "permissions"], &[])?;
                let v = self.get_value(&url).await?;
                let rows = match v {
                    Value::Object(mut o) => o.remove("results").unwrap_or(Value::Null),
                    other => other,
                };
                let perms: Vec<DcSpacePermission> = if rows.is_null() {
                    Vec::new()
                } else {
                    decode(&url, rows)?
                };
                Ok(SpacePermissions::DataCenter(perms))
            }
        }
    }

    /// Server/DC with the Extender app: who may view a space (`VIEWSPACE` actors).
    pub async fn extender_space_permissions(
        &self,
        space_key: &str,
    ) -> Result<ExtenderSpacePermissions, ClientError> {
        let url = self.api_url(
            "rest/extender/1.0/permission/space",
            &[space_key, "getSpacePermissionActors", "VIEWSPACE"],
            &[],
        )?;
        self.get_typed(&url).await
    }
}

/// Whether a REST v2 call was refused in a way REST v1 may not be: 404 from a proxy that does not
/// pass v2 through (and Cloud's v2 answer to credentials it does not take), 401 or 403 for an
/// OAuth token with classic scopes only (they are honoured by v1, not by v2). v1 is asked then,
/// and its own answer is what the user sees if it refuses too.
pub(crate) fn v2_refused(err: &ClientError) -> bool {
    matches!(
        err,
        ClientError::NotFound { .. }
            | ClientError::Unauthorized { .. }
            | ClientError::Forbidden { .. }
    )
}

fn decode<T: serde::de::DeserializeOwned>(url: &url::Url, v: Value) -> Result<T, ClientError> {
    serde_json::from_value(v).map_err(|e| ClientError::Decode {
        url: super::error::redact(url),
        message: format!("unexpected shape ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cql_quoting_escapes() {
        assert_eq!(cql_quote("DEV"), "\"DEV\"");
        assert_eq!(cql_quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}

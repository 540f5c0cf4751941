//! The JSON the crawler reads, as serde structs that tolerate missing fields.
//!
//! Every field is optional or defaulted: Confluence omits what was not expanded, and versions
//! differ. Ids are strings whether the API sends numbers (space ids) or strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An id as a string whether the API sends a string or a number; anything else (null, an
/// object) reads as absent. Decoded in place, without building a JSON value.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Scalar { numbers: true })
}

/// A string, or absent for anything else (a number, null, an object).
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Scalar { numbers: false })
}

/// Reads a string (and, with `numbers`, a number as its decimal text); skips anything else.
struct Scalar {
    numbers: bool,
}

impl<'de> serde::de::Visitor<'de> for Scalar {
    type Value = Option<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.numbers.then(|| v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.numbers.then(|| v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self
            .numbers
            .then(|| serde_json::Number::from_f64(v).map(|n| n.to_string()))
            .flatten())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The `_links` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Links {
    /// Absolute base of relative links, e.g. `https://acme.atlassian.net/wiki`.
    pub base: Option<String>,
    /// Context path, e.g. `/wiki`, `/confluence` or `""`.
    pub context: Option<String>,
    /// The next page, relative to `base`.
    pub next: Option<String>,
    /// The web page, relative to `base`.
    pub webui: Option<String>,
    /// Attachment binary, relative to `base`.
    pub download: Option<String>,
    /// Short link.
    pub tinyui: Option<String>,
    /// This object's API URL.
    #[serde(rename = "self")]
    pub self_link: Option<String>,
}

/// A user as Confluence embeds it (`history.createdBy`, restrictions, permissions, listings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    /// `known`, `unknown`, `anonymous`, `user`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Cloud account id.
    pub account_id: Option<String>,
    /// Cloud: `atlassian` or `app`.
    pub account_type: Option<String>,
    /// Cloud email (often hidden).
    pub email: Option<String>,
    /// Cloud public name.
    pub public_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Server/DC username.
    pub username: Option<String>,
    /// Server/DC user key.
    pub user_key: Option<String>,
    /// Cloud: `active`, `inactive`, ...
    pub account_status: Option<String>,
    /// The user's profile time zone (IANA name, e.g. `Europe/Berlin`), where given: CQL date
    /// literals are read in it.
    pub time_zone: Option<String>,
    /// Links (`self`).
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Group {
    /// Always `group`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Group name (Server/DC identity).
    pub name: Option<String>,
    /// Group id (Cloud identity).
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
}

/// A `{results, size}` list of users or groups inside restrictions and permissions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de>"))]
pub struct Listing<T> {
    /// The rows.
    #[serde(deserialize_with = "null_as_default")]
    pub results: Vec<T>,
    /// Rows in this listing.
    pub size: Option<u64>,
    /// Rows the server gives per page (echoed).
    pub limit: Option<u64>,
    /// Where more rows are, if any.
    #[serde(rename = "_links")]
    pub links: Links,
}

impl<T> Listing<T> {
    /// Whether this (expanded) listing holds every row: no link to more, and fewer rows than a
    /// page holds (a proxy may drop `next`: a full page may have more behind it).
    pub fn is_complete(&self) -> bool {
        self.links.next.is_none() && self.limit.is_some_and(|l| (self.results.len() as u64) < l)
    }
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            results: Vec::new(),
            size: None,
            limit: None,
            links: Links::default(),
        }
    }
}

/// `restrictions.{user,group}` of a content restriction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RestrictionSubjects {
    /// Users named by the restriction.
    pub user: Option<Listing<User>>,
    /// Groups named by the restriction.
    pub group: Option<Listing<Group>>,
}

/// One operation's restriction (`restriction/byOperation/read`, `restrictions.read`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ContentRestriction {
    /// `read` or `update`.
    pub operation: Option<String>,
    /// Who is named.
    pub restrictions: RestrictionSubjects,
}

impl ContentRestriction {
    /// The users named (empty when not expanded).
    pub fn users(&self) -> &[User] {
        self.restrictions.user.as_ref().map_or(&[], |l| &l.results)
    }

    /// The groups named (empty when not expanded).
    pub fn groups(&self) -> &[Group] {
        self.restrictions.group.as_ref().map_or(&[], |l| &l.results)
    }

    /// True when nobody is named, i.e. the content inherits.
    pub fn is_empty(&self) -> bool {
        self.users().is_empty() && self.groups().is_empty()
    }
}

/// The `restrictions` expansion of content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Restrictions {
    /// The read restriction.
    pub read: Option<ContentRestriction>,
}

/// `subjects` of a Cloud space permission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PermissionSubjects {
    /// Users granted.
    pub user: Option<Listing<User>>,
    /// Groups granted.
    pub group: Option<Listing<Group>>,
}

/// One Cloud space permission (`space?expand=permissions`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpacePermission {
    /// `{operation, targetType}`, e.g. `read` / `space`.
    pub operation: Option<PermissionOperation>,
    /// Who is granted; `None` means unknown (not "nobody").
    pub subjects: Option<PermissionSubjects>,
    /// Anonymous users are granted.
    pub anonymous_access: Option<bool>,
    /// Unlicensed users are granted.
    pub unlicensed_access: Option<bool>,
}

/// The operation of a permission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PermissionOperation {
    /// Cloud: `read`, `create`, `administer`, ...
    pub operation: Option<String>,
    /// DC 9.1+: `read`, ...
    pub operation_key: Option<String>,
    /// `space`, `page`, `blogpost`, ...
    pub target_type: Option<String>,
}

/// One Data Center 9.1+ space permission (`space/{key}/permissions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DcSpacePermission {
    /// `{targetType, operationKey}`.
    pub operation: Option<PermissionOperation>,
    /// `{type: user|group, name, userKey}`.
    pub subject: Option<DcSubject>,
    /// The space key.
    pub space_key: Option<String>,
}

/// The subject of a [`DcSpacePermission`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DcSubject {
    /// `user` or `group`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Group name or username.
    pub name: Option<String>,
    /// User key.
    pub user_key: Option<String>,
}

/// One permission of the Extender app (`permissions.VIEWSPACE`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ExtenderActors {
    /// Anonymous users are granted.
    pub anonymous_access: Option<bool>,
    /// Group names.
    #[serde(deserialize_with = "null_as_default")]
    pub groups: Vec<String>,
    /// Usernames.
    #[serde(deserialize_with = "null_as_default")]
    pub users: Vec<String>,
}

/// The Extender app's space permissions (`getSpacePermissionActors/VIEWSPACE`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ExtenderSpacePermissions {
    /// Permission key (`VIEWSPACE`, ...) to its actors.
    pub permissions: BTreeMap<String, ExtenderActors>,
}

/// Space permissions as the flavour's API gives them.
#[derive(Debug, Clone, PartialEq)]
pub enum SpacePermissions {
    /// Cloud, from `space/{key}?expand=permissions`.
    Cloud(Vec<SpacePermission>),
    /// Data Center 9.1+, from `space/{key}/permissions`.
    DataCenter(Vec<DcSpacePermission>),
}

/// `history` of content or a space.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct History {
    /// Is this the latest version.
    pub latest: Option<bool>,
    /// The creator.
    pub created_by: Option<User>,
    /// Creation time (ISO-8601).
    pub created_date: Option<String>,
    /// The last update, when expanded.
    pub last_updated: Option<Version>,
}

/// A version (`version`, `history.lastUpdated`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Version {
    /// Who made it.
    pub by: Option<User>,
    /// When (ISO-8601).
    pub when: Option<String>,
    /// Version number.
    pub number: Option<u64>,
    /// Minor edit flag.
    pub minor_edit: Option<bool>,
    /// Edit message.
    pub message: Option<String>,
}

/// `body.storage` and friends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Body {
    /// Storage format (XHTML).
    pub storage: Option<Storage>,
    /// Rendered view (fallback).
    pub view: Option<Storage>,
}

/// One body representation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Storage {
    /// The markup.
    pub value: Option<String>,
    /// `storage`, `view`, ...
    pub representation: Option<String>,
}

/// A space (`space` listing, `content.space`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Space {
    /// Space id (a number in the API, a string here).
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// Space key.
    pub key: Option<String>,
    /// Space name.
    pub name: Option<String>,
    /// `global` or `personal`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `current` or `archived`.
    pub status: Option<String>,
    /// Cloud: the `permissions` expansion.
    #[serde(deserialize_with = "null_as_default")]
    pub permissions: Vec<SpacePermission>,
    /// Cloud: the `history` expansion.
    pub history: Option<History>,
    /// The `description.plain` expansion.
    pub description: Option<SpaceDescription>,
    /// Links (`webui`).
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A space's description; `plain` when `description.plain` was expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SpaceDescription {
    /// The plain-text representation.
    pub plain: Option<Storage>,
}

/// An ancestor or container reference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ContentRef {
    /// Content id.
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// `page`, `blogpost`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Links.
    #[serde(rename = "_links")]
    pub links: Links,
}

/// `extensions` of content: attachment size and type, comment location.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Extensions {
    /// Attachment size in bytes.
    pub file_size: Option<u64>,
    /// Attachment media type.
    pub media_type: Option<String>,
    /// Comment location: `footer`, `inline` or `resolved`.
    pub location: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `children` of content; only `attachment` is read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Children {
    /// The first page of attachments.
    pub attachment: Option<Listing<Content>>,
    /// The first page of child pages.
    pub page: Option<Listing<ContentRef>>,
}

/// A page, blog post, attachment or comment. The larger expansions are boxed: listings move
/// thousands of these, most with only a few fields set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Content {
    /// Content id (`att…` for Cloud attachments).
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
    /// `page`, `blogpost`, `attachment`, `comment`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `current`, `archived`, ...
    pub status: Option<String>,
    /// Title (attachments: the file name).
    pub title: Option<String>,
    /// The space, when expanded.
    pub space: Option<Box<Space>>,
    /// History, when expanded.
    pub history: Option<Box<History>>,
    /// Version, when expanded.
    pub version: Option<Box<Version>>,
    /// Ancestors, root first.
    #[serde(deserialize_with = "null_as_default")]
    pub ancestors: Vec<ContentRef>,
    /// The container (attachments, comments, search results).
    pub container: Option<Box<ContentRef>>,
    /// Children (attachments), when expanded.
    pub children: Option<Box<Children>>,
    /// The body, when expanded.
    pub body: Option<Body>,
    /// Restrictions, when expanded.
    pub restrictions: Option<Box<Restrictions>>,
    /// Extensions (size, media type, comment location).
    pub extensions: Option<Extensions>,
    /// `metadata` (media type of attachments, labels), raw.
    pub metadata: Option<Value>,
    /// Links (`webui`, `download`).
    #[serde(rename = "_links")]
    pub links: Links,
}

impl Content {
    /// The storage-format body, if expanded.
    pub fn storage(&self) -> Option<&str> {
        self.body.as_ref()?.storage.as_ref()?.value.as_deref()
    }

    /// The label names of the `metadata.labels` expansion, when it was expanded and holds every
    /// label (`None` when absent or cut short: the labels must be listed).
    pub fn expanded_labels(&self) -> Option<Vec<String>> {
        let labels = self.metadata.as_ref()?.get("labels")?;
        let listing: Listing<Label> = serde_json::from_value(labels.clone()).ok()?;
        if !listing.is_complete() {
            return None;
        }
        listing.results.into_iter().map(|l| l.name).collect()
    }
}

/// An attachment (same shape as [`Content`]).
pub type Attachment = Content;
/// A comment (same shape as [`Content`]).
pub type Comment = Content;

/// A label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Label {
    /// `global`, `my`, `team`.
    pub prefix: Option<String>,
    /// The label name.
    pub name: Option<String>,
    /// Label id.
    #[serde(deserialize_with = "id_string")]
    pub id: Option<String>,
}

/// One row of `rest/api/search`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SearchResult {
    /// The content, for content rows.
    pub content: Option<Content>,
    /// The space, for space rows.
    pub space: Option<Space>,
    /// The user, for user rows (`search/user`).
    pub user: Option<User>,
    /// Title with highlight markers; prefer `content.title`.
    pub title: Option<String>,
    /// Excerpt.
    pub excerpt: Option<String>,
    /// Web URL relative to the base.
    pub url: Option<String>,
    /// `content`, `space`, `user`.
    pub entity_type: Option<String>,
    /// Last modification time.
    pub last_modified: Option<String>,
}

/// A Cloud user from the site-level `rest/api/3/users/search`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CloudUser {
    /// Account id.
    pub account_id: Option<String>,
    /// `atlassian`, `app`, `customer`.
    pub account_type: Option<String>,
    /// Active account.
    pub active: Option<bool>,
    /// Display name.
    pub display_name: Option<String>,
    /// Email, if visible.
    pub email_address: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// The user's API URL.
    #[serde(rename = "self")]
    pub self_link: Option<String>,
}

/// A Cloud user with `groups` and `applicationRoles` expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CloudUserDetail {
    /// Account id.
    pub account_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Email, if visible.
    pub email_address: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Groups.
    pub groups: CloudItems<CloudGroup>,
    /// Application roles.
    pub application_roles: CloudItems<CloudRole>,
}

/// `{items: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de>"))]
pub struct CloudItems<T> {
    /// The items.
    #[serde(deserialize_with = "null_as_default")]
    pub items: Vec<T>,
}

impl<T> Default for CloudItems<T> {
    fn default() -> Self {
        CloudItems { items: Vec::new() }
    }
}

/// A group of [`CloudUserDetail`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CloudGroup {
    /// Name.
    pub name: Option<String>,
    /// Group id.
    pub group_id: Option<String>,
}

/// An application role of [`CloudUserDetail`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CloudRole {
    /// Role key.
    pub key: Option<String>,
    /// Role name.
    pub name: Option<String>,
}

/// A user of the Extender app's `getUsersWithConfluenceAccess`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ExtenderUser {
    /// Username.
    pub name: Option<String>,
    /// User key.
    pub key: Option<String>,
    /// Full name.
    pub full_name: Option<String>,
    /// Email.
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_read_as_strings_from_strings_and_numbers_only() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(default, deserialize_with = "id_string")]
            id: Option<String>,
            #[serde(default, deserialize_with = "lenient_string")]
            name: Option<String>,
        }
        let read = |json: &str| {
            let r: Row = serde_json::from_str(json).unwrap();
            (r.id, r.name)
        };
        assert_eq!(
            read(r#"{"id":"98","name":"a"}"#),
            (Some("98".into()), Some("a".into()))
        );
        assert_eq!(read(r#"{"id":98,"name":7}"#), (Some("98".into()), None));
        assert_eq!(read(r#"{"id":-3}"#).0.as_deref(), Some("-3"));
        assert_eq!(read(r#"{"id":null,"name":null}"#), (None, None));
        assert_eq!(
            read(r#"{"id":{"x":[1,{"y":2}]},"name":[1,2]}"#),
            (None, None)
        );
        assert_eq!(read(r#"{"id":true}"#), (None, None));
        assert_eq!(read(r#"{}"#), (None, None));
    }

    #[test]
    fn tolerant_content() {
        let c: Content = serde_json::from_value(json!({
            "id": "1001", "type": "page", "title": "Runbook",
            "space": {"id": 42, "key": "ENG"},
            "ancestors": null,
            "body": {"storage": {"value": "<p>x</p>"}},
            "extensions": {"position": 12},
            "restrictions": {"read": {"restrictions": {"group": {"results": [{"type": "group", "name": "sre", "id": "9c1"}]}}}}
        }))
        .unwrap();
        assert_eq!(c.storage(), Some("<p>x</p>"));
        assert_eq!(c.space.unwrap().id.as_deref(), Some("42"));
        assert!(c.ancestors.is_empty());
        let r = c.restrictions.unwrap().read.unwrap();
        assert_eq!(r.groups()[0].name.as_deref(), Some("sre"));
        assert!(r.users().is_empty());
        let empty: Content = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty.storage(), None);
    }
}

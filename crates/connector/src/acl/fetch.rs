//! The few REST calls document-level security needs beyond the crawl's: every page of a read
//! restriction, a Data Center user by key, anonymous space access and the Data Center user
//! listing with each account's status.

use serde_json::Value;

use crate::confluence::{ClientError, ConfluenceClient, ContentRestriction, Group, User};

/// Restriction rows per request (the endpoint's cap).
const RESTRICTION_LIMIT: usize = 100;
/// Data Center users per page.
const DC_USER_LIMIT: usize = 200;

fn decode<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ClientError> {
    serde_json::from_value(v).map_err(|e| ClientError::Decode {
        url: "restriction".to_owned(),
        message: format!("unexpected shape ({e})"),
    })
}

/// Every user and group of a content item's read restriction, paging users and groups (each is
/// paged on its own, 100 at a time). `Ok(None)` when the item is gone (404).
pub(crate) async fn read_restriction_all(
    client: &ConfluenceClient,
    content_id: &str,
) -> Result<Option<(Vec<User>, Vec<Group>)>, ClientError> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut start = 0usize;
    loop {
        let (start_s, limit_s) = (start.to_string(), RESTRICTION_LIMIT.to_string());
        let url = client.api_url(
            "rest/api/content",
            &[content_id, "restriction", "byOperation", "read"],
            &[
                ("expand", "restrictions.user,restrictions.group"),
                ("start", &start_s),
                ("limit", &limit_s),
            ],
        )?;
        let page: ContentRestriction = match client.get_value(&url).await {
            Ok(v) => decode(v)?,
            Err(ClientError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (u, g) = (page.users().len(), page.groups().len());
        users.extend(page.users().iter().cloned());
        groups.extend(page.groups().iter().cloned());
        if u < RESTRICTION_LIMIT && g < RESTRICTION_LIMIT {
            return Ok(Some((users, groups)));
        }
        start += RESTRICTION_LIMIT;
    }
}

/// Server/DC: the username of a user key (`rest/api/user?key=`); `None` when unknown.
pub(crate) async fn username_of_key(
    client: &ConfluenceClient,
    key: &str,
) -> Result<Option<String>, ClientError> {
    let url = client.api_url("rest/api/user", &[], &[("key", key)])?;
    match client.get_value(&url).await {
        Ok(v) => Ok(decode::<User>(v)?.username),
        Err(ClientError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Data Center 9.1+: whether anonymous users may view the space
/// (`rest/api/space/{key}/permissions/anonymous`).
pub(crate) async fn dc_anonymous_read(
    client: &ConfluenceClient,
    space_key: &str,
) -> Result<bool, ClientError> {
    let url = client.api_url(
        "rest/api/space",
        &[space_key, "permissions", "anonymous"],
        &[],
    )?;
    let v = client.get_value(&url).await?;
    let rows = match v {
        Value::Array(rows) => rows,
        Value::Object(mut o) => match o.remove("results") {
            Some(Value::Array(rows)) => rows,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(rows.iter().any(|r| {
        let op = &r["operation"];
        op["operationKey"] == "read" && op["targetType"] == "space"
    }))
}

/// A Server/DC user of the user listing, with its status when the server expands it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ListedUser {
    pub username: Option<String>,
    pub user_key: Option<String>,
    pub display_name: Option<String>,
    /// `Active` or `Deactivated` (with `expand=status`).
    pub status: Option<String>,
}

/// Data Center: one page of `rest/api/user/list` with `expand=status`.
pub(crate) async fn dc_user_page(
    client: &ConfluenceClient,
    start: usize,
) -> Result<Vec<ListedUser>, ClientError> {
    let (start_s, limit_s) = (start.to_string(), DC_USER_LIMIT.to_string());
    let url = client.api_url(
        "rest/api/user/list",
        &[],
        &[
            ("start", &start_s),
            ("limit", &limit_s),
            ("expand", "status"),
        ],
    )?;
    let v = client.get_value(&url).await?;
    match v {
        Value::Object(mut o) => match o.remove("results") {
            Some(rows) => decode(rows),
            None => Ok(Vec::new()),
        },
        Value::Array(rows) => decode(Value::Array(rows)),
        _ => Ok(Vec::new()),
    }
}

//! Where space permissions come from, found once per sync: Cloud's `expand=permissions`; on
//! Server and Data Center the native API (Data Center 9.1+) or the Extender for Confluence app.
//! Neither on Server/DC is a configuration error, reported before anything is written.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AclError;
use crate::confluence::{ClientError, ConfluenceClient, Flavor, SpacePermissions};

/// The API space permissions are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PermissionSource {
    /// Cloud: REST v2's `spaces/{id}/permissions`, or v1's `space/{key}?expand=permissions`
    /// (where v2 is not served, or names a role). The name is kept for the records saved
    /// before v2 was read.
    CloudExpansion,
    /// Data Center 9.1+: `rest/api/space/{key}/permissions` (and `/anonymous`).
    DataCenterNative,
    /// The Extender for Confluence app: `getSpacePermissionActors/VIEWSPACE`.
    Extender,
}

impl PermissionSource {
    /// For people: where the permission was read.
    pub fn describe(self) -> &'static str {
        match self {
            PermissionSource::CloudExpansion => {
                "Cloud space permissions (REST v2 spaces/{id}/permissions, or v1 \
                 expand=permissions)"
            }
            PermissionSource::DataCenterNative => {
                "Data Center space permissions API (rest/api/space/{key}/permissions)"
            }
            PermissionSource::Extender => "Extender for Confluence VIEWSPACE actors",
        }
    }
}

/// Finds the permission API of `client`'s site, probing with a space that exists
/// (`probe_space`). On Server/DC a 404 from both APIs is [`AclError::NoPermissionApi`]; any other
/// failure (auth, network) is returned as it is.
pub async fn detect(
    client: &ConfluenceClient,
    probe_space: Option<&str>,
    url: &str,
) -> crate::Result<PermissionSource> {
    let flavor = client.flavor();
    if flavor == Flavor::Cloud {
        return Ok(PermissionSource::CloudExpansion);
    }
    let Some(key) = probe_space else {
        return Err(AclError::NothingToProbe.into());
    };
    let native = || async { client.space_permissions(key, None).await.map(|_| ()) };
    let extender = || async { client.extender_space_permissions(key).await.map(|_| ()) };
    let order = match flavor {
        Flavor::DataCenter => [
            PermissionSource::DataCenterNative,
            PermissionSource::Extender,
        ],
        _ => [
            PermissionSource::Extender,
            PermissionSource::DataCenterNative,
        ],
    };
    for source in order {
        let probe = match source {
            PermissionSource::DataCenterNative => native().await,
            _ => extender().await,
        };
        match probe {
            Ok(()) => return Ok(source),
            // Missing route (or an app answering HTML): try the next API.
            Err(ClientError::NotFound { .. } | ClientError::Decode { .. }) => continue,
            Err(ClientError::Status { status: 405, .. }) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(AclError::NoPermissionApi {
        flavor: match flavor {
            Flavor::DataCenter => "Data Center".to_owned(),
            _ => "Server".to_owned(),
        },
        url: url.to_owned(),
    }
    .into())
}

/// As [`detect`], for "Test connection": on Cloud it also makes, once each, the requests a
/// sync with document-level security depends on, and says which right is missing.
pub async fn probe(
    client: &ConfluenceClient,
    probe_space: Option<&str>,
    url: &str,
) -> crate::Result<PermissionSource> {
    if client.flavor() == Flavor::Cloud {
        let Some(key) = probe_space else {
            return Err(AclError::NothingToProbe.into());
        };
        probe_cloud(client, key).await?;
    }
    detect(client, probe_space, url).await
}

/// Cloud: makes the requests a sync with document-level security will make, once each, and
/// names the right that is missing: a space's permissions (with the members of one group they
/// name) and the user listing behind the identity documents.
async fn probe_cloud(client: &ConfluenceClient, key: &str) -> crate::Result<()> {
    let missing = |what: String, err: &ClientError, fix: &str| AclError::MissingRight {
        what,
        detail: err.to_string(),
        fix: fix.to_owned(),
    };
    // The sync reads them through REST v2 by the space's id, and through v1 where v2 refuses.
    let id = match client.v2_space_id(key).await {
        Ok(id) => id,
        Err(err) if crate::confluence::v2_refused(&err) => None,
        Err(err) => return Err(err.into()),
    };
    let permissions = match client.space_permissions(key, id.as_deref()).await {
        Ok(SpacePermissions::Cloud(perms)) => perms,
        Ok(SpacePermissions::DataCenter(_)) => Vec::new(),
        Err(err @ (ClientError::Forbidden { .. } | ClientError::Unauthorized { .. })) => {
            return Err(missing(
                format!("the permissions of space `{key}` could not be read"),
                &err,
                SPACE_RIGHT,
            )
            .into());
        }
        Err(err) => return Err(err.into()),
    };
    if permissions.is_empty() {
        return Err(AclError::MissingRight {
            what: format!("Confluence returned no permissions for space `{key}`"),
            detail: "an empty `permissions` list".to_owned(),
            fix: SPACE_RIGHT.to_owned(),
        }
        .into());
    }
    // Members are listed by group id on Cloud, as the sync lists them.
    let group = permissions
        .iter()
        .filter_map(|p| p.subjects.as_ref()?.group.as_ref())
        .flat_map(|groups| groups.results.iter())
        .find_map(|g| g.id.clone());
    if let Some(group) = group
        && let Err(err) = client.group_members_by_id(&group)?.next_page().await
    {
        return Err(match err {
            ClientError::Forbidden { .. } | ClientError::Unauthorized { .. } => missing(
                format!("the members of group `{group}` could not be listed"),
                &err,
                USERS_RIGHT,
            )
            .into(),
            err => err.into(),
        });
    }
    if let Err(err) = client.cloud_users()?.next_page().await {
        return Err(match err {
            ClientError::Forbidden { .. } | ClientError::Unauthorized { .. } => missing(
                "the site's users could not be listed (`rest/api/3/users/search`)".to_owned(),
                &err,
                USERS_RIGHT,
            )
            .into(),
            err => err.into(),
        });
    }
    Ok(())
}

const SPACE_RIGHT: &str = "give the crawler's account the Admin permission of the space (or \
     Confluence administrator rights) so it may read space permissions; with a scoped API token \
     also grant `read:confluence-space.summary`";

const USERS_RIGHT: &str = "give the crawler's account the \"Browse users and groups\" global \
     permission (Confluence administration > Global permissions); with a scoped API token also \
     grant `read:confluence-user` and `read:confluence-groups`";

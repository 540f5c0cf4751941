//! Where space permissions come from, found once per sync: Cloud's `expand=permissions`; on
//! Server and Data Center the native API (Data Center 9.1+) or the Extender for Confluence app.
//! Neither on Server/DC is a configuration error, reported before anything is written.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AclError;
use crate::confluence::{ClientError, ConfluenceClient, Flavor};

/// The API space permissions are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PermissionSource {
    /// Cloud: `rest/api/space/{key}?expand=permissions`.
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
            PermissionSource::CloudExpansion => "Cloud space permissions (expand=permissions)",
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
    let native = || async { client.space_permissions(key).await.map(|_| ()) };
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

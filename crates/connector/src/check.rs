//! "Test connection": one clear result per check, in words an admin can act on. Confluence
//! credentials, space availability (the reference's "Spaces 'X' are not available" message) and
//! the target's reachability and privileges.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::config::{ConnectorConfig, Secrets, Target};
use crate::confluence::{ClientError, ConfluenceClient, Space};
use crate::sink::{EsSink, PrivilegeCheck};

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// All good.
    Passed,
    /// Works, but something deserves attention.
    Warning,
    /// Does not work; the message says why and what to do.
    Failed,
    /// Not run, because an earlier check failed.
    Skipped,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Check {
    /// `confluence`, `spaces` or `target`.
    pub id: String,
    /// What was checked, for people.
    pub label: String,
    /// The outcome.
    pub status: CheckStatus,
    /// What was found.
    pub message: String,
    /// The configuration field to look at, if one is to blame.
    pub field: Option<String>,
}

fn check(
    id: &str,
    label: &str,
    status: CheckStatus,
    message: impl Into<String>,
    field: Option<&str>,
) -> Check {
    Check {
        id: id.into(),
        label: label.into(),
        status,
        message: message.into(),
        field: field.map(Into::into),
    }
}

fn credentials_field(config: &ConnectorConfig) -> &'static str {
    use crate::config::{DataCenterAuthMethod, DataSource};
    match (config.data_source, config.data_center_auth_method) {
        (DataSource::ConfluenceCloud, _) => "api_token",
        (DataSource::ConfluenceServer, _) => "password",
        (DataSource::ConfluenceDataCenter, DataCenterAuthMethod::Basic) => "data_center_password",
        (DataSource::ConfluenceDataCenter, DataCenterAuthMethod::PersonalAccessToken) => {
            "data_center_personal_access_token"
        }
    }
}

/// The message and field of a failed sign-in check: the error's own words (they carry the
/// fix), and the field to change.
fn confluence_failure(config: &ConnectorConfig, err: &ClientError) -> (String, &'static str) {
    use crate::config::{DataCenterAuthMethod, DataSource};
    match err {
        ClientError::CredentialsRefused { .. } | ClientError::CloudLoginRefused { .. } => {
            (err.to_string(), credentials_field(config))
        }
        ClientError::WrongAccount { .. } => {
            let field = match (config.data_source, config.data_center_auth_method) {
                (DataSource::ConfluenceCloud, _) => "account_email",
                (DataSource::ConfluenceServer, _) => "username",
                (DataSource::ConfluenceDataCenter, DataCenterAuthMethod::Basic) => {
                    "data_center_username"
                }
                (DataSource::ConfluenceDataCenter, DataCenterAuthMethod::PersonalAccessToken) => {
                    "data_center_personal_access_token"
                }
            };
            (err.to_string(), field)
        }
        ClientError::Unauthorized { .. } | ClientError::Forbidden { .. } => (
            format!(
                "Confluence refused the credentials ({err}); check the user name, the token or \
                 password, and that the account may use Confluence"
            ),
            credentials_field(config),
        ),
        // A certificate for another name is fixed in the URL (or on the server), not by
        // trusting another CA.
        ClientError::Tls { message, .. } if message.contains("(NotValidForName)") => {
            (err.to_string(), "confluence_url")
        }
        ClientError::Tls { .. } => (err.to_string(), "ssl_ca"),
        _ => (
            format!("Confluence could not be reached: {err}"),
            "confluence_url",
        ),
    }
}

/// Runs every remote check of a configuration that passed local validation.
pub async fn remote(config: &ConnectorConfig, secrets: &Secrets) -> Vec<Check> {
    let mut checks = Vec::new();
    const CONFLUENCE: &str = "Confluence credentials";
    const SPACES: &str = "Spaces";
    let client = match ConfluenceClient::from_config(config, secrets) {
        Ok(client) => Some(client),
        Err(err) => {
            checks.push(check(
                "confluence",
                CONFLUENCE,
                CheckStatus::Failed,
                err.to_string(),
                Some("confluence_url"),
            ));
            None
        }
    };
    let mut spaces: Option<Vec<Space>> = None;
    if let Some(client) = &client {
        // Who we are signed in as, before anything is listed: a refused token served as
        // anonymous must not pass as "signed in".
        match client.verify_identity().await {
            Ok(identity) => {
                checks.push(check(
                    "confluence",
                    CONFLUENCE,
                    CheckStatus::Passed,
                    format!(
                        "signed in to {} as {}",
                        config.confluence_url,
                        identity.describe()
                    ),
                    None,
                ));
                match client.spaces() {
                    Ok(pager) => match pager.collect_all().await {
                        Ok(all) => spaces = Some(all),
                        Err(err) => checks.push(check(
                            "spaces",
                            SPACES,
                            CheckStatus::Failed,
                            format!("listing spaces failed: {err}"),
                            Some("spaces"),
                        )),
                    },
                    Err(err) => checks.push(check(
                        "spaces",
                        SPACES,
                        CheckStatus::Failed,
                        err.to_string(),
                        Some("spaces"),
                    )),
                }
            }
            Err(err) => {
                let (message, field) = confluence_failure(config, &err);
                checks.push(check(
                    "confluence",
                    CONFLUENCE,
                    CheckStatus::Failed,
                    message,
                    Some(field),
                ));
            }
        }
    }
    match &spaces {
        Some(all) => {
            let keys: Vec<&str> = all.iter().filter_map(|s| s.key.as_deref()).collect();
            if config.spaces.is_empty() || config.spaces.iter().any(|k| k == "*") {
                checks.push(check(
                    "spaces",
                    SPACES,
                    CheckStatus::Passed,
                    format!("all {} spaces will be synced", keys.len()),
                    None,
                ));
            } else {
                let missing: Vec<&str> = config
                    .spaces
                    .iter()
                    .map(String::as_str)
                    .filter(|k| !keys.contains(k))
                    .collect();
                if missing.is_empty() {
                    checks.push(check(
                        "spaces",
                        SPACES,
                        CheckStatus::Passed,
                        format!("{} configured spaces are available", config.spaces.len()),
                        None,
                    ));
                } else {
                    checks.push(check(
                        "spaces",
                        SPACES,
                        CheckStatus::Failed,
                        format!(
                            "Spaces '{}' are not available. Available spaces are: '{}'",
                            missing.join(", "),
                            keys.join(", ")
                        ),
                        Some("spaces"),
                    ));
                }
            }
        }
        None if !checks.iter().any(|c| c.id == "spaces") => {
            checks.push(check(
                "spaces",
                SPACES,
                CheckStatus::Skipped,
                "needs a working Confluence connection",
                None,
            ));
        }
        None => {}
    }
    if config.use_document_level_security
        && let Some(client) = &client
        && checks.iter().all(|c| c.status != CheckStatus::Failed)
    {
        checks.push(dls(config, client, spaces.as_deref()).await);
    }
    if let Some(extraction) = extraction_service(config).await {
        checks.push(extraction);
    }
    checks.push(target(config, secrets).await);
    checks
}

/// With `use_text_extraction_service`: a small file through the configured service, the way a
/// sync sends attachments (`None` when attachments are read in-process).
pub async fn extraction_service(config: &ConnectorConfig) -> Option<Check> {
    const LABEL: &str = "Text extraction service";
    if !config.use_text_extraction_service {
        return None;
    }
    let service = crate::extract::Service::from_settings(&config.extraction);
    let kind = match config.extraction.service_kind {
        crate::config::ExtractionServiceKind::Tika => "Apache Tika",
        crate::config::ExtractionServiceKind::Elastic => "Elastic's data extraction service",
    };
    Some(match service.probe().await {
        Ok(()) => check(
            "extraction",
            LABEL,
            CheckStatus::Passed,
            format!("{kind} at {} extracted a test file", service.url()),
            None,
        ),
        Err(reason) => check(
            "extraction",
            LABEL,
            CheckStatus::Failed,
            format!(
                "{kind} at {} could not extract a test file: {reason}",
                service.url()
            ),
            Some("extraction_service_url"),
        ),
    })
}

/// Document-level security needs a way to read space permissions: on Server and Data Center
/// the native API (9.1+) or the Extender app.
async fn dls(
    config: &ConnectorConfig,
    client: &ConfluenceClient,
    spaces: Option<&[Space]>,
) -> Check {
    const DLS: &str = "Document-level security";
    let probe = config
        .spaces
        .iter()
        .find(|k| k.as_str() != "*")
        .cloned()
        .or_else(|| spaces?.iter().find_map(|s| s.key.clone()));
    match crate::acl::prereq::probe(client, probe.as_deref(), &config.confluence_url).await {
        Ok(source) => check(
            "dls",
            DLS,
            CheckStatus::Passed,
            match (source, probe.as_deref()) {
                (crate::acl::PermissionSource::CloudExpansion, Some(key)) => format!(
                    "space permissions, group members and users are readable (checked on space \
                     `{key}`); space permissions are read from the {}",
                    source.describe()
                ),
                _ => format!("space permissions are read from the {}", source.describe()),
            },
            None,
        ),
        Err(err) => check(
            "dls",
            DLS,
            CheckStatus::Failed,
            err.to_string(),
            Some("use_document_level_security"),
        ),
    }
}

async fn target(config: &ConnectorConfig, secrets: &Secrets) -> Check {
    const TARGET: &str = "Search index";
    let es = match &config.target {
        Target::Local { index_name } => {
            return check(
                "target",
                TARGET,
                CheckStatus::Passed,
                format!("the embedded local index `{index_name}` needs no server"),
                None,
            );
        }
        Target::Elasticsearch(es) => es,
    };
    let sink = match EsSink::new(&crate::target::es_options(es, secrets)) {
        Ok(sink) => sink,
        Err(err) => {
            return check(
                "target",
                TARGET,
                CheckStatus::Failed,
                err.to_string(),
                Some("es_url"),
            );
        }
    };
    let credentials_field = match es.auth_method {
        crate::config::EsAuthMethod::ApiKey => "es_api_key",
        crate::config::EsAuthMethod::Basic => "es_username",
    };
    match sink.check().await {
        Ok(cluster) => {
            let about = format!(
                "{} {} (cluster `{}`)",
                cluster.distribution, cluster.version, cluster.cluster_name
            );
            let state = &cluster.index_state;
            if !cluster.problems.is_empty() {
                return check(
                    "target",
                    TARGET,
                    CheckStatus::Failed,
                    format!(
                        "reached {about}, but {}; {state}",
                        cluster.problems.join("; ")
                    ),
                    Some("es_pipeline"),
                );
            }
            match cluster.privileges {
                PrivilegeCheck::Granted => check(
                    "target",
                    TARGET,
                    CheckStatus::Passed,
                    format!(
                        "reached {about}; the credentials hold every privilege the connector \
                         needs on `{}` and its access-control index; {state}",
                        es.index_name
                    ),
                    None,
                ),
                PrivilegeCheck::Missing(missing) => check(
                    "target",
                    TARGET,
                    CheckStatus::Failed,
                    format!(
                        "reached {about}, but the credentials lack {} (as `index: privilege`); \
                         create an API key with the least-privilege role the connection shows \
                         (or `confluence-connector validate --es-role`); {state}",
                        missing.join(", "),
                    ),
                    Some(credentials_field),
                ),
                PrivilegeCheck::NotChecked(why) => check(
                    "target",
                    TARGET,
                    CheckStatus::Warning,
                    format!("reached {about}; privileges cannot be checked: {why}; {state}"),
                    None,
                ),
            }
        }
        Err(err) => check(
            "target",
            TARGET,
            CheckStatus::Failed,
            format!("the search cluster could not be used: {err}"),
            Some("es_url"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use serde_json::json;

    use super::*;
    use crate::config::{DataCenterAuthMethod, DataSource, SecretField};

    /// A Data Center site with anonymous access on: `user/current` answers `current` (with
    /// `reason` in `X-Seraph-LoginReason`), the space listing answers one public space.
    async fn site(current: serde_json::Value, reason: &'static str) -> String {
        let router = Router::new()
            .route(
                "/rest/api/user/current",
                get(move || async move {
                    ([("x-seraph-loginreason", reason)], axum::Json(current)).into_response()
                }),
            )
            .route(
                "/rest/api/space",
                get(|| async { axum::Json(json!({"results": [{"id": 1, "key": "PUB"}]})) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        format!("http://{addr}")
    }

    fn dc_pat(url: String) -> (ConnectorConfig, Secrets) {
        let config = ConnectorConfig {
            data_source: DataSource::ConfluenceDataCenter,
            data_center_auth_method: DataCenterAuthMethod::PersonalAccessToken,
            confluence_url: url,
            spaces: vec!["PUB".into()],
            retry_count: 0,
            ..ConnectorConfig::default()
        };
        let secrets = Secrets::new().with(SecretField::DataCenterPersonalAccessToken, "old");
        (config, secrets)
    }

    #[tokio::test]
    async fn a_refused_token_is_not_signed_in() {
        let url = site(
            json!({"type": "anonymous", "displayName": "Anonymous"}),
            "AUTHENTICATED_FAILED",
        )
        .await;
        let (config, secrets) = dc_pat(url);
        let checks = remote(&config, &secrets).await;
        let c = &checks[0];
        assert_eq!(
            (c.id.as_str(), c.status),
            ("confluence", CheckStatus::Failed)
        );
        assert!(
            c.message
                .starts_with("the token was refused (expired or revoked?)"),
            "{}",
            c.message
        );
        assert_eq!(
            c.field.as_deref(),
            Some("data_center_personal_access_token")
        );
        // Nothing was listed as anonymous.
        assert_eq!(checks[1].status, CheckStatus::Skipped);
    }

    #[tokio::test]
    async fn test_connection_says_who_we_are_signed_in_as() {
        let url = site(
            json!({"type": "known", "username": "crawler", "displayName": "Crawler Bot"}),
            "OK",
        )
        .await;
        let (config, secrets) = dc_pat(url);
        let checks = remote(&config, &secrets).await;
        assert_eq!(checks[0].status, CheckStatus::Passed, "{checks:?}");
        assert!(
            checks[0].message.ends_with("as Crawler Bot (crawler)"),
            "{}",
            checks[0].message
        );
        assert_eq!(checks[1].status, CheckStatus::Passed, "{checks:?}");
    }

    #[tokio::test]
    async fn another_account_points_at_the_username() {
        let url = site(json!({"type": "known", "username": "bob"}), "OK").await;
        let config = ConnectorConfig {
            data_source: DataSource::ConfluenceServer,
            username: "alice".into(),
            confluence_url: url,
            spaces: vec!["PUB".into()],
            ..ConnectorConfig::default()
        };
        let secrets = Secrets::new().with(SecretField::Password, "pw");
        let checks = remote(&config, &secrets).await;
        assert_eq!(checks[0].status, CheckStatus::Failed);
        assert!(
            checks[0]
                .message
                .starts_with("signed in as bob, not the configured alice"),
            "{}",
            checks[0].message
        );
        assert_eq!(checks[0].field.as_deref(), Some("username"));
    }
}

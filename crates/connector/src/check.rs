//! "Test connection": one clear result per check, in words an admin can act on. Where the
//! secrets are kept (the OS keyring, or the connection's environment variables), Confluence
//! (reachable, and the credentials accepted), space availability (the reference's "Spaces 'X'
//! are not available" message) and the target's reachability and privileges.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::config::{ConnectionEnvSecrets, ConnectorConfig, SecretStore, Secrets, Target};
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
    /// `secrets`, `confluence`, `spaces`, `dls`, `extraction` or `target`.
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
        // The site answered, but not as Confluence at that address does.
        ClientError::NotFound { .. } => (
            format!(
                "{err}: check the Confluence URL, with its context path if Confluence has one \
                 (e.g. https://confluence.acme.local/confluence)"
            ),
            "confluence_url",
        ),
        // Unreachable, timed out, refused: the error says why and what to check.
        _ => (err.to_string(), "confluence_url"),
    }
}

/// Where the connection's secrets are kept, checked before anything is sent: the OS keyring
/// (`store`, read once: an unavailable keyring fails here, in plain words, with the way out), or
/// the connection's environment variables (named). `None` when there is nothing to check (the
/// sandbox keeps its secrets in memory).
pub fn secret_storage(config: &ConnectorConfig, store: Option<&dyn SecretStore>) -> Option<Check> {
    const LABEL: &str = "Where secrets are kept";
    if let Some(env) = ConnectionEnvSecrets::for_config(config) {
        return Some(check(
            "secrets",
            LABEL,
            CheckStatus::Passed,
            format!(
                "read from the environment variables CONFLUENCE_CONNECTOR_{}_*, never stored",
                env.name()
            ),
            None,
        ));
    }
    let store = store?;
    Some(match store.secret(crate::config::SecretField::ApiToken) {
        Ok(_) => check(
            "secrets",
            LABEL,
            CheckStatus::Passed,
            "the OS keyring is available: secrets are saved there",
            None,
        ),
        Err(crate::config::ConfigError::Keyring { message, .. }) => check(
            "secrets",
            LABEL,
            CheckStatus::Failed,
            format!("Secrets cannot be saved: {message}"),
            Some("secrets_from_env"),
        ),
        Err(err) => check(
            "secrets",
            LABEL,
            CheckStatus::Failed,
            format!("Secrets cannot be saved: {err}"),
            Some("secrets_from_env"),
        ),
    })
}

/// Runs every remote check of a configuration that passed local validation.
pub async fn remote(config: &ConnectorConfig, secrets: &Secrets) -> Vec<Check> {
    let mut checks = Vec::new();
    const CONFLUENCE: &str = "Confluence";
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
                match client.spaces().await {
                    Ok(all) => spaces = Some(all),
                    Err(err) => checks.push(check(
                        "spaces",
                        SPACES,
                        CheckStatus::Failed,
                        format!("listing spaces failed: {err}"),
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
        // Its own words: why the cluster could not be reached and what to check.
        Err(crate::Error::Sink(crate::sink::SinkError::Unreachable { message, .. })) => check(
            "target",
            TARGET,
            CheckStatus::Failed,
            message,
            Some("es_url"),
        ),
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
                .starts_with("Confluence refused the personal access token (expired or revoked?)"),
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

    /// A port of 127.0.0.1 nothing listens on.
    async fn closed_port() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    fn server_at(url: String) -> (ConnectorConfig, Secrets) {
        let mut config = ConnectorConfig {
            data_source: DataSource::ConfluenceServer,
            username: "alice".into(),
            confluence_url: url,
            retry_count: 0,
            ..ConnectorConfig::default()
        };
        config.http.connect_timeout_secs = 5;
        (config, Secrets::new().with(SecretField::Password, "pw"))
    }

    #[tokio::test]
    async fn an_unreachable_host_says_the_connection_was_refused() {
        let port = closed_port().await;
        let (config, secrets) = server_at(format!("http://127.0.0.1:{port}"));
        let checks = remote(&config, &secrets).await;
        let c = &checks[0];
        assert_eq!(
            (c.id.as_str(), c.label.as_str(), c.status),
            ("confluence", "Confluence", CheckStatus::Failed)
        );
        assert_eq!(
            c.message,
            format!(
                "Could not reach 127.0.0.1:{port}: the connection was refused, nothing answers \
                 on that port. Check the port in the Confluence URL and that the server is \
                 running."
            )
        );
        assert_eq!(c.field.as_deref(), Some("confluence_url"));
        assert_eq!(checks[1].status, CheckStatus::Skipped);
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_says_so() {
        // `.invalid` never resolves (RFC 2606).
        let (config, secrets) = server_at("https://confluence.acme.invalid:8090".into());
        let checks = remote(&config, &secrets).await;
        let c = &checks[0];
        assert_eq!(c.status, CheckStatus::Failed, "{checks:?}");
        assert_eq!(
            c.message,
            "Could not reach confluence.acme.invalid: the name does not resolve. Check the \
             Confluence URL and your network or proxy."
        );
        assert_eq!(c.field.as_deref(), Some("confluence_url"));
    }

    #[tokio::test]
    async fn an_unreachable_search_cluster_says_so_in_the_same_words() {
        let url = site(json!({"type": "known", "username": "alice"}), "OK").await;
        let (mut config, secrets) = server_at(url);
        config.spaces = vec!["PUB".into()];
        let port = closed_port().await;
        config.target = Target::Elasticsearch(crate::config::ElasticsearchTarget {
            url: format!("http://127.0.0.1:{port}"),
            ..Default::default()
        });
        let secrets = secrets.with(SecretField::EsApiKey, "key");
        let checks = remote(&config, &secrets).await;
        let target = checks.iter().find(|c| c.id == "target").unwrap();
        assert_eq!(target.status, CheckStatus::Failed);
        assert_eq!(
            target.message,
            format!(
                "Could not reach 127.0.0.1:{port}: the connection was refused, nothing answers \
                 on that port. Check the port in the Elasticsearch URL and that the server is \
                 running."
            )
        );
        assert_eq!(target.field.as_deref(), Some("es_url"));
    }

    #[test]
    fn secret_storage_says_where_secrets_are_kept_and_when_the_keyring_is_unavailable() {
        use crate::config::SecretSource;
        struct NoKeyring;
        impl SecretSource for NoKeyring {
            fn secret(
                &self,
                field: SecretField,
            ) -> Result<Option<String>, crate::config::ConfigError> {
                Err(crate::config::keyring_unavailable(
                    "c1",
                    field,
                    "read",
                    "Platform secure storage failure: no Secret Service",
                ))
            }
        }
        impl SecretStore for NoKeyring {
            fn store(&self, f: SecretField, _: &str) -> Result<(), crate::config::ConfigError> {
                self.secret(f).map(|_| ())
            }
            fn delete(&self, f: SecretField) -> Result<(), crate::config::ConfigError> {
                self.secret(f).map(|_| ())
            }
        }
        let mut config = ConnectorConfig::default();
        let c = secret_storage(&config, Some(&NoKeyring)).unwrap();
        assert_eq!((c.id.as_str(), c.status), ("secrets", CheckStatus::Failed));
        assert!(
            c.message.starts_with(
                "Secrets cannot be saved: the OS keyring is not available on this machine"
            ) && c
                .message
                .contains("Read secrets from environment variables"),
            "{}",
            c.message
        );
        assert_eq!(c.field.as_deref(), Some("secrets_from_env"));
        let memory = crate::config::MemorySecrets::default();
        let c = secret_storage(&config, Some(&memory)).unwrap();
        assert_eq!(c.status, CheckStatus::Passed);
        assert!(secret_storage(&config, None).is_none());
        config.secrets_from_env = true;
        config.secrets_env_name = "WIKI".into();
        let c = secret_storage(&config, Some(&NoKeyring)).unwrap();
        assert_eq!(c.status, CheckStatus::Passed);
        assert!(
            c.message.contains("CONFLUENCE_CONNECTOR_WIKI_*"),
            "{}",
            c.message
        );
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

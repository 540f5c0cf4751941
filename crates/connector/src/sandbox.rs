//! The sandbox: the built-in Confluence simulator, started in-process, and a configuration that
//! points at it. The demo, the desktop app's first start and the tests use it.

use confluence_sim::{Flavor as SimFlavor, RunningSim, SimOptions};

use crate::config::{ConnectorConfig, DataCenterAuthMethod, DataSource, SecretField, Secrets};
use crate::{Error, Result};

/// A running simulator and the configuration and secrets that reach it.
pub struct Sandbox {
    /// The simulator, serving until [`Sandbox::shutdown`].
    pub sim: RunningSim,
    /// A configuration pointing at it (every space, labels on).
    pub config: ConnectorConfig,
    /// The simulator's credentials for that configuration.
    pub secrets: Secrets,
}

impl Sandbox {
    /// Starts a simulator with `options` on a free port of 127.0.0.1.
    pub async fn start(options: SimOptions) -> Result<Sandbox> {
        let sim = confluence_sim::start(options)
            .await
            .map_err(|err| Error::Io {
                context: "starting the built-in Confluence simulator".to_owned(),
                source: std::io::Error::other(err.to_string()),
            })?;
        let (config, secrets) = config_for(&sim);
        Ok(Sandbox {
            sim,
            config,
            secrets,
        })
    }

    /// `stored` (a saved sandbox connection's configuration) pointed at this simulator: its
    /// address, data source and account come from the simulator, everything else (spaces, rules
    /// options, document-level security, the target) from `stored`.
    pub fn connect(&self, stored: &ConnectorConfig) -> ConnectorConfig {
        let sim = &self.config;
        ConnectorConfig {
            data_source: sim.data_source,
            username: sim.username.clone(),
            data_center_auth_method: sim.data_center_auth_method,
            data_center_username: sim.data_center_username.clone(),
            account_email: sim.account_email.clone(),
            confluence_url: sim.confluence_url.clone(),
            ssl_enabled: false,
            ssl_ca: String::new(),
            tls_insecure_skip_verify: false,
            ..stored.clone()
        }
    }

    /// Stops the simulator.
    pub async fn shutdown(self) {
        self.sim.shutdown().await;
    }
}

/// A configuration and secrets that reach a running simulator with its crawler account.
pub fn config_for(sim: &RunningSim) -> (ConnectorConfig, Secrets) {
    let creds = sim.credentials();
    let mut config = ConnectorConfig {
        confluence_url: sim.base_url(),
        index_labels: true,
        ..ConnectorConfig::default()
    };
    let mut secrets = Secrets::new();
    match sim.flavor() {
        SimFlavor::Cloud => {
            config.data_source = DataSource::ConfluenceCloud;
            config.account_email = creds.email.unwrap_or_default();
            secrets.set(SecretField::ApiToken, creds.api_token.unwrap_or_default());
        }
        SimFlavor::Server => {
            config.data_source = DataSource::ConfluenceServer;
            config.username = creds.username.unwrap_or_default();
            secrets.set(SecretField::Password, creds.password.unwrap_or_default());
        }
        SimFlavor::DataCenter => {
            config.data_source = DataSource::ConfluenceDataCenter;
            match creds.personal_access_token {
                Some(token) => {
                    config.data_center_auth_method = DataCenterAuthMethod::PersonalAccessToken;
                    secrets.set(SecretField::DataCenterPersonalAccessToken, token);
                }
                None => {
                    config.data_center_auth_method = DataCenterAuthMethod::Basic;
                    config.data_center_username = creds.username.unwrap_or_default();
                    secrets.set(
                        SecretField::DataCenterPassword,
                        creds.password.unwrap_or_default(),
                    );
                }
            }
        }
    }
    (config, secrets)
}

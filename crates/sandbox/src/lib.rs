//! The sandbox: the built-in Confluence simulator, started in-process, and a configuration that
//! points at it. The demo, the desktop app's first start, the CLI's sandbox connections and the
//! tests use it.
//!
//! The engine knows nothing of the simulator: it takes the simulator's address and credentials
//! as a plain [`SiteOverlay`] ([`Sandbox::overlay`]) when it resolves a sandbox connection.

use confluence_sim::{Flavor as SimFlavor, RunningSim, SimOptions};
use connector::config::{ConnectorConfig, DataCenterAuthMethod, DataSource, SecretField, Secrets};
use connector::connections::SiteOverlay;
use connector::{Error, Result};

pub use confluence_sim;

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

    /// The simulator's address and credentials, as the engine applies them to a saved sandbox
    /// connection.
    pub fn overlay(&self) -> SiteOverlay {
        SiteOverlay {
            config: self.config.clone(),
            secrets: self.secrets.clone(),
        }
    }

    /// `stored` (a saved sandbox connection's configuration) pointed at this simulator (see
    /// [`SiteOverlay::apply`]).
    pub fn connect(&self, stored: &ConnectorConfig) -> ConnectorConfig {
        self.overlay().apply(stored)
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

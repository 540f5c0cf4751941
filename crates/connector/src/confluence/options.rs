//! How a client is set up: deployment flavour, credentials, TLS and tuning.

use std::fmt;
use std::time::Duration;

use crate::config::{ConnectorConfig, DataCenterAuthMethod, DataSource, SecretField, Secrets};

use super::ClientError;

/// The Confluence deployment; decides base paths, expansions and pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Confluence Cloud: API under `<site>/wiki`, cursor pagination on search.
    Cloud,
    /// Confluence Server: API under `<url>` (context path kept).
    Server,
    /// Confluence Data Center: as Server, plus native permission APIs and PATs.
    DataCenter,
}

impl From<DataSource> for Flavor {
    fn from(ds: DataSource) -> Self {
        match ds {
            DataSource::ConfluenceCloud => Flavor::Cloud,
            DataSource::ConfluenceServer => Flavor::Server,
            DataSource::ConfluenceDataCenter => Flavor::DataCenter,
        }
    }
}

/// How requests authenticate. `Debug` hides the secrets.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header (anonymous access).
    Anonymous,
    /// HTTP Basic.
    Basic {
        /// Email (Cloud) or username (Server/DC).
        username: String,
        /// API token (Cloud) or password (Server/DC).
        password: String,
    },
    /// `Authorization: Bearer <token>` (Data Center personal access token).
    Bearer {
        /// The token.
        token: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"***")
                .finish(),
            Credentials::Bearer { .. } => f.debug_struct("Bearer").field("token", &"***").finish(),
        }
    }
}

/// Everything a [`super::ConfluenceClient`] needs besides its URL and credentials.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Retries after the first attempt (the configuration's `retry_count`).
    pub retry_count: u32,
    /// First backoff cap; doubled per retry (full jitter: the sleep is uniform in `[0, cap]`).
    pub backoff_base: Duration,
    /// Largest backoff cap.
    pub backoff_max: Duration,
    /// First pause after a 429 without a usable `Retry-After`; doubled (with jitter) on each
    /// further 429 of the same request, up to [`Self::rate_limit_backoff_max`].
    pub rate_limit_backoff_base: Duration,
    /// Longest pause after a 429 without a usable `Retry-After`.
    pub rate_limit_backoff_max: Duration,
    /// Longest `Retry-After` honoured (Confluence has sent `Long.MAX`).
    pub max_retry_after: Duration,
    /// Global pause after a response with `X-RateLimit-NearLimit: true`.
    pub near_limit_pause: Duration,
    /// Time allowed to open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time allowed for an API request, body included.
    pub request_timeout: Duration,
    /// Time any request or download may stay silent: waiting for the answer's headers, and
    /// between two reads of its body.
    pub read_timeout: Duration,
    /// Time allowed for a whole download.
    pub download_timeout: Duration,
    /// API requests in flight at once across all callers.
    pub max_concurrency: usize,
    /// Downloads in flight at once, counted apart from the API requests.
    pub max_downloads: usize,
    /// Cap on requests per second, if any.
    pub requests_per_second: Option<f64>,
    /// Largest download accepted, in bytes.
    pub max_download_bytes: u64,
    /// PEM certificates to trust in addition to the system roots.
    pub extra_ca_pem: Option<String>,
    /// Accept any certificate. Only ever set from `tls_insecure_skip_verify`.
    pub danger_accept_invalid_certs: bool,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Whether listings carry what document-level security needs (space permissions, read
    /// restrictions). Without it they are left out: a quarter of a listing's bytes.
    pub access_control: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry_count: 3,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            rate_limit_backoff_base: Duration::from_secs(1),
            rate_limit_backoff_max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            near_limit_pause: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            read_timeout: Duration::from_secs(60),
            download_timeout: Duration::from_secs(600),
            max_concurrency: 16,
            max_downloads: 16,
            requests_per_second: None,
            max_download_bytes: 10 * 1024 * 1024,
            extra_ca_pem: None,
            danger_accept_invalid_certs: false,
            user_agent: format!("confluence-connector/{}", env!("CARGO_PKG_VERSION")),
            access_control: true,
        }
    }
}

impl ClientOptions {
    /// The options a configuration asks for.
    pub fn from_config(config: &ConnectorConfig) -> Self {
        let h = &config.http;
        ClientOptions {
            retry_count: config.retry_count,
            connect_timeout: Duration::from_secs(h.connect_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(h.request_timeout_secs.max(1)),
            read_timeout: Duration::from_secs(h.read_timeout_secs.max(1)),
            max_concurrency: usize::try_from(h.max_concurrent_requests.max(1)).unwrap_or(16),
            max_downloads: config.concurrent_downloads.clamp(1, 50) as usize,
            requests_per_second: h
                .max_requests_per_second
                .filter(|r| r.is_finite() && *r > 0.0),
            // The extraction service reads any size (the reference's rule); in-process, the cap.
            max_download_bytes: if config.use_text_extraction_service {
                u64::MAX
            } else {
                h.max_download_bytes
            },
            extra_ca_pem: (config.ssl_enabled && !config.ssl_ca.trim().is_empty())
                .then(|| config.ssl_ca.clone()),
            danger_accept_invalid_certs: config.tls_insecure_skip_verify,
            access_control: config.use_document_level_security,
            ..ClientOptions::default()
        }
    }
}

impl Credentials {
    /// The credentials the configuration selects, or a setup error naming what is missing.
    pub fn from_config(config: &ConnectorConfig, secrets: &Secrets) -> Result<Self, ClientError> {
        let need = |field: SecretField| {
            secrets.get(field).map(str::to_string).ok_or_else(|| {
                ClientError::Setup(format!(
                    "`{}` is not set (keyring or environment variable `{}`)",
                    field.key(),
                    field.env_var()
                ))
            })
        };
        let basic = |username: &str, field: SecretField| -> Result<Credentials, ClientError> {
            if username.trim().is_empty() {
                return Err(ClientError::Setup("the username is empty".to_string()));
            }
            Ok(Credentials::Basic {
                username: username.trim().to_string(),
                password: need(field)?,
            })
        };
        match config.data_source {
            DataSource::ConfluenceCloud => basic(&config.account_email, SecretField::ApiToken),
            DataSource::ConfluenceServer => basic(&config.username, SecretField::Password),
            DataSource::ConfluenceDataCenter => match config.data_center_auth_method {
                DataCenterAuthMethod::Basic => basic(
                    &config.data_center_username,
                    SecretField::DataCenterPassword,
                ),
                DataCenterAuthMethod::PersonalAccessToken => Ok(Credentials::Bearer {
                    token: need(SecretField::DataCenterPersonalAccessToken)?,
                }),
            },
        }
    }
}

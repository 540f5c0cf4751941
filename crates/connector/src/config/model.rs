//! The configuration values (everything but the secrets).

use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

/// The index name used when none is configured, as in Elastic's connector.
pub const DEFAULT_INDEX_NAME: &str = "search-confluence";

/// Which Confluence deployment the connector talks to (`data_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DataSource {
    /// Confluence Cloud (`https://<site>.atlassian.net`), email + API token.
    ConfluenceCloud,
    /// Confluence Server, username + password. The reference's default.
    #[default]
    ConfluenceServer,
    /// Confluence Data Center, username + password or a personal access token.
    ConfluenceDataCenter,
}

impl DataSource {
    /// The value stored in `connector.json` (`confluence_cloud`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DataSource::ConfluenceCloud => "confluence_cloud",
            DataSource::ConfluenceServer => "confluence_server",
            DataSource::ConfluenceDataCenter => "confluence_data_center",
        }
    }

    /// Parses the `connector.json` value.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "confluence_cloud" => Some(DataSource::ConfluenceCloud),
            "confluence_server" => Some(DataSource::ConfluenceServer),
            "confluence_data_center" => Some(DataSource::ConfluenceDataCenter),
            _ => None,
        }
    }
}

/// How the connector authenticates to Data Center (`data_center_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DataCenterAuthMethod {
    /// HTTP Basic with `data_center_username` and `data_center_password`.
    #[default]
    Basic,
    /// `Authorization: Bearer <data_center_personal_access_token>`.
    PersonalAccessToken,
}

impl DataCenterAuthMethod {
    /// The value stored in `connector.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCenterAuthMethod::Basic => "basic",
            DataCenterAuthMethod::PersonalAccessToken => "personal_access_token",
        }
    }

    /// Parses the `connector.json` value.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "basic" => Some(DataCenterAuthMethod::Basic),
            "personal_access_token" => Some(DataCenterAuthMethod::PersonalAccessToken),
            _ => None,
        }
    }
}

/// HTTP tuning of the Confluence client; not part of the reference's 18 fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct HttpSettings {
    /// Seconds allowed to open a connection (TCP + TLS).
    #[ts(type = "number")]
    pub connect_timeout_secs: u64,
    /// Seconds allowed for one whole API request, body included.
    #[ts(type = "number")]
    pub request_timeout_secs: u64,
    /// Seconds a download may stay silent before it is abandoned.
    #[ts(type = "number")]
    pub read_timeout_secs: u64,
    /// Requests to Confluence in flight at once, across all workers.
    #[ts(type = "number")]
    pub max_concurrent_requests: u64,
    /// Cap on requests per second; `None` means no cap.
    pub max_requests_per_second: Option<f64>,
    /// Largest attachment downloaded, in bytes (the reference's 10 MiB).
    #[ts(type = "number")]
    pub max_download_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout_secs: 10,
            request_timeout_secs: 120,
            read_timeout_secs: 60,
            max_concurrent_requests: 16,
            max_requests_per_second: None,
            max_download_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Which text extraction service `use_text_extraction_service` sends attachments to
/// (`extraction_service_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExtractionServiceKind {
    /// An Apache Tika server (`tika-server` 3.x): `PUT /tika`, plain text back. Our default,
    /// and what configurations saved before the choice existed meant.
    #[default]
    Tika,
    /// Elastic's data extraction service (what the reference's `use_text_extraction_service`
    /// means): `PUT /extract_text/`, JSON back; the file in the body or, with
    /// [`ExtractionSettings::use_file_pointers`], its path in a shared directory.
    Elastic,
}

impl ExtractionServiceKind {
    /// The stored value (`tika`, `elastic`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractionServiceKind::Tika => "tika",
            ExtractionServiceKind::Elastic => "elastic",
        }
    }

    /// Parses the stored value.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "tika" => Some(ExtractionServiceKind::Tika),
            "elastic" => Some(ExtractionServiceKind::Elastic),
            _ => None,
        }
    }

    /// The address the service listens on when run as its documentation says.
    pub fn default_url(self) -> &'static str {
        match self {
            ExtractionServiceKind::Tika => "http://127.0.0.1:9998",
            ExtractionServiceKind::Elastic => "http://127.0.0.1:8090",
        }
    }
}

/// Limits of attachment text extraction, and where the extraction service is. Not part of the
/// reference's 18 fields; the download cap is [`HttpSettings::max_download_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ExtractionSettings {
    /// Text kept per attachment, in bytes; longer text is cut and the cut noted.
    #[ts(type = "number")]
    pub max_text_bytes: u64,
    /// Seconds allowed to extract the text of one file in-process.
    #[ts(type = "number")]
    pub timeout_secs: u64,
    /// Which service `use_text_extraction_service` sends attachments to.
    pub service_kind: ExtractionServiceKind,
    /// The service's address (Elastic's `extraction_service.host`).
    pub service_url: String,
    /// Seconds allowed for the extraction service to answer for one file.
    #[ts(type = "number")]
    pub service_timeout_secs: u64,
    /// Elastic's service only: send the path of the file in [`Self::shared_volume_dir`]
    /// (`?local_file_path=`) instead of the file itself (Elastic's
    /// `extraction_service.use_file_pointers`).
    pub use_file_pointers: bool,
    /// The directory this machine shares with the service, where files are put for it to read
    /// (Elastic's `extraction_service.shared_volume_dir`, `/app/files` by default).
    pub shared_volume_dir: String,
    /// The same directory as the service sees it, when it is mounted elsewhere there (e.g.
    /// `/app/files` in the service's container); empty when the paths are the same, as
    /// Elastic's connector assumes.
    pub shared_volume_service_dir: String,
}

impl Default for ExtractionSettings {
    fn default() -> Self {
        ExtractionSettings {
            max_text_bytes: 2 * 1024 * 1024,
            timeout_secs: 60,
            service_kind: ExtractionServiceKind::Tika,
            service_url: ExtractionServiceKind::Tika.default_url().to_string(),
            service_timeout_secs: 300,
            use_file_pointers: false,
            shared_volume_dir: "/app/files".to_string(),
            shared_volume_service_dir: String::new(),
        }
    }
}

/// How the connector authenticates to Elasticsearch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EsAuthMethod {
    /// `Authorization: ApiKey <api_key>` (the secret [`super::SecretField::EsApiKey`]).
    #[default]
    ApiKey,
    /// HTTP Basic with `username` and the secret [`super::SecretField::EsPassword`].
    Basic,
}

/// An Elasticsearch (or OpenSearch) cluster to index into. Secrets live in [`super::Secrets`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ElasticsearchTarget {
    /// Cluster URL, e.g. `https://localhost:9200`.
    pub url: String,
    /// API key or username + password.
    pub auth_method: EsAuthMethod,
    /// Username for [`EsAuthMethod::Basic`].
    pub username: String,
    /// PEM certificate(s) to trust in addition to the system roots; empty for none.
    pub ca_certificate: String,
    /// The content index (with `alias_swap`, the alias searchers query); the access-control
    /// index is `.search-acl-filter-<index_name>`.
    pub index_name: String,
    /// Primary shards of the indices the connector creates; `None`: the cluster's default.
    /// Applies when an index is created (with `alias_swap`, at every full sync).
    pub number_of_shards: Option<u32>,
    /// Replicas of each shard; `None`: the cluster's default. Applied to existing indices too.
    pub number_of_replicas: Option<u32>,
    /// `index.refresh_interval` between full syncs, e.g. `1s` or `30s`; empty: the cluster's
    /// default.
    pub refresh_interval: String,
    /// `index.refresh_interval` while a full sync writes, e.g. `-1` (no refresh until the end);
    /// empty: unchanged. Put back to `refresh_interval` when the sync ends, however it ends.
    pub bulk_refresh_interval: String,
    /// The ingest pipeline documents pass through (`_bulk?pipeline=`), as in Elastic's
    /// connectors; empty: none.
    pub pipeline: String,
    /// Full syncs write a fresh index `<index_name>-<time>-<job>` and move the alias
    /// `<index_name>` to it only when complete; incremental syncs write through the alias.
    pub alias_swap: bool,
}

impl Default for ElasticsearchTarget {
    fn default() -> Self {
        ElasticsearchTarget {
            url: String::new(),
            auth_method: EsAuthMethod::ApiKey,
            username: String::new(),
            ca_certificate: String::new(),
            index_name: DEFAULT_INDEX_NAME.to_string(),
            number_of_shards: None,
            number_of_replicas: None,
            refresh_interval: String::new(),
            bulk_refresh_interval: String::new(),
            pipeline: String::new(),
            alias_swap: false,
        }
    }
}

/// Where documents go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Target {
    /// The embedded local index (the default: works without any server).
    Local {
        /// The local index name.
        index_name: String,
    },
    /// An Elasticsearch or OpenSearch cluster.
    Elasticsearch(ElasticsearchTarget),
}

impl Default for Target {
    fn default() -> Self {
        Target::Local {
            index_name: DEFAULT_INDEX_NAME.to_string(),
        }
    }
}

impl Target {
    /// The content index name, whichever the target.
    pub fn index_name(&self) -> &str {
        match self {
            Target::Local { index_name } => index_name,
            Target::Elasticsearch(es) => &es.index_name,
        }
    }
}

/// The connector configuration without its secrets (see [`super::Secrets`]).
///
/// Field names and defaults follow Elastic's connector (`reference-connector.md` section 9);
/// `tls_insecure_skip_verify`, `http` and `target` are ours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ConnectorConfig {
    /// Cloud, Server or Data Center.
    pub data_source: DataSource,
    /// Server username.
    pub username: String,
    /// Data Center: Basic or personal access token.
    pub data_center_auth_method: DataCenterAuthMethod,
    /// Data Center username (Basic).
    pub data_center_username: String,
    /// Cloud account email.
    pub account_email: String,
    /// Site URL: `https://<site>.atlassian.net` or `https://host[:port][/context]`.
    pub confluence_url: String,
    /// Space keys to sync; `["*"]` means every space. A string is split on commas.
    #[serde(deserialize_with = "deserialize_spaces")]
    pub spaces: Vec<String>,
    /// Also fetch and index page labels (one more request per page).
    pub index_labels: bool,
    /// Trust the extra CA in `ssl_ca`. TLS is verified whether this is on or off.
    pub ssl_enabled: bool,
    /// PEM certificate(s) to trust when `ssl_enabled`.
    pub ssl_ca: String,
    /// Turn certificate verification off. Dangerous; never implied by `ssl_enabled = false`.
    pub tls_insecure_skip_verify: bool,
    /// Retries per request after the first attempt.
    pub retry_count: u32,
    /// Attachment downloads in flight at once (1 to 50).
    pub concurrent_downloads: u32,
    /// Compute `_allow_access_control` and run access-control syncs.
    pub use_document_level_security: bool,
    /// Send attachments to an external extraction service instead of extracting in-process.
    pub use_text_extraction_service: bool,
    /// Timeouts, concurrency and rate caps of the Confluence client.
    pub http: HttpSettings,
    /// Limits of attachment text extraction, and the extraction service.
    pub extraction: ExtractionSettings,
    /// The safety threshold of deletions: a full sync that would delete more than this share
    /// of the index (in percent) without explanation deletes nothing and fails.
    pub deletion_threshold_percent: u32,
    /// Where the documents go.
    pub target: Target,
    /// Read this connection's secrets from its environment variables
    /// (`CONFLUENCE_CONNECTOR_<secrets_env_name>_<FIELD>`, see
    /// [`super::ConnectionEnvSecrets`]) instead of the OS keyring: for desktops without a usable
    /// keyring. Nothing secret is stored anywhere.
    pub secrets_from_env: bool,
    /// The connection's name in those variables (upper case letters, digits and `_`).
    pub secrets_env_name: String,
}

impl Default for ConnectorConfig {
    fn default() -> Self {
        ConnectorConfig {
            data_source: DataSource::default(),
            username: String::new(),
            data_center_auth_method: DataCenterAuthMethod::default(),
            data_center_username: String::new(),
            account_email: String::new(),
            confluence_url: String::new(),
            spaces: vec!["*".to_string()],
            index_labels: false,
            ssl_enabled: false,
            ssl_ca: String::new(),
            tls_insecure_skip_verify: false,
            retry_count: 3,
            concurrent_downloads: 50,
            use_document_level_security: false,
            use_text_extraction_service: false,
            http: HttpSettings::default(),
            extraction: ExtractionSettings::default(),
            deletion_threshold_percent: 50,
            target: Target::default(),
            secrets_from_env: false,
            secrets_env_name: String::new(),
        }
    }
}

impl ConnectorConfig {
    /// True when every space is selected (`spaces` is exactly `["*"]`).
    pub fn all_spaces(&self) -> bool {
        self.spaces.len() == 1 && self.spaces[0] == "*"
    }
}

/// Splits a comma-separated list, trimming items and dropping empty ones.
pub fn split_spaces(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn deserialize_spaces<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Spaces {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Spaces>::deserialize(d)? {
        None => Vec::new(),
        Some(Spaces::One(s)) => split_spaces(&s),
        Some(Spaces::Many(v)) => v.iter().flat_map(|s| split_spaces(s)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_from_string_are_split_and_trimmed() {
        let cfg: ConnectorConfig =
            serde_json::from_value(serde_json::json!({"spaces": " DEV, ,OPS ,"})).unwrap();
        assert_eq!(cfg.spaces, vec!["DEV", "OPS"]);
        let cfg: ConnectorConfig =
            serde_json::from_value(serde_json::json!({"spaces": ["A", " B "]})).unwrap();
        assert_eq!(cfg.spaces, vec!["A", "B"]);
    }

    #[test]
    fn defaults_match_the_reference() {
        let cfg = ConnectorConfig::default();
        assert_eq!(cfg.data_source, DataSource::ConfluenceServer);
        assert_eq!(cfg.retry_count, 3);
        assert_eq!(cfg.concurrent_downloads, 50);
        assert!(!cfg.tls_insecure_skip_verify);
        assert_eq!(cfg.target.index_name(), "search-confluence");
        assert!(cfg.all_spaces());
    }

    #[test]
    fn target_round_trips() {
        let cfg = ConnectorConfig {
            target: Target::Elasticsearch(ElasticsearchTarget {
                url: "https://es:9200".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["target"]["kind"], "elasticsearch");
        let back: ConnectorConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, cfg);
    }
}

//! The description of the configuration form, for UIs (and for `connector.json` exports).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

/// How a field is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldDisplay {
    /// One-line text input.
    Text,
    /// Multi-line text input.
    Textarea,
    /// A choice among [`FieldSpec::options`].
    Dropdown,
    /// An on/off switch.
    Toggle,
    /// A number input.
    Numeric,
    /// A masked input for secrets.
    Password,
}

/// The value type of a field, as Elastic names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
    /// A list of strings (a comma-separated string is accepted).
    List,
}

/// A condition on another field: this field applies only when `field` equals `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DependsOn {
    /// The key of the field the condition reads.
    pub field: String,
    /// The value it must have.
    pub value: Value,
}

/// One choice of a dropdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SelectOption {
    /// What the user sees.
    pub label: String,
    /// What is stored.
    pub value: String,
}

/// A declarative check, in Elastic's vocabulary (`less_than`, `greater_than`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldValidation {
    /// The kind of check, e.g. `less_than`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its operand, e.g. `51`.
    pub constraint: Value,
}

/// One field of the configuration form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldSpec {
    /// The key in the configuration (and in `connector.json`).
    pub key: String,
    /// The label shown next to the input.
    pub label: String,
    /// Help shown on hover, if any.
    pub tooltip: Option<String>,
    /// How the input looks.
    pub display: FieldDisplay,
    /// The value type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// The default value (`null` when none).
    pub default: Value,
    /// Whether a value must be given when the field applies.
    pub required: bool,
    /// Whether the value is a secret (kept in the keyring, never exported).
    pub sensitive: bool,
    /// All conditions must hold for the field to apply (and be shown).
    pub depends_on: Vec<DependsOn>,
    /// Choices for a dropdown; empty otherwise.
    pub options: Vec<SelectOption>,
    /// Declarative checks; [`super::validate`] applies them.
    pub validations: Vec<FieldValidation>,
    /// `Some("advanced")` for fields the reference tucks away.
    pub ui_group: Option<String>,
    /// Position in the form, from 1.
    #[ts(type = "number")]
    pub order: u32,
}

struct Builder(FieldSpec);

impl Builder {
    fn new(key: &str, label: &str) -> Self {
        Builder(FieldSpec {
            key: key.to_string(),
            label: label.to_string(),
            tooltip: None,
            display: FieldDisplay::Text,
            field_type: FieldType::Str,
            default: Value::Null,
            required: true,
            sensitive: false,
            depends_on: Vec::new(),
            options: Vec::new(),
            validations: Vec::new(),
            ui_group: None,
            order: 0,
        })
    }
    fn tooltip(mut self, t: &str) -> Self {
        self.0.tooltip = Some(t.to_string());
        self
    }
    fn display(mut self, d: FieldDisplay) -> Self {
        self.0.display = d;
        self
    }
    fn kind(mut self, t: FieldType) -> Self {
        self.0.field_type = t;
        self
    }
    fn default(mut self, v: Value) -> Self {
        self.0.default = v;
        self
    }
    fn optional(mut self) -> Self {
        self.0.required = false;
        self
    }
    fn secret(mut self) -> Self {
        self.0.sensitive = true;
        self.0.display = FieldDisplay::Password;
        self
    }
    fn when(mut self, field: &str, value: Value) -> Self {
        self.0.depends_on.push(DependsOn {
            field: field.to_string(),
            value,
        });
        self
    }
    fn options(mut self, opts: &[(&str, &str)]) -> Self {
        self.0.display = FieldDisplay::Dropdown;
        self.0.options = opts
            .iter()
            .map(|(label, value)| SelectOption {
                label: label.to_string(),
                value: value.to_string(),
            })
            .collect();
        self
    }
    fn check(mut self, kind: &str, constraint: Value) -> Self {
        self.0.validations.push(FieldValidation {
            kind: kind.to_string(),
            constraint,
        });
        self
    }
    fn advanced(mut self) -> Self {
        self.0.ui_group = Some("advanced".to_string());
        self
    }
    fn toggle(self) -> Self {
        self.display(FieldDisplay::Toggle)
            .kind(FieldType::Bool)
            .default(json!(false))
            .optional()
    }
    fn numeric(self, default: u32) -> Self {
        self.display(FieldDisplay::Numeric)
            .kind(FieldType::Int)
            .default(json!(default))
            .optional()
    }
}

fn number(list: Vec<Builder>) -> Vec<FieldSpec> {
    list.into_iter()
        .zip(1u32..)
        .map(|(b, order)| FieldSpec { order, ..b.0 })
        .collect()
}

const CLOUD: &str = "confluence_cloud";
const SERVER: &str = "confluence_server";
const DATA_CENTER: &str = "confluence_data_center";

/// The connector's fields: the reference's 18 in its order, then ours: the extraction service's
/// kind, URL and shared volume (`extraction_service_*`), `tls_insecure_skip_verify` and
/// `deletion_threshold_percent`.
pub fn fields() -> Vec<FieldSpec> {
    let ds = "data_source";
    number(vec![
        Builder::new(ds, "Confluence data source")
            .options(&[
                ("Confluence Cloud", CLOUD),
                ("Confluence Server", SERVER),
                ("Confluence Data Center", DATA_CENTER),
            ])
            .default(json!(SERVER)),
        Builder::new("username", "Confluence Server username").when(ds, json!(SERVER)),
        Builder::new("password", "Confluence Server password")
            .secret()
            .when(ds, json!(SERVER)),
        Builder::new(
            "data_center_auth_method",
            "Confluence Data Center authentication method",
        )
        .options(&[
            ("Basic authentication", "basic"),
            ("Personal access token", "personal_access_token"),
        ])
        .default(json!("basic"))
        .when(ds, json!(DATA_CENTER)),
        Builder::new("data_center_username", "Confluence Data Center username")
            .when(ds, json!(DATA_CENTER))
            .when("data_center_auth_method", json!("basic")),
        Builder::new("data_center_password", "Confluence Data Center password")
            .secret()
            .when(ds, json!(DATA_CENTER))
            .when("data_center_auth_method", json!("basic")),
        Builder::new(
            "data_center_personal_access_token",
            "Confluence Data Center personal access token",
        )
        .secret()
        .tooltip("Created in Confluence under Profile > Personal Access Tokens (Data Center 7.9+). Sent as `Authorization: Bearer`.")
        .when(ds, json!(DATA_CENTER))
        .when("data_center_auth_method", json!("personal_access_token")),
        Builder::new("account_email", "Confluence Cloud account email").when(ds, json!(CLOUD)),
        Builder::new("api_token", "Confluence Cloud API token")
            .secret()
            .tooltip("Created at id.atlassian.com > Security > API tokens, for the account above.")
            .when(ds, json!(CLOUD)),
        Builder::new("confluence_url", "Confluence URL").tooltip(
            "The address of the site, as in the browser: https://<site>.atlassian.net for Cloud, \
             https://host:8090 or https://host/confluence for Server and Data Center.",
        ),
        Builder::new("spaces", "Confluence space keys")
            .display(FieldDisplay::Textarea)
            .kind(FieldType::List)
            .default(json!(["*"]))
            .tooltip(
                "Comma-separated space keys, or * alone for all spaces. \
                 Ignored when advanced sync rules are used.",
            ),
        Builder::new("index_labels", "Enable indexing labels")
            .toggle()
            .tooltip("Adds one request per page and blog post to fetch its labels."),
        Builder::new("ssl_enabled", "Enable SSL")
            .toggle()
            .tooltip("Trust the certificate below in addition to the system's. Certificates are verified whether this is on or off."),
        Builder::new("ssl_ca", "SSL certificate")
            .display(FieldDisplay::Textarea)
            .tooltip("PEM certificate (-----BEGIN CERTIFICATE-----) of the CA that signed Confluence's certificate.")
            .when("ssl_enabled", json!(true)),
        Builder::new("retry_count", "Retries per request")
            .numeric(3)
            .check("less_than", json!(21))
            .advanced(),
        Builder::new("concurrent_downloads", "Maximum concurrent downloads")
            .numeric(50)
            .check("greater_than", json!(0))
            .check("less_than", json!(51))
            .advanced(),
        Builder::new("use_document_level_security", "Enable document level security")
            .toggle()
            .tooltip(
                "Stores who may read each document in _allow_access_control and enables \
                 access-control syncs, which write one identity document per user.",
            ),
        Builder::new("use_text_extraction_service", "Use text extraction service")
            .toggle()
            .tooltip("Sends attachments to an external extraction service (Apache Tika or Elastic's data extraction service) instead of extracting them in-process.")
            .advanced(),
        Builder::new("extraction_service_kind", "Text extraction service")
            .options(&[
                ("Apache Tika server", "tika"),
                ("Elastic data extraction service", "elastic"),
            ])
            .default(json!("tika"))
            .when("use_text_extraction_service", json!(true))
            .tooltip(
                "Apache Tika: tika-server 3.x, PUT /tika. Elastic: the data extraction service \
                 Elastic's connectors use (docker.elastic.co/integrations/data-extraction-service), \
                 PUT /extract_text/.",
            )
            .advanced(),
        Builder::new("extraction_service_url", "Text extraction service URL")
            .optional()
            .default(json!(super::ExtractionSettings::default().service_url))
            .when("use_text_extraction_service", json!(true))
            .tooltip(
                "Where the service listens, e.g. http://127.0.0.1:9998 for Tika or \
                 http://127.0.0.1:8090 for Elastic's service; files of any size go there.",
            )
            .advanced(),
        Builder::new("extraction_service_use_file_pointers", "Send file paths (shared volume)")
            .toggle()
            .when("use_text_extraction_service", json!(true))
            .when("extraction_service_kind", json!("elastic"))
            .tooltip(
                "Instead of uploading each file, put it in a directory shared with the service \
                 and send its path (Elastic's use_file_pointers). For large files on the same \
                 host or a shared volume.",
            )
            .advanced(),
        Builder::new("extraction_service_shared_volume_dir", "Shared volume directory")
            .default(json!(super::ExtractionSettings::default().shared_volume_dir))
            .when("use_text_extraction_service", json!(true))
            .when("extraction_service_kind", json!("elastic"))
            .when("extraction_service_use_file_pointers", json!(true))
            .tooltip(
                "An absolute path on this machine that the service can read too \
                 (Elastic's shared_volume_dir). Files are written there for the time of \
                 their extraction.",
            )
            .advanced(),
        Builder::new(
            "extraction_service_shared_volume_service_dir",
            "Shared volume directory, as the service sees it",
        )
        .optional()
        .when("use_text_extraction_service", json!(true))
        .when("extraction_service_kind", json!("elastic"))
        .when("extraction_service_use_file_pointers", json!(true))
        .tooltip(
            "Only when the service mounts the directory at another path (e.g. /app/files in its \
             container while it is /srv/extraction here). Empty: the same path.",
        )
        .advanced(),
        Builder::new("tls_insecure_skip_verify", "Skip TLS certificate verification (insecure)")
            .toggle()
            .tooltip("Accept any certificate, including forged ones. Only for tests against a server you control.")
            .advanced(),
        Builder::new("deletion_threshold_percent", "Deletion safety threshold (%)")
            .numeric(50)
            .check("less_than", json!(101))
            .tooltip(
                "A full sync that would delete more than this share of the index without a \
                 deliberate scope change deletes nothing and fails. 0 to 100; 100 turns the \
                 guard off.",
            )
            .advanced(),
    ])
}

/// The target's fields. Keys: `target_kind`, `index_name`, `es_url`, `es_auth_method`,
/// `es_username`, `es_api_key`, `es_password`, `es_ca_certificate`.
pub fn target_fields() -> Vec<FieldSpec> {
    let kind = "target_kind";
    let es = json!("elasticsearch");
    number(vec![
        Builder::new(kind, "Index into")
            .options(&[
                ("Local index (built in)", "local"),
                ("Elasticsearch or OpenSearch", "elasticsearch"),
            ])
            .default(json!("local")),
        Builder::new("index_name", "Index name")
            .default(json!(super::DEFAULT_INDEX_NAME))
            .tooltip("Lower case; the access-control index is .search-acl-filter-<index name>."),
        Builder::new("es_url", "Elasticsearch URL")
            .tooltip("For example https://localhost:9200.")
            .when(kind, es.clone()),
        Builder::new("es_auth_method", "Elasticsearch authentication")
            .options(&[("API key", "api_key"), ("Username and password", "basic")])
            .default(json!("api_key"))
            .when(kind, es.clone()),
        Builder::new("es_api_key", "Elasticsearch API key")
            .secret()
            .tooltip("The encoded API key, as Kibana shows it once.")
            .when(kind, es.clone())
            .when("es_auth_method", json!("api_key")),
        Builder::new("es_username", "Elasticsearch username")
            .when(kind, es.clone())
            .when("es_auth_method", json!("basic")),
        Builder::new("es_password", "Elasticsearch password")
            .secret()
            .when(kind, es.clone())
            .when("es_auth_method", json!("basic")),
        Builder::new("es_ca_certificate", "Elasticsearch CA certificate")
            .display(FieldDisplay::Textarea)
            .optional()
            .tooltip("PEM certificate of the cluster's CA (http_ca.crt), when it is not publicly trusted.")
            .when(kind, es.clone()),
        Builder::new("es_alias_swap", "Rebuild behind an alias on full syncs")
            .toggle()
            .tooltip(
                "Full syncs write a fresh index <index name>-<time>-<job> and move the alias \
                 <index name> to it only when complete, so searchers never see a half-synced \
                 index; a failed sync deletes the fresh index. Incremental syncs write through \
                 the alias. An existing index of that name is replaced by the alias once the \
                 first fresh index is complete.",
            )
            .when(kind, es.clone())
            .advanced(),
        Builder::new("es_number_of_shards", "Number of shards")
            .display(FieldDisplay::Numeric)
            .kind(FieldType::Int)
            .optional()
            .check("greater_than", json!(0))
            .check("less_than", json!(1025))
            .tooltip(
                "Primary shards of the indices the connector creates; empty for the cluster's \
                 default. An existing index keeps its shards (with the alias swap, the next full \
                 sync applies it).",
            )
            .when(kind, es.clone())
            .advanced(),
        Builder::new("es_number_of_replicas", "Number of replicas")
            .display(FieldDisplay::Numeric)
            .kind(FieldType::Int)
            .optional()
            .check("less_than", json!(100))
            .tooltip(
                "Copies of each shard on other nodes; empty for the cluster's default. Applied to \
                 the existing index at each sync.",
            )
            .when(kind, es.clone())
            .advanced(),
        Builder::new("es_refresh_interval", "Refresh interval")
            .optional()
            .tooltip(
                "How soon writes become searchable between full syncs, e.g. 1s or 30s; empty for \
                 the cluster's default.",
            )
            .when(kind, es.clone())
            .advanced(),
        Builder::new("es_bulk_refresh_interval", "Refresh interval during full syncs")
            .optional()
            .tooltip(
                "For example -1: no refresh while a full sync writes, which makes it faster; the \
                 refresh interval above is put back when the sync ends, also when it fails. \
                 Empty: unchanged.",
            )
            .when(kind, es.clone())
            .advanced(),
        Builder::new("es_pipeline", "Ingest pipeline")
            .optional()
            .tooltip(
                "An ingest pipeline every document passes through (_bulk?pipeline=), as Elastic's \
                 connectors' `pipeline` setting, e.g. search-default-ingestion; empty for none.",
            )
            .when(kind, es)
            .advanced(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_reference_fields_plus_ours() {
        let f = fields();
        assert_eq!(f.len(), 25);
        assert_eq!(f[0].key, "data_source");
        assert_eq!(f[17].key, "use_text_extraction_service");
        let sensitive: Vec<_> = f
            .iter()
            .filter(|s| s.sensitive)
            .map(|s| s.key.as_str())
            .collect();
        assert_eq!(
            sensitive,
            [
                "password",
                "data_center_password",
                "data_center_personal_access_token",
                "api_token"
            ]
        );
        let advanced: Vec<_> = f
            .iter()
            .filter(|s| s.ui_group.is_some())
            .map(|s| s.key.as_str())
            .collect();
        assert_eq!(
            advanced,
            [
                "retry_count",
                "concurrent_downloads",
                "use_text_extraction_service",
                "extraction_service_kind",
                "extraction_service_url",
                "extraction_service_use_file_pointers",
                "extraction_service_shared_volume_dir",
                "extraction_service_shared_volume_service_dir",
                "tls_insecure_skip_verify",
                "deletion_threshold_percent"
            ]
        );
        let dc_pat = &f[6];
        assert_eq!(dc_pat.depends_on.len(), 2);
        assert!(f.iter().zip(1..).all(|(s, i)| s.order == i));
    }

    #[test]
    fn the_shared_volume_fields_apply_to_elastics_service_only() {
        let f = fields();
        let spec = |key: &str| f.iter().find(|s| s.key == key).unwrap();
        let kind = spec("extraction_service_kind");
        assert_eq!(kind.default, json!("tika"));
        let values: Vec<_> = kind.options.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(values, ["tika", "elastic"]);
        let dir = spec("extraction_service_shared_volume_dir");
        let conditions: Vec<_> = dir.depends_on.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            conditions,
            [
                "use_text_extraction_service",
                "extraction_service_kind",
                "extraction_service_use_file_pointers"
            ]
        );
        assert_eq!(dir.default, json!("/app/files"));
    }

    #[test]
    fn target_secrets_are_sensitive() {
        let t = target_fields();
        for key in ["es_api_key", "es_password"] {
            assert!(t.iter().any(|s| s.key == key && s.sensitive));
        }
    }

    #[test]
    fn index_settings_are_advanced_elasticsearch_fields() {
        let t = target_fields();
        let advanced: Vec<_> = t
            .iter()
            .filter(|s| s.ui_group.is_some())
            .map(|s| s.key.as_str())
            .collect();
        assert_eq!(
            advanced,
            [
                "es_alias_swap",
                "es_number_of_shards",
                "es_number_of_replicas",
                "es_refresh_interval",
                "es_bulk_refresh_interval",
                "es_pipeline"
            ]
        );
        for spec in t.iter().filter(|s| s.ui_group.is_some()) {
            assert!(!spec.required, "{}", spec.key);
            assert_eq!(spec.depends_on[0].field, "target_kind", "{}", spec.key);
        }
    }
}

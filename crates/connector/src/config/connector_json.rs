//! Import and export of Elastic's `connector.json` configuration shape.
//!
//! Kibana stores a connector's configuration as an object of entries keyed by field:
//! `{"configuration": {"data_source": {"label": "...", "value": "confluence_server", ...}, ...}}`.
//! [`import`] accepts that, the bare `configuration` object, and plain `{key: value}` maps.
//! [`export`] writes the full Kibana entries (label, value, type, display, depends_on, ...) with
//! every sensitive value blanked, plus our own settings under `confluence_connector` (HTTP
//! tuning, extraction limits, the target, the deletion safety threshold).

use serde_json::{Map, Value, json};

use super::{
    ConfigError, ConnectorConfig, DataCenterAuthMethod, DataSource, ExtractionServiceKind,
    FieldSpec, FieldType, HttpSettings, SecretField, Secrets, Target, fields, split_spaces,
};

/// The key under which [`export`] writes the settings Elastic's shape has no place for.
pub const EXTENSION_KEY: &str = "confluence_connector";

/// Fields of the form that [`export`] writes under [`EXTENSION_KEY`] rather than among
/// Elastic's `configuration` entries (Kibana has no such setting).
const EXTENSION_FIELDS: &[&str] = &["deletion_threshold_percent"];

/// The `extraction_service` block of Elastic's connector service configuration (`config.yml`:
/// `host`, `timeout`, `use_file_pointers`, `shared_volume_dir`, `stream_chunk_size`), accepted
/// at the top of an imported document or among its fields: it selects Elastic's data
/// extraction service.
pub const ELASTIC_EXTRACTION_KEY: &str = "extraction_service";

/// The result of [`import`].
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The configuration read.
    pub config: ConnectorConfig,
    /// Secrets the document carried (usually none: exports blank them).
    pub secrets: Secrets,
    /// Keys that were ignored, and similar notes for the user.
    pub warnings: Vec<String>,
    /// The secret fields the document held a value for (among Elastic's entries, or as
    /// `api_key` / `password` of our target). The app's import may store them in the keyring;
    /// a configuration file given to the CLI must not hold any: see [`Imported::refuse_secrets`].
    pub secrets_in_document: Vec<SecretField>,
}

impl Imported {
    /// An error naming every secret the document holds and the environment variable to use
    /// instead; `Ok` when it holds none. For configuration files, which never carry secrets.
    pub fn refuse_secrets(&self) -> Result<(), ConfigError> {
        if self.secrets_in_document.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = self.secrets_in_document.iter().map(|f| f.key()).collect();
        let instead: Vec<String> = self
            .secrets_in_document
            .iter()
            .map(|f| format!("`{}` for `{}`", f.env_var(), f.key()))
            .collect();
        Err(ConfigError::InvalidValue {
            field: keys.join(", "),
            message: format!(
                "the configuration file holds a secret, and secrets are never read from it: \
                 remove the value from the file and set the environment variable {} instead \
                 (or store it in the keyring with the app)",
                instead.join(", ")
            ),
        })
    }
}

/// Reads a `connector.json` document (see the module documentation for accepted shapes).
pub fn import(text: &str) -> Result<Imported, ConfigError> {
    import_value(&serde_json::from_str(text)?)
}

/// [`import`] from an already parsed document.
pub fn import_value(doc: &Value) -> Result<Imported, ConfigError> {
    let root = doc
        .as_object()
        .ok_or_else(|| ConfigError::Shape("expected a JSON object".to_string()))?;
    let entries = match root.get("configuration") {
        Some(Value::Object(c)) => c,
        Some(_) => {
            return Err(ConfigError::Shape(
                "`configuration` must be an object of fields".to_string(),
            ));
        }
        None => root,
    };
    let mut config = ConnectorConfig::default();
    let mut secrets = Secrets::new();
    let mut warnings = Vec::new();
    let mut secrets_in_document = Vec::new();
    let mut kibana_shaped = false;
    for (key, entry) in entries {
        let value = match entry {
            Value::Object(o) if o.contains_key("value") || o.contains_key("label") => {
                kibana_shaped = true;
                o.get("value").unwrap_or(&Value::Null)
            }
            other => other,
        };
        if let Some(field) = SecretField::from_key(key) {
            if let Some(s) = value.as_str() {
                secrets.set(field, s);
            }
            if secrets.get(field).is_some() && !secrets_in_document.contains(&field) {
                secrets_in_document.push(field);
            }
            continue;
        }
        // Top-level keys of the document itself, read elsewhere (or by the caller).
        let document_key = matches!(
            key.as_str(),
            EXTENSION_KEY
                | ELASTIC_EXTRACTION_KEY
                | "index_name"
                | "service_type"
                | "name"
                | "filtering"
                | "description"
        );
        if !apply(&mut config, key, value)? && !document_key {
            warnings.push(format!("ignored unknown field `{key}`"));
        }
    }
    if let Some(ext) = root.get(EXTENSION_KEY) {
        if let Some(http) = ext.get("http") {
            config.http = serde_json::from_value::<HttpSettings>(http.clone())?;
        }
        if let Some(extraction) = ext.get("extraction") {
            config.extraction = serde_json::from_value(extraction.clone())?;
        }
        if let Some(target) = ext.get("target") {
            // The target has no secret fields; a value under one of their names is a secret
            // all the same (and would otherwise be dropped without a word).
            for (key, field) in [
                ("api_key", SecretField::EsApiKey),
                ("es_api_key", SecretField::EsApiKey),
                ("password", SecretField::EsPassword),
                ("es_password", SecretField::EsPassword),
            ] {
                if target
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.trim().is_empty())
                    && !secrets_in_document.contains(&field)
                {
                    secrets_in_document.push(field);
                }
            }
            config.target = serde_json::from_value::<Target>(target.clone())?;
        }
        for key in EXTENSION_FIELDS {
            if let Some(value) = ext.get(*key) {
                apply(&mut config, key, value)?;
            }
        }
    }
    let block = root
        .get(ELASTIC_EXTRACTION_KEY)
        .or_else(|| entries.get(ELASTIC_EXTRACTION_KEY));
    if let Some(block) = block {
        apply_elastic_extraction(&mut config, block, &mut warnings)?;
    } else if kibana_shaped
        && config.use_text_extraction_service
        && root.get(EXTENSION_KEY).is_none()
        && !entries.contains_key("extraction_service_kind")
        && !entries.contains_key("extraction_service_url")
    {
        // Elastic's own document: there, the setting means Elastic's data extraction service,
        // whose address lives in the connector service's config.yml, not in connector.json.
        let kind = ExtractionServiceKind::Elastic;
        config.extraction.service_kind = kind;
        config.extraction.service_url = kind.default_url().to_owned();
        warnings.push(format!(
            "`use_text_extraction_service` is on: in Elastic's connector it means Elastic's data \
             extraction service, so `extraction_service_kind` is `elastic` at {} (the service's \
             address is `extraction_service.host` in Elastic's config.yml, not in \
             connector.json): check `extraction_service_url`",
            kind.default_url()
        ));
    }
    if root
        .get(EXTENSION_KEY)
        .and_then(|e| e.get("target"))
        .is_none()
        && let Some(name) = root.get("index_name").and_then(Value::as_str)
        && !name.is_empty()
    {
        match &mut config.target {
            Target::Local { index_name } => *index_name = name.to_string(),
            Target::Elasticsearch(es) => es.index_name = name.to_string(),
        }
    }
    // Elastic's document (ours carry `confluence_connector`): its `ssl_enabled: false` meant
    // "do not verify", which is not what it means here.
    if entries.contains_key("ssl_enabled")
        && root.get(EXTENSION_KEY).is_none()
        && let Some(note) = verification_note(&config)
    {
        warnings.push(note);
    }
    Ok(Imported {
        config,
        secrets,
        warnings,
        secrets_in_document,
    })
}

/// Writes `config` as a `connector.json` document; sensitive values are always `""`.
pub fn export(config: &ConnectorConfig) -> Value {
    let mut entries = Map::new();
    for spec in fields() {
        if EXTENSION_FIELDS.contains(&spec.key.as_str()) {
            continue;
        }
        let value = if spec.sensitive {
            json!("")
        } else {
            current_value(config, &spec.key)
        };
        entries.insert(spec.key.clone(), entry(&spec, value));
    }
    json!({
        "service_type": "confluence",
        "index_name": config.target.index_name(),
        "configuration": entries,
        EXTENSION_KEY: {
            "http": config.http,
            "extraction": config.extraction,
            "target": config.target,
            "deletion_threshold_percent": config.deletion_threshold_percent,
        },
    })
}

fn entry(spec: &FieldSpec, value: Value) -> Value {
    let kind = match spec.field_type {
        FieldType::Str => "str",
        FieldType::Int => "int",
        FieldType::Bool => "bool",
        FieldType::List => "list",
    };
    let default = match (&spec.field_type, &spec.default) {
        (FieldType::List, Value::Array(a)) => json!(join(a)),
        (_, d) => d.clone(),
    };
    json!({
        "label": spec.label,
        "value": value,
        "type": kind,
        "display": spec.display,
        "required": spec.required,
        "sensitive": spec.sensitive,
        "order": spec.order,
        "depends_on": spec.depends_on,
        "default_value": default,
        "tooltip": spec.tooltip,
        "ui_restrictions": spec.ui_group.iter().collect::<Vec<_>>(),
        "validations": spec.validations,
        "options": spec.options,
    })
}

fn join(items: &[Value]) -> String {
    items
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn current_value(c: &ConnectorConfig, key: &str) -> Value {
    match key {
        "data_source" => json!(c.data_source.as_str()),
        "username" => json!(c.username),
        "data_center_auth_method" => json!(c.data_center_auth_method.as_str()),
        "data_center_username" => json!(c.data_center_username),
        "account_email" => json!(c.account_email),
        "confluence_url" => json!(c.confluence_url),
        "spaces" => json!(c.spaces.join(",")),
        "index_labels" => json!(c.index_labels),
        "ssl_enabled" => json!(c.ssl_enabled),
        "ssl_ca" => json!(c.ssl_ca),
        "retry_count" => json!(c.retry_count),
        "concurrent_downloads" => json!(c.concurrent_downloads),
        "use_document_level_security" => json!(c.use_document_level_security),
        "use_text_extraction_service" => json!(c.use_text_extraction_service),
        "extraction_service_kind" => json!(c.extraction.service_kind.as_str()),
        "extraction_service_url" => json!(c.extraction.service_url),
        "extraction_service_use_file_pointers" => json!(c.extraction.use_file_pointers),
        "extraction_service_shared_volume_dir" => json!(c.extraction.shared_volume_dir),
        "extraction_service_shared_volume_service_dir" => {
            json!(c.extraction.shared_volume_service_dir)
        }
        "tls_insecure_skip_verify" => json!(c.tls_insecure_skip_verify),
        "deletion_threshold_percent" => json!(c.deletion_threshold_percent),
        _ => Value::Null,
    }
}

/// Sets `key` from `value`; `Ok(false)` for an unknown key.
pub(super) fn apply(
    c: &mut ConnectorConfig,
    key: &str,
    value: &Value,
) -> Result<bool, ConfigError> {
    match key {
        "data_source" => {
            if let Some(s) = text(value) {
                c.data_source = DataSource::parse(&s).ok_or_else(|| invalid(
                    key,
                    format!("expected confluence_cloud, confluence_server or confluence_data_center, got `{s}`"),
                ))?;
            }
        }
        "data_center_auth_method" => {
            if let Some(s) = text(value) {
                c.data_center_auth_method = DataCenterAuthMethod::parse(&s).ok_or_else(|| {
                    invalid(
                        key,
                        format!("expected basic or personal_access_token, got `{s}`"),
                    )
                })?;
            }
        }
        "username" => c.username = text(value).unwrap_or_default(),
        "data_center_username" => c.data_center_username = text(value).unwrap_or_default(),
        "account_email" => c.account_email = text(value).unwrap_or_default(),
        "confluence_url" => c.confluence_url = text(value).unwrap_or_default(),
        "ssl_ca" => c.ssl_ca = text(value).unwrap_or_default(),
        "spaces" => {
            c.spaces = match value {
                Value::Array(items) => items
                    .iter()
                    .filter_map(text)
                    .flat_map(|s| split_spaces(&s))
                    .collect(),
                other => text(other).map(|s| split_spaces(&s)).unwrap_or_default(),
            }
        }
        "index_labels" => c.index_labels = boolean(key, value, c.index_labels)?,
        "ssl_enabled" => c.ssl_enabled = boolean(key, value, c.ssl_enabled)?,
        "tls_insecure_skip_verify" => {
            c.tls_insecure_skip_verify = boolean(key, value, c.tls_insecure_skip_verify)?
        }
        "use_document_level_security" => {
            c.use_document_level_security = boolean(key, value, c.use_document_level_security)?
        }
        "use_text_extraction_service" => {
            c.use_text_extraction_service = boolean(key, value, c.use_text_extraction_service)?
        }
        "extraction_service_kind" => {
            if let Some(s) = text(value).filter(|s| !s.trim().is_empty()) {
                c.extraction.service_kind = ExtractionServiceKind::parse(&s).ok_or_else(|| {
                    invalid(
                        key,
                        format!(
                            "expected tika (an Apache Tika server) or elastic (Elastic's data \
                             extraction service), got `{s}`"
                        ),
                    )
                })?;
            }
        }
        "extraction_service_url" => {
            if let Some(url) = value.as_str() {
                c.extraction.service_url = url.trim().to_owned();
            }
        }
        "extraction_service_use_file_pointers" => {
            c.extraction.use_file_pointers = boolean(key, value, c.extraction.use_file_pointers)?
        }
        "extraction_service_shared_volume_dir" => {
            if let Some(dir) = value.as_str() {
                c.extraction.shared_volume_dir = dir.trim().to_owned();
            }
        }
        "extraction_service_shared_volume_service_dir" => {
            if let Some(dir) = value.as_str() {
                c.extraction.shared_volume_service_dir = dir.trim().to_owned();
            }
        }
        "retry_count" => c.retry_count = integer(key, value, c.retry_count)?,
        "concurrent_downloads" => {
            c.concurrent_downloads = integer(key, value, c.concurrent_downloads)?
        }
        "deletion_threshold_percent" => {
            c.deletion_threshold_percent = integer(key, value, c.deletion_threshold_percent)?
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Reads Elastic's `extraction_service` block (see [`ELASTIC_EXTRACTION_KEY`]): Elastic's data
/// extraction service, at `host`, with its `timeout`, `use_file_pointers` and
/// `shared_volume_dir`.
fn apply_elastic_extraction(
    c: &mut ConnectorConfig,
    block: &Value,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let key = ELASTIC_EXTRACTION_KEY;
    let Value::Object(block) = block else {
        return Err(invalid(
            key,
            format!(
                "expected an object such as {{\"host\": \"http://127.0.0.1:8090\"}}, got {block}"
            ),
        ));
    };
    let e = &mut c.extraction;
    e.service_kind = ExtractionServiceKind::Elastic;
    match block.get("host").and_then(text) {
        Some(host) if !host.trim().is_empty() => e.service_url = host.trim().to_owned(),
        _ => {
            e.service_url = ExtractionServiceKind::Elastic.default_url().to_owned();
            warnings.push(format!(
                "`{key}` has no `host`: Elastic's data extraction service is assumed at {}",
                e.service_url
            ));
        }
    }
    for (name, value) in block {
        let field = format!("{key}.{name}");
        match name.as_str() {
            "host" | "stream_chunk_size" => {}
            "timeout" => {
                e.service_timeout_secs = integer(&field, value, 30)?.into();
            }
            "use_file_pointers" => {
                e.use_file_pointers = boolean(&field, value, e.use_file_pointers)?;
            }
            "shared_volume_dir" => {
                if let Some(dir) = text(value) {
                    e.shared_volume_dir = dir.trim().to_owned();
                }
            }
            _ => warnings.push(format!("ignored unknown field `{field}`")),
        }
    }
    Ok(())
}

fn invalid(field: &str, message: String) -> ConfigError {
    ConfigError::InvalidValue {
        field: field.to_string(),
        message,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn boolean(field: &str, value: &Value, default: bool) -> Result<bool, ConfigError> {
    match value {
        Value::Null => Ok(default),
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(default),
            "true" | "t" | "yes" | "y" | "on" | "1" => Ok(true),
            "false" | "f" | "no" | "n" | "off" | "0" => Ok(false),
            _ => Err(invalid(field, format!("expected true or false, got `{s}`"))),
        },
        other => Err(invalid(
            field,
            format!("expected true or false, got {other}"),
        )),
    }
}

fn integer(field: &str, value: &Value, default: u32) -> Result<u32, ConfigError> {
    let parsed = match value {
        Value::Null => return Ok(default),
        Value::Number(n) => n.as_u64(),
        Value::String(s) if s.trim().is_empty() => return Ok(default),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    parsed
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| invalid(field, format!("expected a whole number, got {value}")))
}

/// The note for an imported `ssl_enabled: false`: in Elastic's connector it turns certificate
/// verification off (its HTTP client gets `ssl=False`); here certificates are always verified,
/// so a server that Elastic's connector reached without checking may now be refused. `None`
/// when it cannot matter: a plain `http://` address, or verification turned off on purpose
/// (`tls_insecure_skip_verify`).
fn verification_note(config: &ConnectorConfig) -> Option<String> {
    if config.ssl_enabled || config.tls_insecure_skip_verify {
        return None;
    }
    let address = config.confluence_url.trim();
    let url = url::Url::parse(address).ok();
    if url.as_ref().is_some_and(|u| u.scheme() == "http") {
        return None;
    }
    let host = url
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned))
        .map(|h| format!("`{h}`"))
        .unwrap_or_else(|| "the Confluence server".to_owned());
    let ignored = if config.ssl_ca.trim().is_empty() {
        ""
    } else {
        " (the certificate now in `ssl_ca` is used only once `ssl_enabled` is true)"
    };
    Some(format!(
        "`ssl_enabled` is false: in Elastic's connector that turns certificate verification \
         off, but in this app certificate verification stays on, and `ssl_enabled` only decides \
         whether the certificate in `ssl_ca` is trusted as well. A publicly trusted certificate \
         needs nothing more. If the certificate of {host} is self-signed or issued by a private \
         CA (or a proxy re-signs the traffic), trust that CA in one of two ways: add it to the \
         operating system's trust store of this machine, or set `ssl_enabled: true` and paste \
         the CA certificate's PEM text (from `-----BEGIN CERTIFICATE-----` to \
         `-----END CERTIFICATE-----`) into `ssl_ca`{ignored}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like the reference's end-to-end fixture.
    const FIXTURE: &str = r#"{
      "configuration": {
        "data_source": {"label": "Confluence data source", "value": "confluence_server", "display": "dropdown"},
        "username": {"label": "Confluence Server username", "value": "admin"},
        "password": {"label": "Confluence Server password", "value": "abc@123", "sensitive": true},
        "account_email": {"label": "Confluence Cloud account email", "value": ""},
        "api_token": {"label": "Confluence Cloud API token", "value": "", "sensitive": true},
        "confluence_url": {"label": "Confluence URL label", "value": "http://127.0.0.1:9696"},
        "spaces": {"label": "Confluence space keys", "value": "*"},
        "index_labels": {"label": "Enable indexing labels", "value": true},
        "ssl_enabled": {"label": "Enable SSL", "value": false},
        "ssl_ca": {"label": "SSL certificate", "value": ""},
        "retry_count": {"label": "Retries per request", "value": 3},
        "concurrent_downloads": {"label": "Maximum concurrent downloads", "value": 50},
        "use_document_level_security": {"label": "Enable document level security", "value": false},
        "use_text_extraction_service": {"label": "Use text extraction service", "value": false}
      },
      "index_name": "search-confluence",
      "service_type": "confluence"
    }"#;

    #[test]
    fn imports_the_kibana_shape() {
        let imp = import(FIXTURE).unwrap();
        assert_eq!(imp.config.username, "admin");
        assert_eq!(imp.config.confluence_url, "http://127.0.0.1:9696");
        assert!(imp.config.index_labels && imp.config.all_spaces());
        assert_eq!(imp.secrets.get(SecretField::Password), Some("abc@123"));
        assert_eq!(imp.secrets.get(SecretField::ApiToken), None);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    }

    #[test]
    fn secrets_in_the_document_are_reported_with_their_variable() {
        let imp = import(FIXTURE).unwrap();
        assert_eq!(imp.secrets_in_document, [SecretField::Password]);
        let err = imp.refuse_secrets().unwrap_err().to_string();
        assert!(err.contains("`password`"), "{err}");
        assert!(err.contains("CONFLUENCE_PASSWORD"), "{err}");
        assert!(!err.contains("abc@123"), "{err}");
        let imp = import(
            r#"{"api_token": "t", "data_center_personal_access_token": "",
                "confluence_connector": {"target": {"kind": "elasticsearch", "url": "https://es:9200",
                                                    "api_key": "k"}}}"#,
        )
        .unwrap();
        assert_eq!(
            imp.secrets_in_document,
            [SecretField::ApiToken, SecretField::EsApiKey]
        );
        let err = imp.refuse_secrets().unwrap_err().to_string();
        assert!(
            err.contains("CONFLUENCE_API_TOKEN") && err.contains("ES_API_KEY"),
            "{err}"
        );
        // Exports blank every secret: nothing to refuse.
        let back = import_value(&export(&import(FIXTURE).unwrap().config)).unwrap();
        assert!(back.secrets_in_document.is_empty());
        assert!(back.refuse_secrets().is_ok());
    }

    #[test]
    fn imports_plain_values_and_coerces() {
        let imp = import(
            r#"{"data_source": "confluence_cloud", "spaces": "DEV, OPS", "retry_count": "5",
                "index_labels": "yes", "account_email": "a@b.c", "bogus": 1}"#,
        )
        .unwrap();
        assert_eq!(imp.config.data_source, DataSource::ConfluenceCloud);
        assert_eq!(imp.config.spaces, ["DEV", "OPS"]);
        assert_eq!(imp.config.retry_count, 5);
        assert!(imp.config.index_labels);
        assert_eq!(imp.warnings, ["ignored unknown field `bogus`"]);
    }

    #[test]
    fn rejects_bad_values_with_the_field() {
        let err = import(r#"{"data_source": "sharepoint"}"#).unwrap_err();
        assert!(err.to_string().contains("data_source"), "{err}");
        let err = import(r#"{"retry_count": "many"}"#).unwrap_err();
        assert!(err.to_string().contains("retry_count"), "{err}");
        assert!(import("[1]").is_err());
    }

    #[test]
    fn the_deletion_threshold_travels_under_our_extension_key() {
        let config = ConnectorConfig {
            deletion_threshold_percent: 85,
            ..ConnectorConfig::default()
        };
        let doc = export(&config);
        assert_eq!(doc[EXTENSION_KEY]["deletion_threshold_percent"], 85);
        assert!(
            doc["configuration"]
                .get("deletion_threshold_percent")
                .is_none()
        );
        assert_eq!(
            import_value(&doc)
                .unwrap()
                .config
                .deletion_threshold_percent,
            85
        );
        // A plain map, and the default when absent.
        let imp = import(r#"{"deletion_threshold_percent": "20"}"#).unwrap();
        assert_eq!(imp.config.deletion_threshold_percent, 20);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        assert_eq!(import("{}").unwrap().config.deletion_threshold_percent, 50);
        let err = import(r#"{"confluence_connector": {"deletion_threshold_percent": "half"}}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("deletion_threshold_percent"),
            "{err}"
        );
    }

    #[test]
    fn elastics_extraction_service_setting_selects_its_service() {
        // Kibana's document: the setting means Elastic's data extraction service.
        let kibana = FIXTURE.replace(
            r#""Use text extraction service", "value": false"#,
            r#""Use text extraction service", "value": true"#,
        );
        let imp = import(&kibana).unwrap();
        assert!(imp.config.use_text_extraction_service);
        let e = &imp.config.extraction;
        assert_eq!(e.service_kind, ExtractionServiceKind::Elastic);
        assert_eq!(e.service_url, "http://127.0.0.1:8090");
        assert_eq!(imp.warnings.len(), 1, "{:?}", imp.warnings);
        assert!(
            imp.warnings[0].contains("`extraction_service_kind` is `elastic`"),
            "{:?}",
            imp.warnings
        );
        // Our own files and exports say which service they mean; without a kind it is Tika.
        let plain = import(
            r#"{"use_text_extraction_service": true, "extraction_service_url": "http://tika:9998"}"#,
        )
        .unwrap();
        assert_eq!(
            plain.config.extraction.service_kind,
            ExtractionServiceKind::Tika
        );
        assert!(plain.warnings.is_empty(), "{:?}", plain.warnings);
        let mut before = import(FIXTURE).unwrap().config;
        before.use_text_extraction_service = true;
        let mut doc = export(&before);
        let configuration = doc["configuration"].as_object_mut().unwrap();
        configuration.retain(|k, _| !k.starts_with("extraction_service_"));
        doc[EXTENSION_KEY]["extraction"]
            .as_object_mut()
            .unwrap()
            .retain(|k, _| !matches!(k.as_str(), "service_kind" | "use_file_pointers"));
        let old = import_value(&doc).unwrap();
        assert_eq!(
            old.config.extraction.service_kind,
            ExtractionServiceKind::Tika
        );
    }

    #[test]
    fn the_extraction_service_round_trips_and_bad_kinds_name_the_field() {
        let mut config = import(FIXTURE).unwrap().config;
        config.use_text_extraction_service = true;
        config.extraction.service_kind = ExtractionServiceKind::Elastic;
        config.extraction.service_url = "http://extract:8090".into();
        config.extraction.use_file_pointers = true;
        config.extraction.shared_volume_dir = "/srv/extraction".into();
        config.extraction.shared_volume_service_dir = "/app/files".into();
        let doc = export(&config);
        assert_eq!(
            doc["configuration"]["extraction_service_kind"]["value"],
            "elastic"
        );
        assert_eq!(
            doc["configuration"]["extraction_service_shared_volume_dir"]["value"],
            "/srv/extraction"
        );
        let back = import_value(&doc).unwrap();
        assert_eq!(back.config, config);
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        let err = import(r#"{"extraction_service_kind": "solr"}"#).unwrap_err();
        assert!(err.to_string().contains("extraction_service_kind"), "{err}");
        assert!(err.to_string().contains("tika") && err.to_string().contains("elastic"));
    }

    #[test]
    fn elastics_config_yml_extraction_block_is_read() {
        let imp = import(
            r#"{"use_text_extraction_service": true,
                "extraction_service": {"host": "http://extract:8090", "timeout": 45,
                                       "use_file_pointers": true, "shared_volume_dir": "/app/files",
                                       "stream_chunk_size": 65536, "colour": "blue"}}"#,
        )
        .unwrap();
        let e = &imp.config.extraction;
        assert_eq!(e.service_kind, ExtractionServiceKind::Elastic);
        assert_eq!(e.service_url, "http://extract:8090");
        assert_eq!(e.service_timeout_secs, 45);
        assert!(e.use_file_pointers);
        assert_eq!(e.shared_volume_dir, "/app/files");
        assert_eq!(
            imp.warnings,
            ["ignored unknown field `extraction_service.colour`"]
        );
        let err =
            import(r#"{"extraction_service": {"use_file_pointers": "sometimes"}}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("extraction_service.use_file_pointers"),
            "{err}"
        );
    }

    #[test]
    fn export_blanks_secrets_and_round_trips() {
        let imp = import(FIXTURE).unwrap();
        let doc = export(&imp.config);
        let text = doc.to_string();
        assert!(!text.contains("abc@123"));
        assert_eq!(doc["configuration"]["password"]["value"], "");
        assert_eq!(doc["configuration"]["password"]["sensitive"], true);
        assert_eq!(
            doc["configuration"]["retry_count"]["ui_restrictions"],
            json!(["advanced"])
        );
        assert_eq!(doc["configuration"]["spaces"]["value"], "*");
        assert_eq!(doc["index_name"], "search-confluence");
        let back = import_value(&doc).unwrap();
        assert_eq!(back.config, imp.config);
        assert_eq!(back.secrets, Secrets::new());
    }

    #[test]
    fn ssl_enabled_false_explains_that_verification_stays_on() {
        let doc = |url: &str, ssl_enabled: bool, ssl_ca: &str| {
            json!({"configuration": {
                "data_source": {"label": "Confluence data source", "value": "confluence_server"},
                "confluence_url": {"label": "Confluence URL label", "value": url},
                "ssl_enabled": {"label": "Enable SSL", "value": ssl_enabled},
                "ssl_ca": {"label": "SSL certificate", "value": ssl_ca},
            }})
        };
        let imp = import_value(&doc("https://wiki.corp:8443", false, "")).unwrap();
        assert_eq!(imp.warnings.len(), 1, "{:?}", imp.warnings);
        let note = &imp.warnings[0];
        assert!(
            note.starts_with(
                "`ssl_enabled` is false: in Elastic's connector that turns certificate \
                 verification off, but in this app certificate verification stays on"
            ),
            "{note}"
        );
        assert!(note.contains("certificate of `wiki.corp`"), "{note}");
        assert!(
            note.contains("add it to the operating system's trust store"),
            "{note}"
        );
        assert!(
            note.contains("set `ssl_enabled: true` and paste the CA certificate's PEM text"),
            "{note}"
        );
        assert!(!note.contains("used only once"), "{note}");
        // The setting itself is imported as it was: verification does not depend on it.
        assert!(!imp.config.ssl_enabled && !imp.config.tls_insecure_skip_verify);

        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        let imp = import_value(&doc("https://wiki.corp", false, pem)).unwrap();
        assert!(
            imp.warnings[0].contains("the certificate now in `ssl_ca` is used only once"),
            "{:?}",
            imp.warnings
        );
        // Nothing to say: SSL on, a plain http:// address, or this app's own export.
        for quiet in [
            doc("https://wiki.corp", true, pem),
            doc("http://wiki.corp", false, ""),
        ] {
            let imp = import_value(&quiet).unwrap();
            assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        }
        let imported = import_value(&doc("https://wiki.corp", false, "")).unwrap();
        let own = export(&imported.config);
        assert!(import_value(&own).unwrap().warnings.is_empty());
    }
}

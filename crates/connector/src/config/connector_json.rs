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
    ConfigError, ConnectorConfig, DataCenterAuthMethod, DataSource, FieldSpec, FieldType,
    HttpSettings, SecretField, Secrets, Target, fields, split_spaces,
};

/// The key under which [`export`] writes the settings Elastic's shape has no place for.
pub const EXTENSION_KEY: &str = "confluence_connector";

/// Fields of the form that [`export`] writes under [`EXTENSION_KEY`] rather than among
/// Elastic's `configuration` entries (Kibana has no such setting).
const EXTENSION_FIELDS: &[&str] = &["deletion_threshold_percent"];

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
    for (key, entry) in entries {
        let value = match entry {
            Value::Object(o) if o.contains_key("value") || o.contains_key("label") => {
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
            EXTENSION_KEY | "index_name" | "service_type" | "name" | "filtering" | "description"
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
        "extraction_service_url" => json!(c.extraction.service_url),
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
        "extraction_service_url" => {
            if let Some(url) = value.as_str() {
                c.extraction.service_url = url.trim().to_owned();
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
}

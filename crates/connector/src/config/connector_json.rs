//! Import and export of Elastic's `connector.json` configuration shape.
//!
//! Kibana stores a connector's configuration as an object of entries keyed by field:
//! `{"configuration": {"data_source": {"label": "...", "value": "confluence_server", ...}, ...}}`.
//! [`import`] accepts that, the bare `configuration` object, and plain `{key: value}` maps.
//! [`export`] writes the full Kibana entries (label, value, type, display, depends_on, ...) with
//! every sensitive value blanked, plus our own settings under `confluence_connector` (HTTP
//! tuning, extraction limits, the target, the deletion safety threshold).
//!
//! Elastic's top-level `pipeline` block (`{"name": "search-default-ingestion",
//! "extract_binary_content": true, ...}`) maps to the Elasticsearch target's ingest pipeline
//! (`es_pipeline`): see [`ELASTIC_PIPELINE_KEY`].

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

/// The ingest-pipeline block of Elastic's connector document, beside `configuration`:
/// `{"name": "search-default-ingestion", "extract_binary_content": true,
/// "reduce_whitespace": true, "run_ml_inference": false}`. Its `name` is the Elasticsearch
/// target's ingest pipeline (`es_pipeline`, sent as `_bulk?pipeline=`). The flags make Elastic's
/// connector mark every document (`_extract_binary_content`, `_reduce_whitespace`,
/// `_run_ml_inference`) for the steps of `search-default-ingestion` that depend on them; this
/// connector extracts attachments' text itself and marks nothing, so [`export`] writes them
/// false and [`import`] explains each one that is true.
pub const ELASTIC_PIPELINE_KEY: &str = "pipeline";

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
    // Without `configuration`, the fields sit beside the document's own keys.
    let entries_at_root = std::ptr::eq(entries, root);
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
        ) || (entries_at_root && key == ELASTIC_PIPELINE_KEY);
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
    // Our extension's target wins over the document's own `index_name` and `pipeline`.
    let target_from_extension = root
        .get(EXTENSION_KEY)
        .and_then(|e| e.get("target"))
        .is_some();
    if !target_from_extension
        && let Some(name) = root.get("index_name").and_then(Value::as_str)
        && !name.is_empty()
    {
        match &mut config.target {
            Target::Local { index_name } => *index_name = name.to_string(),
            Target::Elasticsearch(es) => es.index_name = name.to_string(),
        }
    }
    if let Some(block) = root.get(ELASTIC_PIPELINE_KEY).filter(|b| !b.is_null()) {
        apply_elastic_pipeline(
            &mut config.target,
            block,
            target_from_extension,
            &mut warnings,
        )?;
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
///
/// Its `pipeline` block ([`ELASTIC_PIPELINE_KEY`]) names the Elasticsearch target's ingest
/// pipeline, the same as the target under [`EXTENSION_KEY`]; `"name": ""` when there is none
/// (also for the local target), rather than leaving the name or the block out, which Elastic's
/// connector fills with its default pipeline (`search-default-ingestion`, formerly
/// `ent-search-generic-ingestion`, every flag true). Its flags are false: the connector extracts
/// attachments' text itself and sets no `_reduce_whitespace` or `_run_ml_inference` marks.
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
    let pipeline = match &config.target {
        Target::Elasticsearch(es) => es.pipeline.trim(),
        Target::Local { .. } => "",
    };
    json!({
        "service_type": "confluence",
        "index_name": config.target.index_name(),
        ELASTIC_PIPELINE_KEY: {
            "name": pipeline,
            "extract_binary_content": false,
            "reduce_whitespace": false,
            "run_ml_inference": false,
        },
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

/// Reads Elastic's `pipeline` block (see [`ELASTIC_PIPELINE_KEY`]) into `target`: its `name`
/// (trimmed; missing or `null`: unchanged) becomes the Elasticsearch target's ingest pipeline.
/// The local target has no pipeline and nowhere to keep one, so there the name is only
/// reported. When our extension carried the target (`target_from_extension`), that target wins
/// and a different name is only reported. Each flag that is true gets a warning.
fn apply_elastic_pipeline(
    target: &mut Target,
    block: &Value,
    target_from_extension: bool,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let key = ELASTIC_PIPELINE_KEY;
    let Value::Object(block) = block else {
        return Err(invalid(
            key,
            format!(
                "expected an object such as {{\"name\": \"search-default-ingestion\"}}, \
                 got {block}"
            ),
        ));
    };
    let name = match block.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.trim()),
        Some(other) => {
            return Err(invalid(
                &format!("{key}.name"),
                format!(
                    "expected the ingest pipeline's name as a string, such as \
                     \"search-default-ingestion\" (or \"\" for none), got {other}"
                ),
            ));
        }
    };
    const FLAGS: [&str; 3] = [
        "extract_binary_content",
        "reduce_whitespace",
        "run_ml_inference",
    ];
    let mut on = Vec::new();
    for flag in FLAGS {
        if let Some(value) = block.get(flag)
            && boolean(&format!("{key}.{flag}"), value, false)?
        {
            on.push(flag);
        }
    }
    let extract_binary_content = on.contains(&"extract_binary_content");
    let unsent: Vec<&str> = on
        .into_iter()
        .filter(|f| *f != "extract_binary_content")
        .collect();
    if let Some(name) = name {
        match target {
            Target::Elasticsearch(es) if !target_from_extension => es.pipeline = name.to_owned(),
            Target::Elasticsearch(es) if es.pipeline.trim() != name => {
                let shown = |name: &str| {
                    if name.is_empty() {
                        "empty (no pipeline)".to_owned()
                    } else {
                        format!("`{name}`")
                    }
                };
                warnings.push(format!(
                    "`{key}.name` is {} but the pipeline of the target in `{EXTENSION_KEY}` is \
                     {}, which is used: to change it, edit `{EXTENSION_KEY}.target.pipeline` \
                     (`es_pipeline`)",
                    shown(name),
                    shown(es.pipeline.trim())
                ));
            }
            Target::Elasticsearch(_) => {}
            Target::Local { .. } if !name.is_empty() => warnings.push(format!(
                "`{key}.name` is `{name}`, but the target is the local index, which uses no \
                 ingest pipeline, so it is not kept: once the target is Elasticsearch, set its \
                 ingest pipeline (`es_pipeline`) to `{name}`"
            )),
            Target::Local { .. } => {}
        }
    }
    if extract_binary_content {
        warnings.push(format!(
            "`{key}.extract_binary_content` is true, but the ingest pipeline extracts nothing \
             here: the connector extracts attachments' text itself (or through the extraction \
             service, with `use_text_extraction_service`) and sends no binary content"
        ));
    }
    if !unsent.is_empty() {
        let flags: Vec<String> = unsent.iter().map(|f| format!("`{key}.{f}`")).collect();
        let marks: Vec<String> = unsent.iter().map(|f| format!("`_{f}`")).collect();
        let (verb, them) = if unsent.len() == 1 {
            ("is", "it")
        } else {
            ("are", "them")
        };
        warnings.push(format!(
            "{} {verb} true, but this connector does not mark documents for {them} as Elastic's \
             does ({}): documents pass through the ingest pipeline as they are, and its steps \
             that depend on {them} are skipped",
            flags.join(" and "),
            marks.join(", ")
        ));
    }
    for field in block.keys() {
        if field != "name" && !FLAGS.contains(&field.as_str()) {
            warnings.push(format!("ignored unknown field `{key}.{field}`"));
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

    /// Elastic's `pipeline` block, beside `configuration`.
    fn with_pipeline(doc: &str, pipeline: Value) -> Value {
        let mut doc: Value = serde_json::from_str(doc).unwrap();
        doc[ELASTIC_PIPELINE_KEY] = pipeline;
        doc
    }

    fn es_target(pipeline: &str) -> Target {
        Target::Elasticsearch(crate::config::ElasticsearchTarget {
            url: "https://es:9200".into(),
            pipeline: pipeline.into(),
            ..crate::config::ElasticsearchTarget::default()
        })
    }

    #[test]
    fn elastics_pipeline_name_is_the_elasticsearch_targets_pipeline() {
        let block = json!({"name": " search-default-ingestion ", "extract_binary_content": false,
                           "reduce_whitespace": false, "run_ml_inference": false});
        let mut target = es_target("");
        let mut warnings = Vec::new();
        apply_elastic_pipeline(&mut target, &block, false, &mut warnings).unwrap();
        assert_eq!(target, es_target("search-default-ingestion"));
        assert!(warnings.is_empty(), "{warnings:?}");
        // An empty name is Elastic's "no pipeline"; a missing or null one changes nothing.
        apply_elastic_pipeline(&mut target, &json!({"name": ""}), false, &mut warnings).unwrap();
        assert_eq!(target, es_target(""));
        let mut target = es_target("mine");
        for block in [json!({}), json!({"name": null})] {
            apply_elastic_pipeline(&mut target, &block, false, &mut warnings).unwrap();
        }
        assert_eq!(target, es_target("mine"));
        assert!(warnings.is_empty(), "{warnings:?}");
        // In a document whose extension carries an Elasticsearch target, that target is read
        // and agrees with the block.
        let doc = json!({
            "pipeline": {"name": "search-default-ingestion"},
            EXTENSION_KEY: {"target": {"kind": "elasticsearch", "url": "https://es:9200",
                                       "pipeline": "search-default-ingestion"}},
        });
        let imp = import_value(&doc).unwrap();
        assert_eq!(imp.config.target, es_target("search-default-ingestion"));
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    }

    #[test]
    fn a_pipeline_for_the_local_target_is_reported_not_kept() {
        let doc = with_pipeline(FIXTURE, json!({"name": "search-default-ingestion"}));
        let imp = import_value(&doc).unwrap();
        assert_eq!(
            imp.config.target,
            Target::Local {
                index_name: "search-confluence".into()
            }
        );
        assert_eq!(imp.warnings.len(), 1, "{:?}", imp.warnings);
        let note = &imp.warnings[0];
        assert!(
            note.starts_with("`pipeline.name` is `search-default-ingestion`, but the target is"),
            "{note}"
        );
        assert!(
            note.contains(
                "once the target is Elasticsearch, set its ingest pipeline \
                           (`es_pipeline`) to `search-default-ingestion`"
            ),
            "{note}"
        );
        // No pipeline, nothing to say; and `pipeline` is no unknown field of a plain map.
        let quiet = import_value(&with_pipeline(FIXTURE, json!({"name": ""}))).unwrap();
        assert!(quiet.warnings.is_empty(), "{:?}", quiet.warnings);
        let plain =
            import_value(&json!({"confluence_url": "http://wiki", "pipeline": {"name": ""}}))
                .unwrap();
        assert!(plain.warnings.is_empty(), "{:?}", plain.warnings);
        // Inside `configuration`, it is not Elastic's block.
        let inside = json!({"configuration": {"pipeline": {"name": "x"}}});
        let inside = import_value(&inside).unwrap();
        assert_eq!(inside.warnings, ["ignored unknown field `pipeline`"]);
    }

    #[test]
    fn bad_pipeline_blocks_name_the_field() {
        for (pipeline, field) in [
            (json!({"name": 5}), "`pipeline.name`"),
            (
                json!({"name": ["search-default-ingestion"]}),
                "`pipeline.name`",
            ),
            (json!("search-default-ingestion"), "`pipeline`"),
            (
                json!({"name": "p", "reduce_whitespace": "maybe"}),
                "`pipeline.reduce_whitespace`",
            ),
        ] {
            let err = import_value(&with_pipeline(FIXTURE, pipeline.clone()))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("field {field}:")),
                "{pipeline}: {err}"
            );
        }
        let err = import(r#"{"pipeline": {"name": 5}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected the ingest pipeline's name as a string"),
            "{err}"
        );
        // `null` is no block at all.
        assert!(import(r#"{"pipeline": null}"#).unwrap().warnings.is_empty());
    }

    #[test]
    fn the_pipeline_name_round_trips_through_export() {
        let config = ConnectorConfig {
            target: es_target("search-default-ingestion"),
            ..import(FIXTURE).unwrap().config
        };
        let doc = export(&config);
        assert_eq!(
            doc[ELASTIC_PIPELINE_KEY],
            json!({"name": "search-default-ingestion", "extract_binary_content": false,
                   "reduce_whitespace": false, "run_ml_inference": false})
        );
        assert_eq!(
            doc[EXTENSION_KEY]["target"]["pipeline"],
            "search-default-ingestion"
        );
        let back = import_value(&doc).unwrap();
        assert_eq!(back.config, config);
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        // No pipeline, or the local target: an empty name, not Elastic's default.
        let none = ConnectorConfig {
            target: es_target(""),
            ..ConnectorConfig::default()
        };
        for config in [none, ConnectorConfig::default()] {
            let doc = export(&config);
            assert_eq!(doc[ELASTIC_PIPELINE_KEY]["name"], "");
            let back = import_value(&doc).unwrap();
            assert_eq!(back.config, config);
            assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        }
        // The extension's target wins over an edited block, and the difference is reported.
        let mut edited = doc.clone();
        edited[ELASTIC_PIPELINE_KEY]["name"] = json!("other");
        let back = import_value(&edited).unwrap();
        assert_eq!(back.config, config);
        assert_eq!(back.warnings.len(), 1, "{:?}", back.warnings);
        assert!(
            back.warnings[0].starts_with(
                "`pipeline.name` is `other` but the pipeline of the target in \
                 `confluence_connector` is `search-default-ingestion`, which is used"
            ),
            "{:?}",
            back.warnings
        );
    }

    #[test]
    fn pipeline_flags_warn_only_when_true() {
        let flags = |extract: bool, whitespace: bool, ml: bool| {
            let doc = json!({"pipeline": {"name": "", "extract_binary_content": extract,
                                          "reduce_whitespace": whitespace,
                                          "run_ml_inference": ml}});
            import_value(&doc).unwrap().warnings
        };
        assert!(flags(false, false, false).is_empty());
        let extract = flags(true, false, false);
        assert_eq!(extract.len(), 1, "{extract:?}");
        assert!(
            extract[0].starts_with("`pipeline.extract_binary_content` is true")
                && extract[0].contains("the connector extracts attachments' text itself"),
            "{extract:?}"
        );
        let whitespace = flags(false, true, false);
        assert_eq!(
            whitespace,
            [
                "`pipeline.reduce_whitespace` is true, but this connector does not mark documents \
              for it as Elastic's does (`_reduce_whitespace`): documents pass through the ingest \
              pipeline as they are, and its steps that depend on it are skipped"
            ]
        );
        let ml = flags(false, false, true);
        assert_eq!(ml.len(), 1, "{ml:?}");
        assert!(
            ml[0].starts_with("`pipeline.run_ml_inference` is true")
                && !ml[0].contains("whitespace"),
            "{ml:?}"
        );
        let all = flags(true, true, true);
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(
            all[1].starts_with(
                "`pipeline.reduce_whitespace` and `pipeline.run_ml_inference` are true"
            ) && all[1].contains("(`_reduce_whitespace`, `_run_ml_inference`)"),
            "{all:?}"
        );
        // Elastic's default block, for the default local target: the name and the flags.
        let elastic = import_value(&with_pipeline(
            FIXTURE,
            json!({"name": "search-default-ingestion", "extract_binary_content": true,
                   "reduce_whitespace": true, "run_ml_inference": false, "colour": "blue"}),
        ))
        .unwrap();
        assert_eq!(elastic.warnings.len(), 4, "{:?}", elastic.warnings);
        assert!(elastic.warnings[0].contains("`es_pipeline`"));
        assert!(elastic.warnings[1].contains("`pipeline.extract_binary_content`"));
        assert!(elastic.warnings[2].starts_with("`pipeline.reduce_whitespace` is true"));
        assert_eq!(
            elastic.warnings[3],
            "ignored unknown field `pipeline.colour`"
        );
    }
}

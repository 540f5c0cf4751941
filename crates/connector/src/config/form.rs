//! The configuration as a form holds it: one flat value per field key of [`super::fields`] and
//! [`super::target_fields`], plus where the secrets come from (`secrets_from_env`,
//! `secrets_env_name`), and back. Sensitive keys are never read or written here.

use serde_json::{Map, Value, json};

use super::connector_json::{apply, current_value};
use super::{
    ConfigError, ConnectorConfig, ElasticsearchTarget, EsAuthMethod, FieldError, SecretField,
    Severity, Target,
};

/// The form values of `config`: every non-sensitive field and target field by key.
pub fn values(config: &ConnectorConfig) -> Map<String, Value> {
    let mut out = Map::new();
    for spec in super::fields() {
        if !spec.sensitive {
            out.insert(spec.key.clone(), current_value(config, &spec.key));
        }
    }
    let (kind, es) = match &config.target {
        Target::Local { .. } => ("local", ElasticsearchTarget::default()),
        Target::Elasticsearch(es) => ("elasticsearch", es.clone()),
    };
    let auth = match es.auth_method {
        EsAuthMethod::ApiKey => "api_key",
        EsAuthMethod::Basic => "basic",
    };
    out.insert("target_kind".into(), json!(kind));
    out.insert("index_name".into(), json!(config.target.index_name()));
    out.insert("es_url".into(), json!(es.url));
    out.insert("es_auth_method".into(), json!(auth));
    out.insert("es_username".into(), json!(es.username));
    out.insert("es_ca_certificate".into(), json!(es.ca_certificate));
    out.insert("es_number_of_shards".into(), json!(es.number_of_shards));
    out.insert("es_number_of_replicas".into(), json!(es.number_of_replicas));
    out.insert("es_refresh_interval".into(), json!(es.refresh_interval));
    out.insert(
        "es_bulk_refresh_interval".into(),
        json!(es.bulk_refresh_interval),
    );
    out.insert("es_pipeline".into(), json!(es.pipeline));
    out.insert("es_alias_swap".into(), json!(es.alias_swap));
    out.insert("secrets_from_env".into(), json!(config.secrets_from_env));
    out.insert("secrets_env_name".into(), json!(config.secrets_env_name));
    out
}

/// [`from_values`] for the connection named `name`: a connection set to read its secrets from
/// the environment without a name for its variables takes its own name
/// ([`super::env_name`]).
pub fn from_draft(
    base: &ConnectorConfig,
    name: &str,
    values: &Map<String, Value>,
) -> (ConnectorConfig, Vec<FieldError>) {
    let (mut config, problems) = from_values(base, values);
    if config.secrets_from_env && config.secrets_env_name.is_empty() {
        config.secrets_env_name = super::env_name(name);
    }
    (config, problems)
}

/// The configuration of the form `values`, built over `base` (which keeps the settings the form
/// does not show, such as HTTP tuning), and one error for each value that cannot be read.
/// Unknown and sensitive keys are ignored.
pub fn from_values(
    base: &ConnectorConfig,
    values: &Map<String, Value>,
) -> (ConnectorConfig, Vec<FieldError>) {
    let mut config = base.clone();
    let mut problems = Vec::new();
    for (key, value) in values {
        if SecretField::from_key(key).is_some()
            || key.starts_with("target_")
            || is_target(key)
            || key.starts_with("secrets_")
        {
            continue;
        }
        if let Err(err) = apply(&mut config, key, value) {
            problems.push(problem(key, err));
        }
    }
    let text = |key: &str| -> String {
        match values.get(key) {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    };
    // An empty number is the cluster's default; anything else must be a whole number.
    let mut number = |key: &str| -> Option<u32> {
        let raw = text(key);
        if raw.is_empty() || raw == "null" {
            return None;
        }
        match raw.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(FieldError {
                    field: key.into(),
                    message: format!(
                        "expected a whole number, or nothing for the cluster's default; got `{raw}`"
                    ),
                    severity: Severity::Error,
                });
                None
            }
        }
    };
    if values.contains_key("secrets_from_env") {
        config.secrets_from_env = matches!(values.get("secrets_from_env"), Some(Value::Bool(true)))
            || text("secrets_from_env") == "true";
    }
    if values.contains_key("secrets_env_name") {
        config.secrets_env_name = super::env_name(&text("secrets_env_name"));
    }
    let number_of_shards = number("es_number_of_shards");
    let number_of_replicas = number("es_number_of_replicas");
    let alias_swap = matches!(values.get("es_alias_swap"), Some(Value::Bool(true)))
        || text("es_alias_swap") == "true";
    let index_name = Some(text("index_name"))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| base.target.index_name().to_owned());
    config.target = match text("target_kind").as_str() {
        "elasticsearch" => Target::Elasticsearch(ElasticsearchTarget {
            url: text("es_url"),
            auth_method: match text("es_auth_method").as_str() {
                "basic" => EsAuthMethod::Basic,
                _ => EsAuthMethod::ApiKey,
            },
            username: text("es_username"),
            ca_certificate: text("es_ca_certificate"),
            index_name,
            number_of_shards,
            number_of_replicas,
            refresh_interval: text("es_refresh_interval"),
            bulk_refresh_interval: text("es_bulk_refresh_interval"),
            pipeline: text("es_pipeline"),
            alias_swap,
        }),
        "local" | "" => Target::Local { index_name },
        other => {
            problems.push(FieldError {
                field: "target_kind".into(),
                message: format!("expected local or elasticsearch, got `{other}`"),
                severity: Severity::Error,
            });
            base.target.clone()
        }
    };
    (config, problems)
}

fn is_target(key: &str) -> bool {
    matches!(
        key,
        "index_name"
            | "es_url"
            | "es_auth_method"
            | "es_username"
            | "es_ca_certificate"
            | "es_number_of_shards"
            | "es_number_of_replicas"
            | "es_refresh_interval"
            | "es_bulk_refresh_interval"
            | "es_pipeline"
            | "es_alias_swap"
    )
}

fn problem(key: &str, err: ConfigError) -> FieldError {
    let message = match err {
        ConfigError::InvalidValue { message, .. } => message,
        other => other.to_string(),
    };
    FieldError {
        field: key.to_owned(),
        message,
        severity: Severity::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DataSource;

    #[test]
    fn values_round_trip_through_the_form() {
        let config = ConnectorConfig {
            data_source: DataSource::ConfluenceCloud,
            account_email: "ann@acme.test".into(),
            spaces: vec!["ENG".into(), "OPS".into()],
            retry_count: 7,
            target: Target::Elasticsearch(ElasticsearchTarget {
                url: "https://es:9200".into(),
                auth_method: EsAuthMethod::Basic,
                username: "elastic".into(),
                ca_certificate: String::new(),
                index_name: "acme".into(),
                number_of_shards: Some(2),
                number_of_replicas: Some(0),
                refresh_interval: "30s".into(),
                bulk_refresh_interval: "-1".into(),
                pipeline: "search-default-ingestion".into(),
                alias_swap: true,
            }),
            ..ConnectorConfig::default()
        };
        let form = values(&config);
        assert_eq!(form["spaces"], "ENG,OPS");
        assert_eq!(form["target_kind"], "elasticsearch");
        assert_eq!(form["es_number_of_shards"], 2);
        assert_eq!(form["es_alias_swap"], true);
        assert!(!form.contains_key("api_token"));
        let (back, problems) = from_values(&ConnectorConfig::default(), &form);
        assert_eq!(problems, vec![]);
        assert_eq!(back, config);
    }

    #[test]
    fn the_deletion_threshold_is_a_form_value() {
        let config = ConnectorConfig {
            deletion_threshold_percent: 90,
            ..ConnectorConfig::default()
        };
        let mut form = values(&config);
        assert_eq!(form["deletion_threshold_percent"], 90);
        form.insert("deletion_threshold_percent".into(), json!("75"));
        let (back, problems) = from_values(&ConnectorConfig::default(), &form);
        assert_eq!(problems, vec![]);
        assert_eq!(back.deletion_threshold_percent, 75);
        form.insert("deletion_threshold_percent".into(), json!("lots"));
        let (_, problems) = from_values(&ConnectorConfig::default(), &form);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "deletion_threshold_percent");
        assert!(
            problems[0].message.contains("whole number"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn unreadable_values_are_reported_per_field_and_secrets_ignored() {
        let form = json!({
            "retry_count": "many",
            "data_source": "confluence_cloud",
            "api_token": "never-here",
            "target_kind": "local",
            "index_name": "",
        });
        let (config, problems) =
            from_values(&ConnectorConfig::default(), form.as_object().unwrap());
        assert_eq!(config.data_source, DataSource::ConfluenceCloud);
        assert_eq!(config.retry_count, 3);
        assert_eq!(config.target.index_name(), "search-confluence");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "retry_count");
    }

    #[test]
    fn where_secrets_come_from_is_a_form_value() {
        let form = values(&ConnectorConfig::default());
        assert_eq!(form["secrets_from_env"], false);
        assert_eq!(form["secrets_env_name"], "");
        let form = json!({"secrets_from_env": true, "secrets_env_name": "eng wiki"});
        let (config, problems) =
            from_values(&ConnectorConfig::default(), form.as_object().unwrap());
        assert_eq!(problems, vec![]);
        assert!(config.secrets_from_env);
        assert_eq!(config.secrets_env_name, "ENG_WIKI");
        assert_eq!(values(&config)["secrets_env_name"], "ENG_WIKI");
        // Without a name, the connection's own.
        let form = json!({"secrets_from_env": true});
        let (config, _) = from_draft(
            &ConnectorConfig::default(),
            "Acme (prod)",
            form.as_object().unwrap(),
        );
        assert_eq!(config.secrets_env_name, "ACME_PROD");
        // A form that does not mention it keeps what was saved.
        let (kept, _) = from_values(&config, &Map::new());
        assert!(kept.secrets_from_env);
    }

    #[test]
    fn index_settings_read_from_text_inputs() {
        let form = json!({
            "target_kind": "elasticsearch",
            "es_url": "https://es:9200",
            "es_number_of_shards": "3",
            "es_number_of_replicas": "",
            "es_refresh_interval": " 5s ",
            "es_alias_swap": "true",
        });
        let (config, problems) =
            from_values(&ConnectorConfig::default(), form.as_object().unwrap());
        assert_eq!(problems, vec![]);
        let Target::Elasticsearch(es) = &config.target else {
            panic!("{:?}", config.target)
        };
        assert_eq!(es.number_of_shards, Some(3));
        assert_eq!(es.number_of_replicas, None);
        assert_eq!(es.refresh_interval, "5s");
        assert!(es.alias_swap);

        let form = json!({ "target_kind": "elasticsearch", "es_number_of_replicas": "one" });
        let (_, problems) = from_values(&ConnectorConfig::default(), form.as_object().unwrap());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "es_number_of_replicas");
        assert!(
            problems[0].message.contains("`one`"),
            "{}",
            problems[0].message
        );
    }
}

//! The configuration as a form holds it: one flat value per field key of [`super::fields`] and
//! [`super::target_fields`], and back. Sensitive keys are never read or written here.

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
    out
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
        if SecretField::from_key(key).is_some() || key.starts_with("target_") || is_target(key) {
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
        "index_name" | "es_url" | "es_auth_method" | "es_username" | "es_ca_certificate"
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
            }),
            ..ConnectorConfig::default()
        };
        let form = values(&config);
        assert_eq!(form["spaces"], "ENG,OPS");
        assert_eq!(form["target_kind"], "elasticsearch");
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
}

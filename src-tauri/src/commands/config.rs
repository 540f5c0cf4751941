//! The configuration form: its description, a connection's values, validation, "Test
//! connection", save, and import and export of Elastic's `connector.json`.

use connector::ConnectionSummary;
use connector::config::{
    self, ConnectorConfig, FieldError, SecretField, Secrets, connector_json, form,
};
use connector::connections::{self, SaveRequest};
use tauri::State;

use crate::dto::{ConfigForm, ConnectionDraft, ConnectionForm, ImportedForm, TestResult};
use crate::error::CommandError;
use crate::state::AppState;

/// The fields of the form, as the engine describes them.
#[tauri::command]
pub async fn config_form() -> Result<ConfigForm, CommandError> {
    Ok(ConfigForm {
        fields: config::fields(),
        target_fields: config::target_fields(),
    })
}

/// A connection's form values and which of its secrets are set; with no id, a new connection.
#[tauri::command]
pub async fn load_connection(
    state: State<'_, AppState>,
    id: Option<String>,
) -> Result<ConnectionForm, CommandError> {
    let Some(id) = id else {
        return Ok(ConnectionForm {
            id: None,
            name: String::new(),
            sandbox: false,
            values: form::values(&ConnectorConfig::default()),
            secrets_set: vec![],
            keyring_problem: None,
        });
    };
    let saved = state.saved(&id)?;
    let overlay = state.overlay_for(&saved).await?;
    let (secrets_set, keyring_problem) = match &overlay {
        Some(site) => (
            site.secrets.fields().map(|f| f.key().to_owned()).collect(),
            None,
        ),
        None => {
            let store = state.vault().for_connection(&id);
            let mut set = vec![];
            let mut problem = None;
            for field in SecretField::ALL {
                match store.secret(field) {
                    Ok(Some(_)) => set.push(field.key().to_owned()),
                    Ok(None) => {}
                    Err(err) => problem = Some(err.to_string()),
                }
            }
            (set, problem)
        }
    };
    let config = connections::config_of(&saved, overlay.as_ref())?;
    Ok(ConnectionForm {
        id: Some(id),
        name: saved.name,
        sandbox: saved.sandbox,
        values: form::values(&config),
        secrets_set,
        keyring_problem,
    })
}

/// The draft's configuration (over the saved one) and secrets (typed ones over stored ones),
/// with the problems of values that could not be read.
async fn draft_config(
    state: &AppState,
    draft: &ConnectionDraft,
) -> Result<(ConnectorConfig, Secrets, Vec<FieldError>, bool), CommandError> {
    let saved = match &draft.id {
        Some(id) => Some(state.saved(id)?),
        None => None,
    };
    let base = saved.as_ref().map(|s| s.config.clone()).unwrap_or_default();
    let (mut config, problems) = form::from_values(&base, &draft.values);
    let sandbox = saved.as_ref().is_some_and(|s| s.sandbox);
    let mut secrets = match &saved {
        Some(saved) => state.secrets(saved).await.unwrap_or_default(),
        None => Secrets::new(),
    };
    if let Some(saved) = saved.as_ref().filter(|s| s.sandbox)
        && let Some(site) = state.overlay_for(saved).await?
    {
        config = site.apply(&config);
    }
    for (key, value) in &draft.secrets {
        if let Some(field) = SecretField::from_key(key) {
            match value.as_deref().map(str::trim) {
                Some(v) if !v.is_empty() => secrets.set(field, v),
                _ => secrets.remove(field),
            }
        }
    }
    Ok((config, secrets, problems, sandbox))
}

/// Every problem of the draft, each tied to its field, in the engine's words.
#[tauri::command]
pub async fn validate_connection(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<Vec<FieldError>, CommandError> {
    let (config, secrets, mut problems, _) = draft_config(&state, &draft).await?;
    problems.extend(config::validate(&config, &secrets));
    Ok(problems)
}

/// "Test connection": validation, then one result per remote check.
#[tauri::command]
pub async fn test_connection(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<TestResult, CommandError> {
    let (config, secrets, mut problems, _) = draft_config(&state, &draft).await?;
    problems.extend(config::validate(&config, &secrets));
    let checks = if config::has_errors(&problems) {
        vec![]
    } else {
        connector::check::remote(&config, &secrets).await
    };
    Ok(TestResult { problems, checks })
}

/// The least-privilege Elasticsearch role and API-key request for the form's target, ready to
/// paste into Kibana's console; `None` when the target is the local index.
#[tauri::command]
pub async fn es_role_request(
    values: serde_json::Map<String, serde_json::Value>,
) -> Result<Option<String>, CommandError> {
    let (config, _) = form::from_values(&ConnectorConfig::default(), &values);
    Ok(match &config.target {
        config::Target::Elasticsearch(es) => Some(connector::target::es_role_request(es)),
        config::Target::Local { .. } => None,
    })
}

/// Saves the draft (creating the connection when it has no id); secrets go to the OS keyring.
#[tauri::command]
pub async fn save_connection(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<ConnectionSummary, CommandError> {
    let saved = match &draft.id {
        Some(id) => Some(state.saved(id)?),
        None => None,
    };
    let base = saved.as_ref().map(|s| s.config.clone()).unwrap_or_default();
    let (config, problems) = form::from_values(&base, &draft.values);
    if let Some(problem) = problems.first() {
        return Err(CommandError::new(
            "invalid",
            format!("{}: {}", problem.field, problem.message),
        ));
    }
    let secrets = draft
        .secrets
        .iter()
        .filter_map(|(key, value)| Some((SecretField::from_key(key)?, value.clone())))
        .collect();
    let request = SaveRequest {
        id: draft.id.clone(),
        name: draft.name.clone(),
        config,
        secrets,
    };
    Ok(connections::save(
        &*state.store()?,
        state.vault(),
        &request,
    )?)
}

/// Reads an Elastic `connector.json` (or a plain `{key: value}` map) into form values.
#[tauri::command]
pub async fn import_connector_json(text: String) -> Result<ImportedForm, CommandError> {
    let imported = connector_json::import(&text)?;
    Ok(ImportedForm {
        values: form::values(&imported.config),
        secrets: imported
            .secrets
            .fields()
            .filter_map(|f| Some((f.key().to_owned(), imported.secrets.get(f)?.to_owned())))
            .collect(),
        warnings: imported.warnings,
    })
}

/// The draft as an Elastic `connector.json` document, every secret blanked: the form values
/// over the saved configuration (so hidden settings such as HTTP tuning, extraction limits and
/// the target survive), with the connection's name and active rules as the `filtering` block.
#[tauri::command]
pub async fn export_connector_json(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<String, CommandError> {
    let saved = match &draft.id {
        Some(id) => Some(state.saved(id)?),
        None => None,
    };
    let base = saved.as_ref().map(|s| s.config.clone()).unwrap_or_default();
    let (config, problems) = form::from_values(&base, &draft.values);
    if let Some(problem) = problems.first() {
        return Err(CommandError::new(
            "invalid",
            format!("{}: {}", problem.field, problem.message),
        ));
    }
    let mut doc = match &saved {
        Some(saved) => connections::export(&*state.store()?, &saved.id)?,
        None => connector_json::export(&config),
    };
    if saved.is_some()
        && let (serde_json::Value::Object(map), serde_json::Value::Object(fresh)) =
            (&mut doc, connector_json::export(&config))
    {
        // The form's values win over the saved ones; name and filtering stay.
        map.extend(fresh);
    }
    Ok(serde_json::to_string_pretty(&doc).unwrap_or_default())
}

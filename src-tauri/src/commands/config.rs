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
    load(&state, id).await
}

/// Why the OS keyring cannot be used, in the admin's words with the way out; `None` when it can.
fn keyring_problem(result: Result<(), connector::config::ConfigError>) -> Option<String> {
    result.err().map(CommandError::keyring_state)
}

async fn load(state: &AppState, id: Option<String>) -> Result<ConnectionForm, CommandError> {
    let Some(id) = id else {
        // Said before anything is typed: a machine without a usable keyring cannot save secrets.
        let probe = connections::probe(&*state.vault().for_connection("new-connection"));
        return Ok(ConnectionForm {
            id: None,
            name: String::new(),
            sandbox: false,
            values: form::values(&ConnectorConfig::default()),
            secrets_set: vec![],
            keyring_problem: keyring_problem(probe),
        });
    };
    let saved = state.saved(&id)?;
    let overlay = state.overlay_for(&saved).await?;
    let (secrets_set, keyring_problem) = match &overlay {
        Some(site) => (
            site.secrets.fields().map(|f| f.key().to_owned()).collect(),
            None,
        ),
        // Its variables, never the keyring.
        None if saved.config.secrets_from_env => (
            state
                .secrets(&saved)
                .await?
                .fields()
                .map(|f| f.key().to_owned())
                .collect(),
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
                    Err(err) => problem = keyring_problem(Err(err)),
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

/// The draft's configuration (over the saved one) and secrets, with the problems of values that
/// could not be read. Secrets: the connection's environment variables when it reads them from
/// there, else the typed ones over the stored ones (a keyring that cannot be read is a problem
/// of `secrets_from_env`, where the form offers the way out).
async fn draft_config(
    state: &AppState,
    draft: &ConnectionDraft,
) -> Result<(ConnectorConfig, Secrets, Vec<FieldError>, bool), CommandError> {
    let saved = match &draft.id {
        Some(id) => Some(state.saved(id)?),
        None => None,
    };
    let base = saved.as_ref().map(|s| s.config.clone()).unwrap_or_default();
    let (mut config, mut problems) = form::from_draft(&base, &draft.name, &draft.values);
    let sandbox = saved.as_ref().is_some_and(|s| s.sandbox);
    if let Some(env) = config::ConnectionEnvSecrets::for_config(&config).filter(|_| !sandbox) {
        return Ok((config, Secrets::load(&env)?, problems, sandbox));
    }
    let mut secrets = match &saved {
        Some(saved) if !saved.config.secrets_from_env || saved.sandbox => {
            match state.secrets(saved).await {
                Ok(secrets) => secrets,
                Err(err) => {
                    problems.push(FieldError {
                        field: "secrets_from_env".into(),
                        message: err.message,
                        severity: config::Severity::Error,
                    });
                    Secrets::new()
                }
            }
        }
        _ => Secrets::new(),
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

/// "Test connection": validation, where the secrets are kept (an unavailable OS keyring is said
/// here, before a save fails), then one result per remote check.
#[tauri::command]
pub async fn test_connection(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<TestResult, CommandError> {
    test(&state, &draft).await
}

async fn test(state: &AppState, draft: &ConnectionDraft) -> Result<TestResult, CommandError> {
    let (config, secrets, mut problems, sandbox) = draft_config(state, draft).await?;
    problems.extend(config::validate(&config, &secrets));
    let mut checks: Vec<_> = {
        // Not held across the remote checks: a secret store need not be `Send`.
        let store = (!sandbox).then(|| {
            state
                .vault()
                .for_connection(draft.id.as_deref().unwrap_or("new-connection"))
        });
        connector::check::secret_storage(&config, store.as_deref())
            .into_iter()
            .collect()
    };
    if !config::has_errors(&problems) {
        checks.extend(connector::check::remote(&config, &secrets).await);
    }
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

/// Saves the draft (creating the connection when it has no id); secrets go to the OS keyring,
/// or nowhere for a connection that reads them from its environment variables.
#[tauri::command]
pub async fn save_connection(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<ConnectionSummary, CommandError> {
    save(&state, &draft)
}

fn save(state: &AppState, draft: &ConnectionDraft) -> Result<ConnectionSummary, CommandError> {
    let saved = match &draft.id {
        Some(id) => Some(state.saved(id)?),
        None => None,
    };
    let base = saved.as_ref().map(|s| s.config.clone()).unwrap_or_default();
    let (config, problems) = form::from_draft(&base, &draft.name, &draft.values);
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
    let (config, problems) = form::from_draft(&base, &draft.name, &draft.values);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use connector::config::{ConfigError, SecretSource, SecretStore, keyring_unavailable};
    use connector::connections::SecretVault;
    use serde_json::json;

    use super::*;

    /// A desktop without a usable keyring: every read and write fails as the Secret Service's
    /// absence does.
    struct NoKeyring;
    impl SecretVault for NoKeyring {
        fn for_connection(&self, id: &str) -> Box<dyn SecretStore> {
            Box::new(NoKeyringStore(id.to_owned()))
        }
    }
    struct NoKeyringStore(String);
    impl SecretSource for NoKeyringStore {
        fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
            Err(keyring_unavailable(
                &self.0,
                field,
                "read",
                "Platform secure storage failure: no Secret Service",
            ))
        }
    }
    impl SecretStore for NoKeyringStore {
        fn store(&self, field: SecretField, _: &str) -> Result<(), ConfigError> {
            Err(keyring_unavailable(
                &self.0,
                field,
                "store",
                "no Secret Service",
            ))
        }
        fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
            Err(keyring_unavailable(
                &self.0,
                field,
                "delete",
                "no Secret Service",
            ))
        }
    }

    fn cloud_draft(env: bool, token: Option<&str>) -> ConnectionDraft {
        let values = json!({
            "data_source": "confluence_cloud",
            "account_email": "ann@acme.test",
            // A closed port: Test connection's remote checks fail at once, offline.
            "confluence_url": "http://127.0.0.1:9",
            "retry_count": 0,
            "target_kind": "local",
            "index_name": "acme",
            "secrets_from_env": env,
        });
        ConnectionDraft {
            id: None,
            name: "Acme wiki".into(),
            values: values.as_object().unwrap().clone(),
            secrets: token
                .map(|t| BTreeMap::from([("api_token".to_owned(), Some(t.to_owned()))]))
                .unwrap_or_default(),
        }
    }

    #[tokio::test]
    async fn without_a_keyring_save_and_test_say_so_and_env_secrets_save() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open_with_vault(dir.path(), Arc::new(NoKeyring)).unwrap();

        // The new form says it before anything is typed.
        let form = load(&state, None).await.unwrap();
        let problem = form.keyring_problem.unwrap();
        assert!(
            problem.starts_with("The OS keyring is not available on this machine"),
            "{problem}"
        );

        // Saving with a typed token: the clear error, nothing saved.
        let err = save(&state, &cloud_draft(false, Some("tok"))).unwrap_err();
        assert_eq!(err.kind, "keyring");
        assert!(
            err.message.starts_with(
                "Could not save the Confluence Cloud API token in the OS keyring: the OS \
                 keyring is not available on this machine"
            ) && err
                .message
                .contains("Read secrets from environment variables"),
            "{}",
            err.message
        );
        assert!(
            state
                .store()
                .unwrap()
                .list_connections()
                .unwrap()
                .is_empty()
        );

        // Test connection says it too, as a failed check pointing at the way out.
        let result = test(&state, &cloud_draft(false, Some("tok")))
            .await
            .unwrap();
        let secrets = &result.checks[0];
        assert_eq!(secrets.id, "secrets");
        assert_eq!(secrets.status, connector::check::CheckStatus::Failed);
        assert_eq!(secrets.field.as_deref(), Some("secrets_from_env"));

        // Secrets from the environment: saved without the keyring, named after the connection.
        let summary = save(&state, &cloud_draft(true, None)).unwrap();
        let form = load(&state, Some(summary.id.clone())).await.unwrap();
        assert_eq!(form.keyring_problem, None);
        assert_eq!(form.values["secrets_from_env"], true);
        assert_eq!(form.values["secrets_env_name"], "ACME_WIKI");
        // Validation and Test connection name the variable to set (not set in this process).
        let mut draft = cloud_draft(true, None);
        draft.id = Some(summary.id);
        let result = test(&state, &draft).await.unwrap();
        assert_eq!(result.checks.len(), 1, "{:?}", result.checks);
        assert_eq!(
            result.checks[0].status,
            connector::check::CheckStatus::Passed
        );
        assert!(
            result.problems.iter().any(|p| p.field == "secrets_env_name"
                && p.message
                    .contains("CONFLUENCE_CONNECTOR_ACME_WIKI_API_TOKEN")),
            "{:?}",
            result.problems
        );
        // A typed secret is refused rather than silently dropped.
        let err = save(&state, &cloud_draft(true, Some("tok"))).unwrap_err();
        assert!(
            err.message
                .contains("set CONFLUENCE_CONNECTOR_ACME_WIKI_API_TOKEN instead"),
            "{}",
            err.message
        );
    }
}

//! Sync rules: the draft and active rule sets, validation, activation, and the CQL editor's
//! tokens, completions, problems and live preview.

use connector::confluence::{ConfluenceClient, Flavor};
use connector::rules::cql::{self, Completion, CqlProblem, EditorToken};
use connector::rules::{self, Preview, PreviewOptions, RuleSet, RuleValidation};
use connector::{RuleState, StoredRules};
use tauri::State;

use crate::dto::RulesState;
use crate::error::CommandError;
use crate::state::AppState;

/// The draft and active rules of connection `id`.
#[tauri::command]
pub async fn load_rules(
    state: State<'_, AppState>,
    id: String,
) -> Result<RulesState, CommandError> {
    let store = state.store()?;
    Ok(RulesState {
        active: store.rules(&id, RuleState::Active)?,
        draft: store.rules(&id, RuleState::Draft)?,
    })
}

/// Saves `rules` as the draft (syncs keep using the active rules).
#[tauri::command]
pub async fn save_draft_rules(
    state: State<'_, AppState>,
    id: String,
    rules: RuleSet,
) -> Result<StoredRules, CommandError> {
    Ok(state.store()?.save_draft_rules(&id, &rules)?)
}

/// Validates `rules` offline, and with `remote` also runs each query once against Confluence.
#[tauri::command]
pub async fn validate_rules(
    state: State<'_, AppState>,
    id: String,
    rules: RuleSet,
    remote: bool,
) -> Result<RuleValidation, CommandError> {
    let (_, config, secrets) = state.resolve(&id).await?;
    if !remote {
        return Ok(rules::validate_offline(
            &rules,
            Flavor::from(config.data_source),
        ));
    }
    let client =
        ConfluenceClient::from_config(&config, &secrets).map_err(connector::Error::from)?;
    Ok(rules::validate_remote(&rules, &client)
        .await
        .map_err(connector::Error::from)?)
}

/// Makes the (valid) draft the active rules.
#[tauri::command]
pub async fn activate_rules(
    state: State<'_, AppState>,
    id: String,
) -> Result<StoredRules, CommandError> {
    let flavor = Flavor::from(state.saved(&id)?.config.data_source);
    Ok(rules::activate_draft(&mut *state.store()?, &id, flavor)?)
}

/// Discards the draft: the editor goes back to the active rules.
#[tauri::command]
pub async fn revert_rules(state: State<'_, AppState>, id: String) -> Result<bool, CommandError> {
    Ok(state.store()?.discard_draft_rules(&id)?)
}

/// The highlighting tokens of a CQL query.
#[tauri::command]
pub async fn cql_tokens(text: String) -> Result<Vec<EditorToken>, CommandError> {
    Ok(cql::tokens(&text))
}

/// The offline problems of a CQL query, with positions and suggestions.
#[tauri::command]
pub async fn cql_problems(
    state: State<'_, AppState>,
    id: String,
    text: String,
) -> Result<Vec<CqlProblem>, CommandError> {
    let flavor = Flavor::from(state.saved(&id)?.config.data_source);
    Ok(cql::validate(&text, flavor))
}

/// Completions at `cursor` (UTF-16 offset) of a CQL query: fields, operators, functions, and the
/// connection's space keys and labels (read from Confluence once per app run).
#[tauri::command]
pub async fn cql_complete(
    state: State<'_, AppState>,
    id: String,
    text: String,
    cursor: u32,
) -> Result<Vec<Completion>, CommandError> {
    let (_, config, secrets) = state.resolve(&id).await?;
    let context = state.editor_context(&id, &config, &secrets).await;
    Ok(cql::complete(
        &text,
        cursor,
        &context,
        Flavor::from(config.data_source),
    ))
}

/// The live preview of `rules`: the total, the first matches, and a breakdown per rule.
#[tauri::command]
pub async fn preview_rules(
    state: State<'_, AppState>,
    id: String,
    rules: RuleSet,
) -> Result<Preview, CommandError> {
    let (_, config, secrets) = state.resolve(&id).await?;
    let client =
        ConfluenceClient::from_config(&config, &secrets).map_err(connector::Error::from)?;
    let mut preview = rules::preview(&client, &config, &rules, &PreviewOptions::default()).await;
    // The documents in the index, from the same source as the connection list.
    let indexed = state
        .store()?
        .list_connections()?
        .into_iter()
        .find(|c| c.id == id)
        .and_then(|c| c.documents_in_index);
    if let Some(indexed) = indexed {
        preview.compare_with_index(indexed, &rules);
    }
    Ok(preview)
}

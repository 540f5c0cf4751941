//! The connections list: list, create the sandbox, duplicate, delete.

use connector::ConnectionSummary;
use connector::config::{ConnectorConfig, DataSource, Target};
use connector::connections;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// The sandbox's local index.
const SANDBOX_INDEX: &str = "sandbox";

/// Every saved connection with its last sync.
#[tauri::command]
pub async fn list_connections(
    state: State<'_, AppState>,
) -> Result<Vec<ConnectionSummary>, CommandError> {
    Ok(state.store()?.list_connections()?)
}

/// Creates the sandbox connection (the built-in simulator into the local index, with
/// document-level security), or returns the existing one.
#[tauri::command]
pub async fn create_sandbox_connection(
    state: State<'_, AppState>,
) -> Result<ConnectionSummary, CommandError> {
    let store = state.store()?;
    if let Some(id) = store.sandbox_connection()?
        && let Some(existing) = store.list_connections()?.into_iter().find(|c| c.id == id)
    {
        return Ok(existing);
    }
    let config = ConnectorConfig {
        data_source: DataSource::ConfluenceCloud,
        index_labels: true,
        use_document_level_security: true,
        target: Target::Local {
            index_name: SANDBOX_INDEX.to_owned(),
        },
        ..ConnectorConfig::default()
    };
    let id = uuid::Uuid::new_v4().to_string();
    Ok(store.save_connection(&id, "Sandbox (built-in simulator)", &config, true)?)
}

/// Copies a connection, its stored secrets and active rules included, as "<name> (copy)".
#[tauri::command]
pub async fn duplicate_connection(
    state: State<'_, AppState>,
    id: String,
) -> Result<ConnectionSummary, CommandError> {
    Ok(connections::duplicate(
        &mut *state.store()?,
        state.vault(),
        &id,
        None,
    )?)
}

/// Deletes a connection, its job history and its stored secrets; stops its running sync.
#[tauri::command]
pub async fn delete_connection(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    if let Some(running) = state.running()?.get(&id) {
        running.cancel.cancel();
    }
    connections::delete(&*state.store()?, state.vault(), &id)?;
    Ok(())
}

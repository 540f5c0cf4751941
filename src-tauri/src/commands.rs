//! The commands the UI calls. Each one is a thin adapter over the engine.

use connector::ConnectionSummary;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// Every saved connection with its last sync.
#[tauri::command]
pub fn list_connections(
    state: State<'_, AppState>,
) -> Result<Vec<ConnectionSummary>, CommandError> {
    Ok(state.store()?.list_connections()?)
}

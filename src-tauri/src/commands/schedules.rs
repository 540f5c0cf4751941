//! Schedules: per connection, a full, an incremental and an access-control sync, each on or off
//! with an interval or a cron expression. The app runs the due ones while it is open
//! ([`crate::scheduler`]).

use connector::JobType;
use connector::schedule::{Schedule, ScheduleSpec};
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// The schedules of connection `id`, or of every connection when `id` is `None`.
#[tauri::command]
pub async fn list_schedules(
    state: State<'_, AppState>,
    id: Option<String>,
) -> Result<Vec<Schedule>, CommandError> {
    let store = state.store()?;
    Ok(match id {
        Some(id) => store.schedules(&id)?,
        None => store.all_schedules()?,
    })
}

/// Saves the `job_type` schedule of connection `id`. A spec the engine cannot read fails with
/// kind `invalid` and the engine's message for the field.
#[tauri::command]
pub async fn save_schedule(
    state: State<'_, AppState>,
    id: String,
    job_type: JobType,
    enabled: bool,
    spec: String,
) -> Result<Schedule, CommandError> {
    ScheduleSpec::parse(&spec).map_err(|problem| CommandError::new("invalid", problem.message))?;
    Ok(state
        .store()?
        .save_schedule(&id, job_type, enabled, &spec)?)
}

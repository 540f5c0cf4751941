//! The sync dashboard: start a sync in a background task, forward its events to the window,
//! cancel it, and read the job history.

use std::sync::Arc;

use connector::events::{EventHandler, SyncEvent};
use connector::sync::{CancellationToken, Job, SyncOptions};
use connector::target::AnySink;
use connector::{JobRecord, JobType};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::dto::{
    RunningSync, SYNC_EVENT, SYNC_FINISHED, SyncEventMessage, SyncFinished, SyncKinds,
};
use crate::error::CommandError;
use crate::state::{AppState, Running};

/// How many warnings the dashboard keeps for a running sync.
const KEPT_WARNINGS: usize = 20;

/// Which syncs the engine can run.
#[tauri::command]
pub async fn sync_kinds() -> Result<SyncKinds, CommandError> {
    Ok(SyncKinds {
        full: true,
        incremental: false,
        access_control: true,
    })
}

/// Starts a sync of connection `id` in the background. Progress arrives as `sync-event`s, the
/// end as one `sync-finished`.
#[tauri::command]
pub async fn start_sync(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    job_type: JobType,
) -> Result<RunningSync, CommandError> {
    if job_type == JobType::Incremental {
        return Err(CommandError::new(
            "invalid",
            "this version of the engine does not offer incremental syncs yet; run a full sync",
        ));
    }
    let (_, config, secrets) = state.resolve(&id).await?;
    let sink = Arc::new(AnySink::open(&config.target, &secrets, state.data_dir())?);
    let cancel = CancellationToken::new();
    let view = RunningSync {
        connection_id: id.clone(),
        job_type,
        started_at: chrono_now(),
        phase: None,
        progress: None,
        warnings: vec![],
        canceling: false,
    };
    {
        let mut running = state.running()?;
        if running.contains_key(&id) {
            return Err(CommandError::new(
                "busy",
                "a sync of this connection is already running; cancel it or wait for it to end",
            ));
        }
        running.insert(
            id.clone(),
            Running {
                cancel: cancel.clone(),
                view: view.clone(),
            },
        );
    }
    let events = forward_events(app.clone(), id.clone());
    let rules = state
        .store()?
        .rules(&id, connector::RuleState::Active)?
        .map(|stored| stored.rules);
    let options = SyncOptions {
        connection_id: Some(id.clone()),
        rules,
        trigger: "manual".to_owned(),
        work_dir: state.data_dir().join("work"),
        ..SyncOptions::default()
    };
    let job = Job::new(job_type, config, secrets, sink, state.shared_store())
        .with_options(options)
        .with_events(events)
        .with_cancel(cancel);
    tauri::async_runtime::spawn(async move {
        let result = job.run().await;
        let state = app.state::<AppState>();
        if let Ok(mut running) = state.running() {
            running.remove(&id);
        }
        let (job, error) = match result {
            Ok(job) => (Some(job), None),
            Err(err) => (None, Some(CommandError::from(err))),
        };
        let finished = SyncFinished {
            connection_id: id,
            job,
            error,
        };
        if let Err(err) = app.emit(SYNC_FINISHED, finished) {
            tracing::warn!(%err, "could not tell the window that a sync ended");
        }
    });
    Ok(view)
}

/// Sends each engine event to the window and keeps the dashboard's snapshot current.
fn forward_events(app: AppHandle, connection_id: String) -> EventHandler {
    Arc::new(move |event: &SyncEvent| {
        app.state::<AppState>()
            .update_running(&connection_id, |view| match event {
                SyncEvent::Phase { phase } => view.phase = Some(*phase),
                SyncEvent::Progress(progress) => view.progress = Some(progress.clone()),
                SyncEvent::Warning { message } => {
                    view.warnings.push(message.clone());
                    let excess = view.warnings.len().saturating_sub(KEPT_WARNINGS);
                    view.warnings.drain(..excess);
                }
                _ => {}
            });
        let message = SyncEventMessage {
            connection_id: connection_id.clone(),
            event: event.clone(),
        };
        if let Err(err) = app.emit(SYNC_EVENT, message) {
            tracing::warn!(%err, "could not forward a sync event");
        }
    })
}

/// Asks the running sync of connection `id` to stop; it finishes what is in flight and deletes
/// nothing. `false` when no sync was running.
#[tauri::command]
pub async fn cancel_sync(state: State<'_, AppState>, id: String) -> Result<bool, CommandError> {
    let mut running = state.running()?;
    Ok(match running.get_mut(&id) {
        Some(entry) => {
            entry.cancel.cancel();
            entry.view.canceling = true;
            true
        }
        None => false,
    })
}

/// The syncs in flight, for a dashboard that opens mid-sync.
#[tauri::command]
pub async fn running_syncs(state: State<'_, AppState>) -> Result<Vec<RunningSync>, CommandError> {
    state.running_views()
}

/// The most recent jobs of connection `id`, newest first.
#[tauri::command]
pub async fn list_jobs(
    state: State<'_, AppState>,
    id: String,
    limit: usize,
) -> Result<Vec<JobRecord>, CommandError> {
    Ok(state.store()?.list_jobs(Some(&id), limit.clamp(1, 200))?)
}

fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

//! The sync dashboard: start a sync in a background task, forward its events to the window,
//! cancel it, show the syncs other processes run, preview what a full sync would delete, and
//! read the job history.

use std::sync::{Arc, Mutex, MutexGuard};

use connector::connections::Resolved;
use connector::events::{EventHandler, SyncEvent};
use connector::rules::RuleSet;
use connector::sync::{CancellationToken, Job, SyncOptions, scope_key};
use connector::target::AnySink;
use connector::{JobRecord, JobType, Store};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::dto::{
    DeletionCheck, RunningSync, SYNC_EVENT, SYNC_FINISHED, SyncEventMessage, SyncFinished,
    SyncKinds,
};
use crate::error::CommandError;
use crate::state::{AppState, Running};

/// How many warnings the dashboard keeps for a running sync.
const KEPT_WARNINGS: usize = 20;

/// Which syncs the engine can run: all three. The first incremental sync of a connection runs
/// as a full sync (the engine says so in the job's notes).
#[tauri::command]
pub async fn sync_kinds() -> Result<SyncKinds, CommandError> {
    Ok(SyncKinds {
        full: true,
        incremental: true,
        access_control: true,
    })
}

/// Starts a `job_type` sync (full, incremental or access control) of connection `id` in the
/// background; the engine's job runs that kind. Progress arrives as `sync-event`s, the end as
/// one `sync-finished`. `allow_deletions` is the user's confirmation of the removals a
/// deliberate scope change causes (see [`deletion_preview`]).
#[tauri::command]
pub async fn start_sync(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    job_type: JobType,
    allow_deletions: bool,
) -> Result<RunningSync, CommandError> {
    let connection = state.resolved(&id).await?;
    let options = SyncOptions {
        allow_deletions,
        ..connection.sync_options("manual")
    };
    Ok(spawn_job(&app, connection, job_type, options)?)
}

/// Starts a `job_type` job of `connection` with `options` in a task, as the dashboard and the
/// scheduler both do: its events go to the window, the engine's lease keeps it the only sync of
/// the connection across processes, and its end arrives as `sync-finished`. Fails at once with
/// [`connector::Error::Busy`] when a sync of the connection runs (here or in another process).
pub fn spawn_job(
    app: &AppHandle,
    connection: Resolved,
    job_type: JobType,
    options: SyncOptions,
) -> connector::Result<RunningSync> {
    let state = app.state::<AppState>();
    let id = connection.saved.id.clone();
    let Resolved {
        config, secrets, ..
    } = connection;
    let store = state.shared_store();
    if let Some(holder) = lock(&store).lease(&scope_key(Some(&id), &config))? {
        return Err(connector::Error::Busy(Box::new(holder)));
    }
    let sink = Arc::new(AnySink::open(&config.target, &secrets, state.data_dir())?);
    let cancel = CancellationToken::new();
    let view = RunningSync::here(&id, job_type, &options.trigger);
    {
        let mut running = state
            .running()
            .map_err(|err| connector::Error::InvalidInput(err.message))?;
        if running.contains_key(&id) {
            return Err(connector::Error::InvalidInput(
                "a sync of this connection is already starting; wait for it or cancel it"
                    .to_owned(),
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
    let options = SyncOptions {
        connection_id: Some(id.clone()),
        work_dir: state.data_dir().join("work"),
        ..options
    };
    let job = Job::new(job_type, config, secrets, sink, store)
        .with_options(options)
        .with_events(forward_events(app.clone(), id.clone()))
        .with_cancel(cancel);
    let app = app.clone();
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

/// The store, even after a panic elsewhere poisoned its lock.
fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
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
/// nothing. `false` when this app runs no sync of it (a sync of another process is stopped
/// there).
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

/// The syncs in flight: this app's, with their live progress, and those another process (the
/// CLI, another window of the app) runs on the same data, with the counters of their last
/// heartbeat.
#[tauri::command]
pub async fn running_syncs(state: State<'_, AppState>) -> Result<Vec<RunningSync>, CommandError> {
    let mut views = state.running_views()?;
    let store = state.store()?;
    for lease in store.live_leases()? {
        let Some(connection) = lease.connection_id.clone() else {
            continue;
        };
        if lease.pid == std::process::id() {
            if let Some(view) = views.iter_mut().find(|v| v.connection_id == connection) {
                view.job_id = Some(lease.job_id.clone());
                view.host = Some(lease.host.clone());
            }
            continue;
        }
        let job = store.get_job(&lease.job_id)?;
        views.retain(|v| v.connection_id != connection);
        views.push(RunningSync::elsewhere(&lease, job.as_ref()));
    }
    Ok(views)
}

/// What the next full sync of connection `id` would remove because its scope changed on purpose
/// (spaces or rules changed since its last full sync), with `rules` (a draft) or else the active
/// rules.
#[tauri::command]
pub async fn deletion_preview(
    state: State<'_, AppState>,
    id: String,
    rules: Option<RuleSet>,
) -> Result<DeletionCheck, CommandError> {
    let Resolved {
        config,
        secrets,
        rules: active,
        ..
    } = state.resolved(&id).await?;
    let rules = rules.or(active);
    let sink = AnySink::open(&config.target, &secrets, state.data_dir())?;
    let store = state.shared_store();
    let key = scope_key(Some(&id), &config);
    let preview =
        connector::sync::deletion_preview(&store, &key, &config, &secrets, rules.as_ref(), &sink)
            .await?;
    Ok(DeletionCheck::from(preview))
}

/// The most recent jobs of connection `id`, newest first. Jobs whose process died are marked
/// `interrupted` first.
#[tauri::command]
pub async fn list_jobs(
    state: State<'_, AppState>,
    id: String,
    limit: usize,
) -> Result<Vec<JobRecord>, CommandError> {
    let mut store = state.store()?;
    store.recover_interrupted()?;
    Ok(store.list_jobs(Some(&id), limit.clamp(1, 200))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_sync_is_offered_and_incremental_reaches_the_engine_as_incremental() {
        let kinds = tauri::async_runtime::block_on(sync_kinds()).unwrap();
        assert!(kinds.full && kinds.incremental && kinds.access_control);
        // The dashboard's button sends `jobType: "incremental"`: `start_sync` hands the engine's
        // job that kind, not a full sync.
        let sent: JobType = serde_json::from_value(serde_json::json!("incremental")).unwrap();
        assert_eq!(sent, JobType::Incremental);
    }
}

//! The app's scheduler: while the app is open, every few seconds, the engine's runner finds the
//! due schedules and the app starts their jobs (full, incremental or access control, the kind
//! each schedule names) exactly as the dashboard's buttons do
//! ([`crate::commands::sync::spawn_job`]): they show live on the dashboard, land in the history
//! with trigger `scheduled`, and respect the lease (a connection whose sync runs, here or in
//! another process, is skipped and stays due).

use std::time::Duration;

use connector::connections::Resolved;
use connector::schedule::{DueOutcome, JobStarter, run_due};
use connector::sync::SyncOptions;
use connector::{JobRecord, JobType};
use tauri::{AppHandle, Manager};

use crate::commands::sync::spawn_job;
use crate::error::CommandError;
use crate::state::AppState;

/// How often the scheduler looks for due schedules.
const EVERY: Duration = Duration::from_secs(3);

/// Starts the scheduler task; it lives as long as the app.
pub fn start(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = run_once(&app).await {
                tracing::warn!(%err, "the scheduler could not look for due syncs");
            }
        }
    });
}

/// Starts every job due now.
async fn run_once(app: &AppHandle) -> Result<(), CommandError> {
    let state = app.state::<AppState>();
    let now = chrono::Utc::now();
    let sandbox_due = {
        let store = state.store()?;
        let due = store.due_schedules(now)?;
        if due.is_empty() {
            return Ok(());
        }
        due.iter().any(|s| {
            store
                .load_connection(&s.connection_id)
                .ok()
                .flatten()
                .is_some_and(|c| c.sandbox)
        })
    };
    // A sandbox connection's Confluence is the built-in simulator: start it if needed.
    let overlay = match sandbox_due {
        true => Some(state.sandbox().await?.overlay()),
        false => None,
    };
    let store = state.shared_store();
    let starter = AppStarter(app.clone());
    for run in run_due(&store, state.vault(), overlay.as_ref(), &starter, now).await? {
        let (name, kind) = (&run.connection_name, run.schedule.job_type);
        match run.outcome {
            DueOutcome::Started | DueOutcome::Ran(_) => {
                tracing::info!(connection = %name, ?kind, "started a scheduled sync");
            }
            DueOutcome::Skipped(holder) => {
                tracing::info!(connection = %name, ?kind, "scheduled sync skipped: {}", holder.busy_message());
            }
            DueOutcome::Failed(message) => {
                tracing::warn!(connection = %name, ?kind, "scheduled sync could not start: {message}");
            }
        }
    }
    Ok(())
}

/// Starts a due job in its own task, as the dashboard does.
struct AppStarter(AppHandle);

impl JobStarter for AppStarter {
    async fn start(
        &self,
        connection: Resolved,
        kind: JobType,
        options: SyncOptions,
    ) -> connector::Result<Option<JobRecord>> {
        spawn_job(&self.0, connection, kind, options).map(|_| None)
    }
}

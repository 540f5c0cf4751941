//! The desktop shell: Tauri commands over the engine, and nothing else.
//!
//! Every command is a few lines: take the managed state, call one engine function, return its
//! result or a [`CommandError`]. Business logic belongs in the `connector` crate.

#[cfg(test)]
mod bindings;
mod commands;
mod dto;
mod error;
mod scheduler;
mod state;

pub use error::CommandError;

use tauri::Manager;

/// Starts the desktop app.
pub fn run() {
    // Tauri's tasks and the syncs run on the engine's runtime (its blocking pool is bounded).
    let runtime = connector::sync::runtime().expect("starting the async runtime");
    tauri::async_runtime::set(runtime.handle().clone());
    tauri::Builder::default()
        .setup(|app| {
            let dir = state::data_dir(app.handle())?;
            // Standard error and the log file the settings screen shows.
            commands::settings::start_logging(&dir);
            let state = state::AppState::open(&dir)?;
            // Jobs whose process died (the app or the CLI killed mid-sync) show as interrupted.
            if let Ok(mut store) = state.store()
                && let Err(err) = store.recover_interrupted()
            {
                tracing::warn!(%err, "could not look for interrupted syncs");
            }
            app.manage(state);
            scheduler::start(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::connections::list_connections,
            commands::connections::create_sandbox_connection,
            commands::connections::duplicate_connection,
            commands::connections::delete_connection,
            commands::config::config_form,
            commands::config::load_connection,
            commands::config::validate_connection,
            commands::config::test_connection,
            commands::config::es_role_request,
            commands::config::save_connection,
            commands::config::import_connector_json,
            commands::config::export_connector_json,
            commands::sync::sync_kinds,
            commands::sync::start_sync,
            commands::sync::cancel_sync,
            commands::sync::running_syncs,
            commands::sync::list_jobs,
            commands::sync::deletion_preview,
            commands::schedules::list_schedules,
            commands::schedules::save_schedule,
            commands::documents::search_documents,
            commands::documents::get_document,
            commands::acl::acl_users,
            commands::acl::acl_user_access,
            commands::acl::acl_explain_document,
            commands::acl::acl_diff,
            commands::rules::load_rules,
            commands::rules::save_draft_rules,
            commands::rules::validate_rules,
            commands::rules::activate_rules,
            commands::rules::revert_rules,
            commands::rules::cql_tokens,
            commands::rules::cql_problems,
            commands::rules::cql_complete,
            commands::rules::preview_rules,
            commands::settings::app_settings,
            commands::settings::open_log_folder,
        ])
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}

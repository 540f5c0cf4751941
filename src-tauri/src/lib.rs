//! The desktop shell: Tauri commands over the engine, and nothing else.
//!
//! Every command is a few lines: take the managed state, call one engine function, return its
//! result or a [`CommandError`]. Business logic belongs in the `connector` crate.

#[cfg(test)]
mod bindings;
mod commands;
mod error;
mod state;

pub use error::CommandError;

use tauri::Manager;

/// Starts the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    tauri::Builder::default()
        .setup(|app| {
            let state = state::AppState::open(&state::data_dir(app.handle())?)?;
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::list_connections])
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}

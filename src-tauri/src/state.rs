//! The state the app manages: the engine's store, opened once at start-up.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use connector::Store;
use tauri::{AppHandle, Manager, Runtime};

use crate::error::CommandError;

/// Everything the commands share.
pub struct AppState {
    store: Mutex<Store>,
}

impl AppState {
    /// Opens the engine's database in `dir`, creating both if needed.
    pub fn open(dir: &Path) -> Result<AppState, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let store = Store::open(&dir.join("state.sqlite"))?;
        Ok(AppState {
            store: Mutex::new(store),
        })
    }

    /// The store, for one command's duration.
    pub fn store(&self) -> Result<MutexGuard<'_, Store>, CommandError> {
        self.store.lock().map_err(|_| CommandError {
            kind: "internal".to_owned(),
            message: "an earlier command failed while holding the database; restart the app"
                .to_owned(),
        })
    }
}

/// Where the app keeps its data: `CONFLUENCE_CONNECTOR_DATA_DIR` when set (tests use it to
/// start from a clean slate), else the platform's app data directory.
pub fn data_dir<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<PathBuf> {
    match std::env::var_os("CONFLUENCE_CONNECTOR_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => app.path().app_data_dir(),
    }
}

//! The state the app manages: the engine's store, the data directory, the sandbox simulator
//! (started on first use) and the syncs that are running.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use confluence_sim::{SimOptions, SiteSize};
use connector::config::{ConnectorConfig, Secrets};
use connector::confluence::ConfluenceClient;
use connector::connections::{self, KeyringVault, Resolved, SecretVault, SiteOverlay};
use connector::rules::cql::EditorContext;
use connector::sync::CancellationToken;
use connector::{SavedConnection, Store};
use connector_sandbox::Sandbox;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::OnceCell;

use crate::dto::RunningSync;
use crate::error::CommandError;

/// A sync in flight: how to stop it and what it last reported.
pub struct Running {
    /// Cancels the sync (it finishes what is in flight and deletes nothing).
    pub cancel: CancellationToken,
    /// What the dashboard shows when it opens mid-sync.
    pub view: RunningSync,
}

/// Everything the commands share.
pub struct AppState {
    store: Arc<Mutex<Store>>,
    data_dir: PathBuf,
    vault: Arc<dyn SecretVault>,
    sandbox: OnceCell<Sandbox>,
    running: Mutex<HashMap<String, Running>>,
    editor_contexts: Mutex<HashMap<String, EditorContext>>,
}

impl AppState {
    /// Opens the engine's database in `dir`, creating both if needed; secrets in the OS keyring.
    pub fn open(dir: &Path) -> Result<AppState, Box<dyn std::error::Error>> {
        AppState::open_with_vault(dir, Arc::new(KeyringVault))
    }

    /// [`AppState::open`] with secrets kept in `vault` (tests use one without a keyring).
    pub fn open_with_vault(
        dir: &Path,
        vault: Arc<dyn SecretVault>,
    ) -> Result<AppState, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let store = Store::open(&dir.join("state.sqlite"))?;
        Ok(AppState {
            store: Arc::new(Mutex::new(store)),
            data_dir: dir.to_owned(),
            vault,
            sandbox: OnceCell::new(),
            running: Mutex::new(HashMap::new()),
            editor_contexts: Mutex::new(HashMap::new()),
        })
    }

    /// The store, for one command's duration. Never hold it across an `.await`.
    pub fn store(&self) -> Result<MutexGuard<'_, Store>, CommandError> {
        self.store.lock().map_err(|_| CommandError::poisoned())
    }

    /// The store as the sync task shares it.
    pub fn shared_store(&self) -> Arc<Mutex<Store>> {
        self.store.clone()
    }

    /// Where state, local indices and the syncs' work files live.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The syncs in flight, by connection id.
    pub fn running(&self) -> Result<MutexGuard<'_, HashMap<String, Running>>, CommandError> {
        self.running.lock().map_err(|_| CommandError::poisoned())
    }

    /// The built-in simulator, started on first use; it lives as long as the app.
    pub async fn sandbox(&self) -> Result<&Sandbox, CommandError> {
        self.sandbox
            .get_or_try_init(|| {
                Sandbox::start(SimOptions {
                    size: SiteSize::Small,
                    ..SimOptions::default()
                })
            })
            .await
            .map_err(CommandError::from)
    }

    /// Connection `id` (or a not-found error).
    pub fn saved(&self, id: &str) -> Result<SavedConnection, CommandError> {
        self.store()?
            .load_connection(id)?
            .ok_or_else(|| CommandError::not_found(id))
    }

    /// Where the app keeps secrets: the OS keyring (connections that read their secrets from
    /// environment variables never reach it).
    pub fn vault(&self) -> &dyn SecretVault {
        &*self.vault
    }

    /// The built-in simulator if it was started (nothing starts it here).
    pub fn sandbox_if_started(&self) -> Option<&Sandbox> {
        self.sandbox.get()
    }

    /// The sandbox's site (the simulator started on first use) when `saved` is the sandbox.
    pub async fn overlay_for(
        &self,
        saved: &SavedConnection,
    ) -> Result<Option<SiteOverlay>, CommandError> {
        Ok(if saved.sandbox {
            Some(self.sandbox().await?.overlay())
        } else {
            None
        })
    }

    /// The secrets of connection `id`: the simulator's for the sandbox, its environment variables
    /// when it reads them from there, else the keyring's.
    pub async fn secrets(&self, saved: &SavedConnection) -> Result<Secrets, CommandError> {
        let overlay = self.overlay_for(saved).await?;
        Ok(connections::secrets_of(
            saved,
            self.vault(),
            overlay.as_ref(),
        )?)
    }

    /// Connection `id` ready to run: configuration, secrets and active rules (see
    /// [`connections::resolve`]).
    pub async fn resolved(&self, id: &str) -> Result<Resolved, CommandError> {
        let saved = self.saved(id)?;
        let overlay = self.overlay_for(&saved).await?;
        Ok(connections::resolve(
            &*self.store()?,
            self.vault(),
            overlay.as_ref(),
            id,
        )?)
    }

    /// Connection `id` ready to use: its configuration (the sandbox's pointed at the running
    /// simulator) and its secrets.
    pub async fn resolve(
        &self,
        id: &str,
    ) -> Result<(SavedConnection, ConnectorConfig, Secrets), CommandError> {
        let resolved = self.resolved(id).await?;
        Ok((resolved.saved, resolved.config, resolved.secrets))
    }

    /// The latest progress of the sync of `connection`, if one runs.
    pub fn update_running(&self, connection: &str, update: impl FnOnce(&mut RunningSync)) {
        if let Ok(mut running) = self.running.lock()
            && let Some(entry) = running.get_mut(connection)
        {
            update(&mut entry.view);
        }
    }

    /// The space keys and labels the CQL editor completes for connection `id`, read from
    /// Confluence once per app run (empty when Confluence cannot be reached).
    pub async fn editor_context(
        &self,
        id: &str,
        config: &ConnectorConfig,
        secrets: &Secrets,
    ) -> EditorContext {
        if let Some(known) = self
            .editor_contexts
            .lock()
            .ok()
            .and_then(|m| m.get(id).cloned())
        {
            return known;
        }
        let Ok(client) = ConfluenceClient::from_config(config, secrets) else {
            return EditorContext::default();
        };
        match connector::rules::editor_context(&client).await {
            Ok(context) => {
                if let Ok(mut map) = self.editor_contexts.lock() {
                    map.insert(id.to_owned(), context.clone());
                }
                context
            }
            Err(err) => {
                tracing::warn!(%err, "no space keys or labels for the CQL editor");
                EditorContext::default()
            }
        }
    }

    /// A snapshot of every sync in flight.
    pub fn running_views(&self) -> Result<Vec<RunningSync>, CommandError> {
        Ok(self.running()?.values().map(|r| r.view.clone()).collect())
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

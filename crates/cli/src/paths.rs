//! Where the CLI keeps its files.

use std::path::{Path, PathBuf};

/// `$XDG_DATA_HOME/confluence-connector`, else `~/.local/share/confluence-connector`.
pub fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("confluence-connector")
}

/// The state database under `data_dir`, created with its directory if needed.
pub fn open_store(data_dir: &Path) -> anyhow::Result<connector::Store> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        anyhow::anyhow!("creating the data directory `{}`: {e}", data_dir.display())
    })?;
    Ok(connector::Store::open(&data_dir.join("state.sqlite"))?)
}

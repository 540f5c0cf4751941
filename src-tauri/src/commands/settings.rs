//! The "settings and logs" screen: where the app keeps its data and its log, the log's last
//! lines, the app's version, whether secrets can be kept in the OS keyring, and the built-in
//! simulator's state; and opening the log folder in the system's file manager.
//!
//! The log is written here too: [`start_logging`] sends the app's `tracing` output to standard
//! error and to `<data folder>/logs/confluence-connector.log` (secrets never reach it).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, State};
use ts_rs::TS;

use crate::error::CommandError;
use crate::state::AppState;

/// The log file's name, in [`log_dir`].
pub const LOG_FILE: &str = "confluence-connector.log";
/// A log larger than this at start is moved to `<name>.1` (replacing the previous one).
const ROTATE_BYTES: u64 = 5 * 1024 * 1024;
/// Lines of the log the screen shows.
const SHOWN_LINES: usize = 200;
/// How much of the log's end is read for them.
const TAIL_BYTES: u64 = 256 * 1024;

/// What the settings screen shows.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppSettings {
    /// The app's version.
    pub version: String,
    /// Where connections, job history, local indices and work files live.
    pub data_dir: String,
    /// The log file.
    pub log_file: String,
    /// Its last lines, oldest first (empty when there is no log yet).
    pub log_lines: Vec<String>,
    /// True when older lines exist than those shown.
    pub log_truncated: bool,
    /// Why secrets cannot be kept in the OS keyring, when they cannot (the way out included).
    pub keyring_problem: Option<String>,
    /// The built-in Confluence simulator behind the sandbox connection.
    pub simulator: SimulatorStatus,
}

/// The built-in simulator, as the settings screen shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SimulatorStatus {
    /// True once the sandbox connection started it (it runs until the app ends).
    pub running: bool,
    /// Its address, while it runs.
    pub url: Option<String>,
    /// The Confluence it plays, while it runs: `Confluence Cloud`, `Confluence Server`, ...
    pub flavor: Option<String>,
}

/// Where the log is written: `<data folder>/logs`.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// Sends `tracing` output to standard error and to the log file in `data_dir` (see
/// [`log_dir`]); a log that cannot be opened leaves standard error alone, and says so there.
pub fn start_logging(data_dir: &Path) {
    use tracing_subscriber::fmt::writer::MakeWriterExt;
    let filter =
        || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    match open_log(data_dir) {
        Ok(file) => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_ansi(false)
            .with_writer(std::io::stderr.and(Mutex::new(file)))
            .init(),
        Err(err) => {
            tracing_subscriber::fmt().with_env_filter(filter()).init();
            tracing::warn!(%err, dir = %log_dir(data_dir).display(), "no log file: logging to standard error only");
        }
    }
}

/// The log file, appended to; moved aside first when it grew past [`ROTATE_BYTES`].
fn open_log(data_dir: &Path) -> std::io::Result<File> {
    let dir = log_dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(LOG_FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > ROTATE_BYTES) {
        std::fs::rename(&path, dir.join(format!("{LOG_FILE}.1")))?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// The last `n` lines of the file at `path` (read from its last [`TAIL_BYTES`]), and whether
/// older lines exist. A missing file has none.
fn last_lines(path: &Path, n: usize) -> std::io::Result<(Vec<String>, bool)> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], false)),
        Err(err) => return Err(err),
    };
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    // A read that starts mid-file starts mid-line: that piece is not shown.
    let mut truncated = start > 0;
    if truncated && !lines.is_empty() {
        lines.remove(0);
    }
    if lines.len() > n {
        lines.drain(..lines.len() - n);
        truncated = true;
    }
    Ok((lines.into_iter().map(str::to_owned).collect(), truncated))
}

/// The screen's contents for an app of `version`.
fn settings(state: &AppState, version: String) -> Result<AppSettings, CommandError> {
    let log_file = log_dir(state.data_dir()).join(LOG_FILE);
    let (log_lines, log_truncated) = last_lines(&log_file, SHOWN_LINES).map_err(|err| {
        CommandError::new(
            "internal",
            format!("Could not read the log file {}: {err}", log_file.display()),
        )
    })?;
    let keyring_problem = connector::connections::probe(&*state.vault().for_connection("settings"))
        .err()
        .map(CommandError::keyring_state);
    let simulator = match state.sandbox_if_started() {
        Some(sandbox) => SimulatorStatus {
            running: true,
            url: Some(sandbox.sim.base_url()),
            flavor: Some(
                match sandbox.sim.flavor() {
                    confluence_sim::Flavor::Cloud => "Confluence Cloud",
                    confluence_sim::Flavor::Server => "Confluence Server",
                    confluence_sim::Flavor::DataCenter => "Confluence Data Center",
                }
                .to_owned(),
            ),
        },
        None => SimulatorStatus {
            running: false,
            url: None,
            flavor: None,
        },
    };
    Ok(AppSettings {
        version,
        data_dir: state.data_dir().display().to_string(),
        log_file: log_file.display().to_string(),
        log_lines,
        log_truncated,
        keyring_problem,
        simulator,
    })
}

/// The settings and logs screen: data folder, log file and its last lines, version, keyring,
/// simulator.
#[tauri::command]
pub async fn app_settings(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<AppSettings, CommandError> {
    settings(&state, app.package_info().version.to_string())
}

/// The system's way to show `dir` in its file manager.
fn open_command(dir: &Path) -> Command {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    let mut command = Command::new(program);
    command.arg(dir);
    command
}

/// Opens the log folder in the system's file manager. It takes no path: the window can open
/// this one folder and nothing else (no opener or shell plugin, no widened capability).
#[tauri::command]
pub async fn open_log_folder(state: State<'_, AppState>) -> Result<(), CommandError> {
    let dir = log_dir(state.data_dir());
    let failed = |err: std::io::Error| {
        CommandError::new(
            "internal",
            format!(
                "Could not open the folder {} ({err}): open it in your file manager",
                dir.display()
            ),
        )
    };
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let mut child = open_command(&dir).spawn().map_err(failed)?;
    // Reaped in the background: the file manager may outlive the opener, or not.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use connector::connections::MemoryVault;

    use super::*;

    #[test]
    fn the_last_lines_of_the_log_and_whether_there_are_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        assert_eq!(last_lines(&path, 3).unwrap(), (vec![], false));
        let mut file = File::create(&path).unwrap();
        for i in 1..=5 {
            writeln!(file, "line {i}").unwrap();
        }
        assert_eq!(
            last_lines(&path, 3).unwrap(),
            (
                vec!["line 3".into(), "line 4".into(), "line 5".into()],
                true
            )
        );
        assert_eq!(last_lines(&path, 10).unwrap().0.len(), 5);
        assert!(!last_lines(&path, 10).unwrap().1);
        // A long log is read from its end, never a partial first line.
        let long = "x".repeat(1000);
        for i in 0..400 {
            writeln!(file, "{i:04} {long}").unwrap();
        }
        let (lines, truncated) = last_lines(&path, 1000).unwrap();
        assert!(truncated);
        assert!(
            lines.iter().all(|l| l.len() == 1005),
            "a partial line was kept"
        );
        assert_eq!(lines.last().unwrap()[..4], *"0399");
    }

    #[test]
    fn a_large_log_is_moved_aside_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let logs = log_dir(dir.path());
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join(LOG_FILE), vec![b'x'; ROTATE_BYTES as usize + 1]).unwrap();
        let mut file = open_log(dir.path()).unwrap();
        writeln!(file, "fresh").unwrap();
        assert_eq!(
            std::fs::read_to_string(logs.join(LOG_FILE)).unwrap(),
            "fresh\n"
        );
        assert!(logs.join(format!("{LOG_FILE}.1")).exists());
    }

    #[tokio::test]
    async fn the_screen_shows_folders_log_version_and_the_simulator() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open_with_vault(dir.path(), Arc::new(MemoryVault::new())).unwrap();
        let mut file = open_log(dir.path()).unwrap();
        writeln!(file, "INFO the app started").unwrap();
        let shown = settings(&state, "1.2.3".into()).unwrap();
        assert_eq!(shown.version, "1.2.3");
        assert_eq!(shown.data_dir, dir.path().display().to_string());
        assert!(shown.log_file.ends_with("logs/confluence-connector.log"));
        assert_eq!(shown.log_lines, ["INFO the app started"]);
        assert_eq!(shown.keyring_problem, None);
        assert!(!shown.simulator.running && shown.simulator.url.is_none());
        // Once the sandbox started it: running, where, as which Confluence.
        let url = state.sandbox().await.unwrap().sim.base_url();
        let shown = settings(&state, "1.2.3".into()).unwrap();
        assert!(shown.simulator.running);
        assert_eq!(shown.simulator.url, Some(url));
        assert!(shown.simulator.flavor.unwrap().starts_with("Confluence "));
    }

    #[test]
    fn the_folder_opens_with_the_systems_opener_and_only_that_folder() {
        let command = open_command(Path::new("/data/logs"));
        let program = command.get_program().to_string_lossy().into_owned();
        assert!(["xdg-open", "open", "explorer"].contains(&program.as_str()));
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args, [std::ffi::OsStr::new("/data/logs")]);
    }
}

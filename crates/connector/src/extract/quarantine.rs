//! Files the extractor must not read again: an attachment version whose extraction blew the
//! decompression budget, crashed a reader, or was running when the process died.
//!
//! Small files in a directory the caller gives (the engine takes its paths from its caller), so
//! that several processes (the app, the CLI, the scheduler) share it without locks:
//!
//! - `<id>@<version>.quarantined` holds the reason, written atomically (temp file + rename);
//! - `<pid>.attempts` lists the files process `<pid>` is extracting right now, one
//!   `<id>@<version>` a line, rewritten in place as extractions start and end (a file per
//!   extraction cost a create, a rename and two unlinks each). Entries in the file of a process
//!   that no longer runs mean the process died during those extractions: perhaps because of the
//!   file (an abort on a failed allocation, a stack overflow), perhaps not (kill -9, a power
//!   cut). Each such file becomes a suspect (`<id>@<version>.suspect`) and is tried once more;
//!   if the process dies during its extraction again, it is quarantined. An extraction that
//!   ends clears the suspicion. `<id>@<version>.attempt` files (one per extraction, holding the
//!   pid) left by earlier versions are read the same way.
//!
//! The files of dead processes are looked for when a quarantine is first used in a process and
//! again at most every [`RESCAN`].
//!
//! A new version of an attachment is a new file: it is tried again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often a long-running process looks again for the attempts of processes that died.
const RESCAN: Duration = Duration::from_secs(30);

/// The quarantine of poisoned attachments, persisted under one directory.
#[derive(Debug, Clone)]
pub struct Quarantine {
    dir: PathBuf,
    shared: Arc<Mutex<Shared>>,
}

/// What this process knows of one quarantine directory.
#[derive(Debug, Default)]
struct Shared {
    /// The extractions running in this process (`<id>@<version>`, with a count: the same file
    /// may be read twice at once by two syncs).
    running: BTreeMap<String, usize>,
    /// This process's `<pid>.attempts`, once written.
    file: Option<File>,
    /// Suspects on disk (left by processes that died), cleared as their extractions end.
    suspects: HashSet<String>,
    /// When the directory was last looked through for dead processes' attempts.
    scanned: Option<Instant>,
}

/// Every quarantine directory this process uses, so that each has one attempts file.
fn registry(dir: &Path) -> Arc<Mutex<Shared>> {
    static REGISTRY: Mutex<Option<HashMap<PathBuf, Arc<Mutex<Shared>>>>> = Mutex::new(None);
    let mut registry = lock(&REGISTRY);
    registry
        .get_or_insert_with(HashMap::new)
        .entry(dir.to_owned())
        .or_default()
        .clone()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The mark of an extraction in progress; removed when dropped (see [`Quarantine::attempt`]).
#[derive(Debug)]
pub struct Attempt {
    quarantine: Quarantine,
    key: String,
}

impl Attempt {
    /// Ends the attempt (the same as dropping it).
    pub fn finish(self) {}
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let mut shared = lock(&self.quarantine.shared);
        if let Some(count) = shared.running.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                shared.running.remove(&self.key);
            }
        }
        let _ = self.quarantine.write_attempts(&mut shared);
        // The extraction ended (or was cancelled) without taking the process down.
        if shared.suspects.remove(&self.key) {
            let _ = std::fs::remove_file(self.quarantine.entry(&self.key, "suspect"));
        }
    }
}

/// The note of a document whose file is quarantined for `reason`.
pub fn note(reason: &str) -> String {
    format!("not extracted: the file is quarantined after an earlier failure ({reason})")
}

const CRASHED: &str =
    "its extraction was still running twice when the process ended (it crashes the extractor?)";

impl Quarantine {
    /// The quarantine kept in `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Quarantine {
        let dir = dir.into();
        let shared = registry(&dir);
        Quarantine { dir, shared }
    }

    /// Where the entries are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<id>@<version>`, with ids that are not plain names encoded rather than used as paths.
    fn key(id: &str, version: u64) -> String {
        let safe = !id.is_empty()
            && id.len() <= 128
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if safe {
            format!("{id}@{version}")
        } else {
            let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
            format!("x{}@{version}", &hex[..hex.len().min(200)])
        }
    }

    fn entry(&self, key: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{key}.{suffix}"))
    }

    /// Whether attachment `id` at `version` must not be extracted.
    pub fn is_quarantined(&self, id: &str, version: u64) -> bool {
        self.reason(id, version).is_some()
    }

    /// Why attachment `id` at `version` is quarantined, or `None` when it is not. Attempts left
    /// behind by processes that ended count (and are turned into suspects or entries).
    pub fn reason(&self, id: &str, version: u64) -> Option<String> {
        self.scan_if_due();
        let key = Self::key(id, version);
        std::fs::read_to_string(self.entry(&key, "quarantined"))
            .ok()
            .map(|reason| reason.trim().to_owned())
    }

    /// Quarantines attachment `id` at `version`, with the reason shown in its note.
    pub fn quarantine(&self, id: &str, version: u64, reason: &str) -> io::Result<()> {
        self.quarantine_key(&Self::key(id, version), reason)
    }

    fn quarantine_key(&self, key: &str, reason: &str) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(reason.as_bytes())?;
        tmp.persist(self.entry(key, "quarantined"))
            .map_err(|e| e.error)?;
        Ok(())
    }

    /// Takes attachment `id` at `version` out of the quarantine (the user asks to try again).
    pub fn release(&self, id: &str, version: u64) -> io::Result<()> {
        let key = Self::key(id, version);
        lock(&self.shared).suspects.remove(&key);
        for suffix in ["quarantined", "attempt", "suspect"] {
            match std::fs::remove_file(self.entry(&key, suffix)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Marks the extraction of attachment `id` at `version` as running until the returned
    /// [`Attempt`] is dropped. If the process dies first, the mark stays and the next process
    /// to use the quarantine makes the file a suspect (and quarantines it the second time).
    pub fn attempt(&self, id: &str, version: u64) -> io::Result<Attempt> {
        self.scan_if_due();
        let key = Self::key(id, version);
        let mut shared = lock(&self.shared);
        *shared.running.entry(key.clone()).or_default() += 1;
        let attempt = Attempt {
            quarantine: self.clone(),
            key,
        };
        // On failure the attempt still counts in memory, and the drop removes it.
        self.write_attempts(&mut shared)?;
        Ok(attempt)
    }

    /// Rewrites this process's attempts file with what runs now.
    fn write_attempts(&self, shared: &mut Shared) -> io::Result<()> {
        if shared.file.is_none() {
            if shared.running.is_empty() {
                return Ok(());
            }
            std::fs::create_dir_all(&self.dir)?;
            let path = self.dir.join(format!("{}.attempts", std::process::id()));
            shared.file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .write(true)
                    .open(path)?,
            );
        }
        let mut text = String::new();
        for key in shared.running.keys() {
            text.push_str(key);
            text.push('\n');
        }
        let Some(file) = shared.file.as_mut() else {
            return Ok(());
        };
        file.rewind()?;
        file.write_all(text.as_bytes())?;
        file.set_len(text.len() as u64)
    }

    /// Looks through the directory for the attempts of processes that died, at the first use
    /// in this process and then at most every [`RESCAN`].
    fn scan_if_due(&self) {
        let mut shared = lock(&self.shared);
        if shared.scanned.is_some_and(|at| at.elapsed() < RESCAN) {
            return;
        }
        shared.scanned = Some(Instant::now());
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut dead: Vec<(PathBuf, Vec<String>)> = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(key) = name.strip_suffix(".suspect") {
                shared.suspects.insert(key.to_owned());
            } else if let Some(pid) = name.strip_suffix(".attempts") {
                if !pid_alive(pid.parse().unwrap_or(0)) {
                    let keys = std::fs::read_to_string(entry.path()).unwrap_or_default();
                    dead.push((
                        entry.path(),
                        keys.lines()
                            .map(str::to_owned)
                            .filter(|k| !k.is_empty())
                            .collect(),
                    ));
                }
            } else if let Some(key) = name.strip_suffix(".attempt") {
                let pid = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if !pid_alive(pid.trim().parse().unwrap_or(0)) {
                    dead.push((entry.path(), vec![key.to_owned()]));
                }
            }
        }
        for (path, keys) in dead {
            for key in keys {
                if shared.suspects.remove(&key) {
                    // Its second death: quarantined.
                    if self.quarantine_key(&key, CRASHED).is_ok() {
                        let _ = std::fs::remove_file(self.entry(&key, "suspect"));
                    }
                } else if std::fs::write(self.entry(&key, "suspect"), b"").is_ok() {
                    // The first death during this file's extraction may have had another
                    // cause: one more try.
                    shared.suspects.insert(key);
                }
            }
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether the process `pid` still runs (this one included). Where that cannot be told, only
/// this process counts as running.
fn pid_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if pid == 0 {
        return false;
    }
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_persist_per_id_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quarantine::new(dir.path().join("quarantine"));
        assert!(!q.is_quarantined("att123", 2));
        q.quarantine("att123", 2, "decompresses to more than 256 MiB")
            .unwrap();
        let again = Quarantine::new(dir.path().join("quarantine"));
        assert_eq!(
            again.reason("att123", 2).as_deref(),
            Some("decompresses to more than 256 MiB")
        );
        assert!(!again.is_quarantined("att123", 3), "a new version is tried");
        assert!(!again.is_quarantined("att12", 2));
        // Ids that are not plain names are encoded, not used as paths.
        q.quarantine("../etc/passwd", 1, "x").unwrap();
        assert!(q.is_quarantined("../etc/passwd", 1));
        assert!(!dir.path().join("etc").exists());
        q.release("att123", 2).unwrap();
        assert!(!q.is_quarantined("att123", 2));
        q.release("never", 1).unwrap();
    }

    #[test]
    fn a_file_the_process_died_on_twice_is_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quarantine::new(dir.path());
        let attempt = q.attempt("att1", 1).unwrap();
        let mine = dir.path().join(format!("{}.attempts", std::process::id()));
        assert_eq!(std::fs::read_to_string(&mine).unwrap(), "att1@1\n");
        assert!(!q.is_quarantined("att1", 1), "running in this process");
        drop(attempt);
        assert_eq!(std::fs::read_to_string(&mine).unwrap(), "", "finished");
        assert!(!q.is_quarantined("att1", 1));
        // The attempts of a process that is gone (killed, or killed by the file), found by
        // the next process to use the quarantine: one more try.
        let dead = || {
            std::fs::write(dir.path().join("4294967295.attempts"), "att1@1\natt2@7\n").unwrap();
            // A new process: a quarantine it has not used before.
            *lock(&q.shared) = Shared::default();
            q.reason("att1", 1)
        };
        assert_eq!(dead(), None, "the first death may have had another cause");
        assert!(dir.path().join("att1@1.suspect").exists());
        assert!(dir.path().join("att2@7.suspect").exists());
        assert!(!dir.path().join("4294967295.attempts").exists());
        // A try that ends clears the suspicion.
        drop(q.attempt("att1", 1).unwrap());
        assert!(!dir.path().join("att1@1.suspect").exists());
        assert_eq!(dead(), None);
        // The process dies on it again: quarantined.
        assert_eq!(dead().as_deref(), Some(CRASHED));
        assert!(!dir.path().join("att1@1.suspect").exists());
        assert!(dir.path().join("att1@1.quarantined").exists());
        assert!(q.is_quarantined("att1", 1));
        assert!(q.is_quarantined("att2", 7), "att2 died twice as well");
    }

    #[test]
    fn an_attempt_left_by_an_earlier_version_counts() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quarantine::new(dir.path());
        std::fs::write(dir.path().join("att9@2.attempt"), "4294967295").unwrap();
        assert_eq!(q.reason("att9", 2), None);
        assert!(dir.path().join("att9@2.suspect").exists());
        assert!(!dir.path().join("att9@2.attempt").exists());
    }
}

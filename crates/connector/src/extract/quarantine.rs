//! Files the extractor must not read again: an attachment version whose extraction blew the
//! decompression budget, crashed a reader, or was running when the process died.
//!
//! One small file per entry in a directory the caller gives (the engine takes its paths from its
//! caller), so that several processes (the app, the CLI, the scheduler) share it without locks:
//!
//! - `<id>@<version>.quarantined` holds the reason, written atomically (temp file + rename);
//! - `<id>@<version>.attempt` holds the id of the process extracting the file right now. It is
//!   removed when the extraction ends, whatever its outcome, or when it is cancelled (dropped).
//!   One left behind by a process that no longer runs means the process died during the
//!   extraction: perhaps because of the file (an abort on a failed allocation, a stack
//!   overflow), perhaps not (kill -9, a power cut). The file becomes a suspect
//!   (`<id>@<version>.suspect`) and is tried once more; if the process dies during its
//!   extraction again, it is quarantined. An extraction that ends clears the suspicion.
//!
//! A new version of an attachment is a new file: it is tried again.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The quarantine of poisoned attachments, persisted under one directory.
#[derive(Debug, Clone)]
pub struct Quarantine {
    dir: PathBuf,
}

/// The mark of an extraction in progress; removed when dropped (see [`Quarantine::attempt`]).
#[derive(Debug)]
pub struct Attempt {
    path: PathBuf,
    suspect: PathBuf,
}

impl Attempt {
    /// Ends the attempt (the same as dropping it).
    pub fn finish(self) {}
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        // The extraction ended (or was cancelled) without taking the process down.
        let _ = std::fs::remove_file(&self.suspect);
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
        Quarantine { dir: dir.into() }
    }

    /// Where the entries are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &str, version: u64, suffix: &str) -> PathBuf {
        let safe = !id.is_empty()
            && id.len() <= 128
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let key = if safe {
            id.to_owned()
        } else {
            let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
            format!("x{}", &hex[..hex.len().min(200)])
        };
        self.dir.join(format!("{key}@{version}.{suffix}"))
    }

    /// Whether attachment `id` at `version` must not be extracted.
    pub fn is_quarantined(&self, id: &str, version: u64) -> bool {
        self.reason(id, version).is_some()
    }

    /// Why attachment `id` at `version` is quarantined, or `None` when it is not. An attempt
    /// left behind by a process that ended counts (and is turned into an entry).
    pub fn reason(&self, id: &str, version: u64) -> Option<String> {
        if let Ok(reason) = std::fs::read_to_string(self.path(id, version, "quarantined")) {
            return Some(reason.trim().to_owned());
        }
        let attempt = self.path(id, version, "attempt");
        let pid = std::fs::read_to_string(&attempt).ok()?;
        let pid: u32 = pid.trim().parse().unwrap_or(0);
        if pid_alive(pid) {
            return None;
        }
        let suspect = self.path(id, version, "suspect");
        if !suspect.exists() {
            // The first death during this file's extraction may have had another cause: one
            // more try.
            if std::fs::rename(&attempt, &suspect).is_err() {
                let _ = std::fs::remove_file(&attempt);
            }
            return None;
        }
        if self.quarantine(id, version, CRASHED).is_ok() {
            let _ = std::fs::remove_file(&attempt);
            let _ = std::fs::remove_file(&suspect);
        }
        Some(CRASHED.to_owned())
    }

    /// Quarantines attachment `id` at `version`, with the reason shown in its note.
    pub fn quarantine(&self, id: &str, version: u64, reason: &str) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(id, version, "quarantined");
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(reason.as_bytes())?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Takes attachment `id` at `version` out of the quarantine (the user asks to try again).
    pub fn release(&self, id: &str, version: u64) -> io::Result<()> {
        for suffix in ["quarantined", "attempt", "suspect"] {
            match std::fs::remove_file(self.path(id, version, suffix)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Marks the extraction of attachment `id` at `version` as running until the returned
    /// [`Attempt`] is dropped. If the process dies first, the mark stays and the next
    /// [`Quarantine::reason`] quarantines the file.
    pub fn attempt(&self, id: &str, version: u64) -> io::Result<Attempt> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(id, version, "attempt");
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(std::process::id().to_string().as_bytes())?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(Attempt {
            path,
            suspect: self.path(id, version, "suspect"),
        })
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
        assert!(!q.is_quarantined("att1", 1), "running in this process");
        drop(attempt);
        assert!(!q.is_quarantined("att1", 1), "finished");
        // A mark written by a process that is gone (killed, or killed by the file): one more try.
        let dead = |q: &Quarantine| {
            std::fs::write(dir.path().join("att1@1.attempt"), "4294967295").unwrap();
            q.reason("att1", 1)
        };
        assert_eq!(dead(&q), None, "the first death may have had another cause");
        assert!(dir.path().join("att1@1.suspect").exists());
        // A try that ends clears the suspicion.
        drop(q.attempt("att1", 1).unwrap());
        assert!(!dir.path().join("att1@1.suspect").exists());
        assert_eq!(dead(&q), None);
        // The process dies on it again: quarantined.
        assert_eq!(dead(&q).as_deref(), Some(CRASHED));
        assert!(!dir.path().join("att1@1.attempt").exists());
        assert!(dir.path().join("att1@1.quarantined").exists());
        assert!(q.is_quarantined("att1", 1));
    }
}

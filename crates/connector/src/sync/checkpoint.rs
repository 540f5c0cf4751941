//! The checkpoint of a full sync: what it has seen and what it has durably written, in a SQLite
//! file per connection (`work/checkpoint-<key>.sqlite`), so that a run that dies (kill -9, power
//! loss, crash) or is cancelled is resumed by the next run instead of starting over.
//!
//! - `seen`: every document id the crawl produced, with its space and its unit (the page or blog
//!   post it belongs to). The deletion phase asks which indexed ids were not seen; a site of any
//!   size fits because the set is on disk.
//! - `units`: pages and blog posts whose document, attachments and comments the target has
//!   acknowledged. A resumed run does not fetch them again (no label, comment or attachment
//!   request, no download).
//! - `listings`: listings (a space's pages, its blog posts, an advanced rule) whose every item
//!   is in `units`. A resumed run skips them entirely.
//!
//! The checkpoint belongs to one scope (configuration and rules, recorded as `fingerprint`): a
//! run with another scope, or a checkpoint older than [`MAX_AGE`], starts over. A run that
//! reaches its end (completed or partial) removes the file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::Result;

/// A checkpoint older than this is not resumed: the site has moved on too far.
pub const MAX_AGE: chrono::Duration = chrono::Duration::hours(24);

/// Seen ids are written in batches of this many.
const FLUSH_EVERY: usize = 1000;

/// A listing: (space key or rule label, kind).
pub type ListingKey = (String, String);

/// What a resumed run may skip.
#[derive(Debug, Default)]
pub struct Resume {
    /// Units already written.
    pub units: HashSet<String>,
    /// Listings already complete.
    pub listings: HashSet<ListingKey>,
    /// Documents already seen by the run(s) being resumed.
    pub seen: u64,
}

impl Resume {
    /// Whether anything is resumed.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty() && self.listings.is_empty() && self.seen == 0
    }
}

/// What a checkpoint file holds, read without changing it (for reports and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Pages and blog posts written whole.
    pub units: u64,
    /// Listings complete.
    pub listings: u64,
    /// Documents seen.
    pub seen: u64,
}

/// Reads the checkpoint at `path` without changing it; `None` when there is none.
pub fn summary(path: &Path) -> Option<Summary> {
    if !path.exists() {
        return None;
    }
    let conn =
        Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let count = |table: &str| -> Option<u64> {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .ok()
        .map(|n| n as u64)
    };
    Some(Summary {
        units: count("units")?,
        listings: count("listings")?,
        seen: count("seen")?,
    })
}

/// The on-disk checkpoint of one scope.
pub struct Checkpoint {
    conn: Connection,
    path: PathBuf,
    pending: Vec<(String, Option<String>, Option<String>)>,
}

/// The checkpoint file of `scope_key` under `work_dir`.
pub fn checkpoint_path(work_dir: &Path, scope_key: &str) -> PathBuf {
    let safe: String = scope_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    work_dir.join(format!("checkpoint-{safe}.sqlite"))
}

impl Checkpoint {
    /// Opens the checkpoint at `path` for `fingerprint`, resuming what it holds when it was made
    /// for the same fingerprint less than [`MAX_AGE`] ago, else starting a new one.
    pub fn open(path: &Path, fingerprint: &str) -> Result<(Checkpoint, Resume)> {
        if let Some(checkpoint) = Checkpoint::reopen(path, fingerprint)? {
            let resume = checkpoint.resume()?;
            return Ok((checkpoint, resume));
        }
        remove_files(path);
        let conn = Connection::open(path)?;
        // WAL: a transaction that committed survives the process being killed.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE seen (id TEXT PRIMARY KEY, space_key TEXT, unit TEXT) WITHOUT ROWID;
             CREATE INDEX seen_by_unit ON seen (unit);
             CREATE TABLE units (unit TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TABLE listings (scope TEXT, kind TEXT, PRIMARY KEY (scope, kind)) WITHOUT ROWID;
             CREATE TABLE filtered (id TEXT PRIMARY KEY) WITHOUT ROWID;",
        )?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('fingerprint', ?1), ('created_at', ?2)",
            params![fingerprint, chrono::Utc::now().to_rfc3339()],
        )?;
        Ok((
            Checkpoint {
                conn,
                path: path.to_owned(),
                pending: Vec::new(),
            },
            Resume::default(),
        ))
    }

    fn reopen(path: &Path, fingerprint: &str) -> Result<Option<Checkpoint>> {
        if !path.exists() {
            return Ok(None);
        }
        let Ok(conn) = Connection::open(path) else {
            return Ok(None);
        };
        let meta = |key: &str| -> Option<String> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .ok()
                .flatten()
        };
        let same = meta("fingerprint").is_some_and(|f| f == fingerprint);
        let fresh = meta("created_at")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .is_some_and(|t| chrono::Utc::now().signed_duration_since(t) < MAX_AGE);
        if !(same && fresh) {
            return Ok(None);
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Some(Checkpoint {
            conn,
            path: path.to_owned(),
            pending: Vec::new(),
        }))
    }

    fn resume(&self) -> Result<Resume> {
        let mut resume = Resume::default();
        let mut stmt = self.conn.prepare("SELECT unit FROM units")?;
        for unit in stmt.query_map([], |r| r.get::<_, String>(0))? {
            resume.units.insert(unit?);
        }
        let mut stmt = self.conn.prepare("SELECT scope, kind FROM listings")?;
        for listing in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
            resume.listings.insert(listing?);
        }
        resume.seen = self
            .conn
            .query_row("SELECT COUNT(*) FROM seen", [], |r| r.get::<_, i64>(0))?
            as u64;
        Ok(resume)
    }

    /// Records a document id produced by the crawl; written in batches.
    pub fn see(&mut self, id: &str, space_key: Option<&str>, unit: Option<&str>) -> Result<()> {
        self.pending.push((
            id.to_owned(),
            space_key.map(str::to_owned),
            unit.map(str::to_owned),
        ));
        if self.pending.len() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending seen ids.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO seen (id, space_key, unit) VALUES (?1, ?2, ?3)",
            )?;
            for (id, space, unit) in self.pending.drain(..) {
                stmt.execute(params![id, space, unit])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a document the sync rules left out: not seen, so an earlier copy is deleted, and
    /// without asking Confluence whether it still exists (it does; the rules exclude it).
    pub fn filter_out(&mut self, id: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO filtered (id) VALUES (?1)")?
            .execute([id])?;
        Ok(())
    }

    /// The ids of `ids` the sync rules did not leave out.
    pub fn not_filtered<'a>(
        &mut self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<String>> {
        self.absent_from("filtered", ids)
    }

    /// Forgets the documents of `unit` (an item found gone mid-sync): they are no longer seen,
    /// so the deletion phase removes them from the index; the unit counts as done.
    pub fn forget_unit(&mut self, unit: &str) -> Result<u64> {
        self.flush()?;
        let forgotten = self
            .conn
            .execute("DELETE FROM seen WHERE unit = ?1", [unit])?;
        Ok(forgotten as u64)
    }

    /// Records units and listings as durably written, in one transaction.
    pub fn commit(&mut self, units: &[String], listings: &[ListingKey]) -> Result<()> {
        self.flush()?;
        if units.is_empty() && listings.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut unit_stmt =
                tx.prepare_cached("INSERT OR IGNORE INTO units (unit) VALUES (?1)")?;
            for unit in units {
                unit_stmt.execute([unit])?;
            }
            let mut listing_stmt =
                tx.prepare_cached("INSERT OR IGNORE INTO listings (scope, kind) VALUES (?1, ?2)")?;
            for (scope, kind) in listings {
                listing_stmt.execute(params![scope, kind])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The ids of `ids` that were not seen.
    pub fn unseen<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>> {
        self.flush()?;
        self.absent_from("seen", ids)
    }

    /// The ids of `ids` that `table` (`seen` or `filtered`) lacks, in their order. Asked a few
    /// hundred at a time: one lookup per id cost more in statement overhead than in searching
    /// (a deletion phase checks every document of the index).
    fn absent_from<'a>(
        &self,
        table: &str,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<String>> {
        const BATCH: usize = 400;
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(BATCH) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut stmt = self
                .conn
                .prepare_cached(&format!("SELECT id FROM {table} WHERE id IN ({marks})"))?;
            let present: HashSet<String> = stmt
                .query_map(rusqlite::params_from_iter(chunk), |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            out.extend(
                chunk
                    .iter()
                    .filter(|id| !present.contains(**id))
                    .map(|id| (*id).to_owned()),
            );
        }
        Ok(out)
    }

    /// Removes the checkpoint: the run reached its end, the next one starts over.
    pub fn finish(self) {
        let path = self.path.clone();
        drop(self.conn);
        remove_files(&path);
    }
}

/// Removes a checkpoint file and its WAL companions.
pub fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_committed_is_resumed_and_a_new_scope_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = checkpoint_path(dir.path(), "conn/1");
        let (mut cp, resume) = Checkpoint::open(&path, "scope-a").unwrap();
        assert!(resume.is_empty());
        for i in 0..2500 {
            cp.see(
                &format!("id{i}"),
                Some("ENG"),
                Some(&format!("u{}", i % 10)),
            )
            .unwrap();
        }
        cp.commit(
            &["u1".into(), "u2".into()],
            &[("ENG".into(), "page".into())],
        )
        .unwrap();
        cp.flush().unwrap();
        assert_eq!(cp.unseen(["id0", "gone"]).unwrap(), ["gone"]);
        // More ids than one query takes, seen and unseen interleaved: the unseen, in order.
        let asked: Vec<String> = (0..3000)
            .map(|i| {
                if i % 7 == 0 {
                    format!("new{i}")
                } else {
                    format!("id{}", i % 2500)
                }
            })
            .collect();
        let unseen = cp.unseen(asked.iter().map(String::as_str)).unwrap();
        let expected: Vec<String> = asked
            .iter()
            .filter(|id| id.starts_with("new"))
            .cloned()
            .collect();
        assert_eq!(unseen, expected);
        // The process dies here: nothing is closed cleanly.
        std::mem::forget(cp);

        let (mut cp, resume) = Checkpoint::open(&path, "scope-a").unwrap();
        assert_eq!(resume.seen, 2500);
        assert_eq!(
            summary(&path),
            Some(Summary {
                units: 2,
                listings: 1,
                seen: 2500
            })
        );
        assert!(resume.units.contains("u1") && resume.units.contains("u2"));
        assert!(resume.listings.contains(&("ENG".into(), "page".into())));
        // An item found gone: its documents are no longer seen.
        assert_eq!(cp.forget_unit("u3").unwrap(), 250);
        assert_eq!(cp.unseen(["id3", "id4"]).unwrap(), ["id3"]);
        drop(cp);

        let (cp, resume) = Checkpoint::open(&path, "scope-b").unwrap();
        assert!(resume.is_empty(), "another scope starts over");
        cp.finish();
        assert!(!path.exists());
    }
}

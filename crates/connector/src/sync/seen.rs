//! The ids a running sync has seen, kept in a SQLite file rather than in memory so that a site of
//! any size fits; the deletion phase asks it which indexed ids were not seen.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::Result;

/// A set of document ids with their space, backed by a temporary SQLite file.
pub struct SeenSet {
    conn: Connection,
    path: PathBuf,
    pending: Vec<(String, Option<String>)>,
}

const FLUSH_EVERY: usize = 1000;

impl SeenSet {
    /// Creates an empty set in a new file at `path` (removed when the set is dropped).
    pub fn create(path: &Path) -> Result<SeenSet> {
        let _ = std::fs::remove_file(path);
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE seen (id TEXT PRIMARY KEY, space_key TEXT) WITHOUT ROWID;",
        )?;
        Ok(SeenSet {
            conn,
            path: path.to_owned(),
            pending: Vec::new(),
        })
    }

    /// Records an id; written in batches.
    pub fn insert(&mut self, id: &str, space_key: Option<&str>) -> Result<()> {
        self.pending
            .push((id.to_owned(), space_key.map(str::to_owned)));
        if self.pending.len() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending ids.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT OR IGNORE INTO seen (id, space_key) VALUES (?1, ?2)")?;
            for (id, space) in self.pending.drain(..) {
                stmt.execute(params![id, space])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many distinct ids were recorded.
    pub fn len(&mut self) -> Result<u64> {
        self.flush()?;
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM seen", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Whether no id was recorded.
    pub fn is_empty(&mut self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The ids of `ids` that were not seen.
    pub fn unseen<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>> {
        self.flush()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM seen WHERE id = ?1")?;
        let mut out = Vec::new();
        for id in ids {
            if !stmt.exists([id])? {
                out.push(id.to_owned());
            }
        }
        Ok(out)
    }
}

impl Drop for SeenSet {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_ids_across_flushes_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seen.sqlite");
        let mut seen = SeenSet::create(&path).unwrap();
        for i in 0..2500 {
            seen.insert(&format!("id{i}"), Some("ENG")).unwrap();
        }
        seen.insert("id1", Some("ENG")).unwrap();
        assert_eq!(seen.len().unwrap(), 2500);
        assert_eq!(
            seen.unseen(["id0", "id2499", "gone", "id2500"]).unwrap(),
            ["gone", "id2500"]
        );
        drop(seen);
        assert!(!path.exists());
    }
}

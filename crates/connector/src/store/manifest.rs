//! What every document of a connection looks like in its index (the manifest), and the cursor
//! of its incremental syncs.
//!
//! The manifest holds, per document, hashes of its metadata, its text and its access list as
//! the target acknowledged them. A sync compares what Confluence lists with it: an unchanged
//! document is neither downloaded nor written again, one whose access alone changed gets only
//! its `_allow_access_control` rewritten. It is an optimisation, never a source of truth: when
//! the index holds fewer documents than the manifest (an index deleted or restored behind our
//! back) or the target changed, it is dropped and the next sync writes everything.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::Result;

/// One document as last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// `page`, `attachment`, ...
    pub kind: String,
    /// Its space.
    pub space_key: Option<String>,
    /// The page or blog post it belongs to (itself for pages and blog posts; none for spaces).
    pub unit: Option<String>,
    /// Its Confluence version.
    pub version: Option<u64>,
    /// Hash of everything but its text and access.
    pub meta: u64,
    /// Hash of its text (and extraction note).
    pub body: u64,
    /// Hash of its `_allow_access_control`.
    pub acl: u64,
    /// Hash of what an id-only listing shows of it (title, version, space, ancestors): a
    /// difference means it was edited or moved.
    pub place: u64,
}

/// Where an incremental sync starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCursor {
    /// The start (UTC, RFC 3339) of the last sync whose listings all completed.
    pub since: String,
    /// That sync.
    pub job_id: String,
    /// What the cursor is valid for (the configuration's scope and the rules).
    pub fingerprint: String,
    /// The groups whose members that sync listed (identity, name): the next incremental lists
    /// them at its start rather than when a restriction names them.
    pub groups: Vec<(String, String)>,
    /// The reconciliation listings of that sync, each a group of spaces (key, id, name): the
    /// next incremental starts them with the sign-in, and keeps what it lists only for spaces
    /// that are still in scope with the same id and name.
    pub listings: Vec<Vec<SpaceRef>>,
}

/// A space as a listing needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SpaceRef {
    pub key: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Store {
    /// The manifest of `scope_key`, if it was written for `target`; a manifest written for
    /// another target is dropped.
    pub fn load_manifest(
        &self,
        scope_key: &str,
        target: &str,
    ) -> Result<HashMap<String, ManifestEntry>> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT target FROM index_manifests WHERE scope_key = ?1",
                [scope_key],
                |r| r.get(0),
            )
            .optional()?;
        if stored.as_deref() != Some(target) {
            self.clear_manifest(scope_key)?;
            self.conn.execute(
                "INSERT OR REPLACE INTO index_manifests (scope_key, target) VALUES (?1, ?2)",
                params![scope_key, target],
            )?;
            return Ok(HashMap::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT doc_id, kind, space_key, unit, version, meta_hash, body_hash, acl_hash,
             place_hash FROM indexed_docs WHERE scope_key = ?1",
        )?;
        let rows = stmt.query_map([scope_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ManifestEntry {
                    kind: r.get(1)?,
                    space_key: r.get(2)?,
                    unit: r.get(3)?,
                    version: r.get::<_, Option<i64>>(4)?.map(|v| v.max(0) as u64),
                    meta: r.get::<_, i64>(5)? as u64,
                    body: r.get::<_, i64>(6)? as u64,
                    acl: r.get::<_, i64>(7)? as u64,
                    place: r.get::<_, i64>(8)? as u64,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Makes the manifest recorded under `from` the manifest of `scope_key`, written for
    /// `target`, in one transaction: a full sync rebuilt the index, and what it wrote is all
    /// the new index holds that the manifest can vouch for.
    pub fn replace_manifest(&self, scope_key: &str, from: &str, target: &str) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM indexed_docs WHERE scope_key = ?1", [scope_key])?;
        tx.execute(
            "UPDATE indexed_docs SET scope_key = ?1 WHERE scope_key = ?2",
            params![scope_key, from],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO index_manifests (scope_key, target) VALUES (?1, ?2)",
            params![scope_key, target],
        )?;
        tx.execute("DELETE FROM index_manifests WHERE scope_key = ?1", [from])?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets the manifest of `scope_key`: the next sync writes every document.
    pub fn clear_manifest(&self, scope_key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM indexed_docs WHERE scope_key = ?1", [scope_key])?;
        Ok(())
    }

    /// Records documents the target acknowledged, in one transaction.
    pub fn upsert_manifest(&self, scope_key: &str, docs: &[(String, ManifestEntry)]) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO indexed_docs
                 (scope_key, doc_id, kind, space_key, unit, version, meta_hash, body_hash,
                  acl_hash, place_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (id, e) in docs {
                stmt.execute(params![
                    scope_key,
                    id,
                    e.kind,
                    e.space_key,
                    e.unit,
                    e.version.map(|v| v as i64),
                    e.meta as i64,
                    e.body as i64,
                    e.acl as i64,
                    e.place as i64
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records new access hashes of documents whose access list alone was rewritten.
    pub fn update_manifest_access(&self, scope_key: &str, docs: &[(String, u64)]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE indexed_docs SET acl_hash = ?3 WHERE scope_key = ?1 AND doc_id = ?2",
            )?;
            for (id, acl) in docs {
                stmt.execute(params![scope_key, id, *acl as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets documents deleted from the index.
    pub fn remove_from_manifest(&self, scope_key: &str, ids: &[String]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("DELETE FROM indexed_docs WHERE scope_key = ?1 AND doc_id = ?2")?;
            for id in ids {
                stmt.execute(params![scope_key, id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The cursor of the next incremental sync of `scope_key`.
    pub fn sync_cursor(&self, scope_key: &str) -> Result<Option<SyncCursor>> {
        Ok(self
            .conn
            .query_row(
                "SELECT since, job_id, fingerprint, groups, listings FROM sync_cursors
                 WHERE scope_key = ?1",
                [scope_key],
                |r| {
                    let groups: String = r.get(3)?;
                    let listings: String = r.get(4)?;
                    Ok(SyncCursor {
                        since: r.get(0)?,
                        job_id: r.get(1)?,
                        fingerprint: r.get(2)?,
                        // Only hints: unreadable means none.
                        groups: serde_json::from_str(&groups).unwrap_or_default(),
                        listings: serde_json::from_str(&listings).unwrap_or_default(),
                    })
                },
            )
            .optional()?)
    }

    /// Saves the cursor once everything before it is written.
    pub fn set_sync_cursor(&self, scope_key: &str, cursor: &SyncCursor) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO sync_cursors
             (scope_key, since, job_id, fingerprint, groups, listings)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                scope_key,
                cursor.since,
                cursor.job_id,
                cursor.fingerprint,
                serde_json::to_string(&cursor.groups).unwrap_or_else(|_| "[]".into()),
                serde_json::to_string(&cursor.listings).unwrap_or_else(|_| "[]".into())
            ],
        )?;
        Ok(())
    }

    /// Forgets the documents of `scope_key` that failed before and were written since.
    pub fn clear_failed_documents(&self, scope_key: &str, ids: &[String]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "DELETE FROM failed_documents WHERE scope_key = ?1 AND doc_id = ?2",
            )?;
            for id in ids {
                stmt.execute(params![scope_key, id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(meta: u64) -> ManifestEntry {
        ManifestEntry {
            kind: "page".into(),
            space_key: Some("ENG".into()),
            unit: Some("1".into()),
            version: Some(3),
            meta,
            body: 2,
            acl: u64::MAX,
            place: 5,
        }
    }

    #[test]
    fn a_manifest_belongs_to_its_target() {
        let store = Store::open_in_memory().unwrap();
        assert!(store.load_manifest("c1", "local/a").unwrap().is_empty());
        store
            .upsert_manifest("c1", &[("1".into(), entry(7))])
            .unwrap();
        let loaded = store.load_manifest("c1", "local/a").unwrap();
        assert_eq!(loaded.get("1"), Some(&entry(7)));
        store
            .update_manifest_access("c1", &[("1".into(), 9)])
            .unwrap();
        assert_eq!(store.load_manifest("c1", "local/a").unwrap()["1"].acl, 9);
        // Another index: everything is written again.
        assert!(store.load_manifest("c1", "local/b").unwrap().is_empty());
        assert!(store.load_manifest("c1", "local/b").unwrap().is_empty());
    }

    #[test]
    fn the_cursor_is_per_scope() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.sync_cursor("c1").unwrap(), None);
        let cursor = SyncCursor {
            since: "2026-12-02T10:00:00.000Z".into(),
            job_id: "j1".into(),
            fingerprint: "f".into(),
            groups: vec![("g1".into(), "engineering".into())],
            listings: vec![vec![SpaceRef {
                key: "ENG".into(),
                id: Some("42".into()),
                name: Some("Engineering".into()),
            }]],
        };
        store.set_sync_cursor("c1", &cursor).unwrap();
        assert_eq!(store.sync_cursor("c1").unwrap(), Some(cursor));
        assert_eq!(store.sync_cursor("c2").unwrap(), None);
    }
}

//! The engine's local state in SQLite: connections and, later, sync jobs.
//!
//! Secrets never reach this database: a connection row holds its configuration without them.

mod acl_snapshots;
mod connections;
mod failed;
mod jobs;
mod leases;
mod manifest;
mod migrations;
mod rules;
mod schedules;

use std::path::Path;

pub use acl_snapshots::{DocAclRecord, UserSnapshot};
pub use connections::SavedConnection;
pub use failed::FailedDocument;
pub use jobs::{DeltaInfo, JobError, JobRecord, JobStatus, JobType};
pub use leases::{HEARTBEAT_EVERY, LeaseHolder};
pub use manifest::{ManifestEntry, SyncCursor};
pub use rules::{RuleState, StoredRules};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Result;

/// One row of the connections list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConnectionSummary {
    /// Stable id of the connection.
    pub id: String,
    /// The name the admin gave it.
    pub name: String,
    /// `confluence_cloud`, `confluence_server` or `confluence_data_center`.
    pub data_source: String,
    /// The last finished sync, if any.
    pub last_sync: Option<LastSync>,
    /// True for the sandbox connection (the built-in simulator and the local index).
    pub sandbox: bool,
}

/// The outcome of a connection's most recent sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LastSync {
    /// When it ended, RFC 3339.
    pub finished_at: String,
    /// `completed`, `failed`, `canceled` or `partial`.
    pub status: String,
    /// Documents indexed by that sync.
    #[ts(type = "number")]
    pub indexed_document_count: u64,
}

/// The engine's SQLite database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Store::init(conn)
    }

    /// An in-memory database, for tests and dry runs.
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // The app, the CLI and the scheduler share this file: wait for a writer, never fail.
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Every connection, oldest first, with its last sync.
    pub fn list_connections(&self) -> Result<Vec<ConnectionSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.id, c.name, c.data_source, j.ended_at, j.status, j.counters, c.sandbox
             FROM connections c
             LEFT JOIN sync_jobs j ON j.rowid = (
                 SELECT rowid FROM sync_jobs WHERE connection_id = c.id AND ended_at IS NOT NULL
                 ORDER BY ended_at DESC LIMIT 1)
             ORDER BY c.created_at, c.id",
        )?;
        let rows = stmt.query_map([], |row| {
            let finished_at: Option<String> = row.get(3)?;
            let last_sync = match finished_at {
                Some(finished_at) => {
                    let counters: Option<String> = row.get(5)?;
                    let counters: crate::events::Counters = counters
                        .and_then(|c| serde_json::from_str(&c).ok())
                        .unwrap_or_default();
                    Some(LastSync {
                        finished_at,
                        status: row.get(4)?,
                        indexed_document_count: counters.indexed_document_count,
                    })
                }
                None => None,
            };
            Ok(ConnectionSummary {
                id: row.get(0)?,
                name: row.get(1)?,
                data_source: row.get(2)?,
                last_sync,
                sandbox: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds a connection and returns its summary.
    pub fn add_connection(
        &self,
        id: &str,
        name: &str,
        data_source: &str,
    ) -> Result<ConnectionSummary> {
        self.conn.execute(
            "INSERT INTO connections (id, name, data_source, created_at) VALUES (?1, ?2, ?3, datetime('now'))",
            (id, name, data_source),
        )?;
        Ok(ConnectionSummary {
            id: id.to_owned(),
            name: name.to_owned(),
            data_source: data_source.to_owned(),
            last_sync: None,
            sandbox: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_has_no_connections_and_lists_what_is_added() {
        let store = Store::open_in_memory().unwrap();
        assert!(store.list_connections().unwrap().is_empty());
        store
            .add_connection("c1", "Docs", "confluence_cloud")
            .unwrap();
        let listed = store.list_connections().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "Docs");
        assert_eq!(listed[0].last_sync, None);
    }

    #[test]
    fn reopening_a_database_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        Store::open(&path)
            .unwrap()
            .add_connection("c1", "Docs", "confluence_server")
            .unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(store.list_connections().unwrap()[0].id, "c1");
    }
}

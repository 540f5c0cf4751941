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
pub use manifest::{ManifestEntry, SpaceRef, SyncCursor};
pub use rules::{RuleState, StoredRules};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Result;

/// One row of the connections list. Each count has one source: the index's document count
/// ([`ConnectionSummary::documents_in_index`]) and what the last content sync did
/// ([`ConnectionSummary::last_content_sync`]) are apart from the last sync of any kind (which
/// may be an access-control sync, whose identity documents live apart from the content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConnectionSummary {
    /// Stable id of the connection.
    pub id: String,
    /// The name the admin gave it.
    pub name: String,
    /// `confluence_cloud`, `confluence_server` or `confluence_data_center`.
    pub data_source: String,
    /// The last finished sync of any kind, if any.
    pub last_sync: Option<LastSync>,
    /// The last finished content sync (full or incremental), if any.
    pub last_content_sync: Option<LastSync>,
    /// Documents in the connection's content index, as the target counted them when the last
    /// content sync that could count them ended; `None` before any did.
    #[ts(type = "number | null")]
    pub documents_in_index: Option<u64>,
    /// When `documents_in_index` was counted, RFC 3339.
    pub documents_counted_at: Option<String>,
    /// True for the sandbox connection (the built-in simulator and the local index).
    pub sandbox: bool,
}

/// The outcome of one finished sync of a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LastSync {
    /// When it ended, RFC 3339.
    pub finished_at: String,
    /// `completed`, `failed`, `canceled` or `partial`.
    pub status: String,
    /// Full, incremental or access control.
    pub job_type: JobType,
    /// Documents indexed by that sync (identity documents for an access-control sync).
    #[ts(type = "number")]
    pub indexed_document_count: u64,
    /// Everything that sync counted.
    pub counters: crate::events::Counters,
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

    /// Every connection, oldest first, with its last sync, its last content sync and the
    /// documents its index held when last counted.
    pub fn list_connections(&self) -> Result<Vec<ConnectionSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.id, c.name, c.data_source, c.sandbox,
                 (SELECT rowid FROM sync_jobs WHERE connection_id = c.id AND ended_at IS NOT NULL
                  ORDER BY ended_at DESC LIMIT 1),
                 (SELECT rowid FROM sync_jobs WHERE connection_id = c.id AND ended_at IS NOT NULL
                  AND job_type IN ('full', 'incremental') ORDER BY ended_at DESC LIMIT 1),
                 (SELECT rowid FROM sync_jobs WHERE connection_id = c.id AND ended_at IS NOT NULL
                  AND job_type IN ('full', 'incremental')
                  AND json_extract(counters, '$.total_document_count') IS NOT NULL
                  ORDER BY ended_at DESC LIMIT 1)
             FROM connections c
             ORDER BY c.created_at, c.id",
        )?;
        type Row = (String, String, String, bool, [Option<i64>; 3]);
        let rows: Vec<Row> = stmt
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    [row.get(4)?, row.get(5)?, row.get(6)?],
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut job = self.conn.prepare(
            "SELECT ended_at, status, job_type, counters FROM sync_jobs WHERE rowid = ?1",
        )?;
        let mut last = |rowid: Option<i64>| -> Result<Option<LastSync>> {
            let Some(rowid) = rowid else {
                return Ok(None);
            };
            let found = job.query_row([rowid], |row| {
                let counters: String = row.get(3)?;
                let job_type: String = row.get(2)?;
                Ok((row.get::<_, String>(0)?, row.get(1)?, job_type, counters))
            });
            let (finished_at, status, job_type, counters) = match found {
                Ok(found) => found,
                Err(rusqlite::Error::QueryReturnedNoRows) => return Ok(None),
                Err(err) => return Err(err.into()),
            };
            let counters: crate::events::Counters =
                serde_json::from_str(&counters).unwrap_or_default();
            Ok(Some(LastSync {
                finished_at,
                status,
                job_type: serde_json::from_value(serde_json::Value::String(job_type))
                    .unwrap_or(JobType::Full),
                indexed_document_count: counters.indexed_document_count,
                counters,
            }))
        };
        let mut summaries = Vec::with_capacity(rows.len());
        for (id, name, data_source, sandbox, [any, content, counted]) in rows {
            let counted = last(counted)?;
            summaries.push(ConnectionSummary {
                id,
                name,
                data_source,
                last_sync: last(any)?,
                last_content_sync: last(content)?,
                documents_in_index: counted
                    .as_ref()
                    .and_then(|l| l.counters.total_document_count),
                documents_counted_at: counted.map(|l| l.finished_at),
                sandbox,
            });
        }
        Ok(summaries)
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
            last_content_sync: None,
            documents_in_index: None,
            documents_counted_at: None,
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
    fn the_index_count_and_the_last_content_sync_are_apart_from_an_access_control_sync() {
        let store = Store::open_in_memory().unwrap();
        store
            .add_connection("c1", "Docs", "confluence_cloud")
            .unwrap();
        let job = |id: &str, kind: JobType, at: &str, counters: crate::events::Counters| {
            let job = JobRecord {
                id: id.to_owned(),
                connection_id: Some("c1".to_owned()),
                job_type: kind,
                trigger: "manual".to_owned(),
                status: JobStatus::Completed,
                started_at: at.to_owned(),
                ended_at: Some(at.to_owned()),
                duration_s: Some(1.0),
                counters,
                requests: 1,
                errors: vec![],
                config: serde_json::Value::Null,
                rules: serde_json::Value::Null,
                delta: None,
                notes: vec![],
            };
            store.insert_job(&job).unwrap();
            store.finish_job(&job).unwrap();
        };
        use crate::events::Counters;
        job(
            "full",
            JobType::Full,
            "2026-11-29T05:00:00.000Z",
            Counters {
                indexed_document_count: 389,
                created: 389,
                total_document_count: Some(389),
                ..Counters::default()
            },
        );
        job(
            "incremental",
            JobType::Incremental,
            "2026-11-29T06:00:00.000Z",
            Counters {
                indexed_document_count: 3,
                updated: 3,
                unchanged: 386,
                // The target could not be counted this time: the count before stays.
                total_document_count: None,
                ..Counters::default()
            },
        );
        job(
            "identities",
            JobType::AccessControl,
            "2026-11-29T07:00:00.000Z",
            Counters {
                indexed_document_count: 27,
                created: 27,
                ..Counters::default()
            },
        );
        let c = &store.list_connections().unwrap()[0];
        let last = c.last_sync.as_ref().unwrap();
        assert_eq!(
            (last.job_type, last.indexed_document_count),
            (JobType::AccessControl, 27)
        );
        let content = c.last_content_sync.as_ref().unwrap();
        assert_eq!(content.job_type, JobType::Incremental);
        assert_eq!(content.counters.unchanged, 386);
        assert_eq!(c.documents_in_index, Some(389));
        assert_eq!(
            c.documents_counted_at.as_deref(),
            Some("2026-11-29T05:00:00.000Z")
        );
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

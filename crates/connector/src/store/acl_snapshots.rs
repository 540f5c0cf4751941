//! Per-job snapshots for document-level security: each document's access and derivation as a
//! full sync computed them, and each user's identities as an access-control sync listed them.
//! Bodies are JSON, stored once in `acl_blobs` however many documents share them.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
use crate::Result;
use crate::acl::AclRecorder;

/// One user as an access-control sync saw them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UserSnapshot {
    /// The identity document's id.
    pub user_id: String,
    /// The user's name for people.
    pub name: String,
    /// The identities the user holds.
    pub identities: Vec<String>,
}

/// A document's recorded access.
#[derive(Debug, Clone, PartialEq)]
pub struct DocAclRecord {
    /// The full sync that computed it.
    pub job_id: String,
    /// The `Access`, as JSON.
    pub access: serde_json::Value,
    /// The `Derivation`, as JSON.
    pub derivation: serde_json::Value,
}

fn blob_ids(tx: &rusqlite::Transaction<'_>, bodies: &[String]) -> rusqlite::Result<Vec<i64>> {
    let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO acl_blobs (body) VALUES (?1)")?;
    let mut select = tx.prepare_cached("SELECT id FROM acl_blobs WHERE body = ?1")?;
    bodies
        .iter()
        .map(|body| {
            insert.execute([body])?;
            select.query_row([body], |row| row.get(0))
        })
        .collect()
}

impl Store {
    /// Saves what a full sync's resolver recorded, under job `job_id` (taking it).
    pub fn record_doc_acls(&mut self, job_id: &str, recorder: &AclRecorder) -> Result<usize> {
        let snapshot = recorder.take();
        let tx = self.conn.transaction()?;
        let ids = blob_ids(&tx, &snapshot.blobs)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO acl_doc_snapshots (job_id, doc_id, access, derivation)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (doc, access, derivation) in &snapshot.rows {
                insert.execute(params![
                    job_id,
                    doc,
                    ids[*access as usize],
                    ids[*derivation as usize]
                ])?;
            }
        }
        tx.commit()?;
        Ok(snapshot.rows.len())
    }

    /// Saves the users an access-control sync wrote, under job `job_id`.
    pub fn record_user_identities(&mut self, job_id: &str, users: &[UserSnapshot]) -> Result<()> {
        let tx = self.conn.transaction()?;
        let bodies: Vec<String> = users
            .iter()
            .map(|u| serde_json::to_string(&u.identities))
            .collect::<serde_json::Result<_>>()?;
        let ids = blob_ids(&tx, &bodies)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO acl_user_snapshots (job_id, user_id, name, identities)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (user, id) in users.iter().zip(ids) {
                insert.execute(params![job_id, user.user_id, user.name, id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A document's access as the most recent full sync that recorded it computed it.
    pub fn latest_doc_acl(&self, doc_id: &str) -> Result<Option<DocAclRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.job_id, a.body, d.body FROM acl_doc_snapshots s
                 JOIN sync_jobs j ON j.id = s.job_id
                 JOIN acl_blobs a ON a.id = s.access
                 JOIN acl_blobs d ON d.id = s.derivation
                 WHERE s.doc_id = ?1 ORDER BY j.started_at DESC, j.rowid DESC LIMIT 1",
                [doc_id],
                |row| {
                    let access: String = row.get(1)?;
                    let derivation: String = row.get(2)?;
                    Ok(DocAclRecord {
                        job_id: row.get(0)?,
                        access: serde_json::from_str(&access).unwrap_or_default(),
                        derivation: serde_json::from_str(&derivation).unwrap_or_default(),
                    })
                },
            )
            .optional()?)
    }

    /// Every document's access (JSON) recorded by job `job_id`.
    pub fn doc_acls(&self, job_id: &str) -> Result<HashMap<String, serde_json::Value>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.doc_id, a.body FROM acl_doc_snapshots s JOIN acl_blobs a ON a.id = s.access
             WHERE s.job_id = ?1",
        )?;
        let rows = stmt.query_map([job_id], |row| {
            let body: String = row.get(1)?;
            Ok((
                row.get::<_, String>(0)?,
                serde_json::from_str(&body).unwrap_or_default(),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The users recorded by access-control job `job_id`.
    pub fn user_identities(&self, job_id: &str) -> Result<Vec<UserSnapshot>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.user_id, s.name, b.body FROM acl_user_snapshots s
             JOIN acl_blobs b ON b.id = s.identities WHERE s.job_id = ?1 ORDER BY s.user_id",
        )?;
        let rows = stmt.query_map([job_id], |row| {
            let body: String = row.get(2)?;
            Ok(UserSnapshot {
                user_id: row.get(0)?,
                name: row.get(1)?,
                identities: serde_json::from_str(&body).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The job with a snapshot of `kind` (`docs` or `users`) closest to job `job_id`: the latest
    /// one that started no later than it, else the earliest after it.
    pub fn nearest_acl_snapshot(&self, job_id: &str, users: bool) -> Result<Option<String>> {
        let table = if users {
            "acl_user_snapshots"
        } else {
            "acl_doc_snapshots"
        };
        let sql = format!(
            "WITH me AS (SELECT started_at, rowid AS r FROM sync_jobs WHERE id = ?1),
                  snap AS (SELECT j.id, j.started_at, j.rowid AS r FROM sync_jobs j
                           WHERE EXISTS (SELECT 1 FROM {table} s WHERE s.job_id = j.id))
             SELECT id FROM (
                 SELECT snap.id AS id, 0 AS after, snap.started_at AS started_at, snap.r AS r FROM snap, me
                  WHERE (snap.started_at, snap.r) <= (me.started_at, me.r)
                 UNION ALL
                 SELECT snap.id AS id, 1 AS after, snap.started_at AS started_at, snap.r AS r FROM snap, me
                  WHERE (snap.started_at, snap.r) > (me.started_at, me.r))
             ORDER BY after,
                      CASE WHEN after = 0 THEN started_at END DESC,
                      CASE WHEN after = 0 THEN r END DESC,
                      started_at, r
             LIMIT 1"
        );
        Ok(self
            .conn
            .query_row(&sql, [job_id], |row| row.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{Access, Derivation};
    use crate::{JobRecord, JobStatus, JobType};

    fn job(store: &Store, id: &str, started_at: &str, job_type: JobType) {
        store
            .insert_job(&JobRecord {
                id: id.into(),
                connection_id: None,
                job_type,
                trigger: "test".into(),
                status: JobStatus::Completed,
                started_at: started_at.into(),
                ended_at: None,
                duration_s: None,
                counters: Default::default(),
                requests: 0,
                errors: vec![],
                config: serde_json::Value::Null,
                rules: serde_json::Value::Null,
                delta: None,
                notes: Vec::new(),
            })
            .unwrap();
    }

    #[test]
    fn snapshots_round_trip_and_are_deduplicated() {
        let mut store = Store::open_in_memory().unwrap();
        job(&store, "full1", "2026-01-01T00:00:00Z", JobType::Full);
        job(
            &store,
            "acl1",
            "2026-01-01T00:01:00Z",
            JobType::AccessControl,
        );
        job(&store, "full2", "2026-01-02T00:00:00Z", JobType::Full);
        let recorder = AclRecorder::default();
        let access = Access::Identities {
            identities: vec!["user:a".into()],
        };
        for doc in ["1", "2", "3"] {
            recorder.record(doc, &access, &Derivation::default());
        }
        assert_eq!(store.record_doc_acls("full1", &recorder).unwrap(), 3);
        recorder.record("1", &Access::Public, &Derivation::default());
        store.record_doc_acls("full2", &recorder).unwrap();
        let blobs: i64 = store
            .conn
            .query_row("SELECT count(*) FROM acl_blobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(blobs, 3, "one access list, one derivation, public");
        assert_eq!(store.doc_acls("full1").unwrap().len(), 3);
        // A sync saves as it goes: the same bodies saved again are stored once.
        recorder.record("2", &access, &Derivation::default());
        store.record_doc_acls("full2", &recorder).unwrap();
        let again: i64 = store
            .conn
            .query_row("SELECT count(*) FROM acl_blobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(again, 3);
        assert_eq!(store.doc_acls("full2").unwrap().len(), 2);
        let latest = store.latest_doc_acl("1").unwrap().unwrap();
        assert_eq!(latest.job_id, "full2");
        assert_eq!(latest.access["kind"], "public");

        store
            .record_user_identities(
                "acl1",
                &[UserSnapshot {
                    user_id: "k1".into(),
                    name: "ann".into(),
                    identities: vec!["user:ann".into()],
                }],
            )
            .unwrap();
        assert_eq!(store.user_identities("acl1").unwrap()[0].name, "ann");
        // The users of a full sync: the access-control sync after it when none came before.
        assert_eq!(
            store
                .nearest_acl_snapshot("full1", true)
                .unwrap()
                .as_deref(),
            Some("acl1")
        );
        assert_eq!(
            store
                .nearest_acl_snapshot("full2", true)
                .unwrap()
                .as_deref(),
            Some("acl1")
        );
        assert_eq!(
            store
                .nearest_acl_snapshot("acl1", false)
                .unwrap()
                .as_deref(),
            Some("full1")
        );
    }
}

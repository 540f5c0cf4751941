//! Sync jobs: what ran, when, with which configuration and rules, and how it ended.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::Store;
use crate::Result;
use crate::events::Counters;

/// The kinds of sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JobType {
    /// List everything, index it, delete what is gone.
    Full,
    /// Only what changed since the last sync.
    Incremental,
    /// Identity documents for document-level security.
    AccessControl,
}

/// How a job ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Still running (or the process died while it ran).
    Running,
    /// Every listing completed; deletions applied.
    Completed,
    /// Some listings failed: what was seen is indexed, nothing was deleted where a listing failed.
    Partial,
    /// The job could not do its work.
    Failed,
    /// Stopped on request; nothing was deleted. The next run resumes from its checkpoints.
    Canceled,
    /// The process running it died (killed, crashed, power lost); found by the next start.
    /// Nothing was deleted; the next run resumes from its checkpoints.
    Interrupted,
}

impl JobStatus {
    /// The status as stored and shown: `running`, `completed`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Partial => "partial",
            JobStatus::Failed => "failed",
            JobStatus::Canceled => "canceled",
            JobStatus::Interrupted => "interrupted",
        }
    }
}

/// One error of a job, with where it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JobError {
    /// Where: a space key, a document id, a phase.
    pub context: String,
    /// What went wrong.
    pub message: String,
}

/// A sync job as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JobRecord {
    /// Job id.
    pub id: String,
    /// The connection it ran for, if it ran for a saved one.
    pub connection_id: Option<String>,
    /// Full, incremental or access control.
    pub job_type: JobType,
    /// `manual`, `cli`, `demo`, `scheduled`.
    pub trigger: String,
    /// How it ended.
    pub status: JobStatus,
    /// Start time, RFC 3339.
    pub started_at: String,
    /// End time, RFC 3339.
    pub ended_at: Option<String>,
    /// Wall time in seconds.
    pub duration_s: Option<f64>,
    /// Document counters.
    pub counters: Counters,
    /// Requests sent to Confluence.
    #[ts(type = "number")]
    pub requests: u64,
    /// The first errors, with context.
    pub errors: Vec<JobError>,
    /// The configuration in force, without secrets.
    #[ts(type = "unknown")]
    pub config: Value,
    /// The sync rules in force.
    #[ts(type = "unknown")]
    pub rules: Value,
    /// Incremental syncs: the cursor the delta was fetched from.
    #[serde(default)]
    pub delta: Option<DeltaInfo>,
    /// What the job wants the admin to know that is not an error, e.g. "no full sync of this
    /// connection yet: this incremental sync ran as a full sync".
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What an incremental sync fetched: everything modified at or after `since`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DeltaInfo {
    /// The instant (UTC, RFC 3339) the delta starts from: the start of the previous successful
    /// sync minus the overlap window.
    pub since: String,
    /// The same instant as the CQL literal sent (`yyyy-MM-dd HH:mm`, in the crawling user's
    /// time zone, rounded down to the minute).
    pub since_literal: String,
    /// The time zone the literal is written in, as Confluence reported it for the crawling
    /// user; when it reported none, the literal looks back far enough for any zone.
    pub time_zone: String,
    /// The overlap window in seconds (search results lag behind edits; clocks differ).
    #[ts(type = "number")]
    pub overlap_s: u64,
    /// The job whose start gave the cursor.
    pub cursor_job: String,
    /// Whether the id-only reconciliation (deletions, moves, permission changes) ran.
    pub reconciled: bool,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<JobRecord> {
    fn json<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> T {
        text.and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }
    let job_type: String = row.get("job_type")?;
    let status: String = row.get("status")?;
    Ok(JobRecord {
        id: row.get("id")?,
        connection_id: row.get("connection_id")?,
        job_type: serde_json::from_value(Value::String(job_type)).unwrap_or(JobType::Full),
        trigger: row.get("trigger")?,
        status: serde_json::from_value(Value::String(status)).unwrap_or(JobStatus::Failed),
        started_at: row.get("started_at")?,
        ended_at: row.get("ended_at")?,
        duration_s: row.get("duration_s")?,
        counters: json(row.get("counters")?),
        requests: row.get::<_, i64>("requests")?.max(0) as u64,
        errors: json(row.get("errors")?),
        config: json(row.get("config")?),
        rules: json(row.get("rules")?),
        delta: json(row.get("delta")?),
        notes: json(row.get("notes")?),
    })
}

impl Store {
    /// Records a job that starts now.
    pub fn insert_job(&self, job: &JobRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_jobs (id, connection_id, job_type, trigger, status, started_at,
                requests, counters, errors, config, rules)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                job.id,
                job.connection_id,
                serde_json::to_value(job.job_type)?.as_str(),
                job.trigger,
                job.status.as_str(),
                job.started_at,
                job.requests as i64,
                serde_json::to_string(&job.counters)?,
                serde_json::to_string(&job.errors)?,
                serde_json::to_string(&job.config)?,
                serde_json::to_string(&job.rules)?,
            ],
        )?;
        Ok(())
    }

    /// Records how a job ended.
    pub fn finish_job(&self, job: &JobRecord) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_jobs SET status = ?2, ended_at = ?3, duration_s = ?4, requests = ?5,
                counters = ?6, errors = ?7, delta = ?8, notes = ?9, job_type = ?10 WHERE id = ?1",
            params![
                job.id,
                job.status.as_str(),
                job.ended_at,
                job.duration_s,
                job.requests as i64,
                serde_json::to_string(&job.counters)?,
                serde_json::to_string(&job.errors)?,
                serde_json::to_string(&job.delta)?,
                serde_json::to_string(&job.notes)?,
                serde_json::to_value(job.job_type)?.as_str(),
            ],
        )?;
        Ok(())
    }

    /// Files job `id` under `scope_key` (its connection, or its target for a configuration file).
    pub fn set_job_scope(&self, id: &str, scope_key: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_jobs SET scope_key = ?2 WHERE id = ?1",
            params![id, scope_key],
        )?;
        Ok(())
    }

    /// The most recent jobs of `scope_key` (a connection id or a target key), newest first.
    pub fn jobs_of_scope(&self, scope_key: &str, limit: usize) -> Result<Vec<JobRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM sync_jobs WHERE scope_key = ?1 OR connection_id = ?1
             ORDER BY started_at DESC, rowid DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![scope_key, limit as i64], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Saves a running job's counters and errors so far (its heartbeat), so that a job whose
    /// process dies still shows what it had done.
    pub fn update_job_progress(&self, job: &JobRecord) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_jobs SET requests = ?2, counters = ?3, errors = ?4
             WHERE id = ?1 AND status = 'running'",
            params![
                job.id,
                job.requests as i64,
                serde_json::to_string(&job.counters)?,
                serde_json::to_string(&job.errors)?,
            ],
        )?;
        Ok(())
    }

    /// The most recent jobs first, optionally of one connection.
    pub fn list_jobs(&self, connection_id: Option<&str>, limit: usize) -> Result<Vec<JobRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM sync_jobs WHERE (?1 IS NULL OR connection_id = ?1)
             ORDER BY started_at DESC, rowid DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![connection_id, limit as i64], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One job by id.
    pub fn get_job(&self, id: &str) -> Result<Option<JobRecord>> {
        Ok(self
            .conn
            .query_row("SELECT * FROM sync_jobs WHERE id = ?1", [id], from_row)
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, started_at: &str) -> JobRecord {
        JobRecord {
            id: id.to_owned(),
            connection_id: Some("c1".to_owned()),
            job_type: JobType::Full,
            trigger: "cli".to_owned(),
            status: JobStatus::Running,
            started_at: started_at.to_owned(),
            ended_at: None,
            duration_s: None,
            counters: Counters::default(),
            requests: 0,
            errors: vec![],
            config: serde_json::json!({"confluence_url": "http://h"}),
            rules: Value::Null,
            delta: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_job_is_recorded_when_it_starts_and_updated_when_it_ends() {
        let store = Store::open_in_memory().unwrap();
        store
            .add_connection("c1", "Docs", "confluence_cloud")
            .unwrap();
        let mut j = job("j1", "2026-11-29T05:00:00.000Z");
        store.insert_job(&j).unwrap();
        assert_eq!(
            store.get_job("j1").unwrap().unwrap().status,
            JobStatus::Running
        );

        j.status = JobStatus::Partial;
        j.ended_at = Some("2026-11-29T05:01:00.000Z".to_owned());
        j.duration_s = Some(60.0);
        j.counters.indexed_document_count = 12;
        j.errors.push(JobError {
            context: "space ENG".into(),
            message: "listing failed".into(),
        });
        store.finish_job(&j).unwrap();
        assert_eq!(store.get_job("j1").unwrap().unwrap(), j);
        assert_eq!(store.get_job("nope").unwrap(), None);
    }

    #[test]
    fn jobs_are_listed_newest_first_and_feed_the_connections_list() {
        let store = Store::open_in_memory().unwrap();
        store
            .add_connection("c1", "Docs", "confluence_cloud")
            .unwrap();
        let mut old = job("old", "2026-11-28T05:00:00.000Z");
        old.status = JobStatus::Completed;
        old.ended_at = Some("2026-11-28T05:01:00.000Z".to_owned());
        old.counters.indexed_document_count = 3;
        store.insert_job(&old).unwrap();
        store.finish_job(&old).unwrap();
        store
            .insert_job(&job("new", "2026-11-29T05:00:00.000Z"))
            .unwrap();
        let ids: Vec<_> = store
            .list_jobs(Some("c1"), 10)
            .unwrap()
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(ids, ["new", "old"]);
        // The running job has not finished: the list shows the last finished one.
        let last = store.list_connections().unwrap()[0]
            .last_sync
            .clone()
            .unwrap();
        assert_eq!(last.status, "completed");
        assert_eq!(last.indexed_document_count, 3);
    }
}

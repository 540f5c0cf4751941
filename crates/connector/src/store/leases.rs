//! Sync leases: one sync per connection (or per target, for a configuration file) at a time,
//! across processes. A lease names its job, process and host and carries a heartbeat; a lease
//! whose process is gone (same host) or whose heartbeat stopped is stale, and its job is marked
//! `interrupted` by the next process that looks.

use std::time::Duration;

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{JobStatus, Store};
use crate::{Error, Result};

/// A heartbeat older than this marks a lease as stale, whatever its process.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// How often a running job renews its lease.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// Who holds a sync lease.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LeaseHolder {
    /// The lease key: a connection id, or `target:<...>` for a configuration file.
    pub key: String,
    /// The job that holds it.
    pub job_id: String,
    /// `full`, `incremental` or `access_control`.
    pub job_type: String,
    /// The connection, if the job runs for a saved one.
    pub connection_id: Option<String>,
    /// The holder's process id.
    pub pid: u32,
    /// The holder's host name.
    pub host: String,
    /// When the job started, RFC 3339.
    pub started_at: String,
    /// The holder's last sign of life, RFC 3339.
    pub heartbeat_at: String,
}

impl LeaseHolder {
    /// The message a second start gets.
    pub fn busy_message(&self) -> String {
        format!(
            "a {} sync of this connection is already running since {}, by process {} on {} (job {}); \
             wait for it to end or cancel it",
            self.job_type.replace('_', "-"),
            self.started_at,
            self.pid,
            self.host,
            self.job_id
        )
    }

    /// Whether the holder is gone: its process ended (same host), or its heartbeat stopped.
    pub fn is_stale(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        if self.host == host_name() && self.pid != std::process::id() && !process_alive(self.pid) {
            return true;
        }
        match chrono::DateTime::parse_from_rfc3339(&self.heartbeat_at) {
            Ok(beat) => {
                now.signed_duration_since(beat.with_timezone(&chrono::Utc))
                    > chrono::Duration::from_std(STALE_AFTER).unwrap_or_default()
            }
            Err(_) => true,
        }
    }
}

/// This machine's name, as leases record it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Whether process `pid` runs on this machine. Where that cannot be told (no `/proc`), the
/// process counts as alive and only its heartbeat decides.
fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    // A zombie (killed, not yet reaped by its parent) is gone as far as a sync is concerned.
    match std::fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn holder(row: &rusqlite::Row<'_>) -> rusqlite::Result<LeaseHolder> {
    Ok(LeaseHolder {
        key: row.get("key")?,
        job_id: row.get("job_id")?,
        job_type: row.get("job_type")?,
        connection_id: row.get("connection_id")?,
        pid: row.get::<_, i64>("pid")? as u32,
        host: row.get("host")?,
        started_at: row.get("started_at")?,
        heartbeat_at: row.get("heartbeat_at")?,
    })
}

impl Store {
    /// Takes the lease `key` for `job_id`, or fails with [`Error::Busy`] naming the live holder.
    /// A stale holder's job is marked `interrupted` first.
    pub fn acquire_lease(
        &mut self,
        key: &str,
        job_id: &str,
        job_type: &str,
        connection_id: Option<&str>,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row("SELECT * FROM sync_leases WHERE key = ?1", [key], holder)
            .optional()?;
        if let Some(existing) = existing {
            if !existing.is_stale(now()) {
                return Err(Error::Busy(Box::new(existing)));
            }
            mark_interrupted(&tx, &existing.job_id, &existing.heartbeat_at)?;
        }
        let t = stamp(now());
        tx.execute(
            "INSERT OR REPLACE INTO sync_leases
                (key, job_id, job_type, connection_id, pid, host, started_at, heartbeat_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                key,
                job_id,
                job_type,
                connection_id,
                std::process::id() as i64,
                host_name(),
                t
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Renews the lease of `job_id`; `false` when the job no longer holds it.
    pub fn heartbeat(&self, key: &str, job_id: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE sync_leases SET heartbeat_at = ?3 WHERE key = ?1 AND job_id = ?2",
            params![key, job_id, stamp(now())],
        )? > 0)
    }

    /// Gives the lease of `job_id` back.
    pub fn release_lease(&self, key: &str, job_id: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM sync_leases WHERE key = ?1 AND job_id = ?2",
            params![key, job_id],
        )?;
        Ok(())
    }

    /// The live holder of lease `key`, if any.
    pub fn lease(&self, key: &str) -> Result<Option<LeaseHolder>> {
        Ok(self
            .conn
            .query_row("SELECT * FROM sync_leases WHERE key = ?1", [key], holder)
            .optional()?
            .filter(|h| !h.is_stale(now())))
    }

    /// Every live lease: the syncs running now, in this process or another.
    pub fn live_leases(&self) -> Result<Vec<LeaseHolder>> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM sync_leases ORDER BY started_at")?;
        let rows = stmt.query_map([], holder)?;
        let all: Vec<LeaseHolder> = rows.collect::<rusqlite::Result<_>>()?;
        let t = now();
        Ok(all.into_iter().filter(|h| !h.is_stale(t)).collect())
    }

    /// Marks the jobs of dead processes `interrupted` and drops their leases; returns those
    /// jobs' ids. A `running` job without any lease (a crash before the lease, or an older
    /// version) is interrupted too, unless a live lease names it.
    pub fn recover_interrupted(&mut self) -> Result<Vec<String>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let leases: Vec<LeaseHolder> = {
            let mut stmt = tx.prepare("SELECT * FROM sync_leases")?;
            let rows = stmt.query_map([], holder)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let t = now();
        let mut recovered = Vec::new();
        let mut live_jobs = Vec::new();
        for lease in leases {
            if lease.is_stale(t) {
                mark_interrupted(&tx, &lease.job_id, &lease.heartbeat_at)?;
                tx.execute("DELETE FROM sync_leases WHERE key = ?1", [&lease.key])?;
                recovered.push(lease.job_id);
            } else {
                live_jobs.push(lease.job_id);
            }
        }
        let orphans: Vec<(String, String)> = {
            let mut stmt =
                tx.prepare("SELECT id, started_at FROM sync_jobs WHERE status = 'running'")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (id, started_at) in orphans {
            if !live_jobs.contains(&id) && !recovered.contains(&id) {
                mark_interrupted(&tx, &id, &started_at)?;
                recovered.push(id);
            }
        }
        tx.commit()?;
        Ok(recovered)
    }
}

/// A job whose process died: `interrupted`, ended at its last heartbeat, with a note.
fn mark_interrupted(tx: &rusqlite::Transaction<'_>, job_id: &str, last_seen: &str) -> Result<()> {
    let errors: Option<String> = tx
        .query_row(
            "SELECT errors FROM sync_jobs WHERE id = ?1 AND status = 'running'",
            [job_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(errors) = errors else {
        return Ok(());
    };
    let mut list: Vec<super::JobError> = serde_json::from_str(&errors).unwrap_or_default();
    list.push(super::JobError {
        context: "job".to_owned(),
        message: format!(
            "the process running this sync stopped without finishing (last sign of life {last_seen}); \
             the next sync of this connection resumes from its checkpoints"
        ),
    });
    tx.execute(
        "UPDATE sync_jobs SET status = ?2, ended_at = ?3, errors = ?4,
            duration_s = (julianday(?3) - julianday(started_at)) * 86400.0
         WHERE id = ?1",
        params![
            job_id,
            JobStatus::Interrupted.as_str(),
            last_seen,
            serde_json::to_string(&list)?
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{JobRecord, JobType};

    fn running_job(store: &Store, id: &str) {
        store
            .insert_job(&JobRecord {
                id: id.into(),
                connection_id: None,
                job_type: JobType::Full,
                trigger: "cli".into(),
                status: JobStatus::Running,
                started_at: stamp(now()),
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
    fn a_live_lease_refuses_a_second_job_and_names_its_holder() {
        let mut store = Store::open_in_memory().unwrap();
        running_job(&store, "j1");
        store.acquire_lease("c1", "j1", "full", Some("c1")).unwrap();
        let err = store
            .acquire_lease("c1", "j2", "full", Some("c1"))
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("already running since"), "{message}");
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        // Another key is free.
        store.acquire_lease("c2", "j3", "full", Some("c2")).unwrap();
        assert_eq!(store.live_leases().unwrap().len(), 2);
        store.release_lease("c1", "j1").unwrap();
        store.acquire_lease("c1", "j2", "full", Some("c1")).unwrap();
    }

    #[test]
    fn a_dead_holder_is_interrupted_and_its_lease_taken_over() {
        let mut store = Store::open_in_memory().unwrap();
        running_job(&store, "dead");
        store.acquire_lease("c1", "dead", "full", None).unwrap();
        // Pretend the holder was another process that no longer exists.
        store
            .conn
            .execute("UPDATE sync_leases SET pid = 999999999", [])
            .unwrap();
        running_job(&store, "next");
        store.acquire_lease("c1", "next", "full", None).unwrap();
        let dead = store.get_job("dead").unwrap().unwrap();
        assert_eq!(dead.status, JobStatus::Interrupted);
        assert!(dead.ended_at.is_some());
        assert!(dead.errors.last().unwrap().message.contains("stopped"));
    }

    #[test]
    fn recovery_interrupts_running_jobs_without_a_live_lease() {
        let mut store = Store::open_in_memory().unwrap();
        running_job(&store, "orphan");
        running_job(&store, "live");
        store.acquire_lease("c1", "live", "full", None).unwrap();
        let recovered = store.recover_interrupted().unwrap();
        assert_eq!(recovered, ["orphan"]);
        assert_eq!(
            store.get_job("live").unwrap().unwrap().status,
            JobStatus::Running
        );
        // A stopped heartbeat is stale whatever the process.
        store
            .conn
            .execute(
                "UPDATE sync_leases SET heartbeat_at = '2020-01-01T00:00:00.000Z'",
                [],
            )
            .unwrap();
        assert_eq!(store.recover_interrupted().unwrap(), ["live"]);
        assert!(store.live_leases().unwrap().is_empty());
    }
}

//! Schedules per connection and kind of sync (see [`crate::schedule`]): saved with their spec
//! validated and their next run computed; found when due; moved on when a run starts.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use super::{JobType, Store};
use crate::schedule::{Schedule, ScheduleSpec, parse_time, stamp};
use crate::{Error, Result};

fn job_type_str(kind: JobType) -> &'static str {
    match kind {
        JobType::Full => "full",
        JobType::Incremental => "incremental",
        JobType::AccessControl => "access_control",
    }
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Schedule> {
    let job_type: String = row.get("job_type")?;
    Ok(Schedule {
        connection_id: row.get("connection_id")?,
        job_type: serde_json::from_value(Value::String(job_type)).unwrap_or(JobType::Full),
        enabled: row.get("enabled")?,
        spec: row.get("spec")?,
        next_run_at: row.get("next_run_at")?,
        last_run_at: row.get("last_run_at")?,
    })
}

const COLUMNS: &str = "connection_id, job_type, enabled, spec, next_run_at, last_run_at";

impl Store {
    /// The schedules of a connection (full, incremental, access-control order).
    pub fn schedules(&self, connection_id: &str) -> Result<Vec<Schedule>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE connection_id = ?1
             ORDER BY CASE job_type WHEN 'full' THEN 0 WHEN 'incremental' THEN 1 ELSE 2 END"
        ))?;
        let rows = stmt.query_map([connection_id], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every schedule of every connection.
    pub fn all_schedules(&self) -> Result<Vec<Schedule>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.connection_id, s.job_type, s.enabled, s.spec, s.next_run_at, s.last_run_at
             FROM schedules s JOIN connections c ON c.id = s.connection_id
             ORDER BY c.created_at, c.id,
                CASE s.job_type WHEN 'full' THEN 0 WHEN 'incremental' THEN 1 ELSE 2 END",
        )?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One schedule.
    pub fn schedule(&self, connection_id: &str, job_type: JobType) -> Result<Option<Schedule>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM schedules WHERE connection_id = ?1 AND job_type = ?2"
                ),
                params![connection_id, job_type_str(job_type)],
                from_row,
            )
            .optional()?)
    }

    /// Creates or replaces the `job_type` schedule of a connection, now (see
    /// [`Store::save_schedule_at`]).
    pub fn save_schedule(
        &self,
        connection_id: &str,
        job_type: JobType,
        enabled: bool,
        spec: &str,
    ) -> Result<Schedule> {
        self.save_schedule_at(connection_id, job_type, enabled, spec, Utc::now())
    }

    /// Creates or replaces the `job_type` schedule of a connection at time `now`: the spec is
    /// validated ([`ScheduleSpec::parse`]), the next run is the first one after `now` (none
    /// when off), the last run is kept.
    pub fn save_schedule_at(
        &self,
        connection_id: &str,
        job_type: JobType,
        enabled: bool,
        spec: &str,
        now: DateTime<Utc>,
    ) -> Result<Schedule> {
        let parsed = ScheduleSpec::parse(spec).map_err(|problem| {
            Error::InvalidInput(format!("schedule `{}`: {}", problem.field, problem.message))
        })?;
        if self.load_connection(connection_id)?.is_none() {
            return Err(Error::NotFound(format!("connection `{connection_id}`")));
        }
        let next = if enabled {
            parsed.next_after(now).map(stamp)
        } else {
            None
        };
        self.conn.execute(
            "INSERT INTO schedules (connection_id, job_type, enabled, spec, next_run_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (connection_id, job_type) DO UPDATE SET enabled = excluded.enabled,
                spec = excluded.spec, next_run_at = excluded.next_run_at",
            params![
                connection_id,
                job_type_str(job_type),
                enabled,
                spec.trim(),
                next
            ],
        )?;
        self.schedule(connection_id, job_type)?
            .ok_or_else(|| Error::NotFound(format!("the schedule of `{connection_id}`")))
    }

    /// Deletes a schedule; `false` when there was none.
    pub fn delete_schedule(&self, connection_id: &str, job_type: JobType) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM schedules WHERE connection_id = ?1 AND job_type = ?2",
            params![connection_id, job_type_str(job_type)],
        )? > 0)
    }

    /// Moves the next run of a schedule to `at` (a "run now" button, or tests); `false` when
    /// there is no such schedule. An off schedule stays off.
    pub fn set_next_run(
        &self,
        connection_id: &str,
        job_type: JobType,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE schedules SET next_run_at = ?3 WHERE connection_id = ?1 AND job_type = ?2",
            params![connection_id, job_type_str(job_type), stamp(at)],
        )? > 0)
    }

    /// The schedules that are on and whose next run is not after `now`, earliest first.
    pub fn due_schedules(&self, now: DateTime<Utc>) -> Result<Vec<Schedule>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        let mut due: Vec<Schedule> = rows
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|s| s.is_due(now))
            .collect();
        due.sort_by_key(|s| s.next_run_at.as_deref().and_then(parse_time));
        Ok(due)
    }

    /// Records that the schedule's job starts at `now`: its last run becomes `now`, its next
    /// run the first one after `now`. Returns the updated schedule, or `None` when it was not
    /// due (off, or already claimed by another runner).
    pub fn schedule_started(
        &self,
        connection_id: &str,
        job_type: JobType,
        now: DateTime<Utc>,
    ) -> Result<Option<Schedule>> {
        let Some(current) = self.schedule(connection_id, job_type)? else {
            return Ok(None);
        };
        if !current.is_due(now) {
            return Ok(None);
        }
        let next = ScheduleSpec::parse(&current.spec)
            .ok()
            .and_then(|spec| spec.next_after(now))
            .map(stamp);
        // Compare-and-set on the next run read above: only one runner claims a run.
        let claimed = self.conn.execute(
            "UPDATE schedules SET last_run_at = ?3, next_run_at = ?4
             WHERE connection_id = ?1 AND job_type = ?2 AND next_run_at IS ?5",
            params![
                connection_id,
                job_type_str(job_type),
                stamp(now),
                next,
                current.next_run_at
            ],
        )?;
        if claimed == 0 {
            return Ok(None);
        }
        self.schedule(connection_id, job_type)
    }
}

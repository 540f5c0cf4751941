//! Schedules, as in Kibana: per connection and kind of sync (full, incremental,
//! access-control), on or off, with an interval (`every 15m`, `30s`, `2h`, `1d`; at least
//! [`MIN_INTERVAL`]) or a cron expression (`0 3 * * *`, evaluated in the machine's local time).
//!
//! Which jobs are due is kept apart from how a job is started: [`run_due`] finds the due
//! schedules, skips connections whose sync lease is held, resolves each connection (through the
//! caller's vault and sandbox overlay) and hands the job to the caller's [`JobStarter`]: the CLI
//! runs it in the foreground, the desktop app in its own task.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::config::{FieldError, Severity};
use crate::connections::{self, Resolved, SecretVault, SiteOverlay};
use crate::store::{JobRecord, JobType, LeaseHolder, Store};
use crate::sync::SyncOptions;
use crate::{Error, Result};

/// The shortest interval a schedule may have.
pub const MIN_INTERVAL: Duration = Duration::from_secs(10);

/// The trigger recorded on the jobs a schedule starts.
pub const TRIGGER: &str = "scheduled";

/// One schedule of one connection and kind of sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Schedule {
    /// The connection.
    pub connection_id: String,
    /// Which sync it starts.
    pub job_type: JobType,
    /// Off schedules keep their spec but never run.
    pub enabled: bool,
    /// An interval (`every 15m`) or a cron expression (`0 3 * * *`).
    pub spec: String,
    /// When it runs next, RFC 3339 (UTC); `None` when off.
    pub next_run_at: Option<String>,
    /// When it last started a job, RFC 3339 (UTC).
    pub last_run_at: Option<String>,
}

impl Schedule {
    /// Whether it is on and its next run is not after `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.enabled
            && self
                .next_run_at
                .as_deref()
                .and_then(parse_time)
                .is_some_and(|next| next <= now)
    }
}

/// A parsed schedule spec.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleSpec {
    /// Every so long, from the last start (or from when it was saved).
    Interval(Duration),
    /// A cron expression (5 fields, or 6 with seconds first), in local time.
    Cron(Box<croner::Cron>),
}

const EXPECTED: &str = "expected an interval such as `every 15m`, `30s`, `2h` or `1d` (at least \
                        10 s), or a cron expression such as `0 3 * * *` (minute hour day month \
                        weekday)";

impl ScheduleSpec {
    /// Reads a spec; the error names the field (`spec`) and says what is expected.
    pub fn parse(text: &str) -> Result<ScheduleSpec, FieldError> {
        let text = text.trim();
        let problem = |message: String| FieldError {
            field: "spec".to_owned(),
            message,
            severity: Severity::Error,
        };
        if text.is_empty() {
            return Err(problem(format!("a schedule is required: {EXPECTED}")));
        }
        let body = text
            .strip_prefix("every ")
            .or_else(|| text.strip_prefix("Every "))
            .unwrap_or(text)
            .trim();
        if body.starts_with(|c: char| c.is_ascii_digit()) && !body.contains(' ') {
            let interval = parse_interval(body).ok_or_else(|| {
                problem(format!(
                    "`{text}` is not an interval: use a number and a unit (s, m, h, d), e.g. \
                     `every 15m` or `1h30m`"
                ))
            })?;
            if interval < MIN_INTERVAL {
                return Err(problem(format!(
                    "`{text}` is too often: an interval must be at least 10 s"
                )));
            }
            return Ok(ScheduleSpec::Interval(interval));
        }
        if body.len() != text.len() {
            return Err(problem(format!("`{text}` is not an interval: {EXPECTED}")));
        }
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(text)
            .map_err(|err| {
                problem(format!(
                    "`{text}` is not a valid cron expression ({err}); {EXPECTED}"
                ))
            })?;
        // Two consecutive runs must be at least the minimum interval apart.
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single();
        if let Some(start) = start
            && let Ok(first) = cron.find_next_occurrence(&start, false)
            && let Ok(second) = cron.find_next_occurrence(&first, false)
            && (second - first).to_std().unwrap_or_default() < MIN_INTERVAL
        {
            return Err(problem(format!(
                "`{text}` runs too often: runs must be at least 10 s apart"
            )));
        }
        Ok(ScheduleSpec::Cron(Box::new(cron)))
    }

    /// The first run strictly after `after`, with cron evaluated in time zone `tz`.
    pub fn next_after_in<Tz: TimeZone>(
        &self,
        after: DateTime<Utc>,
        tz: &Tz,
    ) -> Option<DateTime<Utc>> {
        match self {
            ScheduleSpec::Interval(every) => Some(after + chrono::Duration::from_std(*every).ok()?),
            ScheduleSpec::Cron(cron) => cron
                .find_next_occurrence(&after.with_timezone(tz), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    /// The first run strictly after `after`, cron in the machine's local time.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_after_in(after, &chrono::Local)
    }
}

/// `15m`, `30s`, `2h`, `1d`, `1h30m`: numbers each followed by a unit.
fn parse_interval(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "s" | "sec" | "secs" => 1,
            "m" | "min" | "mins" => 60,
            "h" | "hr" | "hrs" => 3600,
            "d" | "day" | "days" => 86_400,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(n.checked_mul(seconds)?)?;
    }
    Some(Duration::from_secs(total))
}

/// RFC 3339 with milliseconds, as the store writes times.
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

// ---------------------------------------------------------------------------------------------
// The runner

/// How a due job is started. The CLI runs it to its end; the desktop app starts it in a task
/// and returns at once.
pub trait JobStarter {
    /// Starts a `kind` job of `connection` with `options` (trigger [`TRIGGER`], the
    /// connection's id and active rules). `Ok(Some(record))` when it ran to its end here,
    /// `Ok(None)` when it was started elsewhere. [`Error::Busy`] counts as "skipped".
    fn start(
        &self,
        connection: Resolved,
        kind: JobType,
        options: SyncOptions,
    ) -> impl Future<Output = Result<Option<JobRecord>>> + Send;
}

/// What happened to one due schedule.
#[derive(Debug, Clone)]
pub enum DueOutcome {
    /// The job ran here; its record.
    Ran(Box<JobRecord>),
    /// The job was handed to the starter, which runs it elsewhere.
    Started,
    /// A sync of the connection was running: nothing was started; it stays due.
    Skipped(Box<LeaseHolder>),
    /// The job could not be started (the connection could not be resolved, its secrets read,
    /// or the starter refused); its next run is scheduled as usual.
    Failed(String),
}

/// One due schedule and its outcome.
#[derive(Debug, Clone)]
pub struct DueRun {
    /// The schedule as it was when found due.
    pub schedule: Schedule,
    /// The connection's name.
    pub connection_name: String,
    /// What happened.
    pub outcome: DueOutcome,
}

/// Runs every schedule due at `now` once, one after the other: a connection whose sync lease
/// is held is skipped (its schedule stays due); otherwise the schedule is claimed (last run
/// now, next run computed, so that another runner does not start it too), the connection
/// resolved through `vault` and `overlay`, and the job handed to `starter`.
pub async fn run_due<J: JobStarter>(
    store: &Mutex<Store>,
    vault: &dyn SecretVault,
    overlay: Option<&SiteOverlay>,
    starter: &J,
    now: DateTime<Utc>,
) -> Result<Vec<DueRun>> {
    let due = lock(store).due_schedules(now)?;
    let mut runs = Vec::new();
    for schedule in due {
        let (name, prepared) = {
            let store = lock(store);
            prepare(&store, vault, overlay, &schedule, now)?
        };
        let outcome = match prepared {
            Prepared::Skip(outcome) => outcome,
            Prepared::Run(resolved) => {
                let options = resolved.sync_options(TRIGGER);
                match starter.start(*resolved, schedule.job_type, options).await {
                    Ok(Some(record)) => DueOutcome::Ran(Box::new(record)),
                    Ok(None) => DueOutcome::Started,
                    Err(Error::Busy(holder)) => DueOutcome::Skipped(holder),
                    Err(err) => DueOutcome::Failed(err.to_string()),
                }
            }
        };
        runs.push(DueRun {
            schedule,
            connection_name: name,
            outcome,
        });
    }
    Ok(runs)
}

enum Prepared {
    Run(Box<Resolved>),
    Skip(DueOutcome),
}

fn prepare(
    store: &Store,
    vault: &dyn SecretVault,
    overlay: Option<&SiteOverlay>,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Result<(String, Prepared)> {
    let id = &schedule.connection_id;
    let Some(saved) = store.load_connection(id)? else {
        return Ok((
            id.clone(),
            Prepared::Skip(DueOutcome::Failed(format!(
                "connection `{id}` does not exist"
            ))),
        ));
    };
    let key = crate::sync::scope_key(Some(id), &saved.config);
    if let Some(holder) = store.lease(&key)? {
        return Ok((
            saved.name,
            Prepared::Skip(DueOutcome::Skipped(Box::new(holder))),
        ));
    }
    if store
        .schedule_started(id, schedule.job_type, now)?
        .is_none()
    {
        // Another runner claimed it between the listing and now.
        return Ok((saved.name, Prepared::Skip(DueOutcome::Started)));
    }
    match connections::resolve(store, vault, overlay, id) {
        Ok(resolved) => Ok((saved.name, Prepared::Run(Box::new(resolved)))),
        Err(err) => Ok((
            saved.name,
            Prepared::Skip(DueOutcome::Failed(err.to_string())),
        )),
    }
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConnectorConfig, SecretField};
    use crate::connections::MemoryVault;

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    #[test]
    fn intervals_in_several_spellings() {
        let secs = |t: &str| match ScheduleSpec::parse(t).unwrap() {
            ScheduleSpec::Interval(d) => d.as_secs(),
            ScheduleSpec::Cron(_) => panic!("{t} read as cron"),
        };
        assert_eq!(secs("every 15m"), 900);
        assert_eq!(secs("30s"), 30);
        assert_eq!(secs("2h"), 7200);
        assert_eq!(secs("1d"), 86_400);
        assert_eq!(secs("every 1h30m"), 5400);
        assert_eq!(secs(" 10s "), 10);
    }

    #[test]
    fn bad_specs_name_the_field_and_what_is_expected() {
        let err = ScheduleSpec::parse("5s").unwrap_err();
        assert_eq!(err.field, "spec");
        assert!(err.message.contains("at least 10 s"), "{}", err.message);
        let err = ScheduleSpec::parse("every 15 minutes").unwrap_err();
        assert!(err.message.contains("every 15m"), "{}", err.message);
        let err = ScheduleSpec::parse("15q").unwrap_err();
        assert!(err.message.contains("(s, m, h, d)"), "{}", err.message);
        let err = ScheduleSpec::parse("0 3 * *").unwrap_err();
        assert!(
            err.message.contains("not a valid cron expression"),
            "{}",
            err.message
        );
        assert!(err.message.contains("0 3 * * *"), "{}", err.message);
        let err = ScheduleSpec::parse("").unwrap_err();
        assert!(err.message.contains("required"), "{}", err.message);
        let err = ScheduleSpec::parse("* * * * * *").unwrap_err();
        assert!(
            err.message.contains("at least 10 s apart"),
            "{}",
            err.message
        );
        assert!(ScheduleSpec::parse("*/10 * * * * *").is_ok());
    }

    #[test]
    fn next_runs_of_intervals_and_cron() {
        let now = at("2030-05-01T10:20:30.000Z");
        let every = ScheduleSpec::parse("every 15m").unwrap();
        assert_eq!(
            every.next_after_in(now, &Utc),
            Some(at("2030-05-01T10:35:30.000Z"))
        );
        let nightly = ScheduleSpec::parse("0 3 * * *").unwrap();
        assert_eq!(
            nightly.next_after_in(now, &Utc),
            Some(at("2030-05-02T03:00:00.000Z"))
        );
        let hourly = ScheduleSpec::parse("@hourly").unwrap();
        assert_eq!(
            hourly.next_after_in(now, &Utc),
            Some(at("2030-05-01T11:00:00.000Z"))
        );
        let weekdays = ScheduleSpec::parse("30 6 * * MON-FRI").unwrap();
        // 2030-05-04 is a Saturday: the next weekday run is Monday the 6th.
        assert_eq!(
            weekdays.next_after_in(at("2030-05-03T07:00:00Z"), &Utc),
            Some(at("2030-05-06T06:30:00.000Z"))
        );
        // Strictly after: a run exactly now is the next one's business.
        assert_eq!(
            nightly.next_after_in(at("2030-05-02T03:00:00Z"), &Utc),
            Some(at("2030-05-03T03:00:00.000Z"))
        );
    }

    fn store_with_connection() -> Store {
        let store = Store::open_in_memory().unwrap();
        store
            .save_connection("c1", "Acme", &ConnectorConfig::default(), false)
            .unwrap();
        store
    }

    #[test]
    fn saved_schedules_become_due_and_starting_moves_them_on() {
        let store = store_with_connection();
        let t0 = at("2030-05-01T10:00:00Z");
        let s = store
            .save_schedule_at("c1", JobType::Full, true, "every 15m", t0)
            .unwrap();
        assert_eq!(s.next_run_at.as_deref(), Some("2030-05-01T10:15:00.000Z"));
        assert_eq!(s.last_run_at, None);
        store
            .save_schedule_at("c1", JobType::AccessControl, false, "0 3 * * *", t0)
            .unwrap();
        assert_eq!(store.schedules("c1").unwrap().len(), 2);
        assert!(store.due_schedules(t0).unwrap().is_empty());
        let t1 = at("2030-05-01T10:15:00Z");
        let due = store.due_schedules(t1).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].job_type, JobType::Full);
        assert!(due[0].is_due(t1));

        let started = store
            .schedule_started("c1", JobType::Full, t1)
            .unwrap()
            .unwrap();
        assert_eq!(
            started.last_run_at.as_deref(),
            Some("2030-05-01T10:15:00.000Z")
        );
        assert_eq!(
            started.next_run_at.as_deref(),
            Some("2030-05-01T10:30:00.000Z")
        );
        assert!(store.due_schedules(t1).unwrap().is_empty());
        // A second claim of the same run finds nothing to claim.
        assert_eq!(
            store.schedule_started("c1", JobType::Full, t1).unwrap(),
            None
        );

        // Off: never due, no next run; on again: a next run.
        let off = store
            .save_schedule_at("c1", JobType::Full, false, "every 15m", t1)
            .unwrap();
        assert_eq!(off.next_run_at, None);
        assert_eq!(off.last_run_at.as_deref(), Some("2030-05-01T10:15:00.000Z"));
        assert!(
            store
                .due_schedules(at("2031-01-01T00:00:00Z"))
                .unwrap()
                .is_empty()
        );
        assert!(store.set_next_run("c1", JobType::Full, t0).unwrap());
        assert!(store.due_schedules(t1).unwrap().is_empty(), "off stays off");
        assert!(store.delete_schedule("c1", JobType::Full).unwrap());
        assert_eq!(store.schedules("c1").unwrap().len(), 1);
    }

    #[test]
    fn saving_refuses_bad_specs_and_unknown_connections() {
        let store = store_with_connection();
        let err = store
            .save_schedule("c1", JobType::Full, true, "every 2s")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("schedule `spec`:") && err.contains("at least 10 s"),
            "{err}"
        );
        assert!(matches!(
            store.save_schedule("nope", JobType::Full, true, "1h"),
            Err(Error::NotFound(_))
        ));
        // Deleting the connection deletes its schedules.
        store
            .save_schedule("c1", JobType::Full, true, "1h")
            .unwrap();
        store.delete_connection("c1").unwrap();
        assert!(store.all_schedules().unwrap().is_empty());
    }

    /// Records what it was asked to start.
    struct Recorder(Mutex<Vec<(String, JobType, String)>>);

    impl JobStarter for Recorder {
        async fn start(
            &self,
            connection: Resolved,
            kind: JobType,
            options: SyncOptions,
        ) -> Result<Option<JobRecord>> {
            self.0.lock().unwrap().push((
                connection.saved.id.clone(),
                kind,
                options.trigger.clone(),
            ));
            if connection.saved.name == "Busy" {
                return Err(Error::InvalidInput("refused".into()));
            }
            Ok(None)
        }
    }

    #[tokio::test]
    async fn the_runner_starts_due_jobs_and_skips_running_connections() {
        let store = store_with_connection();
        store
            .save_connection("c2", "Held", &ConnectorConfig::default(), false)
            .unwrap();
        store
            .save_connection("c3", "Busy", &ConnectorConfig::default(), false)
            .unwrap();
        let vault = MemoryVault::new();
        vault
            .for_connection("c1")
            .store(SecretField::ApiToken, "t")
            .unwrap();
        let t0 = at("2030-05-01T10:00:00Z");
        for id in ["c1", "c2", "c3"] {
            store
                .save_schedule_at(id, JobType::Full, true, "10m", t0)
                .unwrap();
        }
        let mut store = store;
        store
            .acquire_lease("c2", "j-held", "full", Some("c2"))
            .unwrap();
        let store = Mutex::new(store);
        let recorder = Recorder(Mutex::new(Vec::new()));
        let t1 = at("2030-05-01T10:10:00Z");
        let runs = run_due(&store, &vault, None, &recorder, t1).await.unwrap();
        assert_eq!(runs.len(), 3);
        let by_name = |n: &str| runs.iter().find(|r| r.connection_name == n).unwrap();
        assert!(matches!(by_name("Acme").outcome, DueOutcome::Started));
        assert!(matches!(&by_name("Held").outcome, DueOutcome::Skipped(h) if h.job_id == "j-held"));
        assert!(matches!(&by_name("Busy").outcome, DueOutcome::Failed(m) if m == "refused"));
        let started = recorder.0.lock().unwrap().clone();
        assert_eq!(
            started,
            [
                ("c1".to_owned(), JobType::Full, "scheduled".to_owned()),
                ("c3".to_owned(), JobType::Full, "scheduled".to_owned())
            ]
        );
        // The held connection stays due; the others moved on.
        let due: Vec<String> = lock(&store)
            .due_schedules(t1)
            .unwrap()
            .into_iter()
            .map(|s| s.connection_id)
            .collect();
        assert_eq!(due, ["c2"]);
        // Nothing is due any more for the others until their next run.
        let again = run_due(&store, &vault, None, &recorder, t1).await.unwrap();
        assert_eq!(again.len(), 1);
    }
}

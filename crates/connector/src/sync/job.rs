//! [`Job`]: one run of the engine, whatever its kind. It carries everything a run needs (the
//! configuration and secrets, the rules, the target, the state store, the event handler and the
//! cancellation token) and owns the run's lifecycle: the lease that keeps it the only sync of its
//! connection, the heartbeat that tells the other processes it is alive, the job record and how
//! it ends.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use super::{CancellationToken, SyncOptions, lock, now};
use crate::Result;
use crate::acl::AclStore;
use crate::config::{ConnectorConfig, Secrets, Target};
use crate::events::{Counters, EventHandler, SyncEvent, SyncPhase, ignore_events};
use crate::sink::Sink;
use crate::store::{HEARTBEAT_EVERY, JobError, JobRecord, JobStatus, JobType, Store};

/// One sync: full, incremental or access-control, of one configuration into one target.
///
/// ```ignore
/// let job = Job::new(JobType::Full, config, secrets, sink, store)
///     .with_options(options)
///     .with_events(events);
/// let record = job.run().await?;
/// ```
pub struct Job<S> {
    pub(crate) kind: JobType,
    pub(crate) config: ConnectorConfig,
    pub(crate) secrets: Secrets,
    pub(crate) sink: Arc<S>,
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) options: SyncOptions,
    pub(crate) events: EventHandler,
    pub(crate) cancel: CancellationToken,
}

impl<S> Job<S> {
    /// A job of `kind` with default options, no events and its own cancellation token.
    pub fn new(
        kind: JobType,
        config: ConnectorConfig,
        secrets: Secrets,
        sink: Arc<S>,
        store: Arc<Mutex<Store>>,
    ) -> Job<S> {
        Job {
            kind,
            config,
            secrets,
            sink,
            store,
            options: SyncOptions::default(),
            events: ignore_events(),
            cancel: CancellationToken::new(),
        }
    }

    /// Sets the run's options (connection, trigger, rules, tuning, deletion settings).
    pub fn with_options(mut self, options: SyncOptions) -> Job<S> {
        self.options = options;
        self
    }

    /// Sets the handler that receives the run's progress events.
    pub fn with_events(mut self, events: EventHandler) -> Job<S> {
        self.events = events;
        self
    }

    /// Sets the token that cancels the run (it finishes what is in flight and deletes nothing).
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Job<S> {
        self.cancel = cancel;
        self
    }

    /// The key of the run's lease and checkpoints: the connection id, or the target for a run
    /// of a configuration file (two runs into the same index must not overlap either).
    pub fn scope_key(&self) -> String {
        scope_key(self.options.connection_id.as_deref(), &self.config)
    }
}

impl<S: Sink + AclStore + 'static> Job<S> {
    /// Runs the job to its end and returns its record (also saved in the store).
    ///
    /// Fails without running with [`Error::Busy`] when a sync of the same connection is running
    /// (in this process or another), and with [`Error::InvalidInput`] for a kind this version
    /// cannot run. Every other problem ends the job `failed` with its errors on the record.
    pub async fn run(self) -> Result<JobRecord> {
        let started = Instant::now();
        let key = self.scope_key();
        let mut job = new_record(self.kind, &self.config, &self.options);
        {
            let mut store = lock(&self.store);
            // Jobs of processes that died are `interrupted`.
            store.recover_interrupted()?;
            store.acquire_lease(
                &key,
                &job.id,
                job_type_str(self.kind),
                self.options.connection_id.as_deref(),
            )?;
            if let Err(err) = store
                .insert_job(&job)
                .and_then(|()| store.set_job_scope(&job.id, &key))
            {
                let _ = store.release_lease(&key, &job.id);
                return Err(err);
            }
        }
        let lease = LeaseGuard {
            store: self.store.clone(),
            key: key.clone(),
            job_id: job.id.clone(),
        };
        remove_dead_spools(&self.options.work_dir, &lock(&self.store).live_leases()?);

        // The heartbeat renews the lease and saves the counters so far, so that a job whose
        // process dies still shows what it had done.
        let latest = Arc::new(Mutex::new((Counters::default(), 0u64)));
        let events = tap_counters(self.events.clone(), latest.clone());
        let heartbeat = {
            let (store, key, id, latest) = (
                self.store.clone(),
                key.clone(),
                job.id.clone(),
                latest.clone(),
            );
            let mut snapshot = job.clone();
            AbortOnDrop(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT_EVERY).await;
                    (snapshot.counters, snapshot.requests) =
                        latest.lock().map(|c| c.clone()).unwrap_or_default();
                    let store = lock(&store);
                    if let Err(err) = store.heartbeat(&key, &id) {
                        tracing::warn!(%err, "could not renew the sync lease");
                    }
                    let _ = store.update_job_progress(&snapshot);
                }
            }))
        };

        let run = Run {
            job: &self,
            events: &events,
        };
        let outcome = match self.kind {
            JobType::Full => super::full::run(&run, &mut job, None).await,
            JobType::AccessControl => super::access_control::run(&run, &mut job).await,
            JobType::Incremental => {
                let plan = super::incremental::plan(
                    &lock(&self.store),
                    &key,
                    &self.config,
                    self.options.rules.as_ref(),
                );
                match plan {
                    Ok(Ok(plan)) => super::full::run(&run, &mut job, Some(plan)).await,
                    Ok(Err(why)) => {
                        tracing::info!("{why}");
                        job.notes.push(why);
                        job.job_type = JobType::Full;
                        super::full::run(&run, &mut job, None).await
                    }
                    Err(err) => Err(err),
                }
            }
        };
        drop(heartbeat);
        if let Err(err) = outcome {
            tracing::warn!(%err, "sync failed");
            events(&SyncEvent::Warning {
                message: format!("sync: {err}"),
            });
            job.errors.push(JobError {
                context: "sync".to_owned(),
                message: err.to_string(),
            });
            job.status = JobStatus::Failed;
        }
        if job.status == JobStatus::Running {
            job.status = JobStatus::Failed;
        }
        job.ended_at = Some(now());
        job.duration_s = Some(started.elapsed().as_secs_f64());
        lock(&self.store).finish_job(&job)?;
        drop(lease);
        events(&SyncEvent::Phase {
            phase: SyncPhase::Finished,
        });
        Ok(job)
    }
}

/// What a kind of sync receives: the job, and its event handler (which also feeds the
/// heartbeat).
pub(crate) struct Run<'a, S> {
    pub job: &'a Job<S>,
    pub events: &'a EventHandler,
}

/// The lease and checkpoint key of a run (see [`Job::scope_key`]).
pub fn scope_key(connection_id: Option<&str>, config: &ConnectorConfig) -> String {
    match connection_id {
        Some(id) => id.to_owned(),
        None => match &config.target {
            Target::Local { index_name } => format!("target:local/{index_name}"),
            Target::Elasticsearch(es) => format!(
                "target:{}/{}",
                es.url.trim().trim_end_matches('/'),
                es.index_name.trim()
            ),
        },
    }
}

fn job_type_str(kind: JobType) -> &'static str {
    match kind {
        JobType::Full => "full",
        JobType::Incremental => "incremental",
        JobType::AccessControl => "access_control",
    }
}

/// A job of `kind` that starts now, with the configuration and rules in force (no secrets).
fn new_record(kind: JobType, config: &ConnectorConfig, options: &SyncOptions) -> JobRecord {
    JobRecord {
        id: uuid::Uuid::new_v4().to_string(),
        connection_id: options.connection_id.clone(),
        job_type: kind,
        trigger: options.trigger.clone(),
        status: JobStatus::Running,
        started_at: now(),
        ended_at: None,
        duration_s: None,
        counters: Counters::default(),
        requests: 0,
        errors: Vec::new(),
        config: serde_json::to_value(config).unwrap_or(Value::Null),
        rules: options
            .rules
            .as_ref()
            .map_or(Value::Null, crate::rules::RuleSet::recorded),
        delta: None,
        notes: Vec::new(),
    }
}

/// Passes every event on, keeping the counters and requests of the latest progress snapshot.
fn tap_counters(events: EventHandler, latest: Arc<Mutex<(Counters, u64)>>) -> EventHandler {
    Arc::new(move |event: &SyncEvent| {
        if let SyncEvent::Progress(progress) = event
            && let Ok(mut latest) = latest.lock()
        {
            *latest = (progress.counters.clone(), progress.requests);
        }
        events(event);
    })
}

/// Stops a background task when the run ends, however it ends (also when the run's future is
/// dropped before it finished).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Gives the lease back when the run ends, however it ends.
struct LeaseGuard {
    store: Arc<Mutex<Store>>,
    key: String,
    job_id: String,
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if let Err(err) = lock(&self.store).release_lease(&self.key, &self.job_id) {
            tracing::warn!(%err, "could not release the sync lease");
        }
    }
}

/// Removes the download spools (`spool-<job id>` in the work directory) of jobs that no longer
/// run: what a killed process left behind.
fn remove_dead_spools(work_dir: &std::path::Path, live: &[crate::store::LeaseHolder]) {
    let Ok(entries) = std::fs::read_dir(work_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(job_id) = name.to_str().and_then(|n| n.strip_prefix("spool-")) else {
            continue;
        };
        if !live.iter().any(|lease| lease.job_id == job_id) {
            tracing::info!(
                job_id,
                "removing the downloads of a job that no longer runs"
            );
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

//! `confluence-connector schedule`, `run-scheduled` and `daemon`: schedules per connection and
//! kind of sync, the due jobs run once (for cron or a systemd timer), or kept running.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use connector::connections::{self, LayeredVault, Resolved, SiteOverlay};
use connector::schedule::{self, DueOutcome, DueRun, JobStarter};
use connector::sync::SyncOptions;
use connector::{Error, JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;
use serde_json::json;

use super::sync::{Kind, kind_name, run_job};
use crate::paths;

/// Arguments of `schedule`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

/// What to do with schedules.
#[derive(clap::Subcommand)]
pub enum ScheduleCommand {
    /// Every schedule (of one connection when NAME is given), with its next run.
    List {
        /// A connection's name or id.
        name: Option<String>,
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Create or change the schedule of one kind of sync of a connection.
    Set(SetArgs),
}

/// Arguments of `schedule set`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("when").args(["every", "cron"])))]
pub struct SetArgs {
    /// The connection's name or id.
    pub name: String,
    /// Which sync the schedule starts.
    #[arg(long, value_enum, default_value = "full")]
    pub kind: Kind,
    /// An interval: `15m`, `30s`, `2h`, `1d`, `1h30m` (at least 10 s).
    #[arg(long, value_name = "INTERVAL")]
    pub every: Option<String>,
    /// A cron expression in local time: `0 3 * * *` (minute hour day month weekday).
    #[arg(long, value_name = "EXPRESSION")]
    pub cron: Option<String>,
    /// Turn the schedule off (its interval or expression is kept).
    #[arg(long)]
    pub disable: bool,
}

/// Arguments of `run-scheduled`.
#[derive(clap::Args)]
pub struct RunArgs {}

/// Arguments of `daemon`.
#[derive(clap::Args)]
pub struct DaemonArgs {
    /// How often to look for due schedules, in seconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub check_every: u64,
}

pub async fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = paths::open_store(data_dir)?;
    match args.command {
        ScheduleCommand::List { name, json } => {
            let schedules = match &name {
                Some(name) => store.schedules(&connections::find(&store, name)?.id)?,
                None => store.all_schedules()?,
            };
            let names: std::collections::HashMap<String, String> = store
                .list_connections()?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect();
            let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
            if json {
                let rows: Vec<serde_json::Value> = schedules
                    .iter()
                    .map(|s| {
                        let mut v = serde_json::to_value(s).unwrap_or_default();
                        v["connection"] = json!(name_of(&s.connection_id));
                        v
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if schedules.is_empty() {
                println!(
                    "No schedules. Add one with `confluence-connector schedule set NAME --kind full --every 1h`."
                );
            } else {
                for s in &schedules {
                    println!(
                        "{:<30} {:<15} {:<4} {:<16} next {}  last {}",
                        name_of(&s.connection_id),
                        kind_name(s.job_type),
                        if s.enabled { "on" } else { "off" },
                        s.spec,
                        s.next_run_at.as_deref().unwrap_or("-"),
                        s.last_run_at.as_deref().unwrap_or("-"),
                    );
                }
            }
        }
        ScheduleCommand::Set(set) => {
            let saved = connections::find(&store, &set.name)?;
            let kind = JobType::from(set.kind);
            let spec = match (&set.every, &set.cron) {
                (Some(every), _) => {
                    let every = every.trim();
                    if every.starts_with("every ") {
                        every.to_owned()
                    } else {
                        format!("every {every}")
                    }
                }
                (None, Some(cron)) => cron.trim().to_owned(),
                (None, None) => match store.schedule(&saved.id, kind)? {
                    Some(existing) if set.disable => existing.spec,
                    _ => anyhow::bail!(
                        "give --every INTERVAL (e.g. 15m) or --cron EXPRESSION (e.g. \"0 3 * * *\")"
                    ),
                },
            };
            let s = store.save_schedule(&saved.id, kind, !set.disable, &spec)?;
            if s.enabled {
                println!(
                    "The {} sync of `{}` runs {}; next run {}.",
                    kind_name(kind),
                    saved.name,
                    s.spec,
                    s.next_run_at.as_deref().unwrap_or("-")
                );
                println!(
                    "Due jobs run with `confluence-connector run-scheduled` (cron, systemd timer) or `confluence-connector daemon`."
                );
            } else {
                println!(
                    "The {} sync schedule of `{}` is off.",
                    kind_name(kind),
                    saved.name
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs due jobs in the foreground, one after the other, printing each summary.
struct CliStarter {
    data_dir: PathBuf,
}

impl JobStarter for CliStarter {
    async fn start(
        &self,
        connection: Resolved,
        kind: JobType,
        options: SyncOptions,
    ) -> connector::Result<Option<JobRecord>> {
        println!(
            "Running the scheduled {} sync of `{}`.",
            kind_name(kind),
            connection.saved.name
        );
        let job = run_job(
            kind,
            &connection.config,
            &connection.secrets,
            options,
            &self.data_dir,
            false,
        )
        .await;
        match job {
            Ok(job) => Ok(Some(job)),
            Err(err) => match err.downcast::<Error>() {
                Ok(err) => Err(err),
                Err(other) => Err(Error::InvalidInput(format!("{other:#}"))),
            },
        }
    }
}

/// The simulator, started the first time a due schedule belongs to a sandbox connection.
#[derive(Default)]
struct LazySandbox(Option<Sandbox>);

impl LazySandbox {
    async fn overlay_if_needed(
        &mut self,
        store: &Mutex<Store>,
    ) -> anyhow::Result<Option<SiteOverlay>> {
        if self.0.is_none() {
            let needs = {
                let store = store.lock().unwrap_or_else(|e| e.into_inner());
                let mut needs = false;
                for s in store.due_schedules(chrono::Utc::now())? {
                    if store
                        .load_connection(&s.connection_id)?
                        .is_some_and(|c| c.sandbox)
                    {
                        needs = true;
                    }
                }
                needs
            };
            if needs {
                self.0 = Some(super::connections::start_sandbox().await?);
            }
        }
        Ok(self.0.as_ref().map(Sandbox::overlay))
    }

    async fn shutdown(self) {
        if let Some(sandbox) = self.0 {
            sandbox.shutdown().await;
        }
    }
}

/// Runs every due schedule once; `true` when every job that ran completed.
async fn run_once(
    store: &Mutex<Store>,
    sandbox: &mut LazySandbox,
    data_dir: &Path,
) -> anyhow::Result<(usize, bool)> {
    let overlay = sandbox.overlay_if_needed(store).await?;
    let vault = LayeredVault::env_over_keyring();
    let starter = CliStarter {
        data_dir: data_dir.to_owned(),
    };
    let runs = schedule::run_due(
        store,
        &vault,
        overlay.as_ref(),
        &starter,
        chrono::Utc::now(),
    )
    .await?;
    let mut ok = true;
    for run in &runs {
        ok &= report(run);
    }
    Ok((runs.len(), ok))
}

/// Prints what happened to one due schedule; `false` for a job that did not complete.
fn report(run: &DueRun) -> bool {
    let what = format!(
        "scheduled {} sync of `{}`",
        kind_name(run.schedule.job_type),
        run.connection_name
    );
    match &run.outcome {
        DueOutcome::Ran(job) => job.status == JobStatus::Completed,
        DueOutcome::Started => true,
        DueOutcome::Skipped(holder) => {
            println!("Skipped the {what}: {}", holder.busy_message());
            true
        }
        DueOutcome::Failed(message) => {
            eprintln!("error: the {what} could not start: {message}");
            false
        }
    }
}

/// `run-scheduled`: every due job once, then exit (non-zero when one failed).
pub async fn run_scheduled(_args: RunArgs, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = Mutex::new(paths::open_store(data_dir)?);
    let mut sandbox = LazySandbox::default();
    let result = run_once(&store, &mut sandbox, data_dir).await;
    sandbox.shutdown().await;
    let (count, ok) = result?;
    if count == 0 {
        println!("No schedule is due.");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `daemon`: looks for due schedules every few seconds and runs them, until Ctrl-C.
pub async fn daemon(args: DaemonArgs, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = Mutex::new(paths::open_store(data_dir)?);
    let stop = connector::sync::CancellationToken::new();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        });
    }
    eprintln!(
        "Running due schedules of `{}` every {} s; Ctrl-C stops.",
        data_dir.display(),
        args.check_every
    );
    let mut sandbox = LazySandbox::default();
    while !stop.is_cancelled() {
        if let Err(err) = run_once(&store, &mut sandbox, data_dir).await {
            eprintln!("error: {err:#}");
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_secs(args.check_every)) => {}
        }
    }
    sandbox.shutdown().await;
    eprintln!("Stopped.");
    Ok(ExitCode::SUCCESS)
}

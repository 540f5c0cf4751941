//! `confluence-connector sync`: a full sync of a configuration file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use connector::config::{ConnectorConfig, EnvSecrets, Secrets, Target, connector_json};
use connector::sync::{CancellationToken, Job, SyncOptions};
use connector::target::AnySink;
use connector::{JobRecord, JobStatus, JobType};

use crate::{output, paths};

/// Arguments of `sync`.
#[derive(clap::Args)]
pub struct Args {
    /// The configuration: Elastic's `connector.json`, or the app's export. Secrets come from
    /// the environment (CONFLUENCE_API_TOKEN, CONFLUENCE_PASSWORD, CONFLUENCE_DC_PASSWORD,
    /// CONFLUENCE_PAT, ES_API_KEY, ES_PASSWORD).
    #[arg(long)]
    pub config: PathBuf,
    /// Override the configured target.
    #[arg(long, value_enum)]
    pub target: Option<TargetKind>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `--target` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TargetKind {
    /// The embedded local index.
    Local,
    /// The configured Elasticsearch cluster.
    Elasticsearch,
}

/// Reads a configuration file in either shape and fills its secrets from the environment.
pub fn load_config(path: &Path) -> anyhow::Result<(ConnectorConfig, Secrets)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    let imported =
        connector_json::import(&text).with_context(|| format!("reading `{}`", path.display()))?;
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    let mut secrets = imported.secrets;
    secrets.fill_from(&EnvSecrets)?;
    Ok((imported.config, secrets))
}

pub async fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let (mut config, secrets) = load_config(&args.config)?;
    match (args.target, &config.target) {
        (Some(TargetKind::Local), Target::Elasticsearch(es)) => {
            config.target = Target::Local {
                index_name: es.index_name.clone(),
            };
        }
        (Some(TargetKind::Elasticsearch), Target::Local { .. }) => {
            anyhow::bail!(
                "--target elasticsearch: the configuration has no Elasticsearch target; add one (url, index_name) to it"
            )
        }
        _ => {}
    }
    let job = run_sync(&config, &secrets, data_dir, "cli", args.json).await?;
    Ok(exit_code(&job))
}

/// Runs a full sync with a progress bar and prints its summary.
pub async fn run_sync(
    config: &ConnectorConfig,
    secrets: &Secrets,
    data_dir: &Path,
    trigger: &str,
    json: bool,
) -> anyhow::Result<JobRecord> {
    let options = SyncOptions {
        trigger: trigger.to_owned(),
        ..SyncOptions::default()
    };
    run_job(JobType::Full, config, secrets, options, data_dir, json).await
}

/// Runs one job of `kind` with a progress bar (Ctrl-C cancels it) and prints its summary.
pub async fn run_job(
    kind: JobType,
    config: &ConnectorConfig,
    secrets: &Secrets,
    options: SyncOptions,
    data_dir: &Path,
    json: bool,
) -> anyhow::Result<JobRecord> {
    let store = Arc::new(Mutex::new(paths::open_store(data_dir)?));
    let sink = Arc::new(AnySink::open(&config.target, secrets, data_dir)?);
    let target = match kind {
        JobType::AccessControl => format!("identity documents of {}", sink.describe()),
        _ => sink.describe(),
    };
    let options = SyncOptions {
        work_dir: data_dir.join("work"),
        ..options
    };
    let cancel = CancellationToken::new();
    let on_ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("cancelling: finishing what is in flight, deleting nothing");
                cancel.cancel();
            }
        })
    };
    let (bar, events) = output::progress(json);
    let job = Job::new(kind, config.clone(), secrets.clone(), sink, store)
        .with_options(options)
        .with_events(events)
        .with_cancel(cancel)
        .run()
        .await;
    on_ctrl_c.abort();
    bar.finish_and_clear();
    let job = job?;
    if json {
        println!("{}", output::summary_json(&job, &target));
    } else {
        output::print_summary(&job, &target);
    }
    Ok(job)
}

/// 0 when the sync completed, 1 otherwise.
pub fn exit_code(job: &JobRecord) -> ExitCode {
    if job.status == JobStatus::Completed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

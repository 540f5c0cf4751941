//! `confluence-connector sync`: a sync (full, incremental or access-control) of a saved
//! connection or of a configuration file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use connector::config::{ConnectorConfig, EnvSecrets, Secrets, Target, connector_json};
use connector::confluence::Flavor;
use connector::connections::{self, LayeredVault};
use connector::rules::RuleSet;
use connector::sync::{CancellationToken, Job, SyncOptions, deletion_preview, scope_key};
use connector::target::AnySink;
use connector::{JobRecord, JobStatus, JobType};

use crate::{output, paths};

/// Arguments of `sync`.
#[derive(clap::Args)]
pub struct Args {
    /// The configuration: Elastic's `connector.json`, or the app's export. Secrets come from
    /// the environment (CONFLUENCE_API_TOKEN, CONFLUENCE_PASSWORD, CONFLUENCE_DC_PASSWORD,
    /// CONFLUENCE_PAT, ES_API_KEY, ES_PASSWORD). Its `filtering` block (basic and advanced
    /// rules) applies.
    #[arg(
        long,
        required_unless_present = "connection",
        conflicts_with = "connection"
    )]
    pub config: Option<PathBuf>,
    /// A saved connection, by name or id (see `connections list`), with its active sync rules.
    /// Secrets come from the environment, else the OS keyring.
    #[arg(long)]
    pub connection: Option<String>,
    /// Which sync to run.
    #[arg(long, value_enum, default_value = "full")]
    pub kind: Kind,
    /// Confirm the deletions of a deliberate scope change (rules or spaces changed since the
    /// last sync): the safety threshold does not stop this run.
    #[arg(long)]
    pub allow_deletions: bool,
    /// The deletion safety threshold for this run, in percent of the index (0 to 100)
    /// [default: the configuration's `deletion_threshold_percent`].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_deletion_percent: Option<u32>,
    /// Incremental syncs: fetch only the delta, without the id-only reconciliation that finds
    /// deleted and moved content and permission changes (those wait for the next sync that
    /// reconciles).
    #[arg(long)]
    pub skip_reconciliation: bool,
    /// Override the configured target.
    #[arg(long, value_enum)]
    pub target: Option<TargetKind>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `--kind` values.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Everything: index what is there, delete what is gone.
    Full,
    /// Only what changed since the last sync.
    Incremental,
    /// The identity documents of document-level security.
    AccessControl,
}

impl From<Kind> for JobType {
    fn from(kind: Kind) -> JobType {
        match kind {
            Kind::Full => JobType::Full,
            Kind::Incremental => JobType::Incremental,
            Kind::AccessControl => JobType::AccessControl,
        }
    }
}

/// How the CLI names a kind of sync: `full`, `incremental`, `access-control`.
pub fn kind_name(kind: JobType) -> &'static str {
    match kind {
        JobType::Full => "full",
        JobType::Incremental => "incremental",
        JobType::AccessControl => "access-control",
    }
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
    let (config, secrets, _) = load_config_and_rules(path)?;
    Ok((config, secrets))
}

/// As [`load_config`], with the rules of the file's `filtering` block (checked as a sync
/// checks them: a block the engine cannot honour is an error).
pub fn load_config_and_rules(
    path: &Path,
) -> anyhow::Result<(ConnectorConfig, Secrets, Option<RuleSet>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("reading `{}`: not valid JSON", path.display()))?;
    let imported = connector_json::import_value(&doc)
        .with_context(|| format!("reading `{}`", path.display()))?;
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    // Secrets never come from a configuration file: the environment (or the keyring) holds them.
    imported
        .refuse_secrets()
        .with_context(|| format!("reading `{}`", path.display()))?;
    let rules = connections::filtering_rules(&doc, Flavor::from(imported.config.data_source))
        .with_context(|| format!("reading `{}`", path.display()))?;
    let mut secrets = imported.secrets;
    secrets.fill_from(&EnvSecrets)?;
    Ok((imported.config, secrets, rules))
}

pub async fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let kind = JobType::from(args.kind);
    let (mut run, sandbox) = match (&args.connection, &args.config) {
        (Some(name), _) => from_connection(name, kind, data_dir).await?,
        (None, Some(path)) => (from_file(path, kind)?, None),
        (None, None) => anyhow::bail!("give --connection NAME or --config FILE"),
    };
    retarget(&mut run.config, args.target)?;
    run.options.allow_deletions = args.allow_deletions;
    run.options.reconcile = !args.skip_reconciliation;
    run.options.max_deletion_ratio = args.max_deletion_percent.map(|p| f64::from(p) / 100.0);
    let job = run_job(
        kind,
        &run.config,
        &run.secrets,
        run.options,
        data_dir,
        args.json,
    )
    .await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    Ok(exit_code(&job?))
}

/// What a sync runs with.
struct Planned {
    config: ConnectorConfig,
    secrets: Secrets,
    options: SyncOptions,
}

/// A saved connection with its active rules (a sandbox connection starts its simulator).
async fn from_connection(
    name: &str,
    kind: JobType,
    data_dir: &Path,
) -> anyhow::Result<(Planned, Option<connector_sandbox::Sandbox>)> {
    let store = paths::open_store(data_dir)?;
    let saved = connections::find(&store, name)?;
    let sandbox = super::connections::sandbox_for(&saved).await?;
    let overlay = sandbox.as_ref().map(|s| s.overlay());
    let vault = LayeredVault::env_over_keyring();
    let resolved = connections::resolve(&store, &vault, overlay.as_ref(), &saved.id)?;
    if kind != JobType::AccessControl
        && let Some(rules) = &resolved.rules
    {
        let (basic, advanced) = connections::rule_counts(rules);
        eprintln!(
            "applying {basic} basic rules and {advanced} advanced rules (the active rules of `{}`)",
            resolved.saved.name
        );
    }
    let options = resolved.sync_options("cli");
    let planned = Planned {
        config: resolved.config,
        secrets: resolved.secrets,
        options,
    };
    Ok((planned, sandbox))
}

/// A configuration file with the rules of its `filtering` block.
fn from_file(path: &Path, kind: JobType) -> anyhow::Result<Planned> {
    let (config, secrets, rules) = load_config_and_rules(path)?;
    let rules = match rules {
        Some(rules) if kind != JobType::AccessControl => {
            let (basic, advanced) = connections::rule_counts(&rules);
            eprintln!(
                "applying {basic} basic rules and {advanced} advanced rules from the file's \
                 filtering block"
            );
            Some(rules).filter(|r| !r.is_empty())
        }
        _ => None,
    };
    Ok(Planned {
        config,
        secrets,
        options: SyncOptions {
            trigger: "cli".to_owned(),
            rules,
            ..SyncOptions::default()
        },
    })
}

/// Applies `--target`.
fn retarget(config: &mut ConnectorConfig, target: Option<TargetKind>) -> anyhow::Result<()> {
    match (target, &config.target) {
        (Some(TargetKind::Local), Target::Elasticsearch(es)) => {
            config.target = Target::Local {
                index_name: es.index_name.clone(),
            };
        }
        (Some(TargetKind::Elasticsearch), Target::Local { .. }) => anyhow::bail!(
            "--target elasticsearch: the configuration has no Elasticsearch target; add one (url, index_name) to it"
        ),
        _ => {}
    }
    Ok(())
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
    if kind == JobType::Full {
        announce_deletions(&store, config, secrets, &options, &sink).await;
    }
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

/// Says how many documents a deliberate scope change (rules or spaces changed since the last
/// sync) removes, and whether that needs `--allow-deletions`.
async fn announce_deletions(
    store: &Mutex<connector::Store>,
    config: &ConnectorConfig,
    secrets: &Secrets,
    options: &SyncOptions,
    sink: &AnySink,
) {
    let key = scope_key(options.connection_id.as_deref(), config);
    match deletion_preview(store, &key, config, secrets, options.rules.as_ref(), sink).await {
        Ok(preview) => {
            if let Some(message) = preview.message() {
                eprintln!("{message}");
                if preview.needs_confirmation && !options.allow_deletions {
                    eprintln!(
                        "that is above the deletion threshold of {}%: confirm with \
                         --allow-deletions, or this sync deletes nothing",
                        preview.threshold_percent
                    );
                }
            }
        }
        Err(err) => tracing::warn!(%err, "could not preview the deletions of the scope change"),
    }
}

/// The exit code of a sync: 0 completed, 1 partial (what was seen is indexed, something was
/// not: the errors say what), 2 failed, cancelled or interrupted (nothing was deleted).
pub fn exit_code(job: &JobRecord) -> ExitCode {
    match job.status {
        JobStatus::Completed => ExitCode::SUCCESS,
        JobStatus::Partial => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

//! `confluence-connector acl`: the ACL inspector. `doc ID` explains a document's ACL, `user NAME`
//! lists what a user can read (found by running the user's own query template), `diff JOB1 JOB2`
//! shows who gained or lost access between two syncs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use connector::acl::{self, Access, DocExplanation, UserAccess};
use connector::config::{ConnectorConfig, EnvSecrets, Secrets, Target};
use connector::connections::{self, LayeredVault};
use connector::sync::SyncOptions;
use connector::target::AnySink;
use connector::{JobRecord, JobStatus};

use crate::paths;

/// Arguments of `acl`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AclCommand,
    /// The local index to inspect [default: the target of the last sync, else
    /// `search-confluence`].
    #[arg(long, global = true)]
    pub index: Option<String>,
    /// Inspect the target of this configuration instead of a local index.
    #[arg(long, global = true, conflicts_with = "connection")]
    pub config: Option<PathBuf>,
    /// Inspect the target of this saved connection (name or id).
    #[arg(long, global = true)]
    pub connection: Option<String>,
    /// Print one JSON object.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What to inspect.
#[derive(clap::Subcommand)]
pub enum AclCommand {
    /// A document's ACL and how it was derived (space permission, restriction layers, failures).
    Doc {
        /// The document id.
        id: String,
    },
    /// A user's identities and the documents their own query template finds.
    User {
        /// User id, username, display name, e-mail or prefixed identity.
        name: String,
    },
    /// Who gained or lost access to which document between two syncs.
    Diff {
        /// The earlier job id.
        from: String,
        /// The later job id.
        to: String,
    },
}

/// The target to inspect: `--config`'s, `--connection`'s, `--index`, or the target of the last
/// sync (a saved connection's with its secrets, a configuration file's with the environment's).
fn target(args: &Args, data_dir: &Path) -> anyhow::Result<(Target, Secrets)> {
    if let Some(path) = &args.config {
        let (config, secrets) = super::sync::load_config(path)?;
        return Ok((config.target, secrets));
    }
    let store = paths::open_store(data_dir)?;
    if let Some(name) = &args.connection {
        let saved = connections::find(&store, name)?;
        return target_of_connection(&saved);
    }
    let index = match &args.index {
        Some(index) => index.clone(),
        None => {
            let last = store.list_jobs(None, 1)?.into_iter().next();
            let last_config = last
                .as_ref()
                .and_then(|job| serde_json::from_value::<ConnectorConfig>(job.config.clone()).ok());
            let saved = match last.as_ref().and_then(|job| job.connection_id.as_deref()) {
                Some(id) => store.load_connection(id)?,
                None => None,
            };
            match (last_config, saved) {
                (_, Some(saved)) => return target_of_connection(&saved),
                (Some(config), None) => match config.target {
                    Target::Local { index_name } => index_name,
                    // A configuration file's cluster: its secrets come from the environment.
                    target @ Target::Elasticsearch(_) => {
                        return Ok((target, Secrets::load(&EnvSecrets)?));
                    }
                },
                (None, None) => connector::config::DEFAULT_INDEX_NAME.to_owned(),
            }
        }
    };
    local(data_dir, index)
}

/// A saved connection's target, with its secrets (environment first, then the keyring).
fn target_of_connection(saved: &connector::SavedConnection) -> anyhow::Result<(Target, Secrets)> {
    let secrets = match &saved.config.target {
        Target::Local { .. } => Secrets::new(),
        Target::Elasticsearch(_) => {
            connections::secrets_of(saved, &LayeredVault::env_over_keyring(), None)?
        }
    };
    Ok((saved.config.target.clone(), secrets))
}

fn local(data_dir: &Path, index: String) -> anyhow::Result<(Target, Secrets)> {
    let path = connector::target::local_index_path(data_dir, &index);
    if !path.exists() {
        anyhow::bail!(
            "there is no local index `{index}` in `{}`: run a sync first (`confluence-connector sync --connection NAME`, then `--kind access-control`), or `confluence-connector demo --dls`",
            data_dir.display()
        );
    }
    Ok((Target::Local { index_name: index }, Secrets::new()))
}

/// The names of the users the last access-control sync recorded, for a "who?" error.
fn known_users(store: &Mutex<connector::Store>) -> Option<String> {
    let store = store.lock().ok()?;
    let job = store.list_jobs(None, 50).ok()?.into_iter().find(|j| {
        j.job_type == connector::JobType::AccessControl && j.status == JobStatus::Completed
    })?;
    let users = store.user_identities(&job.id).ok()?;
    if users.is_empty() {
        return None;
    }
    let mut names: Vec<String> = users.into_iter().map(|u| u.name).collect();
    names.sort();
    names.truncate(20);
    Some(names.join(", "))
}

pub async fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let store = Mutex::new(paths::open_store(data_dir)?);
    if let AclCommand::Diff { from, to } = &args.command {
        let diff = acl::diff(&store, from, to)?;
        if args.json {
            println!("{}", serde_json::to_string(&diff)?);
        } else {
            println!(
                "Access from job {} to job {}: {} documents changed",
                diff.from_job,
                diff.to_job,
                diff.changes.len()
            );
            for change in &diff.changes {
                println!(
                    "  {}: gained [{}], lost [{}]",
                    change.doc_id,
                    change.gained.join(", "),
                    change.lost.join(", ")
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (target, secrets) = target(&args, data_dir)?;
    let sink = AnySink::open(&target, &secrets, data_dir)?;
    match &args.command {
        AclCommand::Doc { id } => {
            let explained = acl::explain_doc(&sink, &store, id).await?;
            if args.json {
                println!("{}", serde_json::to_string(&explained)?);
            } else {
                print_doc(&explained);
            }
        }
        AclCommand::User { name } => {
            let access = match acl::user_access(&sink, name).await {
                Ok(access) => access,
                Err(err @ connector::Error::NotFound(_)) => match known_users(&store) {
                    Some(names) => anyhow::bail!(
                        "no user `{name}` in the identity documents; the last access-control sync listed: {names}"
                    ),
                    None => return Err(err.into()),
                },
                Err(err) => return Err(err.into()),
            };
            if args.json {
                println!("{}", serde_json::to_string(&access)?);
            } else {
                print_user(&access);
            }
        }
        AclCommand::Diff { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn print_doc(d: &DocExplanation) {
    println!(
        "Document {} ({}{}{})",
        d.id,
        d.kind.as_deref().unwrap_or("not in the index"),
        d.title
            .as_deref()
            .map(|t| format!(" \"{t}\""))
            .unwrap_or_default(),
        d.space_key
            .as_deref()
            .map(|k| format!(", space {k}"))
            .unwrap_or_default()
    );
    match &d.allow_access_control {
        None => println!("  _allow_access_control: absent (readable by everybody)"),
        Some(list) => println!("  _allow_access_control: {}", list.join(", ")),
    }
    match &d.access {
        Some(Access::Public) => println!("  access: public"),
        Some(Access::Identities { identities }) => {
            println!("  access: {} identities", identities.len());
        }
        Some(Access::Denied { reason }) => println!("  access: denied (fail closed): {reason}"),
        None => println!("  access: not recorded (was the sync run with --dls?)"),
    }
    if let Some(job) = &d.job_id {
        println!("  computed by job {job}");
    }
    if let Some(derivation) = &d.derivation {
        if let Some(from) = &derivation.inherited_from {
            println!("  inherited from its container {from}");
        }
        if let Some(space) = &derivation.space {
            println!(
                "  space {} permission ({}): {}users [{}], groups [{}]",
                derivation.space_key.as_deref().unwrap_or("?"),
                space.source.map(|s| s.describe()).unwrap_or("?"),
                if space.anonymous {
                    "anonymous access, "
                } else {
                    ""
                },
                space.users.join(", "),
                space.groups.join(", ")
            );
        }
        for layer in &derivation.layers {
            println!(
                "  read restriction of {} ({}): users [{}], groups [{}]",
                layer.content_id,
                if layer.own { "own" } else { "ancestor" },
                layer.users.join(", "),
                layer.groups.join(", ")
            );
        }
        if !derivation.expanded_groups.is_empty() {
            println!(
                "  members listed for: {}",
                derivation.expanded_groups.join(", ")
            );
        }
        if let Some(failure) = &derivation.failure {
            println!("  failed closed: {failure}");
        }
    }
    println!("  readers ({}): {}", d.readers.len(), d.readers.join(", "));
}

fn print_user(u: &UserAccess) {
    println!("User {} ({})", u.name, u.user);
    println!("  identities: {}", u.identities.join(", "));
    println!("  can read {} documents:", u.readable.len());
    for id in &u.readable {
        println!("    {id}");
    }
}

/// Runs an access-control sync of `config` into its target and prints its summary (one JSON
/// object with `--json`).
pub async fn run_access_control_sync(
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
    super::sync::run_job(
        connector::JobType::AccessControl,
        config,
        secrets,
        options,
        data_dir,
        json,
    )
    .await
}

/// Whether a job ended well enough for exit code 0.
pub fn completed(job: &JobRecord) -> bool {
    job.status == JobStatus::Completed
}

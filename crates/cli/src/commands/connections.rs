//! `confluence-connector connections`: the saved connections of the state database (the same
//! file the desktop app uses): list, show, import, export, delete.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use confluence_sim::{SimOptions, SiteSize};
use connector::config::{self, EnvSecrets, KeyringStore, SecretField, Secrets, Target, fields};
use connector::connections::{self, EnvVault, KeyringVault, LayeredVault, SecretVault};
use connector::{RuleState, SavedConnection};
use connector_sandbox::Sandbox;
use serde_json::json;

use super::sync::kind_name;
use crate::paths;

/// Arguments of `connections`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ConnectionsCommand,
}

/// What to do with the saved connections.
#[derive(clap::Subcommand)]
pub enum ConnectionsCommand {
    /// Every saved connection with its last sync.
    List {
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// A connection's settings (never its secrets' values), rules, schedules and last jobs.
    Show {
        /// Its name or id.
        name: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Save a `connector.json` as a new connection; its `filtering` block becomes the active
    /// rules. Secrets found in the environment go to the OS keyring when it works.
    Import {
        /// The `connector.json` (Elastic's shape, or an export of this tool or the app).
        file: PathBuf,
        /// The connection's name [default: the file's `name`].
        #[arg(long)]
        name: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Write a connection as `connector.json`: every setting and its active rules as the
    /// `filtering` block, never secrets.
    Export {
        /// Its name or id.
        name: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Delete a connection, its job history, rules, schedules and stored secrets.
    Delete {
        /// Its name or id.
        name: String,
    },
}

pub async fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let mut store = paths::open_store(data_dir)?;
    match args.command {
        ConnectionsCommand::List { json } => {
            let list = store.list_connections()?;
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else if list.is_empty() {
                println!(
                    "No connections in `{}`. Import one with `confluence-connector connections import FILE --name NAME`.",
                    data_dir.display()
                );
            } else {
                for c in list {
                    // The index's count and the last content sync's result, each from its
                    // own source (an access-control sync's identities are not content).
                    let mut last = match &c.last_content_sync {
                        None => "no content sync yet".to_owned(),
                        Some(l) => format!(
                            "last content sync {} at {} ({})",
                            l.status,
                            l.finished_at,
                            crate::output::changes_phrase(&l.counters)
                        ),
                    };
                    if let Some(n) = c.documents_in_index {
                        last = format!("{n} documents in the index; {last}");
                    }
                    println!(
                        "{:<30} {}  {}{}  {last}",
                        c.name,
                        c.id,
                        c.data_source,
                        if c.sandbox { " (sandbox)" } else { "" }
                    );
                }
            }
        }
        ConnectionsCommand::Show { name, json } => {
            let saved = connections::find(&store, &name)?;
            show(&store, &saved, json)?;
        }
        ConnectionsCommand::Import { file, name, json } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading `{}`", file.display()))?;
            let name = name.or_else(|| {
                serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|d| d.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                    .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
            });
            let env = Secrets::load(&EnvSecrets)?;
            // Secrets go to the keyring only when it works; otherwise they come from the
            // environment at sync time.
            let keyring_problem = connections::probe(&KeyringStore::new("probe")).err();
            let vault: &dyn SecretVault = if keyring_problem.is_none() {
                &KeyringVault
            } else {
                &EnvVault
            };
            let to_store = if keyring_problem.is_none() {
                env
            } else {
                Secrets::new()
            };
            let outcome = connections::import(&mut store, vault, &text, name.as_deref(), &to_store)
                .with_context(|| format!("importing `{}`", file.display()))?;
            for warning in &outcome.warnings {
                eprintln!("warning: {warning}");
            }
            let saved = connections::find(&store, &outcome.summary.id)?;
            let needed = needed_secrets(&saved);
            if json {
                println!(
                    "{}",
                    json!({
                        "connection": outcome.summary,
                        "rules": outcome.rules,
                        "secrets_stored": outcome.secrets_stored.iter().map(|f| f.key()).collect::<Vec<_>>(),
                        "secrets_from_env": needed.iter().filter(|f| !outcome.secrets_stored.contains(f)).map(|f| f.env_var()).collect::<Vec<_>>(),
                        "keyring_problem": keyring_problem.as_ref().map(ToString::to_string),
                    })
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "Imported `{}` as connection `{}` (id {}).",
                file.display(),
                outcome.summary.name,
                outcome.summary.id
            );
            if let Some(rules) = &outcome.rules {
                let (basic, advanced) = connections::rule_counts(&rules.rules);
                println!(
                    "Its filtering block is now the active rules: {basic} basic, {advanced} advanced."
                );
            }
            if !outcome.secrets_stored.is_empty() {
                let names: Vec<&str> = outcome.secrets_stored.iter().map(|f| f.key()).collect();
                println!("Stored in the OS keyring: {}.", names.join(", "));
            }
            if let Some(problem) = &outcome.secrets_problem {
                eprintln!("warning: the secrets were not stored: {problem}");
            }
            let missing: Vec<&str> = needed
                .iter()
                .filter(|f| !outcome.secrets_stored.contains(f))
                .map(|f| f.env_var())
                .collect();
            if !missing.is_empty() {
                match &keyring_problem {
                    Some(problem) => println!(
                        "The OS keyring is not available ({problem}).\nAt sync time, set: {}.",
                        missing.join(", ")
                    ),
                    None => println!("At sync time, set: {}.", missing.join(", ")),
                }
            }
        }
        ConnectionsCommand::Export { name, output } => {
            let doc = connections::export(&store, &name)?;
            let text = serde_json::to_string_pretty(&doc)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text + "\n")
                        .with_context(|| format!("writing `{}`", path.display()))?;
                    eprintln!("Wrote `{}` (no secrets).", path.display());
                }
                None => println!("{text}"),
            }
        }
        ConnectionsCommand::Delete { name } => {
            let vault = LayeredVault::env_over_keyring();
            let deleted = connections::delete(&store, &vault, &name)?;
            println!("Deleted connection `{}` (id {}).", deleted.name, deleted.id);
            if let Some(problem) = deleted.secrets_kept {
                eprintln!("note: its stored secrets could not be deleted: {problem}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The secret fields `saved`'s configuration needs (for its data source, auth method and
/// target).
fn needed_secrets(saved: &SavedConnection) -> Vec<SecretField> {
    if saved.sandbox {
        return Vec::new();
    }
    config::validate(&saved.config, &Secrets::new())
        .into_iter()
        .filter_map(|problem| SecretField::from_key(&problem.field))
        .collect()
}

fn show(store: &connector::Store, saved: &SavedConnection, json: bool) -> anyhow::Result<()> {
    let vault = LayeredVault::env_over_keyring();
    let (secrets_set, secrets_problem) = if saved.sandbox {
        (Vec::new(), None)
    } else {
        let secrets = vault.for_connection(&saved.id);
        let mut set = Vec::new();
        let mut problem = None;
        for field in SecretField::ALL {
            match secrets.secret(field) {
                Ok(Some(_)) => set.push(field),
                Ok(None) => {}
                Err(err) => problem = Some(err.to_string()),
            }
        }
        (set, problem)
    };
    let rules = store.rules(&saved.id, RuleState::Active)?;
    let schedules = store.schedules(&saved.id)?;
    let jobs = store.list_jobs(Some(&saved.id), 5)?;
    if json {
        println!(
            "{}",
            json!({
                "id": saved.id,
                "name": saved.name,
                "sandbox": saved.sandbox,
                "config": saved.config,
                "secrets_set": secrets_set.iter().map(|f| f.key()).collect::<Vec<_>>(),
                "secrets_problem": secrets_problem,
                "rules": rules,
                "schedules": schedules,
                "jobs": jobs,
            })
        );
        return Ok(());
    }
    let c = &saved.config;
    println!("Connection `{}` (id {})", saved.name, saved.id);
    if saved.sandbox {
        println!("  sandbox: the built-in simulator (started when a sync needs it)");
    }
    let labels: std::collections::HashMap<String, String> =
        fields().into_iter().map(|f| (f.key, f.label)).collect();
    let values = config::form::values(c);
    for spec in fields() {
        if spec.sensitive {
            continue;
        }
        let applies = spec
            .depends_on
            .iter()
            .all(|d| values.get(&d.field) == Some(&d.value));
        if !applies {
            continue;
        }
        if let Some(value) = values.get(&spec.key) {
            let label = labels.get(&spec.key).cloned().unwrap_or_default();
            println!("  {label} ({}): {value}", spec.key);
        }
    }
    match &c.target {
        Target::Local { index_name } => println!("  target: local index `{index_name}`"),
        Target::Elasticsearch(es) => {
            println!(
                "  target: Elasticsearch {} index `{}`",
                es.url, es.index_name
            )
        }
    }
    if !saved.sandbox {
        let names: Vec<&str> = secrets_set.iter().map(|f| f.key()).collect();
        println!(
            "  secrets set: {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
        if let Some(problem) = secrets_problem {
            println!("  secrets: {problem}");
        }
    }
    match &rules {
        Some(active) => {
            let (basic, advanced) = connections::rule_counts(&active.rules);
            println!(
                "  active rules (version {}): {basic} basic, {advanced} advanced",
                active.version
            );
            for rule in active.rules.basic.iter().filter(|r| !r.is_default()) {
                println!(
                    "    {} {} {} {:?}",
                    serde_json::to_value(rule.policy)?
                        .as_str()
                        .unwrap_or_default(),
                    rule.field,
                    rule.rule.as_str(),
                    rule.value
                );
            }
            for rule in &active.rules.advanced {
                println!("    CQL: {}", rule.query);
            }
        }
        None => println!("  active rules: none (everything in the configured spaces)"),
    }
    if schedules.is_empty() {
        println!("  schedules: none");
    }
    for s in &schedules {
        println!(
            "  schedule {}: {} {}, next run {}",
            kind_name(s.job_type),
            if s.enabled { "on" } else { "off" },
            s.spec,
            s.next_run_at.as_deref().unwrap_or("-")
        );
    }
    for job in &jobs {
        println!(
            "  job {} {} ({}) {} started {}",
            job.id,
            kind_name(job.job_type),
            job.trigger,
            job.status.as_str(),
            job.started_at
        );
    }
    Ok(())
}

/// For a sandbox connection, the built-in simulator started in this process (the same site
/// the desktop app starts); `None` for any other connection.
pub async fn sandbox_for(saved: &SavedConnection) -> anyhow::Result<Option<Sandbox>> {
    if !saved.sandbox {
        return Ok(None);
    }
    Ok(Some(start_sandbox().await?))
}

/// Starts the built-in simulator that sandbox connections reach.
pub async fn start_sandbox() -> anyhow::Result<Sandbox> {
    let sandbox = Sandbox::start(SimOptions {
        size: SiteSize::Small,
        ..SimOptions::default()
    })
    .await?;
    eprintln!(
        "started the built-in Confluence simulator at {} for the sandbox connection",
        sandbox.sim.base_url()
    );
    Ok(sandbox)
}

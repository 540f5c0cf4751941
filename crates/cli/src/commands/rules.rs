//! `confluence-connector rules`: check sync rules offline (and remotely), and preview what they
//! select.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use connector::config::Severity;
use connector::confluence::{ConfluenceClient, Flavor};
use connector::rules::{self, PreviewOptions, RuleProblem, RuleSet, RuleValidation};

/// Arguments of `rules`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `rules` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check a rules file: schemas, basic-rule validators, every CQL query (with positions and
    /// suggestions); with --remote also run each query once against Confluence.
    Validate(ValidateArgs),
    /// Show how many documents the rules select and the first ones, per rule.
    Preview(PreviewArgs),
}

/// Arguments of `rules validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The rules: `{"basic": [...], "advanced": [...]}`, Elastic's filtering object, or a list.
    pub file: PathBuf,
    /// The deployment the queries are for (taken from --config when given).
    #[arg(long, value_enum, default_value = "cloud")]
    pub flavor: FlavorArg,
    /// A configuration file, for the flavor and for --remote.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also run each query against Confluence (limit 1); needs --config.
    #[arg(long, requires = "config")]
    pub remote: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `rules preview`.
#[derive(clap::Args)]
pub struct PreviewArgs {
    /// The rules file.
    pub file: PathBuf,
    /// The configuration file of the Confluence site.
    #[arg(long)]
    pub config: PathBuf,
    /// Items to list.
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    /// Documents sampled for basic rules.
    #[arg(long, default_value_t = 100)]
    pub sample: u32,
    /// Print the preview as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--flavor` values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FlavorArg {
    /// Confluence Cloud.
    Cloud,
    /// Confluence Server.
    Server,
    /// Confluence Data Center.
    DataCenter,
}

impl From<FlavorArg> for Flavor {
    fn from(f: FlavorArg) -> Self {
        match f {
            FlavorArg::Cloud => Flavor::Cloud,
            FlavorArg::Server => Flavor::Server,
            FlavorArg::DataCenter => Flavor::DataCenter,
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Validate(args) => validate(args).await,
        Command::Preview(args) => preview(args).await,
    }
}

fn read(path: &Path) -> anyhow::Result<Result<RuleSet, Vec<RuleProblem>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
    Ok(RuleSet::from_json(&text))
}

fn code(valid: bool) -> ExitCode {
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let config = args
        .config
        .as_deref()
        .map(super::sync::load_config)
        .transpose()?;
    let flavor = config
        .as_ref()
        .map_or(args.flavor.into(), |(c, _)| Flavor::from(c.data_source));
    let (set, validation) = match read(&args.file)? {
        Err(problems) => (
            None,
            RuleValidation {
                valid: false,
                problems,
            },
        ),
        Ok(set) => {
            let validation = match (&config, args.remote) {
                (Some((config, secrets)), true) => {
                    let client = ConfluenceClient::from_config(config, secrets)?;
                    rules::validate_remote(&set, &client)
                        .await
                        .context("reaching Confluence")?
                }
                _ => rules::validate_offline(&set, flavor),
            };
            (Some(set), validation)
        }
    };
    if args.json {
        println!("{}", serde_json::to_string(&validation)?);
        return Ok(code(validation.valid));
    }
    for p in &validation.problems {
        print_problem(p, set.as_ref());
    }
    if validation.valid {
        let set = set.unwrap_or_default();
        println!(
            "The rules are valid: {} basic, {} advanced.",
            set.basic.len(),
            set.advanced.len()
        );
    }
    Ok(code(validation.valid))
}

/// One problem; for CQL, the query with a caret under the problem, what was expected and the
/// suggestion.
fn print_problem(p: &RuleProblem, set: Option<&RuleSet>) {
    let level = match p.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    println!("{level}: {}", rules::describe(p));
    let query = set
        .zip(p.index)
        .and_then(|(s, i)| s.advanced.get(i as usize))
        .map(|r| r.query.as_str());
    if let (Some(cql), Some(query)) = (&p.cql, query) {
        let start = cql.start as usize;
        let width = (cql.end.saturating_sub(cql.start) as usize).max(1);
        let pad: String = query.encode_utf16().take(start).map(|_| ' ').collect();
        println!("  {query}");
        println!("  {pad}{}", "^".repeat(width));
        if !cql.expected.is_empty() {
            println!("  expected: {}", cql.expected.join(", "));
        }
        if let Some(s) = &cql.suggestion {
            println!("  suggestion: {s}");
        }
    }
}

async fn preview(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let (config, secrets) = super::sync::load_config(&args.config)?;
    let set = match read(&args.file)? {
        Ok(set) => set,
        Err(problems) => {
            for p in &problems {
                print_problem(p, None);
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let client = ConfluenceClient::from_config(&config, &secrets)?;
    let options = PreviewOptions {
        limit: args.limit,
        sample_size: args.sample,
    };
    let preview = rules::preview(&client, &config, &set, &options).await;
    let failed = preview.rules.iter().any(|r| r.error.is_some());
    if args.json {
        println!("{}", serde_json::to_string(&preview)?);
        return Ok(code(!failed));
    }
    let about = if preview.exact { "" } else { "about " };
    println!(
        "{about}{} documents ({} ms)",
        preview.total, preview.elapsed_ms
    );
    for r in &preview.rules {
        let what = match (&r.query, &r.rule_id) {
            (Some(q), _) => format!("advanced rule {}: {q}", r.index + 1),
            (None, Some(id)) => format!("basic rule `{id}`"),
            _ => "rules".to_owned(),
        };
        match (&r.error, r.total) {
            (Some(e), _) => println!("  {what}: error: {e}"),
            (None, Some(t)) => {
                let unit = if r.query.is_some() {
                    if r.exact { "" } else { "about " }
                } else {
                    "sampled documents decided: "
                };
                println!("  {what}: {unit}{t}");
            }
            (None, None) => println!("  {what}"),
        }
    }
    if preview.sampled > 0 {
        println!(
            "  basic rules keep {} of {} sampled documents",
            preview.kept, preview.sampled
        );
    }
    for i in &preview.items {
        println!(
            "{:<10} {:<10} {:<20} {}  {}",
            i.kind,
            i.space_key.as_deref().unwrap_or("-"),
            i.last_modified.as_deref().unwrap_or("-"),
            i.title,
            i.url.as_deref().unwrap_or("")
        );
    }
    Ok(code(!failed))
}

//! `confluence-connector validate`: every problem of a configuration, per field.

use std::path::PathBuf;
use std::process::ExitCode;

use connector::check::CheckStatus;
use connector::config::{Severity, validate};

/// Arguments of `validate`.
#[derive(clap::Args)]
pub struct Args {
    /// The configuration file.
    #[arg(long)]
    pub config: PathBuf,
    /// Also reach Confluence: credentials and the configured spaces.
    #[arg(long)]
    pub remote: bool,
    /// Print the problems as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the least-privilege Elasticsearch role and API-key request for the configured
    /// target, ready to paste into Kibana's console, instead of validating.
    #[arg(long)]
    pub es_role: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (config, secrets) = super::sync::load_config(&args.config)?;
    if args.es_role {
        let connector::config::Target::Elasticsearch(es) = &config.target else {
            anyhow::bail!("the configuration's target is the local index: no Elasticsearch role");
        };
        print!("{}", connector::target::es_role_request(es));
        return Ok(ExitCode::SUCCESS);
    }
    let problems = validate(&config, &secrets);
    let mut failed = problems.iter().any(|p| p.severity == Severity::Error);
    let checks = if args.remote && !failed {
        connector::check::remote(&config, &secrets).await
    } else {
        Vec::new()
    };
    failed |= checks.iter().any(|c| c.status == CheckStatus::Failed);
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "valid": !failed, "problems": problems, "checks": checks })
        );
        return Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    for p in &problems {
        let level = if p.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        println!("{level}: {}: {}", p.field, p.message);
    }
    for c in &checks {
        let mark = match c.status {
            CheckStatus::Passed => "ok  ",
            CheckStatus::Warning => "warn",
            CheckStatus::Failed => "FAIL",
            CheckStatus::Skipped => "skip",
        };
        println!("{mark} {}: {}", c.label, c.message);
    }
    if !failed {
        println!("The configuration is valid.");
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

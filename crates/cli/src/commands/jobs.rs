//! `confluence-connector jobs`: the recent sync jobs.

use std::path::Path;
use std::process::ExitCode;

use crate::{output, paths};

/// Arguments of `jobs`.
#[derive(clap::Args)]
pub struct Args {
    /// How many jobs.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print the jobs as JSON.
    #[arg(long)]
    pub json: bool,
    /// List the documents that failed in the latest syncs of a connection (its name or id) or
    /// a target key (`target:local/<index>`), instead of the jobs.
    #[arg(long, value_name = "CONNECTION")]
    pub failed: Option<String>,
}

pub fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let mut store = paths::open_store(data_dir)?;
    // Jobs whose process died show as `interrupted`, not `running`.
    store.recover_interrupted()?;
    if let Some(scope) = &args.failed {
        let scope = store
            .list_connections()?
            .into_iter()
            .find(|c| &c.name == scope || &c.id == scope)
            .map_or_else(|| scope.clone(), |c| c.id);
        let failed = store.failed_documents(&scope, args.limit)?;
        if args.json {
            println!("{}", serde_json::to_string(&failed)?);
        } else if failed.is_empty() {
            println!("No document failed in the latest syncs of `{scope}`.");
        }
        if !args.json {
            for doc in &failed {
                println!("{}  {:<12} {}", doc.failed_at, doc.doc_id, doc.reason);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = store.list_jobs(None, args.limit)?;
    if args.json {
        println!("{}", serde_json::to_string(&jobs)?);
        return Ok(ExitCode::SUCCESS);
    }
    if jobs.is_empty() {
        println!(
            "No sync job yet: run `confluence-connector demo` or `confluence-connector sync --config FILE`."
        );
    } else {
        println!("{}", output::job_table_header());
    }
    for job in &jobs {
        println!("{}", output::job_row(job));
        for line in output::job_detail_lines(job, &chrono::Local) {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

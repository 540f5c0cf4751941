//! `confluence-connector jobs`: the recent sync jobs.

use std::path::Path;
use std::process::ExitCode;

use crate::paths;

/// Arguments of `jobs`.
#[derive(clap::Args)]
pub struct Args {
    /// How many jobs.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print the jobs as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let jobs = paths::open_store(data_dir)?.list_jobs(None, args.limit)?;
    if args.json {
        println!("{}", serde_json::to_string(&jobs)?);
        return Ok(ExitCode::SUCCESS);
    }
    if jobs.is_empty() {
        println!(
            "No sync job yet: run `confluence-connector demo` or `confluence-connector sync --config FILE`."
        );
    }
    for job in &jobs {
        let status = serde_json::to_value(job.status)?;
        println!(
            "{}  {:<9} {:<8} {:>6} indexed {:>5} deleted {:>4} failed  {:>6.1} s  {}",
            job.started_at,
            status.as_str().unwrap_or_default(),
            job.trigger,
            job.counters.indexed_document_count,
            job.counters.deleted_document_count,
            job.counters.failed,
            job.duration_s.unwrap_or_default(),
            job.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

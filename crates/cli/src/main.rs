//! `confluence-connector`: the headless face of the engine. Each subcommand is a few lines over
//! the `connector` crate; this binary owns argument parsing, terminal output and exit codes.

mod commands;
mod output;
mod paths;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc, configured in `.cargo/config.toml` to give freed pages back within 250 ms: with the
/// system allocator a sync's peak resident set was two to four times its heap (see
/// ARCHITECTURE.md, "Memory budget").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Crawl Confluence into Elasticsearch or the local index, from the command line.
#[derive(Parser)]
#[command(name = "confluence-connector", version, about)]
struct Cli {
    /// Where state, jobs and local indices live [default: $XDG_DATA_HOME/confluence-connector].
    #[arg(long, global = true, env = "CONFLUENCE_CONNECTOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the built-in Confluence simulator and sync it into the local index.
    Demo(commands::demo::Args),
    /// Run a sync (full, incremental, access-control) of a saved connection or a configuration file.
    Sync(commands::sync::Args),
    /// List, show, import, export and delete saved connections (the desktop app's too).
    Connections(commands::connections::Args),
    /// List and set the schedules of the saved connections.
    Schedule(commands::schedule::Args),
    /// Run every due scheduled job once and exit (for cron or a systemd timer).
    RunScheduled(commands::schedule::RunArgs),
    /// Keep running due scheduled jobs until Ctrl-C.
    Daemon(commands::schedule::DaemonArgs),
    /// Check a configuration file, and with --remote also Confluence and the target.
    Validate(commands::validate::Args),
    /// Search an index.
    Search(commands::search::Args),
    /// List recent sync jobs.
    Jobs(commands::jobs::Args),
    /// Print the text the engine extracts from a local file, or why there is none.
    Extract(commands::extract::Args),
    /// Validate sync rules (offline or against Confluence) and preview what they select.
    Rules(commands::rules::Args),
    /// Inspect document-level security: a document's ACL, a user's access, changes between syncs.
    Acl(commands::acl::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(
            std::env::var("CONFLUENCE_CONNECTOR_LOG").ok().as_deref(),
            std::env::var("RUST_LOG").ok().as_deref(),
        ))
        .with_writer(std::io::stderr)
        .init();
    let data_dir = cli.data_dir.unwrap_or_else(paths::default_data_dir);
    let runtime = match connector::sync::runtime() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The work runs on the runtime's worker threads, not on this one: `block_on` alone would
    // poll the whole sync (listing decode, text conversion) on the main thread.
    let work = async move {
        match cli.command {
            Command::Demo(args) => commands::demo::run(args, &data_dir).await,
            Command::Sync(args) => commands::sync::run(args, &data_dir).await,
            Command::Connections(args) => commands::connections::run(args, &data_dir).await,
            Command::Schedule(args) => commands::schedule::run(args, &data_dir).await,
            Command::RunScheduled(args) => commands::schedule::run_scheduled(args, &data_dir).await,
            Command::Daemon(args) => commands::schedule::daemon(args, &data_dir).await,
            Command::Validate(args) => commands::validate::run(args).await,
            Command::Search(args) => commands::search::run(args, &data_dir).await,
            Command::Jobs(args) => commands::jobs::run(args, &data_dir),
            Command::Extract(args) => commands::extract::run(args).await,
            Command::Rules(args) => commands::rules::run(args).await,
            Command::Acl(args) => commands::acl::run(args, &data_dir).await,
        }
    };
    let result = runtime.block_on(async {
        tokio::spawn(work).await.unwrap_or_else(|panic| {
            Err(anyhow::anyhow!("the command stopped unexpectedly: {panic}"))
        })
    });
    match result {
        Ok(code) => code,
        // Could not do the work at all (invalid input, a refused sync, an unreachable
        // service): 2, as a failed sync.
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The log filter: `CONFLUENCE_CONNECTOR_LOG` (the project's own variable) when set, else the
/// usual `RUST_LOG`, else errors only. Both take `tracing` directives (`info`,
/// `connector=debug,reqwest=warn`); an unreadable value falls back to the next.
fn log_filter(own: Option<&str>, rust_log: Option<&str>) -> tracing_subscriber::EnvFilter {
    [own, rust_log]
        .into_iter()
        .flatten()
        .filter(|v| !v.trim().is_empty())
        .find_map(|v| tracing_subscriber::EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("error"))
}

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn rust_log_is_honoured_after_the_projects_variable() {
        assert_eq!(log_filter(None, None).to_string(), "error");
        assert_eq!(log_filter(None, Some("debug")).to_string(), "debug");
        assert_eq!(
            log_filter(Some("connector=trace"), Some("debug")).to_string(),
            "connector=trace"
        );
        assert_eq!(log_filter(Some(" "), Some("info")).to_string(), "info");
    }
}

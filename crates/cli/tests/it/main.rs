//! The `confluence-connector` binary, run as a user would, against the simulator.

mod acl;
mod concurrency;
mod connections;
mod crash_resume;
mod deleted_mid_sync;
mod demo;
mod extract;
mod filtering;
mod incremental;
mod rules;
mod schedule;
mod secrets;
mod sim_sync;

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary with `args` and a private data directory.
pub fn run(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confluence-connector"));
    cmd.args(args)
        .env("CONFLUENCE_CONNECTOR_DATA_DIR", data_dir)
        .env_remove("CONFLUENCE_CONNECTOR_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running confluence-connector")
}

/// Parses the single JSON object a `--json` command prints.
pub fn json_of(output: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

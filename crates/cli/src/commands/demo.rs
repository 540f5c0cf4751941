//! `confluence-connector demo`: the built-in simulator, synced into the local index.

use std::path::Path;
use std::process::ExitCode;

use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize};
use connector::config::Target;
use connector::sink::{SearchRequest, Sink};
use connector::target::AnySink;
use connector_sandbox::Sandbox;

use super::sync::{exit_code, run_sync};

/// The index the demo writes to.
pub const DEMO_INDEX: &str = "demo";

/// Arguments of `demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Which Confluence to simulate: cloud, server or datacenter.
    #[arg(long, default_value = "cloud")]
    pub flavor: Flavor,
    /// Site size: tiny, small, medium, large, or counts such as `spaces=20,pages=500`.
    #[arg(long, default_value = "small")]
    pub size: SiteSize,
    /// Seed of the generated site.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the summary as one JSON object (with --dls, one per job: content, then access
    /// control).
    #[arg(long)]
    pub json: bool,
    /// Document-level security: compute each document's ACL, then run an access-control sync
    /// (inspect the result with `confluence-connector acl`).
    #[arg(long)]
    pub dls: bool,
}

pub async fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::start(SimOptions {
        flavor: args.flavor,
        size: args.size,
        seed: args.seed,
        data_center_auth: DcAuth::Pat,
        ..SimOptions::default()
    })
    .await?;
    if !args.json {
        println!(
            "Started a simulated Confluence {} at {} ({} documents).",
            args.flavor.as_str(),
            sandbox.sim.base_url(),
            sandbox.sim.truth().len()
        );
    }
    let mut config = sandbox.config.clone();
    config.target = Target::Local {
        index_name: DEMO_INDEX.to_owned(),
    };
    config.use_document_level_security = args.dls;
    // Each demo starts from an empty index: another flavor or size is another site.
    if let AnySink::Local(index) = AnySink::open(&config.target, &sandbox.secrets, data_dir)? {
        index.clear().await?;
    }
    let job = run_sync(&config, &sandbox.secrets, data_dir, "demo", args.json).await;
    let acl_job = match (&job, args.dls) {
        (Ok(_), true) => Some(
            super::acl::run_access_control_sync(
                &config,
                &sandbox.secrets,
                data_dir,
                "demo",
                args.json,
            )
            .await,
        ),
        _ => None,
    };
    sandbox.shutdown().await;
    let job = job?;
    let acl_ok = match acl_job {
        Some(acl_job) => super::acl::completed(&acl_job?),
        None => true,
    };
    if !args.json {
        let sink = AnySink::open(&config.target, &sandbox_free_secrets(), data_dir)?;
        println!("\nThe local index now holds:");
        for kind in ["space", "page", "blogpost", "attachment", "comment"] {
            let request = SearchRequest {
                filters: vec![("type".to_owned(), kind.to_owned())],
                size: 0,
                ..SearchRequest::default()
            };
            let total = sink.search(&request).await?.total;
            println!("  {total:>6} {kind}s");
        }
        println!(
            "\nSearch it with:\n  confluence-connector search --index {DEMO_INDEX} \"release notes\""
        );
        if args.dls {
            println!(
                "\nInspect document-level security with:\n  confluence-connector acl doc <ID>\n  confluence-connector acl user <NAME>"
            );
        }
    }
    if !acl_ok {
        return Ok(ExitCode::FAILURE);
    }
    Ok(exit_code(&job))
}

/// The local index needs no secrets.
fn sandbox_free_secrets() -> connector::config::Secrets {
    connector::config::Secrets::new()
}

//! `confluence-sim`: serve a simulated Confluence, or print a site's ground truth.

use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};
use confluence_sim::{
    DcAuth, FaultPlan, Flavor, LargeFiles, Latency, Quirks, SimOptions, SiteSize,
};

#[derive(Parser)]
#[command(
    name = "confluence-sim",
    version,
    about = "A faithful Confluence Cloud, Server and Data Center REST API over a deterministic site"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

// Parsed once at start: the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Serve a site; the first line of output is a JSON object with `base_url` and credentials.
    Serve {
        /// `cloud`, `server` or `datacenter`.
        #[arg(long, default_value = "cloud")]
        flavor: Flavor,
        /// `tiny`, `small`, `medium`, `large`, or `spaces=N,pages=N,blogposts=N,attachments=F,comments=F,users=N,groups=N`.
        #[arg(long, default_value = "tiny")]
        size: SiteSize,
        /// Generation seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Port on 127.0.0.1 (0 or absent: a free port).
        #[arg(long)]
        port: Option<u16>,
        /// Server/DC context path, e.g. `/confluence`.
        #[arg(long)]
        context_path: Option<String>,
        /// Latency per request: `50ms` or `20ms..80ms`.
        #[arg(long)]
        latency: Option<Latency>,
        /// Faults, e.g. `429=0.05,retry-after=2,5xx=0.01,burst=3,reset=0.01,truncate=0.01,slow=0.01,rps=100,headers`.
        #[arg(long)]
        faults: Option<FaultPlan>,
        /// Data Center authentication: `basic` or `pat`.
        #[arg(long, default_value = "basic")]
        dc_auth: DcAuth,
        /// Leave the Extender for Confluence app out (its routes answer 404).
        #[arg(long)]
        no_extender: bool,
        /// How long new content stays invisible to CQL search, e.g. `60s`.
        #[arg(long, value_parser = confluence_sim::parse_duration)]
        index_lag: Option<std::time::Duration>,
        /// Cloud: print attachment download links in the API form.
        #[arg(long)]
        api_download_links: bool,
        /// Sloppy-server quirks, e.g. `ignore-start,omit-next,trim-fields,html-login=/child/comment,redirect=/label,missing-route=/child/comment,missing-status=501,forbidden=/search/user,changing-results,expired-credentials,anonymous-fallback`.
        #[arg(long)]
        quirks: Option<String>,
        /// Attach a decompression-bomb PDF and DOCX to the first readable page.
        #[arg(long)]
        bombs: bool,
        /// The site's default time zone (IANA name), in which users without a zone of their
        /// own read CQL dates, e.g. `Asia/Kolkata`.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Milliseconds during which a change stays invisible to CQL search
        /// (CONFCLOUD-73997), e.g. `60000`.
        #[arg(long, default_value_t = 0)]
        search_lag_ms: u64,
        /// Make every attachment a large HTML, PDF or DOCX file, `LO-HI` MiB, e.g. `1-25`.
        #[arg(long)]
        large_files: Option<LargeFiles>,
    },
    /// Print the ground truth as JSON lines, one document a line.
    Truth {
        /// `cloud`, `server` or `datacenter`.
        #[arg(long, default_value = "cloud")]
        flavor: Flavor,
        /// Site size (as for `serve`).
        #[arg(long, default_value = "tiny")]
        size: SiteSize,
        /// Generation seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Truth { flavor, size, seed } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut err = None;
            confluence_sim::truth_of(flavor, size, seed, |d| {
                if err.is_none()
                    && let Err(e) = serde_json::to_writer(&mut out, &d)
                        .map_err(anyhow::Error::from)
                        .and_then(|_| out.write_all(b"\n").map_err(Into::into))
                {
                    err = Some(e);
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            out.flush()?;
            Ok(())
        }
        Cmd::Serve {
            flavor,
            size,
            seed,
            port,
            context_path,
            latency,
            faults,
            dc_auth,
            no_extender,
            index_lag,
            api_download_links,
            quirks,
            bombs,
            time_zone,
            search_lag_ms,
            large_files,
        } => {
            tracing_init();
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let opts = SimOptions {
                    flavor,
                    size,
                    seed,
                    port: port.filter(|&p| p != 0),
                    context_path,
                    latency,
                    faults: faults.unwrap_or_default(),
                    data_center_auth: dc_auth,
                    extender: !no_extender,
                    index_lag,
                    api_download_links,
                    quirks: quirks
                        .as_deref()
                        .map(str::parse::<Quirks>)
                        .transpose()?
                        .unwrap_or_default(),
                    bomb_attachments: bombs,
                    time_zone,
                    search_lag_ms,
                    large_files,
                };
                let sim = confluence_sim::start(opts)
                    .await
                    .context("starting the simulator")?;
                println!("{}", sim.info());
                std::io::stdout().flush()?;
                tokio::signal::ctrl_c()
                    .await
                    .context("waiting for Ctrl-C")?;
                sim.shutdown().await;
                Ok(())
            })
        }
    }
}

fn tracing_init() {
    // The library logs through `tracing`; without a subscriber nothing is printed, which keeps
    // the first line of stdout the JSON object.
}

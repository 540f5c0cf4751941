//! What a second sync costs, side by side in one run against the simulator: a full sync, a
//! second full sync of the unchanged site, an incremental sync with nothing changed, and an
//! incremental sync after 1% of the pages were edited (plus a few comments, re-uploads, a
//! move, a trashed page and a restriction). Requests, response bytes (counted by the
//! simulator) and wall time of each, and their ratio to the full sync.
//!
//! ```text
//! cargo run --release -p connector --example incremental_bench [-- SIZE[,SIZE] [LATENCY_MS] [FLAVOR]]
//! ```
//!
//! SIZE is `tiny`, `small`, `medium` or `large` (default `medium,large`), LATENCY_MS the
//! simulated latency per request (default 5), FLAVOR `cloud`, `datacenter` or `server`
//! (default `cloud`). Document-level security is on, so the incremental also checks every
//! page's restrictions and every space's permissions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confluence_sim::{DcAuth, Flavor, Latency, Quirks, SimOptions, SiteSize};
use connector::config::Target;
use connector::sink::LocalIndex;
use connector::sync::{Job, SyncOptions};
use connector::{JobRecord, JobType, Store};
use connector_sandbox::Sandbox;

struct Measured {
    name: &'static str,
    job: JobRecord,
    bytes: u64,
    wall: Duration,
    /// The endpoints that served the most bytes: (endpoint, requests, bytes).
    top: Vec<(String, u64, u64)>,
}

struct Index {
    store: Arc<Mutex<Store>>,
    sink: Arc<LocalIndex>,
    dir: tempfile::TempDir,
}

async fn run(
    sandbox: &Sandbox,
    target: &Index,
    dls: bool,
    kind: JobType,
    name: &'static str,
) -> Measured {
    let mut config = sandbox.config.clone();
    config.use_document_level_security = dls;
    config.target = Target::Local {
        index_name: "bench".into(),
    };
    sandbox.sim.admin().reset_request_counts();
    tracing::info!("bench: {name}");
    let started = Instant::now();
    let job = Job::new(
        kind,
        config,
        sandbox.secrets.clone(),
        target.sink.clone(),
        target.store.clone(),
    )
    .with_options(SyncOptions {
        connection_id: Some("bench".into()),
        work_dir: target.dir.path().join("work"),
        ..SyncOptions::default()
    })
    .run()
    .await
    .expect("sync");
    let wall = started.elapsed();
    let counts = sandbox.sim.admin().request_counts();
    let bytes = counts.values().map(|c| c.bytes).sum();
    let mut top: Vec<(String, u64, u64)> = counts
        .into_iter()
        .map(|(endpoint, c)| (endpoint, c.requests, c.bytes))
        .collect();
    top.sort_by_key(|(_, _, bytes)| std::cmp::Reverse(*bytes));
    top.truncate(4);
    Measured {
        name,
        job,
        bytes,
        wall,
        top,
    }
}

/// Edits 1% of the pages and blog posts, and a few other changes of every kind.
fn change_one_percent(sandbox: &Sandbox) -> usize {
    let admin = sandbox.sim.admin();
    let truth = sandbox.sim.truth();
    let units: Vec<_> = truth
        .iter()
        .filter(|d| d.r#type == "page" || d.r#type == "blogpost")
        .collect();
    let pages: Vec<_> = truth.iter().filter(|d| d.r#type == "page").collect();
    let attachments: Vec<_> = truth.iter().filter(|d| d.r#type == "attachment").collect();
    let n = (units.len() / 100).max(1);
    let step = (units.len() / n).max(1);
    let mut changed = 0;
    for (i, unit) in units.iter().step_by(step).take(n).enumerate() {
        if admin
            .update_page(
                &unit.id,
                None,
                Some(&format!("<p>edited for the benchmark {i}</p>")),
            )
            .is_ok()
        {
            changed += 1;
        }
    }
    for unit in units.iter().skip(1).step_by(step * 4).take(n / 4 + 1) {
        let _ = admin.add_comment(&unit.id, "<p>a new comment</p>", false);
    }
    for att in attachments.iter().step_by(attachments.len().max(1) / 3 + 1) {
        let _ = admin.update_attachment(&att.id, None);
    }
    if let (Some(a), Some(b)) = (pages.get(3), pages.get(pages.len() / 2)) {
        let _ = admin.move_page(&a.id, Some(&b.id));
    }
    if let Some(p) = pages.get(pages.len() / 3) {
        let _ = admin.delete_content(&p.id);
    }
    changed
}

fn main() {
    // `RUST_LOG=connector::confluence=trace` shows every request and how long it took.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let sizes: Vec<SiteSize> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "medium,large".into())
        .split(',')
        .map(|s| match s {
            "tiny" => SiteSize::Tiny,
            "small" => SiteSize::Small,
            "large" => SiteSize::Large,
            _ => SiteSize::Medium,
        })
        .collect();
    let latency_ms: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let flavor = match std::env::args().nth(3).as_deref() {
        Some("datacenter") => Flavor::DataCenter,
        Some("server") => Flavor::Server,
        _ => Flavor::Cloud,
    };
    let dls = std::env::args().nth(4).as_deref() != Some("no-dls");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        for size in sizes {
            let sandbox = Sandbox::start(SimOptions {
                flavor,
                size,
                seed: 1,
                data_center_auth: DcAuth::Basic,
                extender: flavor == Flavor::Server,
                ..SimOptions::default()
            })
            .await
            .expect("simulator");
            sandbox
                .sim
                .admin()
                .set_latency(Some(Latency::Fixed(Duration::from_millis(latency_ms))));
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(&dir.path().join("state.sqlite")).expect("store");
            store.add_connection("bench", "Bench", "confluence_cloud").ok();
            let target = Index {
                store: Arc::new(Mutex::new(store)),
                sink: Arc::new(LocalIndex::open(dir.path().join("index.sqlite")).expect("index")),
                dir,
            };
            let mut rows = Vec::new();
            rows.push(run(&sandbox, &target, dls, JobType::Full, "full sync").await);
            rows.push(run(&sandbox, &target, dls, JobType::Full, "second full, nothing changed").await);
            rows.push(
                run(&sandbox, &target, dls, JobType::Incremental, "incremental, nothing changed").await,
            );
            // The next one starts the last one's listings with the sign-in (a full sync leaves
            // no listings to start).
            rows.push(
                run(&sandbox, &target, dls, JobType::Incremental, "incremental, nothing changed, again").await,
            );
            if flavor == Flavor::Cloud {
                // The same with REST v2 hidden (as some proxies do): the reconciliation lists
                // through v1 with `children.page`, for comparison.
                sandbox.sim.admin().set_quirks(Quirks {
                    missing_route: Some("/api/v2/".into()),
                    ..Quirks::none()
                });
                rows.push(
                    run(
                        &sandbox,
                        &target,
                        dls,
                        JobType::Incremental,
                        "incremental, nothing changed, v1 only",
                    )
                    .await,
                );
                sandbox.sim.admin().set_quirks(Quirks::none());
            }
            let changed = change_one_percent(&sandbox);
            rows.push(
                run(&sandbox, &target, dls, JobType::Incremental, "incremental, 1% of pages changed")
                    .await,
            );
            let docs = rows[0].job.counters.indexed_document_count;
            println!(
                "\n{flavor:?} {size:?} site: {docs} documents, {latency_ms} ms per request, \
                 document-level security {}, {changed} pages edited for the last row",
                if dls { "on" } else { "off" }
            );
            println!(
                "{:<34} {:>9} {:>12} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8}",
                "sync",
                "requests",
                "bytes",
                "wall s",
                "req %",
                "bytes %",
                "wall %",
                "written",
                "unchanged",
                "download",
                "deleted"
            );
            let base = (
                rows[0].job.requests.max(1) as f64,
                rows[0].bytes.max(1) as f64,
                rows[0].wall.as_secs_f64().max(1e-9),
            );
            for row in &rows {
                let c = &row.job.counters;
                println!(
                    "{:<34} {:>9} {:>12} {:>9.2} {:>7.2}% {:>7.2}% {:>7.2}% {:>9} {:>9} {:>9} {:>8}",
                    row.name,
                    row.job.requests,
                    row.bytes,
                    row.wall.as_secs_f64(),
                    row.job.requests as f64 * 100.0 / base.0,
                    row.bytes as f64 * 100.0 / base.1,
                    row.wall.as_secs_f64() * 100.0 / base.2,
                    c.created + c.updated + c.permissions_updated,
                    c.unchanged,
                    c.downloaded_bytes,
                    c.deleted_document_count
                );
                if row.job.job_type == JobType::Incremental {
                    for (endpoint, requests, bytes) in &row.top {
                        println!("    {endpoint}: {requests} requests, {bytes} bytes");
                    }
                }
                if !row.job.errors.is_empty() || row.job.status != connector::JobStatus::Completed
                {
                    println!("    {:?}: {:?}", row.job.status, row.job.errors);
                }
            }
            sandbox.shutdown().await;
        }
    });
}

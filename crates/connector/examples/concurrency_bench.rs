//! How close a full sync comes to the latency bound at several request concurrencies, side by
//! side in one run against the simulator: for each `max_concurrent_requests`, a fresh full sync
//! of the same site into a fresh local index, its requests (as the simulator counts them, a
//! download redirect twice), wall time, and the bound no client can beat: API requests x
//! latency / concurrency, or downloads x latency / 50 (downloads have their own limit) when
//! that is more. With LATENCY_MS 0 the rows show the CPU floor instead (the simulator runs in
//! the same process, on the same cores). The connector's CPU seconds per 1,000 documents leave
//! the simulator's out: it serves from its own runtime, whose threads are named
//! `confluence-sim`, and their time is subtracted from the process's.
//!
//! ```text
//! cargo run --release -p connector --example concurrency_bench [-- SIZE LATENCY_MS CONCURRENCIES [dls|no-dls]]
//! ```
//!
//! SIZE is `tiny`, `small`, `medium` (default) or `large`, LATENCY_MS the simulated latency per
//! request (default 50), CONCURRENCIES a comma-separated list (default `4,16,32,64`).
//! Cloud, labels on, document-level security on unless `no-dls`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confluence_sim::{DcAuth, Flavor, Latency, SimOptions, SiteSize};
use connector::config::Target;
use connector::sink::LocalIndex;
use connector::sync::{Job, SyncOptions};
use connector::{JobType, Store};
use connector_sandbox::Sandbox;

/// `concurrent_downloads` as configured (the reference's default).
const DOWNLOAD_LIMIT: f64 = 50.0;

fn is_download(endpoint: &str) -> bool {
    endpoint.contains("/download/") || endpoint.contains("/__media/")
}

fn main() {
    let arg = |n: usize| std::env::args().nth(n);
    let size = match arg(1).as_deref() {
        Some("tiny") => SiteSize::Tiny,
        Some("small") => SiteSize::Small,
        Some("large") => SiteSize::Large,
        _ => SiteSize::Medium,
    };
    let latency_ms: u64 = arg(2).and_then(|a| a.parse().ok()).unwrap_or(50);
    let levels: Vec<u64> = arg(3)
        .unwrap_or_else(|| "4,16,32,64".into())
        .split(',')
        .filter_map(|c| c.parse().ok())
        .collect();
    let dls = arg(4).as_deref() != Some("no-dls");
    let sim_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name(SIM_THREADS)
        .enable_all()
        .build()
        .expect("simulator runtime");
    let sandbox = sim_runtime
        .block_on(Sandbox::start(SimOptions {
            flavor: Flavor::Cloud,
            size,
            seed: 1,
            data_center_auth: DcAuth::Basic,
            ..SimOptions::default()
        }))
        .expect("simulator");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        sandbox
            .sim
            .admin()
            .set_latency(Some(Latency::Fixed(Duration::from_millis(latency_ms))));
        println!(
            "\nCloud {size:?} site, {latency_ms} ms per request, document-level security {}",
            if dls { "on" } else { "off" }
        );
        println!(
            "{:>11} {:>9} {:>9} {:>8} {:>9} {:>9} {:>8} {:>7} {:>12}",
            "concurrency",
            "documents",
            "requests",
            "req/doc",
            "wall s",
            "bound s",
            "bound %",
            "docs/s",
            "CPU s/1k doc"
        );
        for concurrency in levels {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(&dir.path().join("state.sqlite")).expect("store");
            store
                .add_connection("bench", "Bench", "confluence_cloud")
                .ok();
            let store = Arc::new(Mutex::new(store));
            let sink =
                Arc::new(LocalIndex::open(dir.path().join("index.sqlite")).expect("local index"));
            let mut config = sandbox.config.clone();
            config.use_document_level_security = dls;
            config.http.max_concurrent_requests = concurrency;
            config.target = Target::Local {
                index_name: "bench".into(),
            };
            sandbox.sim.admin().reset_request_counts();
            let started = Instant::now();
            let cpu_before = connector_cpu();
            let job = Job::new(JobType::Full, config, sandbox.secrets.clone(), sink, store)
                .with_options(SyncOptions {
                    connection_id: Some("bench".into()),
                    work_dir: dir.path().join("work"),
                    ..SyncOptions::default()
                })
                .run()
                .await
                .expect("sync");
            let wall = started.elapsed().as_secs_f64();
            let cpu = connector_cpu() - cpu_before;
            let counts = sandbox.sim.admin().request_counts();
            let requests: u64 = counts.values().map(|c| c.requests).sum();
            // Attachment files (and their redirects) go through the download limit, not the
            // API's: the bound is the larger of the two.
            let downloads: u64 = counts
                .iter()
                .filter(|(endpoint, _)| is_download(endpoint))
                .map(|(_, c)| c.requests)
                .sum();
            let latency = latency_ms as f64 / 1000.0;
            let docs = job.counters.indexed_document_count.max(1);
            let bound = ((requests - downloads) as f64 * latency / concurrency as f64)
                .max(downloads as f64 * latency / DOWNLOAD_LIMIT);
            println!(
                "{:>11} {:>9} {:>9} {:>8.2} {:>9.2} {:>9.2} {:>7.0}% {:>7.0} {:>12.3}",
                concurrency,
                docs,
                requests,
                requests as f64 / docs as f64,
                wall,
                bound,
                100.0 * bound / wall,
                docs as f64 / wall,
                cpu * 1000.0 / docs as f64,
            );
            assert!(
                matches!(job.status, connector::JobStatus::Completed),
                "the sync at concurrency {concurrency} ended {:?}",
                job.status
            );
        }
    });
    drop(runtime);
    sim_runtime.block_on(async move { drop(sandbox) });
}

/// The name of the simulator's threads.
const SIM_THREADS: &str = "confluence-sim";

/// CPU seconds (user and system) this process has used outside the simulator's threads: the
/// process's total (which keeps the time of threads that ended) less the time of every living
/// `confluence-sim` thread. Linux only (`/proc`); 0 elsewhere.
fn connector_cpu() -> f64 {
    /// utime + stime of a `stat` line, in clock ticks, and the thread's name.
    fn ticks(stat: &str) -> Option<(String, u64)> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let name = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // After the name: state is field 3 of stat(5), utime 14 and stime 15.
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some((name, utime + stime))
    }
    const TICKS_PER_SECOND: f64 = 100.0;
    let Some((_, total)) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| ticks(&s))
    else {
        return 0.0;
    };
    let simulator: u64 = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|s| ticks(&s))
        .filter(|(name, _)| name == SIM_THREADS)
        .map(|(_, t)| t)
        .sum();
    total.saturating_sub(simulator) as f64 / TICKS_PER_SECOND
}

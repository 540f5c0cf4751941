//! The cost of the job lifecycle, side by side in one run against the simulator: a fresh full
//! sync, a second full sync of the unchanged site, and the same sync interrupted halfway and
//! resumed from its checkpoint.
//!
//! ```text
//! cargo run --release -p connector --example lifecycle_bench [-- tiny|small|medium [LATENCY_MS]]
//! ```
//!
//! Each sync writes into its own embedded local index. "Resumed" is the run after one that was
//! cancelled once half of the site's documents were produced (a kill -9 leaves the same
//! checkpoint behind, minus at most the last two seconds of work).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confluence_sim::{Flavor, Latency, SimOptions, SiteSize};
use connector::events::{EventHandler, SyncEvent};
use connector::sink::LocalIndex;
use connector::sync::{CancellationToken, Job, SyncOptions};
use connector::{JobRecord, JobType, Store};
use connector_sandbox::Sandbox;

struct Run {
    job: JobRecord,
    wall: Duration,
}

async fn sync(
    sandbox: &Sandbox,
    dir: &std::path::Path,
    events: Option<EventHandler>,
    cancel: CancellationToken,
) -> Run {
    let store = Store::open(&dir.join("state.sqlite")).expect("store");
    store
        .add_connection("bench", "Bench", "confluence_cloud")
        .ok();
    let sink = Arc::new(LocalIndex::open(dir.join("index.sqlite")).expect("index"));
    let mut job = Job::new(
        JobType::Full,
        sandbox.config.clone(),
        sandbox.secrets.clone(),
        sink,
        Arc::new(Mutex::new(store)),
    )
    .with_options(SyncOptions {
        connection_id: Some("bench".into()),
        work_dir: dir.join("work"),
        progress_every: Duration::from_millis(20),
        ..SyncOptions::default()
    })
    .with_cancel(cancel);
    if let Some(events) = events {
        job = job.with_events(events);
    }
    let started = Instant::now();
    let job = job.run().await.expect("sync");
    Run {
        job,
        wall: started.elapsed(),
    }
}

fn main() {
    let size = match std::env::args().nth(1).as_deref() {
        Some("tiny") => SiteSize::Tiny,
        Some("medium") => SiteSize::Medium,
        _ => SiteSize::Small,
    };
    let latency_ms: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let sandbox = Sandbox::start(SimOptions {
            flavor: Flavor::Cloud,
            size,
            seed: 1,
            ..SimOptions::default()
        })
        .await
        .expect("simulator");
        sandbox
            .sim
            .admin()
            .set_latency(Some(Latency::Fixed(Duration::from_millis(latency_ms))));
        let docs = sandbox.sim.document_count() as u64;

        let fresh_dir = tempfile::tempdir().expect("dir");
        let fresh = sync(&sandbox, fresh_dir.path(), None, CancellationToken::new()).await;
        let again = sync(&sandbox, fresh_dir.path(), None, CancellationToken::new()).await;

        let dir = tempfile::tempdir().expect("dir");
        let cancel = CancellationToken::new();
        let fired = Arc::new(AtomicBool::new(false));
        let events: EventHandler = {
            let (cancel, fired) = (cancel.clone(), fired.clone());
            Arc::new(move |event: &SyncEvent| {
                if let SyncEvent::Progress(p) = event
                    && p.docs_seen >= docs / 2
                    && !fired.swap(true, Ordering::SeqCst)
                {
                    cancel.cancel();
                }
            })
        };
        let first_half = sync(&sandbox, dir.path(), Some(events), cancel).await;
        let resumed = sync(&sandbox, dir.path(), None, CancellationToken::new()).await;

        println!(
            "{docs} documents, Cloud, {latency_ms} ms per request, release build\n"
        );
        println!(
            "{:<34} {:>9} {:>9} {:>9}",
            "run", "requests", "wall (s)", "status"
        );
        for (name, run) in [
            ("fresh full sync", &fresh),
            ("second full sync (unchanged)", &again),
            ("interrupted at 50%", &first_half),
            ("resumed after the interruption", &resumed),
        ] {
            println!(
                "{:<34} {:>9} {:>9.2} {:>9}",
                name,
                run.job.requests,
                run.wall.as_secs_f64(),
                run.job.status.as_str()
            );
        }
        println!(
            "\nresumed / fresh: requests {:.2}, wall {:.2}; interrupted + resumed / fresh: requests {:.2}",
            resumed.job.requests as f64 / fresh.job.requests as f64,
            resumed.wall.as_secs_f64() / fresh.wall.as_secs_f64(),
            (first_half.job.requests + resumed.job.requests) as f64 / fresh.job.requests as f64,
        );
        sandbox.shutdown().await;
    });
}

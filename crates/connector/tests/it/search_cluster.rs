//! The Elasticsearch sink on a two-node OpenSearch cluster, started by
//! `tests/search-node.sh cluster-start` (node 1's URL in `SEARCH_CLUSTER_URL`): replicas that
//! get assigned, a node that dies in the middle of a sync, and cluster-wide blocks (which would
//! disturb the other tests if set on the single node they share).
//!
//! Each node runs in a JVM of its own. The test kills node 2's process (`kill -9`, a crash)
//! while the sync writes through node 1, the node the connector knows: what it simulates is a
//! data node lost mid-sync (its primaries move to node 1's replicas), not the loss of the node
//! the connector talks to.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confluence_sim::{Flavor, Latency, SimOptions, SiteSize};
use connector::events::SyncEvent;
use connector::sink::{BulkOptions, EsOptions, EsSink, Sink};
use connector::sync::{Job, SyncOptions};
use connector::{JobStatus, JobType, Store};
use connector_sandbox::Sandbox;
use serde_json::{Value, json};

use crate::search_node::{Unblock, node};
use crate::support::{indexed, unique_index};

/// The cluster's URL, or `None` when it is not running (`REQUIRE_SEARCH_CLUSTER` makes that a
/// failure, as in CI).
fn cluster_url() -> Option<String> {
    match std::env::var("SEARCH_CLUSTER_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("REQUIRE_SEARCH_CLUSTER").is_some() => panic!(
            "REQUIRE_SEARCH_CLUSTER is set but SEARCH_CLUSTER_URL is not: run \
             tests/search-node.sh cluster-start"
        ),
        _ => {
            eprintln!("SEARCH_CLUSTER_URL is not set: start tests/search-node.sh cluster-start");
            None
        }
    }
}

/// These tests change the whole cluster: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `tests/search-node.sh` with `args` (blocking) and returns whether it succeeded.
fn script(args: &[&str]) -> bool {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/search-node.sh");
    let out = std::process::Command::new(path)
        .args(args)
        .output()
        .expect("tests/search-node.sh runs");
    if !out.status.success() {
        eprintln!(
            "search-node.sh {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}

/// Waits for `status` of `index`, up to a minute; returns the health answer.
async fn health(url: &str, index: &str, status: &str) -> Value {
    node(
        reqwest::Method::GET,
        url,
        &format!("/_cluster/health/{index}?wait_for_status={status}&timeout=60s"),
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_dies_mid_sync_loses_nothing_or_says_what_failed() {
    let Some(url) = cluster_url() else { return };
    let _serial = SERIAL.lock().await;
    // A previous run may have left node 2 stopped.
    let restarted = tokio::task::spawn_blocking(|| script(&["start-node", "2"]));
    assert!(restarted.await.unwrap(), "node 2 could not be started");

    let sandbox = Sandbox::start(SimOptions {
        flavor: Flavor::Server,
        size: SiteSize::Small,
        seed: 7,
        // Slow enough that the node dies while documents are still being written: stopping
        // a node takes seconds, and the crawl got faster.
        latency: Some(Latency::Fixed(Duration::from_millis(60))),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let truth: BTreeSet<String> = sandbox.sim.truth().into_iter().map(|t| t.id).collect();

    // Two primaries and one replica each: both nodes hold primaries, every shard a copy.
    let mut options = EsOptions::new(&url, unique_index("it-cluster"));
    options.settings.shards = Some(2);
    options.settings.replicas = Some(1);
    let es = Arc::new(EsSink::new(&options).unwrap());
    es.prepare().await.unwrap();
    let index = es.index().to_owned();
    let green = health(&url, &index, "green").await;
    assert_eq!(green["status"], "green", "replicas not assigned: {green}");
    let shards = node(
        reqwest::Method::GET,
        &url,
        &format!("/_cat/shards/{index}?format=json"),
        None,
    )
    .await;
    let placed: BTreeSet<&str> = shards
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "STARTED")
        .filter_map(|s| s["node"].as_str())
        .collect();
    assert_eq!(shards.as_array().unwrap().len(), 4, "{shards}");
    assert_eq!(placed.len(), 2, "copies on both nodes: {shards}");

    // Node 2 dies once a tenth of the site is written.
    let stopped = Arc::new(AtomicBool::new(false));
    let stopper: Arc<Mutex<Option<std::thread::JoinHandle<bool>>>> = Arc::default();
    let killed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let threshold = truth.len() as u64 / 10;
    let events: connector::events::EventHandler = {
        let (stopped, stopper, killed_at) = (stopped.clone(), stopper.clone(), killed_at.clone());
        Arc::new(move |event: &SyncEvent| {
            if let SyncEvent::Progress(progress) = event
                && progress.counters.indexed_document_count >= threshold
                && !stopped.swap(true, Ordering::SeqCst)
            {
                let killed_at = killed_at.clone();
                *stopper.lock().unwrap() = Some(std::thread::spawn(move || {
                    let ok = script(&["stop-node", "2"]);
                    *killed_at.lock().unwrap() = Some(Instant::now());
                    ok
                }));
            }
        })
    };
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let job = Job::new(
        JobType::Full,
        sandbox.config.clone(),
        sandbox.secrets.clone(),
        es.clone(),
        store.clone(),
    )
    .with_options(SyncOptions {
        work_dir: work.path().to_owned(),
        // Many small bulk requests, so that some are in flight when the node dies.
        bulk: BulkOptions {
            max_docs: 20,
            ..BulkOptions::default()
        },
        ..SyncOptions::default()
    })
    .with_events(events)
    .run()
    .await
    .unwrap();
    let ended = Instant::now();
    let stop = stopper.lock().unwrap().take();
    assert!(
        stop.expect("the sync ended before node 2 was stopped")
            .join()
            .unwrap(),
        "stopping node 2 failed"
    );
    let killed_at = killed_at.lock().unwrap().expect("node 2 was killed");
    assert!(
        killed_at < ended,
        "node 2 died after the sync ended, not during it"
    );
    let nodes = node(reqwest::Method::GET, &url, "/_cat/nodes?format=json", None).await;
    assert_eq!(nodes.as_array().map(Vec::len), Some(1), "{nodes}");

    // Nothing lost, or every missing document named with the reason.
    let got: BTreeSet<String> = indexed(&*es).await.into_keys().collect();
    let missing: Vec<&String> = truth.difference(&got).collect();
    eprintln!(
        "node 2 killed after {threshold} documents: job {:?}, {} of {} indexed, {} retries, errors {:?}",
        job.status,
        got.len(),
        truth.len(),
        job.counters.retries,
        job.errors
    );
    if missing.is_empty() {
        assert_eq!(got, truth);
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    } else {
        assert_ne!(job.status, JobStatus::Completed);
        for id in &missing {
            assert!(
                job.errors
                    .iter()
                    .any(|e| e.context == format!("document {id}")
                        || e.message.contains(id.as_str())),
                "{id} is missing and no error names it: {:?}",
                job.errors
            );
        }
    }
    // One node left: the primaries are all on it, the replicas wait for a second node.
    let yellow = health(&url, &index, "yellow").await;
    assert_eq!(yellow["status"], "yellow", "{yellow}");

    // Node 2 comes back and gets its copies again; nothing was lost meanwhile.
    let restarted = tokio::task::spawn_blocking(|| script(&["start-node", "2"]));
    assert!(restarted.await.unwrap(), "node 2 could not be restarted");
    let green = health(&url, &index, "green").await;
    assert_eq!(green["status"], "green", "{green}");
    assert_eq!(es.count().await.unwrap(), got.len() as u64);
    es.delete_index().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_blocks_index_creation_fails_the_sync_in_admin_words() {
    let Some(url) = cluster_url() else { return };
    let _serial = SERIAL.lock().await;
    let sandbox = Sandbox::start(SimOptions {
        flavor: Flavor::Server,
        size: SiteSize::Tiny,
        seed: 11,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    // What a cluster whose nodes passed the high disk watermark does (Elasticsearch sets it
    // itself; here through the settings API), put back whatever happens.
    let _unblock = Unblock {
        url: url.clone(),
        path: "/_cluster/settings".into(),
        body: json!({ "persistent": { "cluster.blocks.create_index": null } }),
    };
    let set = node(
        reqwest::Method::PUT,
        &url,
        "/_cluster/settings",
        Some(json!({ "persistent": { "cluster.blocks.create_index": true } })),
    )
    .await;
    assert_eq!(set["acknowledged"], true, "{set}");

    let mut options = EsOptions::new(&url, unique_index("it-noindex"));
    let es = Arc::new(EsSink::new(&options).unwrap());
    let err = es.prepare().await.unwrap_err().to_string();
    assert!(
        err.contains("refuses to create indices") && err.contains("high disk watermark"),
        "{err}"
    );

    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let sync = |es: Arc<EsSink>| {
        Job::new(
            JobType::Full,
            sandbox.config.clone(),
            sandbox.secrets.clone(),
            es,
            store.clone(),
        )
        .with_options(SyncOptions {
            work_dir: work.path().to_owned(),
            ..SyncOptions::default()
        })
        .run()
    };
    let job = sync(es.clone()).await.unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.errors[0].message.contains("disk is nearly full")
            && job.errors[0].message.contains("Free disk space")
            && job.errors[0].message.contains("run the sync again"),
        "{:?}",
        job.errors
    );

    // With the alias swap, the fresh index cannot be created either: same words.
    options.alias_swap = true;
    let job = sync(Arc::new(EsSink::new(&options).unwrap()))
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.errors[0].message.contains("refuses to create indices"),
        "{:?}",
        job.errors
    );
    drop(_unblock);
    let settings = node(reqwest::Method::GET, &url, "/_cluster/settings", None).await;
    assert!(
        settings["persistent"]["cluster"]["blocks"].is_null(),
        "the block was put back: {settings}"
    );
    sandbox.shutdown().await;
}

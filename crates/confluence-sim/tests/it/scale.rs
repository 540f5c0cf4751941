//! A 100 000-document site: modest memory and millisecond listings.

use std::time::{Duration, Instant};

use confluence_sim::{Flavor, SimOptions, SiteSize};

use crate::client::{Client, enc};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_100k_document_site_serves_with_modest_memory() {
    let before = rss_kib();
    let size = SiteSize::Custom {
        spaces: 20,
        pages_per_space: 1900,
        blogposts_per_space: 200,
        attachments_per_page: 0.7,
        comments_per_page: 0.6,
        users: 500,
        groups: 20,
    };
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::Cloud,
        size,
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let docs = sim.document_count();
    let grown = rss_kib().saturating_sub(before);
    let model = sim.model_bytes();
    eprintln!(
        "100k site: {docs} documents, model {} MiB, RSS growth {} MiB",
        model >> 20,
        grown >> 10
    );
    assert!(docs >= 100_000, "{docs}");
    assert!(model < 64 << 20, "model {model} bytes");
    assert!(grown < 256 << 10, "RSS grew by {grown} KiB");

    let c = Client::for_sim(&sim);
    let cql = enc("space = ENG and type = page");
    let mut worst = Duration::ZERO;
    for path in [
        "/space?limit=100".to_owned(),
        format!("/content/search?cql={cql}&limit=50"),
        format!("/content/search?cql={cql}&limit=50&expand=body.storage,ancestors,version"),
    ] {
        let _ = c.api(&path).await;
        let t = Instant::now();
        let (s, _) = c.api(&path).await;
        let e = t.elapsed();
        eprintln!("{path}: {e:?}");
        assert_eq!(s, 200);
        worst = worst.max(e);
    }
    // Debug builds are ~10x slower than release; this still has to answer quickly.
    assert!(worst < Duration::from_millis(1500), "{worst:?}");
    sim.shutdown().await;
}

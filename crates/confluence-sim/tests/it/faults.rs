//! Each fault mode.

use std::time::{Duration, Instant};

use confluence_sim::{FaultPlan, Flavor, Latency, SimOptions, SiteSize};

use crate::client::{Client, start};

async fn with_plan(spec: &str) -> confluence_sim::RunningSim {
    let faults: FaultPlan = spec.parse().expect("plan");
    confluence_sim::start(SimOptions {
        faults,
        ..SimOptions::default()
    })
    .await
    .expect("start")
}

#[tokio::test]
async fn rate_limits_with_and_without_retry_after() {
    let sim = with_plan("429=1,retry-after=3").await;
    let c = Client::for_sim(&sim);
    let r = c.raw(&format!("{}/rest/api/space", c.base)).await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|h| h.to_str().ok()),
        Some("3")
    );
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("Rate limit exceeded")
    );
    // Admin routes are never faulted.
    let info = c
        .http
        .get(format!("{}/__sim/info", c.host))
        .send()
        .await
        .expect("info");
    assert_eq!(info.status().as_u16(), 200);
    sim.admin()
        .set_fault_plan("429=1,retry-after=none".parse().expect("plan"));
    let r = c.raw(&format!("{}/rest/api/space", c.base)).await;
    assert_eq!(r.status().as_u16(), 429);
    assert!(!r.headers().contains_key("retry-after"));
    sim.admin().clear_faults();
    assert_eq!(c.api("/space").await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_headers_and_rps_budget() {
    let sim = with_plan("headers,rps=5").await;
    let c = Client::for_sim(&sim);
    let r = c.raw(&format!("{}/rest/api/space", c.base)).await;
    assert_eq!(
        r.headers()
            .get("x-ratelimit-limit")
            .and_then(|h| h.to_str().ok()),
        Some("5")
    );
    assert!(r.headers().contains_key("x-ratelimit-nearlimit"));
    let mut limited = 0;
    for _ in 0..20 {
        if c.api("/space").await.0 == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 10, "{limited}");
    sim.shutdown().await;
}

#[tokio::test]
async fn error_bursts_are_deterministic() {
    async fn statuses() -> Vec<u16> {
        let sim = with_plan("5xx=0.2,burst=2").await;
        let c = Client::for_sim(&sim);
        let mut out = Vec::new();
        for _ in 0..40 {
            out.push(c.api("/space").await.0);
        }
        sim.shutdown().await;
        out
    }
    let a = statuses().await;
    assert_eq!(a, statuses().await);
    assert!(a.iter().any(|&s| s >= 500), "{a:?}");
    assert!(a.contains(&200), "{a:?}");
    assert!(a.iter().all(|s| matches!(s, 200 | 500 | 502 | 503 | 504)));
}

#[tokio::test]
async fn rules_fail_matching_requests_after_successes() {
    let sim = start(Flavor::Server, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    sim.admin()
        .fail_requests_matching_times("/rest/api/space", 503, 1, Some(2));
    assert_eq!(c.api("/space").await.0, 200);
    assert_eq!(c.api("/space").await.0, 503);
    assert_eq!(c.api("/space").await.0, 503);
    assert_eq!(c.api("/space").await.0, 200);
    assert_eq!(c.api("/user/current").await.0, 200);
    sim.admin().fail_requests_matching("/rest/api/space", 0, 0);
    let err = c
        .http
        .get(format!("{}/rest/api/space", c.base))
        .header("authorization", c.auth.clone().unwrap_or_default())
        .send()
        .await;
    assert!(err.is_err(), "connection reset expected");
    sim.admin().clear_faults();
    assert_eq!(c.api("/space").await.0, 200);
    assert!(sim.request_count() >= 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_and_slow_bodies() {
    let sim = with_plan("truncate=1").await;
    let c = Client::for_sim(&sim);
    let r = c
        .raw(&format!(
            "{}/rest/api/space?expand=description.plain",
            c.base
        ))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.bytes().await.is_err(),
        "a truncated body must fail to read"
    );
    sim.admin()
        .set_fault_plan("slow=1,slow-delay=40ms".parse().expect("plan"));
    let t = Instant::now();
    let (s, _) = c.api("/space").await;
    assert_eq!(s, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_per_request() {
    let sim = confluence_sim::start(SimOptions {
        latency: Some(Latency::Fixed(Duration::from_millis(60))),
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let c = Client::for_sim(&sim);
    let t = Instant::now();
    assert_eq!(c.api("/space").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(60));
    sim.admin()
        .set_latency(Some("1ms..3ms".parse().expect("latency")));
    let t = Instant::now();
    assert_eq!(c.api("/space").await.0, 200);
    assert!(t.elapsed() < Duration::from_millis(60));
    sim.shutdown().await;
}

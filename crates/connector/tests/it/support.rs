//! Shared helpers for the whole-flow tests.

/// The URL of the real search node, or `None` when it is not running.
///
/// `tests/run-all.sh` starts the node and sets `REQUIRE_SEARCH_NODE=1`, so in CI a missing node
/// fails the test instead of letting it pass without having talked to anything.
pub fn search_url() -> Option<String> {
    match std::env::var("SEARCH_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("REQUIRE_SEARCH_NODE").is_some() => {
            panic!("REQUIRE_SEARCH_NODE is set but SEARCH_URL is not: start tests/search-node.sh")
        }
        _ => {
            eprintln!("SEARCH_URL is not set: run this test through tests/run-all.sh");
            None
        }
    }
}

/// Requests the simulator served since its counts were last reset, to the endpoints (method
/// and route pattern, e.g. `GET /rest/api/content/{id}/child/comment`) that `endpoint` picks.
pub fn requests_to(sandbox: &connector_sandbox::Sandbox, endpoint: impl Fn(&str) -> bool) -> u64 {
    sandbox
        .sim
        .admin()
        .request_counts()
        .iter()
        .filter(|(e, _)| endpoint(e))
        .map(|(_, count)| count.requests)
        .sum()
}

/// A fresh index name, unique within this test run.
pub fn unique_index(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Every document of the index, refreshed first: id -> source.
pub async fn indexed<S: connector::sink::Sink>(
    sink: &S,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    use connector::sink::SearchRequest;
    sink.refresh().await.unwrap();
    let total = sink.count().await.unwrap() as usize;
    let page = sink
        .search(&SearchRequest {
            size: total.max(1),
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    page.hits.into_iter().map(|h| (h.id, h.source)).collect()
}

/// Runs one job of `kind` to its end with no events and returns its record.
pub async fn run_job<S: connector::sink::Sink + connector::acl::AclStore + 'static>(
    kind: connector::JobType,
    config: &connector::config::ConnectorConfig,
    secrets: &connector::config::Secrets,
    sink: &std::sync::Arc<S>,
    store: &std::sync::Arc<std::sync::Mutex<connector::Store>>,
    options: connector::sync::SyncOptions,
) -> connector::Result<connector::JobRecord> {
    connector::sync::Job::new(
        kind,
        config.clone(),
        secrets.clone(),
        sink.clone(),
        store.clone(),
    )
    .with_options(options)
    .run()
    .await
}

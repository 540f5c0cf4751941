//! The Elasticsearch sink's retries, against a fake cluster that answers 429 and 5xx on cue: a
//! real node cannot be made to refuse on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{head, post};
use connector::sink::{EsOptions, EsSink, IndexDoc, RetryPolicy, Sink};
use serde_json::{Value, json};

/// What the fake `_bulk` endpoint answers to its n-th call (0-based).
type Script = fn(usize, &str) -> (StatusCode, Value);

#[derive(Clone)]
struct Fake {
    calls: Arc<AtomicUsize>,
    script: Script,
}

async fn bulk(State(fake): State<Fake>, body: String) -> (StatusCode, axum::Json<Value>) {
    let call = fake.calls.fetch_add(1, Ordering::SeqCst);
    let (status, answer) = (fake.script)(call, &body);
    (status, axum::Json(answer))
}

/// Starts the fake cluster and returns a sink on it and its `_bulk` call counter.
async fn fake_cluster(script: Script) -> (EsSink, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/_bulk", post(bulk))
        .route("/{index}", head(|| async { StatusCode::OK }))
        .with_state(Fake {
            calls: Arc::clone(&calls),
            script,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut options = EsOptions::new(url, "fake");
    options.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    (EsSink::new(&options).unwrap(), calls)
}

fn docs(ids: &[&str]) -> Vec<IndexDoc> {
    ids.iter()
        .map(|id| IndexDoc {
            id: id.to_string(),
            space_key: None,
            timestamp: "2026-11-01T10:00:00Z".into(),
            source: json!({ "title": id }),
        })
        .collect()
}

fn item(id: &str, status: u16, result: Option<&str>) -> Value {
    match result {
        Some(result) => json!({ "index": { "_id": id, "status": status, "result": result } }),
        None => json!({ "index": { "_id": id, "status": status, "error": {
            "type": "es_rejected_execution_exception", "reason": "queue full" } } }),
    }
}

#[tokio::test]
async fn a_429_request_and_rejected_items_are_retried_until_they_pass() {
    let (sink, calls) = fake_cluster(|call, body| match call {
        0 => (StatusCode::TOO_MANY_REQUESTS, json!({ "error": "slow down" })),
        1 => {
            assert_eq!(body.lines().count(), 4, "both documents are sent");
            (StatusCode::OK, json!({ "errors": true, "items": [item("a", 429, None), item("b", 201, Some("created"))] }))
        }
        _ => {
            assert!(body.contains("\"a\"") && !body.contains("\"b\""), "only the rejected item again: {body}");
            (StatusCode::OK, json!({ "errors": false, "items": [item("a", 200, Some("updated"))] }))
        }
    })
    .await;
    let outcome = sink.write(docs(&["a", "b"])).await.unwrap();
    assert_eq!((outcome.created, outcome.updated), (1, 1));
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_cluster_that_keeps_failing_is_given_up_on_after_the_last_attempt() {
    let (sink, calls) = fake_cluster(|_, _| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": {
            "type": "cluster_block_exception", "reason": "no master" } }),
        )
    })
    .await;
    let err = sink.write(docs(&["a"])).await.unwrap_err().to_string();
    assert!(err.contains("503") && err.contains("no master"), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn items_still_rejected_after_the_last_attempt_and_mapping_errors_are_failures() {
    let (sink, calls) = fake_cluster(|call, _| match call {
        0 => (
            StatusCode::OK,
            json!({ "errors": true, "items": [
            item("a", 429, None),
            { "index": { "_id": "b", "status": 400, "error": {
                "type": "mapper_parsing_exception", "reason": "failed to parse field [size]" } } }
        ] }),
        ),
        _ => (
            StatusCode::OK,
            json!({ "errors": true, "items": [item("a", 429, None)] }),
        ),
    })
    .await;
    let outcome = sink.write(docs(&["a", "b"])).await.unwrap();
    assert_eq!(outcome.created + outcome.updated, 0);
    let mut failed: Vec<_> = outcome
        .failed
        .iter()
        .map(|e| (e.id.as_str(), e.status, e.reason.as_str()))
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            (
                "a",
                Some(429),
                "es_rejected_execution_exception: queue full"
            ),
            (
                "b",
                Some(400),
                "mapper_parsing_exception: failed to parse field [size]"
            ),
        ]
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "the 400 item is never sent again"
    );
}

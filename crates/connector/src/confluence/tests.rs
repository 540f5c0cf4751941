//! Client tests against tiny local HTTP servers (axum on 127.0.0.1, port 0).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::*;

#[derive(Default)]
struct Hits {
    count: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    times: std::sync::Mutex<Vec<(Instant, u16)>>,
    uris: std::sync::Mutex<Vec<String>>,
}

impl Hits {
    fn record(&self, uri: &Uri) -> usize {
        self.uris.lock().unwrap().push(uri.to_string());
        self.count.fetch_add(1, Ordering::SeqCst)
    }
    fn n(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

type Shared = Arc<Hits>;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn fast_options(retry_count: u32) -> ClientOptions {
    ClientOptions {
        retry_count,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        default_retry_after: Duration::from_millis(50),
        near_limit_pause: Duration::from_millis(30),
        request_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

fn client(flavor: Flavor, base: &str, opts: ClientOptions) -> ConfluenceClient {
    ConfluenceClient::new(flavor, base, Credentials::Anonymous, opts).unwrap()
}

fn status_route(status: StatusCode, hits: Shared) -> Router {
    Router::new()
        .route(
            "/rest/api/space",
            get(move |State(h): State<Shared>, uri: Uri| async move {
                h.record(&uri);
                (
                    status,
                    r#"{"statusCode":400,"message":"Could not parse cql : x"}"#,
                )
            }),
        )
        .with_state(hits)
}

#[tokio::test]
async fn retry_count_is_honoured_exactly() {
    for retry_count in [0u32, 2, 4] {
        let hits = Shared::default();
        let base = serve(status_route(StatusCode::SERVICE_UNAVAILABLE, hits.clone())).await;
        let c = client(Flavor::Server, &base, fast_options(retry_count));
        let err = c.ping().await.unwrap_err();
        assert_eq!(hits.n(), retry_count as usize + 1);
        assert!(
            matches!(err, ClientError::Server { status: 503, attempts, .. } if attempts == retry_count + 1),
            "{err}"
        );
        assert_eq!(c.stats().retries, u64::from(retry_count));
        assert_eq!(c.stats().requests, u64::from(retry_count) + 1);
    }
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for (status, check) in [
        (StatusCode::UNAUTHORIZED, "401"),
        (StatusCode::FORBIDDEN, "403"),
        (StatusCode::NOT_FOUND, "404"),
        (StatusCode::BAD_REQUEST, "Could not parse cql"),
    ] {
        let hits = Shared::default();
        let base = serve(status_route(status, hits.clone())).await;
        let c = client(Flavor::Server, &base, fast_options(3));
        let err = c.ping().await.unwrap_err();
        assert_eq!(hits.n(), 1, "{status} must not be retried");
        assert_eq!(err.status(), Some(status.as_u16()));
        assert!(err.to_string().contains(check), "{err}");
    }
}

#[tokio::test]
async fn transient_failures_and_truncated_json_are_retried_with_backoff() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                match h.record(&uri) {
                    0 => (StatusCode::BAD_GATEWAY, String::new()),
                    1 => (StatusCode::OK, r#"{"results": [{"key": "A"#.to_string()),
                    _ => (StatusCode::OK, r#"{"results": []}"#.to_string()),
                }
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let mut opts = fast_options(3);
    opts.backoff_base = Duration::from_millis(40);
    opts.backoff_max = Duration::from_millis(200);
    let c = client(Flavor::Server, &base, opts);
    let start = Instant::now();
    c.ping().await.unwrap();
    let stats = c.stats();
    assert_eq!(hits.n(), 3);
    assert_eq!(stats.retries, 2);
    assert!(start.elapsed() >= Duration::from_millis(stats.backoff_wait_ms));
}

#[tokio::test]
async fn retry_after_pauses_every_request_of_the_client() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                let n = h.record(&uri);
                let status = if n == 0 { 429 } else { 200 };
                h.times.lock().unwrap().push((Instant::now(), status));
                if n == 0 {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "{}").into_response()
                } else {
                    (StatusCode::OK, r#"{"results": []}"#).into_response()
                }
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(3));
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.ping().await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let others: Vec<_> = (0..3)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.ping().await })
        })
        .collect();
    first.await.unwrap().unwrap();
    for o in others {
        o.await.unwrap().unwrap();
    }
    let times = hits.times.lock().unwrap().clone();
    let (t429, _) = times.iter().find(|(_, s)| *s == 429).copied().unwrap();
    assert_eq!(times.len(), 5);
    for (t, _) in times.iter().filter(|(_, s)| *s == 200) {
        assert!(
            *t >= t429 + Duration::from_millis(950),
            "a request went out {:?} after the 429",
            *t - t429
        );
    }
    let stats = c.stats();
    assert_eq!(stats.rate_limited, 1);
    assert!(stats.rate_limit_wait_ms >= 900, "{stats:?}");
}

#[tokio::test]
async fn rate_limited_until_retries_run_out() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                h.record(&uri);
                StatusCode::TOO_MANY_REQUESTS // no Retry-After: default wait
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(2));
    let err = c.ping().await.unwrap_err();
    assert!(
        matches!(err, ClientError::RateLimited { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(hits.n(), 3);
}

#[tokio::test]
async fn near_limit_slows_everyone_down() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                h.record(&uri);
                ([("x-ratelimit-nearlimit", "true")], r#"{"results": []}"#)
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(0));
    let start = Instant::now();
    c.ping().await.unwrap();
    c.ping().await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(c.stats().near_limit, 2);
}

#[tokio::test]
async fn concurrency_is_limited_globally() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                h.record(&uri);
                let now = h.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                h.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(60)).await;
                h.in_flight.fetch_sub(1, Ordering::SeqCst);
                r#"{"results": []}"#
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let mut opts = fast_options(0);
    opts.max_concurrency = 2;
    let c = client(Flavor::Server, &base, opts);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.ping().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(hits.n(), 6);
    assert_eq!(hits.max_in_flight.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn requests_per_second_cap_paces_requests() {
    let hits = Shared::default();
    let base = serve(status_route(StatusCode::OK, hits.clone())).await;
    let mut opts = fast_options(0);
    opts.requests_per_second = Some(20.0);
    let c = client(Flavor::Server, &base, opts);
    let start = Instant::now();
    for _ in 0..5 {
        let _ = c.ping().await;
    }
    assert!(
        start.elapsed() >= Duration::from_millis(190),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn auth_headers_basic_and_bearer() {
    let router = Router::new().route(
        "/rest/api/space",
        get(|headers: HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let accept = headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            axum::Json(json!({"auth": auth, "accept": accept}))
        }),
    );
    let base = serve(router).await;
    let basic = ConfluenceClient::new(
        Flavor::Server,
        &base,
        Credentials::Basic {
            username: "u".into(),
            password: "p".into(),
        },
        fast_options(0),
    )
    .unwrap();
    let url = basic.api_url("rest/api/space", &[], &[]).unwrap();
    let v = basic.get_value(&url).await.unwrap();
    assert_eq!(v["auth"], "Basic dTpw");
    assert_eq!(v["accept"], "application/json");
    let bearer = ConfluenceClient::new(
        Flavor::DataCenter,
        &base,
        Credentials::Bearer {
            token: "tok".into(),
        },
        fast_options(0),
    )
    .unwrap();
    let v = bearer.get_value(&url).await.unwrap();
    assert_eq!(v["auth"], "Bearer tok");
}

/// A Data Center site under `/confluence` whose space listing has 2 pages linked by a
/// relative `next`; the second page 500s when `fail` is set.
fn dc_spaces(hits: Shared, fail: bool) -> Router {
    Router::new()
        .route(
            "/confluence/rest/api/space",
            get(
                move |State(h): State<Shared>,
                      uri: Uri,
                      headers: HeaderMap,
                      Query(q): Query<HashMap<String, String>>| async move {
                    h.record(&uri);
                    let host = headers
                        .get("host")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let base = format!("http://{host}/confluence");
                    match q.get("start").map(String::as_str) {
                        None | Some("0") => axum::Json(json!({
                            "results": [{"id": 1, "key": "A"}, {"id": 2, "key": "B"}],
                            "start": 0, "limit": 2, "size": 2,
                            "_links": {"base": base, "context": "/confluence",
                                       "next": "/rest/api/space?limit=2&start=2"}
                        }))
                        .into_response(),
                        Some("2") if fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                        Some("2") => axum::Json(json!({
                            "results": [{"id": 3, "key": "C"}],
                            "start": 2, "limit": 2, "size": 1,
                            "_links": {"base": base, "context": "/confluence"}
                        }))
                        .into_response(),
                        _ => StatusCode::BAD_REQUEST.into_response(),
                    }
                },
            ),
        )
        .with_state(hits)
}

#[tokio::test]
async fn pagination_follows_relative_next_links_with_a_context_path() {
    let hits = Shared::default();
    let base = serve(dc_spaces(hits.clone(), false)).await;
    let c = client(
        Flavor::DataCenter,
        &format!("{base}/confluence"),
        fast_options(0),
    );
    let spaces: Vec<Space> = c
        .spaces()
        .unwrap()
        .into_stream()
        .map(|r| r.unwrap())
        .collect()
        .await;
    let keys: Vec<_> = spaces.iter().map(|s| s.key.clone().unwrap()).collect();
    assert_eq!(keys, ["A", "B", "C"]);
    assert_eq!(spaces[0].id.as_deref(), Some("1"));
    let uris = hits.uris.lock().unwrap().clone();
    assert_eq!(
        uris,
        [
            "/confluence/rest/api/space?limit=100&expand=description.plain",
            "/confluence/rest/api/space?limit=2&start=2"
        ]
    );
}

#[tokio::test]
async fn a_failed_page_is_an_error_not_a_short_listing() {
    let hits = Shared::default();
    let base = serve(dc_spaces(hits.clone(), true)).await;
    let c = client(
        Flavor::DataCenter,
        &format!("{base}/confluence"),
        fast_options(1),
    );
    let items: Vec<Result<Space, ClientError>> = c.spaces().unwrap().into_stream().collect().await;
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_ok());
    assert!(matches!(
        items[2],
        Err(ClientError::Server {
            status: 500,
            attempts: 2,
            ..
        })
    ));
    // With next_page, the pager keeps its place: asking again retries the failed page.
    let mut pager = c.spaces().unwrap();
    assert_eq!(pager.next_page().await.unwrap().unwrap().results.len(), 2);
    assert!(pager.next_page().await.is_err());
    assert!(!pager.is_done());
    assert!(pager.next_page().await.is_err());
}

#[tokio::test]
async fn cloud_cursor_pagination_and_cql_encoding() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/wiki/rest/api/content/search",
            get(
                |State(h): State<Shared>, uri: Uri, headers: HeaderMap, Query(q): Query<HashMap<String, String>>| async move {
                    h.record(&uri);
                    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let page = if q.contains_key("cursor") { 2 } else { 1 };
                    let mut body = json!({
                        "results": [{"id": format!("{page}"), "type": "page", "title": q.get("cql").cloned()}],
                        "_links": {"base": format!("http://{host}/wiki"), "context": "/wiki"}
                    });
                    if page == 1 {
                        body["_links"]["next"] = json!("/rest/api/content/search?next=true&cursor=_f_MjU%3D&limit=50&cql=x");
                    }
                    axum::Json(body)
                },
            ),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Cloud, &base, fast_options(0));
    let cql = r#"title = "R&D #1 100%" and space = "ENG""#;
    let items: Vec<Content> = c
        .content_search(cql)
        .unwrap()
        .into_stream()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    // The server decoded exactly the CQL that was sent.
    assert_eq!(items[0].title.as_deref(), Some(cql));
    let uris = hits.uris.lock().unwrap().clone();
    assert!(uris[0].contains("R%26D+%231+100%25"), "{}", uris[0]);
    assert!(
        uris[0].contains("space.permissions"),
        "Cloud expands space permissions"
    );
    assert_eq!(
        uris[1],
        "/wiki/rest/api/content/search?next=true&cursor=_f_MjU%3D&limit=50&cql=x"
    );
}

#[tokio::test]
async fn data_center_content_search_uses_offsets_and_no_space_permissions() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/content/search",
            get(|State(h): State<Shared>, uri: Uri, Query(q): Query<HashMap<String, String>>| async move {
                h.record(&uri);
                let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
                let total = 120;
                let rows: Vec<Value> = (start..(start + 50).min(total))
                    .map(|i| json!({"id": i.to_string(), "type": "page"}))
                    .collect();
                // No `next` links at all, as on some DC versions.
                axum::Json(json!({"results": rows, "start": start, "limit": 50, "size": rows.len(), "totalSize": total}))
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::DataCenter, &base, fast_options(0));
    let pager = c.content_in_space("ENG", ContentType::BlogPost).unwrap();
    let items = pager.collect_all().await.unwrap();
    assert_eq!(items.len(), 120);
    assert_eq!(items[119].id.as_deref(), Some("119"));
    let uris = hits.uris.lock().unwrap().clone();
    assert_eq!(uris.len(), 3);
    assert!(!uris[0].contains("space.permissions"));
    assert!(uris[0].contains("type+%3D+blogpost"), "{}", uris[0]);
    assert!(uris[2].ends_with("start=100"), "{}", uris[2]);
}

#[tokio::test]
async fn restrictions_404_is_none_and_labels_are_paged() {
    let router = Router::new()
        .route(
            "/rest/api/content/{id}/restriction/byOperation/read",
            get(|axum::extract::Path(id): axum::extract::Path<String>| async move {
                if id == "gone" {
                    StatusCode::NOT_FOUND.into_response()
                } else {
                    axum::Json(json!({"operation": "read", "restrictions": {
                        "user": {"results": [{"type": "known", "username": "ann"}], "size": 1},
                        "group": {"results": [], "size": 0}}}))
                    .into_response()
                }
            }),
        )
        .route(
            "/rest/api/content/{id}/label",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                if q.contains_key("start") {
                    axum::Json(json!({"results": [{"name": "c"}]}))
                } else {
                    axum::Json(json!({"results": [{"name": "a"}, {"name": "b"}],
                                      "_links": {"next": "/rest/api/content/1/label?limit=200&start=2"}}))
                }
            }),
        );
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(0));
    assert_eq!(c.read_restrictions("gone").await.unwrap(), None);
    let r = c.read_restrictions("1").await.unwrap().unwrap();
    assert_eq!(r.users()[0].username.as_deref(), Some("ann"));
    let labels = c.labels("1").unwrap().collect_all().await.unwrap();
    let names: Vec<_> = labels.iter().filter_map(|l| l.name.clone()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[tokio::test]
async fn downloads_stream_and_respect_the_cap() {
    let router = Router::new().route(
        "/wiki/download/attachments/1/{name}",
        get(
            |axum::extract::Path(name): axum::extract::Path<String>| async move {
                let body = vec![b'x'; if name == "big.bin" { 100 } else { 10 }];
                Response::new(axum::body::Body::from(body))
            },
        ),
    );
    let base = serve(router).await;
    let mut opts = fast_options(0);
    opts.max_download_bytes = 50;
    let c = client(Flavor::Cloud, &base, opts);
    let d = c
        .download("/download/attachments/1/small.bin?version=1&api=v2")
        .await
        .unwrap();
    assert_eq!(d.content_length, Some(10));
    assert_eq!(d.bytes().await.unwrap(), vec![b'x'; 10]);
    let err = c
        .download("/download/attachments/1/big.bin")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::TooLarge { limit: 50, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn timeouts_are_typed_and_retried() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                h.record(&uri);
                tokio::time::sleep(Duration::from_millis(500)).await;
                "{}"
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let mut opts = fast_options(1);
    opts.request_timeout = Duration::from_millis(100);
    let c = client(Flavor::Server, &base, opts);
    let err = c.ping().await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
    assert_eq!(hits.n(), 2);
}

#[tokio::test]
async fn from_config_builds_cloud_basic_auth() {
    use crate::config::{ConnectorConfig, DataSource, SecretField, Secrets};
    let cfg = ConnectorConfig {
        data_source: DataSource::ConfluenceCloud,
        account_email: "ann@example.com".into(),
        confluence_url: "https://acme.atlassian.net".into(),
        retry_count: 7,
        ..Default::default()
    };
    let missing = ConfluenceClient::from_config(&cfg, &Secrets::new()).unwrap_err();
    assert!(
        missing.to_string().contains("CONFLUENCE_API_TOKEN"),
        "{missing}"
    );
    let c = ConfluenceClient::from_config(&cfg, &Secrets::new().with(SecretField::ApiToken, "t"))
        .unwrap();
    assert_eq!(c.api_base().as_str(), "https://acme.atlassian.net/wiki/");
    assert_eq!(c.options().retry_count, 7);
    assert!(!c.options().danger_accept_invalid_certs);
}

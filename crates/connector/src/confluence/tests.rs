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
        rate_limit_backoff_base: Duration::from_millis(50),
        rate_limit_backoff_max: Duration::from_millis(100),
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

/// A Data Center token bucket: `LIMIT` tokens, refilled at `FILL` a second; every answer says
/// how many are left, an empty bucket answers 429.
#[tokio::test]
async fn a_token_bucket_is_paced_from_its_headers_before_it_refuses() {
    const LIMIT: f64 = 10.0;
    const FILL: f64 = 20.0;
    struct Bucket {
        tokens: f64,
        at: Instant,
        refused: usize,
    }
    let bucket = Arc::new(std::sync::Mutex::new(Bucket {
        tokens: LIMIT,
        at: Instant::now(),
        refused: 0,
    }));
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(
                |State(b): State<Arc<std::sync::Mutex<Bucket>>>| async move {
                    let (ok, left) = {
                        let mut b = b.lock().unwrap();
                        let now = Instant::now();
                        b.tokens = (b.tokens + (now - b.at).as_secs_f64() * FILL).min(LIMIT);
                        b.at = now;
                        let ok = b.tokens >= 1.0;
                        if ok {
                            b.tokens -= 1.0;
                        } else {
                            b.refused += 1;
                        }
                        (ok, b.tokens.floor())
                    };
                    let headers = [
                        ("x-ratelimit-limit", LIMIT.to_string()),
                        ("x-ratelimit-remaining", left.to_string()),
                        ("x-ratelimit-fillrate", FILL.to_string()),
                        ("x-ratelimit-interval-seconds", "1".to_owned()),
                        ("retry-after", if ok { "0" } else { "1" }.to_owned()),
                    ];
                    let status = if ok {
                        StatusCode::OK
                    } else {
                        StatusCode::TOO_MANY_REQUESTS
                    };
                    (status, headers, r#"{"results": []}"#)
                },
            ),
        )
        .with_state(bucket.clone());
    let base = serve(router).await;
    let c = client(
        Flavor::DataCenter,
        &base,
        ClientOptions {
            max_concurrency: 8,
            ..fast_options(5)
        },
    );
    let start = Instant::now();
    let pings: Vec<_> = (0..40).map(|_| c.ping()).collect();
    for outcome in futures_util::future::join_all(pings).await {
        outcome.unwrap();
    }
    // 40 requests from a bucket of 10 refilled at 20/s take at least 1.5 s; the client slowed
    // down as the bucket emptied instead of running into it again and again.
    assert!(
        start.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        start.elapsed()
    );
    let refused = bucket.lock().unwrap().refused;
    assert!(refused <= 3, "{refused} requests refused: {:?}", c.stats());
    assert!(c.stats().near_limit > 0, "{:?}", c.stats());
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
async fn downloads_have_their_own_limit_beside_api_requests() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                // How many downloads were in flight when this API request was served.
                h.record(&uri);
                h.times
                    .lock()
                    .unwrap()
                    .push((Instant::now(), h.in_flight.load(Ordering::SeqCst) as u16));
                r#"{"results": []}"#
            }),
        )
        .route(
            "/download/attachments/1/{name}",
            get(|State(h): State<Shared>| async move {
                let now = h.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                h.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                h.in_flight.fetch_sub(1, Ordering::SeqCst);
                "file"
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let mut opts = fast_options(0);
    opts.max_concurrency = 1;
    opts.max_downloads = 3;
    let c = client(Flavor::Server, &base, opts);
    let downloads: Vec<_> = (0..6)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move {
                let d = c
                    .download(&format!("/download/attachments/1/f{i}.txt"))
                    .await?;
                d.bytes().await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.ping().await.unwrap();
    for d in downloads {
        assert_eq!(d.await.unwrap().unwrap(), b"file");
    }
    // Three downloads at once although one API request may run at a time, and the API
    // request did not wait for them.
    assert_eq!(hits.max_in_flight.load(Ordering::SeqCst), 3);
    let served_during = hits.times.lock().unwrap()[0].1;
    assert!(
        served_during > 0,
        "the API request waited for the downloads"
    );
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
        .space_pager()
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
    let items: Vec<Result<Space, ClientError>> =
        c.space_pager().unwrap().into_stream().collect().await;
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
    let mut pager = c.space_pager().unwrap();
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
async fn listings_ask_for_permissions_and_restrictions_only_with_access_control() {
    let hits = Shared::default();
    let search = get(|State(h): State<Shared>, uri: Uri| async move {
        h.record(&uri);
        axum::Json(json!({"results": [], "start": 0, "limit": 50, "size": 0}))
    });
    let router = Router::new()
        .route("/rest/api/content/search", search.clone())
        .route("/wiki/rest/api/content/search", search)
        .with_state(hits.clone());
    let base = serve(router).await;
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        for access_control in [false, true] {
            hits.uris.lock().unwrap().clear();
            let opts = ClientOptions {
                access_control,
                ..fast_options(0)
            };
            let c = client(flavor, &base, opts);
            c.content_in_space("ENG", ContentType::Page)
                .unwrap()
                .collect_all()
                .await
                .unwrap();
            c.content_by_ids(&["1".to_owned()])
                .unwrap()
                .collect_all()
                .await
                .unwrap();
            let uris = hits.uris.lock().unwrap().clone();
            assert_eq!(uris.len(), 2);
            for uri in &uris {
                assert!(uri.contains("body.storage"), "{uri}");
                assert_eq!(
                    uri.contains("restrictions.read.restrictions.user"),
                    access_control,
                    "{flavor:?} {uri}"
                );
                assert_eq!(
                    uri.contains("space.permissions"),
                    access_control && flavor == Flavor::Cloud,
                    "{flavor:?} {uri}"
                );
            }
        }
    }
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
    let host = base.trim_start_matches("http://");
    assert!(
        err.to_string()
            .starts_with(&format!("No answer from {host} within 0.1 s")),
        "{err}"
    );
    assert_eq!(hits.n(), 2);
    assert_eq!(c.stats().timeouts, 2);
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

// ---------------------------------------------------------------------------------------------
// Identity: who the client is signed in as.

/// A site whose `rest/api/user/current` (under `prefix`) answers `status` with `body`, and
/// `X-Seraph-LoginReason: reason` when given; `rest/api/space` answers one space with the
/// same header.
fn identity_site(
    prefix: &str,
    status: StatusCode,
    body: Value,
    reason: Option<&'static str>,
) -> Router {
    let with_reason = move |mut r: Response| {
        if let Some(reason) = reason {
            r.headers_mut()
                .insert("x-seraph-loginreason", reason.parse().unwrap());
        }
        r
    };
    Router::new()
        .route(
            &format!("{prefix}/rest/api/user/current"),
            get(move || async move { with_reason((status, axum::Json(body)).into_response()) }),
        )
        .route(
            &format!("{prefix}/rest/api/space"),
            get(move || async move {
                with_reason(
                    axum::Json(json!({"results": [{"id": 1, "key": "PUB"}], "size": 1}))
                        .into_response(),
                )
            }),
        )
}

fn anonymous_user() -> Value {
    json!({"type": "anonymous", "displayName": "Anonymous", "_links": {}})
}

fn basic(user: &str) -> Credentials {
    Credentials::Basic {
        username: user.into(),
        password: "pw".into(),
    }
}

fn pat() -> Credentials {
    Credentials::Bearer {
        token: "expired-pat".into(),
    }
}

async fn identity_of(
    flavor: Flavor,
    prefix: &str,
    credentials: Credentials,
    status: StatusCode,
    body: Value,
    reason: Option<&'static str>,
) -> Result<Identity, ClientError> {
    let base = serve(identity_site(prefix, status, body, reason)).await;
    let url = if flavor == Flavor::Cloud {
        base
    } else {
        format!("{base}{prefix}")
    };
    ConfluenceClient::new(flavor, &url, credentials, fast_options(0))
        .unwrap()
        .verify_identity()
        .await
}

#[tokio::test]
async fn a_refused_token_served_as_anonymous_is_an_error() {
    // Data Center with anonymous access: the refused PAT is answered as anonymous, marked only
    // in the header.
    let err = identity_of(
        Flavor::DataCenter,
        "/confluence",
        pat(),
        StatusCode::OK,
        anonymous_user(),
        Some("AUTHENTICATED_FAILED"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ClientError::CredentialsRefused { .. }),
        "{err}"
    );
    assert!(err.is_auth_failure());
    let text = err.to_string();
    assert!(
        text.starts_with("Confluence refused the personal access token (expired or revoked?)"),
        "{text}"
    );
    assert!(text.contains("CONFLUENCE_PAT"), "{text}");
    assert!(!text.contains("expired-pat"), "{text}");
    // The same without the header: the anonymous user itself gives it away.
    let err = identity_of(
        Flavor::DataCenter,
        "",
        pat(),
        StatusCode::OK,
        anonymous_user(),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ClientError::CredentialsRefused { .. }),
        "{err}"
    );
    // Cloud: `type: anonymous`.
    let err = identity_of(
        Flavor::Cloud,
        "/wiki",
        basic("ann@example.com"),
        StatusCode::OK,
        anonymous_user(),
        None,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("id.atlassian.com"), "{err}");
    // A 401 to the current-user endpoint: refused too, with the fix.
    let err = identity_of(
        Flavor::Server,
        "",
        basic("bob"),
        StatusCode::UNAUTHORIZED,
        json!({}),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ClientError::CredentialsRefused { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("CONFLUENCE_PASSWORD"), "{err}");
    // A CAPTCHA after failed logins says so.
    let err = identity_of(
        Flavor::DataCenter,
        "",
        basic("bob"),
        StatusCode::UNAUTHORIZED,
        json!({}),
        Some("AUTHENTICATION_DENIED"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("CAPTCHA"), "{err}");
}

#[tokio::test]
async fn another_account_than_configured_is_an_error() {
    let err = identity_of(
        Flavor::Server,
        "",
        basic("alice"),
        StatusCode::OK,
        json!({"type": "known", "username": "bob", "userKey": "k2", "displayName": "Bob"}),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ClientError::WrongAccount { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("signed in as Bob (bob), not the configured alice"),
        "{err}"
    );
    let err = identity_of(
        Flavor::Cloud,
        "/wiki",
        basic("ann@example.com"),
        StatusCode::OK,
        json!({"type": "known", "accountId": "557058:1", "email": "eve@example.com", "displayName": "Eve"}),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("not the configured ann@example.com"),
        "{err}"
    );
    // No user named at all: not confirmed.
    let err = identity_of(
        Flavor::Server,
        "",
        basic("alice"),
        StatusCode::OK,
        json!({"type": "known"}),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ClientError::Decode { .. }), "{err}");
}

#[tokio::test]
async fn the_configured_account_is_confirmed() {
    let id = identity_of(
        Flavor::Cloud,
        "/wiki",
        basic("Ann@Example.com"),
        StatusCode::OK,
        json!({"type": "known", "accountId": "557058:1", "email": "ann@example.com", "displayName": "Ann"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(id.describe(), "Ann (ann@example.com)");
    // Cloud hides the email by privacy settings: the account id is all there is.
    let id = identity_of(
        Flavor::Cloud,
        "/wiki",
        basic("ann@example.com"),
        StatusCode::OK,
        json!({"type": "known", "accountId": "557058:1", "email": "", "publicName": "ann"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(id.account_id.as_deref(), Some("557058:1"));
    // Data Center with a PAT: any signed-in user, under the context path.
    let id = identity_of(
        Flavor::DataCenter,
        "/confluence",
        pat(),
        StatusCode::OK,
        json!({"type": "known", "username": "crawler", "userKey": "k1"}),
        Some("OK"),
    )
    .await
    .unwrap();
    assert_eq!(id.describe(), "crawler");
    let id = identity_of(
        Flavor::Server,
        "",
        basic("Alice"),
        StatusCode::OK,
        json!({"type": "known", "username": "alice"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(id.username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn cloud_403_for_a_wrong_token_says_how_to_fix_it() {
    let body = json!({"statusCode": 403, "message": "com.atlassian.confluence.mvc.rest.common.exception.StacklessResponseStatusException: 403 FORBIDDEN \"Request rejected because caller cannot access Confluence\""});
    let err = identity_of(
        Flavor::Cloud,
        "/wiki",
        basic("ann@example.com"),
        StatusCode::FORBIDDEN,
        body,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ClientError::CloudLoginRefused { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("refused the email and API token"), "{text}");
    assert!(
        text.contains("https://id.atlassian.com/manage-profile/security/api-tokens"),
        "{text}"
    );
    assert_eq!(err.status(), Some(403));
}

#[tokio::test]
async fn a_login_refusal_on_any_response_fails_the_request() {
    // Mid-sync, the token expires: listings still answer 200, anonymously.
    let base = serve(identity_site(
        "",
        StatusCode::OK,
        json!({"type": "known", "username": "crawler"}),
        Some("AUTHENTICATED_FAILED"),
    ))
    .await;
    let c = ConfluenceClient::new(Flavor::DataCenter, &base, pat(), fast_options(2)).unwrap();
    let err = c.spaces().await.unwrap_err();
    assert!(
        matches!(err, ClientError::CredentialsRefused { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("AUTHENTICATED_FAILED"), "{err}");
    // Not retried: the answer will not change.
    assert_eq!(c.stats().requests, 1);
    // Without credentials the header means nothing to us.
    let anon = client(Flavor::DataCenter, &base, fast_options(0));
    assert_eq!(anon.spaces().await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Listings that end.

/// `GET rest/api/content/search` answered by `page(start, hits)`.
fn search_site<F>(hits: Shared, page: F) -> Router
where
    F: Fn(usize) -> Value + Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/rest/api/content/search",
            get(
                move |State(h): State<Shared>,
                      uri: Uri,
                      Query(q): Query<HashMap<String, String>>| {
                    let page = page.clone();
                    async move {
                        h.record(&uri);
                        let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
                        axum::Json(page(start))
                    }
                },
            ),
        )
        .with_state(hits)
}

fn rows(from: usize, to: usize) -> Vec<Value> {
    (from..to)
        .map(|i| json!({"id": i.to_string(), "type": "page"}))
        .collect()
}

#[tokio::test]
async fn a_server_that_ignores_start_ends_the_listing_with_an_error() {
    // Search: the same 50 results for every `start`, a `totalSize` far away, no `next`.
    let hits = Shared::default();
    let base = serve(search_site(
        hits.clone(),
        |_| json!({"results": rows(0, 50), "start": 0, "limit": 50, "size": 50, "totalSize": 1010}),
    ))
    .await;
    let c = client(Flavor::DataCenter, &base, fast_options(0));
    let mut pager = c.content_in_space("ENG", ContentType::Page).unwrap();
    assert_eq!(pager.next_page().await.unwrap().unwrap().results.len(), 50);
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, ClientError::RepeatedPage { .. }), "{err}");
    assert!(err.is_broken_listing());
    let text = err.to_string();
    assert!(
        text.starts_with("the server returned the same results again for http"),
        "{text}"
    );
    assert!(text.contains("/rest/api/content/search"), "{text}");
    assert!(text.contains("nothing it covers is deleted"), "{text}");
    // The listing stays failed: never an end that looks complete.
    assert!(!pager.is_done());
    assert!(matches!(
        pager.next_page().await,
        Err(ClientError::RepeatedPage { .. })
    ));
    assert_eq!(hits.n(), 2);

    // A collection that always links a `next` page but ignores `start`.
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/content/{id}/child/attachment",
            get(|State(h): State<Shared>, uri: Uri| async move {
                h.record(&uri);
                axum::Json(json!({
                    "results": [{"id": "att1", "type": "attachment"}, {"id": "att2", "type": "attachment"}],
                    "start": 0, "limit": 2, "size": 2,
                    "_links": {"next": "/rest/api/content/1/child/attachment?limit=2&start=2"}
                }))
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(0));
    let items: Vec<_> = c.attachments("1").unwrap().into_stream().collect().await;
    assert_eq!(items.len(), 3);
    assert!(matches!(items[2], Err(ClientError::RepeatedPage { .. })));
    assert_eq!(hits.n(), 2);
}

#[tokio::test]
async fn data_center_search_does_not_go_past_its_total_or_a_short_page() {
    // Full page, `next` given, but `totalSize` says that was all: no second request.
    let hits = Shared::default();
    let base = serve(search_site(hits.clone(), |start| {
        json!({"results": rows(start, start + 50), "start": start, "limit": 50, "size": 50,
               "totalSize": 50, "_links": {"next": "/rest/api/content/search?start=50"}})
    }))
    .await;
    let c = client(Flavor::DataCenter, &base, fast_options(0));
    let all = c
        .content_search("type = page")
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!((all.len(), hits.n()), (50, 1));

    // No `next`, no `totalSize`: a short page ends.
    let hits = Shared::default();
    let base = serve(search_site(hits.clone(), |start| {
        let end = (start + 50).min(60);
        json!({"results": rows(start, end), "start": start, "limit": 50, "size": end - start})
    }))
    .await;
    let c = client(Flavor::DataCenter, &base, fast_options(0));
    let all = c
        .content_search("type = page")
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!((all.len(), hits.n()), (60, 2));

    // The server clips `limit` to 25 and says so: 25 rows are a full page, not the end.
    let hits = Shared::default();
    let base = serve(search_site(hits.clone(), |start| {
        let end = (start + 25).min(60);
        json!({"results": rows(start, end), "start": start, "limit": 25, "size": end - start, "totalSize": 60})
    }))
    .await;
    let c = client(Flavor::DataCenter, &base, fast_options(0));
    let all = c
        .content_search("type = page")
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!((all.len(), hits.n()), (60, 3));
}

#[tokio::test]
async fn a_collection_without_next_links_loses_nothing() {
    // 250 spaces, 100 per page, `start` honoured, `_links.next` never sent.
    let hits = Shared::default();
    let router =
        Router::new()
            .route(
                "/rest/api/space",
                get(
                    |State(h): State<Shared>,
                     uri: Uri,
                     Query(q): Query<HashMap<String, String>>| async move {
                        h.record(&uri);
                        let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
                        let rows: Vec<Value> = (start..(start + 100).min(250))
                            .map(|i| json!({"id": i, "key": format!("S{i}")}))
                            .collect();
                        axum::Json(json!({"results": rows, "start": start, "size": rows.len()}))
                    },
                ),
            )
            .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(0));
    let spaces = c.spaces().await.unwrap();
    assert_eq!(spaces.len(), 250);
    assert_eq!(hits.n(), 3);
}

#[tokio::test]
async fn overlapping_pages_go_on_and_endless_cursors_are_capped() {
    // Results shifted by a deletion between pages: page 2 repeats one row, then new ones.
    let hits = Shared::default();
    let base = serve(search_site(hits.clone(), |start| {
        let from = if start == 0 { 0 } else { start - 1 };
        let end = (from + 50).min(80);
        json!({"results": rows(from, end), "start": start, "limit": 50, "size": end - from, "totalSize": 79})
    }))
    .await;
    let c = client(Flavor::DataCenter, &base, fast_options(0));
    let all = c
        .content_search("type = page")
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    // Every row arrives (one twice: the caller counts distinct ids).
    assert_eq!(all.len(), 81);
    let distinct: std::collections::HashSet<_> = all.iter().map(|c| c.id.clone()).collect();
    assert_eq!(distinct.len(), 80);
    assert_eq!(hits.n(), 2);

    // A Cloud cursor that never ends, every page new, while `totalSize` says 10.
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/wiki/rest/api/content/search",
            get(|State(h): State<Shared>, uri: Uri, Query(q): Query<HashMap<String, String>>| async move {
                let n = h.record(&uri);
                let _ = q;
                let rows: Vec<Value> = (n * 5..n * 5 + 5)
                    .map(|i| json!({"id": i.to_string(), "type": "page"}))
                    .collect();
                axum::Json(json!({
                    "results": rows, "limit": 5, "size": 5, "totalSize": 10,
                    "_links": {"next": format!("/rest/api/content/search?cursor=c{}&limit=5", n + 1)}
                }))
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Cloud, &base, fast_options(0));
    let items: Vec<_> = c
        .content_search("type = page")
        .unwrap()
        .into_stream()
        .collect()
        .await;
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::TooManyPages {
                total: Some(10),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("reported 10 results"), "{err}");
    // ceil(10 / 5) * 2 + 10 pages at most.
    assert_eq!(hits.n(), 14);
}

// ---------------------------------------------------------------------------------------------
// Waits that say so.

#[tokio::test]
async fn a_429_without_retry_after_backs_off_from_the_base_and_doubles() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                let n = h.record(&uri);
                h.times.lock().unwrap().push((Instant::now(), 0));
                if n < 3 {
                    StatusCode::TOO_MANY_REQUESTS.into_response()
                } else {
                    axum::Json(json!({"results": []})).into_response()
                }
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let mut opts = fast_options(3);
    opts.rate_limit_backoff_base = Duration::from_millis(100);
    opts.rate_limit_backoff_max = Duration::from_millis(250);
    let c = client(Flavor::Server, &base, opts);
    c.ping().await.unwrap();
    let times: Vec<Instant> = hits.times.lock().unwrap().iter().map(|t| t.0).collect();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // ~100 ms, ~200 ms, then the 250 ms cap (each within its jitter), not a flat long pause.
    assert!(
        gaps[0] >= Duration::from_millis(65) && gaps[0] < Duration::from_millis(200),
        "{gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(135) && gaps[1] < Duration::from_millis(320),
        "{gaps:?}"
    );
    assert!(
        gaps[2] >= Duration::from_millis(170) && gaps[2] < Duration::from_millis(340),
        "{gaps:?}"
    );
    let stats = c.stats();
    assert_eq!(stats.rate_limited, 3);
    // The wait is visible in the counters.
    assert!(stats.rate_limit_wait_ms >= 370, "{stats:?}");
    assert_eq!(stats.paused_ms, 0);
}

#[tokio::test]
async fn the_remaining_pause_is_visible_while_waiting() {
    let router = Router::new().route(
        "/rest/api/space",
        get(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "2")], "{}") }),
    );
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(1));
    let task = tokio::spawn({
        let c = c.clone();
        async move { c.ping().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paused = c.stats().paused_ms;
    assert!(paused > 1000 && paused <= 2000, "{paused}");
    task.abort();
}

#[tokio::test]
async fn a_host_that_never_answers_times_out_on_the_read_timeout() {
    // Accepts connections, never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut opts = fast_options(1);
    opts.read_timeout = Duration::from_millis(300);
    opts.request_timeout = Duration::from_secs(30);
    let c = client(Flavor::Server, &format!("http://{addr}"), opts);
    let start = Instant::now();
    let err = c.ping().await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.to_string()
            .starts_with(&format!("No answer from {addr} within 0.3 s")),
        "{err}"
    );
    assert_eq!(c.stats().timeouts, 2);
}

#[tokio::test]
async fn the_configured_timeouts_reach_the_client() {
    use crate::config::ConnectorConfig;
    let mut cfg = ConnectorConfig::default();
    cfg.http.connect_timeout_secs = 4;
    cfg.http.read_timeout_secs = 7;
    let opts = ClientOptions::from_config(&cfg);
    assert_eq!(opts.connect_timeout, Duration::from_secs(4));
    assert_eq!(opts.read_timeout, Duration::from_secs(7));
    assert_eq!(
        ClientOptions::default().rate_limit_backoff_base,
        Duration::from_secs(1)
    );
    assert_eq!(
        ClientOptions::default().rate_limit_backoff_max,
        Duration::from_secs(30)
    );
}

// ---------------------------------------------------------------------------------------------
// Answers that are not Confluence's.

#[tokio::test]
async fn html_with_200_is_named_and_not_retried() {
    let hits = Shared::default();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get(|State(h): State<Shared>, uri: Uri| async move {
                h.record(&uri);
                (
                    [("content-type", "text/html")],
                    "<!DOCTYPE html><html><body>Log in</body></html>",
                )
            }),
        )
        .with_state(hits.clone());
    let base = serve(router).await;
    let c = client(Flavor::Server, &base, fast_options(3));
    let err = c.ping().await.unwrap_err();
    assert!(
        err.to_string().contains("HTML page instead of JSON"),
        "{err}"
    );
    // A login page answers the same every time: not retried.
    assert_eq!(hits.n(), 1);
}

#[tokio::test]
async fn api_redirects_to_another_host_are_refused_downloads_follow() {
    let other = serve(
        Router::new()
            .route(
                "/rest/api/space",
                get(|| async { axum::Json(json!({"results": []})) }),
            )
            .route("/file", get(|| async { "file body" })),
    )
    .await;
    let to = other.clone();
    let router = Router::new()
        .route(
            "/rest/api/space",
            get({
                let to = to.clone();
                move || async move {
                    axum::response::Redirect::temporary(&format!("{to}/rest/api/space"))
                }
            }),
        )
        .route(
            "/download/attachments/1/a.txt",
            get(move || async move { axum::response::Redirect::temporary(&format!("{to}/file")) }),
        );
    let base = serve(router).await;
    let c = ConfluenceClient::new(Flavor::Server, &base, basic("bob"), fast_options(0)).unwrap();
    let err = c.ping().await.unwrap_err();
    assert!(err.to_string().contains("to another host"), "{err}");
    let body = c
        .download("/download/attachments/1/a.txt")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body, b"file body");
}

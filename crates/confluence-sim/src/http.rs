//! The HTTP/1.1 server loop, responses, and fault injection.
//!
//! The loop is hand-written over hyper (instead of `axum::serve`) because faults need to
//! close a connection without answering, promise a `Content-Length` and send less, or dribble
//! a body out slowly.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::model::Site;
use crate::options::{FaultPlan, Latency, SimOptions};
use crate::rng::Rng;

/// A response under construction.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Resp {
    /// A JSON response.
    pub(crate) fn json(status: u16, v: &serde_json::Value) -> Resp {
        Resp {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
        }
    }

    /// A response with a body and content type.
    pub(crate) fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
        Resp {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A response without a body.
    pub(crate) fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    pub(crate) fn header(mut self, k: &str, v: impl Into<String>) -> Resp {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
}

/// A request, as handlers see it.
#[derive(Debug)]
pub(crate) struct Req {
    pub method: Method,
    /// Percent-decoded path.
    pub path: String,
    /// The path as sent (percent-encoded).
    pub raw_path: String,
    /// Raw query string.
    pub raw_query: String,
    /// Query parameters in order (decoded).
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A deterministic fault rule set through the admin API.
#[derive(Debug, Clone)]
pub(crate) struct FaultRule {
    pub path_contains: String,
    /// HTTP status to answer with; 0 closes the connection instead.
    pub status: u16,
    /// Matching requests that still succeed before the rule starts failing them.
    pub after: u64,
    /// How many requests to fail (None: until cleared).
    pub times: Option<u64>,
    pub seen: u64,
    pub failed: u64,
}

/// Mutable fault state.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub plan: FaultPlan,
    pub latency: Option<Latency>,
    pub rules: Vec<FaultRule>,
    pub burst_left: u32,
    pub burst_pos: u32,
    /// Token bucket for the requests-per-second budget.
    pub tokens: f64,
    pub last_refill: Instant,
}

/// What a request hook does: any admin operation, run before the request is served.
pub(crate) type HookAction = Arc<dyn Fn(&crate::admin::Admin) + Send + Sync>;

/// A mutation set through [`crate::Admin::on_request_matching`], run when a matching request
/// arrives and before it is answered.
pub(crate) struct RequestHook {
    pub path_contains: String,
    /// Run on the first matching request only.
    pub once: bool,
    pub fired: u64,
    pub action: HookAction,
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub opts: SimOptions,
    /// The sloppy-server quirks in force (start options, then [`crate::Admin::set_quirks`]).
    pub quirks: RwLock<crate::options::Quirks>,
    pub site: RwLock<Site>,
    pub port: u16,
    pub requests: AtomicU64,
    pub faults: Mutex<FaultState>,
    pub hooks: Mutex<Vec<RequestHook>>,
    /// How long a change stays invisible to CQL search (start option, then
    /// [`crate::Admin::set_search_lag_ms`]).
    pub search_lag_ms: AtomicU64,
    /// Requests and body bytes per method and route template.
    pub endpoints: Mutex<BTreeMap<String, EndpointCount>>,
}

/// Requests served for one endpoint (method and route template) and the response body bytes
/// sent for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EndpointCount {
    /// Requests answered (or refused, reset, faulted) on this endpoint.
    pub requests: u64,
    /// Response body bytes sent (half the body for a truncated one, none for a reset or a
    /// `HEAD`).
    pub bytes: u64,
}

impl Shared {
    /// The quirks in force now.
    pub(crate) fn quirks(&self) -> crate::options::Quirks {
        self.quirks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The context path: `/wiki` on Cloud, the configured one (or empty) on Server/DC.
    pub(crate) fn context(&self) -> String {
        if self.opts.flavor.is_server_like() {
            normalise_context(self.opts.context_path.as_deref())
        } else {
            "/wiki".into()
        }
    }

    /// `_links.base`: host plus context.
    pub(crate) fn base(&self) -> String {
        format!("{}{}", self.host(), self.context())
    }
}

/// `/confluence` from `confluence`, `/confluence/` or `/confluence`; empty for none or `/`.
pub(crate) fn normalise_context(c: Option<&str>) -> String {
    let c = c.unwrap_or("").trim().trim_matches('/');
    if c.is_empty() {
        String::new()
    } else {
        format!("/{c}")
    }
}

type Body = BoxBody<Bytes, io::Error>;

fn full(b: Bytes) -> Body {
    Full::new(b).map_err(|e: Infallible| match e {}).boxed()
}

/// Accepts connections until `shutdown` flips.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let mut stop = shutdown.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
                        }
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// What the fault layer decided for one request.
enum Decision {
    Pass,
    Reset,
    Status(Resp),
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let raw_path = parts.uri.path().to_owned();
    let path = percent_encoding::percent_decode_str(&raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let query: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let req = Req {
        method: parts.method,
        path,
        raw_path,
        raw_query,
        query,
        headers: parts.headers,
        body,
    };

    if req.path.starts_with("/__sim/") || req.path == "/__sim" {
        let resp = crate::admin::handle_http(&shared, &req);
        return Ok(to_response(resp, false));
    }

    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    let endpoint = crate::api::route_template(&shared, req.method.as_str(), &req.path);
    run_hooks(&shared, &req);
    if shared.quirks().changing_results {
        crate::api::churn(&shared, &req);
    }
    let seed = shared.opts.seed;
    let (decision, latency, truncate, slow, slow_delay, rl_headers) = {
        let mut st = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        let in_scope = st.plan.paths.is_empty() || {
            let with_query = format!("{}?{}", req.path, req.raw_query);
            st.plan
                .paths
                .iter()
                .any(|p| req.path.contains(p.as_str()) || with_query.contains(p.as_str()))
        };
        let decision = decide(
            &mut st,
            &req,
            n,
            seed,
            shared.opts.flavor.is_server_like(),
            in_scope,
        );
        let mut r = Rng::new(seed, &[0xD1CE, n]);
        let latency = match st.latency {
            None => Duration::ZERO,
            Some(Latency::Fixed(d)) => d,
            Some(Latency::Between(a, b)) => {
                let span = b.saturating_sub(a).as_micros() as u64;
                a + Duration::from_micros(r.below(span + 1))
            }
        };
        let truncate = r.chance(st.plan.truncate) && in_scope;
        let slow = r.chance(st.plan.slow) && in_scope;
        let rl = if st.plan.rate_limit_headers {
            Some(rate_headers(&st, shared.opts.flavor.is_server_like()))
        } else {
            None
        };
        (decision, latency, truncate, slow, st.plan.slow_delay, rl)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut resp = match decision {
        Decision::Reset => {
            count(&shared, endpoint, 0);
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "fault: reset",
            ));
        }
        Decision::Status(r) => r,
        Decision::Pass => crate::api::route(&shared, &req),
    };
    if let Some(h) = rl_headers {
        resp.headers.extend(h);
    }
    let head = req.method == Method::HEAD;
    if truncate && resp.body.len() > 1 {
        count(&shared, endpoint, resp.body.len() as u64 / 2);
        return Ok(truncated(resp));
    }
    count(
        &shared,
        endpoint,
        if head { 0 } else { resp.body.len() as u64 },
    );
    if slow && !resp.body.is_empty() {
        return Ok(slowed(resp, slow_delay));
    }
    Ok(to_response(resp, head))
}

/// Adds one request and its body bytes to an endpoint's count.
fn count(shared: &Shared, endpoint: String, bytes: u64) {
    let mut m = shared.endpoints.lock().unwrap_or_else(|e| e.into_inner());
    let e = m.entry(endpoint).or_default();
    e.requests += 1;
    e.bytes += bytes;
}

/// Runs the request hooks that match `req`, outside every lock so that they may mutate the
/// site (or add and clear hooks). A `once` hook is removed before it runs, so two concurrent
/// matching requests never both run it.
fn run_hooks(shared: &Arc<Shared>, req: &Req) {
    let actions: Vec<HookAction> = {
        let mut hooks = shared.hooks.lock().unwrap_or_else(|e| e.into_inner());
        if hooks.is_empty() {
            return;
        }
        let with_query = format!("{}?{}", req.path, req.raw_query);
        let mut actions = Vec::new();
        for hook in hooks.iter_mut() {
            if req.path.contains(&hook.path_contains) || with_query.contains(&hook.path_contains) {
                hook.fired += 1;
                actions.push(hook.action.clone());
            }
        }
        hooks.retain(|h| !(h.once && h.fired > 0));
        actions
    };
    let admin = crate::admin::Admin {
        shared: shared.clone(),
    };
    for action in actions {
        action(&admin);
    }
}

fn rate_headers(st: &FaultState, server_like: bool) -> Vec<(String, String)> {
    let limit = st.plan.rps.unwrap_or(100);
    let remaining = st.tokens.max(0.0).floor() as u32;
    let mut h = vec![
        ("X-RateLimit-Limit".to_owned(), limit.to_string()),
        (
            "X-RateLimit-Remaining".to_owned(),
            remaining.min(limit).to_string(),
        ),
    ];
    if server_like {
        h.push(("X-RateLimit-Interval-Seconds".into(), "1".into()));
        h.push(("X-RateLimit-FillRate".into(), limit.to_string()));
        h.push(("retry-after".into(), "0".into()));
    } else {
        let near = f64::from(remaining) < f64::from(limit) * 0.2;
        h.push(("X-RateLimit-NearLimit".into(), near.to_string()));
        // The quota headers, over the bucket's one-second window; `r` only once it runs low.
        h.push((
            "Beta-RateLimit-Policy".into(),
            format!("\"global-app-quota\";q={limit};w=1"),
        ));
        if near {
            h.push((
                "Beta-RateLimit".into(),
                format!("\"global-app-quota\";r={remaining};t=1"),
            ));
        }
    }
    h
}

fn too_many(plan: &FaultPlan, server_like: bool) -> Resp {
    let mut r = if server_like {
        Resp::json(
            429,
            &serde_json::json!({"statusCode": 429, "message": "Rate limit exceeded.", "reason": "Too Many Requests"}),
        )
    } else {
        Resp::bytes(429, "text/plain;charset=UTF-8", "Rate limit exceeded.")
    };
    let limit = plan.rps.unwrap_or(100);
    r = r
        .header("X-RateLimit-Limit", limit.to_string())
        .header("X-RateLimit-Remaining", "0");
    if let Some(s) = plan.retry_after {
        r = r.header("Retry-After", s.to_string());
        r = r.header(
            "X-RateLimit-Reset",
            crate::time::iso_minutes(crate::time::now_ms() + s as i64 * 1000),
        );
    }
    if server_like {
        r = r
            .header("X-RateLimit-Interval-Seconds", "1")
            .header("X-RateLimit-FillRate", limit.to_string());
    } else {
        r = r.header("RateLimit-Reason", "confluence-quota-tenant-based");
    }
    r
}

/// A 5xx in the shape the component in front of Confluence would send it.
pub(crate) fn server_error(status: u16) -> Resp {
    match status {
        500 => Resp::json(500, &serde_json::json!({
            "statusCode": 500,
            "data": {"authorized": true, "valid": true, "allowedInReadOnlyMode": true, "errors": [], "successful": false},
            "message": "java.lang.RuntimeException: Unexpected error while processing the request",
            "reason": "Internal Server Error"
        })),
        503 => Resp::bytes(503, "text/html", "<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>").header("Retry-After", "1"),
        s => {
            let text = StatusCode::from_u16(s).ok().and_then(|c| c.canonical_reason()).unwrap_or("Error");
            Resp::bytes(s, "text/html", format!("<html><head><title>{s} {text}</title></head><body><h1>{s} {text}</h1></body></html>"))
        }
    }
}

fn decide(
    st: &mut FaultState,
    req: &Req,
    n: u64,
    seed: u64,
    server_like: bool,
    in_scope: bool,
) -> Decision {
    let plan = st.plan.clone();
    for rule in st.rules.iter_mut() {
        if !req.path.contains(&rule.path_contains)
            && !format!("{}?{}", req.path, req.raw_query).contains(&rule.path_contains)
        {
            continue;
        }
        rule.seen += 1;
        if rule.seen <= rule.after || rule.times.is_some_and(|t| rule.failed >= t) {
            continue;
        }
        rule.failed += 1;
        let v2 = !server_like && crate::api::v2::is_v2_path(&req.path);
        return match rule.status {
            0 => Decision::Reset,
            429 => Decision::Status(too_many(&plan, server_like)),
            500 if v2 => Decision::Status(crate::api::v2::error(500, "Internal Server Error")),
            s if s >= 500 => Decision::Status(server_error(s)),
            s if v2 => Decision::Status(crate::api::v2::error(s, "Injected fault")),
            s => Decision::Status(Resp::json(
                s,
                &serde_json::json!({"statusCode": s, "message": "Injected fault"}),
            )),
        };
    }
    if !in_scope {
        return Decision::Pass;
    }
    // Requests-per-second budget (a token bucket refilled continuously).
    if let Some(rps) = st.plan.rps {
        let now = Instant::now();
        let dt = now.duration_since(st.last_refill).as_secs_f64();
        st.last_refill = now;
        st.tokens = (st.tokens + dt * f64::from(rps)).min(f64::from(rps));
        if st.tokens < 1.0 {
            return Decision::Status(too_many(&st.plan, server_like));
        }
        st.tokens -= 1.0;
    }
    let mut r = Rng::new(seed, &[0xFA17, n]);
    if r.chance(st.plan.reset) {
        return Decision::Reset;
    }
    if r.chance(st.plan.rate_limit) {
        return Decision::Status(too_many(&st.plan, server_like));
    }
    if st.burst_left == 0 && r.chance(st.plan.error_rate) {
        st.burst_left = st.plan.error_burst.max(1);
    }
    if st.burst_left > 0 && !st.plan.error_statuses.is_empty() {
        st.burst_left -= 1;
        let s = st.plan.error_statuses[st.burst_pos as usize % st.plan.error_statuses.len()];
        st.burst_pos = st.burst_pos.wrapping_add(1);
        if s == 500 && !server_like && crate::api::v2::is_v2_path(&req.path) {
            // Confluence's own 500 in v2's shape; the 502/503/504 of what sits in front of
            // it stay as they are.
            return Decision::Status(crate::api::v2::error(500, "Internal Server Error"));
        }
        return Decision::Status(server_error(s));
    }
    Decision::Pass
}

fn to_response(resp: Resp, head: bool) -> Response<Body> {
    let mut b = Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            b = b.header(k.as_str(), v);
        }
    }
    let body = if head { Bytes::new() } else { resp.body };
    b.body(full(body))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

fn builder_with(resp: &Resp) -> axum::http::response::Builder {
    let mut b = Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            b = b.header(k.as_str(), v);
        }
    }
    b.header("content-length", resp.body.len().to_string())
}

/// Sends half the body, then fails the stream so the connection closes early.
fn truncated(resp: Resp) -> Response<Body> {
    let b = builder_with(&resp);
    let half = resp.body.slice(..resp.body.len() / 2);
    // The pause lets hyper flush the headers and the first half before the stream fails.
    let stream = futures_util::stream::unfold(Some(half), |state| async move {
        match state {
            Some(half) => Some((Ok(Frame::data(half)), None)),
            None => {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Some((
                    Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "fault: truncated body",
                    )),
                    None,
                ))
            }
        }
    });
    b.body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

/// Sends the body in eight chunks with a delay before each.
fn slowed(resp: Resp, delay: Duration) -> Response<Body> {
    let b = builder_with(&resp);
    let body = resp.body;
    let step = body.len().div_ceil(8).max(1);
    let stream = futures_util::stream::unfold(0usize, move |pos| {
        let body = body.clone();
        async move {
            if pos >= body.len() {
                return None;
            }
            tokio::time::sleep(delay).await;
            let end = (pos + step).min(body.len());
            Some((Ok::<_, io::Error>(Frame::data(body.slice(pos..end))), end))
        }
    });
    b.body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

/// Binds the listener on 127.0.0.1.
pub(crate) async fn bind(port: Option<u16>) -> io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", port.unwrap_or(0))).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

//! The client core: URLs, authentication, the retry loop and downloads.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

use crate::config::{ConnectorConfig, Secrets};

use super::error::redact;
use super::gate::{Counters, Gate};
use super::retry::{self, Failure};
use super::{ClientError, ClientOptions, ClientStats, Credentials, Flavor};

/// A Confluence REST client. Cheap to clone: clones share the connection pool, the rate-limit
/// pause, the concurrency limit and the counters.
#[derive(Clone)]
pub struct ConfluenceClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// API requests: redirects are followed only on the configured site.
    http: reqwest::Client,
    /// Downloads: Cloud redirects them to its media host (credentials are not sent there).
    download_http: reqwest::Client,
    flavor: Flavor,
    /// The site root with a trailing slash: `https://acme.atlassian.net/`,
    /// `https://host/confluence/`.
    site: Url,
    /// Where `rest/api/...` paths are joined: the site, plus `wiki/` on Cloud.
    api_base: Url,
    credentials: Credentials,
    options: ClientOptions,
    gate: Gate,
    /// API requests in flight (`max_concurrency`).
    permits: Arc<Semaphore>,
    /// Downloads in flight (`max_downloads`), apart from the API requests: both wait on the
    /// same rate-limit gate.
    download_permits: Arc<Semaphore>,
    counters: Counters,
}

impl std::fmt::Debug for ConfluenceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluenceClient")
            .field("flavor", &self.inner.flavor)
            .field("api_base", &self.inner.api_base.as_str())
            .field("credentials", &self.inner.credentials)
            .finish()
    }
}

impl ConfluenceClient {
    /// A client for the site at `url` (`https://<site>.atlassian.net` for Cloud, with or
    /// without `/wiki`; `https://host[:port][/context]` for Server and Data Center).
    pub fn new(
        flavor: Flavor,
        url: &str,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let (site, api_base) = base_urls(flavor, url)?;
        let http = http_client(&options, same_site_redirects())?;
        let download_http = http_client(&options, reqwest::redirect::Policy::limited(10))?;
        if options.danger_accept_invalid_certs {
            tracing::warn!("TLS certificate verification is disabled for Confluence requests");
        }
        Ok(ConfluenceClient {
            inner: Arc::new(Inner {
                http,
                download_http,
                flavor,
                site,
                api_base,
                credentials,
                gate: Gate::new(options.requests_per_second),
                permits: Arc::new(Semaphore::new(options.max_concurrency.max(1))),
                download_permits: Arc::new(Semaphore::new(options.max_downloads.max(1))),
                counters: Counters::default(),
                options,
            }),
        })
    }

    /// A client for what `config` and `secrets` describe.
    pub fn from_config(config: &ConnectorConfig, secrets: &Secrets) -> Result<Self, ClientError> {
        ConfluenceClient::new(
            config.data_source.into(),
            &config.confluence_url,
            Credentials::from_config(config, secrets)?,
            ClientOptions::from_config(config),
        )
    }

    /// The deployment flavour.
    pub fn flavor(&self) -> Flavor {
        self.inner.flavor
    }

    /// The API base (`https://acme.atlassian.net/wiki/`, `https://host/confluence/`); web links
    /// (`_links.webui`) are relative to it too.
    pub fn api_base(&self) -> &Url {
        &self.inner.api_base
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ClientStats {
        let mut stats = self.inner.counters.snapshot();
        stats.paused_ms = self.inner.gate.remaining().as_millis() as u64;
        stats
    }

    /// `<api base>/<path>?<query>`; `path` is relative (`rest/api/space`), and each `segments`
    /// item is appended as one percent-encoded path segment.
    pub(crate) fn api_url(
        &self,
        path: &str,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Url, ClientError> {
        build(&self.inner.api_base, path, segments, query)
    }

    /// As [`Self::api_url`] from the site root (Cloud's `rest/api/3/...` lives there).
    pub(crate) fn site_url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, ClientError> {
        build(&self.inner.site, path, &[], query)
    }

    /// Resolves a link from a response (`_links.next`, `_links.download`) against `base`
    /// (the response's `_links.base`) and `context`, refusing other hosts.
    pub(crate) fn resolve_link(
        &self,
        link: &str,
        base: Option<&str>,
        context: Option<&str>,
    ) -> Result<Url, ClientError> {
        let link = link.trim();
        if link.starts_with("http://") || link.starts_with("https://") {
            let url = Url::parse(link).map_err(|e| ClientError::InvalidUrl(format!("{e}")))?;
            return self.same_site(url);
        }
        let origin = self.inner.api_base.origin().ascii_serialization();
        // Without a `context`, the path of `base` is the context (Cloud v2 gives only `base`,
        // `https://acme.atlassian.net/wiki`, and links that start with `/wiki`).
        let base_path = base
            .and_then(|b| Url::parse(b).ok())
            .map(|b| b.path().trim_end_matches('/').to_owned());
        let context = context
            .or(base_path.as_deref())
            .map(|c| c.trim_end_matches('/'))
            .unwrap_or("");
        // A link that already starts with the context path is site-relative (v2 style).
        let joined = if !context.is_empty()
            && link.starts_with(&format!("{context}/"))
            && !link.starts_with(&format!("{context}{context}/"))
            && base.is_some_and(|b| b.trim_end_matches('/').ends_with(context))
        {
            format!("{origin}{link}")
        } else {
            let base = base
                .and_then(|b| Url::parse(b).ok())
                .filter(|b| b.origin() == self.inner.api_base.origin())
                .map(|b| b.to_string())
                .unwrap_or_else(|| self.inner.api_base.to_string());
            format!(
                "{}/{}",
                base.trim_end_matches('/'),
                link.trim_start_matches('/')
            )
        };
        let url = Url::parse(&joined).map_err(|e| ClientError::InvalidUrl(format!("{e}")))?;
        self.same_site(url)
    }

    fn same_site(&self, url: Url) -> Result<Url, ClientError> {
        if url.origin() == self.inner.api_base.origin() {
            Ok(url)
        } else {
            Err(ClientError::InvalidUrl(format!(
                "`{}` is not on the configured Confluence site; not sending credentials there",
                redact(&url)
            )))
        }
    }

    /// GETs `url` and parses the body as JSON, with retries.
    pub(crate) async fn get_value(&self, url: &Url) -> Result<Value, ClientError> {
        let body = self.get_json(url).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode {
            url: redact(url),
            message: format!("body is not valid JSON ({e})"),
        })
    }

    /// GETs `url` and parses the body as a `T` in one pass (no intermediate JSON tree), with
    /// retries. A body of the wrong shape is a [`ClientError::Decode`] naming the field.
    pub(crate) async fn get_typed<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<T, ClientError> {
        let body = self.get_json(url).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode {
            url: redact(url),
            message: format!("unexpected shape ({e})"),
        })
    }

    /// GETs `url`, with retries, and returns a body that is well-formed JSON (checked without
    /// building it), for the caller to decode into its own types.
    pub(crate) async fn get_json(&self, url: &Url) -> Result<bytes::Bytes, ClientError> {
        self.json_call(url, None).await
    }

    /// POSTs `body` (JSON) to `url` for a read (Cloud's `users-bulk`), with retries, and
    /// decodes the answer as a `T`.
    pub(crate) async fn post_typed<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        body: &serde_json::Value,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Setup(e.to_string()))?;
        let answer = self.json_call(url, Some(body.into())).await?;
        serde_json::from_slice(&answer).map_err(|e| ClientError::Decode {
            url: redact(url),
            message: format!("unexpected shape ({e})"),
        })
    }

    /// A JSON call: a GET, or a POST of `body`; the answer's body, checked well-formed.
    async fn json_call(
        &self,
        url: &Url,
        body: Option<bytes::Bytes>,
    ) -> Result<bytes::Bytes, ClientError> {
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let outcome = match self
                .attempt(
                    url,
                    self.inner.options.request_timeout,
                    "application/json",
                    body.clone(),
                )
                .await
            {
                Ok((response, _permit)) => {
                    let timeouts = self.timeouts(self.inner.options.request_timeout);
                    read_json(response, url, &timeouts, started).await
                }
                Err(failure) => Err(failure),
            };
            match outcome {
                Ok(value) => {
                    tracing::trace!(path = url.path(), query = url.query().unwrap_or_default(), elapsed = ?started.elapsed(), "Confluence answered");
                    return Ok(value);
                }
                Err(failure) => self.after_failure(failure, &mut attempt).await?,
            }
        }
    }

    /// Streams the body of `link` (an attachment's `_links.download`, relative to the API base,
    /// or absolute on the same site), refusing more than `max_download_bytes`.
    pub async fn download(&self, link: &str) -> Result<Download, ClientError> {
        let url = self.resolve_link(link, None, None)?;
        let limit = self.inner.options.max_download_bytes;
        let mut attempt = 0u32;
        let (response, permit) = loop {
            match self
                .attempt(&url, self.inner.options.download_timeout, "*/*", None)
                .await
            {
                Ok(ok) => break ok,
                Err(failure) => self.after_failure(failure, &mut attempt).await?,
            }
        };
        let shown = redact(&url);
        let content_length = response.content_length();
        if content_length.is_some_and(|n| n > limit) {
            return Err(ClientError::TooLarge { url: shown, limit });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let timeouts = self.timeouts(self.inner.options.download_timeout);
        let started = Instant::now();
        let shown_url = url.clone();
        let mut seen = 0u64;
        let mut failed = false;
        let stream = response
            .bytes_stream()
            .map(move |chunk| {
                // The permit lives as long as the stream: downloads count against concurrency.
                let _held = &permit;
                let chunk =
                    chunk.map_err(|e| transport_error(&e, &shown_url, &timeouts, started))?;
                seen += chunk.len() as u64;
                if seen > limit {
                    return Err(ClientError::TooLarge {
                        url: shown.clone(),
                        limit,
                    });
                }
                Ok(chunk)
            })
            .take_while(move |item| {
                let go = !failed;
                failed |= item.is_err();
                futures_util::future::ready(go)
            })
            .boxed();
        Ok(Download {
            content_length,
            content_type,
            stream,
        })
    }

    /// The timeouts in force for a request whose whole-request limit is `total`.
    fn timeouts(&self, total: Duration) -> Timeouts {
        Timeouts {
            connect: self.inner.options.connect_timeout,
            read: self.inner.options.read_timeout,
            total,
        }
    }

    /// What to do when the credentials were refused: which secret to renew, and where.
    pub(crate) fn refusal_fix(&self) -> String {
        use crate::config::SecretField;
        let secret = |field: SecretField| {
            let prefix = crate::config::CONNECTION_ENV_PREFIX;
            format!(
                "{} in the configuration (or the environment variable that supplies it: {} for a \
                 configuration file, {prefix}<NAME>_{} for a saved connection)",
                field.label(),
                field.env_var(),
                field.env_suffix(),
            )
        };
        const NOTHING: &str = "nothing is listed or deleted until Confluence accepts it";
        match (&self.inner.credentials, self.inner.flavor) {
            (Credentials::Anonymous, _) => "configure credentials".to_string(),
            (Credentials::Bearer { .. }, _) => format!(
                "create a new personal access token in Confluence (profile > Personal Access \
                 Tokens) and put it in {}; {NOTHING}",
                secret(SecretField::DataCenterPersonalAccessToken)
            ),
            (Credentials::Basic { username, .. }, Flavor::Cloud) => format!(
                "create a new API token for {username} at \
                 https://id.atlassian.com/manage-profile/security/api-tokens and put it in {}; \
                 {NOTHING}",
                secret(SecretField::ApiToken)
            ),
            (Credentials::Basic { username, .. }, Flavor::Server) => format!(
                "check the password of {username} ({}) and that the account is not locked; \
                 {NOTHING}",
                secret(SecretField::Password)
            ),
            (Credentials::Basic { username, .. }, Flavor::DataCenter) => format!(
                "check the password of {username} ({}) and that the account is not locked; \
                 {NOTHING}",
                secret(SecretField::DataCenterPassword)
            ),
        }
    }

    /// What was refused, for the error: "the password of bob", "the API token of ann@…".
    fn refused_secret(&self) -> String {
        match (&self.inner.credentials, self.inner.flavor) {
            (Credentials::Anonymous, _) => "anonymous access".to_string(),
            (Credentials::Bearer { .. }, _) => {
                "the personal access token (expired or revoked?)".to_string()
            }
            (Credentials::Basic { username, .. }, Flavor::Cloud) => {
                format!("the API token of {username} (expired or revoked?)")
            }
            (Credentials::Basic { username, .. }, _) => format!("the password of {username}"),
        }
    }

    /// The error for credentials refused on `url`, as `detail` showed.
    pub(crate) fn refused(&self, url: String, detail: impl Into<String>) -> ClientError {
        ClientError::CredentialsRefused {
            url,
            secret: self.refused_secret(),
            detail: detail.into(),
            fix: self.refusal_fix(),
        }
    }

    /// True when requests carry credentials.
    pub(crate) fn has_credentials(&self) -> bool {
        !matches!(self.inner.credentials, Credentials::Anonymous)
    }

    /// The configured account: the email (Cloud) or username (Server/DC) of Basic credentials.
    pub(crate) fn configured_account(&self) -> Option<&str> {
        match &self.inner.credentials {
            Credentials::Basic { username, .. } => Some(username),
            _ => None,
        }
    }

    /// Sends one GET (or the POST of `body`) after waiting for the shared gate and a concurrency permit, and classifies
    /// the status. The permit is returned with the response so the body read counts too.
    async fn attempt(
        &self,
        url: &Url,
        timeout: Duration,
        accept: &str,
        body: Option<bytes::Bytes>,
    ) -> Result<(reqwest::Response, OwnedSemaphorePermit), Failure> {
        let inner = &self.inner;
        let download = accept != "application/json";
        let permits = if download {
            &inner.download_permits
        } else {
            &inner.permits
        };
        let queued = Instant::now();
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Failure::Fatal(ClientError::Setup("client closed".to_string())))?;
        inner.gate.wait().await;
        let queued = queued.elapsed();
        Counters::add(&inner.counters.requests, 1);
        let http = if download {
            &inner.download_http
        } else {
            &inner.http
        };
        let mut request = match body {
            Some(body) => http
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
            None => http.get(url.clone()),
        }
        .timeout(timeout)
        .header(reqwest::header::ACCEPT, accept);
        request = match &inner.credentials {
            Credentials::Anonymous => request,
            Credentials::Basic { username, password } => {
                request.basic_auth(username, Some(password))
            }
            Credentials::Bearer { token } => request.bearer_auth(token),
        };
        let shown = redact(url);
        let started = Instant::now();
        let response = request.send().await.map_err(|e| {
            // A refused certificate stays refused: it is final, with the fixes.
            let ssl_ca_given = inner.options.extra_ca_pem.is_some();
            match tls_problem(&e, &host_of(url), ssl_ca_given) {
                Some(message) => Failure::Fatal(ClientError::Tls {
                    url: shown.clone(),
                    message,
                }),
                None => Failure::Retry {
                    error: transport_error(&e, url, &self.timeouts(timeout), started),
                    after: None,
                },
            }
        })?;
        // Confluence serves refused credentials as anonymous when anonymous access is on, and
        // says so only in this header: such an answer is never the crawler's view.
        tracing::trace!(path = url.path(), ?queued, headers_after = ?started.elapsed(), "request sent");
        if self.has_credentials()
            && let Some(detail) = retry::login_refused(response.headers())
        {
            return Err(Failure::Fatal(self.refused(shown, detail)));
        }
        if let Some(pace) = retry::pacing(
            response.headers(),
            inner.options.near_limit_pause,
            inner.options.max_retry_after,
        ) {
            Counters::add(&inner.counters.near_limit, 1);
            if let Some(pause) = pace.pause {
                let grew = inner.gate.pause_for(pause);
                Counters::add(&inner.counters.rate_limit_wait_ms, grew.as_millis() as u64);
            }
            if let Some((every, span)) = pace.spacing {
                inner.gate.space_for(every, span);
            }
        }
        let status = response.status();
        if status.is_success() {
            return Ok((response, permit));
        }
        let headers = response.headers().clone();
        // Error bodies are small; a failure to read one only loses the message.
        let body = response.bytes().await.unwrap_or_default();
        let message = retry::error_message(&body);
        let url = shown;
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => {
                Counters::add(&inner.counters.rate_limited, 1);
                Failure::RateLimited {
                    error: ClientError::RateLimited { url, attempts: 0 },
                    retry_after: retry::retry_after(&headers, inner.options.max_retry_after),
                }
            }
            StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => Failure::Retry {
                error: ClientError::Server {
                    url,
                    status: status.as_u16(),
                    attempts: 0,
                },
                after: retry::retry_after(&headers, inner.options.max_retry_after),
            },
            StatusCode::BAD_REQUEST => Failure::Fatal(ClientError::BadRequest { url, message }),
            StatusCode::UNAUTHORIZED => Failure::Fatal(ClientError::Unauthorized { url }),
            StatusCode::FORBIDDEN
                if inner.flavor == Flavor::Cloud
                    && self.has_credentials()
                    && message.contains("caller cannot access Confluence") =>
            {
                Failure::Fatal(ClientError::CloudLoginRefused { url, message })
            }
            StatusCode::FORBIDDEN => Failure::Fatal(ClientError::Forbidden { url, message }),
            StatusCode::NOT_FOUND => Failure::Fatal(ClientError::NotFound { url }),
            other => Failure::Fatal(ClientError::Status {
                url,
                status: other.as_u16(),
                message,
            }),
        })
    }

    /// Decides what a failure means: returns the final error, or sleeps and lets the caller try
    /// again. `attempt` counts the retries made so far.
    async fn after_failure(&self, failure: Failure, attempt: &mut u32) -> Result<(), ClientError> {
        let inner = &self.inner;
        let (error, after) = match failure {
            Failure::Fatal(error) => return Err(error),
            Failure::Retry { error, after } => (error, after),
            Failure::RateLimited { error, retry_after } => {
                // Every request of the client waits: for what the server asked, else for a
                // backoff that starts near a second and doubles per attempt, up to a cap.
                let wait = retry_after.unwrap_or_else(|| {
                    retry::rate_limit_backoff(
                        *attempt,
                        inner.options.rate_limit_backoff_base,
                        inner.options.rate_limit_backoff_max,
                        fastrand::f64(),
                    )
                });
                let grew = inner.gate.pause_for(wait);
                Counters::add(&inner.counters.rate_limit_wait_ms, grew.as_millis() as u64);
                tracing::warn!(
                    %error,
                    "rate limited by Confluence: every request waits {} s",
                    super::error::seconds(wait)
                );
                // The shared pause is the wait; the next attempt sleeps through it at the gate.
                (error, Some(Duration::ZERO))
            }
        };
        if matches!(error, ClientError::Timeout { .. }) {
            Counters::add(&inner.counters.timeouts, 1);
        }
        if *attempt >= inner.options.retry_count {
            let attempts = *attempt + 1;
            return Err(match error {
                ClientError::RateLimited { url, .. } => ClientError::RateLimited { url, attempts },
                ClientError::Server { url, status, .. } => ClientError::Server {
                    url,
                    status,
                    attempts,
                },
                other => other,
            });
        }
        let wait = after.unwrap_or_else(|| {
            retry::backoff(
                *attempt,
                inner.options.backoff_base,
                inner.options.backoff_max,
                fastrand::f64(),
            )
        });
        *attempt += 1;
        Counters::add(&inner.counters.retries, 1);
        Counters::add(&inner.counters.backoff_wait_ms, wait.as_millis() as u64);
        if matches!(error, ClientError::Timeout { .. }) {
            tracing::warn!(%error, attempt = *attempt, "retrying Confluence request");
        } else {
            tracing::debug!(%error, ?wait, attempt = *attempt, "retrying Confluence request");
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }
}

/// A download in progress: its announced size and type, and its body as a stream of chunks.
/// The stream ends after the first error (e.g. [`ClientError::TooLarge`]).
pub struct Download {
    /// `Content-Length`, when announced.
    pub content_length: Option<u64>,
    /// `Content-Type`, when announced.
    pub content_type: Option<String>,
    stream: BoxStream<'static, Result<Bytes, ClientError>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The body, chunk by chunk.
    pub fn into_stream(self) -> BoxStream<'static, Result<Bytes, ClientError>> {
        self.stream
    }

    /// The whole body in memory (still capped).
    pub async fn bytes(self) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::with_capacity(self.content_length.unwrap_or(0).min(1 << 20) as usize);
        let mut stream = self.stream;
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }
}

async fn read_json(
    response: reqwest::Response,
    url: &Url,
    timeouts: &Timeouts,
    started: Instant,
) -> Result<bytes::Bytes, Failure> {
    let shown = redact(url);
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    let body = response.bytes().await.map_err(|e| Failure::Retry {
        error: transport_error(&e, url, timeouts, started),
        after: None,
    })?;
    // A truncated or garbled body is retried: proxies and Confluence both cut responses short.
    // An HTML page is not: a login or proxy page answers the same way every time.
    let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) else {
        return Ok(body);
    };
    let looks_html = html || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    if looks_html {
        return Err(Failure::Fatal(ClientError::Decode {
            url: shown,
            message: "the server answered with an HTML page instead of JSON (a login page, \
                      a proxy or maintenance page?): check `confluence_url` and that the \
                      REST API is reachable without a browser sign-in"
                .to_string(),
        }));
    }
    Err(Failure::Retry {
        error: ClientError::Decode {
            url: shown,
            message: format!("body is not valid JSON ({e})"),
        },
        after: None,
    })
}

/// The limits of one request, to tell which one expired.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    connect: Duration,
    read: Duration,
    total: Duration,
}

/// `host[:port]` of `url`.
fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => "the server".to_string(),
    }
}

fn transport_error(
    e: &reqwest::Error,
    url: &Url,
    timeouts: &Timeouts,
    started: Instant,
) -> ClientError {
    let shown = redact(url);
    let mut chain = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        // reqwest does not say which limit expired: the connect limit on connect, the whole
        // request's when it ran that long, else the silence limit.
        let elapsed = started.elapsed();
        let timeout = if e.is_connect() {
            timeouts.connect
        } else if elapsed + Duration::from_millis(50) >= timeouts.total {
            timeouts.total
        } else {
            timeouts.read.min(timeouts.total)
        };
        return ClientError::Timeout {
            url: shown,
            host: host_of(url),
            timeout,
        };
    }
    if let Some(message) = tls_problem(e, &host_of(url), false) {
        return ClientError::Tls {
            url: shown,
            message,
        };
    }
    if e.is_redirect() {
        return ClientError::Transport {
            url: shown,
            message: chain.trim_start_matches(": ").to_string(),
        };
    }
    ClientError::Transport {
        url: shown,
        message: format!("{}{chain}", e.without_url_ref()),
    }
}

/// A refused server certificate in `error`'s chain, explained: which host presented it, what
/// rustls said of it, and the fixes (the operating system's trust store, or `ssl_ca`; see
/// [`crate::tls`]). `ssl_ca_given`: whether `ssl_ca` is in force.
fn tls_problem(
    error: &(dyn std::error::Error + 'static),
    host: &str,
    ssl_ca_given: bool,
) -> Option<String> {
    crate::tls::certificate_problem(error)
        .map(|problem| problem.explain(host, &crate::tls::TrustFields::confluence(ssl_ca_given)))
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    /// The error's own text, without the URL (which may carry a token after a redirect).
    fn without_url_ref(&self) -> String {
        if self.is_connect() {
            "connection failed".to_string()
        } else if self.is_body() || self.is_decode() {
            "the response body broke off".to_string()
        } else if self.is_redirect() {
            "too many redirects".to_string()
        } else {
            "request failed".to_string()
        }
    }
}

/// A reqwest client with the options' TLS, timeouts and user agent.
///
/// It trusts the Mozilla roots built in, the operating system's trust store (read now, through
/// rustls-native-certs) and the certificates of `ssl_ca` (see [`crate::tls`]).
fn http_client(
    options: &ClientOptions,
    redirects: reqwest::redirect::Policy,
) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_webpki_certs(true)
        .tls_built_in_native_certs(true)
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .redirect(redirects)
        .user_agent(options.user_agent.clone())
        .gzip(true);
    if let Some(pem) = &options.extra_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.trim().as_bytes()).map_err(|e| {
            ClientError::Setup(format!(
                "the CA certificate (ssl_ca) could not be read: {e}; paste the PEM text, from \
                 `-----BEGIN CERTIFICATE-----` to `-----END CERTIFICATE-----`"
            ))
        })?;
        if certs.is_empty() {
            return Err(ClientError::Setup(
                "the CA certificate (ssl_ca) holds no certificate; paste the PEM text, from \
                 `-----BEGIN CERTIFICATE-----` to `-----END CERTIFICATE-----`"
                    .to_string(),
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if options.danger_accept_invalid_certs {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| ClientError::Setup(e.without_url().to_string()))
}

/// Redirects are followed only on the same origin: a redirect to another host (a login page,
/// another site) would answer for Confluence without the credentials.
fn same_site_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if attempt.previous().len() >= 10 {
            let message = "too many redirects".to_string();
            return attempt.error(message);
        }
        if attempt.url().origin() != first.origin() {
            let message = format!(
                "Confluence redirected the request from {} to another host, {}, which is not \
                 followed (a sign-in page or a moved site?): set `confluence_url` to the address \
                 the REST API answers on",
                host_of(first),
                host_of(attempt.url())
            );
            return attempt.error(message);
        }
        attempt.follow()
    })
}

/// The site root and API base for `url`, both with a trailing slash.
fn base_urls(flavor: Flavor, url: &str) -> Result<(Url, Url), ClientError> {
    let mut u = Url::parse(url.trim())
        .map_err(|e| ClientError::InvalidUrl(format!("confluence_url `{}`: {e}", url.trim())))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(ClientError::InvalidUrl(format!(
            "confluence_url must be an http(s) URL with a host, got `{}`",
            redact(&u)
        )));
    }
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    let mut path = u.path().trim_end_matches('/').to_string();
    if flavor == Flavor::Cloud && path.ends_with("/wiki") {
        path.truncate(path.len() - "/wiki".len());
    }
    u.set_path(&format!("{path}/"));
    let site = u.clone();
    let api_base = if flavor == Flavor::Cloud {
        site.join("wiki/")
            .map_err(|e| ClientError::InvalidUrl(e.to_string()))?
    } else {
        site.clone()
    };
    Ok((site, api_base))
}

fn build(
    base: &Url,
    path: &str,
    segments: &[&str],
    query: &[(&str, &str)],
) -> Result<Url, ClientError> {
    let mut url = base
        .join(path.trim_start_matches('/'))
        .map_err(|e| ClientError::InvalidUrl(e.to_string()))?;
    if !segments.is_empty() {
        let mut segs = url
            .path_segments_mut()
            .map_err(|_| ClientError::InvalidUrl("URL cannot have a path".to_string()))?;
        segs.pop_if_empty();
        for s in segments {
            segs.push(s);
        }
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query.iter().copied());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(flavor: Flavor, url: &str) -> ConfluenceClient {
        ConfluenceClient::new(
            flavor,
            url,
            Credentials::Anonymous,
            ClientOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn base_urls_keep_context_paths() {
        let c = client(Flavor::Cloud, "https://acme.atlassian.net");
        assert_eq!(c.api_base().as_str(), "https://acme.atlassian.net/wiki/");
        let c = client(Flavor::Cloud, "https://acme.atlassian.net/wiki/");
        assert_eq!(c.api_base().as_str(), "https://acme.atlassian.net/wiki/");
        assert_eq!(
            c.site_url("rest/api/3/users/search", &[]).unwrap().as_str(),
            "https://acme.atlassian.net/rest/api/3/users/search"
        );
        let c = client(Flavor::DataCenter, "https://host:8443/confluence");
        assert_eq!(
            c.api_url("rest/api/content", &["12", "label"], &[("limit", "200")])
                .unwrap()
                .as_str(),
            "https://host:8443/confluence/rest/api/content/12/label?limit=200"
        );
        let c = client(Flavor::Server, "http://host:8090/");
        assert_eq!(
            c.api_url("rest/api/space", &["~ann@x.org"], &[])
                .unwrap()
                .as_str(),
            "http://host:8090/rest/api/space/~ann@x.org"
        );
    }

    #[test]
    fn links_resolve_against_base_and_context() {
        let c = client(Flavor::DataCenter, "https://host/confluence");
        let next = "/rest/api/space?next=true&limit=2&start=2";
        assert_eq!(
            c.resolve_link(next, Some("https://host/confluence"), Some("/confluence"))
                .unwrap()
                .as_str(),
            "https://host/confluence/rest/api/space?next=true&limit=2&start=2"
        );
        // Without `_links.base` the configured base is used.
        assert_eq!(
            c.resolve_link(next, None, None).unwrap().as_str(),
            "https://host/confluence/rest/api/space?next=true&limit=2&start=2"
        );
        // A site-relative link that already carries the context is not doubled.
        assert_eq!(
            c.resolve_link(
                "/confluence/rest/api/space?start=4",
                Some("https://host/confluence"),
                Some("/confluence")
            )
            .unwrap()
            .as_str(),
            "https://host/confluence/rest/api/space?start=4"
        );
        // Another host is refused.
        assert!(matches!(
            c.resolve_link("https://evil.example/rest/api/space", None, None),
            Err(ClientError::InvalidUrl(_))
        ));
        let cloud = client(Flavor::Cloud, "https://acme.atlassian.net");
        assert_eq!(
            cloud
                .resolve_link(
                    "/download/attachments/1/a%20b.pdf?version=1&api=v2",
                    None,
                    None
                )
                .unwrap()
                .as_str(),
            "https://acme.atlassian.net/wiki/download/attachments/1/a%20b.pdf?version=1&api=v2"
        );
    }

    #[test]
    fn tls_failures_say_what_to_put_in_ssl_ca() {
        // An error chain as text: what is left when rustls's own error is not in it.
        let chain = |text: &str| std::io::Error::other(text.to_owned());
        let unknown = tls_problem(
            &chain("error trying to connect: invalid peer certificate: UnknownIssuer"),
            "wiki.corp:8443",
            false,
        )
        .unwrap();
        assert!(
            unknown.starts_with(
                "the TLS certificate that wiki.corp:8443 presented is not trusted (UnknownIssuer)"
            ),
            "{unknown}"
        );
        assert!(
            unknown.contains("add it to the operating system's trust store"),
            "{unknown}"
        );
        assert!(
            unknown.contains("into `ssl_ca` and set `ssl_enabled: true`"),
            "{unknown}"
        );
        // The fixes are the safe ones: no invitation to turn verification off.
        assert!(!unknown.contains("tls_insecure_skip_verify"), "{unknown}");
        let given = tls_problem(
            &chain("invalid peer certificate: UnknownIssuer"),
            "wiki.corp",
            true,
        )
        .unwrap();
        assert!(
            given.contains("nor the certificate in `ssl_ca`, which is not the CA that issued it"),
            "{given}"
        );
        let ca = tls_problem(
            &chain("invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))"),
            "wiki.corp",
            false,
        )
        .unwrap();
        assert!(
            ca.contains("wiki.corp presents a CA certificate as its own server certificate"),
            "{ca}"
        );
        assert!(ca.contains("basicConstraints=CA:FALSE"), "{ca}");
        let name = tls_problem(
            &chain("invalid peer certificate: NotValidForName"),
            "h:443",
            false,
        )
        .unwrap();
        assert!(name.contains("not valid for the name `h`"), "{name}");
        assert!(name.contains("subjectAltName"), "{name}");
        assert!(name.contains("`confluence_url`"), "{name}");
        assert_eq!(tls_problem(&chain("connection refused"), "h", false), None);
    }

    #[test]
    fn debug_hides_credentials() {
        let c = ConfluenceClient::new(
            Flavor::Server,
            "http://h",
            Credentials::Basic {
                username: "u".into(),
                password: "hunter2".into(),
            },
            ClientOptions::default(),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}

//! The HTTP side of the Elasticsearch sink: one transport of the official `elasticsearch` crate,
//! the retry policy, and the `_bulk`, create-index and scan protocols that [`super::EsSink`] and
//! [`super::AclIndex`] share.
//!
//! Retries: a request that fails in transport, or answers 429 or a 5xx other than 501, is sent
//! again after an exponential backoff with jitter, at most [`RetryPolicy::max_attempts`] times in
//! all. Inside a `_bulk` answer, items refused with 429 or 503 (`es_rejected_execution_exception`:
//! a full write queue) are sent again alone on the same schedule; every other item error is final
//! and reported with its reason.

use std::time::Duration;

use bytes::Bytes;
use elasticsearch::Elasticsearch;
use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::Method;
use elasticsearch::http::headers::{CONTENT_TYPE, HeaderMap, HeaderValue};
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use serde_json::{Value, json};
use url::Url;

use super::elasticsearch::{EsAuth, EsOptions, RetryPolicy};
use super::{BulkOp, BulkOutcome, ExistingDoc, ItemError, ScanVisitor, SinkError};

/// A status and a JSON body (or the body as a JSON string when it was not JSON).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether this is Elasticsearch's "no such index" answer.
    pub fn is_index_not_found(&self) -> bool {
        self.status == 404 && self.body["error"]["type"] == "index_not_found_exception"
    }

    /// `type: reason (caused by: reason)` from an error body, or the body itself.
    pub fn reason(&self) -> String {
        error_reason(&self.body["error"]).unwrap_or_else(|| truncate(self.body.to_string()))
    }

    /// This answer as a [`SinkError::Refused`] of `request`, or [`SinkError::Blocked`] when
    /// a cluster or index block refused it.
    pub fn refused(&self, request: &str) -> SinkError {
        if let Some(blocked) = blocked(request, &self.body["error"]) {
            return blocked;
        }
        SinkError::Refused {
            request: request.to_owned(),
            status: self.status,
            reason: self.reason(),
        }
    }
}

/// [`SinkError::Blocked`] when `error` is a block (`cluster_block_exception`,
/// `index_create_block_exception`), in an admin's words: a disk watermark, most of the time.
pub(crate) fn blocked(request: &str, error: &Value) -> Option<SinkError> {
    let kind = error["type"].as_str()?;
    if !matches!(
        kind,
        "cluster_block_exception" | "index_create_block_exception"
    ) {
        return None;
    }
    let reason = error_reason(error).unwrap_or_default();
    let lower = reason.to_lowercase();
    // `SERVICE_UNAVAILABLE` blocks (no elected cluster manager, state not recovered yet) pass
    // by themselves: retried like any 503, not an admin's business.
    if lower.contains("service_unavailable")
        || lower.contains("no master")
        || lower.contains("no cluster-manager")
    {
        return None;
    }
    let message = if kind == "index_create_block_exception" || lower.contains("create-index") {
        format!(
            "the search cluster refuses to create indices: its disk is nearly full (a node \
             passed the high disk watermark, 90% by default, and `cluster.blocks.create_index` \
             is set). Free disk space on the cluster's nodes (delete old indices, add disk or \
             nodes) or raise `cluster.routing.allocation.disk.watermark.high`, make sure \
             `cluster.blocks.create_index` is no longer set, then run the sync again ({request}: \
             {reason})"
        )
    } else if lower.contains("read-only-allow-delete") || lower.contains("flood") {
        format!(
            "the search cluster refuses writes: its disk is full (a node passed the flood-stage \
             disk watermark, 95% by default, and the index was made read-only with \
             `index.blocks.read_only_allow_delete`). Free disk space on the cluster's nodes \
             (delete old indices, add disk or nodes) or raise \
             `cluster.routing.allocation.disk.watermark.flood_stage`; the block is lifted once \
             usage drops below the high watermark (or by setting \
             `index.blocks.read_only_allow_delete` to null), then run the sync again \
             ({request}: {reason})"
        )
    } else {
        format!(
            "the search cluster refuses this request because of a block an administrator set \
             (a read-only index or cluster, e.g. `index.blocks.write` or \
             `cluster.blocks.read_only`): lift it, then run the sync again ({request}: {reason})"
        )
    };
    Some(SinkError::Blocked {
        request: request.to_owned(),
        message,
    })
}

/// `type: reason (caused by: reason)` of an Elasticsearch `error` object, if it is one.
fn error_reason(error: &Value) -> Option<String> {
    match error {
        Value::Object(obj) => {
            let kind = obj.get("type").and_then(Value::as_str).unwrap_or("error");
            let reason = obj
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut text = format!("{kind}: {reason}");
            if let Some(cause) = obj.get("caused_by").and_then(|c| c["reason"].as_str()) {
                text.push_str(&format!(" (caused by: {cause})"));
            }
            Some(text)
        }
        Value::String(text) => Some(text.clone()),
        _ => None,
    }
}

/// Why the cluster at `host` could not be reached, in an admin's words (as Confluence's are:
/// the name does not resolve, the connection was refused, ...) from the client's error chain.
fn unreachable_message(host: &str, err: &elasticsearch::Error) -> String {
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    if err.is_timeout() || chain.to_ascii_lowercase().contains("timed out") {
        return format!(
            "No answer from {host} in time: check the Elasticsearch URL, that the cluster is up, \
             and your network or proxy."
        );
    }
    // The client's own words name the URL; the explanation names the host.
    crate::confluence::ClientError::unreachable(host, "the Elasticsearch URL", &chain)
}

fn truncate(mut text: String) -> String {
    const MAX: usize = 2000;
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// One bulk operation, its source already serialised so that a retry sends the same bytes.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub kind: BulkOp,
    pub id: String,
    pub source: Option<String>,
}

/// The shared HTTP client of one cluster.
pub(crate) struct EsClient {
    client: Elasticsearch,
    /// The cluster URL without credentials, for messages.
    url: String,
    /// `host[:port]` of the cluster, for certificate errors.
    host: String,
    /// Whether a CA certificate of the target is trusted on top of the system's.
    ca_given: bool,
    retry: RetryPolicy,
}

impl EsClient {
    pub fn new(options: &EsOptions) -> Result<EsClient, SinkError> {
        let url = Url::parse(&options.url).map_err(|err| {
            SinkError::Options(format!(
                "the Elasticsearch URL \"{}\" is not a web address ({err}): it looks like \
                     https://localhost:9200",
                options.url
            ))
        })?;
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url))
            .timeout(options.request_timeout)
            .enable_meta_header(false);
        match &options.auth {
            EsAuth::None => {}
            // `id:secret` is the raw form; anything else is the base64 form Kibana hands out.
            EsAuth::ApiKey(key) => {
                builder = builder.auth(match key.split_once(':') {
                    Some((id, secret)) => Credentials::ApiKey(id.to_owned(), secret.to_owned()),
                    None => Credentials::EncodedApiKey(key.clone()),
                });
            }
            EsAuth::Basic { username, password } => {
                builder = builder.auth(Credentials::Basic(username.clone(), password.clone()));
            }
        }
        // The Mozilla roots and the operating system's trust store are trusted by default (the
        // workspace's reqwest features, see `crate::tls`); the target's CA is added to them.
        if let Some(pem) = &options.ca_certificate_pem {
            let cert = Certificate::from_pem(pem.as_bytes()).map_err(|err| {
                SinkError::Options(format!(
                    "the Elasticsearch CA certificate cannot be read ({err}): paste the whole \
                         PEM file"
                ))
            })?;
            builder = builder.cert_validation(CertificateValidation::Full(cert));
        }
        let transport = builder
            .build()
            .map_err(|err| SinkError::Options(format!("cannot build the HTTP client: {err}")))?;
        let host = match (shown.host_str(), shown.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => "the search cluster".to_owned(),
        };
        Ok(EsClient {
            client: Elasticsearch::new(transport),
            url: shown.as_str().trim_end_matches('/').to_owned(),
            host,
            ca_given: options.ca_certificate_pem.is_some(),
            retry: options.retry,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends a JSON request with the client's retry policy.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, SinkError> {
        let body = body.map(|body| Bytes::from(body.to_string()));
        self.send(method, path, body, "application/json", self.retry)
            .await
    }

    /// Sends a JSON request once, without retries (for connection checks, which must fail fast).
    pub async fn json_once(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, SinkError> {
        let body = body.map(|body| Bytes::from(body.to_string()));
        let once = RetryPolicy {
            max_attempts: 1,
            ..self.retry
        };
        self.send(method, path, body, "application/json", once)
            .await
    }

    /// Sends a request, retrying transport failures, 429 and 5xx under `policy`. Any other status
    /// is returned as it is; only a transport failure after the last attempt is an error.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        content_type: &'static str,
        policy: RetryPolicy,
    ) -> Result<Answer, SinkError> {
        let request = format!("{} {path}", method_name(method));
        let mut attempt = 1;
        loop {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            let sent = self
                .client
                .send(method, path, headers, None::<&()>, body.clone(), None)
                .await;
            let failure = match sent {
                Ok(response) => {
                    let status = response.status_code().as_u16();
                    if !retriable_status(status) || attempt >= policy.max_attempts {
                        let bytes = response.bytes().await.map_err(|err| SinkError::BadAnswer {
                            request: request.clone(),
                            message: format!("reading the body: {err}"),
                        })?;
                        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                            Value::String(truncate(String::from_utf8_lossy(&bytes).into_owned()))
                        });
                        return Ok(Answer { status, body });
                    }
                    format!("status {status}")
                }
                Err(err) => {
                    // A refused certificate stays refused: no retry, the fixes instead.
                    if let Some(problem) = crate::tls::certificate_problem(&err) {
                        let fields = crate::tls::TrustFields::search_cluster(self.ca_given);
                        return Err(SinkError::Unreachable {
                            url: self.url.clone(),
                            message: format!(
                                "Could not connect securely to {}: {}",
                                self.host,
                                problem.explain(&self.host, &fields)
                            ),
                        });
                    }
                    if attempt >= policy.max_attempts {
                        tracing::debug!(%request, %err, "search cluster unreachable");
                        return Err(SinkError::Unreachable {
                            url: self.url.clone(),
                            message: unreachable_message(&self.host, &err),
                        });
                    }
                    err.to_string()
                }
            };
            let wait = policy.backoff(attempt);
            tracing::warn!(%request, %failure, attempt, ?wait, "search cluster request failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Creates `index` with `mapping` unless it exists.
    pub async fn create_index(&self, index: &str, mapping: &Value) -> Result<(), SinkError> {
        self.create_index_with(index, &json!({ "mappings": mapping }))
            .await
            .map(|_| ())
    }

    /// Creates `index` with the create-index `body` (settings, mappings, aliases) unless it
    /// exists; true when this call created it.
    pub async fn create_index_with(&self, index: &str, body: &Value) -> Result<bool, SinkError> {
        let path = format!("/{index}");
        let exists = self.json(Method::Head, &path, None).await?;
        if exists.is_success() {
            return Ok(false);
        }
        let answer = self.json(Method::Put, &path, Some(body.clone())).await?;
        if answer.is_success() {
            return Ok(true);
        }
        if answer.body["error"]["type"] == "resource_already_exists_exception" {
            return Ok(false);
        }
        Err(answer.refused(&format!("PUT {path}")))
    }

    /// Runs `ops` against `index` in one `_bulk` request (through ingest `pipeline`, if any),
    /// then resends the items refused with 429 or 503 alone, with backoff, and counts every
    /// item's result. An item refused by a block (a full disk) fails the whole call with
    /// [`SinkError::Blocked`]: nothing more can be written until an admin acts.
    pub async fn bulk(
        &self,
        index: &str,
        mut ops: Vec<Op>,
        pipeline: Option<&str>,
    ) -> Result<BulkOutcome, SinkError> {
        let path = match pipeline {
            Some(pipeline) => format!(
                "/_bulk?pipeline={}",
                url::form_urlencoded::byte_serialize(pipeline.as_bytes()).collect::<String>()
            ),
            None => "/_bulk".to_owned(),
        };
        let mut outcome = BulkOutcome {
            bytes: ops
                .iter()
                .map(|op| op.source.as_ref().map_or(0, |s| s.len() as u64))
                .sum(),
            ..BulkOutcome::default()
        };
        let mut attempt = 1;
        while !ops.is_empty() {
            let body = ndjson(index, &ops);
            let answer = self
                .send(
                    Method::Post,
                    &path,
                    Some(body),
                    "application/x-ndjson",
                    self.retry,
                )
                .await?;
            if !answer.is_success() {
                return Err(answer.refused(&format!("POST {path} ({} items)", ops.len())));
            }
            let items = answer.body["items"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut again = Vec::new();
            let mut items = items.iter();
            for op in ops {
                let Some(item) = items.next() else {
                    outcome.failed.push(ItemError {
                        id: op.id,
                        op: op.kind,
                        status: None,
                        reason: "the bulk answer has no item for this document".to_owned(),
                    });
                    continue;
                };
                let result = item
                    .as_object()
                    .and_then(|o| o.values().next())
                    .unwrap_or(item);
                let status = result["status"].as_u64().unwrap_or(0) as u16;
                if let Some(blocked) = blocked(&format!("POST {path}"), &result["error"]) {
                    return Err(blocked);
                }
                if let Some(reason) = error_reason(&result["error"]) {
                    if matches!(status, 429 | 503) && attempt < self.retry.max_attempts {
                        again.push(op);
                    } else {
                        outcome.failed.push(ItemError {
                            id: op.id,
                            op: op.kind,
                            status: Some(status),
                            reason,
                        });
                    }
                    continue;
                }
                match result["result"].as_str() {
                    Some("created") => outcome.created += 1,
                    Some("updated" | "noop") => outcome.updated += 1,
                    Some("deleted") => outcome.deleted += 1,
                    _ => {}
                }
            }
            ops = again;
            if !ops.is_empty() {
                let wait = self.retry.backoff(attempt);
                tracing::warn!(
                    items = ops.len(),
                    attempt,
                    ?wait,
                    "bulk items rejected; retrying"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
        Ok(outcome)
    }

    /// Walks every document of `index` that has an `id` field, `page_size` at a time, with
    /// `search_after` on `id` (a keyword): idempotent requests, so any page can be retried, and
    /// each id is seen at most once because the order is strict.
    pub async fn scan(
        &self,
        index: &str,
        page_size: usize,
        visit: &mut ScanVisitor<'_>,
    ) -> crate::Result<()> {
        let path = format!("/{index}/_search");
        let mut after: Option<String> = None;
        loop {
            let mut body = json!({
                "size": page_size.max(1),
                "query": { "exists": { "field": "id" } },
                "sort": [{ "id": "asc" }],
                "_source": ["space_key", "_timestamp", "type"],
                "track_total_hits": false
            });
            if let Some(after) = &after {
                body["search_after"] = json!([after]);
            }
            let answer = self.json(Method::Post, &path, Some(body)).await?;
            if answer.is_index_not_found() {
                return Ok(());
            }
            if !answer.is_success() {
                return Err(answer.refused(&format!("POST {path}")).into());
            }
            let hits = answer.body["hits"]["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(last) = hits.last() else {
                return Ok(());
            };
            after = Some(match &last["sort"][0] {
                Value::String(value) => value.clone(),
                other => {
                    return Err(SinkError::BadAnswer {
                        request: format!("POST {path}"),
                        message: format!("sort value `{other}` is not a string"),
                    }
                    .into());
                }
            });
            let full = hits.len() >= page_size.max(1);
            let page = hits
                .into_iter()
                .map(|hit| ExistingDoc {
                    id: hit["_id"].as_str().unwrap_or_default().to_owned(),
                    space_key: hit["_source"]["space_key"].as_str().map(str::to_owned),
                    kind: hit["_source"]["type"].as_str().map(str::to_owned),
                    timestamp: match &hit["_source"]["_timestamp"] {
                        Value::String(text) => Some(text.clone()),
                        Value::Null => None,
                        other => Some(other.to_string()),
                    },
                })
                .collect();
            visit(page)?;
            if !full {
                return Ok(());
            }
        }
    }
}

/// The NDJSON body of a `_bulk` request.
/// The painless script of [`BulkOp::SetAccess`], up to its `acl` parameter: `null` removes
/// the field (a public document has none), a list replaces it.
const SET_ACCESS_SCRIPT: &str = r#"{"script":{"lang":"painless","source":"if (params.acl == null) { ctx._source.remove('_allow_access_control') } else { ctx._source._allow_access_control = params.acl }","params":{"acl":"#;

fn ndjson(index: &str, ops: &[Op]) -> Bytes {
    let capacity = ops
        .iter()
        .map(|op| op.source.as_ref().map_or(0, String::len) + 100)
        .sum();
    let mut body = String::with_capacity(capacity);
    for op in ops {
        let action = match op.kind {
            BulkOp::Upsert | BulkOp::SetAccess => {
                json!({ "update": { "_index": index, "_id": op.id, "retry_on_conflict": 3 } })
            }
            kind => json!({ kind.as_str(): { "_index": index, "_id": op.id } }),
        };
        body.push_str(&action.to_string());
        body.push('\n');
        if let Some(source) = &op.source {
            if op.kind == BulkOp::Upsert {
                body.push_str(r#"{"doc_as_upsert":true,"doc":"#);
                body.push_str(source);
                body.push('}');
            } else if op.kind == BulkOp::SetAccess {
                body.push_str(SET_ACCESS_SCRIPT);
                body.push_str(source);
                body.push_str("}}}");
            } else {
                body.push_str(source);
            }
            body.push('\n');
        }
    }
    Bytes::from(body)
}

fn retriable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status) && status != 501
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Put => "PUT",
        Method::Post => "POST",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`: `initial_backoff * 2^(attempt - 1)`, capped at
    /// `max_backoff`, of which a random half is dropped (jitter) so that parallel writers do not
    /// retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let full = exp.min(self.max_backoff);
        full / 2 + full.mul_f64(fastrand::f64() / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_bounds() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(policy.backoff(30) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn ndjson_has_one_action_and_one_source_line_per_write() {
        let ops = vec![
            Op {
                kind: BulkOp::Index,
                id: "a\"1".into(),
                source: Some(r#"{"x":1}"#.into()),
            },
            Op {
                kind: BulkOp::Delete,
                id: "b".into(),
                source: None,
            },
            Op {
                kind: BulkOp::Upsert,
                id: "c".into(),
                source: Some(r#"{"y":2}"#.into()),
            },
        ];
        let body = String::from_utf8(ndjson("idx", &ops).to_vec()).unwrap();
        let lines: Vec<Value> = body
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0]["index"]["_id"], "a\"1");
        assert_eq!(lines[1]["x"], 1);
        assert_eq!(lines[2]["delete"]["_index"], "idx");
        assert_eq!(lines[3]["update"]["_id"], "c");
        assert_eq!(
            lines[4],
            json!({ "doc_as_upsert": true, "doc": { "y": 2 } })
        );
    }

    #[test]
    fn error_reasons_name_type_reason_and_cause() {
        let error = json!({
            "type": "mapper_parsing_exception",
            "reason": "failed to parse field [size]",
            "caused_by": { "type": "number_format_exception", "reason": "For input string: \"x\"" }
        });
        assert_eq!(
            error_reason(&error).unwrap(),
            "mapper_parsing_exception: failed to parse field [size] (caused by: For input string: \"x\")"
        );
        assert!(retriable_status(429) && retriable_status(503) && !retriable_status(501));
        assert!(!retriable_status(400) && !retriable_status(404));
    }

    #[test]
    fn blocks_are_told_in_an_admins_words() {
        let block = |reason: &str| json!({ "type": "cluster_block_exception", "reason": reason });
        let create = blocked(
            "PUT /idx",
            &block("blocked by: [FORBIDDEN/10/cluster create-index blocked (api)];"),
        )
        .unwrap()
        .to_string();
        assert!(create.contains("refuses to create indices"), "{create}");
        assert!(create.contains("watermark.high"), "{create}");
        let full = blocked(
            "POST /_bulk",
            &block(
                "index [idx] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage \
                 watermark, index has read-only-allow-delete block];",
            ),
        )
        .unwrap()
        .to_string();
        assert!(full.contains("its disk is full"), "{full}");
        assert!(full.contains("watermark.flood_stage"), "{full}");
        let other = blocked(
            "POST /_bulk",
            &block("blocked by: [FORBIDDEN/8/index write (api)];"),
        )
        .unwrap()
        .to_string();
        assert!(other.contains("an administrator set"), "{other}");
        assert!(blocked("PUT /idx", &json!({ "type": "mapper_parsing_exception" })).is_none());
        // A cluster without a manager is unavailable, not blocked by an admin: retried.
        assert!(
            blocked(
                "POST /_bulk",
                &block("blocked by: [SERVICE_UNAVAILABLE/2/no master];")
            )
            .is_none()
        );
        assert!(blocked("PUT /idx", &Value::Null).is_none());
    }
}

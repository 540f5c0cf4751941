//! An Elasticsearch (or OpenSearch) index as a [`Sink`], through the official `elasticsearch`
//! crate, and [`AclIndex`], its `.search-acl-filter-<index>` identity documents.
//!
//! Index settings come from the connection ([`IndexSettings`]): shards and replicas of the
//! indices the sink creates, the refresh interval between syncs and during full syncs (put back
//! when the sync ends, and at the next sync's start should a process die meanwhile), and the
//! ingest pipeline bulk requests name. With [`EsOptions::alias_swap`], the configured name is an
//! alias and full syncs rebuild into a fresh index (see `rebuild.rs`).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elasticsearch::http::Method;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::es_client::{Answer, EsClient, Op};
use super::mapping::{SEARCH_FIELDS, acl_filter_index_name, acl_filter_mapping, content_mapping};
use super::{
    BulkOp, BulkOutcome, CarryPicker, ExistingDoc, IndexDoc, ScanVisitor, SearchHit, SearchPage,
    SearchRequest, Sink, SinkError,
};
use crate::Result;

mod dls;
mod rebuild;

/// How to reach the cluster and which index to write.
#[derive(Clone)]
pub struct EsOptions {
    /// The cluster URL, e.g. `https://search.example.com:9200`.
    pub url: String,
    /// The credentials.
    pub auth: EsAuth,
    /// A PEM CA certificate (chain) to trust on top of the system's roots.
    pub ca_certificate_pem: Option<String>,
    /// The content index name.
    pub index: String,
    /// The timeout of each HTTP request.
    pub request_timeout: Duration,
    /// Retries of failed requests and rejected bulk items.
    pub retry: RetryPolicy,
    /// Shards, replicas and refresh intervals of the content index.
    pub settings: IndexSettings,
    /// The ingest pipeline content documents pass through (`_bulk?pipeline=`).
    pub pipeline: Option<String>,
    /// `index` is an alias; full syncs rebuild into a fresh index and move the alias when
    /// complete.
    pub alias_swap: bool,
}

/// Settings of the content index, from the connection; `None` leaves the cluster's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSettings {
    /// `index.number_of_shards` of indices the sink creates.
    pub shards: Option<u32>,
    /// `index.number_of_replicas`, also applied to the existing index.
    pub replicas: Option<u32>,
    /// `index.refresh_interval` between full syncs.
    pub refresh_interval: Option<String>,
    /// `index.refresh_interval` while a full sync writes (e.g. `-1`).
    pub bulk_refresh_interval: Option<String>,
}

impl IndexSettings {
    /// Whether the sink changes settings of existing indices (which needs `manage`).
    pub fn changes_existing(&self) -> bool {
        self.replicas.is_some()
            || self.refresh_interval.is_some()
            || self.bulk_refresh_interval.is_some()
    }

    /// The `settings` of a create-index body; `bulk`: the index is created for a full sync.
    fn creation(&self, bulk: bool) -> Value {
        let mut index = serde_json::Map::new();
        if let Some(shards) = self.shards {
            index.insert("number_of_shards".into(), json!(shards));
        }
        if let Some(replicas) = self.replicas {
            index.insert("number_of_replicas".into(), json!(replicas));
        }
        let refresh = match (bulk, &self.bulk_refresh_interval) {
            (true, Some(during)) => Some(during),
            _ => self.refresh_interval.as_ref(),
        };
        if let Some(refresh) = refresh {
            index.insert("refresh_interval".into(), json!(refresh));
        }
        json!({ "index": index })
    }

    /// The settings an existing index gets between full syncs: the replicas and the refresh
    /// interval (its default when only the bulk interval is configured, which also puts back
    /// what a sync that died left). `None` when nothing is configured.
    fn steady(&self) -> Option<Value> {
        if !self.changes_existing() {
            return None;
        }
        let mut index = serde_json::Map::new();
        if let Some(replicas) = self.replicas {
            index.insert("number_of_replicas".into(), json!(replicas));
        }
        if self.refresh_interval.is_some() || self.bulk_refresh_interval.is_some() {
            index.insert("refresh_interval".into(), json!(self.refresh_interval));
        }
        Some(json!({ "index": index }))
    }
}

impl EsOptions {
    /// Options for index `index` at `url`, without credentials, with the default timeout (120 s)
    /// and retry policy.
    pub fn new(url: impl Into<String>, index: impl Into<String>) -> EsOptions {
        EsOptions {
            url: url.into(),
            auth: EsAuth::None,
            ca_certificate_pem: None,
            index: index.into(),
            request_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            settings: IndexSettings::default(),
            pipeline: None,
            alias_swap: false,
        }
    }
}

impl fmt::Debug for EsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = url::Url::parse(&self.url).map(|mut url| {
            let _ = url.set_password(None);
            url.to_string()
        });
        let url = url.as_mut().map(|u| u.as_str()).unwrap_or("<invalid URL>");
        f.debug_struct("EsOptions")
            .field("url", &url)
            .field("auth", &self.auth)
            .field(
                "ca_certificate_pem",
                &self.ca_certificate_pem.as_ref().map(|_| "<PEM>"),
            )
            .field("index", &self.index)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("settings", &self.settings)
            .field("pipeline", &self.pipeline)
            .field("alias_swap", &self.alias_swap)
            .finish()
    }
}

/// Credentials for the cluster. `Debug` never prints the secrets.
#[derive(Clone, Default)]
pub enum EsAuth {
    /// No credentials.
    #[default]
    None,
    /// An API key: the base64 form Kibana shows, or `id:secret`.
    ApiKey(String),
    /// A user and password (HTTP Basic).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for EsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EsAuth::None => f.write_str("None"),
            EsAuth::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            EsAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// How often and how patiently failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles on each further one.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts (the reference's five retries), waiting about 1, 2, 4, 8 and 16 s between.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// What [`EsSink::check`] found out about the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterCheck {
    /// The cluster name.
    pub cluster_name: String,
    /// `elasticsearch` or `opensearch`.
    pub distribution: String,
    /// The version number, e.g. `8.15.0` or `2.19.1`.
    pub version: String,
    /// Whether the credentials hold every privilege the connector needs (see
    /// [`super::needed_privileges`]).
    pub privileges: PrivilegeCheck,
    /// What the content index is now, e.g. "`search-wiki` is an alias of `search-wiki-...`".
    pub index_state: String,
    /// What stops syncs, besides privileges (e.g. the ingest pipeline does not exist).
    pub problems: Vec<String>,
}

/// The result of the privilege check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivilegeCheck {
    /// Every privilege the sync needs is granted.
    Granted,
    /// These privileges are missing, as `index: privilege` or `cluster: privilege`.
    Missing(Vec<String>),
    /// The cluster offers no way to check, with the reason (e.g. no security plugin).
    NotChecked(String),
}

/// One content index of one cluster, as a [`Sink`].
pub struct EsSink {
    client: Arc<EsClient>,
    /// The configured name: the index, or the alias with the alias swap.
    index: String,
    /// Settings, pipeline, alias swap (boxed: `AnySink` stays small).
    setup: Box<Setup>,
    prepared: OnceCell<()>,
    /// The full sync in progress, if [`Sink::begin_full_sync`] changed anything.
    full: Mutex<Option<rebuild::FullState>>,
}

/// What the connection configures besides the index name.
struct Setup {
    settings: IndexSettings,
    pipeline: Option<String>,
    alias_swap: bool,
    /// What the privilege check asks for.
    privileges: super::Privileges,
}

impl EsSink {
    /// A sink on `options.index`; nothing is sent yet.
    pub fn new(options: &EsOptions) -> Result<EsSink> {
        validate_index_name(&options.index)?;
        Ok(EsSink {
            client: Arc::new(EsClient::new(options)?),
            index: options.index.clone(),
            setup: Box::new(Setup {
                settings: options.settings.clone(),
                pipeline: options.pipeline.clone(),
                alias_swap: options.alias_swap,
                privileges: super::needed_privileges(options),
            }),
            prepared: OnceCell::new(),
            full: Mutex::new(None),
        })
    }

    /// The index writes, scans and counts go to: the fresh index while a full sync rebuilds,
    /// the configured name otherwise.
    fn target(&self) -> String {
        match &*self.full.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(rebuild::FullState::Rebuild { index, .. }) => index.clone(),
            _ => self.index.clone(),
        }
    }

    /// The content index name.
    pub fn index(&self) -> &str {
        &self.index
    }

    /// The cluster URL, without credentials.
    pub fn url(&self) -> &str {
        self.client.url()
    }

    /// The identity-document index that belongs to this content index.
    pub fn acl_index(&self) -> AclIndex {
        AclIndex {
            client: Arc::clone(&self.client),
            index: acl_filter_index_name(&self.index),
            prepared: OnceCell::new(),
        }
    }

    /// Asks the cluster who it is and whether the credentials may write the indices. Sends each
    /// request once: a connection test must answer fast.
    pub async fn check(&self) -> Result<ClusterCheck> {
        let root = self.client.json_once(Method::Get, "/", None).await?;
        if !root.is_success() {
            return Err(root.refused("GET /").into());
        }
        let version = &root.body["version"];
        let distribution = version["distribution"]
            .as_str()
            .unwrap_or("elasticsearch")
            .to_owned();
        let privileges = if distribution == "opensearch" {
            self.opensearch_privileges().await?
        } else {
            self.elasticsearch_privileges().await?
        };
        let mut problems = Vec::new();
        if let Some(pipeline) = &self.setup.pipeline {
            let path = format!("/_ingest/pipeline/{}", encode_path(pipeline));
            let answer = self.client.json_once(Method::Get, &path, None).await?;
            match answer.status {
                200..300 => {}
                404 => problems.push(format!(
                    "the ingest pipeline `{pipeline}` does not exist on this cluster: create it \
                     (Stack Management > Ingest Pipelines) or clear the connection's pipeline"
                )),
                // Not allowed to look: the sync's own writes will tell.
                401 | 403 => {}
                _ => problems.push(format!(
                    "the ingest pipeline `{pipeline}` could not be checked: {}",
                    answer.reason()
                )),
            }
        }
        let index_state = self.describe_index().await.unwrap_or_else(|err| {
            format!("the state of `{}` could not be read: {err}", self.index)
        });
        Ok(ClusterCheck {
            cluster_name: root.body["cluster_name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            distribution,
            version: version["number"].as_str().unwrap_or_default().to_owned(),
            privileges,
            index_state,
            problems,
        })
    }

    /// What the configured name is now, in words, with what the next full sync does about it.
    async fn describe_index(&self) -> Result<String> {
        let name = &self.index;
        Ok(match (self.live().await?, self.setup.alias_swap) {
            (rebuild::Live::Nothing, true) => format!(
                "`{name}` does not exist yet: the first sync creates an index behind the alias \
                 `{name}`"
            ),
            (rebuild::Live::Nothing, false) => {
                format!("`{name}` does not exist yet: the first sync creates it")
            }
            (rebuild::Live::Alias(indices), true) => format!(
                "`{name}` is an alias of `{}`; full syncs rebuild into a fresh index and move \
                 the alias when complete",
                indices.join("`, `")
            ),
            (rebuild::Live::Alias(indices), false) => format!(
                "`{name}` is an alias of `{}`: syncs write through it (turn the alias swap on \
                 to rebuild on full syncs)",
                indices.join("`, `")
            ),
            (rebuild::Live::Index, true) => format!(
                "`{name}` is an index, not an alias: the next full sync writes a fresh index \
                 beside it and, once that is complete, deletes `{name}` and puts the alias \
                 `{name}` on the fresh index in one atomic step (searchers see the old index \
                 until then)"
            ),
            (rebuild::Live::Index, false) => format!("`{name}` is an index"),
        })
    }

    async fn elasticsearch_privileges(&self) -> Result<PrivilegeCheck> {
        let body = self.setup.privileges.has_privileges_body();
        let path = "/_security/user/_has_privileges";
        let answer = self
            .client
            .json_once(Method::Post, path, Some(body))
            .await?;
        if !answer.is_success() {
            return match answer.status {
                401 | 403 => Err(answer.refused(&format!("POST {path}")).into()),
                _ => Ok(PrivilegeCheck::NotChecked(format!(
                    "security is not enabled on this cluster: privileges not checked ({})",
                    answer.reason()
                ))),
            };
        }
        if answer.body["has_all_requested"] == true {
            return Ok(PrivilegeCheck::Granted);
        }
        let mut missing = Vec::new();
        for (privilege, granted) in answer.body["cluster"].as_object().into_iter().flatten() {
            if granted != true {
                missing.push(format!("cluster: {privilege}"));
            }
        }
        if let Some(indices) = answer.body["index"].as_object() {
            for (index, privileges) in indices {
                for (privilege, granted) in privileges.as_object().into_iter().flatten() {
                    if granted != true {
                        missing.push(format!("{index}: {privilege}"));
                    }
                }
            }
        }
        Ok(PrivilegeCheck::Missing(missing))
    }

    async fn opensearch_privileges(&self) -> Result<PrivilegeCheck> {
        let path = "/_plugins/_security/api/account";
        let answer = self.client.json_once(Method::Get, path, None).await?;
        Ok(match answer.status {
            200..300 => PrivilegeCheck::NotChecked(format!(
                "OpenSearch security plugin: signed in as `{}` with roles {}; index privileges not checked",
                answer.body["user_name"].as_str().unwrap_or("?"),
                answer.body["roles"]
            )),
            401 | 403 => return Err(answer.refused(&format!("GET {path}")).into()),
            _ => PrivilegeCheck::NotChecked(
                "no security plugin: privileges not checked (without it the cluster grants \
                 everything to everyone who reaches it)"
                    .to_owned(),
            ),
        })
    }

    /// Deletes the content index (with the alias swap, every index behind the alias); a missing
    /// index is not an error.
    pub async fn delete_index(&self) -> Result<()> {
        if let rebuild::Live::Alias(indices) = self.live().await? {
            for index in indices {
                delete_index(&self.client, &index).await?;
            }
            return Ok(());
        }
        delete_index(&self.client, &self.index).await
    }

    /// Creates the content index if it does not exist (with the alias swap: a first index
    /// behind the alias), or gives the existing one the configured replicas and refresh
    /// interval.
    async fn ensure_prepared(&self) -> Result<()> {
        self.prepared
            .get_or_try_init(|| async {
                if self.setup.alias_swap {
                    return self.prepare_alias().await;
                }
                let body = json!({
                    "settings": self.setup.settings.creation(false),
                    "mappings": content_mapping(),
                });
                let created = self.client.create_index_with(&self.index, &body).await?;
                if !created {
                    self.apply_steady_settings(&self.index).await?;
                }
                Ok::<(), crate::Error>(())
            })
            .await?;
        Ok(())
    }

    /// Gives `index` the replicas and refresh interval of the connection, if any is configured.
    async fn apply_steady_settings(&self, index: &str) -> Result<()> {
        let Some(body) = self.setup.settings.steady() else {
            return Ok(());
        };
        self.put_settings(index, body).await
    }

    async fn put_settings(&self, index: &str, body: Value) -> Result<()> {
        let path = format!("/{index}/_settings");
        let answer = self.client.json(Method::Put, &path, Some(body)).await?;
        if !answer.is_success() {
            return Err(answer.refused(&format!("PUT {path}")).into());
        }
        Ok(())
    }
}

impl Sink for EsSink {
    async fn prepare(&self) -> Result<()> {
        self.ensure_prepared().await
    }

    async fn write(&self, docs: Vec<IndexDoc>) -> Result<BulkOutcome> {
        // The index must exist with its mapping before the first bulk request, or the cluster
        // would create it with a dynamic mapping.
        self.ensure_prepared().await?;
        let ops = docs
            .into_iter()
            .map(|doc| {
                let mut source = doc.source;
                if let Value::Object(fields) = &mut source {
                    fields
                        .entry("id")
                        .or_insert_with(|| Value::String(doc.id.clone()));
                }
                Op {
                    kind: BulkOp::Index,
                    id: doc.id,
                    source: Some(source.to_string()),
                }
            })
            .collect();
        let index = self.target();
        Ok(self
            .client
            .bulk(&index, ops, self.setup.pipeline.as_deref())
            .await?)
    }

    async fn update_access(&self, docs: Vec<(String, Option<Vec<String>>)>) -> Result<BulkOutcome> {
        let ops = docs
            .into_iter()
            .map(|(id, acl)| Op {
                kind: BulkOp::SetAccess,
                id,
                source: Some(serde_json::to_string(&acl).unwrap_or_else(|_| "null".into())),
            })
            .collect();
        let mut outcome = self.client.bulk(&self.target(), ops, None).await?;
        // Only the access list was sent; the volume counts documents written whole.
        outcome.bytes = 0;
        Ok(outcome)
    }

    async fn delete(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        let ops = ids
            .into_iter()
            .map(|id| Op {
                kind: BulkOp::Delete,
                id,
                source: None,
            })
            .collect();
        Ok(self.client.bulk(&self.target(), ops, None).await?)
    }

    async fn scan(&self, page_size: usize, visit: &mut ScanVisitor<'_>) -> Result<()> {
        self.client.scan(&self.target(), page_size, visit).await
    }

    async fn refresh(&self) -> Result<()> {
        refresh(&self.client, &self.target()).await
    }

    async fn count(&self) -> Result<u64> {
        count(&self.client, &self.target()).await
    }

    /// Reads through the configured name: while a full sync rebuilds, the live index (a
    /// document whose text could not be fetched again keeps the text searchers have).
    async fn get(&self, id: &str) -> Result<Option<Value>> {
        get(&self.client, &self.index, id).await
    }

    async fn search(&self, req: &SearchRequest) -> Result<SearchPage> {
        let path = format!("/{}/_search", self.index);
        let answer = self
            .client
            .json(Method::Post, &path, Some(search_body(req)))
            .await?;
        if answer.is_index_not_found() {
            return Ok(SearchPage {
                total: 0,
                hits: Vec::new(),
            });
        }
        if !answer.is_success() {
            return Err(answer.refused(&format!("POST {path}")).into());
        }
        let hits = &answer.body["hits"];
        Ok(SearchPage {
            total: hits["total"]["value"].as_u64().unwrap_or_default(),
            hits: hits["hits"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|hit| SearchHit {
                    id: hit["_id"].as_str().unwrap_or_default().to_owned(),
                    score: hit["_score"].as_f64().unwrap_or(0.0) as f32,
                    source: hit["_source"].clone(),
                })
                .collect(),
        })
    }

    async fn begin_full_sync(&self, job_id: &str) -> Result<Vec<String>> {
        self.begin_full(job_id).await
    }

    fn rebuilding(&self) -> bool {
        matches!(
            &*self.full.lock().unwrap_or_else(|e| e.into_inner()),
            Some(rebuild::FullState::Rebuild { .. })
        )
    }

    async fn carry_over(&self, pick: &mut CarryPicker<'_>) -> Result<u64> {
        self.carry_over_from_live(pick).await
    }

    async fn end_full_sync(&self, complete: bool) -> Result<Vec<String>> {
        self.end_full(complete).await
    }
}

/// `text` escaped for one segment of a URL path.
fn encode_path(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The query DSL body of `req`.
fn search_body(req: &SearchRequest) -> Value {
    let mut filter: Vec<Value> = req
        .filters
        .iter()
        .map(|(field, value)| json!({ "term": { super::mapping::filter_field(field): value } }))
        .collect();
    if let Some(identities) = &req.access_control {
        // The reference's template: readable when there is no ACL, or when it shares an identity.
        filter.push(json!({
            "bool": {
                "should": [
                    { "bool": { "must_not": { "exists": { "field": "_allow_access_control" } } } },
                    { "terms": { "_allow_access_control": identities } }
                ],
                "minimum_should_match": 1
            }
        }));
    }
    let must = if req.query.trim().is_empty() {
        json!({ "match_all": {} })
    } else {
        json!({ "multi_match": { "query": req.query, "fields": SEARCH_FIELDS } })
    };
    json!({
        "from": req.from,
        "size": req.size,
        "track_total_hits": true,
        "query": { "bool": { "must": must, "filter": filter } }
    })
}

/// The `.search-acl-filter-<index>` index: one identity document per user, as the reference's
/// access-control sync writes them (`identity`, `created_at`, `query`).
pub struct AclIndex {
    client: Arc<EsClient>,
    index: String,
    prepared: OnceCell<()>,
}

impl AclIndex {
    /// The index name, `.search-acl-filter-<content index>`.
    pub fn name(&self) -> &str {
        &self.index
    }

    /// Creates the index with [`acl_filter_mapping`] if it does not exist (idempotent).
    pub async fn prepare(&self) -> Result<()> {
        self.prepared
            .get_or_try_init(|| async {
                self.client
                    .create_index(&self.index, &acl_filter_mapping())
                    .await
            })
            .await?;
        Ok(())
    }

    /// Creates or merges identity documents `(user id, body)` (`update` with `doc_as_upsert`, as
    /// the reference does, since identity documents carry no timestamp to compare); `id` is added
    /// to each body. Created and updated are counted apart.
    pub async fn upsert(&self, docs: Vec<(String, Value)>) -> Result<BulkOutcome> {
        self.prepare().await?;
        let ops = docs
            .into_iter()
            .map(|(id, mut body)| {
                if let Value::Object(fields) = &mut body {
                    fields
                        .entry("id")
                        .or_insert_with(|| Value::String(id.clone()));
                }
                Op {
                    kind: BulkOp::Upsert,
                    id,
                    source: Some(body.to_string()),
                }
            })
            .collect();
        Ok(self.client.bulk(&self.index, ops, None).await?)
    }

    /// Deletes the identity documents of users that are gone; a missing id is not an error.
    pub async fn delete(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        let ops = ids
            .into_iter()
            .map(|id| Op {
                kind: BulkOp::Delete,
                id,
                source: None,
            })
            .collect();
        Ok(self.client.bulk(&self.index, ops, None).await?)
    }

    /// Hands every identity document's id to `visit`, `page_size` at a time, in id order.
    pub async fn scan_ids(
        &self,
        page_size: usize,
        visit: &mut (dyn FnMut(Vec<String>) -> Result<()> + Send),
    ) -> Result<()> {
        let mut ids_only =
            |page: Vec<ExistingDoc>| visit(page.into_iter().map(|doc| doc.id).collect());
        self.client
            .scan(&self.index, page_size, &mut ids_only)
            .await
    }

    /// The identity document of user `id`, if there is one.
    pub async fn get(&self, id: &str) -> Result<Option<Value>> {
        get(&self.client, &self.index, id).await
    }

    /// How many identity documents there are.
    pub async fn count(&self) -> Result<u64> {
        count(&self.client, &self.index).await
    }

    /// Makes every write so far visible.
    pub async fn refresh(&self) -> Result<()> {
        refresh(&self.client, &self.index).await
    }

    /// Deletes the index; a missing index is not an error.
    pub async fn delete_index(&self) -> Result<()> {
        delete_index(&self.client, &self.index).await
    }
}

async fn refresh(client: &EsClient, index: &str) -> Result<()> {
    let path = format!("/{index}/_refresh");
    let answer = client.json(Method::Post, &path, None).await?;
    if answer.is_success() || answer.is_index_not_found() {
        return Ok(());
    }
    Err(answer.refused(&format!("POST {path}")).into())
}

async fn count(client: &EsClient, index: &str) -> Result<u64> {
    let path = format!("/{index}/_count");
    let answer = client.json(Method::Get, &path, None).await?;
    if answer.is_index_not_found() {
        return Ok(0);
    }
    if !answer.is_success() {
        return Err(answer.refused(&format!("GET {path}")).into());
    }
    Ok(answer.body["count"].as_u64().unwrap_or_default())
}

/// Reads one document through `_mget`, which takes the id in the body: no path escaping.
async fn get(client: &EsClient, index: &str, id: &str) -> Result<Option<Value>> {
    let path = format!("/{index}/_mget");
    let answer = client
        .json(Method::Post, &path, Some(json!({ "ids": [id] })))
        .await?;
    if answer.is_index_not_found() {
        return Ok(None);
    }
    if !answer.is_success() {
        return Err(answer.refused(&format!("POST {path}")).into());
    }
    let doc = &answer.body["docs"][0];
    if doc["found"] == true {
        Ok(Some(doc["_source"].clone()))
    } else {
        Ok(None)
    }
}

async fn delete_index(client: &EsClient, index: &str) -> Result<()> {
    let path = format!("/{index}");
    let answer: Answer = client.json(Method::Delete, &path, None).await?;
    if answer.is_success() || answer.is_index_not_found() {
        return Ok(());
    }
    Err(answer.refused(&format!("DELETE {path}")).into())
}

/// Refuses index names the cluster would refuse, before they end up in a request path.
fn validate_index_name(name: &str) -> Result<(), SinkError> {
    let bad = name.is_empty()
        || name.len() > 255
        || name.starts_with(['-', '_', '+', '.'])
        || name == ".."
        || name
            .chars()
            .any(|c| c.is_uppercase() || c.is_whitespace() || r#"\/*?"<>|,#:"#.contains(c));
    if bad {
        return Err(SinkError::Options(format!(
            "invalid index name `{name}`: use lowercase letters, digits, `-` and `_`, not first"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secrets() {
        let mut options = EsOptions::new("https://elastic:hunter2@es.example.com:9200", "idx");
        options.auth = EsAuth::Basic {
            username: "elastic".into(),
            password: "s3cret".into(),
        };
        let shown = format!("{options:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("elastic"));
        options.auth = EsAuth::ApiKey("a2V5OnNlY3JldA==".into());
        assert!(!format!("{options:?}").contains("a2V5"));
    }

    #[test]
    fn index_names_are_validated() {
        assert!(validate_index_name("search-confluence").is_ok());
        for bad in ["", "Upper", "a b", "a/b", "_x", "a#b", ".hidden"] {
            assert!(validate_index_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn search_body_filters_on_keyword_subfields_and_acl() {
        let body = search_body(&SearchRequest {
            query: "release".into(),
            filters: vec![("space".into(), "Engineering".into())],
            access_control: Some(vec!["user:a".into()]),
            ..SearchRequest::default()
        });
        let filter = &body["query"]["bool"]["filter"];
        assert_eq!(
            filter[0],
            json!({ "term": { "space.keyword": "Engineering" } })
        );
        assert_eq!(
            filter[1]["bool"]["should"][1]["terms"]["_allow_access_control"][0],
            "user:a"
        );
    }
}

//! The configured target, opened: the embedded local index or an Elasticsearch index, behind the
//! one [`Sink`] trait so that the sync, the search and the ACL tools do not care which.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{EsAuthMethod, SecretField, Secrets, Target};
use crate::sink::{
    BulkOutcome, CarryPicker, EsAuth, EsOptions, EsSink, IndexDoc, IndexSettings, LocalIndex,
    ScanVisitor, SearchPage, SearchRequest, Sink,
};
use crate::{Error, Result};

/// An opened target.
pub enum AnySink {
    /// The embedded local index.
    Local(LocalIndex),
    /// An Elasticsearch or OpenSearch index.
    Elasticsearch(EsSink),
}

/// Where the local index `name` lives under `data_dir`.
pub fn local_index_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("indices").join(format!("{name}.sqlite"))
}

/// The connection options of an Elasticsearch target, secrets filled in.
pub fn es_options(target: &crate::config::ElasticsearchTarget, secrets: &Secrets) -> EsOptions {
    let mut options = EsOptions::new(target.url.trim(), target.index_name.trim());
    options.auth = match target.auth_method {
        EsAuthMethod::ApiKey => match secrets.get(SecretField::EsApiKey) {
            Some(key) if !key.is_empty() => EsAuth::ApiKey(key.to_owned()),
            _ => EsAuth::None,
        },
        EsAuthMethod::Basic => EsAuth::Basic {
            username: target.username.clone(),
            password: secrets
                .get(SecretField::EsPassword)
                .unwrap_or_default()
                .to_owned(),
        },
    };
    options.ca_certificate_pem =
        Some(target.ca_certificate.clone()).filter(|pem| !pem.trim().is_empty());
    let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    options.settings = IndexSettings {
        shards: target.number_of_shards,
        replicas: target.number_of_replicas,
        refresh_interval: text(&target.refresh_interval),
        bulk_refresh_interval: text(&target.bulk_refresh_interval),
    };
    options.pipeline = text(&target.pipeline);
    options.alias_swap = target.alias_swap;
    options
}

/// The least-privilege role and API-key request for `target`, ready to paste into Kibana's
/// console (see [`crate::sink::Privileges::console`]).
pub fn es_role_request(target: &crate::config::ElasticsearchTarget) -> String {
    crate::sink::needed_privileges(&es_options(target, &Secrets::new())).console()
}

impl AnySink {
    /// Opens `target`; a local index is a file under `data_dir`.
    pub fn open(target: &Target, secrets: &Secrets, data_dir: &Path) -> Result<AnySink> {
        match target {
            Target::Local { index_name } => {
                let path = local_index_path(data_dir, index_name);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                        context: format!("creating `{}`", dir.display()),
                        source,
                    })?;
                }
                Ok(AnySink::Local(LocalIndex::open(&path)?))
            }
            Target::Elasticsearch(es) => Ok(AnySink::Elasticsearch(EsSink::new(&es_options(
                es, secrets,
            ))?)),
        }
    }

    /// A short description for messages: the index and where it is.
    pub fn describe(&self) -> String {
        match self {
            AnySink::Local(index) => match index.path() {
                Some(path) => format!("local index `{}`", path.display()),
                None => "in-memory local index".to_owned(),
            },
            AnySink::Elasticsearch(es) => format!("Elasticsearch index `{}`", es.index()),
        }
    }
}

macro_rules! each {
    ($self:ident, $sink:ident => $body:expr) => {
        match $self {
            AnySink::Local($sink) => $body,
            AnySink::Elasticsearch($sink) => $body,
        }
    };
}

impl Sink for AnySink {
    async fn prepare(&self) -> Result<()> {
        each!(self, s => s.prepare().await)
    }
    async fn write(&self, docs: Vec<IndexDoc>) -> Result<BulkOutcome> {
        each!(self, s => s.write(docs).await)
    }
    async fn update_access(&self, docs: Vec<(String, Option<Vec<String>>)>) -> Result<BulkOutcome> {
        each!(self, s => s.update_access(docs).await)
    }
    async fn delete(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        each!(self, s => s.delete(ids).await)
    }
    async fn scan(&self, page_size: usize, visit: &mut ScanVisitor<'_>) -> Result<()> {
        each!(self, s => s.scan(page_size, visit).await)
    }
    async fn refresh(&self) -> Result<()> {
        each!(self, s => s.refresh().await)
    }
    async fn count(&self) -> Result<u64> {
        each!(self, s => s.count().await)
    }
    async fn get(&self, id: &str) -> Result<Option<Value>> {
        each!(self, s => s.get(id).await)
    }
    async fn search(&self, req: &SearchRequest) -> Result<SearchPage> {
        each!(self, s => s.search(req).await)
    }
    async fn begin_full_sync(&self, job_id: &str) -> Result<Vec<String>> {
        each!(self, s => s.begin_full_sync(job_id).await)
    }
    fn rebuilding(&self) -> bool {
        each!(self, s => s.rebuilding())
    }
    async fn carry_over(&self, pick: &mut CarryPicker<'_>) -> Result<u64> {
        each!(self, s => s.carry_over(pick).await)
    }
    async fn end_full_sync(&self, complete: bool) -> Result<Vec<String>> {
        each!(self, s => s.end_full_sync(complete).await)
    }
}

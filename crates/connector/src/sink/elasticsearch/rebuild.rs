//! Full syncs on Elasticsearch: the refresh interval during bulk loading, and the alias swap.
//!
//! With [`EsOptions::alias_swap`](super::EsOptions::alias_swap) the configured name `<name>` is
//! an alias. A full sync writes a fresh index `<name>-<UTC time>-<job>` (created with the
//! connection's shards, replicas and bulk refresh interval, and `_meta.confluence_connector`
//! naming the alias and the job), while searchers and incremental syncs keep using the alias.
//! Before the deletion phase, the documents of the live index that the crawl did not write
//! (unseen ones, those the target refused) are copied over with `_reindex` (`op_type: create`),
//! so that the deletion phase judges them exactly as it would in place: kept when their space
//! could not be listed, deleted when gone, all under the same safety threshold. When the sync
//! completes, one `POST /_aliases` request moves the alias and deletes the indices it leaves
//! (`remove_index`; only indices this connector made for the alias, others just lose it). A
//! failed or cancelled sync deletes the fresh index; the alias never moved. An index left by a
//! process that died is deleted at the next full sync's start.
//!
//! Migration: when `<name>` is a concrete index, the fresh index is written beside it and the
//! same atomic request deletes it and puts the alias `<name>` on the fresh index, so searchers
//! go from the old index to the new one without a gap, and nothing is deleted before the new
//! index is complete.

use elasticsearch::http::Method;
use serde_json::{Value, json};

use super::{EsSink, content_mapping, delete_index, refresh, validate_index_name};
use crate::Result;
use crate::sink::{CarryPicker, SinkError};

/// What a full sync changed on the target, to undo or complete at its end.
#[derive(Debug, Clone)]
pub(super) enum FullState {
    /// Writing in place with the bulk refresh interval.
    InPlace,
    /// Writing into the fresh `index`.
    Rebuild {
        /// The fresh index.
        index: String,
        /// What the configured name was when the sync started.
        previous: Live,
    },
}

/// What the configured name is on the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Live {
    /// Neither an index nor an alias.
    Nothing,
    /// An alias of these indices.
    Alias(Vec<String>),
    /// A concrete index.
    Index,
}

/// Ids per `_reindex` request when carrying documents over.
const CARRY_CHUNK: usize = 1000;

impl EsSink {
    /// What the configured name is now.
    pub(super) async fn live(&self) -> Result<Live> {
        let path = format!("/_alias/{}", self.index);
        let answer = self.client.json(Method::Get, &path, None).await?;
        if answer.is_success() {
            let mut indices: Vec<String> = answer
                .body
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            indices.sort();
            if !indices.is_empty() {
                return Ok(Live::Alias(indices));
            }
        } else if answer.status != 404 {
            return Err(answer.refused(&format!("GET {path}")).into());
        }
        let path = format!("/{}", self.index);
        let exists = self.client.json(Method::Head, &path, None).await?;
        Ok(match exists.status {
            200..300 => Live::Index,
            404 => Live::Nothing,
            _ => return Err(exists.refused(&format!("HEAD {path}")).into()),
        })
    }

    /// A fresh index name for job `job_id`: `<name>-<yyyymmddhhmmss>-<first 8 of the job id>`.
    fn fresh_name(&self, job_id: &str) -> Result<String> {
        let job: String = job_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect::<String>()
            .to_lowercase();
        let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
        let name = format!("{}-{stamp}-{job}", self.index);
        validate_index_name(&name)?;
        Ok(name)
    }

    /// The content mapping with the marker that says which alias and job an index belongs to.
    fn marked_mapping(&self, job_id: &str) -> Value {
        let mut mapping = content_mapping();
        mapping["_meta"] = json!({
            "confluence_connector": {
                "alias": self.index,
                "job": job_id,
                "created_at": chrono::Utc::now().to_rfc3339(),
            }
        });
        mapping
    }

    /// Alias swap, preparing: a first (empty) index behind the alias when there is nothing yet,
    /// so that incremental syncs and searches work before the first full sync; the configured
    /// replicas and refresh interval otherwise.
    pub(super) async fn prepare_alias(&self) -> Result<()> {
        match self.live().await? {
            Live::Nothing => {
                let index = self.fresh_name("initial")?;
                let body = json!({
                    "settings": self.setup.settings.creation(false),
                    "mappings": self.marked_mapping("initial"),
                    "aliases": { self.index.as_str(): {} },
                });
                self.client.create_index_with(&index, &body).await?;
                Ok(())
            }
            Live::Alias(_) | Live::Index => self.apply_steady_settings(&self.index).await,
        }
    }

    /// [`crate::sink::Sink::begin_full_sync`].
    pub(super) async fn begin_full(&self, job_id: &str) -> Result<Vec<String>> {
        let mut notes = Vec::new();
        if self.setup.alias_swap {
            notes.extend(self.remove_leftovers().await?);
            let previous = self.live().await?;
            let index = self.fresh_name(job_id)?;
            let body = json!({
                "settings": self.setup.settings.creation(true),
                "mappings": self.marked_mapping(job_id),
            });
            self.client.create_index_with(&index, &body).await?;
            tracing::info!(%index, alias = %self.index, "full sync rebuilds into a fresh index");
            *self.full.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(FullState::Rebuild { index, previous });
        } else if let Some(during) = &self.setup.settings.bulk_refresh_interval {
            let body = json!({ "index": { "refresh_interval": during } });
            self.put_settings(&self.index, body).await?;
            *self.full.lock().unwrap_or_else(|e| e.into_inner()) = Some(FullState::InPlace);
        }
        Ok(notes)
    }

    /// [`crate::sink::Sink::carry_over`]: scans the live index's ids, lets `pick` choose, and
    /// copies the chosen documents into the fresh index (existing ones are left alone).
    pub(super) async fn carry_over_from_live(&self, pick: &mut CarryPicker<'_>) -> Result<u64> {
        let state = self.full.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(FullState::Rebuild { index, previous }) = state else {
            return Ok(0);
        };
        if previous == Live::Nothing {
            return Ok(0);
        }
        let mut chosen: Vec<String> = Vec::new();
        self.client
            .scan(&self.index, 1000, &mut |page| {
                chosen.extend(pick(page.into_iter().map(|doc| doc.id).collect())?);
                Ok(())
            })
            .await?;
        let mut copied = 0;
        for chunk in chosen.chunks(CARRY_CHUNK) {
            let body = json!({
                "conflicts": "proceed",
                "source": { "index": self.index, "query": { "ids": { "values": chunk } } },
                "dest": { "index": index, "op_type": "create" },
            });
            let path = "/_reindex?refresh=false";
            let answer = self.client.json(Method::Post, path, Some(body)).await?;
            if !answer.is_success() {
                return Err(answer.refused(&format!("POST {path}")).into());
            }
            if let Some(failure) = answer.body["failures"].as_array().and_then(|f| f.first()) {
                return Err(SinkError::BadAnswer {
                    request: format!("POST {path}"),
                    message: format!(
                        "copying documents from `{}` to `{index}` failed: {failure}",
                        self.index
                    ),
                }
                .into());
            }
            copied += answer.body["created"].as_u64().unwrap_or_default();
        }
        if copied > 0 {
            tracing::info!(copied, from = %self.index, to = %index, "documents carried over");
        }
        Ok(copied)
    }

    /// [`crate::sink::Sink::end_full_sync`].
    pub(super) async fn end_full(&self, complete: bool) -> Result<Vec<String>> {
        let state = self.full.lock().unwrap_or_else(|e| e.into_inner()).take();
        match state {
            None => Ok(Vec::new()),
            Some(FullState::InPlace) => {
                let body = json!({ "index": { "refresh_interval": self.setup.settings.refresh_interval } });
                self.put_settings(&self.index, body).await?;
                Ok(Vec::new())
            }
            Some(FullState::Rebuild { index, previous }) if !complete => {
                delete_index(&self.client, &index).await?;
                Ok(vec![format!(
                    "The full sync did not complete: its half-written index `{index}` was \
                     deleted, and `{}` still serves {} (searchers saw no change).",
                    self.index,
                    describe(&self.index, &previous)
                )])
            }
            Some(FullState::Rebuild { index, .. }) => match self.swap(&index).await {
                Ok(notes) => Ok(notes),
                Err(err) => {
                    // The alias did not move: the fresh index would only take space.
                    if let Err(cleanup) = delete_index(&self.client, &index).await {
                        tracing::warn!(%cleanup, %index, "could not delete the fresh index");
                    }
                    Err(err)
                }
            },
        }
    }

    /// Readies the fresh `index` for searchers, then moves the alias to it and deletes the
    /// indices it leaves, in one request.
    async fn swap(&self, index: &str) -> Result<Vec<String>> {
        if self.setup.settings.bulk_refresh_interval.is_some() {
            let body =
                json!({ "index": { "refresh_interval": self.setup.settings.refresh_interval } });
            self.put_settings(index, body).await?;
        }
        refresh(&self.client, index).await?;
        let alias = self.index.as_str();
        let mut actions = vec![json!({ "add": { "index": index, "alias": alias } })];
        let note = match self.live().await? {
            Live::Nothing => format!("The full sync created the alias `{alias}` on `{index}`."),
            Live::Index => {
                actions.push(json!({ "remove_index": { "index": alias } }));
                format!(
                    "`{alias}` was an index: now complete, the fresh index `{index}` replaced it \
                     behind the alias `{alias}`, and the old index was deleted, in one step."
                )
            }
            Live::Alias(indices) => {
                let ours = self.ours(&indices).await?;
                let (deleted, kept): (Vec<String>, Vec<String>) =
                    indices.into_iter().partition(|i| ours.contains(i));
                for old in &deleted {
                    actions.push(json!({ "remove_index": { "index": old } }));
                }
                for other in &kept {
                    actions.push(json!({ "remove": { "index": other, "alias": alias } }));
                }
                let mut note =
                    format!("The full sync rebuilt `{alias}`: the alias now points at `{index}`");
                if !deleted.is_empty() {
                    note.push_str(&format!(
                        "; the previous index `{}` was deleted",
                        deleted.join("`, `")
                    ));
                }
                if !kept.is_empty() {
                    note.push_str(&format!(
                        "; `{}` (not made by this connector) left the alias but was kept",
                        kept.join("`, `")
                    ));
                }
                note.push('.');
                note
            }
        };
        let path = "/_aliases";
        let answer = self
            .client
            .json(Method::Post, path, Some(json!({ "actions": actions })))
            .await?;
        if !answer.is_success() {
            return Err(answer.refused(&format!("POST {path}")).into());
        }
        *self.full.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tracing::info!(%index, %alias, "alias moved");
        Ok(vec![note])
    }

    /// Which of `indices` this connector made for its alias (their mapping's `_meta` says so).
    async fn ours(&self, indices: &[String]) -> Result<Vec<String>> {
        if indices.is_empty() {
            return Ok(Vec::new());
        }
        let path = format!("/{}/_mapping", indices.join(","));
        let answer = self.client.json(Method::Get, &path, None).await?;
        if !answer.is_success() {
            return Err(answer.refused(&format!("GET {path}")).into());
        }
        Ok(answer
            .body
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, index)| {
                index["mappings"]["_meta"]["confluence_connector"]["alias"] == self.index.as_str()
            })
            .map(|(name, _)| name.clone())
            .collect())
    }

    /// Deletes the fresh indices of full syncs whose process died: made by this connector for
    /// this alias, not behind it.
    async fn remove_leftovers(&self) -> Result<Vec<String>> {
        let pattern = format!("{}-*", self.index);
        let path = format!("/{pattern}/_alias");
        let answer = self.client.json(Method::Get, &path, None).await?;
        if answer.status == 404 {
            return Ok(Vec::new());
        }
        if !answer.is_success() {
            return Err(answer.refused(&format!("GET {path}")).into());
        }
        let loose: Vec<String> = answer
            .body
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, index)| index["aliases"].get(self.index.as_str()).is_none())
            .map(|(name, _)| name.clone())
            .collect();
        let mut notes = Vec::new();
        for index in self.ours(&loose).await? {
            delete_index(&self.client, &index).await?;
            notes.push(format!(
                "Deleted `{index}`, the unfinished index of a full sync whose process stopped."
            ));
        }
        Ok(notes)
    }
}

/// "the index `x`", "the index `a` (through its alias)", "nothing" for notes.
fn describe(name: &str, live: &Live) -> String {
    match live {
        Live::Nothing => "nothing yet".to_owned(),
        Live::Index => format!("the index `{name}`"),
        Live::Alias(indices) => format!("`{}`", indices.join("`, `")),
    }
}

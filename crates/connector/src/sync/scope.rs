//! Deliberate scope changes: the spaces or rules of a connection changed since its last
//! completed full sync, so the next full sync removes the documents now out of scope. That is
//! not an "unexplained disappearance" (what the safety threshold guards against): the user is
//! told how many documents will go and confirms once ([`super::SyncOptions::allow_deletions`]).

use std::collections::HashSet;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::lock;
use crate::config::{ConnectorConfig, Secrets};
use crate::confluence::{ConfluenceClient, SearchResult};
use crate::document::search_row::row_id;
use crate::rules::RuleSet;
use crate::sink::{SearchRequest, Sink};
use crate::store::{JobRecord, JobStatus, JobType, Store};
use crate::{Error, Result};

/// Rows per page of the id-only searches of advanced rules.
const ID_PAGE: usize = 100;
/// Documents read per page when basic rules must look at their fields.
const SOURCE_PAGE: usize = 500;
/// Elasticsearch pages `from + size` only up to this many hits (`index.max_result_window`).
const MAX_WINDOW: u64 = 10_000;

/// What the next full sync would remove on purpose, and whether it needs a confirmation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct DeletionPreview {
    /// Whether the spaces or the rules changed since the last completed full sync.
    pub scope_changed: bool,
    /// What changed, in words ("spaces: ENG, OPS → ENG", "advanced rules changed").
    pub changes: Vec<String>,
    /// Indexed documents that the new scope leaves out: the next full sync removes them.
    #[ts(type = "number")]
    pub removed: u64,
    /// Documents in the index now.
    #[ts(type = "number")]
    pub indexed: u64,
    /// True when `removed` is a lower bound (the index was too large to read whole).
    pub estimate: bool,
    /// The connection's deletion threshold, in percent.
    pub threshold_percent: u32,
    /// True when the removal exceeds the threshold: without the user's confirmation the sync
    /// would refuse to delete.
    pub needs_confirmation: bool,
}

impl DeletionPreview {
    /// "This will remove N documents from the index", or `None` when nothing is removed.
    pub fn message(&self) -> Option<String> {
        (self.removed > 0).then(|| {
            format!(
                "this will remove {}{} of {} documents from the index ({})",
                if self.estimate { "at least " } else { "" },
                self.removed,
                self.indexed,
                self.changes.join("; ")
            )
        })
    }
}

/// The last completed (or partial) full sync of `scope_key`: the scope the index reflects.
pub(crate) fn last_full_sync(store: &Store, scope_key: &str) -> Result<Option<JobRecord>> {
    Ok(store.jobs_of_scope(scope_key, 50)?.into_iter().find(|j| {
        j.job_type == JobType::Full && matches!(j.status, JobStatus::Completed | JobStatus::Partial)
    }))
}

/// How the scope of `config` and `rules` differs from that of `previous`, in words.
pub(crate) fn scope_changes(
    previous: &JobRecord,
    config: &ConnectorConfig,
    rules: Option<&RuleSet>,
) -> Vec<String> {
    let mut changes = Vec::new();
    let before: Vec<String> = previous
        .config
        .get("spaces")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    let mut a = before.clone();
    let mut b = config.spaces.clone();
    a.sort();
    b.sort();
    if a != b {
        changes.push(format!(
            "spaces: {} → {}",
            before.join(", "),
            config.spaces.join(", ")
        ));
    }
    let recorded = |r: Option<&RuleSet>| -> RuleSet {
        r.cloned().filter(|r| !r.is_empty()).unwrap_or_default()
    };
    let old: RuleSet = match &previous.rules {
        Value::Null => RuleSet::default(),
        v => serde_json::from_value(v.clone()).unwrap_or_default(),
    };
    let old = recorded(Some(&old));
    let new = recorded(rules);
    if old.advanced != new.advanced {
        changes.push("advanced rules changed".to_owned());
    }
    if old.basic != new.basic {
        changes.push("basic rules changed".to_owned());
    }
    changes
}

/// What the next full sync of `scope_key` with `config` and `rules` would remove because its
/// scope changed since the last completed full sync. Advanced rules are run as id-only
/// searches against Confluence; spaces and basic rules are checked against the index.
pub async fn deletion_preview<S: Sink>(
    store: &Mutex<Store>,
    scope_key: &str,
    config: &ConnectorConfig,
    secrets: &Secrets,
    rules: Option<&RuleSet>,
    sink: &S,
) -> Result<DeletionPreview> {
    let previous = last_full_sync(&lock(store), scope_key)?;
    let mut preview = DeletionPreview {
        threshold_percent: config.deletion_threshold_percent,
        ..DeletionPreview::default()
    };
    let Some(previous) = previous else {
        return Ok(preview);
    };
    preview.changes = scope_changes(&previous, config, rules);
    let rules = rules.filter(|r| !r.is_empty());
    // With every space in scope, the spaces Confluence lists now: documents of the others are
    // kept by a sync until the user confirms their removal.
    let listed: Option<HashSet<String>> =
        if config.all_spaces() && rules.is_none_or(|r| !r.has_advanced()) {
            let client = ConfluenceClient::from_config(config, secrets)?;
            let spaces = client.spaces().await?;
            Some(spaces.into_iter().filter_map(|s| s.key).collect())
        } else {
            None
        };
    if preview.changes.is_empty() && listed.is_none() {
        return Ok(preview);
    }
    sink.refresh().await?;
    preview.indexed = sink.count().await?;
    let filter = match rules {
        Some(r) => r.basic_filter().map_err(Error::InvalidInput)?,
        None => None,
    };
    let selected: Option<HashSet<String>> = match rules.filter(|r| r.has_advanced()) {
        Some(r) => {
            let client = ConfluenceClient::from_config(config, secrets)?;
            let mut ids = HashSet::new();
            for rule in &r.advanced {
                let mut pager = client.search_cql_with::<SearchResult>(&rule.query, ID_PAGE, "")?;
                while let Some(page) = pager.next_page().await? {
                    ids.extend(page.results.iter().filter_map(row_id));
                }
            }
            Some(ids)
        }
        None => None,
    };
    let mut vanished = std::collections::BTreeMap::<String, u64>::new();
    let mut in_spaces = |space: Option<&str>| match (&listed, space) {
        (Some(listed), Some(space)) if !listed.contains(space) => {
            *vanished.entry(space.to_owned()).or_default() += 1;
            false
        }
        (Some(_), _) => true,
        (None, _) if config.all_spaces() || selected.is_some() => true,
        (None, space) => space.is_some_and(|s| config.spaces.iter().any(|k| k == s)),
    };
    let mut removed = 0u64;
    match &filter {
        // Basic rules look at the documents' fields: read them page by page.
        Some(filter) => {
            let mut from = 0usize;
            loop {
                if from as u64 >= MAX_WINDOW.min(preview.indexed) {
                    preview.estimate = preview.indexed > MAX_WINDOW;
                    break;
                }
                let page = sink
                    .search(&SearchRequest {
                        from,
                        size: SOURCE_PAGE,
                        ..SearchRequest::default()
                    })
                    .await?;
                if page.hits.is_empty() {
                    break;
                }
                from += page.hits.len();
                for hit in &page.hits {
                    let space = hit.source.get("space_key").and_then(Value::as_str);
                    let kept = in_spaces(space)
                        && selected.as_ref().is_none_or(|ids| ids.contains(&hit.id))
                        && filter.admit_source(&hit.source);
                    removed += u64::from(!kept);
                }
            }
        }
        None => {
            sink.scan(1000, &mut |page| {
                for doc in page {
                    let kept = in_spaces(doc.space_key.as_deref())
                        && selected.as_ref().is_none_or(|ids| ids.contains(&doc.id));
                    removed += u64::from(!kept);
                }
                Ok(())
            })
            .await?;
        }
    }
    if !vanished.is_empty() {
        preview.changes.push(format!(
            "spaces Confluence no longer lists: {}",
            vanished
                .iter()
                .map(|(space, n)| format!("{space} ({n} documents)"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    preview.scope_changed = !preview.changes.is_empty();
    if !preview.scope_changed {
        return Ok(DeletionPreview {
            indexed: preview.indexed,
            ..preview
        });
    }
    preview.removed = removed;
    let allowed =
        (preview.indexed as f64 * f64::from(config.deletion_threshold_percent) / 100.0).floor();
    // Vanished spaces are kept until confirmed, whatever their share.
    preview.needs_confirmation = removed as f64 > allowed || !vanished.is_empty();
    Ok(preview)
}

//! Live preview of a draft rule set: the total count and the first matching items, with a
//! breakdown per rule, in one round of requests (the queries run concurrently, one page each).
//!
//! - Advanced rules: each query's first page (`limit` rows, light expansions) gives its items
//!   and `totalSize` (exact on Server/Data Center, an estimate on Cloud). With several queries
//!   the overall total is the sum, an upper bound when they overlap.
//! - Basic rules are previewed over a sample: the first `sample_size` rows of the advanced
//!   queries, or of the standard scope (the configured spaces, every indexed type, most recently
//!   modified first). Each rule's matches in the sample are counted, and the total is the
//!   sample's kept share of the scope.
//! - The standard scope is searched with archived spaces included, as the crawl lists them.
//! - The preview says what it counts ([`Preview::counts`]); a query that is invalid or that
//!   Confluence refuses makes [`Preview::error`], never a count of 0; and
//!   [`Preview::compare_with_index`] names the difference with the documents indexed now.

use std::time::Instant;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{BasicFilter, RuleSet, cql};
use crate::config::ConnectorConfig;
use crate::confluence::{ConfluenceClient, Flavor};
use crate::document::search_row::{Built, Row, build};
use crate::document::{Document, site_links};

/// How much a preview fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PreviewOptions {
    /// Items to return (overall and per rule).
    pub limit: u32,
    /// Documents sampled to preview basic rules.
    pub sample_size: u32,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        PreviewOptions {
            limit: 10,
            sample_size: 100,
        }
    }
}

/// One matching item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PreviewItem {
    /// Document id.
    pub id: String,
    /// `space`, `page`, `blogpost`, `attachment`, `comment`.
    pub kind: String,
    /// Space name.
    pub space: Option<String>,
    /// Space key.
    pub space_key: Option<String>,
    /// Title.
    pub title: String,
    /// Last modification time.
    pub last_modified: Option<String>,
    /// Link to Confluence.
    pub url: Option<String>,
}

impl From<&Document> for PreviewItem {
    fn from(d: &Document) -> Self {
        PreviewItem {
            id: d.id.clone(),
            kind: d.kind.as_str().to_owned(),
            space: d.space.clone(),
            space_key: d.space_key.clone(),
            title: d.title.clone(),
            last_modified: Some(d.timestamp.clone()),
            url: d.url.clone(),
        }
    }
}

/// The preview of one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RulePreview {
    /// `advanced` or `basic`.
    pub kind: super::RuleKind,
    /// Position in its list.
    pub index: u32,
    /// Advanced: the query.
    pub query: Option<String>,
    /// Basic: the rule id.
    pub rule_id: Option<String>,
    /// Advanced: Confluence's count of matches. Basic: documents of the sample it decided.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    /// Whether `total` is exact (Cloud's `totalSize` is an estimate).
    pub exact: bool,
    /// Advanced: its first items.
    pub items: Vec<PreviewItem>,
    /// Why the rule could not be previewed (invalid CQL, Confluence's refusal).
    pub error: Option<String>,
    /// Milliseconds its request took.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

/// The preview of a rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Preview {
    /// Documents the rules would index (see `exact`).
    #[ts(type = "number")]
    pub total: u64,
    /// Whether `total` is exact; otherwise an estimate (Cloud, overlapping queries, or basic
    /// rules extrapolated from the sample).
    pub exact: bool,
    /// The first items that would be indexed.
    pub items: Vec<PreviewItem>,
    /// Per rule: advanced rules first, then basic rules in evaluation order.
    pub rules: Vec<RulePreview>,
    /// Documents sampled for basic rules (0 without basic rules).
    pub sampled: u32,
    /// Sampled documents the basic rules keep.
    pub kept: u32,
    /// Milliseconds the preview took.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// What `total` counts, in words: "spaces, pages, blog posts, attachments and comments in
    /// every space (archived ones included) that Confluence's search finds".
    pub counts: String,
    /// Why there is no count: the first rule that is invalid or that Confluence refused, in
    /// words. `total` then counts only what answered: do not show it as the rules' count.
    pub error: Option<String>,
    /// Documents in the index now, when the caller knows ([`Preview::compare_with_index`]).
    #[ts(type = "number | null")]
    pub indexed: Option<u64>,
    /// How `total` and `indexed` differ, and why, in words.
    pub difference: Option<String>,
}

impl Preview {
    /// Compares the count with the `indexed` documents of the connection's index (the content
    /// index: identity documents are apart) and names the difference. `rules` are the rules
    /// previewed.
    pub fn compare_with_index(&mut self, indexed: u64, rules: &RuleSet) {
        self.indexed = Some(indexed);
        self.difference = if self.error.is_some() {
            None
        } else {
            Some(difference(self.total, self.exact, indexed, rules))
        };
    }
}

/// "The index holds 389 documents now, 67 more than counted here: ..."
fn difference(total: u64, exact: bool, indexed: u64, rules: &RuleSet) -> String {
    let about = if exact { "" } else { "about " };
    let estimate = if exact {
        ""
    } else {
        " (the count here is an estimate)"
    };
    let narrowed = rules.has_advanced() || !rules.basic.is_empty();
    let docs = |n: u64| format!("{n} document{}", if n == 1 { "" } else { "s" });
    if total == indexed {
        return format!(
            "The index holds {} now: {about}the same number{estimate}.",
            docs(indexed)
        );
    }
    let d = total.abs_diff(indexed);
    if total < indexed {
        let why = if narrowed {
            "the next full sync removes the documents these rules leave out, and those deleted \
             in Confluence"
        } else {
            "documents deleted in Confluence since the last sync (the next sync removes them), \
             or changed so recently that Confluence's search does not find them yet"
        };
        format!(
            "The index holds {} now, {about}{d} more than counted here{estimate}: {why}.",
            docs(indexed)
        )
    } else {
        let why = if narrowed {
            "content created since the last sync, or left out by the rules of the last sync; \
             the next sync adds it"
        } else {
            "content created since the last sync, or that the last sync could not write; the \
             next sync adds it"
        };
        format!(
            "The index holds {} now, {about}{d} fewer than counted here{estimate}: {why}.",
            docs(indexed)
        )
    }
}

/// What the preview of `rules` counts, in words.
fn counts_words(config: &ConnectorConfig, rules: &RuleSet, sampled: bool) -> String {
    let what = "spaces, pages, blog posts, attachments and comments";
    let base = if rules.has_advanced() {
        let n = rules.advanced.len();
        if n == 1 {
            format!("{what} that the CQL query finds")
        } else {
            format!(
                "{what} that the {n} CQL queries find, added up (a document two queries find \
                 counts twice, and is synced once)"
            )
        }
    } else {
        let spaces: Vec<&str> = config
            .spaces
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .collect();
        let scope = if spaces.is_empty() || spaces.contains(&"*") {
            "every space (archived ones included)".to_owned()
        } else {
            format!("the spaces {}", spaces.join(", "))
        };
        format!("{what} in {scope} that Confluence's search finds")
    };
    if sampled {
        format!("{base}, which the basic rules keep (estimated from a sample)")
    } else {
        base
    }
}

/// Light expansions: enough for the preview columns and for basic rules on the usual fields.
fn expand(with_body: bool) -> String {
    let mut e =
        "content.space,content.history,content.version,content.ancestors,content.container,\
content.extensions,content.metadata.labels"
            .to_owned();
    if with_body {
        e.push_str(",content.body.storage");
    }
    e
}

struct Fetched {
    total: Option<u64>,
    docs: Vec<Document>,
    elapsed_ms: u64,
}

async fn fetch(
    client: &ConfluenceClient,
    cql: &str,
    limit: usize,
    expand: &str,
    index_labels: bool,
    everywhere: bool,
) -> Result<Fetched, String> {
    let started = Instant::now();
    let links = site_links(client);
    let pager = if everywhere {
        client.search_cql_everywhere::<serde_json::Value>(cql, limit.max(1), expand)
    } else {
        client.search_cql_with::<serde_json::Value>(cql, limit.max(1), expand)
    };
    let mut pager = pager.map_err(|e| e.to_string())?;
    let mut docs = Vec::new();
    let mut total = None;
    // Server/DC clip pages (50 with a body); fetch until `limit` rows or the end.
    while docs.len() < limit {
        let Some(page) = pager.next_page().await.map_err(|e| e.to_string())? else {
            break;
        };
        total = total.or(page.total_size);
        for row in page.results.into_iter().filter_map(Row::from_value) {
            match build(&row, &links, index_labels) {
                Built::Doc(doc) => docs.push(*doc),
                Built::Attachment(att, container) => {
                    if let Some(doc) = Document::from_attachment(&att, &container, &links) {
                        docs.push(doc);
                    }
                }
                Built::Skip(_) => {}
            }
        }
    }
    docs.truncate(limit);
    Ok(Fetched {
        total,
        docs,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// The CQL of the standard crawl's scope: the configured spaces, every indexed type.
pub fn standard_scope_cql(config: &ConnectorConfig) -> String {
    let types = "type in (space, page, blogpost, attachment, comment)";
    let spaces: Vec<String> = config
        .spaces
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| cql::quote(k))
        .collect();
    if spaces.is_empty() || config.spaces.iter().any(|k| k == "*") {
        format!("{types} order by lastmodified desc")
    } else {
        format!(
            "{types} and space in ({}) order by lastmodified desc",
            spaces.join(", ")
        )
    }
}

/// Previews `rules` against Confluence.
pub async fn preview(
    client: &ConfluenceClient,
    config: &ConnectorConfig,
    rules: &RuleSet,
    options: &PreviewOptions,
) -> Preview {
    let started = Instant::now();
    let limit = options.limit.max(1) as usize;
    let filter = BasicFilter::new(&rules.basic)
        .ok()
        .filter(|f| !f.is_empty());
    let basic_error = BasicFilter::new(&rules.basic).err();
    let sample = if filter.is_some() {
        options.sample_size.max(options.limit).max(1) as usize
    } else {
        limit
    };
    let with_body = filter
        .as_ref()
        .is_some_and(|f| f.rules().any(|r| r.field == "body"));
    let expand = expand(with_body);
    let flavor = client.flavor();
    let cloud = flavor == Flavor::Cloud;

    // The queries: the advanced rules, or the standard scope for basic rules alone.
    let queries: Vec<(Option<usize>, String)> = if rules.has_advanced() {
        rules
            .advanced
            .iter()
            .enumerate()
            .map(|(i, r)| (Some(i), r.query.clone()))
            .collect()
    } else {
        vec![(None, standard_scope_cql(config))]
    };
    // The standard crawl lists archived spaces too; advanced rules search as the sync will.
    let everywhere = !rules.has_advanced();
    let fetches = join_all(queries.iter().map(|(_, q)| {
        let expand = expand.clone();
        async move {
            let problems = cql::validate(q, flavor);
            if let Some(p) = problems
                .iter()
                .find(|p| p.severity == crate::config::Severity::Error)
            {
                return Err(p.describe());
            }
            fetch(client, q, sample, &expand, config.index_labels, everywhere)
                .await
                .map_err(|e| format!("Confluence refused the search: {e}"))
        }
    }))
    .await;

    let mut rule_previews = Vec::new();
    let mut items: Vec<PreviewItem> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut scope_total: u64 = 0;
    let mut exact = !cloud && queries.len() == 1;
    let mut sampled: Vec<Document> = Vec::new();
    let mut first_error: Option<String> = None;
    for ((index, query), fetched) in queries.iter().zip(fetches) {
        match fetched {
            Ok(f) => {
                scope_total += f.total.unwrap_or(f.docs.len() as u64);
                exact &= f.total.is_some();
                if let Some(i) = index {
                    rule_previews.push(RulePreview {
                        kind: super::RuleKind::Advanced,
                        index: *i as u32,
                        query: Some(query.clone()),
                        rule_id: None,
                        total: f.total,
                        exact: !cloud && f.total.is_some(),
                        items: f.docs.iter().take(limit).map(PreviewItem::from).collect(),
                        error: None,
                        elapsed_ms: f.elapsed_ms,
                    });
                }
                for doc in f.docs {
                    if seen.insert(doc.id.clone()) {
                        sampled.push(doc);
                    }
                }
            }
            Err(error) => {
                exact = false;
                first_error.get_or_insert_with(|| match index {
                    Some(i) => format!("advanced rule {}: {error}", i + 1),
                    None => format!("the search of the sync's scope: {error}"),
                });
                if let Some(i) = index {
                    rule_previews.push(RulePreview {
                        kind: super::RuleKind::Advanced,
                        index: *i as u32,
                        query: Some(query.clone()),
                        rule_id: None,
                        total: None,
                        exact: false,
                        items: Vec::new(),
                        error: Some(error),
                        elapsed_ms: 0,
                    });
                } else {
                    rule_previews.push(RulePreview {
                        kind: super::RuleKind::Set,
                        index: 0,
                        query: Some(query.clone()),
                        rule_id: None,
                        total: None,
                        exact: false,
                        items: Vec::new(),
                        error: Some(error),
                        elapsed_ms: 0,
                    });
                }
            }
        }
    }

    let (total, sampled_n, kept_n) = match &filter {
        Some(filter) => {
            let n = sampled.len();
            let mut kept = 0usize;
            for doc in &sampled {
                if filter.admit(doc) {
                    kept += 1;
                    if items.len() < limit {
                        items.push(PreviewItem::from(doc));
                    }
                }
            }
            for (i, m) in filter.matches().into_iter().enumerate() {
                rule_previews.push(RulePreview {
                    kind: super::RuleKind::Basic,
                    index: i as u32,
                    query: None,
                    rule_id: Some(m.rule_id),
                    total: Some(m.matched),
                    exact: true,
                    items: Vec::new(),
                    error: None,
                    elapsed_ms: 0,
                });
            }
            let total = if n == 0 {
                0
            } else if (n as u64) >= scope_total {
                kept as u64
            } else {
                exact = false;
                (scope_total as f64 * kept as f64 / n as f64).round() as u64
            };
            (total, n as u32, kept as u32)
        }
        None => {
            items = sampled.iter().take(limit).map(PreviewItem::from).collect();
            (scope_total, 0, 0)
        }
    };
    if let Some(error) = basic_error {
        first_error.get_or_insert_with(|| format!("basic rules: {error}"));
        rule_previews.push(RulePreview {
            kind: super::RuleKind::Basic,
            index: 0,
            query: None,
            rule_id: None,
            total: None,
            exact: false,
            items: Vec::new(),
            error: Some(error),
            elapsed_ms: 0,
        });
    }
    Preview {
        total,
        exact: exact && queries.len() == 1,
        items,
        rules: rule_previews,
        sampled: sampled_n,
        kept: kept_n,
        elapsed_ms: started.elapsed().as_millis() as u64,
        counts: counts_words(config, rules, filter.is_some()),
        error: first_error,
        indexed: None,
        difference: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(total: u64, exact: bool) -> Preview {
        Preview {
            total,
            exact,
            items: vec![],
            rules: vec![],
            sampled: 0,
            kept: 0,
            elapsed_ms: 1,
            counts: String::new(),
            error: None,
            indexed: None,
            difference: None,
        }
    }

    fn narrowing() -> RuleSet {
        RuleSet {
            basic: vec![],
            advanced: vec![super::super::AdvancedRule {
                query: "space = ENG".into(),
            }],
        }
    }

    #[test]
    fn the_difference_with_the_index_is_named() {
        let mut p = preview(389, true);
        p.compare_with_index(389, &RuleSet::default());
        assert_eq!(
            p.difference.as_deref(),
            Some("The index holds 389 documents now: the same number.")
        );
        let mut p = preview(322, false);
        p.compare_with_index(389, &RuleSet::default());
        let d = p.difference.unwrap();
        assert!(
            d.starts_with(
                "The index holds 389 documents now, about 67 more than counted here (the count \
                 here is an estimate): documents deleted in Confluence"
            ),
            "{d}"
        );
        let mut p = preview(120, true);
        p.compare_with_index(389, &narrowing());
        let d = p.difference.unwrap();
        assert!(
            d.contains(
                "269 more than counted here: the next full sync removes the documents these \
                 rules leave out"
            ),
            "{d}"
        );
        let mut p = preview(400, true);
        p.compare_with_index(389, &RuleSet::default());
        let d = p.difference.unwrap();
        assert!(
            d.contains("11 fewer than counted here: content created since the last sync"),
            "{d}"
        );
    }

    #[test]
    fn a_preview_that_failed_names_no_difference() {
        let mut p = preview(0, false);
        p.error = Some("advanced rule 1: expected a value (at character 7)".into());
        p.compare_with_index(389, &narrowing());
        assert_eq!(p.indexed, Some(389));
        assert_eq!(p.difference, None);
    }

    #[test]
    fn the_preview_says_what_it_counts() {
        let mut config = ConnectorConfig {
            spaces: vec!["*".into()],
            ..ConnectorConfig::default()
        };
        assert_eq!(
            counts_words(&config, &RuleSet::default(), false),
            "spaces, pages, blog posts, attachments and comments in every space (archived ones \
             included) that Confluence's search finds"
        );
        config.spaces = vec!["ENG".into(), "HR".into()];
        assert!(counts_words(&config, &RuleSet::default(), true).ends_with(
            "in the spaces ENG, HR that Confluence's search finds, which the basic rules keep \
             (estimated from a sample)"
        ));
        let mut two = narrowing();
        two.advanced.push(two.advanced[0].clone());
        assert!(counts_words(&config, &two, false).contains("the 2 CQL queries find, added up"));
    }
}

//! The sync's view of the manifest (see [`crate::store::ManifestEntry`]): what each document
//! looked like when the target last acknowledged it, loaded once per run, and the hashes a
//! document is compared by.
//!
//! A document is compared in three parts: its metadata (everything but text and access), its
//! text, its access list. All three equal: unchanged, nothing is written. Only the access list
//! differs: only `_allow_access_control` is rewritten. Anything else: the document is written.
//! An attachment whose metadata (version, size, name, container) is unchanged and whose text
//! was extracted completely before is not downloaded at all.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use serde_json::Value;

use crate::Result;
use crate::config::ConnectorConfig;
use crate::document::{DocType, Document};
use crate::sink::Sink;
use crate::store::{ManifestEntry, Store};

/// The manifest of one scope, read-only during a run.
#[derive(Debug, Default)]
pub(crate) struct Manifest {
    entries: HashMap<String, ManifestEntry>,
    /// The attachments and comments of each page or blog post.
    children: HashMap<String, Vec<String>>,
    /// What each space held when last written.
    sizes: HashMap<String, SpaceSize>,
}

/// How many documents of each sort a space held when last written: what the incremental sync
/// sizes its listings by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpaceSize {
    /// Pages and blog posts.
    pub units: usize,
    /// Attachments and comments.
    pub children: usize,
}

impl Manifest {
    pub(crate) fn new(entries: HashMap<String, ManifestEntry>) -> Manifest {
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        let mut sizes: HashMap<String, SpaceSize> = HashMap::new();
        for (id, entry) in &entries {
            let size = entry
                .space_key
                .as_ref()
                .map(|key| sizes.entry(key.clone()).or_default());
            match &entry.unit {
                Some(unit) if unit != id => {
                    children.entry(unit.clone()).or_default().push(id.clone());
                    if let Some(size) = size {
                        size.children += 1;
                    }
                }
                Some(_) => {
                    if let Some(size) = size {
                        size.units += 1;
                    }
                }
                None => {}
            }
        }
        Manifest {
            entries,
            children,
            sizes,
        }
    }

    /// What `space` held when last written (nothing for a space never written).
    pub(crate) fn space_size(&self, space: &str) -> SpaceSize {
        self.sizes.get(space).copied().unwrap_or_default()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&ManifestEntry> {
        self.entries.get(id)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The attachments and comments of `unit`, as last written.
    pub(crate) fn children(&self, unit: &str) -> &[String] {
        self.children.get(unit).map_or(&[], Vec::as_slice)
    }

    /// Whether the attachment `doc` (metadata only, not downloaded yet) was written before with
    /// the same metadata (version, size, name, container) and its text complete (incomplete
    /// ones are not in the manifest): its file need not be downloaded again.
    pub(crate) fn attachment_unchanged(&self, doc: &Document) -> bool {
        self.entries
            .get(&doc.id)
            .is_some_and(|e| e.meta == Hashes::of(doc).meta)
    }
}

/// How a document compares with its manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Not in the manifest.
    New,
    /// Metadata or text changed: written whole.
    Changed,
    /// Only the access list changed.
    AccessOnly,
    /// Nothing changed.
    Unchanged,
}

/// The three hashes of a document, and the hash of its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hashes {
    pub meta: u64,
    pub body: u64,
    pub acl: u64,
    pub place: u64,
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

impl Hashes {
    pub(crate) fn of(doc: &Document) -> Hashes {
        let mut source = doc.to_source();
        let (body, note, acl) = match &mut source {
            Value::Object(fields) => (
                fields.remove("body"),
                fields.remove("extraction_note"),
                fields.remove("_allow_access_control"),
            ),
            _ => (None, None, None),
        };
        Hashes {
            meta: hash_of(&source.to_string()),
            body: hash_of(&(body.map(|b| b.to_string()), note.map(|n| n.to_string()))),
            acl: hash_of(&acl.map(|a| a.to_string())),
            place: place_hash(doc),
        }
    }

    /// How a document with these hashes compares with `entry`. `text_reused`: its text was not
    /// fetched because its metadata is unchanged (see [`Manifest::attachment_unchanged`]).
    pub(crate) fn compare(&self, entry: Option<&ManifestEntry>, text_reused: bool) -> Change {
        let Some(entry) = entry else {
            return Change::New;
        };
        if entry.meta != self.meta || (!text_reused && entry.body != self.body) {
            Change::Changed
        } else if entry.acl != self.acl {
            Change::AccessOnly
        } else {
            Change::Unchanged
        }
    }

    /// The entry that records a document written with these hashes.
    pub(crate) fn entry(&self, doc: &Document, previous: Option<&ManifestEntry>) -> ManifestEntry {
        ManifestEntry {
            kind: doc.kind.as_str().to_owned(),
            space_key: doc.space_key.clone(),
            unit: unit_of(doc),
            version: doc.version,
            meta: self.meta,
            // A reused text is the one written before.
            body: previous.map_or(self.body, |p| {
                if doc.body.is_none() && doc.kind == DocType::Attachment {
                    p.body
                } else {
                    self.body
                }
            }),
            acl: self.acl,
            place: self.place,
        }
    }
}

/// The page or blog post a document belongs to: itself, or its container.
pub(crate) fn unit_of(doc: &Document) -> Option<String> {
    match doc.kind {
        DocType::Space => None,
        DocType::Page | DocType::Blogpost => Some(doc.id.clone()),
        _ => doc.parent_id.clone(),
    }
}

/// What an id-only listing shows of a page or blog post (title, status, space, ancestors): a
/// different place hash means it was moved, renamed, or an ancestor was. Edits are the delta's
/// (a version in the listing would cost a user object per row).
pub(crate) fn place_hash(doc: &Document) -> u64 {
    if !matches!(doc.kind, DocType::Page | DocType::Blogpost) {
        return 0;
    }
    hash_of(&(
        &doc.title,
        &doc.status,
        &doc.space_key,
        &doc.space,
        &doc.ancestor_ids,
        doc.ancestors.iter().map(|a| &a.title).collect::<Vec<_>>(),
    ))
}

/// Configuration keys that change how a sync runs but not what it writes.
const TUNING: &[&str] = &[
    "retry_count",
    "concurrent_downloads",
    "http",
    "deletion_threshold_percent",
    "ssl_enabled",
    "ssl_ca",
    "tls_insecure_skip_verify",
    "target",
];

/// What the documents of `config` depend on: every setting but the tuning ones and the
/// target. Documents written under other settings (another download cap, labels on or off, an
/// extraction service) are written again.
pub(crate) fn content_settings(config: &ConnectorConfig) -> String {
    let mut value = serde_json::to_value(config).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        for key in TUNING {
            fields.remove(*key);
        }
    }
    value.to_string()
}

/// What a manifest is valid for: the target (cluster and index), the settings documents
/// depend on, and the ingest pipeline they pass through.
pub(crate) fn target_key(config: &ConnectorConfig) -> String {
    let pipeline = match &config.target {
        crate::config::Target::Elasticsearch(es) => es.pipeline.trim(),
        crate::config::Target::Local { .. } => "",
    };
    format!(
        "{}|{:x}|{pipeline}",
        super::scope_key(None, config),
        hash_of(&content_settings(config))
    )
}

/// The manifest of `scope_key` for this configuration's target and settings. It is dropped
/// when the index holds fewer documents than it lists (an index deleted or restored behind
/// the connector's back): then every document is written again.
pub(crate) async fn load<S: Sink>(
    store: &Mutex<Store>,
    scope_key: &str,
    config: &ConnectorConfig,
    sink: &S,
) -> Result<Manifest> {
    let target = target_key(config);
    let entries = super::lock(store).load_manifest(scope_key, &target)?;
    if entries.is_empty() {
        return Ok(Manifest::default());
    }
    let indexed = sink.count().await?;
    if indexed < entries.len() as u64 {
        tracing::info!(
            indexed,
            known = entries.len(),
            "the index holds fewer documents than this connection wrote: writing everything again"
        );
        super::lock(store).clear_manifest(scope_key)?;
        return Ok(Manifest::default());
    }
    Ok(Manifest::new(entries))
}

/// The hash of an access list, as [`Hashes::acl`] computes it.
pub(crate) fn acl_hash(field: &Option<Vec<String>>) -> u64 {
    hash_of(
        &field
            .as_ref()
            .map(|list| serde_json::to_string(list).unwrap_or_default()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Document {
        let content: crate::confluence::Content = serde_json::from_value(serde_json::json!({
            "id": "10", "type": "page", "title": "Runbook", "status": "current",
            "space": {"key": "ENG", "name": "Engineering"},
            "version": {"number": 3, "when": "2026-01-01T00:00:00.000Z"},
            "ancestors": [{"id": "1", "title": "Home"}]
        }))
        .unwrap();
        Document::from_content(
            &content,
            Some("text".into()),
            &crate::document::SiteLinks::new("http://h"),
        )
        .unwrap()
    }

    #[test]
    fn access_alone_is_told_from_other_changes() {
        let mut doc = page();
        doc.allow_access_control = Some(vec!["group:eng".into()]);
        let before = Hashes::of(&doc);
        let entry = before.entry(&doc, None);
        assert_eq!(before.compare(Some(&entry), false), Change::Unchanged);
        assert_eq!(before.compare(None, false), Change::New);

        doc.allow_access_control = Some(vec!["group:sre".into()]);
        let access = Hashes::of(&doc);
        assert_eq!(access.compare(Some(&entry), false), Change::AccessOnly);
        assert_eq!(access.acl, acl_hash(&doc.allow_access_control));
        assert_eq!(access.place, before.place);

        doc.body = Some("new text".into());
        assert_eq!(
            Hashes::of(&doc).compare(Some(&entry), false),
            Change::Changed
        );
        // A text not fetched again is the one written before.
        assert_eq!(
            Hashes::of(&doc).compare(Some(&entry), true),
            Change::AccessOnly
        );
    }

    #[test]
    fn a_move_changes_the_place() {
        let doc = page();
        let mut moved = page();
        moved.ancestor_ids = vec!["2".into()];
        assert_ne!(place_hash(&doc), place_hash(&moved));
        let mut relabelled = page();
        relabelled.labels = vec!["x".into()];
        assert_eq!(place_hash(&doc), place_hash(&relabelled));
    }
}

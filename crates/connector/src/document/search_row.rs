//! Rows of Confluence's CQL search (`rest/api/search`) turned into documents the way the
//! standard crawl builds the same objects: the advanced-rules crawl and the rules preview share
//! this.

use crate::confluence::{Content, Flavor, SearchResult};
use crate::document::{Document, SiteLinks};
use crate::text;

/// Rows per search page: Server/Data Center clip searches with a body expansion to 50.
pub(crate) const PAGE_SIZE: usize = 50;

/// The key of the outcome that marks an incomplete advanced-rules run (nothing is deleted).
pub(crate) const INCOMPLETE: &str = "\u{0}advanced-rules";

const CONTENT_EXPAND: &str = "content.space,content.history,content.version,content.ancestors,\
content.container,content.container.ancestors,content.container.space,content.container.history,\
content.container.version,content.body.storage,content.extensions,content.metadata.labels,\
content.restrictions.read.restrictions.user,content.restrictions.read.restrictions.group,\
content.container.restrictions.read.restrictions.user,\
content.container.restrictions.read.restrictions.group,space.description.plain";

/// The expansions of the advanced-rules search for `flavor`. Cloud also has space history and
/// space permissions (as the standard listings expand them; Server and Data Center answer
/// `permissions` with a 500 for non-admins, CONFSERVER-99908).
pub(crate) fn full_expand(flavor: Flavor) -> String {
    match flavor {
        Flavor::Cloud => format!(
            "{CONTENT_EXPAND},space.history,space.permissions,content.space.permissions,\
             content.container.space.permissions"
        ),
        Flavor::Server | Flavor::DataCenter => CONTENT_EXPAND.to_owned(),
    }
}

/// What a search row becomes.
pub(crate) enum Built {
    /// A finished document.
    Doc(Box<Document>),
    /// An attachment and its container's document; the file is still to be fetched.
    Attachment(Box<Content>, Box<Document>),
    /// Nothing to index, and why.
    Skip(&'static str),
}

/// One row of `rest/api/search`, with its content's container read as full content (the
/// client's model keeps only a reference, without the ancestors the expansion brings).
pub(crate) struct Row {
    pub result: SearchResult,
    pub container: Option<Content>,
}

impl Row {
    pub(crate) fn from_value(v: serde_json::Value) -> Option<Row> {
        // Only attachments and comments have content as their container (pages and blog
        // posts have their space there).
        let content = v.get("content");
        let contained = content
            .and_then(|c| c.get("type"))
            .and_then(|t| t.as_str())
            .is_some_and(|t| matches!(t, "attachment" | "comment"));
        let container = content
            .and_then(|c| c.get("container"))
            .filter(|_| contained)
            .and_then(|c| serde_json::from_value::<Content>(c.clone()).ok());
        let result = serde_json::from_value::<SearchResult>(v).ok()?;
        Some(Row { result, container })
    }

    /// The id the row will be indexed under.
    pub(crate) fn id(&self) -> Option<String> {
        row_id(&self.result)
    }
}

/// The id a row will be indexed under.
pub(crate) fn row_id(row: &SearchResult) -> Option<String> {
    match (&row.content, &row.space) {
        (Some(c), _) => c.id.clone(),
        (None, Some(s)) => s.id.clone(),
        _ => None,
    }
}

/// Turns a search row into a document the way the standard crawl builds the same object.
pub(crate) fn build(row: &Row, links: &SiteLinks, index_labels: bool) -> Built {
    let result = &row.result;
    if let Some(content) = &result.content {
        let kind = content.kind.as_deref().unwrap_or_default();
        match kind {
            "page" | "blogpost" => {
                let body = content.storage().map(text::storage_to_text);
                let Some(mut doc) = Document::from_content(content, body, links) else {
                    return Built::Skip("content without an id");
                };
                if index_labels {
                    doc.set_labels(labels_of(content));
                }
                if doc.url.is_none() {
                    doc.url = links.absolute(result.url.as_deref());
                }
                Built::Doc(Box::new(doc))
            }
            "comment" | "attachment" => {
                let Some(container) = &row.container else {
                    return Built::Skip("no container");
                };
                if container.title.as_deref().is_none_or(str::is_empty) {
                    // The reference skips attachments whose container has no title.
                    return Built::Skip("container without a title");
                }
                let Some(container_doc) = Document::from_content(container, None, links) else {
                    return Built::Skip("container without an id or type");
                };
                let mut own = content.clone();
                // The standard listings do not expand ancestors of comments and attachments:
                // they inherit the container's hierarchy.
                own.ancestors.clear();
                if kind == "attachment" {
                    return Built::Attachment(Box::new(own), Box::new(container_doc));
                }
                let body = own.storage().map(text::storage_to_text);
                let Some(mut doc) = Document::from_content(&own, body, links) else {
                    return Built::Skip("content without an id");
                };
                doc.inherit_container(&container_doc);
                Built::Doc(Box::new(doc))
            }
            _ => Built::Skip("a content type the connector does not index"),
        }
    } else if let Some(space) = &result.space {
        match Document::from_space(space, links) {
            Some(mut doc) => {
                if doc.url.is_none() {
                    doc.url = links.absolute(result.url.as_deref());
                }
                Built::Doc(Box::new(doc))
            }
            None => Built::Skip("space without an id or key"),
        }
    } else {
        Built::Skip("neither content nor space")
    }
}

pub(crate) fn labels_of(content: &Content) -> Vec<String> {
    content
        .metadata
        .as_ref()
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get("results"))
        .and_then(|r| r.as_array())
        .map(|rows| {
            rows.iter()
                .filter_map(|l| l.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

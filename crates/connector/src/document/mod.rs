//! Confluence objects to index documents, with the field names of Elastic's connector
//! (`_id`, `id`, `type`, `title`, `body`, `url`, `space`, `key`, `ancestors`, `labels`,
//! `author`, `createdDate`, `_timestamp`, `size`, `page`/`blogpost`, `_allow_access_control`)
//! and its inconsistencies fixed: ids are always strings, one `type` vocabulary on every path,
//! spaces carry a stable timestamp. Our additions: `space_key`, `ancestor_ids`, `parent_id`,
//! `version`, `last_modifier`, `status`, `extension`, `media_type`, `comment_location`.

pub mod search_row;

use serde::Serialize;

use crate::confluence::{ConfluenceClient, Content, Space, User};

/// A space's key, from `key` or, when a server or proxy trimmed it, from its links
/// (`/spaces/KEY` on Cloud and Data Center, `/display/KEY` on Server).
pub fn space_key_of(space: &Space) -> Option<String> {
    if let Some(key) = space.key.as_deref().filter(|k| !k.is_empty()) {
        return Some(key.to_owned());
    }
    let link = space.links.webui.as_deref()?;
    let path = link.split(['?', '#']).next()?;
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    while let Some(part) = parts.next() {
        if part == "spaces" || part == "display" {
            return parts.next().filter(|k| !k.is_empty()).map(percent_decode);
        }
    }
    None
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("k={text}").as_bytes())
        .next()
        .map_or_else(|| text.to_owned(), |(_, v)| v.into_owned())
}

/// The base that `webui` links of `client`'s site are relative to: the API base without
/// `rest/api/`.
pub fn site_links(client: &ConfluenceClient) -> SiteLinks {
    let api = client.api_base().as_str();
    SiteLinks::new(api.trim_end_matches('/').trim_end_matches("/rest/api"))
}

/// The `type` of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocType {
    /// A space.
    Space,
    /// A page.
    Page,
    /// A blog post.
    Blogpost,
    /// An attachment of a page or blog post.
    Attachment,
    /// A footer or inline comment.
    Comment,
}

impl DocType {
    /// The value stored in `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Space => "space",
            DocType::Page => "page",
            DocType::Blogpost => "blogpost",
            DocType::Attachment => "attachment",
            DocType::Comment => "comment",
        }
    }

    /// Parses Confluence's content `type`.
    pub fn from_content_type(kind: &str) -> Option<DocType> {
        match kind {
            "page" => Some(DocType::Page),
            "blogpost" => Some(DocType::Blogpost),
            "attachment" => Some(DocType::Attachment),
            "comment" => Some(DocType::Comment),
            _ => None,
        }
    }
}

/// One entry of `ancestors`: the reference keeps only the title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ancestor {
    /// The ancestor's title.
    pub title: String,
}

/// A document as it is indexed. `None` and empty lists are left out of the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// The document id; also the index `_id`.
    pub id: String,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: DocType,
    /// Title (attachments: the file name).
    pub title: String,
    /// Plain text of the body, or of the attachment's file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Absolute link to the item in Confluence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The space's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    /// The space's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_key: Option<String>,
    /// Space documents: the space key (the reference's field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Ancestor titles, root first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<Ancestor>,
    /// Ancestor ids, root first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ancestor_ids: Vec<String>,
    /// Direct parent: the parent page, or the container of an attachment or comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Label names (when `index_labels` is on).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Creator's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Last editor's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modifier: Option<String>,
    /// Creation time.
    #[serde(rename = "createdDate", skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    /// Last modification time: the change marker of the document.
    #[serde(rename = "_timestamp")]
    pub timestamp: String,
    /// Attachments: file size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Attachments and comments of a page: the page's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Attachments and comments of a blog post: its title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blogpost: Option<String>,
    /// Version number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// `current`, `archived`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Attachments: the lower-case file extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Attachments: the media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Comments: `footer` or `inline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_location: Option<String>,
    /// Attachments: why no text was extracted, when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extraction_note: Option<String>,
    /// Identities allowed to read the document, when document-level security is on.
    #[serde(
        rename = "_allow_access_control",
        skip_serializing_if = "Option::is_none"
    )]
    pub allow_access_control: Option<Vec<String>>,
}

/// Where relative Confluence links are resolved: `_links.base` of the site.
#[derive(Debug, Clone)]
pub struct SiteLinks {
    base: String,
}

impl SiteLinks {
    /// Links relative to `base`, e.g. `https://acme.atlassian.net/wiki` or `http://host/confluence`.
    pub fn new(base: &str) -> SiteLinks {
        SiteLinks {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute form of a `webui` link.
    pub fn absolute(&self, link: Option<&str>) -> Option<String> {
        let link = link?;
        if link.starts_with("http://") || link.starts_with("https://") {
            return Some(link.to_owned());
        }
        Some(format!("{}/{}", self.base, link.trim_start_matches('/')))
    }
}

/// A timestamp for objects Confluence gives none: the Unix epoch, stable across syncs.
const NO_TIMESTAMP: &str = "1970-01-01T00:00:00.000Z";

fn person(user: Option<&User>) -> Option<String> {
    let user = user?;
    user.display_name
        .clone()
        .or_else(|| user.public_name.clone())
        .or_else(|| user.username.clone())
        .or_else(|| user.account_id.clone())
}

impl Document {
    fn new(id: String, kind: DocType, title: String, timestamp: String) -> Document {
        Document {
            id,
            kind,
            title,
            body: None,
            url: None,
            space: None,
            space_key: None,
            key: None,
            ancestors: Vec::new(),
            ancestor_ids: Vec::new(),
            parent_id: None,
            labels: Vec::new(),
            author: None,
            last_modifier: None,
            created_date: None,
            timestamp,
            size: None,
            page: None,
            blogpost: None,
            version: None,
            status: None,
            extension: None,
            media_type: None,
            comment_location: None,
            extraction_note: None,
            allow_access_control: None,
        }
    }

    /// Sets the labels: a set, in name order whichever listing gave them.
    pub fn set_labels(&mut self, labels: impl IntoIterator<Item = String>) {
        self.labels = labels.into_iter().collect();
        self.labels.sort();
        self.labels.dedup();
    }

    /// A page or blog post as far as its attachments and comments inherit from it (see
    /// [`Document::inherit_container`]): id, type, title, space and ancestors, nothing else.
    pub fn container(
        id: String,
        kind: DocType,
        title: String,
        space: (Option<String>, Option<String>),
        ancestors: (Vec<Ancestor>, Vec<String>),
    ) -> Document {
        let mut doc = Document::new(id, kind, title, NO_TIMESTAMP.to_owned());
        (doc.space, doc.space_key) = space;
        (doc.ancestors, doc.ancestor_ids) = ancestors;
        doc
    }

    /// A space document. Its timestamp is the space's creation time where Confluence gives it,
    /// so an unchanged space keeps its timestamp from one sync to the next.
    pub fn from_space(space: &Space, links: &SiteLinks) -> Option<Document> {
        let id = space.id.clone()?;
        let key = space.key.clone()?;
        let history = space.history.as_ref();
        let created = history.and_then(|h| h.created_date.clone());
        let mut doc = Document::new(
            id,
            DocType::Space,
            space.name.clone().unwrap_or_else(|| key.clone()),
            created.clone().unwrap_or_else(|| NO_TIMESTAMP.to_owned()),
        );
        doc.url = links.absolute(space.links.webui.as_deref());
        doc.space = space.name.clone();
        doc.space_key = Some(key.clone());
        doc.key = Some(key);
        doc.created_date = created;
        doc.author = person(history.and_then(|h| h.created_by.as_ref()));
        doc.status = space.status.clone();
        doc.body = space
            .description
            .as_ref()
            .and_then(|d| d.plain.as_ref()?.value.clone())
            .filter(|d| !d.trim().is_empty());
        Some(doc)
    }

    /// A page, blog post or comment, with `body` already converted to text by the caller.
    /// Returns `None` for content without an id or of an unknown type.
    pub fn from_content(
        content: &Content,
        body: Option<String>,
        links: &SiteLinks,
    ) -> Option<Document> {
        let id = content.id.clone()?;
        let kind = DocType::from_content_type(content.kind.as_deref()?)?;
        let history = content.history.as_ref();
        let version = content
            .version
            .as_deref()
            .or_else(|| history.and_then(|h| h.last_updated.as_ref()));
        let timestamp = version
            .and_then(|v| v.when.clone())
            .or_else(|| history.and_then(|h| h.created_date.clone()))
            .unwrap_or_else(|| NO_TIMESTAMP.to_owned());
        let mut doc = Document::new(
            id,
            kind,
            content.title.clone().unwrap_or_default(),
            timestamp,
        );
        doc.body = body;
        doc.url = links.absolute(content.links.webui.as_deref());
        if let Some(space) = &content.space {
            doc.space = space.name.clone();
            doc.space_key = space_key_of(space);
        }
        doc.ancestors = content
            .ancestors
            .iter()
            .map(|a| Ancestor {
                title: a.title.clone().unwrap_or_default(),
            })
            .collect();
        doc.ancestor_ids = content
            .ancestors
            .iter()
            .filter_map(|a| a.id.clone())
            .collect();
        doc.parent_id = match kind {
            DocType::Page | DocType::Blogpost => doc.ancestor_ids.last().cloned(),
            _ => content.container.as_ref().and_then(|c| c.id.clone()),
        };
        doc.author = person(history.and_then(|h| h.created_by.as_ref()));
        doc.last_modifier = person(version.and_then(|v| v.by.as_ref()));
        doc.created_date = history.and_then(|h| h.created_date.clone());
        doc.version = version.and_then(|v| v.number);
        doc.status = content.status.clone();
        if kind == DocType::Comment {
            doc.comment_location = content.extensions.as_ref().and_then(|e| e.location.clone());
        }
        Some(doc)
    }

    /// An attachment's metadata document; `container` is the page or blog post it belongs to.
    pub fn from_attachment(
        attachment: &Content,
        container: &Document,
        links: &SiteLinks,
    ) -> Option<Document> {
        let mut doc = Document::from_content(attachment, None, links)?;
        let extensions = attachment.extensions.as_ref();
        doc.size = Some(extensions.and_then(|e| e.file_size).unwrap_or(0));
        doc.media_type = extensions.and_then(|e| e.media_type.clone()).or_else(|| {
            attachment
                .metadata
                .as_ref()?
                .get("mediaType")?
                .as_str()
                .map(str::to_owned)
        });
        doc.extension = file_extension(&doc.title);
        doc.inherit_container(container);
        Some(doc)
    }

    /// Ties an attachment or comment to its container: space, hierarchy and `page`/`blogpost`.
    pub fn inherit_container(&mut self, container: &Document) {
        self.parent_id = Some(container.id.clone());
        self.space = self.space.take().or_else(|| container.space.clone());
        self.space_key = self
            .space_key
            .take()
            .or_else(|| container.space_key.clone());
        if self.ancestor_ids.is_empty() {
            self.ancestors = container.ancestors.clone();
            self.ancestors.push(Ancestor {
                title: container.title.clone(),
            });
            self.ancestor_ids = container.ancestor_ids.clone();
            self.ancestor_ids.push(container.id.clone());
        }
        match container.kind {
            DocType::Blogpost => self.blogpost = Some(container.title.clone()),
            _ => self.page = Some(container.title.clone()),
        }
    }

    /// The document's JSON source, as sent to the index.
    pub fn to_source(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The lower-case extension of a file name, without the dot.
pub fn file_extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty() && ext.len() <= 10).then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content(value: serde_json::Value) -> Content {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_page_keeps_the_reference_fields_and_adds_ours() {
        let page = content(json!({
            "id": "1001", "type": "page", "status": "current", "title": "Runbook",
            "space": {"id": 42, "key": "ENG", "name": "Engineering"},
            "history": {"createdBy": {"displayName": "Ann"}, "createdDate": "2024-01-02T10:00:00.000Z"},
            "version": {"by": {"displayName": "Bob"}, "when": "2024-03-01T09:30:00.000Z", "number": 7},
            "ancestors": [{"id": "900", "title": "Ops"}, {"id": "950", "title": "Oncall"}],
            "_links": {"webui": "/spaces/ENG/pages/1001/Runbook"}
        }));
        let links = SiteLinks::new("https://acme.atlassian.net/wiki/");
        let doc = Document::from_content(&page, Some("text".into()), &links).unwrap();
        let source = doc.to_source();
        assert_eq!(source["id"], "1001");
        assert_eq!(source["type"], "page");
        assert_eq!(
            source["url"],
            "https://acme.atlassian.net/wiki/spaces/ENG/pages/1001/Runbook"
        );
        assert_eq!(source["space"], "Engineering");
        assert_eq!(source["space_key"], "ENG");
        assert_eq!(
            source["ancestors"],
            json!([{"title": "Ops"}, {"title": "Oncall"}])
        );
        assert_eq!(source["ancestor_ids"], json!(["900", "950"]));
        assert_eq!(source["parent_id"], "950");
        assert_eq!(source["author"], "Ann");
        assert_eq!(source["last_modifier"], "Bob");
        assert_eq!(source["createdDate"], "2024-01-02T10:00:00.000Z");
        assert_eq!(source["_timestamp"], "2024-03-01T09:30:00.000Z");
        assert_eq!(source["version"], 7);
        assert!(
            source.get("_allow_access_control").is_none(),
            "no ACL field unless DLS is on"
        );
    }

    #[test]
    fn space_ids_are_strings_and_the_type_is_lower_case() {
        let space: Space = serde_json::from_value(json!({
            "id": 98765, "key": "ENG", "name": "Engineering", "_links": {"webui": "/spaces/ENG"}
        }))
        .unwrap();
        let doc = Document::from_space(&space, &SiteLinks::new("http://h/confluence")).unwrap();
        let source = doc.to_source();
        assert_eq!(source["id"], "98765");
        assert_eq!(source["type"], "space");
        assert_eq!(source["key"], "ENG");
        assert_eq!(source["url"], "http://h/confluence/spaces/ENG");
        // Without a creation date the timestamp is still stable from one sync to the next.
        assert_eq!(source["_timestamp"], NO_TIMESTAMP);
    }

    #[test]
    fn a_trimmed_space_still_gives_its_key() {
        let links = SiteLinks::new("http://h");
        for (webui, key) in [
            ("/spaces/ENG/overview", Some("ENG")),
            ("/display/OPS", Some("OPS")),
            ("/spaces/~ann%2Egarcia", Some("~ann.garcia")),
            ("/pages/viewpage.action?pageId=1", None),
        ] {
            let page = content(json!({"id": "8", "type": "page", "title": "T",
                "space": {"name": "Engineering", "_links": {"webui": webui}}, "ancestors": []}));
            let doc = Document::from_content(&page, None, &links).unwrap();
            assert_eq!(doc.space_key.as_deref(), key, "{webui}");
        }
    }

    #[test]
    fn an_attachment_belongs_to_its_container() {
        let links = SiteLinks::new("http://h");
        let blog = Document::from_content(
            &content(json!({"id": "7", "type": "blogpost", "title": "News",
                "space": {"key": "ENG", "name": "Engineering"}, "ancestors": []})),
            None,
            &links,
        )
        .unwrap();
        let att = content(json!({
            "id": "att9", "type": "attachment", "title": "Q3 Report.PDF",
            "extensions": {"fileSize": 2048, "mediaType": "application/pdf"},
            "version": {"when": "2024-05-01T00:00:00.000Z", "number": 2}
        }));
        let doc = Document::from_attachment(&att, &blog, &links).unwrap();
        assert_eq!(doc.blogpost.as_deref(), Some("News"));
        assert_eq!(doc.page, None);
        assert_eq!(doc.parent_id.as_deref(), Some("7"));
        assert_eq!(doc.space_key.as_deref(), Some("ENG"));
        assert_eq!(doc.size, Some(2048));
        assert_eq!(doc.extension.as_deref(), Some("pdf"));
        assert_eq!(doc.ancestor_ids, ["7"]);
    }

    #[test]
    fn file_extensions() {
        assert_eq!(file_extension("a.tar.GZ").as_deref(), Some("gz"));
        assert_eq!(file_extension(".bashrc"), None);
        assert_eq!(file_extension("README"), None);
    }
}

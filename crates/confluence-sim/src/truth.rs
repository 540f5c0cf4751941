//! Ground truth: what a complete sync by the crawler's account must produce.

use serde::{Deserialize, Serialize};

use crate::model::{CRAWLER, Kind, Site};
use crate::text::{plain_text, sentence};

/// One document a complete sync should produce, with the users allowed to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthDoc {
    /// Id as the API prints it (space: its numeric id; Cloud attachments: `att<digits>`).
    pub id: String,
    /// `space`, `page`, `blogpost`, `attachment` or `comment`.
    pub r#type: String,
    /// Title (space: its name; attachment: its file name).
    pub title: String,
    /// Key of the space the item belongs to.
    pub space_key: String,
    /// Active users who may read the item: space permission (direct, through a group, or
    /// anonymous access) intersected with every read restriction on the item's page or blog
    /// post and its ancestors. Identified as the site's user listing shows them: account ids on
    /// Cloud, user names on Server/DC. Sorted. Deactivated accounts are never readers.
    pub readers: Vec<String>,
    /// Whether anonymous users may read it (the space grants anonymous access).
    pub anonymous: bool,
    /// One distinctive sentence found in the item's body, or in the file's text for
    /// attachments other than images.
    pub text: Option<String>,
    /// Parent page (pages) or container (comments, attachments).
    pub parent_id: Option<String>,
    /// Ancestor pages, root first; for comments and attachments the container's ancestors
    /// followed by the container.
    pub ancestor_ids: Vec<String>,
    /// Label names, sorted.
    pub labels: Vec<String>,
    /// Version number (spaces: 1).
    pub version: u32,
    /// Attachments: media type.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub media_type: Option<String>,
    /// Attachments: exact file size in bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file_size: Option<u64>,
}

fn text_of(site: &Site, idx: u32) -> Option<String> {
    let c = site.c(idx);
    match (&c.body, c.kind) {
        (_, Kind::Attachment) => match c.file {
            Some((k, _)) if k.has_text() => Some(sentence(site.seed, c.id, c.version)),
            _ => None,
        },
        (Some(b), _) => {
            let t = plain_text(b);
            let t: String = t.split_whitespace().take(40).collect::<Vec<_>>().join(" ");
            if t.is_empty() { None } else { Some(t) }
        }
        (None, _) => Some(sentence(site.seed, c.id, c.version)),
    }
}

/// The number of documents [`for_each`] yields.
pub(crate) fn count(site: &Site) -> usize {
    (0..site.spaces.len() as u32)
        .filter(|&s| site.can_view_space(Some(CRAWLER), s))
        .map(|s| {
            1 + site
                .space_contents(s)
                .filter(|&i| site.can_read(Some(CRAWLER), i))
                .count()
        })
        .sum()
}

/// Calls `f` with every document of the ground truth: each space the crawler can view, then
/// its content in id order.
pub(crate) fn for_each(site: &Site, mut f: impl FnMut(TruthDoc)) {
    let ident = |readers: &[u32]| -> Vec<String> {
        let mut v: Vec<String> = readers
            .iter()
            .map(|&u| site.user_ident(u).to_owned())
            .collect();
        v.sort();
        v
    };
    for s in 0..site.spaces.len() as u32 {
        if !site.can_view_space(Some(CRAWLER), s) {
            continue;
        }
        let sp = &site.spaces[s as usize];
        let space_readers = site.space_readers(s);
        f(TruthDoc {
            id: sp.id.to_string(),
            r#type: "space".into(),
            title: sp.name.clone(),
            space_key: sp.key.clone(),
            readers: ident(&space_readers),
            anonymous: sp.anonymous,
            text: Some(sentence(site.seed, sp.id, 1)),
            parent_id: None,
            ancestor_ids: Vec::new(),
            labels: Vec::new(),
            version: 1,
            media_type: None,
            file_size: None,
        });
        let mut items: Vec<u32> = site.space_contents(s).collect();
        items.sort_by_key(|&i| site.c(i).id);
        for i in items {
            if !site.can_read(Some(CRAWLER), i) {
                continue;
            }
            let c = site.c(i);
            let holder = site.permission_holder(i);
            let mut ancestors: Vec<String> = site
                .ancestors(holder)
                .iter()
                .map(|&a| site.id_str(a))
                .collect();
            if holder != i {
                ancestors.push(site.id_str(holder));
            }
            let layers = site.restriction_layers(i);
            let readers = site.readers_with(i, &space_readers);
            let mut labels = site.label_names(i);
            labels.sort();
            f(TruthDoc {
                id: site.id_str(i),
                r#type: c.kind.as_str().into(),
                title: c.title.to_string(),
                space_key: sp.key.clone(),
                readers: ident(&readers),
                anonymous: sp.anonymous && layers.is_empty(),
                text: text_of(site, i),
                parent_id: c.parent.map(|p| site.id_str(p)),
                ancestor_ids: ancestors,
                labels,
                version: c.version,
                media_type: c.file.map(|(k, _)| k.media_type().to_owned()),
                file_size: c.file.map(|(_, s)| s),
            });
        }
    }
}

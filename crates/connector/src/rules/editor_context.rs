//! What the CQL editor completes besides the grammar: the site's space keys and recent labels.

use super::cql::{EditorContext, SpaceHint};
use crate::confluence::{ClientError, ConfluenceClient, SearchResult};
use crate::document::search_row::labels_of;

/// Spaces and labels for the CQL editor's completions: every space, and the labels of the 100
/// most recently modified pages and blog posts.
pub async fn editor_context(
    client: &ConfluenceClient,
) -> std::result::Result<EditorContext, ClientError> {
    let spaces = client.spaces().await?;
    let mut labels: Vec<String> = Vec::new();
    let mut pager = client.search_cql_with::<SearchResult>(
        "type in (page, blogpost) order by lastmodified desc",
        100,
        "content.metadata.labels",
    )?;
    if let Some(page) = pager.next_page().await? {
        for row in &page.results {
            if let Some(c) = &row.content {
                labels.extend(labels_of(c));
            }
        }
    }
    labels.sort();
    labels.dedup();
    let mut spaces: Vec<SpaceHint> = spaces
        .into_iter()
        .filter_map(|s| {
            let key = s.key?;
            Some(SpaceHint {
                name: s.name.unwrap_or_else(|| key.clone()),
                key,
            })
        })
        .collect();
    spaces.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(EditorContext { spaces, labels })
}

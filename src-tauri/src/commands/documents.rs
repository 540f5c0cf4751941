//! The documents browser: search the connection's target index, open one document.

use connector::sink::{SearchRequest, Sink};
use connector::target::AnySink;
use serde_json::Value;
use tauri::State;

use crate::dto::{DocumentHit, DocumentPage, DocumentQuery};
use crate::error::CommandError;
use crate::state::AppState;

/// The connection's target, opened.
async fn sink(state: &AppState, id: &str) -> Result<AnySink, CommandError> {
    let saved = state.saved(id)?;
    let secrets = state.secrets(&saved).await?;
    Ok(AnySink::open(
        &saved.config.target,
        &secrets,
        state.data_dir(),
    )?)
}

/// One page of the documents of connection `id` that match `query`.
#[tauri::command]
pub async fn search_documents(
    state: State<'_, AppState>,
    id: String,
    query: DocumentQuery,
) -> Result<DocumentPage, CommandError> {
    let sink = sink(&state, &id).await?;
    let request = SearchRequest {
        query: query.query,
        filters: query
            .doc_type
            .filter(|t| !t.is_empty())
            .map(|t| vec![("type".to_owned(), t)])
            .unwrap_or_default(),
        from: query.from,
        size: query.size.clamp(1, 100),
        access_control: None,
    };
    let page = sink.search(&request).await?;
    Ok(DocumentPage {
        total: page.total,
        hits: page
            .hits
            .into_iter()
            .map(|hit| DocumentHit {
                id: hit.id,
                score: hit.score,
                source: hit.source,
            })
            .collect(),
        target: sink.describe(),
    })
}

/// Document `doc_id` of connection `id` as indexed, or `None`.
#[tauri::command]
pub async fn get_document(
    state: State<'_, AppState>,
    id: String,
    doc_id: String,
) -> Result<Option<Value>, CommandError> {
    Ok(sink(&state, &id).await?.get(&doc_id).await?)
}

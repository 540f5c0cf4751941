//! The ACL inspector: a user's identities and readable documents, a document's ACL and how it
//! was derived, and the access changes between two syncs.

use connector::acl::{self, AccessDiff, AclStore, DocExplanation, UserAccess};
use connector::target::AnySink;
use tauri::State;

use crate::dto::AclUser;
use crate::error::CommandError;
use crate::state::AppState;

async fn target(state: &AppState, id: &str) -> Result<AnySink, CommandError> {
    let saved = state.saved(id)?;
    let secrets = state.secrets(&saved).await?;
    Ok(AnySink::open(
        &saved.config.target,
        &secrets,
        state.data_dir(),
    )?)
}

/// The users of connection `id`'s identity documents (written by access-control syncs).
#[tauri::command]
pub async fn acl_users(
    state: State<'_, AppState>,
    id: String,
) -> Result<Vec<AclUser>, CommandError> {
    let identities = target(&state, &id).await?.identities().await?;
    Ok(identities
        .into_iter()
        .map(|(user, body)| AclUser::from_identity(user, &body))
        .collect())
}

/// What user `user` (an id, a username, an email or a display name) may read.
#[tauri::command]
pub async fn acl_user_access(
    state: State<'_, AppState>,
    id: String,
    user: String,
) -> Result<UserAccess, CommandError> {
    Ok(acl::user_access(&target(&state, &id).await?, &user).await?)
}

/// Document `doc_id`'s ACL, how it was derived, and who may read it.
#[tauri::command]
pub async fn acl_explain_document(
    state: State<'_, AppState>,
    id: String,
    doc_id: String,
) -> Result<DocExplanation, CommandError> {
    let sink = target(&state, &id).await?;
    Ok(acl::explain_doc(&sink, &state.shared_store(), &doc_id).await?)
}

/// Who gained and who lost access to which document between jobs `from` and `to`.
#[tauri::command]
pub async fn acl_diff(
    state: State<'_, AppState>,
    from: String,
    to: String,
) -> Result<AccessDiff, CommandError> {
    Ok(acl::diff(&state.shared_store(), &from, &to)?)
}

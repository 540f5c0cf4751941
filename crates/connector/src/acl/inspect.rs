//! The ACL inspector: for a document, its ACL and how it was derived; for a user, their
//! identities and the documents their own query finds; between two syncs, who gained or lost
//! access to what.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::identity::{access_control_of, names_user};
use super::resolve::{Access, Derivation};
use super::store::AclStore;
use crate::sink::Sink;
use crate::store::{Store, UserSnapshot};
use crate::{Error, Result};

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the inspector says about one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DocExplanation {
    /// The document id.
    pub id: String,
    /// Whether the index holds it.
    pub indexed: bool,
    /// Its title.
    pub title: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Its space key.
    pub space_key: Option<String>,
    /// `_allow_access_control` as indexed; `None` when the field is absent (public).
    pub allow_access_control: Option<Vec<String>>,
    /// The access the last full sync that saw it computed.
    pub access: Option<Access>,
    /// How that access was derived.
    pub derivation: Option<Derivation>,
    /// That full sync.
    pub job_id: Option<String>,
    /// Users (identity-document names) whose identities match the indexed ACL.
    pub readers: Vec<String>,
}

/// Whether a holder of `identities` passes the reference's template for a document whose
/// `_allow_access_control` is `acl` (`None`: the field is absent).
fn template_admits(acl: Option<&[String]>, identities: &[String]) -> bool {
    match acl {
        None => true,
        Some([]) => true,
        Some(list) => identities.iter().any(|i| list.contains(i)),
    }
}

fn acl_field(source: &Value) -> Option<Vec<String>> {
    match &source["_allow_access_control"] {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        Value::String(one) => Some(vec![one.clone()]),
        _ => None,
    }
}

fn user_label(id: &str, body: &Value) -> String {
    body["identity"]["username"]
        .as_str()
        .or(body["identity"]["display_name"].as_str())
        .and_then(|v| v.split_once(':').map(|(_, name)| name.to_owned()))
        .unwrap_or_else(|| id.to_owned())
}

/// Explains document `doc_id`: its indexed ACL, the access and derivation recorded by the last
/// full sync that computed it, and the users whose identity documents match it.
pub async fn explain_doc<T: Sink + AclStore>(
    target: &T,
    store: &Mutex<Store>,
    doc_id: &str,
) -> Result<DocExplanation> {
    let source = target.get(doc_id).await?;
    let record = lock(store).latest_doc_acl(doc_id)?;
    if source.is_none() && record.is_none() {
        return Err(Error::NotFound(format!("document `{doc_id}`")));
    }
    let source = source.unwrap_or(Value::Null);
    let field = acl_field(&source);
    let mut readers: Vec<String> = target
        .identities()
        .await?
        .iter()
        .filter(|(_, body)| template_admits(field.as_deref(), &access_control_of(body)))
        .map(|(id, body)| user_label(id, body))
        .collect();
    readers.sort();
    let text = |k: &str| source[k].as_str().map(str::to_owned);
    Ok(DocExplanation {
        id: doc_id.to_owned(),
        indexed: !source.is_null(),
        title: text("title"),
        kind: text("type"),
        space_key: text("space_key"),
        allow_access_control: field,
        access: record
            .as_ref()
            .and_then(|r| serde_json::from_value(r.access.clone()).ok()),
        derivation: record
            .as_ref()
            .and_then(|r| serde_json::from_value(r.derivation.clone()).ok()),
        job_id: record.map(|r| r.job_id),
        readers,
    })
}

/// What one user can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UserAccess {
    /// The identity document's id (account id, user key).
    pub user: String,
    /// The user's name.
    pub name: String,
    /// The identities the user holds (`query.template.params.access_control`).
    pub identities: Vec<String>,
    /// The `identity` object of the identity document.
    #[ts(type = "Record<string, string>")]
    pub identity: Value,
    /// The ids of the documents the user's own query finds, sorted.
    pub readable: Vec<String>,
}

/// Finds the user `name` (id, username, display name, e-mail or a prefixed identity) among the
/// identity documents and runs their own query against the content index.
pub async fn user_access<T: Sink + AclStore>(target: &T, name: &str) -> Result<UserAccess> {
    let all = target.identities().await?;
    let exact: Vec<&(String, Value)> = all.iter().filter(|(id, _)| id == name).collect();
    let found: Vec<&(String, Value)> = if exact.is_empty() {
        all.iter()
            .filter(|(id, body)| names_user(id, body, name))
            .collect()
    } else {
        exact
    };
    let (id, body) = match found.as_slice() {
        [] => {
            return Err(Error::NotFound(format!(
                "user `{name}` among {} identity documents (run an access-control sync first)",
                all.len()
            )));
        }
        [one] => *one,
        many => {
            let ids: Vec<&str> = many.iter().map(|(id, _)| id.as_str()).collect();
            return Err(Error::InvalidInput(format!(
                "`{name}` names several users ({}): give an id",
                ids.join(", ")
            )));
        }
    };
    let mut readable = target.readable_by(body).await?;
    readable.sort();
    Ok(UserAccess {
        user: id.clone(),
        name: user_label(id, body),
        identities: access_control_of(body),
        identity: body["identity"].clone(),
        readable,
    })
}

/// One document whose readers changed between two syncs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccessChange {
    /// The document id.
    pub doc_id: String,
    /// Users who can read it now and could not before.
    pub gained: Vec<String>,
    /// Users who could read it before and cannot now.
    pub lost: Vec<String>,
}

/// Who gained or lost access between two syncs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccessDiff {
    /// The earlier job.
    pub from_job: String,
    /// The later job.
    pub to_job: String,
    /// The full syncs whose document snapshots were compared (from, to).
    pub doc_snapshots: (Option<String>, Option<String>),
    /// The access-control syncs whose user snapshots were compared (from, to).
    pub user_snapshots: (Option<String>, Option<String>),
    /// Documents whose readers changed, by id.
    pub changes: Vec<AccessChange>,
}

struct Side {
    docs: HashMap<String, Value>,
    users: Vec<UserSnapshot>,
    doc_job: Option<String>,
    user_job: Option<String>,
}

fn side(store: &Store, job: &str) -> Result<Side> {
    if store.get_job(job)?.is_none() {
        return Err(Error::NotFound(format!("job `{job}`")));
    }
    let doc_job = store.nearest_acl_snapshot(job, false)?;
    let user_job = store.nearest_acl_snapshot(job, true)?;
    Ok(Side {
        docs: match &doc_job {
            Some(j) => store.doc_acls(j)?,
            None => HashMap::new(),
        },
        users: match &user_job {
            Some(j) => store.user_identities(j)?,
            None => Vec::new(),
        },
        doc_job,
        user_job,
    })
}

fn readers(side: &Side) -> BTreeMap<&str, BTreeSet<String>> {
    let mut by_access: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut out = BTreeMap::new();
    for (doc, access) in &side.docs {
        let key = access.to_string();
        let set = by_access
            .entry(key)
            .or_insert_with(|| {
                let access: Option<Access> = serde_json::from_value(access.clone()).ok();
                side.users
                    .iter()
                    .filter(|u| access.as_ref().is_some_and(|a| a.admits(&u.identities)))
                    .map(|u| u.name.clone())
                    .collect()
            })
            .clone();
        out.insert(doc.as_str(), set);
    }
    out
}

/// Who gained or lost access between jobs `from` and `to`. Each job is paired with the nearest
/// document snapshot (a full sync) and user snapshot (an access-control sync): its own when it
/// has one, else the latest before it, else the earliest after it.
pub fn diff(store: &Mutex<Store>, from: &str, to: &str) -> Result<AccessDiff> {
    let (a, b) = {
        let store = lock(store);
        (side(&store, from)?, side(&store, to)?)
    };
    let (ra, rb) = (readers(&a), readers(&b));
    let empty = BTreeSet::new();
    let ids: BTreeSet<&str> = ra.keys().chain(rb.keys()).copied().collect();
    let changes = ids
        .into_iter()
        .filter_map(|id| {
            let before = ra.get(id).unwrap_or(&empty);
            let after = rb.get(id).unwrap_or(&empty);
            let gained: Vec<String> = after.difference(before).cloned().collect();
            let lost: Vec<String> = before.difference(after).cloned().collect();
            (!gained.is_empty() || !lost.is_empty()).then(|| AccessChange {
                doc_id: id.to_owned(),
                gained,
                lost,
            })
        })
        .collect();
    Ok(AccessDiff {
        from_job: from.to_owned(),
        to_job: to.to_owned(),
        doc_snapshots: (a.doc_job, b.doc_job),
        user_snapshots: (a.user_job, b.user_job),
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_semantics() {
        let ids = vec!["user:a".to_owned()];
        assert!(template_admits(None, &ids));
        assert!(template_admits(Some(&["user:a".to_owned()]), &ids));
        assert!(!template_admits(
            Some(&[super::super::DENY_MARKER.to_owned()]),
            &ids
        ));
    }
}

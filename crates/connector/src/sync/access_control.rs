//! The access-control sync: one identity document per active human user, upserted; the
//! documents of users who are gone deleted. Every user is paged through (no 1000-user cap).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::job::Run;
use super::{CancellationToken, lock, now};
use crate::acl::fetch;
use crate::acl::identity::{IdentityDoc, identity_doc_body};
use crate::acl::{AclStore, Dialect};
use crate::config::{ConnectorConfig, Secrets};
use crate::confluence::{ClientError, CloudUser, ConfluenceClient, Flavor};
use crate::events::{EventHandler, Progress, SyncEvent, SyncPhase};
use crate::store::{JobError, JobRecord, JobStatus, UserSnapshot};
use crate::{Error, Result};

/// Identity documents per write.
const BATCH: usize = 500;
/// Cloud user details fetched at once.
const DETAIL_CONCURRENCY: usize = 8;

/// The users' identity documents, and whether the listing was complete (only then may users
/// who were not listed be deleted).
struct Listing {
    docs: Vec<IdentityDoc>,
    complete: bool,
    errors: Vec<JobError>,
}

/// Runs an access-control sync into the target's identity documents and fills `job`. Users no
/// longer listed are deleted only when every user was listed.
pub(crate) async fn run<S: AclStore>(run: &Run<'_, S>, job: &mut JobRecord) -> Result<()> {
    let Run { job: this, events } = run;
    events(&SyncEvent::Phase {
        phase: SyncPhase::Validating,
    });
    let outcome = sync(
        &this.config,
        &this.secrets,
        &*this.sink,
        events,
        &this.cancel,
        job,
    )
    .await;
    match outcome {
        Ok((status, users)) => {
            job.status = status;
            lock(&this.store).record_user_identities(&job.id, &users)?;
        }
        Err((err, requests)) => {
            job.requests = requests;
            job.status = JobStatus::Failed;
            events(&SyncEvent::Warning {
                message: format!("access-control sync: {err}"),
            });
            job.errors.push(JobError {
                context: "access-control sync".to_owned(),
                message: err.to_string(),
            });
        }
    }
    Ok(())
}

async fn sync<A: AclStore>(
    config: &ConnectorConfig,
    secrets: &Secrets,
    target: &A,
    events: &EventHandler,
    cancel: &CancellationToken,
    job: &mut JobRecord,
) -> std::result::Result<(JobStatus, Vec<UserSnapshot>), (Error, u64)> {
    if !config.use_document_level_security {
        return Err((
            Error::InvalidInput(
                "use_document_level_security is off: turn it on to run access-control syncs"
                    .to_owned(),
            ),
            0,
        ));
    }
    let started = std::time::Instant::now();
    let client = ConfluenceClient::from_config(config, secrets).map_err(|e| (e.into(), 0))?;
    let requests = |c: &ConfluenceClient| c.stats().requests;
    // Who we are before anything is listed (see `ConfluenceClient::verify_identity`).
    client
        .verify_identity()
        .await
        .map_err(|e| (e.into(), requests(&client)))?;
    events(&SyncEvent::Phase {
        phase: SyncPhase::AccessControl,
    });
    let listing = list_users(&client, cancel)
        .await
        .map_err(|e| (e.into(), requests(&client)))?;
    job.errors.extend(listing.errors.iter().cloned());
    for e in &listing.errors {
        events(&SyncEvent::Warning {
            message: format!("{}: {}", e.context, e.message),
        });
    }
    let created_at = now();
    let mut written: HashSet<String> = HashSet::new();
    let total = listing.docs.len() as u64;
    let report = |job: &JobRecord, done: u64| {
        events(&SyncEvent::Progress(progress(
            &client, job, started, total, done,
        )));
    };
    report(job, 0);
    for batch in listing.docs.chunks(BATCH) {
        let docs: Vec<(String, Value)> = batch
            .iter()
            .map(|d| (d.id.clone(), identity_doc_body(d, &created_at)))
            .collect();
        let outcome = target
            .upsert_identities(docs)
            .await
            .map_err(|e| (e, requests(&client)))?;
        job.counters.created += outcome.created;
        job.counters.updated += outcome.updated;
        job.counters.indexed_document_volume += outcome.bytes;
        job.counters.failed += outcome.failed.len() as u64;
        for item in outcome.failed.iter().take(20) {
            job.errors.push(JobError {
                context: format!("identity {}", item.id),
                message: format!("the target rejected it: {}", item.reason),
            });
        }
        written.extend(batch.iter().map(|d| d.id.clone()));
        job.counters.indexed_document_count = job.counters.created + job.counters.updated;
        report(job, written.len() as u64);
    }
    job.counters.indexed_document_count = job.counters.created + job.counters.updated;

    let complete = listing.complete && !cancel.is_cancelled();
    if complete && !listing.docs.is_empty() {
        events(&SyncEvent::Phase {
            phase: SyncPhase::Deleting,
        });
        let existing = target
            .identities()
            .await
            .map_err(|e| (e, requests(&client)))?;
        let gone: Vec<String> = existing
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !written.contains(id))
            .collect();
        for chunk in gone.chunks(BATCH) {
            let outcome = target
                .delete_identities(chunk.to_vec())
                .await
                .map_err(|e| (e, requests(&client)))?;
            job.counters.deleted_document_count += outcome.deleted;
            report(job, written.len() as u64);
        }
    } else if listing.docs.is_empty() {
        job.errors.push(JobError {
            context: "users".to_owned(),
            message: "Confluence listed no active user: no identity document was deleted"
                .to_owned(),
        });
    }
    job.requests = requests(&client);
    let users = listing
        .docs
        .iter()
        .map(|d| UserSnapshot {
            user_id: d.id.clone(),
            name: d.name.clone(),
            identities: d.access_control.clone(),
        })
        .collect();
    let status = if cancel.is_cancelled() {
        JobStatus::Canceled
    } else if complete && job.counters.failed == 0 && !listing.docs.is_empty() {
        JobStatus::Completed
    } else {
        JobStatus::Partial
    };
    Ok((status, users))
}

/// The progress of an access-control sync that wrote `done` of `total` identity documents.
fn progress(
    client: &ConfluenceClient,
    job: &JobRecord,
    started: std::time::Instant,
    total: u64,
    done: u64,
) -> Progress {
    let stats = client.stats();
    let elapsed = started.elapsed().as_secs_f64();
    Progress {
        elapsed_s: elapsed,
        docs_per_second: if elapsed > 0.0 {
            done as f64 / elapsed
        } else {
            0.0
        },
        docs_seen: done,
        docs_listed: total,
        docs_done: done,
        docs_total: Some(total),
        counters: job.counters.clone(),
        requests: stats.requests,
        rate_limit_waits: stats.rate_limited,
        rate_limit_wait_s: stats.rate_limit_wait_ms as f64 / 1000.0,
        rate_limit_resume_s: stats.paused_ms as f64 / 1000.0,
        eta_s: crate::events::eta(Some(total), done, elapsed),
        ..Progress::default()
    }
}

async fn list_users(
    client: &ConfluenceClient,
    cancel: &CancellationToken,
) -> std::result::Result<Listing, ClientError> {
    match client.flavor() {
        Flavor::Cloud => cloud_users(client, cancel).await,
        Flavor::DataCenter => server_users(client, cancel, false).await,
        Flavor::Server => server_users(client, cancel, true).await,
    }
}

/// The reference's Cloud filter: a `self` link, active, and an `atlassian` account (not an app).
fn is_listed_human(u: &CloudUser) -> bool {
    u.self_link.is_some()
        && u.active == Some(true)
        && u.account_type.as_deref() == Some("atlassian")
}

async fn cloud_users(
    client: &ConfluenceClient,
    cancel: &CancellationToken,
) -> std::result::Result<Listing, ClientError> {
    let dialect = Dialect::Cloud;
    let mut pager = client.cloud_users()?;
    let mut listing = Listing {
        docs: Vec::new(),
        complete: true,
        errors: Vec::new(),
    };
    while let Some(page) = pager.next_page().await? {
        if cancel.is_cancelled() {
            listing.complete = false;
            break;
        }
        let humans: Vec<CloudUser> = page.results.into_iter().filter(is_listed_human).collect();
        let details: Vec<_> = stream::iter(humans)
            .map(|u| async move {
                let id = u.account_id.clone().unwrap_or_default();
                (u, client.cloud_user_detail(&id).await)
            })
            .buffer_unordered(DETAIL_CONCURRENCY)
            .collect()
            .await;
        for (user, detail) in details {
            let Some(id) = user.account_id.clone() else {
                continue;
            };
            let detail = match detail {
                Ok(d) => d,
                Err(err) => {
                    listing.complete = false;
                    listing.errors.push(JobError {
                        context: format!("user {id}"),
                        message: format!("groups could not be read, user left out: {err}"),
                    });
                    continue;
                }
            };
            let display = detail.display_name.clone().or(user.display_name.clone());
            let mut identity = BTreeMap::new();
            identity.insert("account_id".to_owned(), dialect.account(&id));
            if let Some(name) = &display {
                identity.insert(
                    "display_name".to_owned(),
                    format!("name:{}", name.replace(' ', "-")),
                );
            }
            if let Some(email) = detail.email_address.clone().or(user.email_address.clone()) {
                identity.insert("email_address".to_owned(), format!("email_address:{email}"));
            }
            if let Some(locale) = detail.locale.clone().or(user.locale.clone()) {
                identity.insert("locale".to_owned(), format!("locale:{locale}"));
            }
            let mut access: BTreeSet<String> = BTreeSet::new();
            access.insert(dialect.account(&id));
            for g in &detail.groups.items {
                if let Some(gid) = &g.group_id {
                    access.insert(dialect.group_id(gid));
                }
            }
            for r in &detail.application_roles.items {
                if let Some(key) = &r.key {
                    access.insert(format!("role_key:{key}"));
                }
            }
            listing.docs.push(IdentityDoc {
                name: display.unwrap_or_else(|| id.clone()),
                id,
                identity,
                access_control: access.into_iter().collect(),
            });
        }
    }
    Ok(listing)
}

/// A Server/DC user before groups are added.
struct ServerUser {
    id: String,
    username: String,
    display_name: Option<String>,
    email: Option<String>,
    key: Option<String>,
}

async fn server_users(
    client: &ConfluenceClient,
    cancel: &CancellationToken,
    extender: bool,
) -> std::result::Result<Listing, ClientError> {
    let dialect = Dialect::ServerDc;
    let mut users: Vec<ServerUser> = Vec::new();
    if extender {
        let mut pager = client.extender_users()?;
        while let Some(page) = pager.next_page().await? {
            for u in page.results {
                let Some(name) = u.name.clone() else { continue };
                users.push(ServerUser {
                    id: u.key.clone().unwrap_or_else(|| name.clone()),
                    username: name,
                    display_name: u.full_name,
                    email: u.email,
                    key: u.key,
                });
            }
        }
    } else {
        let mut start = 0;
        loop {
            if cancel.is_cancelled() {
                break;
            }
            let page = fetch::dc_user_page(client, start).await?;
            if page.is_empty() {
                break;
            }
            start += page.len();
            for u in page {
                // Deactivated accounts cannot search: no identity document, as the reference.
                if u.status
                    .as_deref()
                    .is_some_and(|s| !s.eq_ignore_ascii_case("active"))
                {
                    continue;
                }
                let Some(name) = u.username.clone() else {
                    continue;
                };
                users.push(ServerUser {
                    id: u.user_key.clone().unwrap_or_else(|| name.clone()),
                    username: name,
                    display_name: u.display_name,
                    email: None,
                    key: u.user_key,
                });
            }
            if start >= 10_000_000 {
                break;
            }
        }
    }
    // Group membership through the REST API: every group and its members.
    let groups = client.groups()?.collect_all().await?;
    let names: Vec<String> = groups.into_iter().filter_map(|g| g.name).collect();
    let memberships: Vec<(String, Vec<crate::confluence::User>)> = stream::iter(names)
        .map(|name| async move {
            let members = client.group_members(&name)?.collect_all().await?;
            Ok::<_, ClientError>((name, members))
        })
        .buffer_unordered(4)
        .try_collect()
        .await?;
    let mut groups_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (group, members) in memberships {
        for m in members {
            if let Some(name) = m.username {
                groups_of
                    .entry(name.to_lowercase())
                    .or_default()
                    .insert(dialect.group_name(&group));
            }
        }
    }
    let docs = users
        .into_iter()
        .map(|u| {
            let mut identity = BTreeMap::new();
            if let Some(key) = &u.key {
                identity.insert("account_id".to_owned(), format!("account_id:{key}"));
            }
            identity.insert("username".to_owned(), dialect.username(&u.username));
            if let Some(name) = &u.display_name {
                identity.insert("display_name".to_owned(), format!("name:{name}"));
            }
            if let Some(email) = &u.email {
                identity.insert("email_address".to_owned(), format!("email_address:{email}"));
            }
            let mut access: BTreeSet<String> = BTreeSet::new();
            access.insert(dialect.username(&u.username));
            if let Some(groups) = groups_of.get(&u.username.to_lowercase()) {
                access.extend(groups.iter().cloned());
            }
            IdentityDoc {
                id: u.id,
                name: u.username,
                identity,
                access_control: access.into_iter().collect(),
            }
        })
        .collect();
    Ok(Listing {
        docs,
        complete: !cancel.is_cancelled(),
        errors: Vec::new(),
    })
}

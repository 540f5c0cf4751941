//! Full syncs against the simulator, into the real search node (or the local index), compared
//! with the simulator's ground truth.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize, TruthDoc};
use connector::sink::{EsOptions, EsSink, LocalIndex, Sink};
use connector::sync::SyncOptions;
use connector::{JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;
use serde_json::Value;

use crate::support::indexed;
use crate::support::{search_url, unique_index};

async fn sandbox(flavor: Flavor, dc_auth: DcAuth) -> Sandbox {
    Sandbox::start(SimOptions {
        flavor,
        size: SiteSize::Tiny,
        seed: 11,
        data_center_auth: dc_auth,
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

async fn sync<S: Sink + connector::acl::AclStore + 'static>(
    sandbox: &Sandbox,
    sink: &Arc<S>,
    store: &Arc<Mutex<Store>>,
    work: &std::path::Path,
) -> JobRecord {
    let options = SyncOptions {
        work_dir: work.to_owned(),
        trigger: "test".into(),
        ..SyncOptions::default()
    };
    crate::support::run_job(
        JobType::Full,
        &sandbox.config,
        &sandbox.secrets,
        sink,
        store,
        options.clone(),
    )
    .await
    .unwrap()
}

/// Checks that the index holds exactly the ground truth: same ids, types, titles and spaces,
/// and every body contains the sentence the simulator put in it.
fn assert_matches_truth(index: &BTreeMap<String, Value>, truth: &[TruthDoc]) {
    let want: BTreeSet<&str> = truth.iter().map(|t| t.id.as_str()).collect();
    let got: BTreeSet<&str> = index.keys().map(String::as_str).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, unexpected {extra:?}"
    );
    let mut bodies_checked = 0;
    for t in truth {
        let doc = &index[&t.id];
        assert_eq!(doc["type"], t.r#type, "type of {}", t.id);
        assert_eq!(doc["title"], t.title, "title of {}", t.id);
        assert_eq!(doc["space_key"], t.space_key, "space of {}", t.id);
        assert_eq!(doc["id"], t.id);
        if t.r#type == "page" || t.r#type == "blogpost" {
            let mut labels: Vec<&str> = doc["labels"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            labels.sort_unstable();
            assert_eq!(labels, t.labels, "labels of {}", t.id);
        }
        let extracted = t.r#type != "attachment"
            || doc["extension"]
                .as_str()
                .is_some_and(connector::extract::is_supported);
        if let (Some(text), true) = (&t.text, extracted) {
            let body = doc["body"].as_str().unwrap_or_default();
            assert!(
                body.contains(text.as_str()),
                "body of {} ({}) lacks {text:?}: {body:?}",
                t.id,
                t.r#type
            );
            bodies_checked += 1;
        }
    }
    assert!(bodies_checked > 5, "only {bodies_checked} bodies checked");
}

async fn full_sync_matches_truth(flavor: Flavor, dc_auth: DcAuth) {
    let sandbox = sandbox(flavor, dc_auth).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(
        Store::open(&work.path().join("state.sqlite")).unwrap(),
    ));
    let truth = sandbox.sim.truth();
    let job = match search_url() {
        Some(url) => {
            let sink = Arc::new(EsSink::new(&EsOptions::new(url, unique_index("full"))).unwrap());
            let job = sync(&sandbox, &sink, &store, work.path()).await;
            assert_matches_truth(&indexed(&*sink).await, &truth);
            job
        }
        None => {
            let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
            let job = sync(&sandbox, &sink, &store, work.path()).await;
            assert_matches_truth(&indexed(&*sink).await, &truth);
            job
        }
    };
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    assert_eq!(job.counters.indexed_document_count, truth.len() as u64);
    assert_eq!(job.counters.created, truth.len() as u64);
    assert!(job.requests > 0);
    assert!(
        truth.iter().any(|t| !t.labels.is_empty()),
        "the site has labels"
    );
    // Labels came with the listings: no page or blog post needed a label request.
    let label_requests = crate::support::requests_to(&sandbox, |e| e.ends_with("/label"));
    assert_eq!(
        label_requests,
        0,
        "{:?}",
        sandbox.sim.admin().request_counts().keys()
    );
    // The job is on record with its configuration, without secrets.
    let recorded = store.lock().unwrap().get_job(&job.id).unwrap().unwrap();
    assert_eq!(recorded, job);
    assert_eq!(
        recorded.config["confluence_url"],
        sandbox.config.confluence_url
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_full_sync_indexes_exactly_the_ground_truth() {
    full_sync_matches_truth(Flavor::Cloud, DcAuth::Basic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_full_sync_indexes_exactly_the_ground_truth() {
    full_sync_matches_truth(Flavor::Server, DcAuth::Basic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_full_sync_with_a_personal_access_token_indexes_exactly_the_ground_truth() {
    full_sync_matches_truth(Flavor::DataCenter, DcAuth::Pat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_removes_exactly_what_was_deleted_in_confluence() {
    let sandbox = sandbox(Flavor::Cloud, DcAuth::Basic).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
    let first = sync(&sandbox, &sink, &store, work.path()).await;
    assert_eq!(first.status, JobStatus::Completed);
    let before: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();

    // Delete one page (its attachments and comments go with it) and one blog post.
    let truth = sandbox.sim.truth();
    let page = truth
        .iter()
        .find(|t| t.r#type == "page" && truth.iter().any(|c| c.parent_id.as_deref() == Some(&t.id)))
        .unwrap();
    let blog = truth.iter().find(|t| t.r#type == "blogpost").unwrap();
    sandbox.sim.admin().delete_content(&page.id).unwrap();
    sandbox.sim.admin().delete_content(&blog.id).unwrap();
    let after_truth: BTreeSet<String> = sandbox.sim.truth().into_iter().map(|t| t.id).collect();
    let gone: BTreeSet<String> = before.difference(&after_truth).cloned().collect();
    assert!(gone.len() >= 2, "deleting content removed {gone:?}");

    let second = sync(&sandbox, &sink, &store, work.path()).await;
    assert_eq!(second.status, JobStatus::Completed, "{:?}", second.errors);
    assert_eq!(second.counters.deleted_document_count, gone.len() as u64);
    let now: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();
    assert_eq!(now, after_truth);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_fails_midway_deletes_nothing() {
    let sandbox = sandbox(Flavor::Server, DcAuth::Basic).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
    assert_eq!(
        sync(&sandbox, &sink, &store, work.path()).await.status,
        JobStatus::Completed
    );
    let before: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();

    // Content really is deleted, but the content listings now fail after their first page,
    // for longer than the client retries: the sync cannot know what is gone.
    let truth = sandbox.sim.truth();
    let page = truth.iter().find(|t| t.r#type == "page").unwrap();
    sandbox.sim.admin().delete_content(&page.id).unwrap();
    sandbox
        .sim
        .admin()
        .fail_requests_matching("content/search", 500, 1);

    let second = sync(&sandbox, &sink, &store, work.path()).await;
    assert_eq!(second.status, JobStatus::Partial, "{:?}", second.errors);
    assert_eq!(second.counters.deleted_document_count, 0);
    assert!(
        second.errors.iter().any(|e| e.message.contains("listing")),
        "{:?}",
        second.errors
    );
    let after: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();
    assert_eq!(
        after, before,
        "nothing may be deleted when a listing failed"
    );

    // Once Confluence answers again, a rerun finishes the job.
    sandbox.sim.admin().clear_faults();
    let third = sync(&sandbox, &sink, &store, work.path()).await;
    assert_eq!(third.status, JobStatus::Completed, "{:?}", third.errors);
    let now: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();
    assert_eq!(
        now,
        sandbox
            .sim
            .truth()
            .into_iter()
            .map(|t| t.id)
            .collect::<BTreeSet<_>>()
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deletion_threshold_refuses_to_empty_the_index() {
    let sandbox = sandbox(Flavor::Cloud, DcAuth::Basic).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
    sync(&sandbox, &sink, &store, work.path()).await;
    let before = indexed(&*sink).await.len();
    // Most of the site disappears at once (a space deleted by mistake, say).
    let spaces: Vec<_> = sandbox
        .sim
        .truth()
        .into_iter()
        .filter(|t| t.r#type == "space")
        .collect();
    for space in spaces.iter().skip(1) {
        for t in sandbox
            .sim
            .truth()
            .iter()
            .filter(|t| t.space_key == space.space_key && t.r#type == "page")
        {
            let _ = sandbox.sim.admin().delete_content(&t.id);
        }
    }
    let options = SyncOptions {
        work_dir: work.path().to_owned(),
        max_deletion_ratio: Some(0.1),
        ..SyncOptions::default()
    };
    let job = crate::support::run_job(
        JobType::Full,
        &sandbox.config,
        &sandbox.secrets,
        &sink,
        &store,
        options.clone(),
    )
    .await
    .unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.counters.deleted_document_count, 0);
    assert!(
        job.errors
            .iter()
            .any(|e| e.message.contains("safety threshold")),
        "{:?}",
        job.errors
    );
    assert_eq!(indexed(&*sink).await.len(), before);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_the_engine_rejects_are_counted_and_reported() {
    let Some(url) = search_url() else { return };
    let sandbox = sandbox(Flavor::Cloud, DcAuth::Basic).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    // An index someone created by hand, where `size` only holds small numbers: every attachment
    // over 32 KiB is refused by the engine, item by item, while the rest of the bulk succeeds.
    let index = unique_index("rejects");
    let created = reqwest::Client::new()
        .put(format!("{url}/{index}"))
        .json(&serde_json::json!({"mappings": {"properties": {
            "id": {"type": "keyword"},
            "space_key": {"type": "keyword"},
            "size": {"type": "short"}
        }}}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let truth = sandbox.sim.truth();
    let sink = Arc::new(EsSink::new(&EsOptions::new(url, index)).unwrap());
    let job = sync(&sandbox, &sink, &store, work.path()).await;
    let index_now = indexed(&*sink).await;
    let rejected: Vec<&TruthDoc> = truth
        .iter()
        .filter(|t| !index_now.contains_key(&t.id))
        .collect();
    assert!(!rejected.is_empty(), "the site has attachments over 32 KiB");
    assert!(rejected.iter().all(|t| t.r#type == "attachment"));
    assert_eq!(job.status, JobStatus::Partial, "{:?}", job.errors);
    assert_eq!(job.counters.failed, rejected.len() as u64);
    assert_eq!(
        job.counters.indexed_document_count,
        (truth.len() - rejected.len()) as u64
    );
    for t in &rejected {
        assert!(
            job.errors.iter().any(
                |e| e.context == format!("document {}", t.id) && e.message.contains("rejected")
            ),
            "no error for {}: {:?}",
            t.id,
            job.errors
        );
    }
    sandbox.shutdown().await;
}

/// On Cloud the crawl goes through REST v2 (listings per space and site-wide, no request per
/// page) and writes exactly what the v1 crawl writes, access lists included: a v2 sync after a
/// v1 sync of the same site finds every document unchanged. A proxy that does not pass v2
/// through leaves the v1 crawl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloud_crawl_uses_rest_v2_and_writes_what_the_v1_crawl_writes() {
    use confluence_sim::Quirks;
    let sandbox = Sandbox::start(SimOptions {
        flavor: Flavor::Cloud,
        size: SiteSize::Tiny,
        seed: 23,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    config.index_labels = true;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(
        Store::open(&work.path().join("state.sqlite")).unwrap(),
    ));
    let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
    let run = |job_type| {
        let options = SyncOptions {
            work_dir: work.path().to_owned(),
            trigger: "test".into(),
            ..SyncOptions::default()
        };
        let (config, secrets, sink, store) = (&config, &sandbox.secrets, &sink, &store);
        async move {
            crate::support::run_job(job_type, config, secrets, sink, store, options)
                .await
                .unwrap()
        }
    };
    let truth = sandbox.sim.truth();

    // Through v1: v2 answers 404 as behind a proxy that does not pass it through.
    sandbox.sim.admin().set_quirks(Quirks {
        missing_route: Some("/api/v2/".into()),
        ..Quirks::none()
    });
    let v1 = run(JobType::Full).await;
    assert_eq!(v1.status, JobStatus::Completed, "{:?}", v1.errors);
    assert!(crate::support::requests_to(&sandbox, |e| e.contains("/child/comment")) > 0);
    let by_v1 = indexed(&*sink).await;
    assert_matches_truth(&by_v1, &truth);
    // v2 refusing the credential (an OAuth token with classic scopes only): v1 again.
    sandbox.sim.admin().set_quirks(Quirks {
        forbidden_route: Some("/api/v2/".into()),
        ..Quirks::none()
    });
    let refused = run(JobType::Full).await;
    assert_eq!(refused.status, JobStatus::Completed, "{:?}", refused.errors);
    assert_eq!(indexed(&*sink).await, by_v1);

    // Through v2: every document as v1 wrote it.
    sandbox.sim.admin().set_quirks(Quirks::none());
    sandbox.sim.admin().reset_request_counts();
    let v2 = run(JobType::Full).await;
    assert_eq!(v2.status, JobStatus::Completed, "{:?}", v2.errors);
    let counts = sandbox.sim.admin().request_counts();
    let v2_requests: u64 = counts
        .iter()
        .filter(|(e, _)| e.contains("/api/v2/"))
        .map(|(_, c)| c.requests)
        .sum();
    assert!(v2_requests > 0, "{:?}", counts.keys());
    // No request per page or blog post: no v1 child listing, no v2 child route.
    let per_item: Vec<&String> = counts
        .keys()
        .filter(|e| {
            e.contains("/child/")
                || e.ends_with("/comments")
                || e.contains("/pages/{id}/") && !e.ends_with("/labels")
                || e.contains("/blogposts/{id}/") && !e.ends_with("/labels")
        })
        .collect();
    assert!(per_item.is_empty(), "per-item requests: {per_item:?}");
    // The spaces and their permissions through v2, the groups' members by id. REST v1's space
    // route serves only the space open to anonymous users: v2 names a role there, whose
    // meaning only v1 states (`anonymousAccess`).
    let requests = |f: &dyn Fn(&str) -> bool| -> u64 {
        counts
            .iter()
            .filter(|(e, _)| f(e))
            .map(|(_, c)| c.requests)
            .sum()
    };
    assert!(
        requests(&|e| e.ends_with("/api/v2/spaces")) > 0,
        "{counts:?}"
    );
    assert!(
        requests(&|e| e.ends_with("/api/v2/spaces/{id}/permissions")) > 0,
        "{counts:?}"
    );
    assert!(
        requests(&|e| e.contains("membersByGroupId")) > 0,
        "{counts:?}"
    );
    assert_eq!(requests(&|e| e.contains("/group/member")), 0, "{counts:?}");
    let anonymous = truth
        .iter()
        .filter(|t| t.r#type == "space" && t.anonymous)
        .count() as u64;
    assert_eq!(anonymous, 1);
    assert_eq!(
        requests(&|e| e.contains("/rest/api/space")),
        anonymous,
        "{counts:?}"
    );
    // Labels: per space its label listing, then two listings per label used in the spaces
    // (one listing covers them all here), or one per page or blog post where that is fewer
    // (the first sync's counts say how many there are).
    let spaces = truth.iter().filter(|t| t.r#type == "space").count() as u64;
    let units = truth
        .iter()
        .filter(|t| t.r#type == "page" || t.r#type == "blogpost");
    let items = units.clone().count() as u64;
    let used: BTreeSet<&str> = units
        .flat_map(|t| t.labels.iter().map(String::as_str))
        .collect();
    let expected = spaces + (2 * used.len() as u64).min(items);
    let label_requests: u64 = counts
        .iter()
        .filter(|(e, _)| e.contains("label"))
        .map(|(_, c)| c.requests)
        .sum();
    assert_eq!(label_requests, expected, "{counts:?}");
    let by_v2 = indexed(&*sink).await;
    for (id, doc) in &by_v1 {
        assert_eq!(Some(doc), by_v2.get(id), "{id} differs between the crawls");
    }
    assert_matches_truth(&by_v2, &truth);
    assert_eq!(
        v2.counters.created + v2.counters.updated,
        0,
        "{:?}",
        v2.counters
    );
    assert_eq!(v2.counters.deleted_document_count, 0);
    assert_eq!(
        v2.counters.unchanged,
        truth.len() as u64,
        "{:?}",
        v2.counters
    );

    // A space that uses more labels than it has pages has them listed per page instead.
    let page = truth.iter().find(|t| t.r#type == "page").unwrap();
    for n in 0..60 {
        sandbox
            .sim
            .admin()
            .add_label(&page.id, &format!("topic-{n}"))
            .unwrap();
    }
    sandbox.sim.admin().reset_request_counts();
    let labelled = run(JobType::Full).await;
    assert_eq!(
        labelled.status,
        JobStatus::Completed,
        "{:?}",
        labelled.errors
    );
    assert_eq!(labelled.counters.updated, 1, "{:?}", labelled.counters);
    let per_page = crate::support::requests_to(&sandbox, |e| e.ends_with("/pages/{id}/labels"));
    assert!(
        per_page > 0,
        "{:?}",
        sandbox.sim.admin().request_counts().keys()
    );
    let now = sandbox.sim.truth();
    let want = &now.iter().find(|t| t.id == page.id).unwrap().labels;
    assert_eq!(want.len(), page.labels.len() + 60);
    assert_eq!(
        indexed(&*sink).await[&page.id]["labels"],
        serde_json::json!(want)
    );
    sandbox.shutdown().await;
}

/// The v2 crawl's site-wide comment listing fails: no space is complete, so nothing is deleted,
/// not even a page Confluence really deleted; once Confluence answers again, a rerun deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_site_wide_listing_deletes_nothing_on_cloud() {
    let sandbox = sandbox(Flavor::Cloud, DcAuth::Basic).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
    let first = sync(&sandbox, &sink, &store, work.path()).await;
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    let before: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();

    let page = sandbox
        .sim
        .truth()
        .into_iter()
        .find(|t| t.r#type == "page")
        .unwrap();
    sandbox.sim.admin().delete_content(&page.id).unwrap();
    sandbox
        .sim
        .admin()
        .fail_requests_matching("/api/v2/footer-comments", 500, 0);
    let second = sync(&sandbox, &sink, &store, work.path()).await;
    assert_eq!(second.status, JobStatus::Partial, "{:?}", second.errors);
    assert_eq!(second.counters.deleted_document_count, 0);
    assert!(
        second
            .errors
            .iter()
            .any(|e| e.message.contains("footer comments")),
        "{:?}",
        second.errors
    );
    let after: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();
    assert_eq!(
        after, before,
        "nothing may be deleted when a listing failed"
    );

    sandbox.sim.admin().clear_faults();
    let third = sync(&sandbox, &sink, &store, work.path()).await;
    assert_eq!(third.status, JobStatus::Completed, "{:?}", third.errors);
    let now: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();
    let truth: BTreeSet<String> = sandbox.sim.truth().into_iter().map(|t| t.id).collect();
    assert_eq!(now, truth);
    assert!(!now.contains(&page.id));
    sandbox.shutdown().await;
}

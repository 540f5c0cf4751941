//! Document-level security against the simulator and a real search node: for many generated
//! permission models (spaces, groups, users, nested restrictions, anonymous spaces), every
//! user's own query template finds exactly the documents the simulator says they may read.
//! Also: the deny marker, the Cloud / Server (Extender) / Data Center (native API) paths, the
//! missing-API configuration error, and who gained or lost access between two syncs.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize, TruthDoc};
use connector::acl::{self, AclStore, DENY_MARKER};
use connector::config::{ConnectorConfig, Secrets, Target};
use connector::confluence::ConfluenceClient;
use connector::sink::{EsOptions, EsSink, SearchRequest, Sink};
use connector::sync::SyncOptions;
use connector::{JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;
use serde_json::Value;

use crate::support::{search_url, unique_index};

/// A tiny deterministic generator for the permission models.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    fn some<'a>(&mut self, items: &'a [String], max: usize) -> Vec<&'a str> {
        let n = (self.next() % (max as u64 + 1)) as usize;
        let mut out: Vec<&str> = (0..n).map(|_| self.pick(items).as_str()).collect();
        out.sort();
        out.dedup();
        out
    }
}

struct Synced {
    sandbox: Sandbox,
    sink: EsSink,
    store: Arc<Mutex<Store>>,
    config: ConnectorConfig,
    full: JobRecord,
    acl: JobRecord,
    work: tempfile::TempDir,
}

fn options(work: &tempfile::TempDir) -> SyncOptions {
    SyncOptions {
        work_dir: work.path().to_owned(),
        trigger: "test".into(),
        ..SyncOptions::default()
    }
}

async fn start(flavor: Flavor, size: SiteSize, seed: u64, extender: bool) -> Sandbox {
    Sandbox::start(SimOptions {
        flavor,
        size,
        seed,
        data_center_auth: DcAuth::Basic,
        extender,
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

/// The sync writes to the sink it is given; the configured target only names the index.
fn dls_config(sandbox: &Sandbox, index: &str) -> (ConnectorConfig, Secrets) {
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    config.index_labels = false;
    config.target = Target::Local {
        index_name: index.to_owned(),
    };
    (config, sandbox.secrets.clone())
}

async fn sync_both(
    config: &ConnectorConfig,
    secrets: &Secrets,
    sink: &Arc<EsSink>,
    store: &Arc<Mutex<Store>>,
    work: &tempfile::TempDir,
) -> (JobRecord, JobRecord) {
    let full = crate::support::run_job(
        JobType::Full,
        config,
        secrets,
        sink,
        store,
        options(work).clone(),
    )
    .await
    .unwrap();
    let acl = crate::support::run_job(
        JobType::AccessControl,
        config,
        secrets,
        sink,
        store,
        options(work).clone(),
    )
    .await
    .unwrap();
    (full, acl)
}

async fn synced(sandbox: Sandbox, url: &str) -> Synced {
    let index = unique_index("dls");
    let (config, secrets) = dls_config(&sandbox, &index);
    let sink = Arc::new(EsSink::new(&EsOptions::new(url, index)).unwrap());
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let work = tempfile::tempdir().unwrap();
    let (full, acl) = sync_both(&config, &secrets, &sink, &store, &work).await;
    let sink = Arc::try_unwrap(sink).unwrap_or_else(|_| panic!("sink still shared"));
    Synced {
        sandbox,
        sink,
        store,
        config,
        full,
        acl,
        work,
    }
}

/// The users and groups of a site, as the admin API names them.
async fn principals(sandbox: &Sandbox) -> (Vec<String>, Vec<String>, String) {
    let client = ConfluenceClient::from_config(&sandbox.config, &sandbox.secrets).unwrap();
    let groups: Vec<String> = client
        .groups()
        .unwrap()
        .collect_all()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|g| g.name)
        .collect();
    let creds = sandbox.sim.credentials();
    let mut users = BTreeSet::new();
    let mut crawler = None;
    for g in &groups {
        for u in client
            .group_members(g)
            .unwrap()
            .collect_all()
            .await
            .unwrap()
        {
            let ident = match sandbox.sim.flavor() {
                Flavor::Cloud => u.account_id.clone(),
                _ => u.username.clone(),
            };
            let Some(ident) = ident else { continue };
            let is_crawler = match sandbox.sim.flavor() {
                Flavor::Cloud => u.email.is_some() && u.email == creds.email,
                _ => u.username.is_some() && u.username == creds.username,
            };
            if is_crawler {
                crawler = Some(ident.clone());
            }
            users.insert(ident);
        }
    }
    let crawler = crawler.expect("the crawler is in a group");
    users.remove(&crawler);
    (users.into_iter().collect(), groups, crawler)
}

/// Rewrites the permission model at random: space permissions (anonymous included), nested read
/// restrictions on pages and blog posts, group memberships and a deactivated account.
async fn mutate(sandbox: &Sandbox, seed: u64) {
    let (users, groups, crawler) = principals(sandbox).await;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let admin = sandbox.sim.admin();
    let truth = sandbox.sim.truth();
    for doc in truth.iter().filter(|d| d.r#type == "space") {
        if rng.chance(0.6) {
            let mut us = rng.some(&users, 3);
            us.push(crawler.as_str());
            let gs = rng.some(&groups, 2);
            admin
                .set_space_permission(&doc.space_key, &us, &gs, rng.chance(0.3))
                .unwrap();
        }
    }
    for doc in truth
        .iter()
        .filter(|d| d.r#type == "page" || d.r#type == "blogpost")
    {
        if rng.chance(0.4) {
            let mut us = rng.some(&users, 3);
            let gs = rng.some(&groups, 2);
            if rng.chance(0.85) || (us.is_empty() && gs.is_empty()) {
                us.push(crawler.as_str());
            }
            admin.set_read_restriction(&doc.id, &us, &gs).unwrap();
        }
    }
    for g in &groups {
        if rng.chance(0.5) {
            admin
                .add_group_member(g, rng.pick(&users).as_str())
                .unwrap();
        }
        if rng.chance(0.3) {
            admin
                .remove_group_member(g, rng.pick(&users).as_str())
                .unwrap();
        }
    }
    if rng.chance(0.5) {
        admin
            .set_user_active(rng.pick(&users).as_str(), false)
            .unwrap();
    }
}

/// The truth's name for the user of an identity document.
fn truth_name(flavor: Flavor, id: &str, body: &Value) -> String {
    match flavor {
        Flavor::Cloud => id.to_owned(),
        _ => body["identity"]["username"]
            .as_str()
            .and_then(|u| u.strip_prefix("user:"))
            .unwrap_or(id)
            .to_lowercase(),
    }
}

/// Compares, for every user and document, what the user's own query template finds in the
/// search node with the simulator's readers. Returns (over-grants, under-grants, pairs checked).
async fn compare(s: &Synced) -> (Vec<String>, Vec<String>, usize) {
    let flavor = s.sandbox.sim.flavor();
    let truth: Vec<TruthDoc> = s.sandbox.sim.truth();
    let mut by_id: HashMap<&str, Vec<&TruthDoc>> = HashMap::new();
    for d in &truth {
        by_id.entry(d.id.as_str()).or_default().push(d);
    }
    let identities = s.sink.identities().await.unwrap();
    assert!(!identities.is_empty(), "no identity documents");
    let known: HashSet<String> = identities
        .iter()
        .map(|(id, body)| truth_name(flavor, id, body))
        .collect();
    let (mut over, mut under, mut pairs) = (Vec::new(), Vec::new(), 0);
    // App accounts (Cloud) read what the truth says but cannot search: like the reference, the
    // access-control sync gives them no identity document.
    let apps: HashSet<String> = if flavor == Flavor::Cloud {
        let client = ConfluenceClient::from_config(&s.sandbox.config, &s.sandbox.secrets).unwrap();
        client
            .cloud_users()
            .unwrap()
            .collect_all()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.account_type.as_deref() == Some("app"))
            .filter_map(|u| u.account_id)
            .collect()
    } else {
        HashSet::new()
    };
    // Every other reader the truth names has an identity document (else they could read nothing).
    for d in &truth {
        for r in d.readers.iter().filter(|r| !apps.contains(*r)) {
            let r = if flavor == Flavor::Cloud {
                r.clone()
            } else {
                r.to_lowercase()
            };
            if !known.contains(&r) {
                under.push(format!(
                    "{r} has no identity document but may read {}",
                    d.id
                ));
            }
        }
    }
    for (id, body) in &identities {
        let name = truth_name(flavor, id, body);
        let readable: HashSet<String> = s
            .sink
            .readable_by(body)
            .await
            .unwrap()
            .into_iter()
            .collect();
        for doc in &readable {
            if !by_id.contains_key(doc.as_str()) {
                over.push(format!("{name} finds {doc}, which is not in the truth"));
            }
        }
        for (doc, docs) in &by_id {
            // Ids shared by two truth documents (a space and a content item) cannot be told
            // apart in one index; they are compared when they agree.
            let may: BTreeSet<bool> = docs
                .iter()
                .map(|d| {
                    d.readers
                        .iter()
                        .any(|r| r == &name || r.to_lowercase() == name)
                })
                .collect();
            if may.len() > 1 {
                continue;
            }
            let may = may.into_iter().next().unwrap_or(false);
            let found = readable.contains(*doc);
            pairs += 1;
            match (may, found) {
                (false, true) => over.push(format!("{name} finds {doc} ({})", docs[0].r#type)),
                (true, false) => under.push(format!("{name} misses {doc} ({})", docs[0].r#type)),
                _ => {}
            }
        }
    }
    (over, under, pairs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_users_template_finds_exactly_what_the_simulator_allows() {
    let Some(url) = search_url() else { return };
    let custom = |users, groups| SiteSize::Custom {
        spaces: 3,
        pages_per_space: 12,
        blogposts_per_space: 2,
        attachments_per_page: 0.4,
        comments_per_page: 0.4,
        users,
        groups,
    };
    let mut cases = Vec::new();
    // The unmodified tiny sites are compared in `each_data_source_reads_...`.
    for flavor in [Flavor::Cloud, Flavor::Server, Flavor::DataCenter] {
        for seed in [11u64, 12, 13] {
            cases.push((flavor, custom(10 + seed as usize % 5, 4), seed, true));
        }
    }
    let started = std::time::Instant::now();
    let mut total_pairs = 0;
    let mut failures = Vec::new();
    for (flavor, size, seed, random) in cases {
        let sandbox = start(flavor, size, seed, true).await;
        if random {
            mutate(&sandbox, seed).await;
        }
        let s = synced(sandbox, &url).await;
        assert_ne!(s.full.status, JobStatus::Failed, "{:?}", s.full.errors);
        assert_eq!(s.acl.status, JobStatus::Completed, "{:?}", s.acl.errors);
        let (over, under, pairs) = compare(&s).await;
        total_pairs += pairs;
        if !over.is_empty() || !under.is_empty() {
            failures.push(format!(
                "{flavor} seed {seed}: over-grants {over:?}, under-grants {under:?}"
            ));
        }
        s.sink.delete_index().await.unwrap();
        s.sink.acl_index().delete_index().await.unwrap();
        s.sandbox.shutdown().await;
    }
    eprintln!(
        "compared {total_pairs} (user, document) pairs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(total_pairs > 1000, "too few pairs compared: {total_pairs}");
}

#[tokio::test]
async fn a_document_whose_access_cannot_be_computed_gets_the_deny_marker() {
    let Some(url) = search_url() else { return };
    let sandbox = start(Flavor::Cloud, SiteSize::Tiny, 3, true).await;
    // Group members cannot be listed: restricted pages, whose readers are the intersection of
    // the space's groups and the restriction's, cannot be computed and fail closed.
    sandbox
        .sim
        .admin()
        .fail_requests_matching("/membersByGroupId", 403, 0);
    let mut s = synced(sandbox, &url).await;
    s.sink.refresh().await.unwrap();
    let denied = s
        .sink
        .search(&SearchRequest {
            filters: vec![("_allow_access_control".into(), DENY_MARKER.into())],
            size: 100,
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    assert!(
        denied.total > 0,
        "some pages are restricted: {:?} {:?}",
        s.full.status,
        s.full.errors
    );
    for hit in &denied.hits {
        assert_eq!(
            hit.source["_allow_access_control"],
            serde_json::json!([DENY_MARKER])
        );
    }
    // Hidden from everybody because their access could not be read: not a complete sync.
    assert_eq!(s.full.status, JobStatus::Partial, "{:?}", s.full.errors);
    assert!(s.full.counters.acl_failures > 0, "{:?}", s.full.counters);
    // No user's template finds them, and no document carries an empty list.
    for (_, body) in s.sink.identities().await.unwrap() {
        let readable: HashSet<String> = s
            .sink
            .readable_by(&body)
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert!(denied.hits.iter().all(|h| !readable.contains(&h.id)));
    }
    let empty = s
        .sink
        .search(&SearchRequest {
            size: 1000,
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    assert!(
        empty
            .hits
            .iter()
            .all(|h| h.source.get("_allow_access_control") != Some(&serde_json::json!([])))
    );
    // The job says why; the inspector says where.
    assert!(
        s.full
            .errors
            .iter()
            .any(|e| e.message.contains("deny marker") && e.message.contains("members")),
        "{:?}",
        s.full.errors
    );
    let explained = acl::explain_doc(&s.sink, &s.store, &denied.hits[0].id)
        .await
        .unwrap();
    assert!(matches!(explained.access, Some(acl::Access::Denied { .. })));
    assert!(explained.derivation.unwrap().failure.is_some());
    assert!(explained.readers.is_empty());

    // The next sync, with the fault gone, opens them up again; the diff shows who gained.
    s.sandbox.sim.admin().clear_faults();
    let sink = Arc::new(EsSink::new(&EsOptions::new(&url, s.sink.index())).unwrap());
    let (full2, _) = sync_both(&s.config, &s.sandbox.secrets, &sink, &s.store, &s.work).await;
    let diff = acl::diff(&s.store, &s.full.id, &full2.id).unwrap();
    assert!(
        diff.changes
            .iter()
            .any(|c| c.doc_id == denied.hits[0].id && !c.gained.is_empty() && c.lost.is_empty())
    );
    s.full = full2;
    s.sink.delete_index().await.unwrap();
    s.sink.acl_index().delete_index().await.unwrap();
    s.sandbox.shutdown().await;
}

async fn permission_source(flavor: Flavor, extender: bool) -> (Synced, Option<acl::Derivation>) {
    let url = search_url().unwrap();
    let sandbox = start(flavor, SiteSize::Tiny, 5, extender).await;
    let s = synced(sandbox, &url).await;
    let first = s.sandbox.sim.truth()[0].id.clone();
    let explained = acl::explain_doc(&s.sink, &s.store, &first).await.unwrap();
    (s, explained.derivation)
}

#[tokio::test]
async fn each_data_source_reads_space_permissions_from_its_api() {
    if search_url().is_none() {
        return;
    }
    for (flavor, extender, expected) in [
        (Flavor::Cloud, false, acl::PermissionSource::CloudExpansion),
        (Flavor::Server, true, acl::PermissionSource::Extender),
        (
            Flavor::DataCenter,
            false,
            acl::PermissionSource::DataCenterNative,
        ),
    ] {
        let (s, derivation) = permission_source(flavor, extender).await;
        let derivation = derivation.unwrap_or_default();
        let space = derivation.space.clone().unwrap_or_default();
        let source = space.source;
        // On Cloud, groups are ids: the inspector gets their names beside them.
        if flavor == Flavor::Cloud {
            assert!(!space.groups.is_empty(), "{flavor}: {derivation:?}");
            for group in &space.groups {
                assert!(
                    derivation.names.get(group).is_some_and(|n| !n.is_empty()),
                    "{flavor}: no name for {group}: {:?}",
                    derivation.names
                );
            }
        }
        assert_eq!(
            s.full.status,
            JobStatus::Completed,
            "{flavor}: {:?}",
            s.full.errors
        );
        assert_eq!(source, Some(expected), "{flavor}");
        let (over, under, _) = compare(&s).await;
        assert!(
            over.is_empty() && under.is_empty(),
            "{flavor}: {over:?} {under:?}"
        );
        // Identity documents have the reference's shape.
        let (_, body) = &s.sink.identities().await.unwrap()[0];
        assert!(body["created_at"].is_string());
        assert_eq!(body["query"]["template"]["source"], acl::SEARCH_TEMPLATE);
        assert!(body["query"]["template"]["params"]["access_control"].is_array());
        s.sink.delete_index().await.unwrap();
        s.sink.acl_index().delete_index().await.unwrap();
        s.sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn server_without_a_permission_api_is_a_configuration_error() {
    let sandbox = start(Flavor::Server, SiteSize::Tiny, 5, false).await;
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    let checks = connector::check::remote(&config, &sandbox.secrets).await;
    let dls = checks.iter().find(|c| c.id == "dls").expect("a DLS check");
    assert_eq!(dls.status, connector::check::CheckStatus::Failed);
    assert_eq!(dls.field.as_deref(), Some("use_document_level_security"));
    assert!(dls.message.contains("Extender"), "{}", dls.message);

    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let work = tempfile::tempdir().unwrap();
    let sink = Arc::new(connector::sink::LocalIndex::open_in_memory().unwrap());
    let job = crate::support::run_job(
        JobType::Full,
        &config,
        &sandbox.secrets,
        &sink,
        &store,
        options(&work).clone(),
    )
    .await
    .unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.errors.iter().any(|e| e.message.contains("Extender")),
        "{:?}",
        job.errors
    );
    assert_eq!(
        sink.count().await.unwrap(),
        0,
        "nothing is written without ACLs"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn access_control_sync_upserts_and_deletes_users_on_the_local_index() {
    let sandbox = start(Flavor::DataCenter, SiteSize::Tiny, 5, false).await;
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let work = tempfile::tempdir().unwrap();
    let local = Arc::new(connector::sink::LocalIndex::open_in_memory().unwrap());
    let opts = options(&work);
    let run = || {
        crate::support::run_job(
            JobType::AccessControl,
            &config,
            &sandbox.secrets,
            &local,
            &store,
            opts.clone(),
        )
    };
    let first = run().await.unwrap();
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    let before = local.identities().await.unwrap();
    assert_eq!(first.counters.created, before.len() as u64);
    // Inactive accounts get no identity document.
    let (users, _, _) = principals(&sandbox).await;
    let gone = users
        .iter()
        .find(|u| {
            before
                .iter()
                .any(|(_, b)| truth_name(Flavor::DataCenter, "", b) == u.to_lowercase())
        })
        .unwrap()
        .clone();
    sandbox.sim.admin().set_user_active(&gone, false).unwrap();
    let second = run().await.unwrap();
    assert_eq!(second.counters.updated, before.len() as u64 - 1);
    assert_eq!(second.counters.deleted_document_count, 1);
    let after = local.identities().await.unwrap();
    assert!(
        after
            .iter()
            .all(|(_, b)| truth_name(Flavor::DataCenter, "", b) != gone.to_lowercase())
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn cloud_test_connection_makes_the_requests_a_dls_sync_needs_and_names_the_missing_right() {
    use confluence_sim::Quirks;
    use connector::check::CheckStatus;
    let sandbox = start(Flavor::Cloud, SiteSize::Tiny, 5, false).await;
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    let dls_check = || async {
        let checks = connector::check::remote(&config, &sandbox.secrets).await;
        checks
            .into_iter()
            .find(|c| c.id == "dls")
            .expect("a DLS check")
    };
    sandbox.sim.admin().reset_request_counts();
    let passed = dls_check().await;
    assert_eq!(passed.status, CheckStatus::Passed, "{}", passed.message);
    assert!(
        passed.message.contains("users are readable"),
        "{}",
        passed.message
    );
    // It asked Confluence, rather than assuming.
    let asked = sandbox.sim.admin().request_counts();
    // REST v2 for the space's permissions (found by its key), v1 for the rest.
    for endpoint in [
        "/api/v2/spaces/{id}/permissions",
        "/membersByGroupId",
        "/users/search",
    ] {
        assert!(
            asked.keys().any(|k| k.contains(endpoint)),
            "{endpoint} not requested: {:?}",
            asked.keys()
        );
    }

    let cases = [
        (
            "/rest/api/3/users/search",
            "users could not be listed",
            "Browse users and groups",
        ),
        (
            "/membersByGroupId",
            "members of group",
            "Browse users and groups",
        ),
        (
            // v2's `spaces/{id}/permissions`, then v1's `?expand=permissions`.
            "permissions",
            "permissions of space",
            "Admin permission of the space",
        ),
    ];
    for (route, what, fix) in cases {
        sandbox.sim.admin().set_quirks(Quirks {
            forbidden_route: Some(route.to_owned()),
            ..Quirks::none()
        });
        let failed = dls_check().await;
        assert_eq!(
            failed.status,
            CheckStatus::Failed,
            "{route}: {}",
            failed.message
        );
        assert_eq!(failed.field.as_deref(), Some("use_document_level_security"));
        assert!(failed.message.contains(what), "{route}: {}", failed.message);
        assert!(failed.message.contains(fix), "{route}: {}", failed.message);
        assert!(
            failed.message.contains("403"),
            "{route}: {}",
            failed.message
        );
    }
    sandbox.shutdown().await;
}

//! Incremental syncs equal full syncs: random sequences of site mutations (edits, creates,
//! trash, purge, restore, moves, attachment re-uploads, restriction, space-permission and
//! group-membership changes) on every flavor; after each incremental run the index, access
//! lists included, equals what a fresh full sync of the same site writes, and the simulator's
//! ground truth.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize};
use connector::config::Target;
use connector::sink::LocalIndex;
use connector::sync::SyncOptions;
use connector::{JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;
use serde_json::Value;

use crate::support::{indexed, requests_to, run_job};

/// A deterministic random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

struct Index {
    store: Arc<Mutex<Store>>,
    sink: Arc<LocalIndex>,
    work: tempfile::TempDir,
}

impl Index {
    fn new() -> Index {
        let work = tempfile::tempdir().unwrap();
        let store = Store::open(&work.path().join("state.sqlite")).unwrap();
        store
            .add_connection("c", "Test", "confluence_cloud")
            .unwrap();
        Index {
            store: Arc::new(Mutex::new(store)),
            sink: Arc::new(LocalIndex::open(work.path().join("index.sqlite")).unwrap()),
            work,
        }
    }

    /// A new index with a completed full sync of `sandbox`.
    async fn synced(sandbox: &Sandbox) -> Index {
        let index = Index::new();
        let first = index.run(sandbox, JobType::Full).await;
        assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
        index
    }

    async fn run(&self, sandbox: &Sandbox, kind: JobType) -> JobRecord {
        self.run_with(sandbox, kind, true).await
    }

    async fn run_with(&self, sandbox: &Sandbox, kind: JobType, reconcile: bool) -> JobRecord {
        let mut config = sandbox.config.clone();
        config.use_document_level_security = true;
        config.target = Target::Local {
            index_name: "content".into(),
        };
        run_job(
            kind,
            &config,
            &sandbox.secrets,
            &self.sink,
            &self.store,
            SyncOptions {
                connection_id: Some("c".into()),
                work_dir: self.work.path().join("work"),
                trigger: "test".into(),
                // Restrictions that shut the crawler out remove much of a tiny site.
                max_deletion_ratio: Some(1.0),
                reconcile,
                ..SyncOptions::default()
            },
        )
        .await
        .unwrap()
    }
}

async fn start(flavor: Flavor, seed: u64) -> Sandbox {
    Sandbox::start(SimOptions {
        flavor,
        size: SiteSize::Tiny,
        seed,
        data_center_auth: DcAuth::Basic,
        extender: flavor == Flavor::Server,
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

/// One random change to the site, described.
fn mutate(sandbox: &Sandbox, rng: &mut Rng, trashed: &mut Vec<String>) -> Option<String> {
    let admin = sandbox.sim.admin();
    let truth = sandbox.sim.truth();
    let of = |t: &str| -> Vec<&confluence_sim::TruthDoc> {
        truth.iter().filter(|d| d.r#type == t).collect()
    };
    let pages = of("page");
    let units: Vec<_> = truth
        .iter()
        .filter(|d| d.r#type == "page" || d.r#type == "blogpost")
        .collect();
    let attachments = of("attachment");
    let comments = of("comment");
    let spaces = of("space");
    let users: Vec<String> = truth
        .iter()
        .flat_map(|d| d.readers.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let n = rng.next();
    let done = match n % 13 {
        0 => {
            let p = rng.pick(&units)?;
            let body = format!("<p>edited {n}</p>");
            admin.update_page(&p.id, None, Some(&body)).ok()?;
            format!("edit {}", p.id)
        }
        1 => {
            let p = rng.pick(&units)?;
            admin
                .update_page(&p.id, Some(&format!("Renamed {n}")), None)
                .ok()?;
            format!("rename {}", p.id)
        }
        2 => {
            let s = rng.pick(&spaces)?;
            let parent = pages.iter().find(|p| p.space_key == s.space_key);
            let id = admin
                .add_page(
                    &s.space_key,
                    parent.map(|p| p.id.as_str()),
                    &format!("New page {n}"),
                    "<p>new</p>",
                )
                .ok()?;
            format!("create {id}")
        }
        3 => {
            let u = rng.pick(&units)?;
            let id = admin
                .add_comment(&u.id, &format!("<p>comment {n}</p>"), false)
                .ok()?;
            format!("comment {id} on {}", u.id)
        }
        4 => {
            let u = rng.pick(&units)?;
            let id = admin
                .add_attachment(&u.id, &format!("notes-{n}.txt"), Some(2_000))
                .ok()?;
            format!("attach {id} to {}", u.id)
        }
        5 => {
            let a = rng.pick(&attachments)?;
            admin.update_attachment(&a.id, None).ok()?;
            format!("re-upload {}", a.id)
        }
        6 => {
            let d = rng
                .pick(&units)
                .map(|d| d.id.clone())
                .or_else(|| rng.pick(&comments).map(|d| d.id.clone()))?;
            admin.delete_content(&d).ok()?;
            trashed.push(d.clone());
            format!("trash {d}")
        }
        7 => {
            if trashed.is_empty() {
                return None;
            }
            let d = trashed.remove(rng.below(trashed.len()));
            if rng.next().is_multiple_of(2) {
                admin.restore_content(&d).ok()?;
                format!("restore {d}")
            } else {
                admin.purge_content(&d).ok()?;
                format!("purge {d}")
            }
        }
        8 => {
            let p = rng.pick(&pages)?;
            let target = rng.pick(&pages)?;
            let to = (!rng.next().is_multiple_of(3)).then_some(target.id.as_str());
            admin.move_page(&p.id, to).ok()?;
            format!("move {} under {to:?}", p.id)
        }
        9 => {
            let u = rng.pick(&units)?;
            let user = rng.pick(&users)?;
            if rng.next().is_multiple_of(3) {
                admin.set_read_restriction(&u.id, &[], &[]).ok()?;
                format!("unrestrict {}", u.id)
            } else {
                admin
                    .set_read_restriction(&u.id, &[user.as_str()], &["engineering"])
                    .ok()?;
                format!("restrict {} to {user} and engineering", u.id)
            }
        }
        10 => {
            let s = rng.pick(&spaces)?;
            let user = rng.pick(&users)?;
            // The crawler keeps its access: a space it cannot see is a question for the admin,
            // not a deletion (see the lifecycle tests).
            let config = &sandbox.config;
            let crawler = [
                &config.account_email,
                &config.data_center_username,
                &config.username,
            ]
            .into_iter()
            .find(|u| !u.is_empty())?;
            admin
                .set_space_permission(
                    &s.space_key,
                    &[user.as_str(), crawler.as_str()],
                    &["security-team"],
                    false,
                )
                .ok()?;
            format!("space {} readable by {user} and security-team", s.space_key)
        }
        11 => {
            let user = rng.pick(&users)?;
            if rng.next().is_multiple_of(2) {
                admin.add_group_member("engineering", user).ok()?;
                format!("{user} joins engineering")
            } else {
                admin.remove_group_member("engineering", user).ok()?;
                format!("{user} leaves engineering")
            }
        }
        _ => {
            let c = rng.pick(&comments)?;
            admin
                .update_page(&c.id, None, Some(&format!("<p>comment edited {n}</p>")))
                .ok()?;
            format!("edit comment {}", c.id)
        }
    };
    Some(done)
}

/// The index without what legitimately differs between two targets: nothing.
fn documents(index: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    index
}

async fn incremental_equals_full(flavor: Flavor, seed: u64, rounds: usize) {
    let sandbox = start(flavor, seed).await;
    // The crawler reads CQL dates in a zone far from UTC.
    sandbox
        .sim
        .admin()
        .set_default_time_zone(if flavor == Flavor::Cloud {
            "Asia/Kolkata"
        } else {
            "America/Los_Angeles"
        })
        .unwrap();
    let incremental = Index::new();
    let first = incremental.run(&sandbox, JobType::Incremental).await;
    assert_eq!(
        first.job_type,
        JobType::Full,
        "the first incremental is a full sync"
    );
    assert!(
        first.notes.iter().any(|n| n.contains("ran as a full sync")),
        "{:?}",
        first.notes
    );
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);

    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut trashed = Vec::new();
    for round in 0..rounds {
        let mut log = Vec::new();
        while log.len() < 5 {
            if let Some(change) = mutate(&sandbox, &mut rng, &mut trashed) {
                log.push(change);
            }
        }
        let job = incremental.run(&sandbox, JobType::Incremental).await;
        assert_eq!(
            job.job_type,
            JobType::Incremental,
            "round {round}: {:?}",
            job.notes
        );
        assert_eq!(
            job.status,
            JobStatus::Completed,
            "{flavor:?} round {round} after {log:?}: {:?}",
            job.errors
        );
        let delta = job
            .delta
            .as_ref()
            .expect("an incremental records its cursor");
        assert!(delta.reconciled);

        let fresh = Index::new();
        let full = fresh.run(&sandbox, JobType::Full).await;
        assert_eq!(full.status, JobStatus::Completed, "{:?}", full.errors);
        let got = documents(indexed(&*incremental.sink).await);
        let want = documents(indexed(&*fresh.sink).await);
        let got_ids: BTreeSet<&String> = got.keys().collect();
        let want_ids: BTreeSet<&String> = want.keys().collect();
        assert_eq!(
            got_ids, want_ids,
            "{flavor:?} round {round} after {log:?}: the same documents"
        );
        for (id, doc) in &want {
            assert_eq!(
                &got[id], doc,
                "{flavor:?} round {round} after {log:?}: document {id}"
            );
        }
        let truth: BTreeSet<String> = sandbox.sim.truth().into_iter().map(|t| t.id).collect();
        let ids: BTreeSet<String> = got.keys().cloned().collect();
        assert_eq!(
            ids, truth,
            "{flavor:?} round {round}: the simulator's truth"
        );
    }
    // Nothing changed: nothing is written, nothing downloaded.
    let quiet = incremental.run(&sandbox, JobType::Incremental).await;
    assert_eq!(quiet.status, JobStatus::Completed, "{:?}", quiet.errors);
    assert_eq!(
        quiet.counters.created + quiet.counters.updated,
        0,
        "{:?}",
        quiet.counters
    );
    assert_eq!(
        quiet.counters.permissions_updated, 0,
        "{:?}",
        quiet.counters
    );
    assert_eq!(quiet.counters.deleted_document_count, 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn incremental_syncs_equal_full_syncs_on_cloud() {
    for seed in [1, 2, 7] {
        incremental_equals_full(Flavor::Cloud, seed, 5).await;
    }
}

#[tokio::test]
async fn incremental_syncs_equal_full_syncs_on_data_center() {
    for seed in [3, 4, 8] {
        incremental_equals_full(Flavor::DataCenter, seed, 5).await;
    }
}

#[tokio::test]
async fn incremental_syncs_equal_full_syncs_on_server() {
    for seed in [5, 6, 10] {
        incremental_equals_full(Flavor::Server, seed, 5).await;
    }
}

#[tokio::test]
async fn a_page_with_many_children_keeps_its_tree_through_moves() {
    // More child pages than a listing's `children.page` expansion holds (25): the rest of the
    // tree comes from the page's own child listing.
    let sandbox = start(Flavor::DataCenter, 13).await;
    let admin = sandbox.sim.admin();
    let truth = sandbox.sim.truth();
    let parent = truth.iter().find(|d| d.r#type == "page").unwrap().clone();
    let mut children = Vec::new();
    for i in 0..32 {
        let id = admin
            .add_page(
                &parent.space_key,
                Some(&parent.id),
                &format!("Child {i}"),
                "<p>c</p>",
            )
            .unwrap();
        children.push(id);
    }
    let grandchild = admin
        .add_page(
            &parent.space_key,
            Some(&children[30]),
            "Grandchild",
            "<p>g</p>",
        )
        .unwrap();
    let target = Index::synced(&sandbox).await;

    // The 31st child (past the first 25) moves under the 2nd, with its own child; the 2nd is
    // renamed.
    admin.move_page(&children[30], Some(&children[1])).unwrap();
    admin
        .update_page(&children[1], Some("Second child, renamed"), None)
        .unwrap();
    let job = target.run(&sandbox, JobType::Incremental).await;
    assert_eq!(job.job_type, JobType::Incremental);
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    // Exactly the moved page, its child and the renamed page changed place: the children past
    // the first 25 were placed right, not fetched again.
    assert_eq!(job.counters.moved, 3, "{:?}", job.counters);
    let fresh = Index::new();
    fresh.run(&sandbox, JobType::Full).await;
    let got = indexed(&*target.sink).await;
    let want = indexed(&*fresh.sink).await;
    assert_eq!(got.len(), want.len());
    for (id, doc) in &want {
        assert_eq!(&got[id], doc, "document {id}");
    }
    assert_eq!(
        got[&grandchild]["ancestor_ids"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .take(2)
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>(),
        vec![children[30].as_str(), children[1].as_str()]
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_edited_page_keeps_its_comments_and_a_renamed_one_rewrites_them() {
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let sandbox = Sandbox::start(SimOptions {
            flavor,
            size: SiteSize::Small,
            seed: 5,
            data_center_auth: DcAuth::Basic,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let truth = sandbox.sim.truth();
        let parents: BTreeSet<&str> = truth
            .iter()
            .filter(|d| d.r#type == "page")
            .filter_map(|d| d.parent_id.as_deref())
            .collect();
        // Pages with comments (written long before the cursor) and no child pages (a rename
        // changes their children's place).
        let mut commented: Vec<String> = truth
            .iter()
            .filter(|d| d.r#type == "comment")
            .filter_map(|d| d.parent_id.clone())
            .filter(|id| !parents.contains(id.as_str()))
            .filter(|id| truth.iter().any(|d| &d.id == id && d.r#type == "page"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert!(commented.len() >= 4, "{flavor:?}: pages with comments");
        let (edited, renamed, discussed, attached) = (
            commented.remove(0),
            commented.remove(0),
            commented.remove(0),
            commented.remove(0),
        );
        let admin = sandbox.sim.admin();
        let file = admin
            .add_attachment(&attached, "minutes.txt", Some(3_000))
            .unwrap();
        let target = Index::synced(&sandbox).await;

        admin
            .update_page(&edited, None, Some("<p>edited, comments untouched</p>"))
            .unwrap();
        admin
            .update_page(&renamed, Some("Renamed, comments follow"), None)
            .unwrap();
        admin
            .update_page(&discussed, None, Some("<p>edited and discussed</p>"))
            .unwrap();
        let comment = admin
            .add_comment(&discussed, "<p>a new comment</p>", false)
            .unwrap();
        // A new version of a file: its page is fetched again, its comments are not listed.
        admin.update_attachment(&file, None).unwrap();

        admin.reset_request_counts();
        let job = target.run(&sandbox, JobType::Incremental).await;
        assert_eq!(job.job_type, JobType::Incremental);
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
        // Only the renamed page and the one with a new comment listed their comments.
        let comment_listings = requests_to(&sandbox, |e| e.contains("child/comment"));
        assert_eq!(
            comment_listings,
            2,
            "{flavor:?}: {:?}",
            admin.request_counts()
        );
        // The renamed page's comments carry its new title, and the new comment is there: the
        // index equals a fresh full sync.
        let fresh = Index::new();
        fresh.run(&sandbox, JobType::Full).await;
        let got = indexed(&*target.sink).await;
        let want = indexed(&*fresh.sink).await;
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (id, doc) in &want {
            assert_eq!(&got[id], doc, "{flavor:?}: document {id}");
        }
        assert!(got.contains_key(&comment));
        sandbox.shutdown().await;
    }
}

/// A site with restricted content after a full sync with document-level security: the
/// connection's scope and the cursor it left, which names the groups whose members it listed.
/// A group member listing: by id on Cloud, by name on Server/DC.
fn is_member_listing(endpoint: &str) -> bool {
    endpoint.contains("/group/")
        && (endpoint.ends_with("/member") || endpoint.ends_with("/membersByGroupId"))
}

async fn synced_with_groups(flavor: Flavor) -> (Sandbox, Index, String, connector::SyncCursor) {
    let sandbox = start(flavor, 3).await;
    let target = Index::synced(&sandbox).await;
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    config.target = Target::Local {
        index_name: "content".into(),
    };
    let scope = connector::sync::scope_key(Some("c"), &config);
    let cursor = target.store.lock().unwrap().sync_cursor(&scope).unwrap();
    let cursor = cursor.expect("a cursor");
    assert!(
        cursor.groups.len() >= 2,
        "{flavor:?}: restricted content needs groups"
    );
    (sandbox, target, scope, cursor)
}

#[tokio::test]
async fn the_groups_the_last_sync_needed_are_listed_once_at_the_start() {
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let (sandbox, target, scope, cursor) = synced_with_groups(flavor).await;
        let groups = cursor.groups.clone();
        let admin = sandbox.sim.admin();
        let member_listings = || requests_to(&sandbox, is_member_listing);

        // Listed at the start and used by the access computation: once each.
        admin.reset_request_counts();
        let job = target.run(&sandbox, JobType::Incremental).await;
        assert_eq!(job.job_type, JobType::Incremental);
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
        assert_eq!(job.counters.permissions_updated, 0, "{:?}", job.counters);
        assert_eq!(
            member_listings(),
            groups.len() as u64,
            "{flavor:?}: {groups:?}"
        );

        // Groups renamed since, each old name now another group's: on Server/DC what was
        // listed by the old names is not used, every group is listed again by its name; Cloud
        // lists members by group id, which a rename leaves alone. Access is unchanged.
        let before = indexed(&*target.sink).await;
        let mut renamed = cursor.clone();
        let names: Vec<String> = groups.iter().map(|(_, name)| name.clone()).collect();
        for (i, (_, name)) in renamed.groups.iter_mut().enumerate() {
            *name = names[(i + 1) % names.len()].clone();
        }
        let latest = target.store.lock().unwrap().sync_cursor(&scope).unwrap();
        renamed.since = latest.unwrap().since;
        target
            .store
            .lock()
            .unwrap()
            .set_sync_cursor(&scope, &renamed)
            .unwrap();
        admin.reset_request_counts();
        let job = target.run(&sandbox, JobType::Incremental).await;
        assert_eq!(job.job_type, JobType::Incremental);
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
        assert_eq!(indexed(&*target.sink).await, before);
        assert_eq!(job.counters.permissions_updated, 0, "{:?}", job.counters);
        let listings = match flavor {
            Flavor::Cloud => groups.len(),
            _ => 2 * groups.len(),
        };
        assert_eq!(member_listings(), listings as u64, "{flavor:?}");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_full_sync_lists_the_groups_the_last_one_needed_before_its_first_body() {
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let (sandbox, target, _, cursor) = synced_with_groups(flavor).await;
        let groups = cursor.groups;
        // The member listings made when the first page body is asked for (Cloud's v2 body
        // listing, the v1 content listing elsewhere).
        let at_first_body: Arc<Mutex<Option<u64>>> = Arc::default();
        let admin = sandbox.sim.admin();
        for marker in ["body-format=storage", "body.storage"] {
            let seen = at_first_body.clone();
            admin.on_request_matching(marker, false, move |admin| {
                let mut seen = seen.lock().unwrap();
                if seen.is_none() {
                    let counts = admin.request_counts();
                    let members = counts.iter().filter(|(e, _)| is_member_listing(e));
                    *seen = Some(members.map(|(_, c)| c.requests).sum());
                }
            });
        }
        admin.reset_request_counts();
        let before = indexed(&*target.sink).await;
        let job = target.run(&sandbox, JobType::Full).await;
        admin.clear_request_hooks();
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
        assert_eq!(indexed(&*target.sink).await, before, "{flavor:?}");
        // Each listed once, all of them before any body was asked for.
        assert_eq!(
            requests_to(&sandbox, is_member_listing),
            groups.len() as u64,
            "{flavor:?}: {groups:?}"
        );
        assert_eq!(
            *at_first_body.lock().unwrap(),
            Some(groups.len() as u64),
            "{flavor:?}: the member listings should start with the sync"
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn listings_started_with_the_sign_in_are_kept_only_for_unchanged_spaces() {
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let sandbox = start(flavor, 4).await;
        let target = Index::synced(&sandbox).await;
        let admin = sandbox.sim.admin();
        // The first incremental lists every space itself and records its listings.
        admin.reset_request_counts();
        let second = target.run(&sandbox, JobType::Incremental).await;
        assert_eq!(second.status, JobStatus::Completed, "{:?}", second.errors);
        // Group members are listed early too, and one the last sync needed but this one does
        // not may or may not be asked before the run ends: they are left out here.
        let listings = || {
            let mut counts = admin.request_counts();
            counts.retain(|endpoint, _| !is_member_listing(endpoint));
            counts
        };
        let listed = listings();
        // The next one starts them with the sign-in and uses them: the same requests.
        admin.reset_request_counts();
        let third = target.run(&sandbox, JobType::Incremental).await;
        assert_eq!(third.status, JobStatus::Completed, "{:?}", third.errors);
        assert_eq!(listings(), listed, "{flavor:?}");

        // A renamed space: what was listed early carries the old name and is not used; the
        // space's documents get the new name, as a fresh full sync gives it.
        let truth = sandbox.sim.truth();
        let space = truth
            .iter()
            .filter(|d| d.r#type == "page")
            .map(|d| d.space_key.clone())
            .next()
            .unwrap();
        admin.rename_space(&space, "Renamed space").unwrap();
        let job = target.run(&sandbox, JobType::Incremental).await;
        assert_eq!(job.job_type, JobType::Incremental);
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
        let fresh = Index::new();
        fresh.run(&sandbox, JobType::Full).await;
        let got = indexed(&*target.sink).await;
        let want = indexed(&*fresh.sink).await;
        assert!(
            want.values()
                .any(|d| d["space"] == "Renamed space" && d["type"] == "page"),
            "{flavor:?}"
        );
        assert_eq!(got, want, "{flavor:?}");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn without_reconciliation_only_the_delta_is_fetched_and_nothing_is_deleted() {
    let sandbox = start(Flavor::DataCenter, 12).await;
    let target = Index::synced(&sandbox).await;
    let truth = sandbox.sim.truth();
    let mut pages = truth.iter().filter(|d| d.r#type == "page");
    let (edited, trashed) = (pages.next().unwrap(), pages.next().unwrap());
    let admin = sandbox.sim.admin();
    admin
        .update_page(&edited.id, None, Some("<p>delta only</p>"))
        .unwrap();
    admin.delete_content(&trashed.id).unwrap();

    let delta = target.run_with(&sandbox, JobType::Incremental, false).await;
    assert_eq!(delta.status, JobStatus::Completed, "{:?}", delta.errors);
    assert!(!delta.delta.as_ref().unwrap().reconciled);
    assert_eq!(delta.counters.deleted_document_count, 0);
    let docs = indexed(&*target.sink).await;
    assert!(
        docs[&edited.id]["body"]
            .as_str()
            .unwrap()
            .contains("delta only")
    );
    assert!(
        docs.contains_key(&trashed.id),
        "nothing is deleted without reconciliation"
    );

    let reconciled = target.run(&sandbox, JobType::Incremental).await;
    assert_eq!(
        reconciled.status,
        JobStatus::Completed,
        "{:?}",
        reconciled.errors
    );
    assert!(reconciled.counters.deleted_document_count >= 1);
    assert!(!indexed(&*target.sink).await.contains_key(&trashed.id));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_overlap_window_covers_cloud_search_lag() {
    let sandbox = start(Flavor::Cloud, 11).await;
    let target = Index::synced(&sandbox).await;
    // Search results lag edits by 1.5 s (CONFCLOUD-73997): the incremental right after the
    // edits cannot see them, and must neither delete nor lose them.
    sandbox.sim.admin().set_search_lag_ms(1_500);
    let truth = sandbox.sim.truth();
    let page = truth.iter().find(|d| d.r#type == "page").unwrap();
    sandbox
        .sim
        .admin()
        .update_page(&page.id, None, Some("<p>edited under lag</p>"))
        .unwrap();
    let blind = target.run(&sandbox, JobType::Incremental).await;
    assert_eq!(
        blind.counters.deleted_document_count, 0,
        "{:?}",
        blind.counters
    );
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let next = target.run(&sandbox, JobType::Incremental).await;
    assert_eq!(next.status, JobStatus::Completed, "{:?}", next.errors);
    let delta = next.delta.as_ref().unwrap();
    assert!(
        delta.overlap_s >= 2,
        "the overlap covers the lag: {delta:?}"
    );
    let docs = indexed(&*target.sink).await;
    assert!(
        docs[&page.id]["body"]
            .as_str()
            .is_some_and(|b| b.contains("edited under lag")),
        "the edit arrives once search sees it"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_second_full_sync_of_an_unchanged_site_writes_and_downloads_nothing() {
    let sandbox = start(Flavor::Cloud, 9).await;
    let target = Index::new();
    let first = target.run(&sandbox, JobType::Full).await;
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    assert!(first.counters.downloaded_bytes > 0);
    let second = target.run(&sandbox, JobType::Full).await;
    assert_eq!(second.status, JobStatus::Completed, "{:?}", second.errors);
    assert_eq!(
        second.counters.created + second.counters.updated,
        0,
        "{:?}",
        second.counters
    );
    assert_eq!(second.counters.downloaded_bytes, 0, "{:?}", second.counters);
    assert_eq!(
        second.counters.unchanged, first.counters.indexed_document_count,
        "{:?}",
        second.counters
    );
    sandbox.shutdown().await;
}

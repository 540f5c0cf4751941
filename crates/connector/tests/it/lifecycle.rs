//! The second and later syncs: a cancelled run resumed from its checkpoint, a deliberate scope
//! change previewed and confirmed once, failed documents remembered and retried, one sync per
//! connection at a time.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confluence_sim::{Flavor, SimOptions, SiteSize};
use connector::events::{EventHandler, SyncEvent};
use connector::rules::{AdvancedRule, RuleSet};
use connector::sink::LocalIndex;
use connector::sync::{
    CancellationToken, DeletionPreview, Job, SyncOptions, deletion_preview, scope_key,
};
use connector::{JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;

use crate::support::indexed;

async fn sandbox(flavor: Flavor, size: SiteSize, seed: u64) -> Sandbox {
    Sandbox::start(SimOptions {
        flavor,
        size,
        seed,
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

struct Setup {
    store: Arc<Mutex<Store>>,
    sink: Arc<LocalIndex>,
    work: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let work = tempfile::tempdir().unwrap();
        let store = Store::open(&work.path().join("state.sqlite")).unwrap();
        store
            .add_connection("conn-1", "Test", "confluence_cloud")
            .unwrap();
        Setup {
            store: Arc::new(Mutex::new(store)),
            sink: Arc::new(LocalIndex::open(work.path().join("index.sqlite")).unwrap()),
            work,
        }
    }

    fn options(&self, rules: Option<RuleSet>) -> SyncOptions {
        SyncOptions {
            connection_id: Some("conn-1".into()),
            work_dir: self.work.path().join("work"),
            trigger: "test".into(),
            progress_every: Duration::from_millis(10),
            rules,
            ..SyncOptions::default()
        }
    }

    async fn run(
        &self,
        sandbox: &Sandbox,
        options: SyncOptions,
        events: Option<EventHandler>,
        cancel: CancellationToken,
    ) -> JobRecord {
        let mut job = Job::new(
            JobType::Full,
            sandbox.config.clone(),
            sandbox.secrets.clone(),
            self.sink.clone(),
            self.store.clone(),
        )
        .with_options(options)
        .with_cancel(cancel);
        if let Some(events) = events {
            job = job.with_events(events);
        }
        job.run().await.unwrap()
    }

    /// What the next full sync of the test connection would remove on purpose.
    async fn preview(&self, sandbox: &Sandbox, rules: Option<&RuleSet>) -> DeletionPreview {
        let key = scope_key(Some("conn-1"), &sandbox.config);
        deletion_preview(
            &self.store,
            &key,
            &sandbox.config,
            &sandbox.secrets,
            rules,
            &*self.sink,
        )
        .await
        .unwrap()
    }

    fn work_files(&self) -> Vec<String> {
        match std::fs::read_dir(self.work.path().join("work")) {
            Ok(dir) => dir
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => vec![],
        }
    }
}

fn truth_ids(sandbox: &Sandbox) -> BTreeSet<String> {
    sandbox.sim.truth().into_iter().map(|t| t.id).collect()
}

async fn index_ids(sink: &LocalIndex) -> BTreeSet<String> {
    indexed(sink).await.into_keys().collect()
}

#[tokio::test]
async fn a_cancelled_sync_is_resumed_without_fetching_again_what_was_written() {
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Small, 5).await;
    let truth = truth_ids(&sandbox);

    // A fresh full sync, for the request count of a run that starts from zero.
    let fresh = Setup::new();
    let baseline = fresh
        .run(
            &sandbox,
            fresh.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(
        baseline.status,
        JobStatus::Completed,
        "{:?}",
        baseline.errors
    );
    assert_eq!(index_ids(&fresh.sink).await, truth);

    // The same sync, cancelled once 60% of the site was produced.
    let setup = Setup::new();
    let cancel = CancellationToken::new();
    let fired = Arc::new(AtomicBool::new(false));
    let events: EventHandler = {
        let (cancel, fired) = (cancel.clone(), fired.clone());
        let threshold = truth.len() as u64 * 6 / 10;
        Arc::new(move |event: &SyncEvent| {
            if let SyncEvent::Progress(p) = event
                && p.docs_seen >= threshold
                && !fired.swap(true, Ordering::SeqCst)
            {
                cancel.cancel();
            }
        })
    };
    let cancelled = setup
        .run(&sandbox, setup.options(None), Some(events), cancel)
        .await;
    assert_eq!(cancelled.status, JobStatus::Canceled);
    assert_eq!(cancelled.counters.deleted_document_count, 0);
    assert!(
        setup
            .work_files()
            .iter()
            .any(|f| f.starts_with("checkpoint-")),
        "the checkpoint stays for the next run: {:?}",
        setup.work_files()
    );

    let resumed = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    println!(
        "requests: fresh full sync {}, cancelled run {}, resumed run {}; resumed documents {}",
        baseline.requests, cancelled.requests, resumed.requests, resumed.counters.resumed
    );
    assert_eq!(resumed.status, JobStatus::Completed, "{:?}", resumed.errors);
    assert_eq!(
        index_ids(&setup.sink).await,
        truth,
        "the index equals the site"
    );
    assert!(resumed.counters.resumed > 0);
    assert!(
        resumed.requests * 10 < baseline.requests * 8,
        "a resumed run makes fewer requests than a fresh one: {} vs {}",
        resumed.requests,
        baseline.requests
    );
    assert_eq!(
        setup.work_files(),
        Vec::<String>::new(),
        "no file left behind"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_second_sync_of_the_same_connection_is_refused_while_one_runs() {
    let sandbox = sandbox(Flavor::DataCenter, SiteSize::Tiny, 3).await;
    sandbox
        .sim
        .admin()
        .set_latency(Some(confluence_sim::Latency::Fixed(Duration::from_millis(
            30,
        ))));
    let setup = Setup::new();
    let first = {
        let job = Job::new(
            JobType::Full,
            sandbox.config.clone(),
            sandbox.secrets.clone(),
            setup.sink.clone(),
            setup.store.clone(),
        )
        .with_options(setup.options(None));
        tokio::spawn(job.run())
    };
    let key = scope_key(Some("conn-1"), &sandbox.config);
    for _ in 0..100 {
        if setup.store.lock().unwrap().lease(&key).unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = Job::new(
        JobType::AccessControl,
        sandbox.config.clone(),
        sandbox.secrets.clone(),
        setup.sink.clone(),
        setup.store.clone(),
    )
    .with_options(setup.options(None))
    .run()
    .await;
    let err = second.expect_err("a second sync of the connection must be refused");
    let message = err.to_string();
    assert!(message.contains("already running since"), "{message}");
    assert!(
        message.contains(&format!("process {}", std::process::id())),
        "{message}"
    );
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    // Once it ended, the next one runs.
    sandbox.sim.admin().set_latency(None);
    let again = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(again.status, JobStatus::Completed);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_narrowed_scope_is_previewed_and_removed_once_confirmed() {
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Small, 9).await;
    let setup = Setup::new();
    let first = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    let indexed_before = index_ids(&setup.sink).await;

    // One rule: the pages of one space.
    let truth = sandbox.sim.truth();
    let space = truth
        .iter()
        .find(|t| t.r#type == "page")
        .map(|t| t.space_key.clone())
        .unwrap();
    let want: BTreeSet<String> = truth
        .iter()
        .filter(|t| t.r#type == "page" && t.space_key == space)
        .map(|t| t.id.clone())
        .collect();
    let rules = RuleSet {
        advanced: vec![AdvancedRule {
            query: format!("space = \"{space}\" and type = page"),
        }],
        ..RuleSet::default()
    };

    let preview = setup.preview(&sandbox, Some(&rules)).await;
    assert!(preview.scope_changed, "{preview:?}");
    assert_eq!(
        preview.removed,
        (indexed_before.len() - want.len()) as u64,
        "{preview:?}"
    );
    assert!(preview.needs_confirmation);
    let message = preview.message().unwrap();
    assert!(
        message.contains(&format!("this will remove {} ", preview.removed)),
        "{message}"
    );

    // Without the confirmation the threshold refuses, and says why and what to do.
    let refused = setup
        .run(
            &sandbox,
            setup.options(Some(rules.clone())),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(refused.status, JobStatus::Failed);
    let said = refused
        .errors
        .iter()
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(said.contains("scope changed"), "{said}");
    assert!(said.contains("--allow-deletions"), "{said}");
    assert_eq!(
        index_ids(&setup.sink).await,
        indexed_before,
        "nothing deleted"
    );

    // Confirmed once: the index holds exactly the rule's documents.
    let confirmed = setup
        .run(
            &sandbox,
            SyncOptions {
                allow_deletions: true,
                ..setup.options(Some(rules.clone()))
            },
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(
        confirmed.status,
        JobStatus::Completed,
        "{:?}",
        confirmed.errors
    );
    assert_eq!(index_ids(&setup.sink).await, want);
    assert_eq!(
        confirmed.counters.deleted_document_count, preview.removed,
        "the preview said how many would go"
    );

    // The new scope is the reference now: no change, nothing to confirm.
    let after = setup.preview(&sandbox, Some(&rules)).await;
    assert!(!after.scope_changed && after.removed == 0, "{after:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn failed_downloads_are_remembered_and_retried_by_the_next_run() {
    let sandbox = sandbox(Flavor::Server, SiteSize::Tiny, 4).await;
    let setup = Setup::new();
    // Every attachment download fails (after the client's retries).
    sandbox
        .sim
        .admin()
        .fail_requests_matching("/download/attachments/", 500, 0);
    let first = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    let key = scope_key(Some("conn-1"), &sandbox.config);
    let failed = setup
        .store
        .lock()
        .unwrap()
        .failed_documents(&key, 1000)
        .unwrap();
    let attachments: BTreeSet<String> = sandbox
        .sim
        .truth()
        .into_iter()
        .filter(|t| t.r#type == "attachment")
        .map(|t| t.id)
        .collect();
    assert!(
        first
            .errors
            .iter()
            .any(|e| e.message.starts_with("download failed")),
        "{:?}",
        first.errors
    );
    assert_eq!(first.status, JobStatus::Partial);
    assert_eq!(
        failed.len() as u64,
        first.counters.failed,
        "{:?}",
        first.errors
    );
    assert!(failed.iter().all(|f| attachments.contains(&f.doc_id)));
    assert!(failed.iter().all(|f| f.reason.contains("download failed")));
    assert!(failed.iter().all(|f| f.job_id == first.id));

    sandbox.sim.admin().clear_faults();
    let second = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(second.status, JobStatus::Completed, "{:?}", second.errors);
    assert!(
        setup
            .store
            .lock()
            .unwrap()
            .failed_documents(&key, 1000)
            .unwrap()
            .is_empty(),
        "retried and succeeded: nothing failed any more"
    );
    let docs = indexed(&*setup.sink).await;
    let with_text = docs
        .values()
        .filter(|d| d["type"] == "attachment" && d["body"].as_str().is_some_and(|b| !b.is_empty()))
        .count();
    assert!(with_text > 0, "attachment text indexed on the retry");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_failed_download_keeps_the_text_an_earlier_sync_indexed() {
    let sandbox = sandbox(Flavor::DataCenter, SiteSize::Tiny, 6).await;
    let setup = Setup::new();
    let first = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    let before = indexed(&*setup.sink).await;
    let with_text: Vec<String> = before
        .iter()
        .filter(|(_, d)| {
            d["type"] == "attachment" && d["body"].as_str().is_some_and(|b| !b.is_empty())
        })
        .map(|(id, _)| id.clone())
        .collect();
    assert!(!with_text.is_empty());

    // New versions of the files are uploaded (unchanged ones are not downloaded again), and
    // every download fails now (after the client's retries).
    for id in &with_text {
        sandbox.sim.admin().update_attachment(id, None).unwrap();
    }
    sandbox
        .sim
        .admin()
        .fail_requests_matching("/download/attachments/", 500, 0);
    let second = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(
        second.status,
        JobStatus::Partial,
        "a failed download is not a success"
    );
    assert!(
        second.counters.failed >= with_text.len() as u64,
        "{:?}",
        second.counters
    );
    let after = indexed(&*setup.sink).await;
    for id in &with_text {
        assert_eq!(
            after[id]["body"], before[id]["body"],
            "the text of {id} survived the failed download"
        );
    }
    assert_eq!(after.len(), before.len(), "nothing deleted");
    sandbox.shutdown().await;
}

/// The space keys of the site and how many documents each has in the truth.
fn spaces_of(sandbox: &Sandbox) -> std::collections::BTreeMap<String, usize> {
    let mut spaces = std::collections::BTreeMap::new();
    for doc in sandbox.sim.truth() {
        *spaces.entry(doc.space_key).or_insert(0) += 1;
    }
    spaces
}

#[tokio::test]
async fn a_configured_space_that_disappears_is_kept_and_named() {
    let sandbox = sandbox(Flavor::Server, SiteSize::Tiny, 8).await;
    let spaces = spaces_of(&sandbox);
    let mut keys = spaces.keys().filter(|k| !k.starts_with('~'));
    let (a, b) = (keys.next().unwrap().clone(), keys.next().unwrap().clone());
    let setup = Setup::new();
    let mut config = sandbox.config.clone();
    config.spaces = vec![a.clone(), b.clone()];
    let run = |config: connector::config::ConnectorConfig| {
        Job::new(
            JobType::Full,
            config,
            sandbox.secrets.clone(),
            setup.sink.clone(),
            setup.store.clone(),
        )
        .with_options(setup.options(None))
        .run()
    };
    let first = run(config.clone()).await.unwrap();
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    let before = index_ids(&setup.sink).await;

    // The crawler loses its permission on `b` (or the key was mistyped).
    sandbox
        .sim
        .admin()
        .set_space_permission(&b, &[], &[], false)
        .unwrap();
    let second = run(config).await.unwrap();
    assert_eq!(second.status, JobStatus::Partial, "{:?}", second.errors);
    assert_eq!(second.counters.deleted_document_count, 0);
    assert_eq!(
        index_ids(&setup.sink).await,
        before,
        "its documents are kept"
    );
    assert!(
        second
            .errors
            .iter()
            .any(|e| e.context == format!("space {b}") && e.message.contains("not available")),
        "{:?}",
        second.errors
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_space_gone_from_every_space_is_a_question_until_confirmed() {
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Tiny, 8).await;
    let spaces = spaces_of(&sandbox);
    let gone = spaces.keys().find(|k| !k.starts_with('~')).unwrap().clone();
    let setup = Setup::new();
    let first = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);
    let before = indexed(&*setup.sink).await;
    let of_gone: BTreeSet<String> = before
        .iter()
        .filter(|(_, d)| d["space_key"] == gone.as_str())
        .map(|(id, _)| id.clone())
        .collect();
    assert!(!of_gone.is_empty());

    sandbox
        .sim
        .admin()
        .set_space_permission(&gone, &[], &[], false)
        .unwrap();
    let preview = setup.preview(&sandbox, None).await;
    assert!(preview.needs_confirmation, "{preview:?}");
    assert!(
        preview.changes.iter().any(|c| c.contains(&gone)),
        "{preview:?}"
    );
    assert!(preview.removed >= of_gone.len() as u64, "{preview:?}");

    let second = setup
        .run(
            &sandbox,
            setup.options(None),
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(second.status, JobStatus::Partial, "{:?}", second.errors);
    let now = index_ids(&setup.sink).await;
    assert!(of_gone.is_subset(&now), "kept until the user confirms");
    assert!(
        second
            .errors
            .iter()
            .any(|e| e.context == format!("space {gone}")
                && e.message
                    .contains(&format!("its {} documents were kept", of_gone.len()))),
        "{:?}",
        second.errors
    );

    let confirmed = setup
        .run(
            &sandbox,
            SyncOptions {
                allow_deletions: true,
                ..setup.options(None)
            },
            None,
            CancellationToken::new(),
        )
        .await;
    assert_eq!(
        confirmed.status,
        JobStatus::Completed,
        "{:?}",
        confirmed.errors
    );
    let after = index_ids(&setup.sink).await;
    assert!(after.is_disjoint(&of_gone), "removed once confirmed");
    sandbox.shutdown().await;
}

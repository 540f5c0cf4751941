//! What a running sync tells its caller, against a slow simulated site: phases through the
//! steps, document counts and bytes that rise as documents are written, a total and an ETA from
//! the documents in scope (not from spaces), a rate-limit wait, and the counts the connection
//! list and the rules preview show.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confluence_sim::{DcAuth, FaultPlan, Flavor, Latency, SimOptions, SiteSize};
use connector::confluence::ConfluenceClient;
use connector::events::{EventHandler, Progress, SyncEvent, SyncPhase};
use connector::rules::{self, AdvancedRule, PreviewOptions, RuleSet};
use connector::sink::{BulkOptions, LocalIndex};
use connector::sync::{Job, SyncOptions};
use connector::{JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;

async fn sandbox(flavor: Flavor, size: SiteSize, latency_ms: u64) -> Sandbox {
    Sandbox::start(SimOptions {
        flavor,
        size,
        seed: 5,
        data_center_auth: DcAuth::Basic,
        latency: (latency_ms > 0).then(|| Latency::Fixed(Duration::from_millis(latency_ms))),
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

/// A store, a local index and a work directory for one test.
struct Place {
    _dir: tempfile::TempDir,
    work: std::path::PathBuf,
    store: Arc<Mutex<Store>>,
    sink: Arc<LocalIndex>,
}

fn place() -> Place {
    let dir = tempfile::tempdir().unwrap();
    Place {
        work: dir.path().join("work"),
        store: Arc::new(Mutex::new(
            Store::open(&dir.path().join("state.sqlite")).unwrap(),
        )),
        sink: Arc::new(LocalIndex::open(dir.path().join("local.sqlite")).unwrap()),
        _dir: dir,
    }
}

/// Runs one job of `kind`, collecting every event it sends.
async fn run(
    sandbox: &Sandbox,
    place: &Place,
    kind: JobType,
    config: Option<connector::config::ConnectorConfig>,
) -> (JobRecord, Vec<SyncEvent>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let handler: EventHandler = Arc::new(move |e: &SyncEvent| sink.lock().unwrap().push(e.clone()));
    let job = Job::new(
        kind,
        config.unwrap_or_else(|| sandbox.config.clone()),
        sandbox.secrets.clone(),
        place.sink.clone(),
        place.store.clone(),
    )
    .with_options(SyncOptions {
        connection_id: None,
        work_dir: place.work.clone(),
        trigger: "test".into(),
        progress_every: Duration::from_millis(10),
        // Batches of 50: on a small site the counts then move many times before the end.
        bulk: BulkOptions {
            max_docs: 50,
            ..BulkOptions::default()
        },
        ..SyncOptions::default()
    })
    .with_events(handler)
    .run()
    .await
    .unwrap();
    let events = std::mem::take(&mut *events.lock().unwrap());
    (job, events)
}

fn phases(events: &[SyncEvent]) -> Vec<SyncPhase> {
    let mut phases: Vec<SyncPhase> = Vec::new();
    for e in events {
        if let SyncEvent::Phase { phase } = e
            && phases.last() != Some(phase)
        {
            phases.push(*phase);
        }
    }
    phases
}

fn snapshots(events: &[SyncEvent]) -> Vec<&Progress> {
    events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Progress(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Whether `want` appears in `got` in this order (other phases may come between).
fn in_order(got: &[SyncPhase], want: &[SyncPhase]) -> bool {
    let mut rest = got.iter();
    want.iter().all(|w| rest.any(|g| g == w))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_sync_of_a_slow_site_counts_documents_as_they_are_written() {
    // Slow enough that the sync takes a few seconds (an ETA shows after the first second).
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Small, 60).await;
    let truth = sandbox.sim.truth().len() as u64;
    let place = place();
    let (job, events) = run(&sandbox, &place, JobType::Full, None).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    let c = &job.counters;
    assert_eq!(c.created, truth);

    // A phase per step, in order; never "listing spaces" while content is crawled.
    let phases = phases(&events);
    assert!(
        in_order(
            &phases,
            &[
                SyncPhase::Validating,
                SyncPhase::ListingSpaces,
                SyncPhase::Crawling,
                SyncPhase::Writing,
                SyncPhase::Deleting,
                SyncPhase::Finished,
            ]
        ),
        "{phases:?}"
    );

    let snaps = snapshots(&events);
    let last = *snaps.last().unwrap();
    // Counts and bytes rise while the sync runs, not only at its end.
    let midway: Vec<&&Progress> = snaps
        .iter()
        .filter(|p| p.docs_done > 0 && p.docs_done < truth / 2)
        .collect();
    assert!(!midway.is_empty(), "no snapshot in the first half");
    assert!(
        snaps
            .iter()
            .any(|p| p.counters.created > 0 && p.counters.created < truth),
        "created did not move before the end"
    );
    assert!(
        snaps.iter().any(|p| p.counters.indexed_document_volume > 0
            && p.counters.indexed_document_volume < c.indexed_document_volume),
        "indexed bytes did not move before the end"
    );
    assert!(
        snaps
            .windows(2)
            .all(|w| w[1].counters.created >= w[0].counters.created
                && w[1].docs_done >= w[0].docs_done),
        "counts went backwards"
    );

    // The total is the documents in scope, known early (Confluence's count; Cloud's is an
    // estimate within a few rows), not the spaces.
    let early_total = midway
        .iter()
        .find_map(|p| p.docs_total)
        .expect("no total in the first half of the sync");
    assert!(
        (truth..=truth + 3).contains(&early_total),
        "{early_total} vs {truth}"
    );
    assert!(
        snaps
            .iter()
            .any(|p| p.eta_s.is_some() && p.docs_done < truth),
        "no ETA before the end"
    );
    // Every step was seen under way.
    let seen = |f: fn(&Progress) -> u64| snaps.iter().any(|p| f(p) > 0);
    assert!(seen(|p| p.activity.listing), "listing");
    assert!(seen(|p| p.activity.fetching), "fetching");
    assert!(seen(|p| p.activity.downloading), "downloading");
    assert!(seen(|p| p.activity.writing), "writing");
    eprintln!(
        "extracting seen in {} snapshots of {}",
        snaps.iter().filter(|p| p.activity.extracting > 0).count(),
        snaps.len()
    );

    // The last snapshot agrees with the job record.
    assert_eq!(last.docs_done, truth);
    assert_eq!(last.docs_total, Some(truth));
    assert_eq!(last.counters.created, c.created);
    assert_eq!(
        last.counters.indexed_document_volume,
        c.indexed_document_volume
    );
    assert_eq!(last.activity, Default::default());
    // What the index holds at the end, for the connection list.
    assert_eq!(c.total_document_count, Some(truth));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_incremental_sync_reports_its_steps_and_counts_truthfully() {
    let sandbox = sandbox(Flavor::DataCenter, SiteSize::Small, 2).await;
    let place = place();
    let (full, _) = run(&sandbox, &place, JobType::Full, None).await;
    assert_eq!(full.status, JobStatus::Completed, "{:?}", full.errors);
    let truth = sandbox.sim.truth();
    let admin = sandbox.sim.admin();
    let pages: Vec<_> = truth
        .iter()
        .filter(|t| t.r#type == "page")
        .take(5)
        .collect();
    for (n, p) in pages.iter().enumerate() {
        admin
            .update_page(&p.id, None, Some(&format!("<p>edited {n}</p>")))
            .unwrap();
    }
    admin.delete_content(&pages[0].id).unwrap();

    let (job, events) = run(&sandbox, &place, JobType::Incremental, None).await;
    assert_eq!(job.job_type, JobType::Incremental, "{:?}", job.notes);
    assert!(
        matches!(job.status, JobStatus::Completed | JobStatus::Partial),
        "{:?}",
        job.errors
    );
    let phases = phases(&events);
    assert!(
        in_order(
            &phases,
            &[
                SyncPhase::ListingSpaces,
                SyncPhase::Reconciling,
                SyncPhase::Crawling,
                SyncPhase::Writing,
                SyncPhase::Deleting,
                SyncPhase::Finished,
            ]
        ),
        "{phases:?}"
    );
    let snaps = snapshots(&events);
    assert!(
        snaps.iter().any(|p| p.activity.listing > 0),
        "the reconciliation's listings were never under way"
    );
    let last = *snaps.last().unwrap();
    let c = &job.counters;
    assert!(c.updated >= 4, "{c:?}");
    assert!(c.deleted_document_count >= 1, "{c:?}");
    for (name, live, recorded) in [
        ("updated", last.counters.updated, c.updated),
        ("created", last.counters.created, c.created),
        ("unchanged", last.counters.unchanged, c.unchanged),
        (
            "deleted",
            last.counters.deleted_document_count,
            c.deleted_document_count,
        ),
        ("failed", last.counters.failed, c.failed),
    ] {
        assert_eq!(live, recorded, "{name}");
    }
    // Only what changed is the work of an incremental sync, and all of it got done.
    assert_eq!(last.docs_total, Some(last.docs_done));
    assert!(last.docs_done < truth.len() as u64 / 2, "{last:?}");
    assert!(last.docs_done >= 4);
    assert_eq!(
        c.total_document_count,
        Some(truth.len() as u64 - c.deleted_document_count)
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_wait_shows_with_the_seconds_left() {
    let sandbox = Sandbox::start(SimOptions {
        flavor: Flavor::Cloud,
        size: SiteSize::Tiny,
        seed: 5,
        faults: FaultPlan {
            retry_after: Some(2),
            ..FaultPlan::none()
        },
        ..SimOptions::default()
    })
    .await
    .unwrap();
    // One 429 (Retry-After: 2) on the third listing of a space's content (REST v2).
    sandbox
        .sim
        .admin()
        .fail_requests_matching_times("/api/v2/spaces/", 429, 2, Some(1));
    let place = place();
    let (job, events) = run(&sandbox, &place, JobType::Full, None).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    let waits: Vec<f64> = snapshots(&events)
        .iter()
        .map(|p| p.rate_limit_resume_s)
        .filter(|s| *s > 0.0)
        .collect();
    assert!(!waits.is_empty(), "the wait never showed");
    assert!(waits.iter().any(|s| *s > 1.0 && *s <= 2.0), "{waits:?}");
    // It counts down, and ends.
    assert!(waits.first() > waits.last(), "{waits:?}");
    assert_eq!(snapshots(&events).last().unwrap().rate_limit_resume_s, 0.0);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_control_sync_has_its_own_phase_and_counts_identities() {
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Tiny, 0).await;
    let place = place();
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    let (job, events) = run(&sandbox, &place, JobType::AccessControl, Some(config)).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    let phases = phases(&events);
    assert!(
        in_order(
            &phases,
            &[
                SyncPhase::Validating,
                SyncPhase::AccessControl,
                SyncPhase::Finished
            ]
        ),
        "{phases:?}"
    );
    assert!(!phases.contains(&SyncPhase::Crawling), "{phases:?}");
    let snaps = snapshots(&events);
    let first = snaps.first().expect("no progress");
    let last = snaps.last().unwrap();
    assert_eq!(first.docs_done, 0);
    assert_eq!(last.docs_total, Some(job.counters.indexed_document_count));
    assert_eq!(last.docs_done, job.counters.indexed_document_count);
    assert_eq!(last.counters.created, job.counters.created);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_counts_what_a_sync_indexes_and_shows_an_invalid_query_as_an_error() {
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let sandbox = sandbox(flavor, SiteSize::Small, 0).await;
        let truth = sandbox.sim.truth().len() as u64;
        let client = ConfluenceClient::from_config(&sandbox.config, &sandbox.secrets).unwrap();
        // No rules: the standard scope, archived spaces included as the crawl lists them.
        let mut p = rules::preview(
            &client,
            &sandbox.config,
            &RuleSet::default(),
            &PreviewOptions::default(),
        )
        .await;
        assert_eq!(p.error, None);
        assert!(
            p.total.abs_diff(truth) <= 3,
            "{flavor:?}: {} vs {truth}",
            p.total
        );
        if flavor == Flavor::DataCenter {
            assert_eq!(p.total, truth);
            assert!(p.exact);
        }
        assert!(p.counts.contains("archived ones included"), "{}", p.counts);
        p.compare_with_index(truth, &RuleSet::default());
        let difference = p.difference.unwrap();
        assert!(difference.starts_with(&format!("The index holds {truth} documents now")));

        // An invalid query is an error, never "about 0".
        let invalid = RuleSet {
            basic: vec![],
            advanced: vec![AdvancedRule {
                query: "type = ".into(),
            }],
        };
        let mut p = rules::preview(
            &client,
            &sandbox.config,
            &invalid,
            &PreviewOptions::default(),
        )
        .await;
        let error = p.error.clone().expect("no error for an invalid query");
        assert!(error.starts_with("advanced rule 1: "), "{error}");
        assert!(error.contains("(at character"), "{error}");
        p.compare_with_index(truth, &invalid);
        assert_eq!(p.difference, None);
        sandbox.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_list_shows_the_index_count_apart_from_an_access_control_sync() {
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Tiny, 0).await;
    let place = place();
    let id = "c1";
    place
        .store
        .lock()
        .unwrap()
        .add_connection(id, "Wiki", "confluence_cloud")
        .unwrap();
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    let run_for = |kind: JobType| {
        Job::new(
            kind,
            config.clone(),
            sandbox.secrets.clone(),
            place.sink.clone(),
            place.store.clone(),
        )
        .with_options(SyncOptions {
            connection_id: Some(id.to_owned()),
            work_dir: place.work.clone(),
            trigger: "test".into(),
            ..SyncOptions::default()
        })
        .run()
    };
    let full = run_for(JobType::Full).await.unwrap();
    let identities = run_for(JobType::AccessControl).await.unwrap();
    assert_eq!(identities.status, JobStatus::Completed);
    let summary = place.store.lock().unwrap().list_connections().unwrap()[0].clone();
    let truth = sandbox.sim.truth().len() as u64;
    assert_eq!(summary.documents_in_index, Some(truth));
    assert_eq!(
        summary.last_content_sync.as_ref().unwrap().counters.created,
        full.counters.created
    );
    let last = summary.last_sync.unwrap();
    assert_eq!(last.job_type, JobType::AccessControl);
    assert_ne!(last.indexed_document_count, truth);
    sandbox.shutdown().await;
}

/// Records the engine's answers the UI's browser tests replay (`ui/tests/fixtures/`): the events
/// of the sandbox's full sync and access-control sync (`sync_events.json`), and a rules preview
/// compared with the index (`preview_rules.json`). Run with
/// `cargo test -p connector --test it record_ui_fixtures -- --ignored` after changing their shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "writes ui/tests/fixtures"]
async fn record_ui_fixtures() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/tests/fixtures");
    let connections: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("list_connections.json")).unwrap(),
    )
    .unwrap();
    let connection_id = connections[0]["id"].as_str().unwrap().to_owned();
    // The app's sandbox: a small Cloud site, document-level security, labels; a little latency
    // so that the sync lasts long enough to report progress a few times.
    let sandbox = Sandbox::start(SimOptions {
        size: SiteSize::Small,
        latency: Some(Latency::Fixed(Duration::from_millis(3))),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    config.index_labels = true;
    let place = place();
    let mut messages = Vec::new();
    for kind in [JobType::Full, JobType::AccessControl] {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let handler: EventHandler =
            Arc::new(move |e: &SyncEvent| sink.lock().unwrap().push(e.clone()));
        let job = Job::new(
            kind,
            config.clone(),
            sandbox.secrets.clone(),
            place.sink.clone(),
            place.store.clone(),
        )
        .with_options(SyncOptions {
            work_dir: place.work.clone(),
            progress_every: Duration::from_millis(150),
            ..SyncOptions::default()
        })
        .with_events(handler)
        .run()
        .await
        .unwrap();
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
        for event in std::mem::take(&mut *events.lock().unwrap()) {
            messages.push(serde_json::json!({"connection_id": connection_id, "event": event}));
        }
    }
    let write = |name: &str, value: &serde_json::Value| {
        std::fs::write(
            fixtures.join(format!("{name}.json")),
            format!("{}\n", serde_json::to_string_pretty(value).unwrap()),
        )
        .unwrap();
    };
    write("sync_events", &serde_json::Value::Array(messages));

    let client = ConfluenceClient::from_config(&config, &sandbox.secrets).unwrap();
    let rules = RuleSet {
        basic: vec![],
        advanced: vec![AdvancedRule {
            query: "space = ENG and type = page".into(),
        }],
    };
    let mut preview = rules::preview(&client, &config, &rules, &PreviewOptions::default()).await;
    preview.compare_with_index(sandbox.sim.truth().len() as u64, &rules);
    write("preview_rules", &serde_json::to_value(&preview).unwrap());
    sandbox.shutdown().await;
}

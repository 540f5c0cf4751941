//! The fault suite (issue 12): every flavor against servers less tidy than Confluence, the
//! simulator's transport faults, and hostile files.
//!
//! Each case: a clean full sync into a fresh local index, then the quirk or fault is switched on
//! and the connection synced again. Then, per flavor:
//!
//! - **bounded requests**: the second sync sends fewer than 3x the requests of the clean one (a
//!   watchdog cancels a sync past 5x, or past 6x the clean sync's time, and the case fails);
//! - **honest outcome**: the index equals the ground truth, or the job is `partial`/`failed`
//!   (never `completed` when a document is missing or stale);
//! - **nothing wrongly deleted**: every document of the first sync that still exists is indexed;
//! - **no text erased**: every document whose body was non-empty after the first sync still has
//!   a non-empty body;
//! - **no orphan**: every indexed document has a `space_key`.
//!
//! Every case prints its rows; the case that finishes last prints the whole table to stderr
//! (not captured by the test harness). The bar: 0 documents lost, 0 wrongly deleted, 0
//! texts erased on all flavors.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confluence_sim::{DcAuth, FaultPlan, Flavor, Quirks, SimOptions, SiteSize};
use connector::sink::LocalIndex;
use connector::sync::{CancellationToken, Job, SyncOptions};
use connector::{JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;
use serde_json::Value;

use crate::support::indexed;

/// A faulted sync may take this multiple of the clean sync's time (at least [`MIN_WALL`])
/// before the watchdog cancels it; the clean sync gets [`CLEAN_WALL`].
const WALL_FACTOR: u32 = 6;
const MIN_WALL: Duration = Duration::from_secs(20);
const CLEAN_WALL: Duration = Duration::from_secs(120);
/// Requests beyond this multiple of the clean sync make the watchdog cancel the sync.
const RUNAWAY: u64 = 5;
/// The bound the suite asserts.
const BOUND: u64 = 3;

const FLAVORS: [Flavor; 3] = [Flavor::Cloud, Flavor::Server, Flavor::DataCenter];

/// Two spaces of 20 pages: the transport-fault cases (listings fit one page).
fn small_site() -> SiteSize {
    SiteSize::Custom {
        spaces: 2,
        pages_per_space: 20,
        blogposts_per_space: 2,
        attachments_per_page: 0.5,
        comments_per_page: 0.3,
        users: 8,
        groups: 2,
    }
}

/// Two spaces of 55 pages: content listings take two pages (50 per page) on every flavor.
fn paged_site() -> SiteSize {
    SiteSize::Custom {
        spaces: 2,
        pages_per_space: 55,
        blogposts_per_space: 2,
        attachments_per_page: 0.3,
        comments_per_page: 0.3,
        users: 8,
        groups: 2,
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    case: String,
    flavor: String,
    requests: u64,
    baseline: u64,
    lost: usize,
    stale: usize,
    wrongly_deleted: usize,
    erased: usize,
    orphans: usize,
    status: String,
    failures: Vec<String>,
}

static ROWS: Mutex<Vec<Row>> = Mutex::new(Vec::new());
static DONE: AtomicUsize = AtomicUsize::new(0);
/// The number of case tests below (the last one to finish prints the table).
const CASES: usize = 24;

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<30} {:<16} {:>9} {:>5} {:>6} {:>6} {:>7} {:>6} {:>7}  {:<10} {}\n",
        "case",
        "flavor",
        "requests",
        "clean",
        "lost",
        "stale",
        "wrongdel",
        "erased",
        "orphans",
        "status",
        "verdict"
    ));
    for r in rows {
        out.push_str(&format!(
            "{:<30} {:<16} {:>9} {:>5} {:>6} {:>6} {:>7} {:>6} {:>7}  {:<10} {}\n",
            r.case,
            r.flavor,
            r.requests,
            r.baseline,
            r.lost,
            r.stale,
            r.wrongly_deleted,
            r.erased,
            r.orphans,
            r.status,
            if r.failures.is_empty() {
                "PASS".to_owned()
            } else {
                format!("FAIL: {}", r.failures.join("; "))
            }
        ));
    }
    out
}

/// Records the rows of one case, prints them (and the whole table when this is the last case),
/// then fails the test when any row failed.
fn finish(rows: Vec<Row>) {
    let this = table(&rows);
    println!("{this}");
    {
        let mut all = ROWS.lock().unwrap_or_else(|e| e.into_inner());
        all.extend(rows.iter().cloned());
        if DONE.fetch_add(1, Ordering::SeqCst) + 1 == CASES {
            let mut all = all.clone();
            all.sort_by(|a, b| (&a.case, &a.flavor).cmp(&(&b.case, &b.flavor)));
            let failed = all.iter().filter(|r| !r.failures.is_empty()).count();
            let sum = |f: fn(&Row) -> usize| all.iter().map(f).sum::<usize>();
            let text = format!(
                "\n== fault suite: {} rows, {} failed; documents lost {}, wrongly deleted {}, texts erased {}, orphans {} ==\n{}",
                all.len(),
                failed,
                sum(|r| r.lost),
                sum(|r| r.wrongly_deleted),
                sum(|r| r.erased),
                sum(|r| r.orphans),
                table(&all)
            );
            // Straight to the stderr handle: the harness captures print! but not this.
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| !r.failures.is_empty())
        .map(|r| format!("{} / {}: {}", r.case, r.flavor, r.failures.join("; ")))
        .collect();
    assert!(failed.is_empty(), "\n{}", failed.join("\n"));
}

/// What the second sync must show beyond the common checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Index equal to the truth, or `partial`/`failed`.
    Honest,
    /// The job must fail (the crawler is not who it should be) and delete nothing.
    Failed,
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
            .add_connection("conn-1", "Fault suite", "confluence_cloud")
            .unwrap();
        Setup {
            store: Arc::new(Mutex::new(store)),
            sink: Arc::new(LocalIndex::open(work.path().join("index.sqlite")).unwrap()),
            work,
        }
    }

    fn options(&self) -> SyncOptions {
        SyncOptions {
            connection_id: Some("conn-1".into()),
            work_dir: self.work.path().join("work"),
            trigger: "test".into(),
            progress_every: Duration::from_millis(50),
            ..SyncOptions::default()
        }
    }

    /// Runs one full sync under a watchdog: cancelled past `max_requests` requests or `wall`.
    /// Returns the record (or what went wrong), the requests it sent, and why it was stopped.
    async fn sync(
        &self,
        sandbox: &Sandbox,
        max_requests: Option<u64>,
        wall: Duration,
    ) -> (Result<JobRecord, String>, u64, Option<String>, Duration) {
        let cancel = CancellationToken::new();
        let job = Job::new(
            JobType::Full,
            sandbox.config.clone(),
            sandbox.secrets.clone(),
            self.sink.clone(),
            self.store.clone(),
        )
        .with_options(self.options())
        .with_cancel(cancel.clone());
        let before = sandbox.sim.request_count();
        let started = Instant::now();
        let mut handle = tokio::spawn(job.run());
        let mut stopped = None;
        let result = loop {
            tokio::select! {
                r = &mut handle => break r,
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            let sent = sandbox.sim.request_count() - before;
            if stopped.is_none() {
                if max_requests.is_some_and(|m| sent > m) {
                    stopped = Some(format!("runaway: cancelled after {sent} requests"));
                    cancel.cancel();
                } else if started.elapsed() > wall {
                    stopped = Some(format!("did not end within {} s", wall.as_secs()));
                    cancel.cancel();
                }
            } else if started.elapsed() > wall + Duration::from_secs(20) {
                handle.abort();
                break (&mut handle).await;
            }
        };
        let sent = sandbox.sim.request_count() - before;
        let record = match result {
            Ok(Ok(record)) => Ok(record),
            Ok(Err(err)) => Err(format!("error: {err}")),
            Err(err) => Err(format!("task: {err}")),
        };
        (record, sent, stopped, started.elapsed())
    }
}

async fn start(flavor: Flavor, size: SiteSize, dc_auth: DcAuth) -> Sandbox {
    Sandbox::start(SimOptions {
        flavor,
        size,
        seed: 12,
        data_center_auth: dc_auth,
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

fn flavor_name(flavor: Flavor, dc_auth: DcAuth) -> String {
    match (flavor, dc_auth) {
        (Flavor::DataCenter, DcAuth::Pat) => "datacenter-pat".into(),
        (Flavor::DataCenter, DcAuth::Basic) => "datacenter-basic".into(),
        (f, _) => f.as_str().into(),
    }
}

fn non_empty_body(doc: &Value) -> bool {
    doc["body"].as_str().is_some_and(|b| !b.trim().is_empty())
}

fn status_name(r: &Result<JobRecord, String>) -> String {
    match r {
        Ok(j) => format!("{:?}", j.status).to_lowercase(),
        Err(_) => "error".into(),
    }
}

/// Runs one case on one flavor: `prepare` before the clean sync, `fault` after it.
async fn run_case(
    case: &str,
    flavor: Flavor,
    dc_auth: DcAuth,
    size: SiteSize,
    expect: Expect,
    prepare: impl Fn(&Sandbox),
    fault: impl Fn(&Sandbox),
) -> Row {
    run_case_with_index(case, flavor, dc_auth, size, expect, prepare, fault)
        .await
        .0
}

/// As [`run_case`], also returning the index after the second sync.
async fn run_case_with_index(
    case: &str,
    flavor: Flavor,
    dc_auth: DcAuth,
    size: SiteSize,
    expect: Expect,
    prepare: impl Fn(&Sandbox),
    fault: impl Fn(&Sandbox),
) -> (Row, BTreeMap<String, Value>) {
    let sandbox = start(flavor, size, dc_auth).await;
    prepare(&sandbox);
    let setup = Setup::new();
    let mut row = Row {
        case: case.to_owned(),
        flavor: flavor_name(flavor, dc_auth),
        requests: 0,
        baseline: 0,
        lost: 0,
        stale: 0,
        wrongly_deleted: 0,
        erased: 0,
        orphans: 0,
        status: String::new(),
        failures: Vec::new(),
    };

    // 1. A clean full sync: the reference.
    let (clean, baseline, _, clean_time) = setup.sync(&sandbox, None, CLEAN_WALL).await;
    row.baseline = baseline;
    let first = indexed(&*setup.sink).await;
    let truth_before: BTreeSet<String> = sandbox.sim.truth().into_iter().map(|t| t.id).collect();
    let first_ids: BTreeSet<String> = first.keys().cloned().collect();
    match &clean {
        Ok(j) if j.status == JobStatus::Completed && first_ids == truth_before => {}
        other => {
            row.status = status_name(other);
            row.failures.push(format!(
                "the clean sync was not complete ({}; {} of {} documents): {}",
                status_name(other),
                first_ids.len(),
                truth_before.len(),
                errors_of(other)
            ));
            sandbox.shutdown().await;
            return (row, first);
        }
    }

    // 2. The fault, and the sync under it.
    fault(&sandbox);
    let wall = (clean_time * WALL_FACTOR).max(MIN_WALL);
    let (second, sent, stopped, _) = setup.sync(&sandbox, Some(baseline * RUNAWAY), wall).await;
    sandbox.sim.admin().clear_faults();
    sandbox.sim.admin().set_quirks(Quirks::none());
    row.requests = sent;
    row.status = status_name(&second);
    if let Some(why) = &stopped {
        row.failures.push(why.clone());
    }
    if sent >= baseline * BOUND {
        row.failures.push(format!(
            "{sent} requests, not under {BOUND}x the clean sync's {baseline}"
        ));
    }

    // 3. The checks.
    let truth: BTreeSet<String> = sandbox.sim.truth().into_iter().map(|t| t.id).collect();
    let after = indexed(&*setup.sink).await;
    let after_ids: BTreeSet<String> = after.keys().cloned().collect();
    row.lost = truth.difference(&after_ids).count();
    row.stale = after_ids.difference(&truth).count();
    let wrongly: Vec<&String> = first_ids
        .iter()
        .filter(|id| truth.contains(*id) && !after_ids.contains(*id))
        .collect();
    row.wrongly_deleted = wrongly.len();
    let erased: Vec<&String> = first
        .iter()
        .filter(|(id, doc)| {
            non_empty_body(doc) && after.get(*id).is_some_and(|d| !non_empty_body(d))
        })
        .map(|(id, _)| id)
        .collect();
    row.erased = erased.len();
    let orphans: Vec<&String> = after
        .iter()
        .filter(|(_, d)| d["space_key"].as_str().is_none_or(|k| k.trim().is_empty()))
        .map(|(id, _)| id)
        .collect();
    row.orphans = orphans.len();

    let status = second.as_ref().ok().map(|j| j.status);
    if !wrongly.is_empty() {
        row.failures.push(format!(
            "{} wrongly deleted (e.g. {})",
            wrongly.len(),
            sample(&wrongly)
        ));
    }
    if !erased.is_empty() {
        row.failures.push(format!(
            "{} texts erased (e.g. {})",
            erased.len(),
            sample(&erased)
        ));
    }
    if !orphans.is_empty() {
        row.failures.push(format!(
            "{} documents without space_key (e.g. {})",
            orphans.len(),
            sample(&orphans)
        ));
    }
    match status {
        Some(JobStatus::Completed) if row.lost > 0 || row.stale > 0 => row.failures.push(format!(
            "completed although the index differs from the truth ({} missing, {} stale)",
            row.lost, row.stale
        )),
        Some(JobStatus::Running) => row.failures.push("the job stayed running".into()),
        None => row
            .failures
            .push(format!("the sync returned {}", errors_of(&second))),
        _ => {}
    }
    if expect == Expect::Failed && status != Some(JobStatus::Failed) {
        row.failures.push(format!(
            "expected failed (the token was refused), got {}: {}",
            row.status,
            errors_of(&second)
        ));
    }
    if let Ok(j) = &second
        && j.status != JobStatus::Completed
        && j.errors.is_empty()
    {
        row.failures
            .push(format!("{:?} without a named reason", j.status));
    }
    sandbox.shutdown().await;
    (row, after)
}

fn sample(ids: &[&String]) -> String {
    ids.iter()
        .take(3)
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn errors_of(r: &Result<JobRecord, String>) -> String {
    match r {
        Ok(j) => j
            .errors
            .iter()
            .take(2)
            .map(|e| {
                let m: String = e.message.chars().take(160).collect();
                m
            })
            .collect::<Vec<_>>()
            .join(" | "),
        Err(e) => e.chars().take(200).collect(),
    }
}

/// A quirk case on every flavor (the paged site).
/// The flavors of a case run at once (each against its own simulator and index).
async fn quirk_case(case: &str, quirks: Quirks) -> Vec<Row> {
    futures_util::future::join_all(FLAVORS.map(|flavor| {
        let q = quirks.clone();
        run_case(
            case,
            flavor,
            DcAuth::Basic,
            paged_site(),
            Expect::Honest,
            |_| {},
            move |s| s.sim.admin().set_quirks(q.clone()),
        )
    }))
    .await
}

#[tokio::test]
async fn ignore_start() {
    finish(
        quirk_case(
            "ignore start",
            Quirks {
                ignore_start: true,
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn no_links_next() {
    finish(
        quirk_case(
            "no _links.next",
            Quirks {
                omit_next: true,
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn repeated_pages() {
    finish(
        quirk_case(
            "repeated pages",
            Quirks {
                repeat_pages: true,
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn shuffled_pages() {
    finish(
        quirk_case(
            "shuffled pages",
            Quirks {
                shuffle_pages: true,
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn optional_fields_missing() {
    finish(
        quirk_case(
            "optional fields missing",
            Quirks {
                trim_fields: true,
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn html_login_page_with_200() {
    finish(
        quirk_case(
            "HTML 200 on child/comment",
            Quirks {
                html_login: Some("/child/comment".into()),
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn cross_host_redirect() {
    finish(
        quirk_case(
            "cross-host redirect",
            Quirks {
                redirect_host: Some("/rest/api/content/search".into()),
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn missing_comment_route_404() {
    finish(
        quirk_case(
            "missing child/comment 404",
            Quirks {
                missing_route: Some("/child/comment".into()),
                missing_status: Some(404),
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn missing_comment_route_501() {
    finish(
        quirk_case(
            "missing child/comment 501",
            Quirks {
                missing_route: Some("/child/comment".into()),
                missing_status: Some(501),
                ..Quirks::none()
            },
        )
        .await,
    );
}

#[tokio::test]
async fn results_change_between_pages() {
    finish(
        quirk_case(
            "results change between pages",
            Quirks {
                changing_results: true,
                ..Quirks::none()
            },
        )
        .await,
    );
}

/// The refused token served as anonymous: the tiny site, whose anonymous-readable space gets a
/// page only the crawler may read. The sync must fail and delete nothing.
#[tokio::test]
async fn token_refused_but_anonymous_served() {
    let mut rows = Vec::new();
    for (flavor, auth) in [
        (Flavor::DataCenter, DcAuth::Pat),
        (Flavor::DataCenter, DcAuth::Basic),
        (Flavor::Server, DcAuth::Basic),
        (Flavor::Cloud, DcAuth::Basic),
    ] {
        rows.push(
            run_case(
                "token refused, anonymous served",
                flavor,
                auth,
                SiteSize::Tiny,
                Expect::Failed,
                |s| {
                    // A restricted page in the space anonymous users may read.
                    let truth = s.sim.truth();
                    let anon = truth.iter().find(|t| t.r#type == "space" && t.anonymous);
                    let page = anon.and_then(|sp| {
                        truth.iter().find(|t| {
                            t.r#type == "page" && t.space_key == sp.space_key && t.anonymous
                        })
                    });
                    if let Some(page) = page {
                        s.sim
                            .admin()
                            .set_read_restriction(&page.id, &["svc-search", "admin"], &[])
                            .unwrap();
                    }
                },
                |s| {
                    s.sim.admin().set_quirks(Quirks {
                        expired_credentials: true,
                        anonymous_fallback: true,
                        ..Quirks::none()
                    })
                },
            )
            .await,
        );
    }
    finish(rows);
}

/// Listing routes (spaces, content search, child listings, labels) and download routes.
const LISTINGS: &[&str] = &["/rest/api/space", "/content/search", "/child/", "/label"];
const DOWNLOADS: &[&str] = &["/download/attachments/", "/__media/", "/download"];

async fn fault_case(case: &str, plan: FaultPlan, paths: &[&str]) -> Vec<Row> {
    futures_util::future::join_all(FLAVORS.map(|flavor| {
        let plan = FaultPlan {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            ..plan.clone()
        };
        run_case(
            case,
            flavor,
            DcAuth::Basic,
            small_site(),
            Expect::Honest,
            |_| {},
            move |s| s.sim.admin().set_fault_plan(plan.clone()),
        )
    }))
    .await
}

fn plan(spec: &str) -> FaultPlan {
    spec.parse().unwrap()
}

#[tokio::test]
async fn rate_limited_with_retry_after_on_listings() {
    finish(
        fault_case(
            "429 Retry-After, listings",
            plan("429=0.03,retry-after=1"),
            LISTINGS,
        )
        .await,
    );
}

#[tokio::test]
async fn rate_limited_with_retry_after_on_downloads() {
    finish(
        fault_case(
            "429 Retry-After, downloads",
            plan("429=0.2,retry-after=1"),
            DOWNLOADS,
        )
        .await,
    );
}

#[tokio::test]
async fn rate_limited_without_retry_after_on_listings() {
    finish(
        fault_case(
            "429 no Retry-After, listings",
            plan("429=0.02,retry-after=none"),
            LISTINGS,
        )
        .await,
    );
}

#[tokio::test]
async fn rate_limited_without_retry_after_on_downloads() {
    finish(
        fault_case(
            "429 no Retry-After, downloads",
            plan("429=0.1,retry-after=none"),
            DOWNLOADS,
        )
        .await,
    );
}

#[tokio::test]
async fn server_error_bursts_on_listings() {
    finish(fault_case("5xx bursts, listings", plan("5xx=0.05,burst=3"), LISTINGS).await);
}

#[tokio::test]
async fn server_error_bursts_on_downloads() {
    finish(fault_case("5xx bursts, downloads", plan("5xx=0.2,burst=3"), DOWNLOADS).await);
}

#[tokio::test]
async fn connection_resets_on_listings() {
    finish(fault_case("resets, listings", plan("reset=0.05"), LISTINGS).await);
}

#[tokio::test]
async fn connection_resets_on_downloads() {
    finish(fault_case("resets, downloads", plan("reset=0.2"), DOWNLOADS).await);
}

#[tokio::test]
async fn truncated_bodies_on_listings() {
    finish(
        fault_case(
            "truncated bodies, listings",
            plan("truncate=0.05"),
            LISTINGS,
        )
        .await,
    );
}

#[tokio::test]
async fn truncated_bodies_on_downloads() {
    finish(
        fault_case(
            "truncated bodies, downloads",
            plan("truncate=0.3"),
            DOWNLOADS,
        )
        .await,
    );
}

#[tokio::test]
async fn slow_reads_on_listings() {
    finish(
        fault_case(
            "slow reads, listings",
            plan("slow=0.05,slow-delay=20ms"),
            LISTINGS,
        )
        .await,
    );
}

#[tokio::test]
async fn slow_reads_on_downloads() {
    finish(
        fault_case(
            "slow reads, downloads",
            plan("slow=0.3,slow-delay=20ms"),
            DOWNLOADS,
        )
        .await,
    );
}

/// Environment variable that makes [`bomb_child`] run (it is `#[ignore]`d otherwise).
const BOMB_FLAVOR: &str = "FAULT_SUITE_BOMB_FLAVOR";

/// The bomb PDF and DOCX. Each flavor runs in a child process (this test binary, running
/// [`bomb_child`]) under a 6 GiB address-space limit, so that a sync that inflates the bombs
/// dies alone instead of taking the whole suite down. The child syncs, adds the bombs, syncs
/// again; it must finish, the bombs must be indexed with a note, and nothing else may change.
#[tokio::test]
async fn decompression_bombs() {
    let exe = std::env::current_exe().unwrap();
    let rows =
        futures_util::future::join_all(FLAVORS.map(|flavor| bomb_flavor(exe.clone(), flavor)))
            .await;
    finish(rows);
}

/// One flavor of [`decompression_bombs`] in its child process.
async fn bomb_flavor(exe: std::path::PathBuf, flavor: Flavor) -> Row {
    {
        let started = Instant::now();
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 6291456; exec \"$0\" \"$@\"")
            .arg(&exe)
            .args([
                "fault_suite::bomb_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(BOMB_FLAVOR, flavor.as_str())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let output = match child {
            Err(e) => Ok(Err(e)),
            Ok(child) => {
                let pid = child.id();
                let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
                match tokio::time::timeout(Duration::from_secs(150), waiting).await {
                    Ok(joined) => Ok(joined.unwrap()),
                    Err(elapsed) => {
                        // Our own child, by its id.
                        let _ = std::process::Command::new("kill")
                            .args(["-9", &pid.to_string()])
                            .status();
                        Err(elapsed)
                    }
                }
            }
        };
        let mut row = Row {
            case: "bomb PDF + DOCX".into(),
            flavor: flavor.as_str().into(),
            requests: 0,
            baseline: 0,
            lost: 0,
            stale: 0,
            wrongly_deleted: 0,
            erased: 0,
            orphans: 0,
            status: "?".into(),
            failures: Vec::new(),
        };
        match output {
            Err(_) => row
                .failures
                .push("the child process did not end within 150 s".into()),
            Ok(Err(e)) => row.failures.push(format!("could not start the child: {e}")),
            Ok(Ok(out)) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                match stdout
                    .lines()
                    .find_map(|l| l.split_once("BOMB-ROW ").map(|(_, row)| row))
                    .and_then(|j| serde_json::from_str::<Value>(j).ok())
                {
                    Some(v) => {
                        let n = |k: &str| v[k].as_u64().unwrap_or(0);
                        row.requests = n("requests");
                        row.baseline = n("baseline");
                        row.lost = n("lost") as usize;
                        row.stale = n("stale") as usize;
                        row.wrongly_deleted = n("wrongly_deleted") as usize;
                        row.erased = n("erased") as usize;
                        row.orphans = n("orphans") as usize;
                        row.status = v["status"].as_str().unwrap_or("?").into();
                        row.failures = v["failures"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|f| f.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default();
                    }
                    None => {
                        let stderr = String::from_utf8_lossy(&out.stderr);
                        let tail: String =
                            stderr.lines().rev().take(4).collect::<Vec<_>>().join(" / ");
                        row.status = "crashed".into();
                        row.failures.push(format!(
                            "the sync process died ({}) after {:.0} s: {}",
                            out.status,
                            started.elapsed().as_secs_f64(),
                            tail.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
        }
        row
    }
}

/// The child of [`decompression_bombs`]: one flavor, its row printed as `BOMB-ROW {json}`.
#[tokio::test]
#[ignore = "run by decompression_bombs in a child process"]
async fn bomb_child() {
    let Ok(flavor) = std::env::var(BOMB_FLAVOR) else {
        return;
    };
    let flavor: Flavor = flavor.parse().unwrap();
    let bombs: Arc<Mutex<Vec<String>>> = Arc::default();
    let added = bombs.clone();
    let (mut row, index) = run_case_with_index(
        "bomb PDF + DOCX",
        flavor,
        DcAuth::Basic,
        paged_site(),
        Expect::Honest,
        |_| {},
        move |s| {
            let page = s
                .sim
                .truth()
                .into_iter()
                .find(|t| t.r#type == "page")
                .unwrap()
                .id;
            *added.lock().unwrap() = s.sim.admin().add_bomb_attachments(&page).unwrap();
        },
    )
    .await;
    // The bombs themselves: indexed, without text, with a note saying why.
    let ids = bombs.lock().unwrap().clone();
    if ids.len() != 2 {
        row.failures.push("the bombs were not added".into());
    }
    for id in &ids {
        match index.get(id) {
            None => row.failures.push(format!("bomb {id} not indexed")),
            Some(doc) => {
                if non_empty_body(doc) {
                    row.failures
                        .push(format!("bomb {id} indexed with text (the truth has none)"));
                }
                if doc["extraction_note"]
                    .as_str()
                    .is_none_or(|n| n.trim().is_empty())
                {
                    row.failures
                        .push(format!("bomb {id} ({}) has no note", doc["title"]));
                }
            }
        }
    }
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    if peak > 1_500_000 {
        row.failures
            .push(format!("peak resident memory {} MiB", peak / 1024));
    }
    let v = serde_json::json!({
        "requests": row.requests,
        "baseline": row.baseline,
        "lost": row.lost,
        "stale": row.stale,
        "wrongly_deleted": row.wrongly_deleted,
        "erased": row.erased,
        "orphans": row.orphans,
        "status": row.status,
        "failures": row.failures,
    });
    println!("\nBOMB-ROW {v}");
}

//! `kill -9` at random points of `sync --config`, then a rerun: after each rerun the index is the
//! simulator's truth, no job is left `running`, the killed one is `interrupted`, nothing is left
//! in `work/`, and a run killed after most of its crawl resumes with fewer requests than a repeat
//! sync makes.
//!
//! The kill points come from a seeded generator: the seed is printed, and `CRASH_SEED=N` replays
//! a run (`CRASH_SEED=random` draws a new one).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use confluence_sim::{Flavor, Latency, SiteSize};

use crate::sim_sync::{Site, assert_index_is_truth, describe_jobs, jobs, work_leftovers};

/// splitmix64: enough randomness for kill points, and no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: &[u64]) -> Rng {
        let mut rng = Rng(seed);
        for s in stream {
            rng.0 ^= s.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            rng.next();
        }
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi.saturating_sub(lo) + 1)
    }
}

/// The suite's seed: `CRASH_SEED` (a number, or `random`), else a fixed one.
fn suite_seed() -> u64 {
    match std::env::var("CRASH_SEED") {
        Ok(s) if s == "random" => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default(),
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("CRASH_SEED={s}: not a number")),
        Err(_) => 20_260_911,
    }
}

/// Where in a run a kill lands, as a share of the requests of a repeat full sync (the killed
/// runs sync a connection that already has an index, so they download nothing unchanged).
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    /// Within the first 15 %: spaces and the first listings.
    Early,
    /// 15 to 50 %.
    Mid,
    /// 50 to 95 %: most of the crawl is written.
    Late,
    /// Right after the last request: the crawl is over, the writes and the deletion phase run
    /// (the site lost a page before this run, so there is something to delete).
    Deleting,
}

/// The classes of the rounds, in turn: late kills (the ones with work to reuse) come twice as
/// often.
const WHEN: [When; 5] = [
    When::Early,
    When::Late,
    When::Mid,
    When::Deleting,
    When::Late,
];

/// What changed in Confluence before a killed run.
enum Mutation {
    None,
    Deleted(String),
    Added(String),
}

impl Mutation {
    fn describe(&self) -> String {
        match self {
            Mutation::None => "site unchanged".to_owned(),
            Mutation::Deleted(what) => format!("deleted {what} before the run"),
            Mutation::Added(what) => format!("added {what} before the run"),
        }
    }
}

/// A fresh full sync of the site as it is now, into a data directory of its own; returns its
/// request count.
async fn fresh_requests(site: &Site, dir: &Path, tag: &str) -> u64 {
    let data = dir.join(tag);
    let run = site.sync(&data, tag).await;
    run.assert_completed(&format!("{}: fresh sync {tag}", site.name()));
    assert_index_is_truth(
        &data,
        &site.sim,
        &format!("{}: fresh sync {tag}", site.name()),
    )
    .await;
    let _ = std::fs::remove_dir_all(&data);
    run.requests
}

/// Deletes a random page (never the last one of the site) or adds one.
fn mutate(site: &Site, rng: &mut Rng, delete: bool, k: usize) -> Mutation {
    let truth = site.sim.truth();
    let pages: Vec<_> = truth.iter().filter(|d| d.r#type == "page").collect();
    let admin = site.sim.admin();
    if delete && pages.len() > 3 {
        let page = pages[rng.between(0, pages.len() as u64 - 1) as usize];
        admin.delete_content(&page.id).expect("deleting a page");
        return Mutation::Deleted(format!("page {} {:?}", page.id, page.title));
    }
    let space = pages[rng.between(0, pages.len() as u64 - 1) as usize]
        .space_key
        .clone();
    let title = format!("Written between crash runs {k}");
    let id = admin
        .add_page(
            &space,
            None,
            &title,
            &format!("<p>Crash run {k} added this page to {space}.</p>"),
        )
        .expect("adding a page");
    admin
        .add_comment(&id, "<p>A comment on the new page.</p>", false)
        .expect("adding a comment");
    Mutation::Added(format!("page {id} in {space} with a comment"))
}

/// One kill-and-rerun round.
struct Round {
    k: usize,
    when: When,
    /// Kill once the child has made this many requests.
    kill_at: u64,
    /// A repeat full sync's requests on the site as it is for this round.
    repeat: u64,
    mutation: Mutation,
}

/// One kill and rerun; the figures of the run.
struct Outcome {
    line: String,
    failures: Vec<String>,
    /// The rerun reused a checkpoint of the killed run.
    resumed: bool,
}

/// Pages and blog posts in the data directory's checkpoint (0 without one).
fn checkpointed_units(data: &Path) -> u64 {
    std::fs::read_dir(data.join("work"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("checkpoint-") && name.ends_with(".sqlite")
        })
        .filter_map(|e| connector::sync::checkpoint::summary(&e.path()))
        .map(|s| s.units)
        .sum()
}

async fn kill_and_rerun(site: &Site, data: &Path, round: &Round) -> Outcome {
    let Round {
        k,
        when,
        kill_at,
        repeat,
        ref mutation,
    } = *round;
    let what = format!(
        "{} kill {k} ({when:?}, aimed at request {kill_at} of ~{repeat})",
        site.name()
    );
    let mut failures = Vec::new();

    let before: Vec<Value> = jobs(data).iter().map(|j| j["id"].clone()).collect();
    let mut child = site.spawn_sync(data, &format!("killed-{k}"));
    let started = Instant::now();
    while child.requests(&site.sim) < kill_at && !child.exited() {
        if started.elapsed() > Duration::from_secs(120) {
            failures.push(format!("{what}: the sync never reached request {kill_at}"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if when == When::Deleting {
        // The crawl is over; the kill belongs after its pages are checkpointed (every 0.5 s),
        // in the writes and deletions that follow, not in the instant between.
        let waiting = Instant::now();
        while checkpointed_units(data) == 0
            && !child.exited()
            && waiting.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let (was_running, killed) = child.kill9(&site.sim);
    // What the killed run had checkpointed: pages and blog posts written whole.
    let checkpointed = checkpointed_units(data);
    // The killed run's job, if it got as far as recording one.
    let killed_job = jobs(data).into_iter().find(|j| !before.contains(&j["id"]));

    let rerun = site.sync(data, &format!("rerun-{k}")).await;
    let summary = rerun.assert_completed(&format!("{what}: the rerun"));

    // The index is the truth: same ids, no duplicate, nothing wrongly deleted, nothing orphaned.
    let index_check = tokio::spawn({
        let data = data.to_owned();
        let what = what.clone();
        let truth = site.sim.truth();
        async move {
            let index = crate::sim_sync::indexed(&data).await;
            let diff = crate::sim_sync::differences(&index, &truth);
            if diff.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{what}: after the rerun the index ({} docs) differs from the truth ({} docs):\n    {}",
                    index.len(),
                    truth.len(),
                    diff.join("\n    ")
                ))
            }
        }
    })
    .await
    .unwrap_or_else(|e| Err(format!("{what}: reading the index panicked: {e}")));
    if let Err(e) = index_check {
        failures.push(e);
    }

    // No job is left running; the killed one is interrupted.
    let history = jobs(data);
    if history.iter().any(|j| j["status"] == "running") {
        failures.push(format!(
            "{what}: a job is still `running` after the rerun:\n  {}",
            describe_jobs(&history)
        ));
    }
    match (&killed_job, was_running) {
        (Some(job), true) => {
            let id = &job["id"];
            match history.iter().find(|j| &j["id"] == id) {
                Some(j) if j["status"] == "interrupted" => {}
                Some(j) => failures.push(format!(
                    "{what}: the killed job {id} is `{}`, not `interrupted`:\n  {}",
                    j["status"],
                    describe_jobs(&history)
                )),
                None => failures.push(format!("{what}: the killed job {id} is gone from `jobs`")),
            }
        }
        (None, true) => failures.push(format!(
            "{what}: the killed run left no job record (killed after {} requests)",
            killed.requests
        )),
        (_, false) => {}
    }

    // No temporary file is left behind.
    let leftovers = work_leftovers(data);
    if !leftovers.is_empty() {
        failures.push(format!(
            "{what}: files left in work/ after the rerun:\n    {}",
            leftovers.join("\n    ")
        ));
    }

    let share = killed.requests as f64 * 100.0 / repeat.max(1) as f64;
    let line = format!(
        "{:<28} kill {k:>2} {:<8} at {:>4}/{repeat} requests ({share:>5.1} %){} | checkpointed {checkpointed:>3} pages | resumed run: {:>4} requests, repeat sync: {repeat:>4} ({:+.0} %) | rerun indexed {} deleted {} | {}",
        site.name(),
        format!("{when:?}"),
        killed.requests,
        if was_running {
            ""
        } else {
            " (had already ended)"
        },
        rerun.requests,
        (rerun.requests as f64 - repeat as f64) * 100.0 / repeat.max(1) as f64,
        summary["indexed_document_count"],
        summary["deleted_document_count"],
        mutation.describe(),
    );

    // Every page the killed run checkpointed saves at least its comment listing: the rerun
    // must make fewer requests than a repeat sync. The repeat count is estimated from a fresh
    // sync, which has nothing to confirm gone: a run into an index that holds a deleted page
    // also asks Confluence once per deletion candidate, hence the allowance.
    const CONFIRMATIONS: u64 = 5;
    let resumed = was_running && checkpointed > 0;
    if resumed && rerun.requests + checkpointed > repeat + CONFIRMATIONS {
        failures.push(format!(
            "{what}: killed after {} of {repeat} requests ({share:.0} %) with {checkpointed} pages checkpointed, the rerun made {} requests: it should reuse them (repeat sync: {repeat})",
            killed.requests, rerun.requests
        ));
    }
    Outcome {
        line,
        failures,
        resumed: resumed && rerun.requests < repeat,
    }
}

/// `kills` kill-and-rerun rounds on one site, in one data directory (one connection synced
/// again and again).
async fn crash_suite(flavor: Flavor, size: SiteSize, site_seed: u64, kills: usize) {
    let seed = suite_seed();
    let mut rng = Rng::new(seed, &[flavor as u64, site_seed, size_code(size)]);
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // 20 ms a request: a repeat sync of a small site lasts a few checkpoints (every 0.5 s).
    let latency = Latency::Fixed(Duration::from_millis(20));
    let site = Site::start_with(flavor, size, site_seed, dir.path(), Some(latency)).await;
    println!(
        "crash suite {}: CRASH_SEED={seed} replays these kill points",
        site.name()
    );
    let data = dir.path().join("data");

    let mut fresh = fresh_requests(&site, dir.path(), "fresh-0").await;
    // A first complete sync: the kills hit a connection that already has an index. A second
    // one measures what a repeat sync asks for: the kill points are shares of that.
    site.sync(&data, "initial")
        .await
        .assert_completed(&format!("{}: initial sync", site.name()));
    let repeat = site.sync(&data, "repeat").await;
    repeat.assert_completed(&format!("{}: repeat sync", site.name()));
    // A mutation moves both counts alike (one page more or less).
    let repeat_less = fresh.saturating_sub(repeat.requests);

    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let mut resumed = 0;
    for k in 0..kills {
        let when = WHEN[k % WHEN.len()];
        // Deletion-phase kills need something to delete; other rounds mutate now and then.
        let mutation = match (when, rng.between(0, 3)) {
            (When::Deleting, _) | (_, 0) => mutate(&site, &mut rng, true, k),
            (_, 1) => mutate(&site, &mut rng, false, k),
            _ => Mutation::None,
        };
        if !matches!(mutation, Mutation::None) {
            fresh = fresh_requests(&site, dir.path(), &format!("fresh-{}", k + 1)).await;
        }
        let run = fresh.saturating_sub(repeat_less);
        let kill_at = match when {
            // Not the first two requests: they are the deletion preview's space listing, made
            // before the job is recorded (a kill there leaves no job, rightly).
            When::Early => rng.between(3, (run * 15 / 100).max(3)),
            When::Mid => rng.between(run * 15 / 100 + 1, run / 2),
            When::Late => rng.between(run / 2 + 1, run * 95 / 100),
            When::Deleting => run,
        };
        let round = Round {
            k,
            when,
            kill_at,
            repeat: run,
            mutation,
        };
        let outcome = kill_and_rerun(&site, &data, &round).await;
        println!("{}", outcome.line);
        lines.push(outcome.line);
        failures.extend(outcome.failures);
        resumed += usize::from(outcome.resumed);
    }
    // A small site runs long enough for checkpoints: some of its late kills must be resumed.
    if size != SiteSize::Tiny && resumed == 0 {
        failures.push(format!(
            "{}: no rerun reused a checkpoint in {kills} kills",
            site.name()
        ));
    }
    println!(
        "crash suite {}: {kills} kills in {:.1} s",
        site.name(),
        started.elapsed().as_secs_f64()
    );
    site.sim.shutdown().await;
    assert!(
        failures.is_empty(),
        "CRASH_SEED={seed}: {} problems:\n{}\n\nfigures:\n{}",
        failures.len(),
        failures.join("\n"),
        lines.join("\n")
    );
}

fn size_code(size: SiteSize) -> u64 {
    match size {
        SiteSize::Tiny => 1,
        SiteSize::Small => 2,
        _ => 3,
    }
}

// 21 kills over the three flavors, two sizes and four site seeds; the tests run two at a time.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_cloud_tiny_kills_at_random_points_then_resumes_to_the_truth() {
    crash_suite(Flavor::Cloud, SiteSize::Tiny, 3, 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_server_small_kills_at_random_points_then_resumes_to_the_truth() {
    crash_suite(Flavor::Server, SiteSize::Small, 7, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_data_center_tiny_kills_at_random_points_then_resumes_to_the_truth() {
    crash_suite(Flavor::DataCenter, SiteSize::Tiny, 11, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_data_center_small_kills_at_random_points_then_resumes_to_the_truth() {
    crash_suite(Flavor::DataCenter, SiteSize::Small, 5, 4).await;
}

//! Two `sync` processes of the same configuration at once: the second is refused quickly with a
//! message naming the running job, the first completes with nothing lost, and the next run after
//! it is accepted.

use std::time::{Duration, Instant};

use confluence_sim::{Flavor, Latency, SiteSize};

use crate::sim_sync::{Site, assert_index_is_truth, describe_jobs, jobs, work_leftovers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_of_the_same_configuration_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(Flavor::Server, SiteSize::Tiny, 4, dir.path()).await;
    // Slow enough that the first sync is still crawling when the second starts.
    site.sim
        .admin()
        .set_latency(Some(Latency::Fixed(Duration::from_millis(100))));
    let data = dir.path().join("data");

    let first = site.spawn_sync(&data, "first");
    let first_pid = first.child.id();
    let started = Instant::now();
    while first.requests(&site.sim) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first sync never reached Confluence"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let second = site.spawn_sync(&data, "second").finish(&site.sim).await;
    let history_while_running = jobs(&data);
    let mut first = first;
    assert!(
        !first.exited(),
        "the first sync ended before the second one was refused; slow the site down more"
    );
    assert!(
        !second.status.success(),
        "the second sync was accepted while the first ran:\nstdout: {}\nstderr: {}",
        second.stdout,
        second.stderr
    );
    assert!(
        second.elapsed < Duration::from_secs(10),
        "the second sync took {:?} to give up",
        second.elapsed
    );
    let message = format!("{}{}", second.stdout, second.stderr);
    assert!(
        message.contains("already running since"),
        "the refusal does not say a sync is running: {message}"
    );
    assert!(
        message.contains(&format!("process {first_pid}")),
        "the refusal does not name the running process {first_pid}: {message}"
    );
    let running: Vec<_> = history_while_running
        .iter()
        .filter(|j| j["status"] == "running")
        .collect();
    assert_eq!(
        running.len(),
        1,
        "while the first sync ran:\n  {}",
        describe_jobs(&history_while_running)
    );
    let first_job = running[0]["id"].as_str().unwrap().to_owned();
    assert!(
        message.contains(&first_job),
        "the refusal does not name the running job {first_job}: {message}"
    );
    println!(
        "second sync refused in {:?}: {}",
        second.elapsed,
        message.trim()
    );

    // The first one completes, with nothing lost to the second.
    site.sim.admin().set_latency(None);
    let first = first.finish(&site.sim).await;
    first.assert_completed("the first sync");
    assert_index_is_truth(&data, &site.sim, "after the first sync").await;
    let history = jobs(&data);
    assert_eq!(
        history.len(),
        1,
        "the refused sync left a job:\n  {}",
        describe_jobs(&history)
    );
    assert_eq!(history[0]["id"], first_job.as_str());
    assert_eq!(history[0]["status"], "completed");

    // Right after it, the next run is accepted.
    let third = site.sync(&data, "third").await;
    third.assert_completed("the run after the first one");
    assert_index_is_truth(&data, &site.sim, "after the third sync").await;
    let history = jobs(&data);
    assert_eq!(history.len(), 2, "{}", describe_jobs(&history));
    assert!(
        history.iter().all(|j| j["status"] == "completed"),
        "{}",
        describe_jobs(&history)
    );
    let leftovers = work_leftovers(&data);
    assert!(leftovers.is_empty(), "left in work/: {leftovers:?}");
    site.sim.shutdown().await;
}

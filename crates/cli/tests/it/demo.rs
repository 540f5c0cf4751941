//! `demo`, `search` and `jobs` from a clean data directory.

use confluence_sim::{Flavor, SiteSize};

use crate::{json_of, run};

#[test]
fn demo_json_syncs_the_whole_simulated_site_into_the_local_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["demo", "--json", "--size", "tiny", "--seed", "3"],
        &[],
    );
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = json_of(&out);
    let mut truth = 0;
    confluence_sim::truth_of(Flavor::Cloud, SiteSize::Tiny, 3, |_| truth += 1);
    assert_eq!(summary["status"], "completed");
    assert_eq!(summary["indexed_document_count"], truth);
    assert_eq!(summary["deleted_document_count"], 0);
    assert!(summary["requests"].as_u64().unwrap() > 0);
    assert!(summary["duration_s"].as_f64().unwrap() > 0.0);

    // What the demo indexed can be searched, by text and by type.
    let out = run(
        dir.path(),
        &[
            "search", "--index", "demo", "--type", "space", "--json", "--size", "50",
        ],
        &[],
    );
    assert!(out.status.success());
    let found = json_of(&out);
    assert!(found["total"].as_u64().unwrap() >= 2);
    assert!(
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["source"]["type"] == "space")
    );

    // The job is on record.
    let out = run(dir.path(), &["jobs", "--json"], &[]);
    let jobs = json_of(&out);
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    assert_eq!(jobs[0]["trigger"], "demo");
    assert_eq!(jobs[0]["status"], "completed");

    // A second demo starts over from the same site: same count, nothing deleted, nothing lost.
    let again = json_of(&run(
        dir.path(),
        &["demo", "--json", "--size", "tiny", "--seed", "3"],
        &[],
    ));
    assert_eq!(again["status"], "completed");
    assert_eq!(again["indexed_document_count"], truth);
}

#[test]
fn search_explains_a_missing_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["search", "anything"], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("confluence-connector demo"), "{stderr}");
}

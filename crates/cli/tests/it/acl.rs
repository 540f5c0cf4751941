//! `demo --dls`, then `acl doc`, `acl user` and `acl diff` from the demo's index.

use crate::{json_of, run};

#[test]
fn the_inspector_answers_from_the_demo_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "demo", "--dls", "--size", "tiny", "--seed", "3", "--flavor", "server",
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("acl user"), "{stdout}");

    // A user: one object with their identities and the ids their own query finds.
    let user = json_of(&run(
        dir.path(),
        &["acl", "user", "svc-search", "--json"],
        &[],
    ));
    assert_eq!(user["name"], "svc-search");
    assert!(user["user"].is_string());
    let identities = user["identities"].as_array().unwrap();
    assert!(identities.iter().any(|i| i == "user:svc-search"));
    let readable = user["readable"].as_array().unwrap();
    assert!(!readable.is_empty());

    // A document: its ACL, derivation and readers, the crawler among them.
    let id = readable[0].as_str().unwrap();
    let doc = json_of(&run(dir.path(), &["acl", "doc", id, "--json"], &[]));
    assert_eq!(doc["id"], id);
    assert_eq!(doc["derivation"]["space"]["source"], "extender");
    assert!(
        doc["readers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "svc-search")
    );
    let text = run(dir.path(), &["acl", "doc", id], &[]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("space"));

    // Between two identical demos nobody gains or loses anything.
    let first = json_of(&run(dir.path(), &["jobs", "--json"], &[]));
    let again = run(
        dir.path(),
        &[
            "demo", "--dls", "--size", "tiny", "--seed", "3", "--flavor", "server",
        ],
        &[],
    );
    assert!(again.status.success());
    let jobs = json_of(&run(dir.path(), &["jobs", "--json"], &[]));
    let full_ids: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["job_type"] == "full")
        .filter_map(|j| j["id"].as_str())
        .collect();
    assert_eq!(full_ids.len(), 2, "{first}");
    let diff = json_of(&run(
        dir.path(),
        &["acl", "diff", full_ids[1], full_ids[0], "--json"],
        &[],
    ));
    assert_eq!(diff["changes"].as_array().unwrap().len(), 0, "{diff}");

    // An unknown user is an error that says what to do.
    let missing = run(dir.path(), &["acl", "user", "nobody-here"], &[]);
    assert!(!missing.status.success());
}

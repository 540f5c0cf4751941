//! `sync --config connector.json` applies the file's `filtering` block (and refuses one it
//! cannot honour); `acl user` answers after `sync --config F --kind access-control`.

use connector::config::connector_json;
use serde_json::json;

use crate::connections::{filtering, indexed_ids, pages_only, run_async, site, text, truth_pages};
use crate::json_of;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filtering_block_selects_what_is_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (sim, config, env) = site("filtered", 12).await;
    let mut doc = connector_json::export(&config);
    doc["filtering"] = filtering(pages_only(), json!([]));
    let file = dir.path().join("connector.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let path = file.to_str().unwrap();

    let out = run_async(&data, &["sync", "--config", path, "--json"], &env).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "applying 1 basic rules and 0 advanced rules from the file's filtering block"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(json_of(&out)["status"], "completed");
    let want = truth_pages(&sim);
    assert!(!want.is_empty() && want.len() < sim.truth().len());
    assert_eq!(indexed_ids(&data, "filtered").await, want);

    // The access-control sync of the same file, then the inspector.
    let out = run_async(
        &data,
        &["sync", "--config", path, "--kind", "access-control"],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let crawler = sim.credentials().username.unwrap();
    let user = json_of(&run_async(&data, &["acl", "user", &crawler, "--json"], &[]).await);
    assert_eq!(user["name"], crawler.as_str());
    let readable: Vec<String> = user["readable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(!readable.is_empty(), "{user}");
    assert!(readable.iter().all(|id| want.contains(id)), "{user}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_filtering_block_fails_with_the_problem_and_indexes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (sim, config, env) = site("refused", 13).await;
    let file = dir.path().join("connector.json");
    let path = file.to_str().unwrap().to_owned();
    let cases = [
        (
            filtering(
                json!([{"id": "odd", "order": 1, "policy": "keep", "field": "type", "rule": "equals", "value": "page"}]),
                json!([]),
            ),
            "basic rule `odd`",
        ),
        (
            filtering(
                json!([]),
                json!([{"query": "type = page and status = current"}]),
            ),
            "advanced rule 1",
        ),
        (json!({"unexpected": true}), "filtering"),
    ];
    for (block, expected) in cases {
        let mut doc = connector_json::export(&config);
        doc["filtering"] = block;
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = run_async(&data, &["sync", "--config", &path], &env).await;
        assert!(!out.status.success(), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("the `filtering` block cannot be used"),
            "{stderr}"
        );
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(indexed_ids(&data, "refused").await.is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowed_scope_is_announced_and_applied_once_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (sim, config, env) = site("narrowed", 13).await;
    let doc = connector_json::export(&config);
    let whole = dir.path().join("whole.json");
    std::fs::write(&whole, doc.to_string()).unwrap();
    let out = run_async(
        &data,
        &["sync", "--config", whole.to_str().unwrap(), "--json"],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let everything = indexed_ids(&data, "narrowed").await;
    assert_eq!(everything.len(), sim.truth().len());

    // The same file, now with a rule that keeps pages only: most of the index goes.
    let mut narrowed = doc.clone();
    narrowed["filtering"] = filtering(pages_only(), json!([]));
    let file = dir.path().join("narrowed.json");
    std::fs::write(&file, narrowed.to_string()).unwrap();
    let path = file.to_str().unwrap();
    let want = truth_pages(&sim);
    let removed = everything.len() - want.len();
    assert!(
        removed * 2 > everything.len(),
        "the rule removes more than half"
    );

    let out = run_async(&data, &["sync", "--config", path, "--json"], &env).await;
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        said.contains(&format!(
            "this will remove {removed} of {} documents",
            everything.len()
        )),
        "{}",
        text(&out)
    );
    assert!(said.contains("--allow-deletions"), "{said}");
    assert!(!out.status.success(), "refused without the confirmation");
    assert_eq!(json_of(&out)["status"], "failed");
    assert_eq!(
        indexed_ids(&data, "narrowed").await,
        everything,
        "nothing deleted"
    );

    let out = run_async(
        &data,
        &["sync", "--config", path, "--allow-deletions", "--json"],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json_of(&out)["deleted_document_count"], removed);
    assert_eq!(indexed_ids(&data, "narrowed").await, want);
    sim.shutdown().await;
}

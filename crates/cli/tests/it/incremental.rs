//! `sync --kind incremental` from the command line: the first one runs a full sync and says
//! so; the next one fetches only what changed, names its cursor, and picks up an edit.

use connector::config::connector_json;

use crate::connections::{run_async, site, text};
use crate::json_of;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_incremental_syncs_and_names_their_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (sim, config, env) = site("incremental", 21).await;
    let file = dir.path().join("site.json");
    std::fs::write(&file, connector_json::export(&config).to_string()).unwrap();
    let out = run_async(
        &data,
        &[
            "connections",
            "import",
            file.to_str().unwrap(),
            "--name",
            "Wiki",
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));

    let sync = |json: bool| {
        let mut args = vec!["sync", "--connection", "Wiki", "--kind", "incremental"];
        if json {
            args.push("--json");
        }
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let first = run_async(
        &data,
        &sync(false).iter().map(String::as_str).collect::<Vec<_>>(),
        &env,
    )
    .await;
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("ran as a full sync"),
        "{}",
        text(&first)
    );

    let page = sim
        .truth()
        .into_iter()
        .find(|d| d.r#type == "page")
        .unwrap();
    sim.admin()
        .update_page(&page.id, None, Some("<p>edited between syncs</p>"))
        .unwrap();
    let second = run_async(
        &data,
        &sync(true).iter().map(String::as_str).collect::<Vec<_>>(),
        &env,
    )
    .await;
    assert!(second.status.success(), "{}", text(&second));
    let report = json_of(&second);
    assert_eq!(report["job_type"], "incremental", "{report}");
    assert!(report["delta"]["since_literal"].is_string(), "{report}");
    assert!(report["unchanged"].as_u64().unwrap() > 0, "{report}");
    let out = run_async(
        &data,
        &["search", "--index", "incremental", "edited between syncs"],
        &env,
    )
    .await;
    assert!(text(&out).contains(&page.title), "{}", text(&out));
}

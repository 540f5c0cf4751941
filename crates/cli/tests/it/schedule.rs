//! `schedule set|list` and `run-scheduled`: a due schedule runs once, recorded as `scheduled`.

use connector::config::connector_json;
use connector::{JobType, Store};
use serde_json::json;

use crate::connections::{run_async, site, text};
use crate::json_of;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_schedule_runs_through_run_scheduled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (sim, config, env) = site("scheduled", 14).await;
    let file = dir.path().join("site.json");
    std::fs::write(&file, connector_json::export(&config).to_string()).unwrap();
    let out = run_async(
        &data,
        &[
            "connections",
            "import",
            file.to_str().unwrap(),
            "--name",
            "Nightly",
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));

    // Validation names the field and what is expected.
    let out = run_async(
        &data,
        &[
            "schedule", "set", "Nightly", "--kind", "full", "--every", "5s",
        ],
        &[],
    )
    .await;
    assert!(!out.status.success());
    assert!(text(&out).contains("at least 10 s"), "{}", text(&out));
    let out = run_async(
        &data,
        &["schedule", "set", "Nightly", "--cron", "0 3 * *"],
        &[],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a valid cron expression"),
        "{}",
        text(&out)
    );

    let out = run_async(
        &data,
        &[
            "schedule", "set", "Nightly", "--kind", "full", "--every", "15m",
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run_async(
        &data,
        &[
            "schedule",
            "set",
            "Nightly",
            "--kind",
            "access-control",
            "--cron",
            "0 3 * * *",
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let listed = json_of(&run_async(&data, &["schedule", "list", "--json"], &[]).await);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["connection"], "Nightly");
    assert_eq!(listed[0]["job_type"], "full");
    assert_eq!(listed[0]["spec"], "every 15m");
    assert_eq!(listed[1]["job_type"], "access_control");
    assert!(listed[0]["next_run_at"].is_string());

    // Nothing is due yet.
    let out = run_async(&data, &["run-scheduled"], &env).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("No schedule is due."), "{}", text(&out));

    // Make the full sync due, as the clock would.
    {
        let store = Store::open(&data.join("state.sqlite")).unwrap();
        let id = store.list_connections().unwrap()[0].id.clone();
        let past = chrono::Utc::now() - chrono::Duration::minutes(1);
        assert!(store.set_next_run(&id, JobType::Full, past).unwrap());
    }
    let out = run_async(&data, &["run-scheduled"], &env).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Running the scheduled full sync of `Nightly`"),
        "{}",
        text(&out)
    );
    let jobs = json_of(&run_async(&data, &["jobs", "--json"], &[]).await);
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["trigger"], "scheduled");
    assert_eq!(jobs[0]["job_type"], "full");
    assert_eq!(jobs[0]["status"], "completed");
    assert_eq!(
        jobs[0]["counters"]["indexed_document_count"],
        json!(sim.truth().len())
    );

    // It moved on: the next run is in the future, the last one recorded.
    let listed = json_of(&run_async(&data, &["schedule", "list", "Nightly", "--json"], &[]).await);
    assert!(listed[0]["last_run_at"].is_string(), "{listed}");
    let out = run_async(&data, &["run-scheduled"], &env).await;
    assert!(text(&out).contains("No schedule is due."), "{}", text(&out));

    // A failing due job makes the exit code non-zero (no secrets in the environment).
    {
        let store = Store::open(&data.join("state.sqlite")).unwrap();
        let id = store.list_connections().unwrap()[0].id.clone();
        let past = chrono::Utc::now() - chrono::Duration::minutes(1);
        store.set_next_run(&id, JobType::Full, past).unwrap();
    }
    let out = run_async(&data, &["run-scheduled"], &[]).await;
    assert!(!out.status.success(), "{}", text(&out));
    sim.shutdown().await;
}

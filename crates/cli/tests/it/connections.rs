//! `connections import|list|show|export|delete`, and `sync --connection` with the connection's
//! active rules, then `acl user` after its access-control sync.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use confluence_sim::{Flavor, RunningSim, SimOptions, SiteSize};
use connector::config::{ConnectorConfig, Target, connector_json};
use connector::rules::RuleSet;
use connector::sink::{LocalIndex, SearchRequest, Sink};
use serde_json::{Value, json};

use crate::{json_of, run};

/// Runs the binary off the async runtime (the simulator serves on it meanwhile).
pub async fn run_async(data_dir: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let data_dir = data_dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&data_dir, &args, &env)
    })
    .await
    .unwrap()
}

/// Standard output and error, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A tiny simulated Server site with document-level security on, its configuration (local
/// index `index`) and the environment that carries its secrets.
pub async fn site(index: &str, seed: u64) -> (RunningSim, ConnectorConfig, Vec<(String, String)>) {
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::Server,
        size: SiteSize::Tiny,
        seed,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let (mut config, secrets) = connector_sandbox::config_for(&sim);
    config.use_document_level_security = true;
    config.target = Target::Local {
        index_name: index.to_owned(),
    };
    let env = secrets
        .fields()
        .map(|f| (f.env_var().to_owned(), secrets.get(f).unwrap().to_owned()))
        .collect();
    (sim, config, env)
}

/// Basic rules that keep pages only: exclude every other type (documents are included by
/// default).
pub fn pages_only() -> Value {
    json!([
        {"id": "no-others", "order": 1, "policy": "exclude", "field": "type", "rule": "regex",
         "value": "^(space|blogpost|attachment|comment)$"},
        {"id": "DEFAULT", "order": 2, "policy": "include", "field": "_", "rule": "regex", "value": ".*"}
    ])
}

/// Elastic's `filtering` block with `basic` rules and an `advanced` snippet.
pub fn filtering(basic: Value, advanced: Value) -> Value {
    let version = json!({"rules": basic, "advanced_snippet": {"value": advanced}});
    json!([{"domain": "DEFAULT", "active": version, "draft": version}])
}

/// The ids in local index `index` of `data_dir`.
pub async fn indexed_ids(data_dir: &Path, index: &str) -> BTreeSet<String> {
    let path = connector::target::local_index_path(data_dir, index);
    if !path.exists() {
        return BTreeSet::new();
    }
    let index = LocalIndex::open(&path).unwrap();
    index.refresh().await.unwrap();
    let total = index.count().await.unwrap() as usize;
    let page = index
        .search(&SearchRequest {
            size: total.max(1),
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    page.hits.into_iter().map(|h| h.id).collect()
}

/// The ids of the simulator's pages.
pub fn truth_pages(sim: &RunningSim) -> BTreeSet<String> {
    sim.truth()
        .into_iter()
        .filter(|t| t.r#type == "page")
        .map(|t| t.id)
        .collect()
}

fn write(dir: &Path, name: &str, doc: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path
}

#[test]
fn import_list_show_export_delete_round_trip_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = ConnectorConfig {
        data_source: connector::config::DataSource::ConfluenceCloud,
        confluence_url: "https://acme.atlassian.net".into(),
        account_email: "ann@acme.test".into(),
        spaces: vec!["ENG".into(), "OPS".into()],
        deletion_threshold_percent: 70,
        target: Target::Local {
            index_name: "acme".into(),
        },
        ..ConnectorConfig::default()
    };
    config.http.max_concurrent_requests = 7;
    config.extraction.max_text_bytes = 4321;
    let mut doc = connector_json::export(&config);
    doc["filtering"] = filtering(
        pages_only(),
        json!([{"query": "space = ENG and type = page"}]),
    );
    doc["configuration"]["api_token"]["value"] = json!("tok-imported-secret");
    let file = write(dir.path(), "acme.json", &doc);

    let out = run(
        &data,
        &[
            "connections",
            "import",
            file.to_str().unwrap(),
            "--name",
            "Acme",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Imported"), "{stdout}");
    assert!(stdout.contains("1 basic, 1 advanced"), "{stdout}");

    // The same name twice is refused.
    let again = run(
        &data,
        &[
            "connections",
            "import",
            file.to_str().unwrap(),
            "--name",
            "acme",
        ],
        &[],
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("exists already"), "{}", text(&again));

    let list = json_of(&run(&data, &["connections", "list", "--json"], &[]));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Acme");
    assert_eq!(list[0]["data_source"], "confluence_cloud");
    let plain = run(&data, &["connections", "list"], &[]);
    assert!(String::from_utf8_lossy(&plain.stdout).contains("Acme"));

    let show = json_of(&run(&data, &["connections", "show", "acme", "--json"], &[]));
    assert_eq!(show["name"], "Acme");
    let shown: ConnectorConfig = serde_json::from_value(show["config"].clone()).unwrap();
    assert_eq!(shown, config);
    assert_eq!(show["rules"]["state"], "active");
    let human = run(&data, &["connections", "show", "Acme"], &[]);
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains("active rules (version 1): 1 basic, 1 advanced"),
        "{human}"
    );
    assert!(
        human.contains("CQL: space = ENG and type = page"),
        "{human}"
    );

    let exported = dir.path().join("exported.json");
    let out = run(
        &data,
        &[
            "connections",
            "export",
            "Acme",
            "--output",
            exported.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let text_out = std::fs::read_to_string(&exported).unwrap();
    assert!(!text_out.contains("tok-imported-secret"), "{text_out}");
    let back: Value = serde_json::from_str(&text_out).unwrap();
    assert_eq!(back["name"], "Acme");
    assert_eq!(back["configuration"]["api_token"]["value"], "");
    assert_eq!(
        connector_json::import_value(&back).unwrap().config,
        config,
        "hidden settings survive the export"
    );
    let rules = RuleSet::from_value(&back["filtering"]).unwrap();
    assert_eq!(rules, RuleSet::from_value(&doc["filtering"]).unwrap());
    let stdout_export = run(&data, &["connections", "export", "Acme"], &[]);
    let from_stdout: Value = serde_json::from_slice(&stdout_export.stdout).unwrap();
    assert_eq!(from_stdout, back);

    // An unknown name lists the known ones.
    let missing = run(&data, &["connections", "show", "Nope"], &[]);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("`Acme`"), "{}", text(&missing));

    let out = run(&data, &["connections", "delete", "Acme"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let list = json_of(&run(&data, &["connections", "list", "--json"], &[]));
    assert_eq!(list, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_connection_applies_the_active_rules_and_acl_user_works_after_its_access_control_sync()
{
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (sim, config, env) = site("conn", 11).await;
    let mut doc = connector_json::export(&config);
    doc["filtering"] = filtering(pages_only(), json!([]));
    let file = write(dir.path(), "site.json", &doc);
    let out = run_async(
        &data,
        &[
            "connections",
            "import",
            file.to_str().unwrap(),
            "--name",
            "Site",
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));

    let out = run_async(&data, &["sync", "--connection", "Site", "--json"], &env).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("applying 1 basic rules and 0 advanced rules (the active rules of `Site`)"),
        "{}",
        text(&out)
    );
    let summary = json_of(&out);
    assert_eq!(summary["status"], "completed");
    let want = truth_pages(&sim);
    assert!(!want.is_empty());
    assert_eq!(indexed_ids(&data, "conn").await, want);

    let jobs = json_of(&run_async(&data, &["jobs", "--json"], &[]).await);
    assert!(jobs[0]["connection_id"].is_string(), "{jobs}");
    assert_eq!(jobs[0]["rules"]["basic"].as_array().unwrap().len(), 2);

    let out = run_async(
        &data,
        &["sync", "--connection", "Site", "--kind", "access-control"],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let crawler = sim.credentials().username.unwrap();
    let user = json_of(&run_async(&data, &["acl", "user", &crawler, "--json"], &[]).await);
    assert_eq!(user["name"], crawler.as_str());
    assert!(!user["readable"].as_array().unwrap().is_empty(), "{user}");
    let user = json_of(
        &run_async(
            &data,
            &["acl", "user", &crawler, "--connection", "Site", "--json"],
            &[],
        )
        .await,
    );
    assert_eq!(user["name"], crawler.as_str());
    let unknown = run_async(&data, &["acl", "user", "nobody-at-all"], &[]).await;
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("the last access-control sync listed:"),
        "{}",
        text(&unknown)
    );
    sim.shutdown().await;
}

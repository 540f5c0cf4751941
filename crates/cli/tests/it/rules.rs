//! `rules validate` and `rules preview`, run as a user would.

use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize};
use connector::config::connector_json;
use connector_sandbox::Sandbox;

use crate::{json_of, run};

#[test]
fn validate_points_at_each_problem_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.json");
    std::fs::write(
        &file,
        r#"{"basic": [{"id": "all", "order": 1, "policy": "include", "field": "title", "rule": "regex", "value": ".*"}],
            "advanced": [{"query": "space = ENG"}, {"query": "type = page and status = current"}]}"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = run(dir.path(), &["rules", "validate", path], &[]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error: basic rule `all`: "), "{text}");
    assert!(
        text.contains("error: advanced rule 2: No field exists with the name: 'status'"),
        "{text}"
    );
    // Where, counted as an editor counts columns: from 1, not "position 16".
    assert!(
        text.contains("(at character 17)\n") && !text.contains("position"),
        "{text}"
    );
    assert!(
        text.contains("  type = page and status = current\n                  ^^^^^^\n"),
        "{text}"
    );
    assert!(text.contains("suggestion: space"), "{text}");

    let out = run(dir.path(), &["rules", "validate", path, "--json"], &[]);
    let v = json_of(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][1]["cql"]["kind"], "unknown_field");
    assert_eq!(v["problems"][1]["cql"]["start"], 16);

    std::fs::write(
        &file,
        r#"[{"query": "type = page ORDER BY lastmodified DESC"}]"#,
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["rules", "validate", path, "--flavor", "data-center"],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("The rules are valid: 0 basic, 1 advanced.")
    );

    // Schema problems of the reference's validator.
    std::fs::write(&file, r#"[{"queries": "type = page"}]"#).unwrap();
    let out = run(dir.path(), &["rules", "validate", path], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("unknown key `queries`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_and_remote_validation_against_the_simulator() {
    let sandbox = Sandbox::start(SimOptions {
        flavor: Flavor::DataCenter,
        size: SiteSize::Tiny,
        data_center_auth: DcAuth::Basic,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("connector.json");
    std::fs::write(&config, connector_json::export(&sandbox.config).to_string()).unwrap();
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"{"advanced": [{"query": "type = page"}, {"query": "space = NOSUCHSPACE"}]}"#,
    )
    .unwrap();
    let env: Vec<(String, String)> = sandbox
        .secrets
        .fields()
        .map(|f| {
            (
                f.env_var().to_owned(),
                sandbox.secrets.get(f).unwrap().to_owned(),
            )
        })
        .collect();
    let (config, rules, data) = (
        config.to_str().unwrap().to_owned(),
        rules.to_str().unwrap().to_owned(),
        dir.path().to_owned(),
    );
    let (preview, remote) = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        (
            run(
                &data,
                &[
                    "rules", "preview", &rules, "--config", &config, "--json", "--limit", "3",
                ],
                &env,
            ),
            run(
                &data,
                &["rules", "validate", &rules, "--config", &config, "--remote"],
                &env,
            ),
        )
    })
    .await
    .unwrap();
    let v = json_of(&preview);
    let pages = sandbox
        .sim
        .truth()
        .iter()
        .filter(|t| t.r#type == "page")
        .count();
    assert_eq!(v["rules"][0]["total"], pages);
    assert_eq!(v["rules"][0]["items"].as_array().unwrap().len(), 3);
    assert!(
        v["rules"][1]["error"]
            .as_str()
            .unwrap()
            .contains("parameters should not be empty")
    );
    assert!(
        !preview.status.success(),
        "a rule Confluence refuses fails the preview"
    );
    let text = String::from_utf8_lossy(&remote.stdout);
    assert!(!remote.status.success());
    assert!(
        text.contains("advanced rule 2: Confluence refused the query"),
        "{text}"
    );
    sandbox.shutdown().await;
}

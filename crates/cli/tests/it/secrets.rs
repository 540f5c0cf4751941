//! Secrets never reach logs, SQLite, local indices or exports.

use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize};
use connector::config::{SecretField, Target, connector_json};
use connector_sandbox::Sandbox;

use crate::run;

/// Every byte of every file under `dir`.
fn all_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

async fn no_secret_leaks(flavor: Flavor, dc_auth: DcAuth) {
    let sandbox = Sandbox::start(SimOptions {
        flavor,
        size: SiteSize::Tiny,
        data_center_auth: dc_auth,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let secrets: Vec<(SecretField, String)> = sandbox
        .secrets
        .fields()
        .map(|f| (f, sandbox.secrets.get(f).unwrap().to_owned()))
        .collect();
    assert!(!secrets.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = sandbox.config.clone();
    config.target = Target::Local {
        index_name: "leak-check".into(),
    };
    let export = connector_json::export(&config).to_string();
    let config_path = dir.path().join("connector.json");
    std::fs::write(&config_path, &export).unwrap();

    let env_owned: Vec<(String, String)> = secrets
        .iter()
        .map(|(f, v)| (f.env_var().to_owned(), v.clone()))
        .chain([("CONFLUENCE_CONNECTOR_LOG".to_owned(), "trace".to_owned())])
        .collect();
    let config_arg = config_path.to_str().unwrap().to_owned();
    let data_dir = data.clone();
    let outputs = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env_owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vec![
            run(&data_dir, &["sync", "--config", &config_arg], &env),
            run(
                &data_dir,
                &["sync", "--config", &config_arg, "--json"],
                &env,
            ),
            run(
                &data_dir,
                &["validate", "--remote", "--config", &config_arg],
                &env,
            ),
            run(&data_dir, &["jobs", "--json"], &env),
        ]
    })
    .await
    .unwrap();
    assert!(
        outputs[0].status.success(),
        "{}",
        String::from_utf8_lossy(&outputs[0].stderr)
    );
    assert!(
        outputs[2].status.success(),
        "{}",
        String::from_utf8_lossy(&outputs[2].stdout)
    );
    // The trace logs really were written, so their scan means something.
    assert!(
        outputs[0].stderr.len() > 1000,
        "expected trace logs on stderr"
    );

    let mut haystacks: Vec<(String, Vec<u8>)> = vec![("export".into(), export.into_bytes())];
    for (i, out) in outputs.iter().enumerate() {
        haystacks.push((format!("stdout of run {i}"), out.stdout.clone()));
        haystacks.push((format!("stderr of run {i}"), out.stderr.clone()));
    }
    haystacks.extend(all_files(&data));
    assert!(
        haystacks
            .iter()
            .any(|(name, _)| name.ends_with("state.sqlite"))
    );
    assert!(
        haystacks
            .iter()
            .any(|(name, _)| name.ends_with("leak-check.sqlite"))
    );
    for (field, secret) in &secrets {
        for (name, bytes) in &haystacks {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "the {} secret leaked into {name}", field.key());
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_api_token_never_leaks() {
    no_secret_leaks(Flavor::Cloud, DcAuth::Basic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_password_never_leaks() {
    no_secret_leaks(Flavor::DataCenter, DcAuth::Basic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_personal_access_token_never_leaks() {
    no_secret_leaks(Flavor::DataCenter, DcAuth::Pat).await;
}

/// A desktop without an OS keyring: the vault fails every read and write, as the Secret
/// Service's absence does.
struct NoKeyring;
impl connector::connections::SecretVault for NoKeyring {
    fn for_connection(&self, id: &str) -> Box<dyn connector::config::SecretStore> {
        Box::new(NoKeyringStore(id.to_owned()))
    }
}
struct NoKeyringStore(String);
impl connector::config::SecretSource for NoKeyringStore {
    fn secret(&self, field: SecretField) -> Result<Option<String>, connector::config::ConfigError> {
        Err(connector::config::keyring_unavailable(
            &self.0,
            field,
            "read",
            "no Secret Service",
        ))
    }
}
impl connector::config::SecretStore for NoKeyringStore {
    fn store(&self, field: SecretField, _: &str) -> Result<(), connector::config::ConfigError> {
        connector::config::SecretSource::secret(self, field).map(|_| ())
    }
    fn delete(&self, field: SecretField) -> Result<(), connector::config::ConfigError> {
        connector::config::SecretSource::secret(self, field).map(|_| ())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reading_its_own_variables_saves_without_a_keyring_and_syncs_with_them() {
    use crate::connections::{indexed_ids, run_async, site, text, truth_pages};
    use connector::connections::{self, SaveRequest};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (sim, mut config, env) = site("env-secrets", 5).await;
    config.use_document_level_security = false;
    config.secrets_from_env = true;
    config.secrets_env_name = "ACME_WIKI".into();
    // Saved the way the app saves it, with a keyring that fails if it is touched at all.
    {
        let store = connector::Store::open(&data.join("state.sqlite")).unwrap();
        let request = SaveRequest {
            id: None,
            name: "Acme wiki".into(),
            config,
            secrets: vec![],
        };
        connections::save(&store, &NoKeyring, &request).unwrap();
    }
    // Only the connection's own variables carry the simulator's credentials.
    let own: Vec<(String, String)> = env
        .iter()
        .map(|(var, value)| {
            let field = SecretField::ALL
                .into_iter()
                .find(|f| f.env_var() == var)
                .unwrap();
            (field.connection_env_var("ACME_WIKI"), value.clone())
        })
        .collect();
    assert!(
        own.iter()
            .any(|(var, _)| var == "CONFLUENCE_CONNECTOR_ACME_WIKI_PASSWORD"),
        "{own:?}"
    );

    // Without them: refused, naming the variable to set.
    let out = run_async(&data, &["sync", "--connection", "Acme wiki"], &[]).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("CONFLUENCE_CONNECTOR_ACME_WIKI_PASSWORD"),
        "{}",
        text(&out)
    );

    // With them: a complete sync of the site.
    let out = run_async(&data, &["sync", "--connection", "Acme wiki"], &own).await;
    assert!(out.status.success(), "{}", text(&out));
    let indexed = indexed_ids(&data, "env-secrets").await;
    let pages = truth_pages(&sim);
    assert!(
        !pages.is_empty() && pages.is_subset(&indexed),
        "{indexed:?}"
    );
    // Nothing secret was written anywhere in the data folder.
    for (name, bytes) in all_files(&data) {
        for (_, secret) in &own {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "a secret reached {name}");
        }
    }
    sim.shutdown().await;
}

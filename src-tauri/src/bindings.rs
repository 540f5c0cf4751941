//! The TypeScript bindings of every type the UI receives, checked against the committed files.
//!
//! `cargo test -p confluence-desktop` fails when `ui/src/api/bindings/` is stale; run it with
//! `UPDATE_BINDINGS=1` to regenerate the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

/// Exports `T` and everything it refers to into `dir`.
fn export<T: TS + 'static>(cfg: &Config) {
    T::export_all(cfg).expect("exporting TypeScript bindings");
}

/// Every type that crosses the IPC boundary.
fn export_everything(dir: &Path) {
    let cfg = Config::new().with_out_dir(dir);
    export::<crate::CommandError>(&cfg);
    export::<connector::ConnectionSummary>(&cfg);
    export::<connector::JobRecord>(&cfg);
    export::<connector::check::Check>(&cfg);
    export::<connector::config::FieldError>(&cfg);
    export::<connector::events::SyncEvent>(&cfg);
    export::<crate::dto::ConfigForm>(&cfg);
    export::<crate::dto::ConnectionForm>(&cfg);
    export::<crate::dto::ConnectionDraft>(&cfg);
    export::<crate::dto::TestResult>(&cfg);
    export::<crate::dto::ImportedForm>(&cfg);
    export::<crate::dto::SyncKinds>(&cfg);
    export::<crate::dto::RunningSync>(&cfg);
    export::<crate::dto::SyncEventMessage>(&cfg);
    export::<crate::dto::SyncFinished>(&cfg);
    export::<crate::dto::DeletionCheck>(&cfg);
    export::<connector::schedule::Schedule>(&cfg);
    export::<crate::dto::DocumentQuery>(&cfg);
    export::<crate::dto::DocumentPage>(&cfg);
    export::<crate::dto::AclUser>(&cfg);
    export::<connector::acl::UserAccess>(&cfg);
    export::<connector::acl::DocExplanation>(&cfg);
    export::<connector::acl::AccessDiff>(&cfg);
    export::<crate::dto::RulesState>(&cfg);
    export::<connector::rules::RuleSet>(&cfg);
    export::<connector::rules::RuleValidation>(&cfg);
    export::<connector::rules::Preview>(&cfg);
    export::<connector::rules::cql::EditorToken>(&cfg);
    export::<connector::rules::cql::Completion>(&cfg);
    export::<connector::rules::cql::CqlProblem>(&cfg);
    export::<crate::commands::settings::AppSettings>(&cfg);
}

/// Every `.ts` file under `dir`, by its path relative to `dir` (ts-rs puts `serde_json::Value`
/// in a `serde_json/` subfolder).
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|ext| ext == "ts") {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn typescript_bindings_are_up_to_date() {
    let committed_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/src/api/bindings");
    let fresh = tempfile::tempdir().unwrap();
    export_everything(fresh.path());
    let fresh = read_dir(fresh.path());
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed_dir);
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &fresh {
            let path = committed_dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
    let committed = read_dir(&committed_dir);
    assert!(
        committed == fresh,
        "ui/src/api/bindings is stale: run `UPDATE_BINDINGS=1 cargo test -p confluence-desktop bindings`"
    );
}

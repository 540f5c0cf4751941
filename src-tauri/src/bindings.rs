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
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "ts"))
                .map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(entry.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default()
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
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
    }
    let committed = read_dir(&committed_dir);
    assert!(
        committed == fresh,
        "ui/src/api/bindings is stale: run `UPDATE_BINDINGS=1 cargo test -p confluence-desktop bindings`"
    );
}

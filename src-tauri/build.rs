fn main() {
    // The app crate is the root package so that `tauri.conf.json` and `icons/` sit at the
    // repository root; its capabilities live beside its sources.
    let manifest = tauri_build::AppManifest::new().commands(&["list_connections"]);
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(manifest),
    )
    .expect("tauri-build failed");
}

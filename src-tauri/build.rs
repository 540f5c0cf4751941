fn main() {
    // The app crate is the root package so that `tauri.conf.json` and `icons/` sit at the
    // repository root; its capabilities live beside its sources.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_connections",
        "create_sandbox_connection",
        "duplicate_connection",
        "delete_connection",
        "config_form",
        "load_connection",
        "validate_connection",
        "test_connection",
        "es_role_request",
        "save_connection",
        "import_connector_json",
        "export_connector_json",
        "sync_kinds",
        "start_sync",
        "cancel_sync",
        "running_syncs",
        "list_jobs",
        "deletion_preview",
        "list_schedules",
        "save_schedule",
        "search_documents",
        "get_document",
        "acl_users",
        "acl_user_access",
        "acl_explain_document",
        "acl_diff",
        "load_rules",
        "save_draft_rules",
        "validate_rules",
        "activate_rules",
        "revert_rules",
        "cql_tokens",
        "cql_problems",
        "cql_complete",
        "preview_rules",
        "app_settings",
        "open_log_folder",
    ]);
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(manifest),
    )
    .expect("tauri-build failed");
}

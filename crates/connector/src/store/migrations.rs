//! Schema migrations, applied in order and recorded in SQLite's `user_version`.

use rusqlite::Connection;

/// Each entry moves the schema one version forward. Never edit a released entry: add a new one.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE connections (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        data_source TEXT NOT NULL,
        created_at TEXT NOT NULL
    );",
    "CREATE TABLE sync_jobs (
        id TEXT PRIMARY KEY,
        connection_id TEXT REFERENCES connections(id) ON DELETE CASCADE,
        job_type TEXT NOT NULL,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration_s REAL,
        requests INTEGER NOT NULL DEFAULT 0,
        counters TEXT NOT NULL,
        errors TEXT NOT NULL,
        config TEXT NOT NULL,
        rules TEXT NOT NULL
    );
    CREATE INDEX sync_jobs_by_connection ON sync_jobs (connection_id, started_at);",
    // The full configuration of a connection (without secrets), and whether it is the sandbox.
    "ALTER TABLE connections ADD COLUMN config TEXT;
    ALTER TABLE connections ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0;",
    // Document-level security: per-job snapshots of every document's access (and how it was
    // derived) and of every user's identities, deduplicated through `acl_blobs`.
    "CREATE TABLE acl_blobs (
        id INTEGER PRIMARY KEY,
        body TEXT NOT NULL UNIQUE
    );
    CREATE TABLE acl_doc_snapshots (
        job_id TEXT NOT NULL REFERENCES sync_jobs(id) ON DELETE CASCADE,
        doc_id TEXT NOT NULL,
        access INTEGER NOT NULL REFERENCES acl_blobs(id),
        derivation INTEGER NOT NULL REFERENCES acl_blobs(id),
        PRIMARY KEY (job_id, doc_id)
    ) WITHOUT ROWID;
    CREATE INDEX acl_doc_snapshots_by_doc ON acl_doc_snapshots (doc_id);
    CREATE TABLE acl_user_snapshots (
        job_id TEXT NOT NULL REFERENCES sync_jobs(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        identities INTEGER NOT NULL REFERENCES acl_blobs(id),
        PRIMARY KEY (job_id, user_id)
    ) WITHOUT ROWID;",
    // Sync rules of a connection: a draft and the active version.
    "CREATE TABLE rule_sets (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('draft', 'active')),
        version INTEGER NOT NULL,
        rules TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (connection_id, state)
    );",
    // One sync per connection at a time, across processes: the holder's job, process and host,
    // and a heartbeat that tells a live holder from a dead one.
    "CREATE TABLE sync_leases (
        key TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        job_type TEXT NOT NULL,
        connection_id TEXT,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL
    );
    ALTER TABLE sync_jobs ADD COLUMN scope_key TEXT;",
    // Documents that failed (download, extraction, rejected by the target), retried next run.
    "CREATE TABLE failed_documents (
        scope_key TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        failed_at TEXT NOT NULL,
        PRIMARY KEY (scope_key, doc_id)
    ) WITHOUT ROWID;",
    // Schedules per connection and kind of sync, as in Kibana: an interval or a cron expression.
    "CREATE TABLE schedules (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        job_type TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        spec TEXT NOT NULL,
        next_run_at TEXT,
        last_run_at TEXT,
        PRIMARY KEY (connection_id, job_type)
    );",
    // Incremental syncs: the cursor each job used and its notes; what every document of a
    // connection looks like in the index (version, hashes of its metadata, text and access), so
    // that unchanged documents are neither downloaded nor written again.
    "ALTER TABLE sync_jobs ADD COLUMN delta TEXT;
    ALTER TABLE sync_jobs ADD COLUMN notes TEXT;
    CREATE TABLE indexed_docs (
        scope_key TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        space_key TEXT,
        unit TEXT,
        version INTEGER,
        meta_hash INTEGER NOT NULL,
        body_hash INTEGER NOT NULL,
        acl_hash INTEGER NOT NULL,
        place_hash INTEGER NOT NULL,
        PRIMARY KEY (scope_key, doc_id)
    ) WITHOUT ROWID;
    CREATE INDEX indexed_docs_unit ON indexed_docs (scope_key, unit);
    CREATE TABLE index_manifests (
        scope_key TEXT PRIMARY KEY,
        target TEXT NOT NULL
    );",
    // Where the next incremental sync of a connection starts.
    "CREATE TABLE sync_cursors (
        scope_key TEXT PRIMARY KEY,
        since TEXT NOT NULL,
        job_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL
    );",
    // The groups whose members that sync listed: the next incremental lists them at its start.
    "ALTER TABLE sync_cursors ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';",
    // The reconciliation's listings of that sync: the next incremental starts them at once.
    "ALTER TABLE sync_cursors ADD COLUMN listings TEXT NOT NULL DEFAULT '[]';",
];

pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}

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

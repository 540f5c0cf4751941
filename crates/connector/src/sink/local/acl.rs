//! The local index's identity documents (the `.search-acl-filter-<index>` of the embedded
//! index): one table in the same SQLite file, `acl_identities (id, body)`.

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::LocalIndex;
use crate::Result;
use crate::sink::{BulkOutcome, SearchRequest, SinkError};

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS acl_identities (id TEXT PRIMARY KEY, body TEXT NOT NULL);";

impl LocalIndex {
    /// Creates or replaces identity documents `(user id, body)`.
    pub async fn upsert_identities(&self, docs: Vec<(String, Value)>) -> Result<BulkOutcome> {
        self.run(move |conn| {
            conn.execute_batch(SCHEMA)?;
            let tx = conn.transaction()?;
            let mut outcome = BulkOutcome::default();
            for (id, body) in &docs {
                let text = body.to_string();
                outcome.bytes += text.len() as u64;
                let existed: bool = tx
                    .query_row("SELECT 1 FROM acl_identities WHERE id = ?1", [id], |_| {
                        Ok(true)
                    })
                    .optional()?
                    .unwrap_or(false);
                tx.execute(
                    "INSERT INTO acl_identities (id, body) VALUES (?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                    params![id, text],
                )?;
                if existed {
                    outcome.updated += 1;
                } else {
                    outcome.created += 1;
                }
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    /// Deletes identity documents; a missing id is not an error.
    pub async fn delete_identities(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        self.run(move |conn| {
            conn.execute_batch(SCHEMA)?;
            let tx = conn.transaction()?;
            let mut outcome = BulkOutcome::default();
            for id in &ids {
                outcome.deleted +=
                    tx.execute("DELETE FROM acl_identities WHERE id = ?1", [id])? as u64;
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    /// Every identity document as `(id, body)`, in id order.
    pub async fn identities(&self) -> Result<Vec<(String, Value)>> {
        self.run(|conn| {
            conn.execute_batch(SCHEMA)?;
            let mut stmt = conn.prepare("SELECT id, body FROM acl_identities ORDER BY id")?;
            let rows = stmt.query_map([], |row| {
                let body: String = row.get(1)?;
                Ok((
                    row.get::<_, String>(0)?,
                    serde_json::from_str(&body).unwrap_or(Value::Null),
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// The ids of every document the holder of `identities` may read, with the semantics of the
    /// reference's search template (no `_allow_access_control`, or one shared identity).
    pub async fn readable_ids(&self, identities: Vec<String>) -> Result<Vec<String>> {
        self.run(move |conn| {
            let mut ids = Vec::new();
            let mut from = 0;
            loop {
                let page = super::search_blocking(
                    conn,
                    &SearchRequest {
                        from,
                        size: 1000,
                        access_control: Some(identities.clone()),
                        ..SearchRequest::default()
                    },
                )?;
                let n = page.hits.len();
                ids.extend(page.hits.into_iter().map(|h| h.id));
                if n < 1000 {
                    return Ok::<_, SinkError>(ids);
                }
                from += n;
            }
        })
        .await
    }
}

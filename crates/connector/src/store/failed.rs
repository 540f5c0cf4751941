//! Documents that failed in a sync (a download, an extraction, a rejection by the target),
//! remembered per connection so the job history can show them and the next run retries them.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
use crate::Result;

/// A document that failed, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FailedDocument {
    /// The document id.
    pub doc_id: String,
    /// The job in which it last failed.
    pub job_id: String,
    /// What went wrong.
    pub reason: String,
    /// When, RFC 3339.
    pub failed_at: String,
}

impl Store {
    /// Records the documents that failed in job `job_id`. With `whole` (the job crawled
    /// everything in scope), the list replaces what failed before: a document that did not
    /// fail this time succeeded. Otherwise the failures are added.
    pub fn record_failed_documents(
        &self,
        scope_key: &str,
        job_id: &str,
        failed: &[(String, String)],
        whole: bool,
    ) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        if whole {
            tx.execute(
                "DELETE FROM failed_documents WHERE scope_key = ?1",
                [scope_key],
            )?;
        }
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO failed_documents (scope_key, doc_id, job_id, reason, failed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (id, reason) in failed {
                stmt.execute(params![scope_key, id, job_id, reason, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The documents of `scope_key` (a connection id or a target key) that failed in their
    /// latest sync, most recent first.
    pub fn failed_documents(&self, scope_key: &str, limit: usize) -> Result<Vec<FailedDocument>> {
        let mut stmt = self.conn.prepare(
            "SELECT doc_id, job_id, reason, failed_at FROM failed_documents WHERE scope_key = ?1
             ORDER BY failed_at DESC, doc_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![scope_key, limit as i64], |r| {
            Ok(FailedDocument {
                doc_id: r.get(0)?,
                job_id: r.get(1)?,
                reason: r.get(2)?,
                failed_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_run_replaces_the_failures_and_a_partial_one_adds_to_them() {
        let store = Store::open_in_memory().unwrap();
        let f = |id: &str| (id.to_owned(), "download failed".to_owned());
        store
            .record_failed_documents("c1", "j1", &[f("a"), f("b")], true)
            .unwrap();
        store
            .record_failed_documents("c1", "j2", &[f("c")], false)
            .unwrap();
        assert_eq!(store.failed_documents("c1", 10).unwrap().len(), 3);
        store
            .record_failed_documents("c1", "j3", &[f("b")], true)
            .unwrap();
        let now: Vec<String> = store
            .failed_documents("c1", 10)
            .unwrap()
            .into_iter()
            .map(|d| d.doc_id)
            .collect();
        assert_eq!(now, ["b"]);
        assert!(store.failed_documents("c2", 10).unwrap().is_empty());
    }
}

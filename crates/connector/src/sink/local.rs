//! [`LocalIndex`]: the embedded local index for demos and dry runs, in one SQLite file.
//!
//! Tables: `docs` (id, space key, type, timestamp, the JSON body), `doc_acl` (one row per
//! identity of a document's `_allow_access_control`, so the access filter is an indexed lookup),
//! and `docs_fts`, an FTS5 table over title, body, labels, space, comments and the rest of the
//! searchable text (key, ancestor titles), ranked with bm25. Access control has Elasticsearch's
//! semantics: a document without `_allow_access_control` (or with an empty list, which
//! Elasticsearch cannot tell from a missing field) is readable by everybody; otherwise by the
//! identities it lists.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::Value;

use super::{
    BulkOutcome, ExistingDoc, IndexDoc, ScanVisitor, SearchHit, SearchPage, SearchRequest,
};
use super::{Sink, SinkError};
use crate::Result;

mod acl;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    space_key TEXT,
    type TEXT,
    timestamp TEXT,
    source TEXT NOT NULL,
    has_acl INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_type ON docs(type);
CREATE INDEX IF NOT EXISTS docs_space_key ON docs(space_key);
CREATE TABLE IF NOT EXISTS doc_acl (
    identity TEXT NOT NULL,
    doc INTEGER NOT NULL REFERENCES docs(seq) ON DELETE CASCADE,
    PRIMARY KEY (identity, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_acl_doc ON doc_acl(doc);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, body, labels, space, comments, extra,
    tokenize = 'unicode61 remove_diacritics 2'
);
";

/// The bm25 weights of the `docs_fts` columns, in order; the same boosts as the Elasticsearch
/// query (title 3, labels 2, the rest 1).
const BM25: &str = "bm25(docs_fts, 3.0, 1.0, 2.0, 1.0, 1.0, 1.0)";

/// The embedded local index: one SQLite file (FTS5 compiled in by rusqlite's `bundled`).
///
/// Every call runs on tokio's blocking pool (`spawn_blocking`): a batch of 500 documents with
/// their full-text rows takes tens of milliseconds, long enough to stall the crawler's HTTP tasks
/// if it ran on an async worker. The `Mutex` serialises access to the one connection; it is
/// never held across an `.await`.
#[derive(Clone)]
pub struct LocalIndex {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for LocalIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIndex")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalIndex {
    /// Opens (creating if needed) the index file at `path`, and its parent directory.
    pub fn open(path: impl AsRef<Path>) -> Result<LocalIndex> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| {
                SinkError::Options(format!("cannot create `{}`: {err}", parent.display()))
            })?;
        }
        let conn = Connection::open(path).map_err(SinkError::from)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(SinkError::from)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(SinkError::from)?;
        // The app's documents browser and a CLI sync may use the same index: a reader or
        // writer waits for the other instead of failing with "database is locked".
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(SinkError::from)?;
        Self::with_connection(conn, Some(path.to_owned()))
    }

    /// An index that lives in memory only (for tests and throwaway dry runs).
    pub fn open_in_memory() -> Result<LocalIndex> {
        let conn = Connection::open_in_memory().map_err(SinkError::from)?;
        Self::with_connection(conn, None)
    }

    fn with_connection(conn: Connection, path: Option<PathBuf>) -> Result<LocalIndex> {
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(SinkError::from)?;
        conn.execute_batch(SCHEMA).map_err(SinkError::from)?;
        Ok(LocalIndex {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// The file this index lives in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Removes every document.
    pub async fn clear(&self) -> Result<()> {
        self.run(|conn| {
            conn.execute_batch("DELETE FROM doc_acl; DELETE FROM docs_fts; DELETE FROM docs;")?;
            Ok(())
        })
        .await
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, SinkError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| SinkError::Task("the local index lock is poisoned".to_owned()))?;
            work(&mut conn)
        })
        .await;
        Ok(joined.map_err(|err| SinkError::Task(err.to_string()))??)
    }
}

/// The searchable text of a JSON value: strings as they are, arrays and objects flattened.
fn text_of(value: &Value) -> String {
    fn collect(value: &Value, out: &mut String) {
        match value {
            Value::String(text) => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(text);
            }
            Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
            Value::Object(fields) => fields.values().for_each(|item| collect(item, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    collect(value, &mut out);
    out
}

/// The identities of a document's `_allow_access_control` (empty when it has none).
fn identities_of(source: &Value) -> Vec<String> {
    match &source["_allow_access_control"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Writes `doc`; returns whether it existed before, and its size in bytes.
fn upsert(tx: &rusqlite::Transaction<'_>, doc: IndexDoc) -> Result<(bool, u64), SinkError> {
    let mut source = doc.source;
    if let Value::Object(fields) = &mut source {
        fields
            .entry("id")
            .or_insert_with(|| Value::String(doc.id.clone()));
    }
    let json = source.to_string();
    let identities = identities_of(&source);
    let kind = source["type"].as_str();
    let existing: Option<i64> = tx
        .query_row("SELECT seq FROM docs WHERE id = ?1", [&doc.id], |row| {
            row.get(0)
        })
        .optional()?;
    let seq = match existing {
        Some(seq) => {
            tx.execute(
                "UPDATE docs SET space_key = ?2, type = ?3, timestamp = ?4, source = ?5, has_acl = ?6
                 WHERE seq = ?1",
                params![seq, doc.space_key, kind, doc.timestamp, json, !identities.is_empty()],
            )?;
            tx.execute("DELETE FROM docs_fts WHERE rowid = ?1", [seq])?;
            tx.execute("DELETE FROM doc_acl WHERE doc = ?1", [seq])?;
            seq
        }
        None => {
            tx.execute(
                "INSERT INTO docs (id, space_key, type, timestamp, source, has_acl)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    doc.id,
                    doc.space_key,
                    kind,
                    doc.timestamp,
                    json,
                    !identities.is_empty()
                ],
            )?;
            tx.last_insert_rowid()
        }
    };
    let extra = format!(
        "{} {}",
        text_of(&source["key"]),
        text_of(&source["ancestors"])
    );
    tx.execute(
        "INSERT INTO docs_fts (rowid, title, body, labels, space, comments, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            seq,
            text_of(&source["title"]),
            text_of(&source["body"]),
            text_of(&source["labels"]),
            text_of(&source["space"]),
            text_of(&source["comments"]),
            extra
        ],
    )?;
    let mut acl =
        tx.prepare_cached("INSERT OR IGNORE INTO doc_acl (identity, doc) VALUES (?1, ?2)")?;
    for identity in identities {
        acl.execute(params![identity, seq])?;
    }
    Ok((existing.is_some(), json.len() as u64))
}

/// The FTS5 query for free text: every word as a quoted phrase, any of them matching (as the
/// Elasticsearch `multi_match` does by default). `None` when the text has no word at all.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{word}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

/// The `WHERE` conditions (over `d`, the `docs` table) and their parameters for the filters and
/// access control of `req`.
fn conditions(req: &SearchRequest) -> (Vec<String>, Vec<String>) {
    let mut sql = Vec::new();
    let mut args = Vec::new();
    for (field, value) in &req.filters {
        match field.as_str() {
            "id" | "type" | "space_key" => sql.push(format!("d.{field} = ?")),
            _ => {
                let path = format!(
                    "$.{}",
                    field
                        .split('.')
                        .map(|part| format!("\"{}\"", part.replace('"', "")))
                        .collect::<Vec<_>>()
                        .join(".")
                );
                sql.push(
                    "EXISTS (SELECT 1 FROM json_each(d.source, ?) AS j
                     WHERE j.value = ? OR CAST(j.value AS TEXT) = ?1_)"
                        .to_owned(),
                );
                args.push(path);
            }
        }
        args.push(value.clone());
    }
    if let Some(identities) = &req.access_control {
        let marks = vec!["?"; identities.len()].join(", ");
        sql.push(format!(
            "(d.has_acl = 0 OR EXISTS (SELECT 1 FROM doc_acl a
              WHERE a.doc = d.seq AND a.identity IN ({marks})))"
        ));
        args.extend(identities.iter().cloned());
    }
    (sql, args)
}

/// Numbers the `?` of `sql` as `?1`, `?2`, ..., where `?1_` repeats the previous number
/// (used when one argument appears twice).
fn number_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
        } else if chars.peek() == Some(&'1') {
            // `?1_`: the argument of the previous `?` again.
            chars.next();
            chars.next();
            out.push_str(&format!("?{next}"));
        } else {
            next += 1;
            out.push_str(&format!("?{next}"));
        }
    }
    out
}

fn search_blocking(conn: &Connection, req: &SearchRequest) -> Result<SearchPage, SinkError> {
    let (mut conds, mut args) = conditions(req);
    let query = req.query.trim();
    let (from, rank, order) = if query.is_empty() {
        ("docs d", "1.0".to_owned(), "d.id")
    } else {
        let Some(fts) = fts_query(query) else {
            return Ok(SearchPage {
                total: 0,
                hits: Vec::new(),
            });
        };
        conds.insert(0, "docs_fts MATCH ?".to_owned());
        args.insert(0, fts);
        (
            "docs_fts JOIN docs d ON d.seq = docs_fts.rowid",
            format!("-{BM25}"),
            "score DESC, d.id",
        )
    };
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let total: i64 = conn.query_row(
        &number_parameters(&format!("SELECT count(*) FROM {from} {filter}")),
        params_from_iter(&args),
        |row| row.get(0),
    )?;
    let sql = number_parameters(&format!(
        "SELECT d.id, d.source, {rank} AS score FROM {from} {filter} ORDER BY {order}
         LIMIT {} OFFSET {}",
        req.size, req.from
    ));
    let mut statement = conn.prepare(&sql)?;
    let hits = statement
        .query_map(params_from_iter(&args), |row| {
            let source: String = row.get(1)?;
            Ok(SearchHit {
                id: row.get(0)?,
                source: serde_json::from_str(&source).unwrap_or(Value::Null),
                score: row.get::<_, f64>(2)? as f32,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SearchPage {
        total: total as u64,
        hits,
    })
}

impl Sink for LocalIndex {
    async fn prepare(&self) -> Result<()> {
        self.run(|conn| Ok(conn.execute_batch(SCHEMA)?)).await
    }

    async fn write(&self, docs: Vec<IndexDoc>) -> Result<BulkOutcome> {
        self.run(move |conn| {
            let tx = conn.transaction()?;
            let mut outcome = BulkOutcome::default();
            for doc in docs {
                let (existed, bytes) = upsert(&tx, doc)?;
                if existed {
                    outcome.updated += 1;
                } else {
                    outcome.created += 1;
                }
                outcome.bytes += bytes;
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn update_access(&self, docs: Vec<(String, Option<Vec<String>>)>) -> Result<BulkOutcome> {
        self.run(move |conn| {
            let tx = conn.transaction()?;
            let mut outcome = BulkOutcome::default();
            for (id, acl) in docs {
                let row: Option<(i64, String)> = tx
                    .query_row("SELECT seq, source FROM docs WHERE id = ?1", [&id], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()?;
                let Some((seq, source)) = row else {
                    outcome.failed.push(crate::sink::ItemError {
                        id,
                        op: crate::sink::BulkOp::SetAccess,
                        status: Some(404),
                        reason: "document_missing_exception: the document is not in the index"
                            .to_owned(),
                    });
                    continue;
                };
                let mut source: Value = serde_json::from_str(&source).unwrap_or(Value::Null);
                if let Value::Object(fields) = &mut source {
                    match &acl {
                        Some(list) => {
                            fields.insert("_allow_access_control".into(), serde_json::json!(list));
                        }
                        None => {
                            fields.remove("_allow_access_control");
                        }
                    }
                }
                let identities = identities_of(&source);
                tx.execute(
                    "UPDATE docs SET source = ?2, has_acl = ?3 WHERE seq = ?1",
                    params![seq, source.to_string(), !identities.is_empty()],
                )?;
                tx.execute("DELETE FROM doc_acl WHERE doc = ?1", [seq])?;
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO doc_acl (identity, doc) VALUES (?1, ?2)",
                )?;
                for identity in identities {
                    insert.execute(params![identity, seq])?;
                }
                outcome.updated += 1;
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn delete(&self, ids: Vec<String>) -> Result<BulkOutcome> {
        self.run(move |conn| {
            let tx = conn.transaction()?;
            let mut deleted = 0;
            {
                let mut find = tx.prepare_cached("SELECT seq FROM docs WHERE id = ?1")?;
                for id in &ids {
                    let Some(seq) = find
                        .query_row([id], |row| row.get::<_, i64>(0))
                        .optional()?
                    else {
                        continue;
                    };
                    tx.execute("DELETE FROM docs_fts WHERE rowid = ?1", [seq])?;
                    tx.execute("DELETE FROM doc_acl WHERE doc = ?1", [seq])?;
                    tx.execute("DELETE FROM docs WHERE seq = ?1", [seq])?;
                    deleted += 1;
                }
            }
            tx.commit()?;
            Ok(BulkOutcome {
                deleted,
                ..BulkOutcome::default()
            })
        })
        .await
    }

    async fn scan(&self, page_size: usize, visit: &mut ScanVisitor<'_>) -> Result<()> {
        let page_size = page_size.max(1);
        let mut after = String::new();
        loop {
            let from = after.clone();
            let page = self
                .run(move |conn| {
                    let mut statement = conn.prepare_cached(
                        "SELECT id, space_key, timestamp, type FROM docs WHERE id > ?1 ORDER BY id LIMIT ?2",
                    )?;
                    let rows = statement.query_map(params![from, page_size as i64], |row| {
                        Ok(ExistingDoc {
                            id: row.get(0)?,
                            space_key: row.get(1)?,
                            timestamp: row.get(2)?,
                            kind: row.get(3)?,
                        })
                    })?;
                    Ok(rows.collect::<Result<Vec<_>, _>>()?)
                })
                .await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.id.clone();
            let full = page.len() == page_size;
            visit(page)?;
            if !full {
                return Ok(());
            }
        }
    }

    async fn refresh(&self) -> Result<()> {
        // Every write is committed, hence visible, when `write` returns.
        Ok(())
    }

    async fn count(&self) -> Result<u64> {
        self.run(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM docs", [], |row| row.get::<_, i64>(0))? as u64)
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<Value>> {
        let id = id.to_owned();
        self.run(move |conn| {
            let source: Option<String> = conn
                .query_row("SELECT source FROM docs WHERE id = ?1", [id], |row| {
                    row.get(0)
                })
                .optional()?;
            Ok(source.map(|text| serde_json::from_str(&text).unwrap_or(Value::Null)))
        })
        .await
    }

    async fn search(&self, req: &SearchRequest) -> Result<SearchPage> {
        let req = req.clone();
        self.run(move |conn| search_blocking(conn, &req)).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    fn doc(id: &str, source: Value) -> IndexDoc {
        IndexDoc {
            id: id.into(),
            space_key: source["space_key"].as_str().map(str::to_owned),
            timestamp: source["_timestamp"]
                .as_str()
                .unwrap_or("2026-01-01T00:00:00Z")
                .into(),
            source,
        }
    }

    fn corpus() -> Vec<IndexDoc> {
        vec![
            doc(
                "p1",
                json!({ "type": "page", "title": "Release checklist", "space": "Engineering",
                "space_key": "ENG", "body": "Steps before a release", "labels": ["ops", "release"] }),
            ),
            doc(
                "p2",
                json!({ "type": "page", "title": "Onboarding", "space": "Engineering",
                "space_key": "ENG", "body": "Welcome to the team; the release train leaves weekly",
                "_allow_access_control": ["user:a", "group:eng"] }),
            ),
            doc(
                "b1",
                json!({ "type": "blogpost", "title": "Release party", "space": "Social",
                "space_key": "SOC", "body": "Cake", "_allow_access_control": ["__deny__"] }),
            ),
            doc(
                "a1",
                json!({ "type": "attachment", "title": "notes.txt", "space_key": "ENG",
                "size": 42, "_allow_access_control": [] }),
            ),
        ]
    }

    fn ids(page: &SearchPage) -> Vec<&str> {
        page.hits.iter().map(|hit| hit.id.as_str()).collect()
    }

    async fn search(index: &LocalIndex, req: SearchRequest) -> SearchPage {
        index.search(&req).await.unwrap()
    }

    #[tokio::test]
    async fn writes_count_created_and_updated_and_delete_ignores_missing_ids() {
        let index = LocalIndex::open_in_memory().unwrap();
        index.prepare().await.unwrap();
        index.prepare().await.unwrap();
        let first = index.write(corpus()).await.unwrap();
        assert_eq!((first.created, first.updated), (4, 0));
        assert!(first.bytes > 100);
        let again = index.write(corpus()[..2].to_vec()).await.unwrap();
        assert_eq!((again.created, again.updated), (0, 2));
        assert_eq!(index.count().await.unwrap(), 4);
        let stored = index.get("p1").await.unwrap().unwrap();
        assert_eq!(stored["title"], "Release checklist");
        assert_eq!(stored["id"], "p1", "`id` is added to the body");
        assert_eq!(index.get("nope").await.unwrap(), None);

        let gone = index
            .delete(vec!["p1".into(), "nope".into()])
            .await
            .unwrap();
        assert_eq!(gone.deleted, 1);
        assert_eq!(index.count().await.unwrap(), 3);
        let page = search(
            &index,
            SearchRequest {
                query: "checklist".into(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(page.total, 0, "the full-text row goes with the document");
    }

    #[tokio::test]
    async fn free_text_is_ranked_filtered_and_paged() {
        let index = LocalIndex::open_in_memory().unwrap();
        index.write(corpus()).await.unwrap();
        let page = search(
            &index,
            SearchRequest {
                query: "release".into(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(page.total, 3);
        // Title matches (boost 3) rank above a body-only match.
        assert_eq!(*ids(&page).last().unwrap(), "p2");
        assert!(page.hits[0].score >= page.hits[2].score);

        let pages = SearchRequest {
            query: "release".into(),
            filters: vec![("type".into(), "page".into())],
            ..Default::default()
        };
        assert_eq!(ids(&search(&index, pages).await).len(), 2);
        let by_space = SearchRequest {
            filters: vec![
                ("space".into(), "Engineering".into()),
                ("labels".into(), "ops".into()),
            ],
            ..Default::default()
        };
        assert_eq!(ids(&search(&index, by_space).await), ["p1"]);
        let by_size = SearchRequest {
            filters: vec![("size".into(), "42".into())],
            ..Default::default()
        };
        assert_eq!(ids(&search(&index, by_size).await), ["a1"]);

        let second = SearchRequest {
            from: 2,
            size: 2,
            ..Default::default()
        };
        let page = search(&index, second).await;
        assert_eq!((page.total, page.hits.len()), (4, 2));
        let punctuation = SearchRequest {
            query: "!!".into(),
            ..Default::default()
        };
        assert_eq!(search(&index, punctuation).await.total, 0);
    }

    #[tokio::test]
    async fn access_control_has_elasticsearch_semantics() {
        let index = LocalIndex::open_in_memory().unwrap();
        index.write(corpus()).await.unwrap();
        let visible = |identities: &[&str]| SearchRequest {
            access_control: Some(identities.iter().map(|s| s.to_string()).collect()),
            size: 100,
            ..Default::default()
        };
        let set = |page: SearchPage| -> BTreeSet<String> {
            page.hits.into_iter().map(|hit| hit.id).collect()
        };
        // No ACL and an empty ACL are public; `__deny__` matches nobody.
        assert_eq!(
            set(search(&index, visible(&[])).await),
            ["a1", "p1"].map(String::from).into()
        );
        assert_eq!(
            set(search(&index, visible(&["user:b", "group:eng"])).await),
            ["a1", "p1", "p2"].map(String::from).into()
        );
        assert_eq!(set(search(&index, visible(&["user:a"])).await).len(), 3);
        assert_eq!(
            search(
                &index,
                SearchRequest {
                    size: 100,
                    ..Default::default()
                }
            )
            .await
            .total,
            4
        );
        // Rewriting a document replaces its ACL.
        let mut opened = corpus()[2].clone();
        opened.source["_allow_access_control"] = json!(["user:b"]);
        index.write(vec![opened]).await.unwrap();
        assert!(set(search(&index, visible(&["user:b"])).await).contains("b1"));
        assert!(!set(search(&index, visible(&["user:a"])).await).contains("b1"));
    }

    #[tokio::test]
    async fn scan_visits_every_id_once_in_pages() {
        let dir = tempfile::tempdir().unwrap();
        let index = LocalIndex::open(dir.path().join("sub/local-index.sqlite")).unwrap();
        let docs: Vec<IndexDoc> = (0..25)
            .map(|i| {
                doc(
                    &format!("d{i:02}"),
                    json!({ "type": "page", "space_key": "ENG" }),
                )
            })
            .collect();
        index.write(docs).await.unwrap();
        let mut seen = Vec::new();
        let mut pages = 0;
        index
            .scan(7, &mut |page| {
                assert!(page.len() <= 7);
                pages += 1;
                seen.extend(page);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(pages, 4);
        assert_eq!(seen.len(), 25);
        assert_eq!(
            seen.iter().map(|d| &d.id).collect::<BTreeSet<_>>().len(),
            25
        );
        assert_eq!(seen[0].space_key.as_deref(), Some("ENG"));
        assert_eq!(seen[0].timestamp.as_deref(), Some("2026-01-01T00:00:00Z"));
        // The file persists across opens.
        drop(index);
        let reopened = LocalIndex::open(dir.path().join("sub/local-index.sqlite")).unwrap();
        assert_eq!(reopened.count().await.unwrap(), 25);
    }

    #[test]
    fn parameters_are_numbered_and_repeated() {
        assert_eq!(
            number_parameters("a = ? AND (x = ?1_ OR y = ?1_) AND b = ?"),
            "a = ?1 AND (x = ?1 OR y = ?1) AND b = ?2"
        );
        assert_eq!(
            fts_query("release, \"notes\" 2026"),
            Some("\"release\" OR \"notes\" OR \"2026\"".into())
        );
        assert_eq!(fts_query(" -- "), None);
    }
}

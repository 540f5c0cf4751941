//! [`BulkWriter`]: batches the documents a sync pushes one by one into bulk requests bounded by
//! count and bytes, keeps a few requests in flight, and adds up what they did.

use std::io;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::{BulkOp, BulkOutcome, IndexDoc, ItemError, Sink, SinkError};
use crate::Result;

/// Bounds of the batches and of the requests in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkOptions {
    /// The most documents (or deletions) in one request.
    pub max_docs: usize,
    /// The most serialised document bytes in one request (a larger document goes alone).
    pub max_bytes: usize,
    /// The most requests in flight at once; [`BulkWriter::push`] waits while they all are.
    pub max_in_flight: usize,
}

impl Default for BulkOptions {
    /// 500 documents, 5 MiB, 3 requests in flight.
    fn default() -> Self {
        BulkOptions {
            max_docs: 500,
            max_bytes: 5 * 1024 * 1024,
            max_in_flight: 3,
        }
    }
}

/// Batches documents for a [`Sink`] and sends the batches concurrently.
///
/// Memory stays bounded: at most one batch being filled plus `max_in_flight` batches in flight.
/// A batch whose whole request fails (after the sink's own retries) is not lost: each of its
/// documents is reported in [`BulkOutcome::failed`] with `status: None` and the request's error,
/// so the caller's counters and error monitor see every document; except when the target is
/// blocked ([`SinkError::Blocked`], a full disk): that error ends the writing, since nothing more
/// can be written until an admin acts. Dropping the writer without
/// [`BulkWriter::finish`] aborts the requests in flight.
pub struct BulkWriter<S: Sink + 'static> {
    sink: Arc<S>,
    options: BulkOptions,
    docs: Vec<IndexDoc>,
    docs_bytes: usize,
    deletes: Vec<String>,
    // A JoinSet alone bounds the requests in flight: before spawning one more, `send` waits for
    // one to end while the set is full. No semaphore is needed because only `&mut self` spawns.
    in_flight: JoinSet<Result<BulkOutcome>>,
    total: BulkOutcome,
    /// How many of `total.failed` the last [`BulkWriter::settle`] returned.
    settled_failures: usize,
}

impl<S: Sink + 'static> BulkWriter<S> {
    /// A writer into `sink`.
    pub fn new(sink: Arc<S>, options: BulkOptions) -> BulkWriter<S> {
        let options = BulkOptions {
            max_docs: options.max_docs.max(1),
            max_bytes: options.max_bytes.max(1),
            max_in_flight: options.max_in_flight.max(1),
        };
        BulkWriter {
            sink,
            options,
            docs: Vec::new(),
            docs_bytes: 0,
            deletes: Vec::new(),
            in_flight: JoinSet::new(),
            total: BulkOutcome::default(),
            settled_failures: 0,
        }
    }

    /// Adds a document to index. Sends the current batch first if the document would overflow
    /// its byte bound, and after adding it if a bound is reached; waits while `max_in_flight`
    /// requests are in flight.
    pub async fn push(&mut self, doc: IndexDoc) -> Result<()> {
        let size = json_len(&doc.source);
        if !self.docs.is_empty() && self.docs_bytes + size > self.options.max_bytes {
            self.send_docs().await?;
        }
        self.docs.push(doc);
        self.docs_bytes += size;
        if self.docs.len() >= self.options.max_docs || self.docs_bytes >= self.options.max_bytes {
            self.send_docs().await?;
        }
        Ok(())
    }

    /// Adds a document id to delete; deletions are batched apart from writes.
    pub async fn push_delete(&mut self, id: String) -> Result<()> {
        self.deletes.push(id);
        if self.deletes.len() >= self.options.max_docs {
            self.send_deletes().await?;
        }
        Ok(())
    }

    /// What the requests that have ended so far did (for live progress).
    pub fn totals(&self) -> &BulkOutcome {
        &self.total
    }

    /// How many requests are in flight right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Sends the batch being filled and waits for every request in flight: every document
    /// pushed so far is then acknowledged by the target (or reported failed). Returns the
    /// failures reported since the previous settle. A sync checkpoints what is written here.
    pub async fn settle(&mut self) -> Result<Vec<ItemError>> {
        self.send_docs().await?;
        self.send_deletes().await?;
        while let Some(done) = self.in_flight.join_next().await {
            self.total.merge(done.map_err(task_error)??);
        }
        let fresh = self.total.failed[self.settled_failures..].to_vec();
        self.settled_failures = self.total.failed.len();
        Ok(fresh)
    }

    /// Sends the batches being filled, waits for every request, and returns the totals.
    pub async fn finish(mut self) -> Result<BulkOutcome> {
        self.send_docs().await?;
        self.send_deletes().await?;
        while let Some(done) = self.in_flight.join_next().await {
            self.total.merge(done.map_err(task_error)??);
        }
        Ok(self.total)
    }

    async fn send_docs(&mut self) -> Result<()> {
        if self.docs.is_empty() {
            return Ok(());
        }
        let docs = std::mem::take(&mut self.docs);
        self.docs_bytes = 0;
        self.make_room().await?;
        let sink = Arc::clone(&self.sink);
        self.in_flight.spawn(async move {
            let ids: Vec<String> = docs.iter().map(|doc| doc.id.clone()).collect();
            match sink.write(docs).await {
                Ok(outcome) => Ok(outcome),
                Err(err) if is_blocked(&err) => Err(err),
                Err(err) => Ok(whole_batch_failed(ids, BulkOp::Index, &err)),
            }
        });
        Ok(())
    }

    async fn send_deletes(&mut self) -> Result<()> {
        if self.deletes.is_empty() {
            return Ok(());
        }
        let ids = std::mem::take(&mut self.deletes);
        self.make_room().await?;
        let sink = Arc::clone(&self.sink);
        self.in_flight.spawn(async move {
            match sink.delete(ids.clone()).await {
                Ok(outcome) => Ok(outcome),
                Err(err) if is_blocked(&err) => Err(err),
                Err(err) => Ok(whole_batch_failed(ids, BulkOp::Delete, &err)),
            }
        });
        Ok(())
    }

    /// Waits until fewer than `max_in_flight` requests are in flight.
    async fn make_room(&mut self) -> Result<()> {
        while self.in_flight.len() >= self.options.max_in_flight {
            if let Some(done) = self.in_flight.join_next().await {
                self.total.merge(done.map_err(task_error)??);
            }
        }
        Ok(())
    }
}

fn whole_batch_failed(ids: Vec<String>, op: BulkOp, err: &crate::Error) -> BulkOutcome {
    tracing::error!(documents = ids.len(), error = %err, "bulk request failed");
    let reason = err.to_string();
    BulkOutcome {
        failed: ids
            .into_iter()
            .map(|id| ItemError {
                id,
                op,
                status: None,
                reason: reason.clone(),
            })
            .collect(),
        ..BulkOutcome::default()
    }
}

/// Whether `err` says the target refuses every write (a block): no use going on.
fn is_blocked(err: &crate::Error) -> bool {
    matches!(err, crate::Error::Sink(SinkError::Blocked { .. }))
}

fn task_error(err: tokio::task::JoinError) -> crate::Error {
    SinkError::Task(err.to_string()).into()
}

/// The length of `value` serialised as JSON, without building the string.
pub(crate) fn json_len(value: &serde_json::Value) -> usize {
    struct Counter(usize);
    impl io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` into an infallible writer cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::sink::{ScanVisitor, SearchPage, SearchRequest};

    /// A sink that records batches, how many requests overlapped, and fails what it is told to.
    #[derive(Default)]
    struct FakeSink {
        batches: Mutex<Vec<Vec<IndexDoc>>>,
        deletes: Mutex<Vec<Vec<String>>>,
        now: AtomicUsize,
        peak: AtomicUsize,
        refuse_ids: HashSet<String>,
        fail_batch_with: Option<String>,
        delay: Duration,
    }

    impl Sink for FakeSink {
        async fn prepare(&self) -> Result<()> {
            Ok(())
        }

        async fn write(&self, docs: Vec<IndexDoc>) -> Result<BulkOutcome> {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            self.batches.lock().unwrap().push(docs.clone());
            if let Some(id) = &self.fail_batch_with
                && docs.iter().any(|doc| &doc.id == id)
            {
                return Err(SinkError::Refused {
                    request: "POST /_bulk".into(),
                    status: 413,
                    reason: "too large".into(),
                }
                .into());
            }
            let mut outcome = BulkOutcome::default();
            for doc in docs {
                outcome.bytes += json_len(&doc.source) as u64;
                if self.refuse_ids.contains(&doc.id) {
                    outcome.failed.push(ItemError {
                        id: doc.id,
                        op: BulkOp::Index,
                        status: Some(400),
                        reason: "mapper_parsing_exception: bad".into(),
                    });
                } else {
                    outcome.created += 1;
                }
            }
            Ok(outcome)
        }

        async fn update_access(
            &self,
            docs: Vec<(String, Option<Vec<String>>)>,
        ) -> Result<BulkOutcome> {
            Ok(BulkOutcome {
                updated: docs.len() as u64,
                ..BulkOutcome::default()
            })
        }

        async fn delete(&self, ids: Vec<String>) -> Result<BulkOutcome> {
            let deleted = ids.len() as u64;
            self.deletes.lock().unwrap().push(ids);
            Ok(BulkOutcome {
                deleted,
                ..BulkOutcome::default()
            })
        }

        async fn scan(&self, _: usize, _: &mut ScanVisitor<'_>) -> Result<()> {
            Ok(())
        }

        async fn refresh(&self) -> Result<()> {
            Ok(())
        }

        async fn count(&self) -> Result<u64> {
            Ok(0)
        }

        async fn get(&self, _: &str) -> Result<Option<Value>> {
            Ok(None)
        }

        async fn search(&self, _: &SearchRequest) -> Result<SearchPage> {
            Ok(SearchPage {
                total: 0,
                hits: Vec::new(),
            })
        }
    }

    fn doc(id: usize, body_len: usize) -> IndexDoc {
        IndexDoc {
            id: format!("d{id}"),
            space_key: Some("ENG".into()),
            timestamp: "2026-01-01T00:00:00Z".into(),
            source: json!({ "id": format!("d{id}"), "body": "x".repeat(body_len) }),
        }
    }

    async fn write_all(
        sink: &Arc<FakeSink>,
        options: BulkOptions,
        docs: Vec<IndexDoc>,
    ) -> BulkOutcome {
        let mut writer = BulkWriter::new(Arc::clone(sink), options);
        for doc in docs {
            writer.push(doc).await.unwrap();
            assert!(writer.in_flight() <= options.max_in_flight);
        }
        writer.finish().await.unwrap()
    }

    #[tokio::test]
    async fn batches_respect_the_count_bound_and_nothing_is_lost() {
        let sink = Arc::new(FakeSink::default());
        let options = BulkOptions {
            max_docs: 500,
            ..BulkOptions::default()
        };
        let outcome = write_all(&sink, options, (0..1234).map(|i| doc(i, 10)).collect()).await;
        assert_eq!(outcome.created, 1234);
        let batches = sink.batches.lock().unwrap();
        let mut sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [234, 500, 500]);
        let ids: HashSet<&str> = batches.iter().flatten().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), 1234);
    }

    #[tokio::test]
    async fn batches_respect_the_byte_bound_and_a_huge_document_goes_alone() {
        let sink = Arc::new(FakeSink::default());
        let options = BulkOptions {
            max_docs: 100,
            max_bytes: 3500,
            max_in_flight: 2,
        };
        let mut docs: Vec<IndexDoc> = (0..20).map(|i| doc(i, 1000)).collect();
        docs.insert(7, doc(99, 10_000));
        let expected_bytes: usize = docs.iter().map(|d| json_len(&d.source)).sum();
        let outcome = write_all(&sink, options, docs).await;
        assert_eq!(outcome.created, 21);
        assert_eq!(outcome.bytes, expected_bytes as u64);
        for batch in sink.batches.lock().unwrap().iter() {
            let bytes: usize = batch.iter().map(|d| json_len(&d.source)).sum();
            assert!(
                bytes <= 3500 || batch.len() == 1,
                "{} docs, {bytes} bytes",
                batch.len()
            );
            assert!(batch.len() <= 3);
        }
        assert!(
            sink.batches
                .lock()
                .unwrap()
                .iter()
                .any(|b| b.len() == 1 && b[0].id == "d99")
        );
    }

    #[tokio::test]
    async fn at_most_max_in_flight_requests_overlap() {
        let sink = Arc::new(FakeSink {
            delay: Duration::from_millis(20),
            ..FakeSink::default()
        });
        let options = BulkOptions {
            max_docs: 10,
            max_bytes: usize::MAX,
            max_in_flight: 3,
        };
        let outcome = write_all(&sink, options, (0..200).map(|i| doc(i, 5)).collect()).await;
        assert_eq!(outcome.created, 200);
        assert_eq!(sink.peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn refused_items_and_failed_requests_are_counted_with_their_reasons() {
        let sink = Arc::new(FakeSink {
            refuse_ids: ["d3".to_owned(), "d4".to_owned()].into(),
            fail_batch_with: Some("d15".into()),
            ..FakeSink::default()
        });
        let options = BulkOptions {
            max_docs: 10,
            max_bytes: usize::MAX,
            max_in_flight: 2,
        };
        let outcome = write_all(&sink, options, (0..25).map(|i| doc(i, 5)).collect()).await;
        // Batches: d0..d9 (2 refused), d10..d19 (whole request fails), d20..d24.
        assert_eq!(outcome.created, 8 + 5);
        assert_eq!(outcome.failed.len(), 2 + 10);
        let refused: Vec<&ItemError> = outcome
            .failed
            .iter()
            .filter(|e| e.status.is_some())
            .collect();
        assert_eq!(refused.len(), 2);
        assert!(
            refused
                .iter()
                .all(|e| e.reason.contains("mapper_parsing_exception"))
        );
        let lost: Vec<&ItemError> = outcome
            .failed
            .iter()
            .filter(|e| e.status.is_none())
            .collect();
        assert_eq!(lost.len(), 10);
        assert!(
            lost.iter()
                .all(|e| e.reason.contains("413") && e.op == BulkOp::Index)
        );
    }

    #[tokio::test]
    async fn deletions_are_batched_apart() {
        let sink = Arc::new(FakeSink::default());
        let options = BulkOptions {
            max_docs: 4,
            ..BulkOptions::default()
        };
        let mut writer = BulkWriter::new(Arc::clone(&sink), options);
        writer.push(doc(1, 5)).await.unwrap();
        for i in 0..10 {
            writer.push_delete(format!("gone{i}")).await.unwrap();
        }
        let outcome = writer.finish().await.unwrap();
        assert_eq!((outcome.created, outcome.deleted), (1, 10));
        let mut sizes: Vec<usize> = sink.deletes.lock().unwrap().iter().map(Vec::len).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [2, 4, 4]);
    }

    #[test]
    fn json_len_is_the_serialised_length() {
        let value = json!({ "a": [1, "é", null], "b": { "c": true } });
        assert_eq!(json_len(&value), value.to_string().len());
    }
}

//! The full sync: list everything in scope, index it, then delete what is gone.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::mpsc;

use super::crawl::{self, SpaceOutcome};
use super::job::Run;
use super::{CancellationToken, Live, MAX_JOB_ERRORS, SeenSet, SyncOptions, lock};
use crate::acl::{AclRecorder, AclResolver, AclStore};
use crate::config::{ConnectorConfig, Secrets};
use crate::confluence::ConfluenceClient;
use crate::document::Document;
use crate::events::{Counters, EventHandler, Progress, SyncEvent, SyncPhase};
use crate::sink::{BulkWriter, IndexDoc, Sink};
use crate::store::{JobRecord, JobStatus};
use crate::{Error, Result};

/// Runs a full sync and fills `job` (status, counters, requests, errors). A failed or cancelled
/// sync deletes nothing; a sync whose listing of some space failed deletes nothing in that space.
pub(crate) async fn run<S: Sink + AclStore + 'static>(
    run: &Run<'_, S>,
    job: &mut JobRecord,
) -> Result<()> {
    let Run { job: this, events } = run;
    let live = Arc::new(Live::default());
    // Document-level security: every document's access is recorded for the inspector.
    let recorder = this
        .config
        .use_document_level_security
        .then(|| Arc::new(AclRecorder::default()));
    let outcome = sync(
        &this.config,
        &this.secrets,
        this.sink.clone(),
        &this.options,
        events,
        &this.cancel,
        &live,
        &mut job.counters,
        recorder.clone(),
    )
    .await;
    let (status, requests) = match outcome {
        Ok(run) => (run.status, run.requests),
        Err((err, requests)) => {
            live.error(events, "sync", err.to_string());
            (JobStatus::Failed, requests)
        }
    };
    job.status = status;
    job.requests = requests;
    if let Some(recorder) = &recorder
        && recorder.denied() > 0
    {
        live.error(
            events,
            "document-level security",
            format!(
                "{} of {} documents were written with the deny marker (readable by nobody); \
                 the errors above say why",
                recorder.denied(),
                recorder.len()
            ),
        );
    }
    job.errors = std::mem::take(&mut *live.errors.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(recorder) = &recorder {
        lock(&this.store).record_doc_acls(&job.id, recorder)?;
    }
    Ok(())
}

struct RunOutcome {
    status: JobStatus,
    requests: u64,
}

#[allow(clippy::too_many_arguments)]
async fn sync<S: Sink + 'static>(
    config: &ConnectorConfig,
    secrets: &Secrets,
    sink: Arc<S>,
    options: &SyncOptions,
    events: &EventHandler,
    cancel: &CancellationToken,
    live: &Arc<Live>,
    counters: &mut Counters,
    recorder: Option<Arc<AclRecorder>>,
) -> std::result::Result<RunOutcome, (Error, u64)> {
    let started = Instant::now();
    events(&SyncEvent::Phase {
        phase: SyncPhase::Validating,
    });
    let problems: Vec<_> = crate::config::validate(config, secrets)
        .into_iter()
        .filter(|p| p.severity == crate::config::Severity::Error)
        .collect();
    if !problems.is_empty() {
        return Err((Error::Invalid(problems), 0));
    }
    let client = ConfluenceClient::from_config(config, secrets).map_err(|e| (e.into(), 0))?;
    let requests = |client: &ConfluenceClient| client.stats().requests;
    client
        .ping()
        .await
        .map_err(|e| (e.into(), requests(&client)))?;
    sink.prepare().await.map_err(|e| (e, requests(&client)))?;
    let acl = match recorder {
        Some(recorder) => Some(Arc::new(
            acl_resolver(config, &client, recorder)
                .await
                .map_err(|e| (e, requests(&client)))?,
        )),
        None => None,
    };

    // Progress ticker: a snapshot of the counters every `progress_every`.
    let ticker = {
        let (live, client, events, every) = (
            live.clone(),
            client.clone(),
            events.clone(),
            options.progress_every,
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                events(&SyncEvent::Progress(snapshot(&live, &client, started)));
            }
        })
    };

    let result = crawl_and_reconcile(
        config, &client, sink, options, events, cancel, live, counters, acl,
    )
    .await;
    ticker.abort();
    events(&SyncEvent::Progress(snapshot(live, &client, started)));
    let requests = requests(&client);
    result
        .map(|status| RunOutcome { status, requests })
        .map_err(|e| (e, requests))
}

/// The resolver of a sync with document-level security: finds where space permissions come
/// from (a configuration error on Server/DC without a permission API), probing with a space in
/// scope.
async fn acl_resolver(
    config: &ConnectorConfig,
    client: &ConfluenceClient,
    recorder: Arc<AclRecorder>,
) -> Result<AclResolver> {
    let probe = match config.spaces.iter().find(|k| k.as_str() != "*") {
        Some(key) => Some(key.clone()),
        None => {
            let mut pager = client.spaces()?;
            pager
                .next_page()
                .await?
                .and_then(|page| page.results.into_iter().find_map(|s| s.key))
        }
    };
    let source =
        crate::acl::prereq::detect(client, probe.as_deref(), &config.confluence_url).await?;
    Ok(AclResolver::new(client.clone(), source, recorder))
}

fn snapshot(live: &Live, client: &ConfluenceClient, started: Instant) -> Progress {
    let stats = client.stats();
    let elapsed = started.elapsed().as_secs_f64();
    let indexed = live.indexed.load(Ordering::Relaxed);
    let spaces_done = live.spaces_done.load(Ordering::Relaxed);
    let spaces_total = live.spaces_total.load(Ordering::Relaxed);
    let eta_s = (spaces_done > 0 && spaces_total >= spaces_done)
        .then(|| elapsed / spaces_done as f64 * (spaces_total - spaces_done) as f64);
    Progress {
        elapsed_s: elapsed,
        docs_per_second: if elapsed > 0.0 {
            live.docs_seen.load(Ordering::Relaxed) as f64 / elapsed
        } else {
            0.0
        },
        docs_seen: live.docs_seen.load(Ordering::Relaxed),
        counters: Counters {
            indexed_document_count: indexed,
            indexed_document_volume: live.volume.load(Ordering::Relaxed),
            failed: live.failed_docs.load(Ordering::Relaxed),
            downloaded_bytes: live.downloaded_bytes.load(Ordering::Relaxed),
            ..Counters::default()
        },
        requests: stats.requests,
        rate_limit_waits: stats.rate_limited,
        rate_limit_wait_s: stats.rate_limit_wait_ms as f64 / 1000.0,
        spaces_done,
        spaces_total,
        current_spaces: live.current.lock().map(|c| c.clone()).unwrap_or_default(),
        eta_s,
    }
}

#[allow(clippy::too_many_arguments)]
async fn crawl_and_reconcile<S: Sink + 'static>(
    config: &ConnectorConfig,
    client: &ConfluenceClient,
    sink: Arc<S>,
    options: &SyncOptions,
    events: &EventHandler,
    cancel: &CancellationToken,
    live: &Arc<Live>,
    counters: &mut Counters,
    acl: Option<Arc<AclResolver>>,
) -> Result<JobStatus> {
    std::fs::create_dir_all(&options.work_dir).map_err(|source| Error::Io {
        context: format!(
            "creating the work directory `{}`",
            options.work_dir.display()
        ),
        source,
    })?;
    let seen_path = options
        .work_dir
        .join(format!("seen-{}.sqlite", uuid::Uuid::new_v4()));
    let seen = SeenSet::create(&seen_path)?;
    let filter = crate::rules::sync_filter(options.rules.as_ref(), client.flavor())?;

    // The writer: every document is recorded as seen, then batched to the target.
    let (tx, mut rx) = mpsc::channel::<Document>(256);
    let writer = {
        let sink = sink.clone();
        let live = live.clone();
        let bulk_options = options.bulk;
        let filter = filter.clone();
        tokio::spawn(async move {
            let mut seen = seen;
            let mut bulk = BulkWriter::new(sink, bulk_options);
            while let Some(doc) = rx.recv().await {
                // Filtered by basic rules: not seen, so an earlier copy is deleted below.
                if filter.as_ref().is_some_and(|f| !f.admit(&doc)) {
                    continue;
                }
                seen.insert(&doc.id, doc.space_key.as_deref())?;
                live.docs_seen.fetch_add(1, Ordering::Relaxed);
                bulk.push(IndexDoc {
                    id: doc.id.clone(),
                    space_key: doc.space_key.clone(),
                    timestamp: doc.timestamp.clone(),
                    source: doc.to_source(),
                })
                .await?;
                let totals = bulk.totals();
                live.indexed
                    .store(totals.created + totals.updated, Ordering::Relaxed);
                live.volume.store(totals.bytes, Ordering::Relaxed);
            }
            let totals = bulk.finish().await?;
            seen.flush()?;
            Ok::<_, Error>((seen, totals))
        })
    };

    events(&SyncEvent::Phase {
        phase: SyncPhase::ListingSpaces,
    });
    let crawl = crawl::Crawl {
        config,
        client,
        options,
        events,
        cancel,
        live,
        tx,
        acl,
    };
    let spaces = match options.rules.as_ref().filter(|r| r.has_advanced()) {
        Some(rules) => super::cql_crawl::run(crawl, &rules.advanced).await,
        None => crawl.run().await,
    };
    let (mut seen, totals) = writer.await.map_err(|e| Error::Io {
        context: "the index writer stopped".into(),
        source: std::io::Error::other(e),
    })??;

    counters.created = totals.created;
    counters.updated = totals.updated;
    counters.indexed_document_count = totals.created + totals.updated;
    counters.indexed_document_volume = totals.bytes;
    counters.downloaded_bytes = live.downloaded_bytes.load(Ordering::Relaxed);
    counters.skipped += filter.as_ref().map_or(0, |f| f.filtered());
    counters.failed = live.failed_docs.load(Ordering::Relaxed) + totals.failed.len() as u64;
    for item in totals.failed.iter().take(MAX_JOB_ERRORS) {
        live.error(
            events,
            format!("document {}", item.id),
            format!("the target rejected it: {}", item.reason),
        );
    }

    let spaces = match spaces {
        Ok(spaces) => spaces,
        // The space listing itself failed: nothing can be said about what is gone.
        Err(err) => return Err(err),
    };
    if cancel.is_cancelled() {
        return Ok(JobStatus::Canceled);
    }
    let incomplete: Vec<&SpaceOutcome> = spaces.iter().filter(|s| !s.complete).collect();

    events(&SyncEvent::Phase {
        phase: SyncPhase::Deleting,
    });
    sink.refresh().await?;
    let crawled: HashSet<&str> = spaces.iter().map(|s| s.key.as_str()).collect();
    let keep_space: HashSet<&str> = incomplete.iter().map(|s| s.key.as_str()).collect();
    let mut doomed: Vec<String> = Vec::new();
    let mut scan_error: Option<Error> = None;
    sink.scan(1000, &mut |page| {
        // Documents of a space whose listing failed stay; so do documents without a space,
        // which this sync cannot place.
        let candidates: Vec<&str> = page
            .iter()
            .filter(|d| match d.space_key.as_deref() {
                Some(space) => {
                    !keep_space.contains(space)
                        && (crawled.contains(space) || incomplete.is_empty())
                }
                None => false,
            })
            .map(|d| d.id.as_str())
            .collect();
        match seen.unseen(candidates) {
            Ok(unseen) => doomed.extend(unseen),
            Err(err) => scan_error = Some(err),
        }
        Ok(())
    })
    .await?;
    if let Some(err) = scan_error {
        return Err(err);
    }

    let indexed = sink.count().await?;
    let ratio = options
        .max_deletion_ratio
        .unwrap_or(f64::from(config.deletion_threshold_percent) / 100.0);
    let allowed = (indexed as f64 * ratio).floor() as u64;
    if !options.allow_deletions && !doomed.is_empty() && doomed.len() as u64 > allowed {
        live.error(
            events,
            "deletion phase",
            format!(
                "refused to delete {} of {} documents ({:.0}%), above the safety threshold of {:.0}%; \
                 nothing was deleted. If so much content really is gone, raise the threshold for one sync",
                doomed.len(),
                indexed,
                doomed.len() as f64 * 100.0 / indexed.max(1) as f64,
                ratio * 100.0
            ),
        );
        return Ok(JobStatus::Failed);
    }
    for chunk in doomed.chunks(500) {
        let outcome = sink.delete(chunk.to_vec()).await?;
        counters.deleted_document_count += outcome.deleted;
        for item in outcome.failed {
            live.error(
                events,
                format!("document {}", item.id),
                format!("could not be deleted: {}", item.reason),
            );
        }
    }
    sink.refresh().await?;
    Ok(if incomplete.is_empty() && counters.failed == 0 {
        JobStatus::Completed
    } else {
        JobStatus::Partial
    })
}

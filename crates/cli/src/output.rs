//! Terminal output: the progress bar of a running sync and its closing summary.

use std::sync::Arc;
use std::time::Duration;

use connector::JobRecord;
use connector::events::{EventHandler, SyncEvent, SyncPhase};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// A spinner on stderr that follows a sync's events; hidden when `quiet` or not on a terminal.
pub fn progress(quiet: bool) -> (ProgressBar, EventHandler) {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_prefix("starting");
    let handle = bar.clone();
    let handler: EventHandler = Arc::new(move |event: &SyncEvent| match event {
        SyncEvent::Phase { phase } => handle.set_prefix(match phase {
            SyncPhase::Validating => "validating",
            SyncPhase::ListingSpaces => "listing spaces",
            SyncPhase::Crawling => "crawling",
            SyncPhase::Reconciling => "reconciling ids and permissions",
            SyncPhase::UpdatingAccess => "updating access lists",
            SyncPhase::Deleting => "deleting what is gone",
            SyncPhase::Finished => "finished",
        }),
        SyncEvent::SpaceStarted { .. } => handle.set_prefix("crawling"),
        SyncEvent::Progress(p) => {
            let waits = if p.rate_limit_waits > 0 {
                format!(
                    " · {} rate-limit waits ({:.0} s)",
                    p.rate_limit_waits, p.rate_limit_wait_s
                )
            } else {
                String::new()
            };
            handle.set_message(format!(
                "{} docs · {:.0} docs/s · spaces {}/{} · {} requests{waits}{}",
                p.docs_seen,
                p.docs_per_second,
                p.spaces_done,
                p.spaces_total,
                p.requests,
                p.eta_s
                    .map(|s| format!(" · ETA {s:.0} s"))
                    .unwrap_or_default(),
            ));
        }
        SyncEvent::Warning { message } => handle.println(format!("warning: {message}")),
        SyncEvent::SpaceFinished { .. } => {}
    });
    (bar, handler)
}

/// The job as one JSON object, for scripts.
pub fn summary_json(job: &JobRecord, target: &str) -> serde_json::Value {
    let duration = job.duration_s.unwrap_or_default();
    json!({
        "job_id": job.id,
        "status": job.status,
        "target": target,
        "indexed_document_count": job.counters.indexed_document_count,
        "indexed_document_volume": job.counters.indexed_document_volume,
        "deleted_document_count": job.counters.deleted_document_count,
        "created": job.counters.created,
        "updated": job.counters.updated,
        "skipped": job.counters.skipped,
        "failed": job.counters.failed,
        "downloaded_bytes": job.counters.downloaded_bytes,
        "requests": job.requests,
        "duration_s": duration,
        "docs_per_second": if duration > 0.0 { job.counters.indexed_document_count as f64 / duration } else { 0.0 },
        "errors": job.errors,
    })
}

/// The job in a few lines, for people.
pub fn print_summary(job: &JobRecord, target: &str) {
    let c = &job.counters;
    let duration = job.duration_s.unwrap_or_default();
    let rate = if duration > 0.0 {
        c.indexed_document_count as f64 / duration
    } else {
        0.0
    };
    println!(
        "Sync {} into {target} in {duration:.1} s: {} indexed ({} created, {} updated), {} deleted, {} failed; {:.0} docs/s, {} requests to Confluence",
        serde_json::to_value(job.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        c.indexed_document_count,
        c.created,
        c.updated,
        c.deleted_document_count,
        c.failed,
        rate,
        job.requests,
    );
    for error in &job.errors {
        println!("  problem in {}: {}", error.context, error.message);
    }
}

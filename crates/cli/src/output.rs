//! Terminal output: the progress bar of a running sync, its closing summary, and the rows of
//! `jobs`.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, TimeZone};
use connector::events::{Counters, EventHandler, Progress, SyncEvent, SyncPhase};
use connector::{DeltaInfo, JobRecord};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::commands::sync::kind_name;

/// A progress bar on stderr that follows a sync's events: documents done of the documents in
/// scope once their total is known (a spinner until then), the phase, what is under way, and a
/// rate-limit wait; hidden when `quiet` or not on a terminal.
pub fn progress(quiet: bool) -> (ProgressBar, EventHandler) {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(spinner_style());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_prefix("starting");
    let handle = bar.clone();
    let counted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler: EventHandler = Arc::new(move |event: &SyncEvent| match event {
        SyncEvent::Phase { phase } => handle.set_prefix(phase_words(*phase)),
        SyncEvent::Progress(p) => {
            match p.docs_total {
                Some(total) => {
                    if !counted.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        handle.set_style(bar_style());
                    }
                    handle.set_length(total);
                    handle.set_position(p.docs_done.min(total));
                }
                None => {
                    if counted.swap(false, std::sync::atomic::Ordering::Relaxed) {
                        handle.set_style(spinner_style());
                    }
                }
            }
            handle.set_message(progress_message(p));
        }
        SyncEvent::Warning { message } => handle.println(format!("warning: {message}")),
        SyncEvent::SpaceStarted { .. } | SyncEvent::SpaceFinished { .. } => {}
    });
    (bar, handler)
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:.bold} [{bar:24}] {pos}/{len} docs · {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// What a phase is called on the progress bar.
pub fn phase_words(phase: SyncPhase) -> &'static str {
    match phase {
        SyncPhase::Validating => "validating",
        SyncPhase::ListingSpaces => "listing spaces",
        SyncPhase::Crawling => "crawling",
        SyncPhase::Reconciling => "reconciling ids and permissions",
        SyncPhase::UpdatingAccess => "updating access lists",
        SyncPhase::Writing => "writing the last documents",
        SyncPhase::Deleting => "reconciling deletions",
        SyncPhase::AccessControl => "writing identity documents",
        SyncPhase::Finished => "finished",
    }
}

/// The message beside the bar: a rate-limit wait first, then what is under way, the counts,
/// the documents listed while the total is unknown, and the time left.
pub fn progress_message(p: &Progress) -> String {
    let mut parts = Vec::new();
    if p.rate_limit_resume_s > 0.0 {
        parts.push(format!(
            "waiting for Confluence's rate limit, resuming in {:.0} s",
            p.rate_limit_resume_s.ceil()
        ));
    }
    let a = &p.activity;
    let busy: Vec<String> = [
        (a.listing, "listing"),
        (a.fetching, "fetching"),
        (a.downloading, "downloading"),
        (a.extracting, "extracting"),
        (a.writing, "writing"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{what} {n}"))
    .collect();
    if !busy.is_empty() {
        parts.push(busy.join(", "));
    }
    let c = &p.counters;
    let mut counts = format!("{} new, {} changed", c.created, c.updated);
    if c.unchanged > 0 {
        counts.push_str(&format!(", {} unchanged", c.unchanged));
    }
    if c.deleted_document_count > 0 {
        counts.push_str(&format!(", {} deleted", c.deleted_document_count));
    }
    if c.failed > 0 {
        counts.push_str(&format!(", {} failed", c.failed));
    }
    parts.push(counts);
    if p.docs_total.is_none() {
        parts.push(format!("{} listed so far", p.docs_listed));
    }
    parts.push(format!("{:.0} docs/s", p.docs_per_second));
    if let Some(eta) = p.eta_s {
        parts.push(format!("ETA {eta:.0} s"));
    }
    parts.join(" · ")
}

/// The job as one JSON object, for scripts.
pub fn summary_json(job: &JobRecord, target: &str) -> serde_json::Value {
    let duration = job.duration_s.unwrap_or_default();
    let c = &job.counters;
    json!({
        "job_id": job.id,
        "job_type": job.job_type,
        "status": job.status,
        "target": target,
        "indexed_document_count": c.indexed_document_count,
        "indexed_document_volume": c.indexed_document_volume,
        "deleted_document_count": c.deleted_document_count,
        "created": c.created,
        "updated": c.updated,
        "moved": c.moved,
        "permissions_updated": c.permissions_updated,
        "unchanged": c.unchanged,
        "skipped": c.skipped,
        "failed": c.failed,
        "downloaded_bytes": c.downloaded_bytes,
        "requests": job.requests,
        "duration_s": duration,
        "docs_per_second": if duration > 0.0 { c.indexed_document_count as f64 / duration } else { 0.0 },
        "delta": job.delta,
        "notes": job.notes,
        "errors": job.errors,
    })
}

/// The job in a few lines, for people.
pub fn print_summary(job: &JobRecord, target: &str) {
    for line in summary_lines(job, target, &Local) {
        println!("{line}");
    }
}

/// The lines of [`print_summary`], with times in `tz`: what the job did, its cursor (incremental
/// syncs), its notes and its errors.
pub fn summary_lines<Tz: TimeZone>(job: &JobRecord, target: &str, tz: &Tz) -> Vec<String>
where
    Tz::Offset: Display,
{
    let c = &job.counters;
    let duration = job.duration_s.unwrap_or_default();
    let rate = if duration > 0.0 {
        c.indexed_document_count as f64 / duration
    } else {
        0.0
    };
    let mut lines = vec![format!(
        "{} sync {} into {target} in {duration:.1} s: {}; {rate:.0} docs/s, {} requests to Confluence",
        capitalized(kind_name(job.job_type)),
        job.status.as_str(),
        changes_phrase(c),
        job.requests,
    )];
    lines.extend(job_detail_lines(job, tz));
    lines.extend(
        job.errors
            .iter()
            .map(|e| format!("  problem in {}: {}", e.context, e.message)),
    );
    lines
}

/// "389 indexed (380 new, 9 changed), 0 deleted, 1024 unchanged, 0 failed", with the moved and
/// permissions-updated documents when there are any.
pub fn changes_phrase(c: &Counters) -> String {
    let mut parts = vec![format!(
        "{} indexed ({} new, {} changed)",
        c.indexed_document_count, c.created, c.updated
    )];
    if c.moved > 0 {
        parts.push(format!("{} moved", c.moved));
    }
    parts.push(format!("{} deleted", c.deleted_document_count));
    if c.permissions_updated > 0 {
        parts.push(format!("{} permissions updated", c.permissions_updated));
    }
    parts.push(format!("{} unchanged", c.unchanged));
    parts.push(format!("{} failed", c.failed));
    parts.join(", ")
}

/// The lines under a job: the cursor of an incremental sync and whether it reconciled, then its
/// notes (informational, not errors). Indented by two spaces; none for most full syncs.
pub fn job_detail_lines<Tz: TimeZone>(job: &JobRecord, tz: &Tz) -> Vec<String>
where
    Tz::Offset: Display,
{
    let mut lines = Vec::new();
    if let Some(delta) = &job.delta {
        lines.push(format!("  {}", cursor_line(delta, tz)));
    }
    lines.extend(job.notes.iter().map(|note| format!("  note: {note}")));
    lines
}

/// `changes since 2026-12-02 09:53:21 +01:00 (CQL lastmodified >= "2026-12-02 09:53" in
/// Europe/Berlin, 300 s overlap); reconciliation ran`, with `since` in `tz`.
pub fn cursor_line<Tz: TimeZone>(delta: &DeltaInfo, tz: &Tz) -> String
where
    Tz::Offset: Display,
{
    let since = chrono::DateTime::parse_from_rfc3339(&delta.since).map_or_else(
        |_| delta.since.clone(),
        |t| {
            t.with_timezone(tz)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        },
    );
    format!(
        "changes since {since} (CQL lastmodified >= \"{}\" in {}, {} s overlap); {}",
        delta.since_literal,
        delta.time_zone,
        delta.overlap_s,
        if delta.reconciled {
            "reconciliation ran"
        } else {
            "no reconciliation (deletions, moves and access changes not looked for)"
        }
    )
}

/// The heading of [`job_row`]s.
pub fn job_table_header() -> String {
    format!(
        "{:<24}  {:<14} {:<11} {:<9} {:>6} {:>7} {:>5} {:>7} {:>5} {:>9} {:>6} {:>8}  {}",
        "STARTED",
        "KIND",
        "STATUS",
        "TRIGGER",
        "NEW",
        "CHANGED",
        "MOVED",
        "DELETED",
        "PERMS",
        "UNCHANGED",
        "FAILED",
        "DURATION",
        "JOB"
    )
}

/// One job of `confluence-connector jobs`, under [`job_table_header`]. PERMS counts the
/// documents whose access list alone was rewritten.
pub fn job_row(job: &JobRecord) -> String {
    let c = &job.counters;
    format!(
        "{:<24}  {:<14} {:<11} {:<9} {:>6} {:>7} {:>5} {:>7} {:>5} {:>9} {:>6} {:>6.1} s  {}",
        job.started_at,
        kind_name(job.job_type),
        job.status.as_str(),
        job.trigger,
        c.created,
        c.updated,
        c.moved,
        c.deleted_document_count,
        c.permissions_updated,
        c.unchanged,
        c.failed,
        job.duration_s.unwrap_or_default(),
        job.id
    )
}

/// `full` -> `Full`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;
    use connector::{JobStatus, JobType};
    use serde_json::Value;

    use super::*;

    fn job(kind: JobType) -> JobRecord {
        JobRecord {
            id: "job-2".to_owned(),
            connection_id: Some("c1".to_owned()),
            job_type: kind,
            trigger: "cli".to_owned(),
            status: JobStatus::Completed,
            started_at: "2026-12-02T09:00:00.000Z".to_owned(),
            ended_at: Some("2026-12-02T09:00:02.000Z".to_owned()),
            duration_s: Some(2.0),
            counters: Counters {
                indexed_document_count: 15,
                created: 12,
                updated: 3,
                moved: 1,
                deleted_document_count: 2,
                permissions_updated: 4,
                unchanged: 380,
                ..Counters::default()
            },
            requests: 40,
            errors: vec![],
            config: Value::Null,
            rules: Value::Null,
            delta: None,
            notes: vec![],
        }
    }

    fn delta(reconciled: bool) -> DeltaInfo {
        DeltaInfo {
            since: "2026-12-02T08:53:21.000Z".to_owned(),
            since_literal: "2026-12-02 09:53".to_owned(),
            time_zone: "Europe/Berlin".to_owned(),
            overlap_s: 300,
            cursor_job: "job-1".to_owned(),
            reconciled,
        }
    }

    fn plus_one() -> FixedOffset {
        FixedOffset::east_opt(3600).unwrap()
    }

    #[test]
    fn the_progress_message_counts_documents_and_says_when_confluence_holds_the_sync() {
        let mut p = Progress {
            docs_listed: 40,
            docs_done: 30,
            docs_per_second: 12.4,
            counters: Counters {
                created: 20,
                updated: 3,
                unchanged: 7,
                ..Counters::default()
            },
            activity: connector::events::Activity {
                listing: 2,
                downloading: 1,
                ..Default::default()
            },
            ..Progress::default()
        };
        assert_eq!(
            progress_message(&p),
            "listing 2, downloading 1 · 20 new, 3 changed, 7 unchanged · 40 listed so far · 12 docs/s"
        );
        p.docs_total = Some(120);
        p.eta_s = Some(30.2);
        p.rate_limit_resume_s = 11.2;
        p.activity = Default::default();
        assert_eq!(
            progress_message(&p),
            "waiting for Confluence's rate limit, resuming in 12 s · 20 new, 3 changed, 7 unchanged · 12 docs/s · ETA 30 s"
        );
        assert_eq!(phase_words(SyncPhase::Deleting), "reconciling deletions");
    }

    #[test]
    fn the_summary_of_an_incremental_sync_names_every_change_its_cursor_and_its_notes() {
        let mut job = job(JobType::Incremental);
        job.delta = Some(delta(true));
        job.notes =
            vec!["Space ENG was archived: its documents stay until a full sync.".to_owned()];
        let lines = summary_lines(&job, "local index `sandbox`", &plus_one());
        assert_eq!(
            lines,
            [
                "Incremental sync completed into local index `sandbox` in 2.0 s: 15 indexed (12 new, 3 changed), 1 moved, 2 deleted, 4 permissions updated, 380 unchanged, 0 failed; 8 docs/s, 40 requests to Confluence",
                "  changes since 2026-12-02 09:53:21 +01:00 (CQL lastmodified >= \"2026-12-02 09:53\" in Europe/Berlin, 300 s overlap); reconciliation ran",
                "  note: Space ENG was archived: its documents stay until a full sync.",
            ]
        );
    }

    #[test]
    fn a_full_sync_summary_stays_one_line_and_shows_its_unchanged_documents() {
        let mut job = job(JobType::Full);
        job.counters.moved = 0;
        job.counters.permissions_updated = 0;
        let lines = summary_lines(&job, "local index `sandbox`", &plus_one());
        assert_eq!(
            lines,
            [
                "Full sync completed into local index `sandbox` in 2.0 s: 15 indexed (12 new, 3 changed), 2 deleted, 380 unchanged, 0 failed; 8 docs/s, 40 requests to Confluence"
            ]
        );
    }

    #[test]
    fn an_incremental_sync_without_reconciliation_or_a_known_time_zone_says_so() {
        let mut delta = delta(false);
        // The engine's words when Confluence did not say which zone the user reads dates in.
        delta.since_literal = "2026-12-01 20:53".to_owned();
        delta.time_zone = "unknown (Confluence did not say; the literal looks back 12 hours \
                           further, which covers every zone)"
            .to_owned();
        assert_eq!(
            cursor_line(&delta, &chrono::Utc),
            "changes since 2026-12-02 08:53:21 +00:00 (CQL lastmodified >= \"2026-12-01 20:53\" \
             in unknown (Confluence did not say; the literal looks back 12 hours further, which \
             covers every zone), 300 s overlap); no reconciliation (deletions, moves and access \
             changes not looked for)"
        );
    }

    #[test]
    fn the_json_summary_carries_the_new_counters_the_cursor_and_the_notes() {
        let mut job = job(JobType::Full);
        job.notes = vec![
            "No earlier sync of this connection listed everything: this incremental sync ran as a full sync."
                .to_owned(),
        ];
        let summary = summary_json(&job, "local index `sandbox`");
        assert_eq!(summary["job_type"], "full");
        assert_eq!(summary["unchanged"], 380);
        assert_eq!(summary["permissions_updated"], 4);
        assert_eq!(summary["moved"], 1);
        assert_eq!(summary["delta"], Value::Null);
        assert_eq!(summary["notes"][0], job.notes[0].as_str());
        job.delta = Some(delta(true));
        let summary = summary_json(&job, "local index `sandbox`");
        assert_eq!(summary["delta"]["since_literal"], "2026-12-02 09:53");
        assert_eq!(summary["delta"]["reconciled"], true);
    }

    #[test]
    fn the_jobs_table_lines_up_every_counter_under_its_heading() {
        let mut job = job(JobType::Incremental);
        job.delta = Some(delta(false));
        let header = job_table_header();
        let row = job_row(&job);
        assert_eq!(header.find("JOB"), row.find("job-2"), "{header}\n{row}");
        for (heading, value) in [
            ("NEW", "12"),
            ("CHANGED", "3"),
            ("MOVED", "1"),
            ("DELETED", "2"),
            ("PERMS", "4"),
            ("UNCHANGED", "380"),
        ] {
            let end = header.find(heading).unwrap() + heading.len();
            assert_eq!(
                &row[end - value.len()..end],
                value,
                "{heading}\n{header}\n{row}"
            );
        }
        assert!(row.starts_with("2026-12-02T09:00:00.000Z  incremental    completed   cli "));
        assert_eq!(
            job_detail_lines(&job, &plus_one()),
            [format!("  {}", cursor_line(&delta(false), &plus_one()))]
        );
    }
}

// View logic of the job history and the full sync's deletion check: the engine's words, made
// into sentences, what a job did to the index, the cursor of an incremental sync, and what an
// interrupted job had done.
import type { Counters, DeletionCheck, DeltaInfo, JobRecord } from "../api/commands";
import { formatDuration, formatNumber, formatTime, jobTypeWord, plural, statusWord } from "./format";

/** `text` as a sentence: capital first letter, one final period. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * The note under a job of the history: for an interrupted job, why it stopped (the engine's note
 * in its errors) and the counters it had reached; `null` for other jobs.
 */
export function jobNote(job: JobRecord): string | null {
  if (job.status !== "interrupted") return null;
  const why =
    [...job.errors].reverse().find((e) => e.context === "job")?.message ??
    "the process running this sync stopped without finishing; the next sync resumes from its checkpoints";
  const c = job.counters;
  return `${sentence(why)} Before it stopped it had indexed ${plural(c.indexed_document_count, "document")}, deleted ${formatNumber(c.deleted_document_count)} and failed on ${formatNumber(c.failed)}.`;
}

/** "This will remove N of M documents from the index (…)." when the next full sync removes any. */
export function deletionText(check: DeletionCheck | null): string | null {
  return check?.message && check.preview.removed > 0 ? sentence(check.message) : null;
}

/** Whether the full sync must ask before it starts: the removal exceeds the threshold. */
export function needsConfirmation(check: DeletionCheck | null): boolean {
  return !!check && check.preview.removed > 0 && check.preview.needs_confirmation;
}

/** The counters that say what a sync did to each document, in the order they are shown. */
export type ChangeKey = "created" | "updated" | "moved" | "deleted_document_count" | "permissions_updated" | "unchanged";

/** One of them, for people. */
export interface ChangeCount {
  key: ChangeKey;
  /** "new", "changed", ... */
  label: string;
  /** "New", "Changed", ...: a column heading. */
  heading: string;
  /** What the number counts, for a tooltip. */
  hint: string;
  value: number;
}

const CHANGES: Omit<ChangeCount, "heading" | "value">[] = [
  { key: "created", label: "new", hint: "Documents new to the index" },
  { key: "updated", label: "changed", hint: "Documents whose content changed: fetched and written again" },
  { key: "moved", label: "moved", hint: "Pages and blog posts re-indexed because they moved to another space or parent" },
  { key: "deleted_document_count", label: "deleted", hint: "Documents removed from the index because they are gone from Confluence" },
  { key: "permissions_updated", label: "permissions updated", hint: "Documents whose access alone changed: only their access list was rewritten" },
  { key: "unchanged", label: "unchanged", hint: "Version and access unchanged: skipped without download or rewrite" },
];

/** What a sync did, document by document: new, changed, moved, deleted, permissions updated, unchanged. */
export function changeCounts(counters: Partial<Counters> | null | undefined): ChangeCount[] {
  return CHANGES.map((c) => ({ ...c, heading: c.label[0].toUpperCase() + c.label.slice(1), value: counters?.[c.key] ?? 0 }));
}

/** "12 new · 3 changed · 380 unchanged": the counts that are not zero, or "no document changed". */
export function changesText(counters: Counters): string {
  const parts = changeCounts(counters)
    .filter((c) => c.value > 0)
    .map((c) => `${formatNumber(c.value)} ${c.label}`);
  return parts.length > 0 ? parts.join(" · ") : "no document changed";
}

/**
 * "Full content sync completed in 4.3 s: 389 documents indexed (389 new, 0 changed), 0 deleted,
 * 0 failed." Moved, permissions updated and unchanged documents are named when there are any.
 */
export function outcomeText(job: JobRecord): string {
  const c = job.counters;
  const some = (n: number | undefined, what: string) => (n ? [`${formatNumber(n)} ${what}`] : []);
  const parts = [
    `${plural(c.indexed_document_count, "document")} indexed (${formatNumber(c.created)} new, ${formatNumber(c.updated)} changed)`,
    ...some(c.moved, "moved"),
    `${formatNumber(c.deleted_document_count)} deleted`,
    ...some(c.permissions_updated, "permissions updated"),
    ...some(c.unchanged, "unchanged"),
    `${formatNumber(c.failed)} failed`,
  ];
  return `${jobTypeWord(job.job_type)} sync ${statusWord(job.status).toLowerCase()} in ${formatDuration(job.duration_s)}: ${parts.join(", ")}.`;
}

/** The cursor of an incremental sync, in pieces a view can lay out. */
export interface Cursor {
  /** The local time the delta starts from. */
  since: string;
  /** The CQL condition sent: `lastmodified >= "2026-12-02 09:53"`. */
  cql: string;
  /** The time zone the CQL literal is written in (the engine says when Confluence gave none). */
  zone: string;
  /** The overlap window, in seconds. */
  overlapS: string;
}

/** The pieces of `delta`'s cursor. */
export function cursor(delta: DeltaInfo): Cursor {
  return {
    since: formatTime(delta.since),
    cql: `lastmodified >= "${delta.since_literal}"`,
    zone: delta.time_zone,
    overlapS: formatNumber(delta.overlap_s),
  };
}

/** 'changes since 2 Dec 2026, 09:53 (CQL lastmodified >= "2026-12-02 09:53" in Europe/Berlin, 300 s overlap)' */
export function cursorText(delta: DeltaInfo): string {
  const c = cursor(delta);
  return `changes since ${c.since} (CQL ${c.cql} in ${c.zone}, ${c.overlapS} s overlap)`;
}

/** Whether the incremental sync also reconciled ids (deletions, moves, permission changes). */
export function reconciledText(delta: DeltaInfo): string {
  return delta.reconciled
    ? "Reconciliation ran: every id, version and restriction in scope was listed to find what moved, is gone or changed access."
    : "No reconciliation in this run: deletions, moves and access changes were not looked for.";
}

/** The job's informational notes (not errors), as sentences. */
export function jobNotes(job: JobRecord): string[] {
  return (job.notes ?? []).map(sentence).filter((n) => n !== "");
}

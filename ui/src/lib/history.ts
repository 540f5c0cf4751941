// View logic of the job history and the full sync's deletion check: the engine's words, made
// into sentences, and what an interrupted job had done.
import type { DeletionCheck, JobRecord } from "../api/commands";
import { formatDuration, formatNumber, jobTypeWord, plural, statusWord } from "./format";

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

/** "Full content sync completed in 4.3 s: 389 documents indexed, 0 deleted, 0 failed." */
export function outcomeText(job: JobRecord): string {
  const c = job.counters;
  return `${jobTypeWord(job.job_type)} sync ${statusWord(job.status).toLowerCase()} in ${formatDuration(job.duration_s)}: ${plural(c.indexed_document_count, "document")} indexed, ${formatNumber(c.deleted_document_count)} deleted, ${formatNumber(c.failed)} failed.`;
}

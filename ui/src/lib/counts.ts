// The counts a person reads about a connection, each from one source: the documents in its index
// (counted by the engine when a content sync ended) and what its last content sync did; and
// what the rules preview counts. The connection list, the dashboard and the rules view share
// these words.
import type { ConnectionSummary, Preview } from "../api/commands";

type LastSync = NonNullable<ConnectionSummary["last_content_sync"]>;
import { formatNumber, formatTime, jobTypeWord, plural, statusWord } from "./format";

/** "389 documents", or null before a content sync counted the index. */
export function indexCountText(c: ConnectionSummary | undefined | null): string | null {
  if (!c || c.documents_in_index === null || c.documents_in_index === undefined) return null;
  return plural(c.documents_in_index, "document");
}

/** "counted when the last content sync ended, 2 Dec 2026, 08:58". */
export function indexCountedText(c: ConnectionSummary | undefined | null): string | null {
  if (!c?.documents_counted_at) return null;
  return `counted when a content sync ended, ${formatTime(c.documents_counted_at)}`;
}

/** "389 new, 0 changed, 0 deleted" (and unchanged, moved and failed when there are any). */
export function changesText(s: LastSync): string {
  const c = s.counters;
  const parts = [`${formatNumber(c.created)} new`, `${formatNumber(c.updated)} changed`];
  if (c.moved > 0) parts.push(`${formatNumber(c.moved)} moved`);
  parts.push(`${formatNumber(c.deleted_document_count)} deleted`);
  if (c.unchanged > 0) parts.push(`${formatNumber(c.unchanged)} unchanged`);
  if (c.failed > 0) parts.push(`${formatNumber(c.failed)} failed`);
  return parts.join(", ");
}

/** "Full content sync completed: 389 new, 0 changed, 0 deleted", or null before any. */
export function lastContentSyncText(c: ConnectionSummary | undefined | null): string | null {
  const s = c?.last_content_sync;
  if (!s) return null;
  return `${jobTypeWord(s.job_type)} sync ${statusWord(s.status).toLowerCase()}: ${changesText(s)}`;
}

/**
 * The preview's count and what it counts ("about 322 documents would be synced: spaces, pages,
 * ..."), or, when a rule is invalid or refused, the error instead of a count.
 */
export function previewCountText(p: Preview): { text: string; error: boolean } {
  if (p.error) return { text: `No count: ${p.error}`, error: true };
  const about = p.exact ? "" : "about ";
  return { text: `${about}${plural(p.total, "document")} would be synced: ${p.counts}.`, error: false };
}

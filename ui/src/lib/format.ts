import type { ConnectionSummary } from "../api/commands";

const DATA_SOURCE_NAMES: Record<string, string> = {
  confluence_cloud: "Confluence Cloud",
  confluence_server: "Confluence Server",
  confluence_data_center: "Confluence Data Center",
};

/** The product name of a `data_source` value. */
export function dataSourceName(value: string): string {
  return DATA_SOURCE_NAMES[value] ?? value;
}

/** "1 document", "389 documents". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

/** 12345 -> "12,345". */
export function formatNumber(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Bytes in the largest unit that keeps the number readable. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Seconds as "4.9 s", "2 min 5 s", "1 h 3 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** An RFC 3339 time as a short local date and time ("29 Nov 2026, 06:12"). */
export function formatTime(rfc3339: string | null | undefined): string {
  if (!rfc3339) return "—";
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  return date.toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

const STATUS_WORDS: Record<string, string> = {
  running: "Running",
  completed: "Completed",
  partial: "Partial (some spaces failed)",
  failed: "Failed",
  canceled: "Canceled",
  interrupted: "Interrupted",
};

/** A job status for people. */
export function statusWord(status: string): string {
  return STATUS_WORDS[status] ?? status;
}

const JOB_TYPE_WORDS: Record<string, string> = {
  full: "Full content",
  incremental: "Incremental content",
  access_control: "Access control",
};

/** A job type for people. */
export function jobTypeWord(jobType: string): string {
  return JOB_TYPE_WORDS[jobType] ?? jobType;
}

/** One line on the connection's last sync, for the connections list. */
export function lastSyncText(connection: ConnectionSummary): string {
  const last = connection.last_sync;
  if (!last) return "Never synced";
  return `${statusWord(last.status)} · ${plural(last.indexed_document_count, "document")} · ${formatTime(last.finished_at)}`;
}

/** A piece of a message: plain words, or something the engine quoted in backticks. */
export interface TextPart {
  text: string;
  code: boolean;
}

/** Splits `message` at its backtick-quoted pieces (`a path`); an unpaired backtick stays text. */
export function quotedParts(message: string): TextPart[] {
  const parts: TextPart[] = [];
  const quoted = /`([^`\n]+)`/g;
  let at = 0;
  for (const m of message.matchAll(quoted)) {
    if (m.index > at) parts.push({ text: message.slice(at, m.index), code: false });
    parts.push({ text: m[1], code: true });
    at = m.index + m[0].length;
  }
  if (at < message.length) parts.push({ text: message.slice(at), code: false });
  return parts;
}

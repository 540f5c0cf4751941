// View logic of the schedules screen, the dashboard's and the connections list's "next run": one
// editable row per kind of sync, what changed, and the next run in words. The engine validates
// the specs and computes the runs.
import type { JobType, Schedule } from "../api/commands";
import { formatTime, jobTypeWord } from "./format";

/** The kinds of sync a connection can schedule, in the order the screen shows them. */
export const SCHEDULE_KINDS: JobType[] = ["full", "incremental", "access_control"];

/** One row of the schedules form. */
export interface ScheduleRow {
  jobType: JobType;
  enabled: boolean;
  spec: string;
  /** The schedule as saved, if any. */
  saved: Schedule | null;
  /** The engine's message about `spec`, after a save it refused. */
  problem: string | null;
}

/** One row per kind, from the saved schedules (an unsaved kind is off with no spec). */
export function scheduleRows(saved: Schedule[]): ScheduleRow[] {
  return SCHEDULE_KINDS.map((jobType) => {
    const s = saved.find((x) => x.job_type === jobType) ?? null;
    return { jobType, enabled: s?.enabled ?? false, spec: s?.spec ?? "", saved: s, problem: null };
  });
}

/** Whether a row differs from what is saved (an empty, off row with nothing saved does not). */
export function isDirty(row: ScheduleRow): boolean {
  if (!row.saved) return row.enabled || row.spec.trim() !== "";
  return row.enabled !== row.saved.enabled || row.spec.trim() !== row.saved.spec;
}

/**
 * The rows after a save: fresh from the engine, except rows it refused, which keep what the user
 * typed and the engine's message.
 */
export function afterSave(fresh: Schedule[], rows: ScheduleRow[]): ScheduleRow[] {
  return scheduleRows(fresh).map((row) => {
    const refused = rows.find((r) => r.jobType === row.jobType && r.problem);
    return refused ? { ...row, enabled: refused.enabled, spec: refused.spec, problem: refused.problem } : row;
  });
}

/** The earliest next run among the schedules of connection `id` that are on. */
export function nextRun(schedules: Schedule[], id: string): Schedule | null {
  return (
    schedules
      .filter((s) => s.connection_id === id && s.enabled && s.next_run_at)
      .sort((a, b) => Date.parse(a.next_run_at!) - Date.parse(b.next_run_at!))[0] ?? null
  );
}

/** "in 12 s", "in 5 min", "in 3 h", "now" (for a run that is due). */
export function relativeTime(at: string, now = Date.now()): string {
  const s = Math.round((Date.parse(at) - now) / 1000);
  if (Number.isNaN(s)) return "";
  if (s <= 0) return "now";
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  if (s < 86400) return `in ${Math.round(s / 3600)} h`;
  return `in ${Math.round(s / 86400)} d`;
}

/** "Full content sync, 2 Dec 2026, 10:15 (in 5 min)", or `null` without a schedule that is on. */
export function nextRunText(next: Schedule | null, now = Date.now()): string | null {
  if (!next?.next_run_at) return null;
  return `${jobTypeWord(next.job_type)} sync, ${formatTime(next.next_run_at)} (${relativeTime(next.next_run_at, now)})`;
}

import { describe, expect, it } from "vitest";
import type { Schedule } from "../../src/api/commands";
import { afterSave, isDirty, nextRun, nextRunText, relativeTime, scheduleRows } from "../../src/lib/schedules";

const schedule = (patch: Partial<Schedule>): Schedule => ({
  connection_id: "c",
  job_type: "full",
  enabled: true,
  spec: "every 15m",
  next_run_at: "2026-12-02T10:15:00.000Z",
  last_run_at: null,
  ...patch,
});

describe("schedules form", () => {
  it("shows one row per kind of sync, unsaved kinds off and empty", () => {
    const rows = scheduleRows([schedule({ job_type: "access_control", spec: "0 3 * * *" })]);
    expect(rows.map((r) => [r.jobType, r.enabled, r.spec])).toEqual([
      ["full", false, ""],
      ["incremental", false, ""],
      ["access_control", true, "0 3 * * *"],
    ]);
    expect(rows.some(isDirty)).toBe(false);
  });

  it("knows what changed", () => {
    const [full, , acl] = scheduleRows([schedule({ job_type: "access_control" })]);
    expect(isDirty({ ...full, enabled: true })).toBe(true);
    expect(isDirty({ ...full, spec: "1h" })).toBe(true);
    expect(isDirty({ ...acl, spec: " every 15m " })).toBe(false);
    expect(isDirty({ ...acl, enabled: false })).toBe(true);
  });

  it("after a save, keeps what the user typed in the rows the engine refused, with its message", () => {
    const rows = scheduleRows([]);
    rows[0] = { ...rows[0], enabled: true, spec: "every 15m" };
    rows[2] = { ...rows[2], enabled: true, spec: "0 3 * *", problem: "`0 3 * *` is not a valid cron expression" };
    const next = afterSave([schedule({})], rows);
    expect(next[0]).toMatchObject({ enabled: true, spec: "every 15m", problem: null });
    expect(next[0].saved?.next_run_at).toBe("2026-12-02T10:15:00.000Z");
    expect(next[2]).toMatchObject({ enabled: true, spec: "0 3 * *", saved: null });
    expect(next[2].problem).toMatch(/not a valid cron/);
  });
});

describe("next run", () => {
  const now = Date.parse("2026-12-02T10:00:00.000Z");
  const list = [
    schedule({ next_run_at: "2026-12-02T11:00:00.000Z" }),
    schedule({ job_type: "access_control", next_run_at: "2026-12-02T10:00:12.000Z" }),
    schedule({ job_type: "incremental", enabled: false, next_run_at: null }),
    schedule({ connection_id: "other", next_run_at: "2026-12-02T10:00:01.000Z" }),
  ];

  it("is the earliest run of the connection's schedules that are on", () => {
    expect(nextRun(list, "c")?.job_type).toBe("access_control");
    expect(nextRun(list, "nobody")).toBeNull();
    expect(nextRun([schedule({ enabled: false, next_run_at: null })], "c")).toBeNull();
  });

  it("is said in words, relative to now", () => {
    expect(relativeTime("2026-12-02T10:00:12.000Z", now)).toBe("in 12 s");
    expect(relativeTime("2026-12-02T10:05:00.000Z", now)).toBe("in 5 min");
    expect(relativeTime("2026-12-02T13:00:00.000Z", now)).toBe("in 3 h");
    expect(relativeTime("2026-12-04T10:00:00.000Z", now)).toBe("in 2 d");
    expect(relativeTime("2026-12-02T09:59:00.000Z", now)).toBe("now");
    expect(nextRunText(nextRun(list, "c"), now)).toMatch(/^Access control sync, 2 Dec 2026, \d\d:00 \(in 12 s\)$/);
    expect(nextRunText(null, now)).toBeNull();
  });
});

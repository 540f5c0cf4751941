import { describe, expect, it } from "vitest";
import type { SyncEventMessage } from "../../src/api/commands";
import type { RunningSync } from "../../src/api/commands";
import { afterPoll, applyEvent, chartPoints, etaText, fromRunning, ownerText, peakRate, phaseWord, spaceShare } from "../../src/lib/progress";
import recorded from "../fixtures/sync_events.json";

const events = recorded as unknown as SyncEventMessage[];
const running = (patch: Partial<RunningSync> = {}): RunningSync => ({
  connection_id: "c",
  job_type: "full",
  started_at: "2026-11-29T06:00:00Z",
  phase: null,
  progress: null,
  warnings: [],
  canceling: false,
  job_id: null,
  trigger: "manual",
  own: true,
  pid: 100,
  host: null,
  ...patch,
});
const start = () => fromRunning(running());

describe("sync dashboard", () => {
  it("folds a recorded sync's events into phase, counters and a throughput series", () => {
    const live = events.filter((m) => m.event.event !== "phase" || true).reduce((s, m) => applyEvent(s, m.event), start());
    expect(live.progress).not.toBeNull();
    expect(live.progress!.docs_seen).toBeGreaterThan(100);
    expect(live.samples.length).toBeGreaterThan(3);
    expect(live.samples.every((s) => s.rate >= 0)).toBe(true);
    expect(spaceShare(live.progress)).toBeGreaterThan(0);
  });

  it("keeps the last warnings only", () => {
    let live = start();
    for (let i = 0; i < 30; i++) live = applyEvent(live, { event: "warning", message: `w${i}` });
    expect(live.warnings).toHaveLength(20);
    expect(live.warnings[19]).toBe("w29");
  });

  it("says what happens in words", () => {
    expect(phaseWord(null)).toBe("Starting");
    expect(phaseWord("deleting")).toMatch(/Deleting/);
    expect(phaseWord("reconciling")).toBe(
      "Reconciling: listing ids, versions and restrictions to find what moved, is gone or changed access",
    );
    expect(phaseWord("updating_access")).toBe("Rewriting access lists");
    expect(etaText(null)).toMatch(/estimating/);
  });

  it("draws the chart inside its box", () => {
    const samples = [
      { t: 0.25, rate: 10 },
      { t: 0.5, rate: 40 },
      { t: 0.75, rate: 20 },
    ];
    expect(peakRate(samples)).toBe(40);
    const points = chartPoints(samples, 100, 50).split(" ").map((p) => p.split(",").map(Number));
    expect(points[0][0]).toBe(0);
    expect(points[2][0]).toBe(100);
    expect(points[1][1]).toBe(0);
    expect(chartPoints([], 100, 50)).toBe("");
  });
});

describe("syncs of another process and of the scheduler", () => {
  const progress = recorded.map((m) => (m as unknown as SyncEventMessage).event).find((e) => e.event === "progress")!;
  const heartbeat = (indexed: number) => {
    if (progress.event !== "progress") throw new Error("not a progress event");
    const { event: _tag, ...p } = progress;
    void _tag;
    return { ...p, docs_seen: 0, counters: { ...p.counters, indexed_document_count: indexed } };
  };
  const cli = (indexed: number) =>
    running({ own: false, pid: 4242, host: "build-7", trigger: "cli", job_id: "j1", progress: heartbeat(indexed) });

  it("shows a sync the CLI runs, follows its heartbeats, and says when it ended", () => {
    let step = afterPoll(null, [cli(10)], "c");
    expect(step.live?.own).toBe(false);
    expect(ownerText(step.live!)).toBe("Started by another process (cli): pid 4242 on build-7.");
    step = afterPoll(step.live, [cli(250)], "c");
    expect(step.live?.progress?.counters.indexed_document_count).toBe(250);
    expect(step.ended).toBe(false);
    step = afterPoll(step.live, [], "c");
    expect(step).toEqual({ live: null, ended: true });
  });

  it("ignores other connections' syncs", () => {
    expect(afterPoll(null, [{ ...cli(1), connection_id: "other" }], "c")).toEqual({ live: null, ended: false });
  });

  it("picks up a sync the scheduler started, and leaves this app's own syncs to their events", () => {
    const scheduled = afterPoll(null, [running({ trigger: "scheduled", job_id: "s1" })], "c");
    expect(scheduled.live?.own).toBe(true);
    expect(ownerText(scheduled.live!)).toBe("Started by its schedule.");
    const mine = applyEvent(start(), progress);
    const polled = afterPoll(mine, [running({ job_id: "j9" })], "c");
    expect(polled.live?.progress).toEqual(mine.progress);
    expect(polled.live?.jobId).toBe("j9");
    // Only `sync-finished` ends this app's sync: a poll that no longer sees it keeps it.
    expect(afterPoll(mine, [], "c")).toEqual({ live: mine, ended: false });
    expect(ownerText(mine)).toBeNull();
  });
});

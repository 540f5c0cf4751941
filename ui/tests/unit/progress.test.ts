import { describe, expect, it } from "vitest";
import type { SyncEventMessage } from "../../src/api/commands";
import { applyEvent, chartPoints, etaText, fromRunning, peakRate, phaseWord, spaceShare } from "../../src/lib/progress";
import recorded from "../fixtures/sync_events.json";

const events = recorded as unknown as SyncEventMessage[];
const start = () =>
  fromRunning({ connection_id: "c", job_type: "full", started_at: "2026-11-29T06:00:00Z", phase: null, progress: null, warnings: [], canceling: false });

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

import { describe, expect, it } from "vitest";
import type { SyncEventMessage } from "../../src/api/commands";
import type { RunningSync } from "../../src/api/commands";
import type { Progress } from "../../src/api/commands";
import {
  activityText,
  afterPoll,
  applyEvent,
  chartPoints,
  docCountText,
  docShare,
  etaText,
  fromRunning,
  ownerText,
  peakRate,
  phaseWord,
  rateLimitText,
} from "../../src/lib/progress";
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
    // The recorded events: the sandbox's full sync, then its access-control sync.
    const end = events.findIndex((m) => m.event.event === "phase" && m.event.phase === "finished");
    const live = events.slice(0, end + 1).reduce((s, m) => applyEvent(s, m.event), start());
    expect(live.progress).not.toBeNull();
    expect(live.progress!.docs_seen).toBeGreaterThan(100);
    expect(live.samples.length).toBeGreaterThan(3);
    expect(live.samples.every((s) => s.rate >= 0)).toBe(true);
    expect(docShare(live.progress)).toBe(1);
  });

  it("shows counts, a bar and an ETA that move with the documents, not with the spaces", () => {
    // The recorded sandbox sync: 6 spaces, 389 documents.
    const progress = events.map((m) => m.event).filter((e) => e.event === "progress") as unknown as Progress[];
    const full = progress.filter((p) => p.docs_total === 389);
    const last = full[full.length - 1];
    expect(last.counters.created).toBe(389);
    // Midway through the crawl: documents written, bytes indexed, a share of the bar and an ETA,
    // while no space has finished yet.
    const midway = full.filter((p) => p.counters.created > 0 && p.counters.created < 389);
    expect(midway.length).toBeGreaterThan(0);
    expect(midway.some((p) => p.counters.indexed_document_volume > 0)).toBe(true);
    const early = full.find((p) => p.spaces_done === 0 && p.docs_done > 0)!;
    expect(docShare(early)).toBeGreaterThan(0);
    expect(docShare(early)).toBeLessThan(1);
    expect(docCountText(early)).toBe(`${early.docs_done} of 389 documents`);
    expect(full.some((p) => p.spaces_done < p.spaces_total && p.eta_s !== null && etaText(p).startsWith("about "))).toBe(true);
    // Every phase the sync went through has words.
    const phases = events.map((m) => m.event).flatMap((e) => (e.event === "phase" ? [e.phase] : []));
    expect(phases).toEqual(expect.arrayContaining(["listing_spaces", "crawling", "writing", "deleting", "access_control"]));
    expect(phases.indexOf("crawling")).toBeGreaterThan(phases.indexOf("listing_spaces"));
    for (const phase of phases) expect(phaseWord(phase)).not.toBe(phase);
  });

  it("says what is under way, and when Confluence's rate limit holds the sync", () => {
    const base = events.map((m) => m.event).find((e) => e.event === "progress") as unknown as Progress;
    const p: Progress = {
      ...base,
      docs_total: null,
      docs_done: 12,
      docs_listed: 40,
      eta_s: null,
      rate_limit_resume_s: 11.2,
      activity: { listing: 2, fetching: 1, downloading: 3, extracting: 0, writing: 25 },
    };
    expect(activityText(p)).toBe("Now 2 listings running · fetching 1 page · downloading 3 files · writing 25 documents");
    expect(rateLimitText(p)).toBe("Waiting for Confluence's rate limit, resuming in 12 s");
    expect(rateLimitText({ ...p, rate_limit_resume_s: 0 })).toBeNull();
    // Before the documents are counted: no bar share, no ETA, what is listed so far.
    expect(docShare(p)).toBeNull();
    expect(etaText(p)).toBe("estimating (counting the documents)");
    expect(docCountText(p)).toBe("12 documents done, 40 listed so far");
    expect(etaText({ ...p, docs_total: 100, eta_s: 75 })).toBe("about 1 min left");
    expect(activityText({ ...p, activity: { listing: 0, fetching: 0, downloading: 0, extracting: 0, writing: 0 } })).toBeNull();
  });

  it("keeps the last warnings only", () => {
    let live = start();
    for (let i = 0; i < 30; i++) live = applyEvent(live, { event: "warning", message: `w${i}` });
    expect(live.warnings).toHaveLength(20);
    expect(live.warnings[19]).toBe("w29");
  });

  it("says what happens in words", () => {
    expect(phaseWord(null)).toBe("Starting");
    expect(phaseWord("deleting")).toMatch(/^Reconciling deletions/);
    expect(phaseWord("reconciling")).toBe(
      "Reconciling: listing ids, versions and restrictions to find what moved, is gone or changed access",
    );
    expect(phaseWord("updating_access")).toBe("Rewriting access lists");
    expect(etaText(null)).toMatch(/estimating/);
    expect(phaseWord("crawling")).toBe("Crawling: listing, fetching, downloading, extracting and writing content");
    expect(phaseWord("access_control")).toMatch(/identity documents/);
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

// View logic of the sync dashboard: fold the engine's events into what the screen shows, and
// turn progress snapshots into a throughput series.
import type { JobType, Progress, RunningSync, SyncEvent, SyncPhase } from "../api/commands";
import { formatNumber, plural } from "./format";

/** One point of the throughput chart. */
export interface Sample {
  /** Seconds since the sync started. */
  t: number;
  /** Documents per second over the last interval. */
  rate: number;
}

export interface LiveSync {
  phase: SyncPhase | null;
  progress: Progress | null;
  warnings: string[];
  samples: Sample[];
  canceling: boolean;
  startedAt: string;
  jobType: JobType;
  /** The job's id, once known. */
  jobId: string | null;
  /** `manual`, `scheduled`, `cli`, ... */
  trigger: string;
  /** True when this app runs it (and can cancel it); false when another process does. */
  own: boolean;
  pid: number;
  host: string | null;
}

const KEPT_WARNINGS = 20;
const KEPT_SAMPLES = 600;

/** The live state of a sync the dashboard learned about from `running_syncs` or `start_sync`. */
export function fromRunning(running: RunningSync): LiveSync {
  return {
    phase: running.phase,
    progress: running.progress,
    warnings: [...running.warnings],
    samples: [],
    canceling: running.canceling,
    startedAt: running.started_at,
    jobType: running.job_type,
    jobId: running.job_id,
    trigger: running.trigger,
    own: running.own,
    pid: running.pid,
    host: running.host,
  };
}

/**
 * The dashboard's live sync of connection `id` after a poll of `running_syncs`: a sync of another
 * process (or one the scheduler started) appears, a sync of another process follows its last
 * heartbeat and, once gone, `ended` tells the dashboard to reload the history. This app's syncs
 * follow their events and end with `sync-finished`.
 */
export function afterPoll(live: LiveSync | null, running: RunningSync[], id: string): { live: LiveSync | null; ended: boolean } {
  const now = running.find((r) => r.connection_id === id);
  if (!now) return live && !live.own ? { live: null, ended: true } : { live, ended: false };
  if (!now.own) {
    const next = fromRunning(now);
    // Keep the throughput series across heartbeats of the same job.
    if (live && !live.own && live.jobId === now.job_id && live.progress && now.progress) {
      next.samples = applyEvent(live, { event: "progress", ...now.progress }).samples;
    }
    return { live: next, ended: false };
  }
  if (!live || !live.own) return { live: fromRunning(now), ended: live !== null };
  return { live: { ...live, jobId: now.job_id ?? live.jobId }, ended: false };
}

/** Who runs the sync, for people: nothing for this app's manual syncs. */
export function ownerText(live: LiveSync): string | null {
  if (!live.own) {
    const by = live.trigger ? ` (${live.trigger})` : "";
    return `Started by another process${by}: pid ${live.pid}${live.host ? ` on ${live.host}` : ""}.`;
  }
  return live.trigger === "scheduled" ? "Started by its schedule." : null;
}

/** `live` after `event`. */
export function applyEvent(live: LiveSync, event: SyncEvent): LiveSync {
  switch (event.event) {
    case "phase":
      return { ...live, phase: event.phase };
    case "warning":
      return { ...live, warnings: [...live.warnings, event.message].slice(-KEPT_WARNINGS) };
    case "progress": {
      const { event: _tag, ...progress } = event;
      void _tag;
      const prev = live.progress;
      const dt = prev ? progress.elapsed_s - prev.elapsed_s : progress.elapsed_s;
      const docs = prev ? progress.docs_seen - prev.docs_seen : progress.docs_seen;
      const samples =
        dt > 0 ? [...live.samples, { t: progress.elapsed_s, rate: Math.max(0, docs / dt) }].slice(-KEPT_SAMPLES) : live.samples;
      return { ...live, progress, samples };
    }
    default:
      return live;
  }
}

const PHASE_WORDS: Record<SyncPhase, string> = {
  validating: "Checking the configuration and connections",
  listing_spaces: "Listing spaces",
  crawling: "Crawling: listing, fetching, downloading, extracting and writing content",
  reconciling: "Reconciling: listing ids, versions and restrictions to find what moved, is gone or changed access",
  updating_access: "Rewriting access lists",
  writing: "Writing the last documents to the index",
  deleting: "Reconciling deletions: removing documents that are gone from Confluence",
  access_control: "Access control: listing users and writing their identity documents",
  finished: "Finishing",
};

/** The phase for people. */
export function phaseWord(phase: SyncPhase | null): string {
  return phase ? PHASE_WORDS[phase] : "Starting";
}

/** Seconds for people: "12 s", "3 min". */
function seconds(s: number): string {
  const n = Math.max(0, Math.round(s));
  return n < 60 ? `${n} s` : `${Math.round(n / 60)} min`;
}

/** "about 12 s left", or why there is no estimate yet. */
export function etaText(progress: Progress | null): string {
  if (!progress || progress.docs_total === null || progress.docs_total === undefined) return "estimating (counting the documents)";
  if (progress.eta_s === null) return "estimating";
  return `about ${seconds(progress.eta_s)} left`;
}

/** "Waiting for Confluence's rate limit, resuming in 12 s", while every request waits. */
export function rateLimitText(progress: Progress | null): string | null {
  const wait = progress?.rate_limit_resume_s ?? 0;
  if (wait <= 0) return null;
  return `Waiting for Confluence's rate limit, resuming in ${seconds(Math.ceil(wait))}`;
}

/** Share of the documents done, 0 to 1; `null` while their total is not known yet. */
export function docShare(progress: Progress | null): number | null {
  const total = progress?.docs_total;
  if (!progress || total === null || total === undefined || total === 0) return null;
  return Math.min(1, progress.docs_done / total);
}

/** "120 of 389 documents", or "120 documents done, 150 listed so far" while the total is unknown. */
export function docCountText(progress: Progress | null): string {
  if (!progress) return "Counting the documents";
  const total = progress.docs_total;
  if (total === null || total === undefined) {
    return `${plural(progress.docs_done, "document")} done, ${formatNumber(progress.docs_listed)} listed so far`;
  }
  return `${formatNumber(progress.docs_done)} of ${plural(total, "document")}`;
}

/** What is under way: "Now 2 listings running · fetching 8 pages · downloading 3 files · ...", or null. */
export function activityText(progress: Progress | null): string | null {
  const a = progress?.activity;
  if (!a) return null;
  const parts = [
    a.listing > 0 ? `${plural(a.listing, "listing")} running` : null,
    a.fetching > 0 ? `fetching ${plural(a.fetching, "page")}` : null,
    a.downloading > 0 ? `downloading ${plural(a.downloading, "file")}` : null,
    a.extracting > 0 ? `extracting ${plural(a.extracting, "file")}` : null,
    a.writing > 0 ? `writing ${plural(a.writing, "document")}` : null,
  ].filter((p): p is string => p !== null);
  return parts.length > 0 ? `Now ${parts.join(" · ")}` : null;
}

/** The SVG polyline points of `samples` in a `width` x `height` box (time left to right). */
export function chartPoints(samples: Sample[], width: number, height: number): string {
  if (samples.length === 0) return "";
  const t0 = samples[0].t;
  const span = Math.max(1e-6, samples[samples.length - 1].t - t0);
  const top = Math.max(1, ...samples.map((s) => s.rate));
  return samples
    .map((s) => {
      const x = samples.length === 1 ? width : ((s.t - t0) / span) * width;
      const y = height - (s.rate / top) * height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

/** The highest rate of `samples` (the chart's scale). */
export function peakRate(samples: Sample[]): number {
  return samples.reduce((m, s) => Math.max(m, s.rate), 0);
}

// How a result reads: success, a result with problems, or a failure, each with its own colour,
// icon and words; and for a failure, what failed in an admin's words and what to do next. The
// engine's own message always goes with it: it names the URL, the field or the variable.
import type { JobRecord } from "../api/commands";
import { formatDuration, formatNumber, jobTypeWord, plural } from "./format";
import { outcomeText } from "./history";

export type Tone = "success" | "warning" | "failure";

/** The icon of each tone (the words say it too: colour and icon are never the only sign). */
export const TONE_ICON: Record<Tone, string> = { success: "✔", warning: "!", failure: "✖" };

/** What failed and what to do about it. */
export interface Explanation {
  /** What failed, in an admin's words; `null` when the engine's message is all there is to say. */
  cause: string | null;
  /** The next step. */
  next: string;
}

interface Known {
  test: RegExp;
  kinds?: string[];
  cause: string;
  next: string;
}

// The engine's messages, by what they are about: the most specific first.
const KNOWN: Known[] = [
  {
    test: /keyring|secret service/i,
    kinds: ["keyring"],
    cause: "The OS keyring, where this app keeps passwords and tokens, could not be used.",
    next:
      "Start and unlock the desktop's keyring (GNOME Keyring or KWallet on Linux) and try again, or give this connection its secrets through the environment variable the message names.",
  },
  {
    test: /does not resolve|dns error|failed to lookup address|name or service not known|nodename nor servname|no such host/i,
    cause: "The host name in the Confluence URL could not be found.",
    next: "Check the Confluence URL for typos, and that this computer can reach the site (network, VPN or proxy).",
  },
  {
    test: /certificate|tls handshake|unknown ?issuer|self[- ]signed/i,
    cause: "The server's TLS certificate was not trusted.",
    next: "Add your company's CA certificate (the TLS settings of the configuration, or the operating system's trust store), or check the URL.",
  },
  {
    test: /connection (was )?refused|tcp connect error|could not reach|connection reset|cut off|network is unreachable|no (network )?route to|no route to host/i,
    cause: "Nothing answered at the Confluence URL.",
    next: "Check the URL (host, port and http or https), that Confluence is up, and the network (VPN, proxy, firewall).",
  },
  {
    test: /timed out|timeout|deadline|no answer from/i,
    cause: "Confluence did not answer in time.",
    next: "Check the network and that the site is not overloaded; raise the timeouts in the advanced settings if the site is slow.",
  },
  {
    test: /refused the .*(token|password|credentials)|(token|password|credentials) (was|were) refused|did not accept the credentials|unauthori[sz]ed|\b401\b|invalid credentials|authentication/i,
    cause: "Confluence refused the credentials.",
    next: "Check the user name or email and the API token or password in the configuration (a token can expire or be revoked).",
  },
  {
    test: /\b403\b|forbidden|not permitted|permission/i,
    cause: "The account may not read what the sync needs.",
    next: "Give the account read access to the spaces (and the permissions document-level security needs), or use another account.",
  },
  {
    test: /elasticsearch|opensearch|cluster|\bindex\b|target|disk watermark/i,
    kinds: ["elasticsearch", "target"],
    cause: "The search index could not be written.",
    next: "Check the target's URL and API key in the configuration, and that the cluster is up and has disk space.",
  },
  {
    test: /invalid sync rules|draft rules are invalid/i,
    cause: "The sync rules are invalid.",
    next: "Open the sync rules, fix the rules marked there and activate them again.",
  },
  {
    test: /deletion|threshold/i,
    cause: "The sync stopped before deleting more documents than the safety threshold allows.",
    next: "If the scope changed on purpose, run the full sync again and confirm the removal.",
  },
];

/** What failed and what to do, from the engine's message and the error's kind. */
export function explainFailure(message: string, kind?: string | null): Explanation {
  const known = KNOWN.find((k) => (kind && k.kinds?.includes(kind)) || k.test.test(message));
  if (known) return { cause: known.cause, next: known.next };
  if (kind === "config" || kind === "invalid")
    return { cause: "The configuration has a problem.", next: "Open the configuration, fix the fields it marks and try again." };
  return { cause: null, next: "Fix what the message names and try again." };
}

/** Success, problems or failure: how a finished job reads. */
export function jobTone(job: JobRecord): Tone {
  if (job.status === "failed") return "failure";
  if (job.status === "completed" && job.counters.failed === 0) return "success";
  return "warning";
}

/** The error that ended a job: the first one the engine recorded (it keeps the fatal one first). */
export function jobCause(job: JobRecord): string | null {
  return job.errors[0]?.message ?? null;
}

/** Everything the banner of a finished job says. */
export interface JobOutcome {
  tone: Tone;
  /** "Full content sync failed", "… completed", "… finished with problems". */
  title: string;
  /** The counts, in one sentence (for a failure: what it did before it stopped). */
  summary: string;
  /** For a failure or problems: what failed, what to do, and the engine's message. */
  explanation: Explanation | null;
  /** The engine's message behind the explanation. */
  message: string | null;
}

/** How the end of `job` reads. `prefix` names who ran it ("Another process's"). */
export function jobOutcome(job: JobRecord, prefix = ""): JobOutcome {
  const tone = jobTone(job);
  const what = `${prefix}${prefix ? jobTypeWord(job.job_type).toLowerCase() : jobTypeWord(job.job_type)} sync`;
  const c = job.counters;
  if (tone === "failure") {
    const message = jobCause(job);
    const done = c.indexed_document_count + c.deleted_document_count;
    return {
      tone,
      title: `${what} failed`,
      summary:
        `It stopped after ${formatDuration(job.duration_s)}` +
        (done > 0
          ? ` and had indexed ${plural(c.indexed_document_count, "document")} and deleted ${formatNumber(c.deleted_document_count)} before it stopped.`
          : ": nothing in the index changed."),
      explanation: message ? explainFailure(message) : { cause: "The sync stopped without a recorded cause.", next: "Run it again; if it fails again, look at the log." },
      message,
    };
  }
  const summary = outcomeText(job).replace(/^[^:]*: /, "");
  if (tone === "warning") {
    const message = jobCause(job);
    const failed = c.failed > 0 ? `${plural(c.failed, "document")} could not be synced; the next sync tries them again.` : null;
    return {
      tone,
      title: `${what} ${job.status === "completed" ? "finished with problems" : job.status === "partial" ? "finished in part" : job.status}`,
      summary: `${summary}${failed ? ` ${failed}` : ""}`,
      explanation: message ? explainFailure(message) : null,
      message,
    };
  }
  return { tone, title: `${what} completed in ${formatDuration(job.duration_s)}`, summary, explanation: null, message: null };
}

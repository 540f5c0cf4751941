import { describe, expect, it } from "vitest";
import type { DeletionCheck, JobRecord } from "../../src/api/commands";
import {
  changeCounts,
  changesText,
  cursor,
  cursorText,
  deletionText,
  jobNote,
  jobNotes,
  needsConfirmation,
  outcomeText,
  reconciledText,
  sentence,
} from "../../src/lib/history";
import { formatTime, statusWord } from "../../src/lib/format";
import recorded from "../fixtures/list_jobs.json";
import incrementals from "../fixtures/list_jobs-incremental.json";

const completed = (recorded as unknown as JobRecord[]).find((j) => j.job_type === "full")!;
const [incremental, ranAsFull] = incrementals as unknown as JobRecord[];

describe("job history", () => {
  it("shows an interrupted job with the engine's note and the counters it had reached", () => {
    const job: JobRecord = {
      ...completed,
      status: "interrupted",
      counters: { ...completed.counters, indexed_document_count: 123, deleted_document_count: 0, failed: 2 },
      errors: [
        { context: "ENG", message: "listing comments failed" },
        {
          context: "job",
          message:
            "the process running this sync stopped without finishing (last sign of life 2026-12-02T08:00:00.000Z); the next sync of this connection resumes from its checkpoints",
        },
      ],
    };
    expect(statusWord("interrupted")).toBe("Interrupted");
    expect(jobNote(job)).toBe(
      "The process running this sync stopped without finishing (last sign of life 2026-12-02T08:00:00.000Z); the next sync of this connection resumes from its checkpoints. Before it stopped it had indexed 123 documents, deleted 0 and failed on 2.",
    );
    expect(jobNote(completed)).toBeNull();
  });

  it("makes sentences of the engine's words", () => {
    expect(sentence("this will remove 3 of 9 documents")).toBe("This will remove 3 of 9 documents.");
    expect(sentence("Done.")).toBe("Done.");
    expect(sentence("  ")).toBe("");
  });
});

describe("deletion check of a full sync", () => {
  const check = (removed: number, needs: boolean): DeletionCheck => ({
    preview: {
      scope_changed: true,
      changes: ["advanced rules changed"],
      removed,
      indexed: 400,
      estimate: false,
      threshold_percent: 50,
      needs_confirmation: needs,
    },
    message: removed > 0 ? `this will remove ${removed} of 400 documents from the index (advanced rules changed)` : null,
  });

  it("says how many documents go, and asks only past the threshold", () => {
    expect(deletionText(check(350, true))).toBe("This will remove 350 of 400 documents from the index (advanced rules changed).");
    expect(needsConfirmation(check(350, true))).toBe(true);
    expect(deletionText(check(20, false))).toMatch(/remove 20 of 400/);
    expect(needsConfirmation(check(20, false))).toBe(false);
    expect(deletionText(check(0, false))).toBeNull();
    expect(deletionText(null)).toBeNull();
    expect(needsConfirmation(null)).toBe(false);
  });
});

describe("what a sync did", () => {
  it("counts new, changed, moved, deleted, permissions updated and unchanged documents, in that order", () => {
    expect(changeCounts(incremental.counters).map((c) => [c.label, c.value])).toEqual([
      ["new", 2],
      ["changed", 5],
      ["moved", 2],
      ["deleted", 1],
      ["permissions updated", 3],
      ["unchanged", 376],
    ]);
    expect(changeCounts(null).every((c) => c.value === 0)).toBe(true);
    expect(changeCounts(incremental.counters)[4].heading).toBe("Permissions updated");
    expect(changesText(incremental.counters)).toBe("2 new · 5 changed · 2 moved · 1 deleted · 3 permissions updated · 376 unchanged");
    expect(changesText({ ...completed.counters, created: 0 })).toBe("no document changed");
  });

  it("sums up an incremental sync and a full sync in one sentence", () => {
    expect(outcomeText(incremental)).toBe(
      "Incremental content sync completed in 1.1 s: 9 documents indexed (2 new, 5 changed), 2 moved, 1 deleted, 3 permissions updated, 376 unchanged, 0 failed.",
    );
    // A full sync names unchanged documents when it skipped some; zero counts of moves and
    // access changes stay out.
    expect(outcomeText({ ...completed, counters: { ...completed.counters, created: 9, unchanged: 380 } })).toBe(
      "Full content sync completed in 4.1 s: 389 documents indexed (9 new, 0 changed), 0 deleted, 380 unchanged, 0 failed.",
    );
  });

  it("gives an incremental sync's cursor: the local time, the CQL literal, its zone and the overlap", () => {
    const delta = incremental.delta!;
    expect(cursorText(delta)).toBe(
      `changes since ${formatTime(delta.since)} (CQL lastmodified >= "2026-12-02 09:53" in Europe/Berlin, 300 s overlap)`,
    );
    expect(cursor(delta).cql).toBe('lastmodified >= "2026-12-02 09:53"');
    expect(reconciledText(delta)).toMatch(/^Reconciliation ran/);
    expect(reconciledText({ ...delta, reconciled: false })).toMatch(/^No reconciliation in this run/);
  });

  it("reads the engine's notes as sentences, and none for a job without", () => {
    expect(jobNotes(ranAsFull)).toEqual(["No earlier sync of this connection listed everything: this incremental sync ran as a full sync."]);
    expect(jobNotes({ ...ranAsFull, notes: ["the cursor job was deleted", " "] })).toEqual(["The cursor job was deleted."]);
    expect(jobNotes(completed)).toEqual([]);
  });
});

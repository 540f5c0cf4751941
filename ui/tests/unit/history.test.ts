import { describe, expect, it } from "vitest";
import type { DeletionCheck, JobRecord } from "../../src/api/commands";
import { deletionText, jobNote, needsConfirmation, sentence } from "../../src/lib/history";
import { statusWord } from "../../src/lib/format";
import recorded from "../fixtures/list_jobs.json";

const completed = (recorded as unknown as JobRecord[]).find((j) => j.job_type === "full")!;

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

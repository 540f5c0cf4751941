import { describe, expect, it } from "vitest";
import type { ConnectionSummary, Preview } from "../../src/api/commands";
import { indexCountText, indexCountedText, lastContentSyncText, previewCountText } from "../../src/lib/counts";
import connections from "../fixtures/list_connections.json";
import recordedPreview from "../fixtures/preview_rules.json";

const sandbox = connections[0] as unknown as ConnectionSummary;
const preview = recordedPreview as unknown as Preview;

describe("one source of each count", () => {
  it("shows the documents in the index, not the identity documents of the last access-control sync", () => {
    // The recorded sandbox: a full sync wrote 389 documents, then an access-control sync 27 identities.
    expect(sandbox.last_sync?.job_type).toBe("access_control");
    expect(sandbox.last_sync?.indexed_document_count).toBe(27);
    expect(indexCountText(sandbox)).toBe("389 documents");
    expect(indexCountedText(sandbox)).toMatch(/^counted when a content sync ended, /);
    expect(lastContentSyncText(sandbox)).toBe("Full content sync completed: 389 new, 0 changed, 0 deleted");
  });

  it("says nothing before a content sync counted", () => {
    const fresh: ConnectionSummary = { ...sandbox, last_sync: null, last_content_sync: null, documents_in_index: null, documents_counted_at: null };
    expect(indexCountText(fresh)).toBeNull();
    expect(indexCountedText(fresh)).toBeNull();
    expect(lastContentSyncText(fresh)).toBeNull();
    expect(indexCountText(undefined)).toBeNull();
  });

  it("names unchanged, moved and failed documents of an incremental sync", () => {
    const incremental: ConnectionSummary = {
      ...sandbox,
      last_content_sync: {
        ...sandbox.last_content_sync!,
        job_type: "incremental",
        status: "partial",
        counters: { ...sandbox.last_content_sync!.counters, created: 2, updated: 3, moved: 1, unchanged: 380, failed: 1, deleted_document_count: 4 },
      },
    };
    expect(lastContentSyncText(incremental)).toBe(
      "Incremental content sync partial (some spaces failed): 2 new, 3 changed, 1 moved, 4 deleted, 380 unchanged, 1 failed",
    );
  });
});

describe("the rules preview", () => {
  it("says what it counts, and compares with the index", () => {
    const count = previewCountText(preview);
    expect(count.error).toBe(false);
    expect(count.text).toBe(`about ${preview.total} documents would be synced: ${preview.counts}.`);
    expect(preview.difference).toMatch(/^The index holds 389 documents now/);
  });

  it("shows an invalid query's error, never about 0", () => {
    const failed: Preview = { ...preview, total: 0, exact: false, error: "advanced rule 1: expected a value after `=` (at character 7)", difference: null };
    const count = previewCountText(failed);
    expect(count.error).toBe(true);
    expect(count.text).toBe("No count: advanced rule 1: expected a value after `=` (at character 7)");
    expect(count.text).not.toMatch(/about 0/);
  });
});

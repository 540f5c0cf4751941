import { describe, expect, it } from "vitest";
import type { ConnectionSummary } from "../../src/api/commands";
import { dataSourceName, lastSyncText } from "../../src/lib/format";

describe("connections list text", () => {
  it("names each data source the way Atlassian does", () => {
    expect(dataSourceName("confluence_data_center")).toBe("Confluence Data Center");
    expect(dataSourceName("something_else")).toBe("something_else");
  });

  it("says when a connection never synced, and summarises the last sync otherwise", () => {
    const base = {
      id: "c",
      name: "Docs",
      data_source: "confluence_cloud",
      sandbox: false,
      last_content_sync: null,
      documents_in_index: null,
      documents_counted_at: null,
    };
    expect(lastSyncText({ ...base, last_sync: null })).toBe("Never synced");
    expect(
      lastSyncText({
        ...base,
        last_sync: {
          finished_at: "2026-11-29T05:00:00Z",
          status: "completed",
          job_type: "full",
          indexed_document_count: 1,
          counters: {} as NonNullable<ConnectionSummary["last_sync"]>["counters"],
        },
      }),
    ).toMatch(/^Completed · 1 document · 29 Nov 2026, \d\d:00$/);
  });
});

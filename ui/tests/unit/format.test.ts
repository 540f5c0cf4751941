import { describe, expect, it } from "vitest";
import type { ConnectionSummary } from "../../src/api/commands";
import { dataSourceName, lastSyncText, quotedParts } from "../../src/lib/format";

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

describe("engine messages for people", () => {
  it("shows what the engine quotes in backticks as code, without the backticks", () => {
    expect(quotedParts("local index `/tmp/a b.sqlite` of space `HR`.")).toEqual([
      { text: "local index ", code: false },
      { text: "/tmp/a b.sqlite", code: true },
      { text: " of space ", code: false },
      { text: "HR", code: true },
      { text: ".", code: false },
    ]);
    expect(quotedParts("no quotes")).toEqual([{ text: "no quotes", code: false }]);
    // An unpaired backtick is part of the words.
    expect(quotedParts("a ` alone")).toEqual([{ text: "a ` alone", code: false }]);
  });
});

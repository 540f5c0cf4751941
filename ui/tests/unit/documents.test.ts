import { describe, expect, it } from "vitest";
import { documentAcl, documentFields, excerpt, fieldText } from "../../src/lib/documents";
import { pageCount, rangeLabel } from "../../src/lib/paging";
import { formatBytes, formatDuration } from "../../src/lib/format";
import doc from "../fixtures/get_document.json";

describe("documents browser", () => {
  it("shows a recorded document's fields with the title first, and its ACL apart", () => {
    const fields = documentFields(doc as Record<string, unknown>);
    expect(fields[0][0]).toBe("title");
    expect(fields.map(([k]) => k)).not.toContain("_allow_access_control");
    expect(documentAcl(doc as Record<string, unknown>)?.length).toBeGreaterThan(0);
    expect(documentAcl({})).toBeNull();
  });

  it("pages and words results", () => {
    expect(pageCount(389, 20)).toBe(20);
    expect(pageCount(0, 20)).toBe(1);
    expect(rangeLabel(20, 20, 389)).toBe("21–40 of 389");
    expect(rangeLabel(0, 0, 0)).toBe("No results");
    expect(excerpt("a ".repeat(300), 20).endsWith("…")).toBe(true);
    expect(fieldText(["a", "b"])).toBe("a, b");
    expect(formatBytes(3_250_000)).toBe("3.1 MiB");
    expect(formatDuration(125)).toBe("2 min 5 s");
  });
});

import { describe, expect, it } from "vitest";
import type { Completion, CqlProblem } from "../../src/api/commands";
import { toCompletionResult, toDiagnostics, tokenClass } from "../../src/lib/cql";
import { move, newRule, problemsFor, sameRules, tableRules, withTable, workingCopy } from "../../src/lib/rules";
import { csvField, toCsv } from "../../src/lib/export";
import completions from "../fixtures/cql_complete.json";
import problems from "../fixtures/cql_problems.json";

describe("sync rules", () => {
  it("edits the draft, else the active rules", () => {
    const active = { connection_id: "c", state: "active" as const, version: 1, updated_at: "", rules: { basic: [], advanced: [{ query: "space = A" }] } };
    expect(workingCopy({ active, draft: null }).advanced[0].query).toBe("space = A");
    expect(workingCopy({ active: null, draft: null })).toEqual({ basic: [], advanced: [] });
  });

  it("orders the basic rules table and keeps the default rule last", () => {
    const def = { id: "DEFAULT", order: 0, policy: "include" as const, field: "_", rule: "regex" as const, value: ".*" };
    const a = { ...newRule(), id: "a", order: 2 };
    const b = { ...newRule(), id: "b", order: 1 };
    const set = { basic: [def, a, b], advanced: [] };
    expect(tableRules(set).map((r) => r.id)).toEqual(["b", "a"]);
    const moved = withTable(set, move(tableRules(set), 0, 1));
    expect(moved.basic.map((r) => [r.id, r.order])).toEqual([["a", 1], ["b", 2], ["DEFAULT", 0]]);
    expect(sameRules(set, structuredClone(set))).toBe(true);
  });

  it("finds the problems of one rule", () => {
    const p = [{ kind: "advanced" as const, index: 1, rule_id: null, severity: "error" as const, message: "m", cql: null }];
    expect(problemsFor(p, "advanced", 1)).toHaveLength(1);
    expect(problemsFor(p, "advanced", 0)).toHaveLength(0);
  });
});

describe("CQL editor", () => {
  it("turns the engine's problems into markers inside the text", () => {
    const d = toDiagnostics(problems as CqlProblem[], 15);
    expect(d.length).toBeGreaterThan(0);
    expect(d.every((x) => x.from <= x.to && x.to <= 15)).toBe(true);
    expect(d[0].severity).toBe("error");
  });

  it("turns the engine's completions into one replaced range", () => {
    const result = toCompletionResult(completions as Completion[], 3)!;
    expect(result.from).toBe(0);
    expect(result.options.map((o) => o.label)).toContain("space");
    expect(toCompletionResult([], 3)).toBeNull();
    expect(tokenClass("field")).toBe("cm-cql-field");
  });
});

describe("exports", () => {
  it("quotes CSV fields that need it", () => {
    expect(csvField('a "b", c')).toBe('"a ""b"", c"');
    expect(csvField(["x", "y"])).toBe("x;y");
    expect(toCsv(["doc", "lost"], [["1", ["ann", "bob"]]])).toBe("doc,lost\r\n1,ann;bob\r\n");
  });
});

// The rules screen keeps the engine's answer in `$state`: its working copy must come out of a
// Svelte proxy (structuredClone cannot copy one: WebKit says "The object can not be cloned.").
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { RuleSet, RulesState } from "../../src/api/commands";
import { problemPlace, sameRules, workingCopy } from "../../src/lib/rules";
import Rules from "../../src/views/Rules.svelte";
import preview from "../fixtures/preview_rules.json";
import deletions from "../fixtures/deletion_preview-none.json";

const rules: RuleSet = {
  basic: [
    { id: "rule-b", order: 2, policy: "include", field: "space", rule: "equals", value: "ENG" },
    { id: "rule-a", order: 1, policy: "exclude", field: "type", rule: "equals", value: "attachment" },
  ],
  advanced: [],
};

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("the rules working copy", () => {
  it("copies rules held in Svelte state", () => {
    const held = $state<RulesState>({ active: { connection_id: "c", state: "active", version: 3, updated_at: "", rules }, draft: null });
    const copy = workingCopy(held);
    expect(copy).toEqual(rules);
    copy.basic[0].value = "OPS";
    expect(held.active!.rules.basic[0].value).toBe("ENG");
    expect(sameRules(workingCopy(held), held.active!.rules)).toBe(true);
  });

  it("names a basic rule's problem by its row in the table, not its id", () => {
    const table = [rules.basic[1], rules.basic[0]];
    expect(problemPlace({ kind: "basic", index: 0, rule_id: "rule-b", severity: "error", message: "m", cql: null }, table)).toBe("Basic rule 2");
    expect(problemPlace({ kind: "advanced", index: 0, rule_id: null, severity: "error", message: "m", cql: null }, table)).toBe("CQL query 1");
    expect(problemPlace({ kind: "set", index: null, rule_id: null, severity: "error", message: "m", cql: null }, table)).toBe("The rules");
  });
});

describe("the rules screen", () => {
  // The engine: what was saved is what load_rules answers, as JSON (like the real IPC).
  function engine() {
    let draft: RuleSet | null = null;
    let active: RuleSet | null = null;
    const wire = <T,>(v: T): T => JSON.parse(JSON.stringify(v));
    mockIPC((cmd, args) => {
      const a = args as { rules?: RuleSet };
      switch (cmd) {
        case "load_rules":
          return wire({
            active: active && { connection_id: "c1", state: "active", version: 1, rules: active, updated_at: "2026-12-03T07:00:00Z" },
            draft: draft && { connection_id: "c1", state: "draft", version: 2, rules: draft, updated_at: "2026-12-03T07:00:00Z" },
          });
        case "save_draft_rules":
          draft = wire(a.rules!);
          return { connection_id: "c1", state: "draft", version: 2, rules: draft, updated_at: "2026-12-03T07:00:00Z" };
        case "validate_rules":
          return { valid: true, problems: [] };
        case "activate_rules":
          active = draft;
          draft = null;
          return { connection_id: "c1", state: "active", version: 1, rules: active, updated_at: "2026-12-03T07:00:00Z" };
        case "preview_rules":
          return preview;
        case "deletion_preview":
          return deletions;
        case "list_connections":
          return [];
        default:
          return [];
      }
    });
  }

  async function shows(count: number) {
    const tab = await screen.findByTestId("rules-tab-basic");
    await expect.poll(() => tab.textContent).toBe(`Basic rules · ${count}`);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.queryByTestId("rules-unsaved")).toBeNull();
  }

  it("keeps saved and activated rules when the admin leaves and comes back", async () => {
    engine();
    const first = render(Rules, { id: "c1" });
    await fireEvent.click(await screen.findByTestId("rules-tab-basic"));
    await fireEvent.click(screen.getByTestId("basic-add"));
    await fireEvent.input(screen.getByLabelText("Value of rule 1"), { target: { value: "attachment" } });
    await expect.poll(() => screen.queryByTestId("rules-unsaved")).not.toBeNull();
    await fireEvent.click(screen.getByTestId("rules-save"));
    await screen.findByText(/Draft saved/);
    first.unmount();

    // Back on the screen: the draft, not "unsaved", no error.
    const second = render(Rules, { id: "c1" });
    await shows(1);
    expect((screen.getByLabelText("Value of rule 1") as HTMLInputElement).value).toBe("attachment");
    await fireEvent.click(screen.getByTestId("rules-activate"));
    await screen.findByText(/Activated version 1/);
    second.unmount();

    render(Rules, { id: "c1" });
    await shows(1);
    expect(screen.getByTestId("rules-stored").textContent).toMatch(/Active: version 1/);
    expect((screen.getByLabelText("Value of rule 1") as HTMLInputElement).value).toBe("attachment");
  });
});

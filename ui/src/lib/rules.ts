// View logic of the sync rules screen: the working copy of a rule set and its basic rules table.
import type { BasicRule, RuleProblem, RuleSet, RulesState } from "../api/commands";

export const BASIC_OPS = [
  { value: "equals", label: "equals" },
  { value: "contains", label: "contains" },
  { value: "starts_with", label: "starts with" },
  { value: "ends_with", label: "ends with" },
  { value: "regex", label: "matches regex" },
  { value: "<", label: "less than" },
  { value: ">", label: "greater than" },
] as const;

/** Document fields a basic rule usually tests. */
export const BASIC_FIELDS = ["type", "space", "space_key", "title", "author", "labels", "size", "extension", "status", "url"];

/** The rule set to edit: the draft, else the active rules, else nothing. */
export function workingCopy(state: RulesState): RuleSet {
  const source = state.draft?.rules ?? state.active?.rules ?? { basic: [], advanced: [] };
  return structuredClone({ basic: source.basic, advanced: source.advanced });
}

/** The basic rules the table shows: sorted, without the catch-all `DEFAULT`. */
export function tableRules(rules: RuleSet): BasicRule[] {
  return rules.basic.filter((r) => r.id !== "DEFAULT").sort((a, b) => a.order - b.order);
}

/** `rules` with `table` as its basic rules, numbered in table order (the `DEFAULT` kept). */
export function withTable(rules: RuleSet, table: BasicRule[]): RuleSet {
  const fallback = rules.basic.filter((r) => r.id === "DEFAULT");
  return { ...rules, basic: [...table.map((r, i) => ({ ...r, order: i + 1 })), ...fallback] };
}

/** A new rule with a fresh id. */
export function newRule(): BasicRule {
  const id = `rule-${Math.random().toString(36).slice(2, 8)}`;
  return { id, order: 0, policy: "exclude", field: "type", rule: "equals", value: "" };
}

/** `list` with the item at `index` moved by `delta` (clamped). */
export function move<T>(list: T[], index: number, delta: number): T[] {
  const to = Math.max(0, Math.min(list.length - 1, index + delta));
  const copy = [...list];
  const [item] = copy.splice(index, 1);
  copy.splice(to, 0, item);
  return copy;
}

/** Problems of basic rule `id` (or table index `index`), and of advanced rule `index`. */
export function problemsFor(problems: RuleProblem[], kind: "basic" | "advanced", index: number, id?: string): RuleProblem[] {
  return problems.filter((p) => p.kind === kind && (p.rule_id && id ? p.rule_id === id : p.index === index));
}

/** Whether two rule sets are the same. */
export function sameRules(a: RuleSet | undefined, b: RuleSet | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

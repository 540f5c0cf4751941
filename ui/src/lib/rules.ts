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

/**
 * The rule set to edit: the draft, else the active rules, else nothing. A deep copy of plain
 * data, whatever `state` is: a Svelte `$state` proxy cannot be structured-cloned (WebKit: "The
 * object can not be cloned."), so the copy goes through JSON, which is what the rules are.
 */
export function workingCopy(state: RulesState): RuleSet {
  const source = state.draft?.rules ?? state.active?.rules ?? { basic: [], advanced: [] };
  return JSON.parse(JSON.stringify({ basic: source.basic ?? [], advanced: source.advanced ?? [] })) as RuleSet;
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

/** A rule set in one spelling: fields in a fixed order, so equal sets compare equal. */
function canonical(set: RuleSet | undefined): string {
  if (!set) return "null";
  return JSON.stringify({
    basic: (set.basic ?? []).map((r) => [r.id, r.order, r.policy, r.field, r.rule, r.value]),
    advanced: (set.advanced ?? []).map((r) => r.query),
  });
}

/** Whether two rule sets are the same. */
export function sameRules(a: RuleSet | undefined, b: RuleSet | undefined): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Which rule a problem is about, as the screen numbers them: "Basic rule 2" (its row in the
 * table, found by id), "CQL query 1", or "The rules" for the set as a whole.
 */
export function problemPlace(problem: RuleProblem, table: BasicRule[]): string {
  if (problem.kind === "basic") {
    const row = problem.rule_id ? table.findIndex((r) => r.id === problem.rule_id) : -1;
    if (row >= 0) return `Basic rule ${row + 1}`;
    return problem.index !== null ? `Basic rule ${problem.index + 1}` : "Basic rules";
  }
  if (problem.kind === "advanced") return problem.index !== null ? `CQL query ${problem.index + 1}` : "CQL queries";
  return "The rules";
}

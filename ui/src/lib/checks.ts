// How the results of "Test connection" read as a whole: all passed, passed with warnings, or
// failed, with the first failure's explanation (what failed, what to do).
import type { Check } from "../api/commands";
import { explainFailure, type Explanation, type Tone } from "./outcome";

export interface ChecksSummary {
  tone: Tone;
  title: string;
  /** For a failure: the first failed check, explained. */
  first: Check | null;
  explanation: Explanation | null;
}

/** The summary of `checks` (an empty list: nothing was sent, the form has problems). */
export function checksSummary(checks: Check[]): ChecksSummary {
  const failed = checks.filter((c) => c.status === "failed");
  const warnings = checks.filter((c) => c.status === "warning");
  if (checks.length === 0)
    return { tone: "failure", title: "Nothing was tested: fix the problems marked in the form first.", first: null, explanation: null };
  if (failed.length > 0) {
    const first = failed[0];
    const names = failed.map((c) => c.label).join(", ");
    return {
      tone: "failure",
      title: `Connection test failed: ${failed.length} of ${checks.length} checks (${names}).`,
      first,
      explanation: explainFailure(first.message),
    };
  }
  if (warnings.length > 0)
    return { tone: "warning", title: `Connection test passed with ${warnings.length === 1 ? "a warning" : `${warnings.length} warnings`}: read them below.`, first: null, explanation: null };
  return { tone: "success", title: "Connection test passed: every check succeeded.", first: null, explanation: null };
}

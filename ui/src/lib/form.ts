// View logic of the configuration form: which fields apply, how inputs become values, how the
// engine's problems attach to fields, and what the form sends back.
import type { ConnectionDraft, FieldError, FieldSpec } from "../api/commands";

export type Values = Record<string, unknown>;

/** A secret the user typed (`string`), asked to clear (`null`), or left alone (absent). */
export type SecretEdits = Record<string, string | null>;

/** Whether every condition of `spec.depends_on` holds for `values`. */
export function applies(spec: FieldSpec, values: Values): boolean {
  return spec.depends_on.every((d) => sameValue(values[d.field], d.value));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof b === "boolean") return a === b || String(a) === String(b);
  return String(a ?? "") === String(b ?? "");
}

/** The fields that apply to `values`, in the engine's order, split into main and advanced. */
export function visibleFields(specs: FieldSpec[], values: Values): { main: FieldSpec[]; advanced: FieldSpec[] } {
  const shown = [...specs].sort((a, b) => a.order - b.order).filter((s) => applies(s, values));
  return {
    main: shown.filter((s) => s.ui_group !== "advanced"),
    advanced: shown.filter((s) => s.ui_group === "advanced"),
  };
}

/** The value an input's raw text or state stands for, by the field's display. */
export function inputValue(spec: FieldSpec, raw: string | boolean): unknown {
  if (spec.display === "toggle") return Boolean(raw);
  if (spec.display === "numeric") {
    const text = String(raw).trim();
    // Left as text when it is not a whole number: the engine names the problem.
    return /^\d+$/.test(text) ? Number(text) : text;
  }
  return raw;
}

/** What an input shows for a value. */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

/** The engine's problems grouped by field key. */
export function problemsByField(problems: FieldError[]): Record<string, FieldError[]> {
  const out: Record<string, FieldError[]> = {};
  for (const p of problems) (out[p.field] ??= []).push(p);
  return out;
}

/** Problems of fields that are not on screen (so the form can still show them). */
export function problemsElsewhere(problems: FieldError[], shownKeys: Set<string>): FieldError[] {
  return problems.filter((p) => !shownKeys.has(p.field));
}

/** How a sensitive field's state reads: values never come back from the keyring. */
export function secretStatus(key: string, secretsSet: string[], edits: SecretEdits): string {
  if (key in edits) return edits[key] === null ? "will be cleared on save" : "new value, saved on save";
  return secretsSet.includes(key) ? "set" : "not set";
}

/** The draft the commands take. */
export function draft(id: string | null, name: string, values: Values, secrets: SecretEdits): ConnectionDraft {
  return { id, name, values: { ...values }, secrets: { ...secrets } };
}

/** Keys of the fields the sandbox provides itself (the simulator's address and account). */
export const SANDBOX_MANAGED = new Set([
  "data_source",
  "username",
  "password",
  "data_center_auth_method",
  "data_center_username",
  "data_center_password",
  "data_center_personal_access_token",
  "account_email",
  "api_token",
  "confluence_url",
  "ssl_enabled",
  "ssl_ca",
  "tls_insecure_skip_verify",
]);

/** Whether the form's values differ from `before` (an empty value and an absent one are the same). */
export function formChanged(before: Values, now: Values): boolean {
  const norm = (v: unknown) => (v === undefined || v === null || v === "" ? "" : JSON.stringify(v));
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...keys].some((key) => norm(before[key]) !== norm(now[key]));
}

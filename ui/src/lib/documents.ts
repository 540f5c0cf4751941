// View logic of the documents browser.

/** The document fields shown first, in this order; the rest follow alphabetically. */
const LEADING = ["title", "type", "space", "space_key", "url", "author", "last_modifier", "createdDate", "_timestamp", "version", "status", "labels", "ancestors", "size", "extension"];

/** The fields of a document to show in its view: everything but the body and the ACL. */
export function documentFields(doc: Record<string, unknown>): [string, unknown][] {
  const skip = new Set(["body", "_allow_access_control", "comments"]);
  const keys = Object.keys(doc).filter((k) => !skip.has(k));
  keys.sort((a, b) => {
    const ia = LEADING.indexOf(a);
    const ib = LEADING.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    return a.localeCompare(b);
  });
  return keys.map((k) => [k, doc[k]]);
}

/** A field value as one line of text. */
export function fieldText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The ACL of a document: its identities, `null` when it has none (readable by everyone). */
export function documentAcl(doc: Record<string, unknown>): string[] | null {
  const acl = doc["_allow_access_control"];
  return Array.isArray(acl) ? acl.map(String) : null;
}

/** The first `max` characters of a body, on a word boundary. */
export function excerpt(body: unknown, max = 240): string {
  const text = typeof body === "string" ? body.replace(/\s+/g, " ").trim() : "";
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(" ", max);
  return `${text.slice(0, cut > max / 2 ? cut : max)}…`;
}

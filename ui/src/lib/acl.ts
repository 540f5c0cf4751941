// How the ACL inspector names what a person reads: a user as "name (id)", a document as
// "title (type, space)".
import type { DocExplanation } from "../api/commands";

/** "Ann Lee (5b10ac8d82e05b22cc7d4ef5)"; the id alone when the name is the id. */
export function userLabel(name: string, id: string): string {
  return name && name !== id ? `${name} (${id})` : id;
}

/** "Runbook: payments (page, ENG)"; what is known of it, else its id. */
export function documentLabel(doc: Pick<DocExplanation, "id" | "title" | "type" | "space_key">): string {
  const about = [doc.type, doc.space_key].filter(Boolean).join(", ");
  const title = doc.title ?? `Document ${doc.id}`;
  return about ? `${title} (${about})` : title;
}

/** "SRE team (group_id:2fb0…)": an identity with the name Confluence gave it, if any. */
export function identityLabel(identity: string, names: Partial<Record<string, string>> | undefined): string {
  const name = names?.[identity];
  return name ? `${name} (${identity})` : identity;
}

/** Where a space's view permission was read, in words. */
export function permissionSourceWords(source: string | null | undefined): string | null {
  switch (source) {
    case "cloud_expansion":
      return "read from the space's permissions on Confluence Cloud";
    case "data_center_native":
      return "read from Data Center's space permissions API";
    case "extender":
      return "read through the Extender for Confluence app";
    default:
      return null;
  }
}

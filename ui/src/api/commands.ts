// The only module that talks to the Rust side. Every command has one typed wrapper here; views
// import these functions and never call `invoke` themselves.
import { invoke } from "@tauri-apps/api/core";
import type { ConnectionSummary } from "./bindings/ConnectionSummary";
import type { CommandError } from "./bindings/CommandError";

export type { ConnectionSummary, CommandError };

/** Every saved connection with its last sync. */
export function listConnections(): Promise<ConnectionSummary[]> {
  return invoke<ConnectionSummary[]>("list_connections");
}

/** Turns whatever a command rejected with into words an admin can act on. */
export function errorMessage(err: unknown): string {
  if (typeof err === "object" && err !== null && "message" in err) {
    return String((err as CommandError).message);
  }
  return String(err);
}

// Which screen is shown, and for which connection. A tiny router: the app has a handful of
// screens and no URLs to share. A screen with a form registers a guard: leaving it with unsaved
// changes asks first (keep editing, or discard them).

/** The screens of a connection, in the order of its tabs. */
export const CONNECTION_SCREENS = [
  { id: "dashboard", label: "Sync dashboard" },
  { id: "config", label: "Configuration" },
  { id: "rules", label: "Sync rules" },
  { id: "schedules", label: "Schedules" },
  { id: "documents", label: "Documents" },
  { id: "acl", label: "ACL inspector" },
] as const;

export type ConnectionScreen = (typeof CONNECTION_SCREENS)[number]["id"];
export type Screen = "connections" | "new" | "settings" | ConnectionScreen;

export interface Route {
  screen: Screen;
  /** The connection the screen is about (`null` on the list and the new-connection form). */
  id: string | null;
}

export const route: Route = $state({ screen: "connections", id: null });

/** A form that has unsaved changes: what it is, for the question "leave without saving?". */
export interface Guard {
  /** Whether leaving now would lose edits. */
  dirty: () => boolean;
  /** What would be lost, e.g. "the configuration". */
  what: string;
}

/** A navigation held back by a guard, waiting for the user's answer. */
export const leaving: { to: Route | null; what: string } = $state({ to: null, what: "" });

let guard: Guard | null = null;

/**
 * Registers the guard of the screen on show; returns the function that removes it (call it when
 * the screen goes away).
 */
export function guardLeave(next: Guard): () => void {
  guard = next;
  return () => {
    if (guard === next) guard = null;
  };
}

/**
 * Shows `screen`, for connection `id` where it applies. With unsaved changes on the current
 * screen, nothing changes yet: `leaving` holds the destination until the user answers.
 */
export function go(screen: Screen, id: string | null = null): void {
  if (route.screen === screen && route.id === id) return;
  if (guard?.dirty()) {
    leaving.to = { screen, id };
    leaving.what = guard.what;
    return;
  }
  show(screen, id);
}

/** Leaves without asking: after a save, or once the user chose to discard the edits. */
export function goNow(screen: Screen, id: string | null = null): void {
  leaving.to = null;
  guard = null;
  show(screen, id);
}

/** The user's answer to "leave without saving?": discard the edits and go, or stay. */
export function answerLeave(discard: boolean): void {
  const to = leaving.to;
  leaving.to = null;
  if (discard && to) goNow(to.screen, to.id);
}

function show(screen: Screen, id: string | null): void {
  route.screen = screen;
  route.id = id;
}

// Which screen is shown, and for which connection. A tiny router: the app has a handful of
// screens and no URLs to share.

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
export type Screen = "connections" | "new" | ConnectionScreen;

export interface Route {
  screen: Screen;
  /** The connection the screen is about (`null` on the list and the new-connection form). */
  id: string | null;
}

export const route: Route = $state({ screen: "connections", id: null });

/** Shows `screen`, for connection `id` where it applies. */
export function go(screen: Screen, id: string | null = null): void {
  route.screen = screen;
  route.id = id;
}

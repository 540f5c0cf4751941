// The connections list, shared by the sidebar and the connections screen.
import { errorMessage, listConnections, type ConnectionSummary } from "../api/commands";

export const connections: { list: ConnectionSummary[] | null; error: string | null } = $state({
  list: null,
  error: null,
});

/** Reloads the list from the engine. */
export async function refreshConnections(): Promise<void> {
  try {
    connections.list = await listConnections();
    connections.error = null;
  } catch (err) {
    connections.error = errorMessage(err);
  }
}

/** The connection `id`, once the list is loaded. */
export function findConnection(id: string | null): ConnectionSummary | undefined {
  return connections.list?.find((c) => c.id === id);
}

import type { ConnectionSummary } from "../api/commands";

const DATA_SOURCE_NAMES: Record<string, string> = {
  confluence_cloud: "Confluence Cloud",
  confluence_server: "Confluence Server",
  confluence_data_center: "Confluence Data Center",
};

/** The product name of a `data_source` value. */
export function dataSourceName(value: string): string {
  return DATA_SOURCE_NAMES[value] ?? value;
}

/** One line on the connection's last sync, for the connections list. */
export function lastSyncText(connection: ConnectionSummary): string {
  const last = connection.last_sync;
  if (!last) return "Never synced";
  const docs = last.indexed_document_count === 1 ? "1 document" : `${last.indexed_document_count} documents`;
  return `${last.status} · ${docs} · ${last.finished_at}`;
}

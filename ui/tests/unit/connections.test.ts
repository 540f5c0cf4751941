import { cleanup, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import Connections from "../../src/views/Connections.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("connections screen", () => {
  it("shows the empty state when the engine has no connection", async () => {
    mockIPC((cmd) => (cmd === "list_connections" ? [] : undefined));
    render(Connections);
    expect(await screen.findByTestId("connections-empty")).toBeTruthy();
  });

  it("lists what the engine returns, with each connection's next scheduled run", async () => {
    const inAMinute = new Date(Date.now() + 60_000).toISOString();
    mockIPC((cmd) =>
      cmd === "list_connections"
        ? [
            { id: "a", name: "Engineering wiki", data_source: "confluence_server", last_sync: null },
            { id: "b", name: "Support", data_source: "confluence_cloud", last_sync: null },
          ]
        : cmd === "list_schedules"
          ? [{ connection_id: "a", job_type: "full", enabled: true, spec: "every 1m", next_run_at: inAMinute, last_run_at: null }]
          : undefined,
    );
    render(Connections);
    expect(await screen.findByText("Engineering wiki")).toBeTruthy();
    expect(screen.getByText("Confluence Server")).toBeTruthy();
    const cells = await screen.findAllByTestId("next-run-cell");
    await expect.poll(() => cells[0].textContent).toMatch(/Full content · .* \(in 1 min\)/);
    expect(cells[1].textContent).toContain("Not scheduled");
  });

  it("explains a failure in words", async () => {
    mockIPC(() => {
      throw { kind: "store", message: "local state database: unable to open database file" };
    });
    render(Connections);
    expect((await screen.findByRole("alert")).textContent).toContain("unable to open database file");
  });
});

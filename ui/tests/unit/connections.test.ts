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

  it("lists what the engine returns", async () => {
    mockIPC((cmd) =>
      cmd === "list_connections"
        ? [{ id: "a", name: "Engineering wiki", data_source: "confluence_server", last_sync: null }]
        : undefined,
    );
    render(Connections);
    expect(await screen.findByText("Engineering wiki")).toBeTruthy();
    expect(screen.getByText("Confluence Server")).toBeTruthy();
  });

  it("explains a failure in words", async () => {
    mockIPC(() => {
      throw { kind: "store", message: "local state database: unable to open database file" };
    });
    render(Connections);
    expect((await screen.findByRole("alert")).textContent).toContain("unable to open database file");
  });
});

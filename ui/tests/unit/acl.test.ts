import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { documentLabel, userLabel } from "../../src/lib/acl";
import AclInspector from "../../src/views/AclInspector.svelte";
import users from "../fixtures/acl_users.json";
import explained from "../fixtures/acl_explain_document.json";
import jobs from "../fixtures/list_jobs.json";

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("ACL inspector", () => {
  it("names users as name (id) and documents as title (type, space)", () => {
    expect(userLabel("Site-Admin", "1a4047ed3de0aa0506007505")).toBe("Site-Admin (1a4047ed3de0aa0506007505)");
    expect(userLabel("1a40", "1a40")).toBe("1a40");
    expect(documentLabel(explained)).toBe("Engineering Home (page, ENG)");
    expect(documentLabel({ id: "42", title: null, type: null, space_key: null })).toBe("Document 42");
  });

  it("keeps each tab's error on its tab", async () => {
    mockIPC((cmd) => {
      switch (cmd) {
        case "acl_users":
          return users;
        case "list_jobs":
          return jobs;
        case "acl_user_access":
          throw { kind: "target", message: "the identity index is missing" };
        case "acl_explain_document":
          return explained;
        case "list_connections":
          return [];
        default:
          return null;
      }
    });
    render(AclInspector, { id: "c1" });
    const first = await screen.findByRole("button", { name: /Site-Admin/ });
    await fireEvent.click(first);
    expect((await screen.findByRole("alert")).textContent).toContain("the identity index is missing");
    // Another tab: not its error.
    await fireEvent.click(screen.getByTestId("acl-tab-diff"));
    expect(screen.queryByRole("alert")).toBeNull();
    await fireEvent.click(screen.getByTestId("acl-tab-document"));
    expect(screen.queryByRole("alert")).toBeNull();
    // Back: still there, where it happened.
    await fireEvent.click(screen.getByTestId("acl-tab-user"));
    expect(screen.getByRole("alert").textContent).toContain("the identity index is missing");
  });
});

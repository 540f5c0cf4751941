import { cleanup, render, screen } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { Check, JobRecord } from "../../src/api/commands";
import Failure from "../../src/components/Failure.svelte";
import Outcome from "../../src/components/Outcome.svelte";
import { checksSummary } from "../../src/lib/checks";
import { explainFailure, jobOutcome, jobTone } from "../../src/lib/outcome";
import Dashboard from "../../src/views/Dashboard.svelte";
import recorded from "../fixtures/list_jobs.json";
import failures from "../fixtures/list_jobs-failed.json";
import keyring from "../fixtures/save_connection-keyring.json";
import tested from "../fixtures/test_connection-sandbox.json";
import kinds from "../fixtures/sync_kinds.json";

// The engine's answers for failed syncs, recorded with the CLI: an unreachable host (DNS), a
// refused connection, and Confluence Cloud refusing the API token.
const [unreachable, refused, badToken] = failures as unknown as JobRecord[];
const full = (recorded as unknown as JobRecord[]).find((j) => j.job_type === "full")!;

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("failure and success read differently", () => {
  it("a failed sync is a failure, a clean one a success, a sync with failed documents a warning", () => {
    expect(jobTone(unreachable)).toBe("failure");
    expect(jobTone(full)).toBe("success");
    expect(jobTone({ ...full, counters: { ...full.counters, failed: 2 } })).toBe("warning");
    expect(jobTone({ ...full, status: "partial" })).toBe("warning");
  });

  it("says what failed and what to do, in an admin's words, for the engine's messages", () => {
    expect(explainFailure(unreachable.errors[0].message)).toEqual({
      cause: "The host name in the Confluence URL could not be found.",
      next: "Check the Confluence URL for typos, and that this computer can reach the site (network, VPN or proxy).",
    });
    expect(explainFailure(refused.errors[0].message).cause).toBe("Nothing answered at the Confluence URL.");
    expect(explainFailure(badToken.errors[0].message).cause).toBe("Confluence refused the credentials.");
    expect(explainFailure(badToken.errors[0].message).next).toMatch(/API token/);
    expect(explainFailure(keyring.message, keyring.kind).cause).toMatch(/OS keyring/);
    expect(explainFailure(keyring.message, keyring.kind).next).toMatch(/environment variable/);
    // The words of a refused password and of a site that does not answer in time.
    const wrongPassword =
      "confluence: Confluence refused the password of svc-search: Confluence did not accept the credentials (X-Seraph-LoginReason: AUTHENTICATED_FAILED) and answered as an anonymous user (http://127.0.0.1:9/rest/api/user/current); check the password of svc-search";
    expect(explainFailure(wrongPassword).cause).toBe("Confluence refused the credentials.");
    expect(explainFailure(wrongPassword).next).toMatch(/password/);
    expect(explainFailure("confluence: No answer from wiki.example within 10 s: check the Confluence URL").cause).toBe(
      "Confluence did not answer in time.",
    );
    // Unknown: the engine's message is the cause; the next step stays general.
    expect(explainFailure("something new").cause).toBeNull();
  });

  it("a failed sync's sentence has no reassuring zero counts", () => {
    const o = jobOutcome(unreachable);
    expect(o.title).toBe("Full content sync failed");
    expect(o.summary).toBe("It stopped after 0.7 s: nothing in the index changed.");
    expect(`${o.title} ${o.summary}`).not.toMatch(/0 failed|completed/);
    expect(o.message).toBe(unreachable.errors[0].message);
    expect(jobOutcome(full).title).toMatch(/^Full content sync completed in /);
  });

  it("the banner of a failure is an alert with the failure icon, its cause and next step", () => {
    render(Outcome, { text: "ignored", job: badToken, id: "c1" });
    const banner = screen.getByTestId("sync-outcome");
    expect(banner.getAttribute("role")).toBe("alert");
    expect(banner.classList.contains("banner-failure")).toBe(true);
    expect(banner.querySelector(".banner-icon")?.textContent).toBe("✖");
    expect(screen.getByTestId("outcome-cause").textContent).toBe("What failed: Confluence refused the credentials.");
    expect(screen.getByTestId("outcome-next").textContent).toMatch(/^What to do: Check the user name or email and the API token/);
    expect(screen.getByTestId("outcome-message").textContent).toContain("refused the email and API token");
    expect(screen.getByRole("button", { name: "Open the configuration" })).toBeTruthy();
  });

  it("the banner of a success is a status with the success icon and no cause", () => {
    render(Outcome, { text: "ignored", job: full, id: "c1" });
    const banner = screen.getByTestId("sync-outcome");
    expect(banner.getAttribute("role")).toBe("status");
    expect(banner.classList.contains("banner-success")).toBe(true);
    expect(banner.querySelector(".banner-icon")?.textContent).toBe("✔");
    expect(screen.queryByTestId("outcome-cause")).toBeNull();
  });

  it("a failed action names what failed and what to do", () => {
    render(Failure, { title: "Could not create the connection", message: keyring.message, kind: keyring.kind });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("Could not create the connection");
    expect(screen.getByTestId("failure-cause").textContent).toMatch(/^What failed: The OS keyring/);
    expect(screen.getByTestId("failure-next").textContent).toMatch(/GNOME Keyring or KWallet/);
    // The engine's words, what it quotes (a field, an id, a variable) as code without backticks.
    const shown = screen.getByTestId("failure-message");
    expect(shown.textContent).toBe(keyring.message.replaceAll("`", ""));
    expect([...shown.querySelectorAll("code")].map((c) => c.textContent)).toContain("CONFLUENCE_API_TOKEN");
  });

  it("Test connection sums up: every check passed, or which failed and what to do", () => {
    const checks = tested.checks as Check[];
    expect(checksSummary(checks).tone).toBe("success");
    const failed = checks.map((c) => (c.id === "confluence" ? { ...c, status: "failed" as const, message: refused.errors[0].message } : c));
    const summary = checksSummary(failed);
    expect(summary.tone).toBe("failure");
    expect(summary.title).toBe(`Connection test failed: 1 of ${checks.length} checks (Confluence credentials).`);
    expect(summary.explanation?.cause).toBe("Nothing answered at the Confluence URL.");
    expect(checksSummary([]).tone).toBe("failure");
  });
});

describe("the dashboard announces a failed sync as a failure", () => {
  it("in a red alert with the cause and the next step, not a green notice with 0 failed", async () => {
    mockIPC(
      (cmd) => {
        switch (cmd) {
          case "sync_kinds":
            return kinds;
          case "list_jobs":
            return [unreachable];
          case "running_syncs":
          case "list_schedules":
          case "list_connections":
            return [];
          case "deletion_preview":
            throw { kind: "internal", message: "not in this test" };
          default:
            return undefined;
        }
      },
      { shouldMockEvents: true },
    );
    render(Dashboard, { id: "c1" });
    await screen.findByTestId("history-table");
    await emit("sync-finished", { connection_id: "c1", job: unreachable, error: null });
    const outcome = await screen.findByTestId("sync-outcome");
    expect(outcome.getAttribute("role")).toBe("alert");
    expect(outcome.classList.contains("notice")).toBe(false);
    expect(outcome.textContent).not.toContain("0 failed");
    expect(outcome.textContent).toContain("Full content sync failed");
    expect(outcome.textContent).toContain("What failed: The host name in the Confluence URL could not be found.");
    expect(outcome.textContent).toContain("What to do: Check the Confluence URL");
  });
});

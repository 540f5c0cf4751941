import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { JobRecord } from "../../src/api/commands";
import JobDetails from "../../src/components/JobDetails.svelte";
import JobNotes from "../../src/components/JobNotes.svelte";
import Dashboard from "../../src/views/Dashboard.svelte";
import { formatTime } from "../../src/lib/format";
import recorded from "../fixtures/list_jobs.json";
import incrementals from "../fixtures/list_jobs-incremental.json";
import kinds from "../fixtures/sync_kinds.json";

const [incremental, ranAsFull] = incrementals as unknown as JobRecord[];
const full = (recorded as unknown as JobRecord[]).find((j) => j.job_type === "full")!;

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("a job's details", () => {
  it("show an incremental sync's cursor and whether it reconciled", () => {
    render(JobDetails, { job: incremental });
    const cursor = screen.getByTestId("job-cursor");
    expect(cursor.textContent?.replace(/\s+/g, " ").trim()).toBe(
      `Changes since ${formatTime(incremental.delta!.since)} (CQL lastmodified >= "2026-12-02 09:53" in Europe/Berlin, 300 s overlap), from the start of job ${full.id}.`,
    );
    expect(within(cursor).getByText('lastmodified >= "2026-12-02 09:53"').tagName).toBe("CODE");
    expect(screen.getByTestId("job-reconciled").textContent).toMatch(/^Reconciliation ran/);
  });

  it("show every counter of what the job did", () => {
    render(JobDetails, { job: incremental });
    const counts = Object.fromEntries(
      ["created", "updated", "moved", "deleted_document_count", "permissions_updated", "unchanged"].map((k) => [
        k,
        screen.getByTestId(`job-count-${k}`).textContent,
      ]),
    );
    expect(counts).toEqual({
      created: "2",
      updated: "5",
      moved: "2",
      deleted_document_count: "1",
      permissions_updated: "3",
      unchanged: "376",
    });
    expect(screen.getByTestId("job-changes").textContent).toContain("Permissions updated");
  });

  it("have no cursor for a full sync", () => {
    render(JobDetails, { job: full });
    expect(screen.queryByTestId("job-cursor")).toBeNull();
    expect(screen.getByTestId("job-count-unchanged").textContent).toBe("0");
  });
});

describe("a job's notes", () => {
  it("render as information, not as an error", () => {
    render(JobNotes, { notes: ranAsFull.notes });
    const notes = screen.getByRole("note");
    expect(notes.textContent).toContain("No earlier sync of this connection listed everything: this incremental sync ran as a full sync.");
    expect(notes.classList.contains("info-list")).toBe(true);
    expect(notes.closest(".error, [role=alert]")).toBeNull();
  });

  it("render nothing when there are none", () => {
    render(JobNotes, { notes: [] });
    expect(screen.queryByRole("note")).toBeNull();
  });
});

describe("sync dashboard", () => {
  function engine(jobs: JobRecord[]) {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC(
      (cmd, args) => {
        calls.push({ cmd, args });
        switch (cmd) {
          case "sync_kinds":
            return kinds;
          case "list_jobs":
            return jobs;
          case "running_syncs":
          case "list_schedules":
          case "list_connections":
            return [];
          case "deletion_preview":
            throw { kind: "internal", message: "not in this test" };
          case "start_sync":
            return {
              connection_id: "c1",
              job_type: (args as { jobType: string }).jobType,
              started_at: new Date().toISOString(),
              phase: null,
              progress: null,
              warnings: [],
              canceling: false,
              job_id: null,
              trigger: "manual",
              own: true,
              pid: 1,
              host: null,
            };
          default:
            return undefined;
        }
      },
      { shouldMockEvents: true },
    );
    return calls;
  }

  it("offers the incremental sync with its tooltip, starts an incremental job and shows it live", async () => {
    const calls = engine([full]);
    render(Dashboard, { id: "c1" });
    const button = (await screen.findByTestId("sync-incremental")) as HTMLButtonElement;
    await expect.poll(() => button.disabled).toBe(false);
    expect(button.title).toBe("Fetch only what changed since the last sync; the first one runs a full sync");
    await fireEvent.click(button);
    await expect.poll(() => calls.find((c) => c.cmd === "start_sync")?.args).toEqual({ id: "c1", jobType: "incremental", allowDeletions: false });
    // Live: the new phases in words, and what the sync did so far.
    const live = await screen.findByTestId("sync-live");
    expect(live.textContent).toContain("Incremental content sync");
    await emit("sync-event", { connection_id: "c1", event: { event: "phase", phase: "reconciling" } });
    await expect.poll(() => live.textContent).toContain("Reconciling: listing ids, versions and restrictions");
    const progress = {
      elapsed_s: 1.5,
      docs_per_second: 4,
      docs_seen: 6,
      counters: { ...incremental.counters },
      requests: 20,
      rate_limit_waits: 0,
      rate_limit_wait_s: 0,
      spaces_done: 1,
      spaces_total: 6,
      current_spaces: [],
      eta_s: null,
    };
    await emit("sync-event", { connection_id: "c1", event: { event: "progress", ...progress } });
    await expect.poll(() => screen.getByTestId("live-count-unchanged").textContent).toBe("376unchanged");
    expect(screen.getByTestId("live-count-moved").textContent).toBe("2moved");
    expect(screen.getByTestId("live-count-permissions_updated").textContent).toBe("3permissions updated");
    await emit("sync-event", { connection_id: "c1", event: { event: "phase", phase: "updating_access" } });
    await expect.poll(() => live.textContent).toContain("Rewriting access lists");
  });

  it("sums up a finished incremental sync with its cursor, and a first one with the engine's note", async () => {
    engine([full]);
    render(Dashboard, { id: "c1" });
    await screen.findByTestId("history-table");
    await emit("sync-finished", { connection_id: "c1", job: incremental, error: null });
    const outcome = await screen.findByTestId("sync-outcome");
    expect(outcome.textContent).toContain("9 documents indexed (2 new, 5 changed), 2 moved, 1 deleted, 3 permissions updated, 376 unchanged, 0 failed.");
    expect(screen.getByTestId("outcome-cursor").textContent).toMatch(
      /^It fetched the changes since .* \(CQL lastmodified >= "2026-12-02 09:53" in Europe\/Berlin, 300 s overlap\)\.$/,
    );
    expect(screen.queryByTestId("outcome-notes")).toBeNull();
    await emit("sync-finished", { connection_id: "c1", job: ranAsFull, error: null });
    await expect.poll(() => screen.queryByTestId("outcome-notes")?.textContent).toContain("this incremental sync ran as a full sync");
    expect(screen.queryByTestId("outcome-cursor")).toBeNull();
  });

  it("shows what each job did in the history, the notes as information, and the cursor in the job's details", async () => {
    engine([incremental, ranAsFull]);
    render(Dashboard, { id: "c1" });
    const table = await screen.findByTestId("history-table");
    const headings = [...table.querySelectorAll("th")].map((th) => th.textContent);
    expect(headings).toEqual(expect.arrayContaining(["New", "Changed", "Moved", "Deleted", "Permissions updated", "Unchanged"]));
    const [first] = table.querySelectorAll("tbody tr");
    expect(within(first as HTMLElement).getByTestId("job-permissions_updated").textContent).toBe("3");
    expect(within(first as HTMLElement).getByTestId("job-unchanged").textContent).toBe("376");
    expect(within(first as HTMLElement).getByTestId("job-since").textContent).toBe(`changes since ${formatTime(incremental.delta!.since)}`);
    expect(screen.getAllByTestId("job-since")).toHaveLength(1);
    expect((first as HTMLElement).querySelector("td[title]")?.getAttribute("title")).toMatch(/^changes since .* \(CQL lastmodified >= "2026-12-02 09:53" in Europe\/Berlin, 300 s overlap\)$/);
    // The job that ran as a full sync carries the engine's note, as information.
    const notes = screen.getAllByTestId("job-notes");
    expect(notes).toHaveLength(1);
    expect(notes[0].textContent).toContain("this incremental sync ran as a full sync");
    expect(screen.queryByRole("alert")).toBeNull();
    await fireEvent.click(within(first as HTMLElement).getByRole("button", { name: "Details" }));
    expect((await screen.findByTestId("job-cursor")).textContent).toMatch(/Changes since/);
  });
});

// An incremental sync in the real app, used from the keyboard: once the sandbox's first syncs have
// finished, an admin focuses the dashboard's Incremental sync button and presses Enter. The job
// lands at the top of the history as a completed incremental sync with its cursor ("changes since
// …") and the documents it found unchanged, and it is still there, cursor and all, after the
// admin has been to another screen and back. Screenshots go to target/e2e-screenshots/.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Session, repoRoot, startDriver } from "./webdriver.mjs";

const application = process.env.APP_BINARY ?? join(repoRoot, "target", "debug", "confluence-desktop");
const ENTER = "\uE007";
const TAB = "\uE004";
// The first row of the history is the latest job (the engine lists the newest first).
const LATEST = "[data-testid=history-table] tbody tr:first-child";
let driver;
let session;

async function click(selector) {
  await session.click(await session.find(selector));
}

async function textOf(selector) {
  return session.text(await session.find(selector));
}

/** The text of the first element matching `selector`, or `null` when there is none. */
async function maybeText(selector) {
  const found = await session.findAll(selector);
  return found.length > 0 ? session.text(found[0]) : null;
}

/** What the latest job's row shows: its text, type, status (word, class, colour), cursor and unchanged count. */
function latestRow() {
  return session.execute(
    `const row = document.querySelector(arguments[0]);
     if (!row) return null;
     const status = row.querySelector(".status");
     return {
       text: row.innerText,
       type: row.cells[1].innerText,
       status: status?.innerText ?? null,
       statusClass: status?.className ?? null,
       statusColor: status ? getComputedStyle(status).color : null,
       since: row.querySelector("[data-testid=job-since]")?.innerText ?? null,
       unchanged: row.querySelector("[data-testid=job-unchanged]")?.innerText ?? null,
     };`,
    [LATEST],
  );
}

before(async () => {
  process.env.CONFLUENCE_CONNECTOR_DATA_DIR = mkdtempSync(join(tmpdir(), "cc-e2e-incremental-"));
  driver = await startDriver();
  session = await Session.start(driver.url, application);
});

after(async () => {
  await session?.end();
  driver?.stop();
});

test("an incremental sync started from the keyboard lands in the history with its cursor and unchanged documents", async () => {
  // The sandbox's first start runs a full sync, then an access-control sync.
  await session.find("[data-testid=connections-empty]");
  await click("[data-testid=try-sandbox]");
  await session.find("#dashboard-title");
  await session.waitFor(
    async () => ((await maybeText("[data-testid=history-table]"))?.match(/Completed/g) ?? []).length >= 2,
    "the sandbox's first syncs",
    120000,
  );
  const button = await session.find("[data-testid=sync-incremental]");
  await session.waitFor(
    async () => (await session.findAll("[data-testid=sync-live]")).length === 0 && (await session.command("GET", `/element/${button}/enabled`)),
    "the Incremental sync button to be enabled",
    30000,
  );
  const [sandbox] = await session.invoke("list_connections");
  const jobsBefore = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });
  assert.ok(!jobsBefore.some((j) => j.job_type === "incremental"), "no incremental sync ran yet");

  // Keyboard only: from the Full sync button, Tab moves the focus to Incremental sync; Enter presses it.
  const press = (key) =>
    session.command("POST", "/actions", {
      actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value: key }, { type: "keyUp", value: key }] }],
    });
  await session.execute(`document.querySelector("[data-testid=sync-full]").focus();`);
  await press(TAB);
  const focused = await session.execute(`return document.activeElement?.dataset.testid ?? null;`);
  assert.equal(focused, "sync-incremental", "Tab moved the keyboard focus to the Incremental sync button");
  await session.screenshot("18-dashboard-incremental-focused");
  await press(ENTER);
  await session.command("DELETE", "/actions");

  // The job finishes and takes the top of the history.
  const row = await session.waitFor(
    async () => {
      const r = await latestRow();
      return r && /^Incremental content/.test(r.type) && !/status-running/.test(r.statusClass) ? r : null;
    },
    "the incremental sync to finish at the top of the history",
    60000,
  );
  // (1) A completed incremental job, styled as a success.
  assert.match(row.type, /^Incremental content/);
  assert.equal(row.status, "Completed");
  assert.match(row.statusClass, /\bstatus-completed\b/);
  assert.doesNotMatch(row.statusClass, /status-(failed|partial|canceled|interrupted)/);
  assert.equal(row.statusColor, "rgb(17, 99, 41)", "the status shows in the success colour");
  // (2) Its cursor.
  assert.match(row.since ?? "", /^changes since \d{1,2} \w{3} \d{4}, \d{2}:\d{2}$/);
  // (3) Documents found unchanged.
  const unchanged = Number((row.unchanged ?? "").replace(/,/g, ""));
  assert.ok(unchanged > 0, `an unchanged count above zero, got ${JSON.stringify(row.unchanged)}`);
  // The outcome above the history says the same, with the cursor.
  assert.match(await textOf("[data-testid=sync-outcome]"), /^(✔\s*)?Incremental content sync completed in .*unchanged/);
  assert.match(await textOf("[data-testid=outcome-cursor]"), /^It fetched the changes since .* \(CQL lastmodified >= ".*" in .*, \d+ s overlap\)\.$/);
  // The engine recorded what the screen shows: a manual (keyboard-started) incremental job.
  const [latest] = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });
  assert.equal(latest.job_type, "incremental");
  assert.equal(latest.trigger, "manual");
  assert.equal(latest.status, "completed");
  assert.ok(latest.delta, "the job has a cursor");
  assert.equal(latest.counters.unchanged, unchanged);
  await session.execute(`document.querySelector(arguments[0]).scrollIntoView({ block: "center" });`, [LATEST]);
  await session.screenshot("19-dashboard-incremental-finished");

  // Another screen, then back to the dashboard: the same row, cursor and all.
  await click("[data-testid=nav-documents]");
  await session.waitFor(async () => (await session.findAll("[data-testid=doc-hits] button")).length > 0, "documents", 20000);
  assert.equal((await session.findAll("[data-testid=history-table]")).length, 0, "the dashboard was left");
  await session.screenshot("20-documents-after-incremental");
  await click("[data-testid=nav-dashboard]");
  await session.find("#dashboard-title");
  const again = await session.waitFor(latestRow, "the history after coming back", 10000);
  assert.deepEqual(again, row, "the same latest row after coming back");
  assert.match(again.since, /^changes since /);
  await session.execute(`document.querySelector(arguments[0]).scrollIntoView({ block: "center" });`, [LATEST]);
  await session.screenshot("21-dashboard-incremental-after-return");
});

// Browser tests of the built UI (ui/dist) in Debian's Chromium, with the Tauri IPC mocked from the
// engine answers the end-to-end test recorded (ui/tests/fixtures/). Screenshots of every screen
// go to target/browser-screenshots/.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, beforeEach, test } from "node:test";
import { chromium } from "playwright-core";
import { serve } from "./server.mjs";

const fixture = (name) => JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), `../fixtures/${name}.json`), "utf8"));
const shots = resolve(dirname(fileURLToPath(import.meta.url)), "../../../target/browser-screenshots");
let server;
let browser;
let page;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await serve();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

beforeEach(async () => {
  await page?.close();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.errors = errors;
  await page.goto(server.url);
});

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) });

async function sandboxSynced() {
  await page.getByTestId("try-sandbox").click();
  await page.getByTestId("history-table").getByText("Completed").first().waitFor();
}

test("first start: the sandbox syncs live and lands in the history", async () => {
  await page.getByText("No connection yet.").waitFor();
  await shot("first-start");
  await page.getByTestId("try-sandbox").click();
  await page.getByTestId("sync-live").getByText("docs/s").waitFor();
  await page.locator(".chart-line").waitFor();
  await shot("dashboard-live");
  await page.getByTestId("history-table").getByText("Completed").first().waitFor();
  assert.match(await page.getByTestId("sync-outcome").textContent(), /documents indexed/);
  await page.getByRole("button", { name: "Details" }).first().click();
  await page.getByText("Configuration used (no secrets)").waitFor();
  await shot("dashboard-history");
  assert.deepEqual(page.errors, []);
});

test("keyboard only: Tab reaches the sandbox button and Enter starts it", async () => {
  await page.getByText("No connection yet.").waitFor();
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Tab");
    if (await page.getByTestId("try-sandbox").evaluate((el) => el === document.activeElement)) break;
  }
  await page.keyboard.press("Enter");
  await page.locator("#dashboard-title").waitFor();
});

test("configuration form: fields follow their dependencies, secrets show only as set", async () => {
  await page.getByTestId("new-connection").first().click();
  await page.locator("#connection-name").fill("Acme");
  const source = page.locator("#field-data_source");
  await source.selectOption("confluence_cloud");
  await page.locator("[data-field=api_token]").waitFor();
  assert.equal(await page.locator("[data-field=username]").count(), 0);
  await source.selectOption("confluence_data_center");
  await page.locator("#field-data_center_auth_method").selectOption("personal_access_token");
  await page.locator("[data-field=data_center_personal_access_token]").waitFor();
  assert.equal(await page.locator("[data-field=data_center_password]").count(), 0);
  assert.equal(await page.locator("[data-field=ssl_ca]").count(), 0);
  await page.locator("#field-ssl_enabled").check();
  await page.locator("[data-field=ssl_ca]").waitFor();
  assert.match(await page.getByTestId("secret-status-data_center_personal_access_token").textContent(), /not set/);
  // A tooltip opens from the keyboard.
  await page.getByRole("button", { name: "About Confluence URL" }).focus();
  assert.equal(await page.locator("#help-confluence_url").isVisible(), true);
  await page.getByTestId("test-connection").click();
  await page.getByText("Fix the problems marked in the form first").waitFor();
  assert.match(await page.locator("[data-field=confluence_url]").textContent(), /URL is required/);
  await shot("configuration-new");
});

test("configuration of the sandbox: test connection gives one result per check", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-config").click();
  await page.getByTestId("test-connection").click();
  const checks = page.locator("[data-check]");
  await checks.first().waitFor();
  assert.ok((await checks.count()) >= 2);
  assert.match(await page.getByTestId("test-results").textContent(), /Confluence credentials/);
  await shot("configuration-sandbox");
});

test("documents: search results open with their fields and ACL", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-documents").click();
  await page.getByTestId("doc-hits").locator("button").nth(1).click();
  await page.getByTestId("doc-acl").waitFor();
  assert.match(await page.getByTestId("doc-range").textContent(), /1–20 of \d+/);
  await shot("documents");
});

test("ACL inspector: a user's access, a document's derivation", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-acl").click();
  await page.getByTestId("acl-users").locator("button").first().click();
  await page.getByTestId("acl-user-view").getByText(/May read \d+ documents/).waitFor();
  await shot("acl-user");
  await page.getByTestId("acl-readable").locator("button").first().click();
  await page.getByTestId("acl-doc-view").getByText("How it was derived").waitFor();
  await shot("acl-document");
  await page.getByTestId("acl-tab-diff").click();
  await shot("acl-diff");
});

test("sync rules: CQL completion, error markers and the live preview", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("cql-add").click();
  const editor = page.locator("[data-testid=cql-rule-0] .cm-content");
  await editor.click();
  await page.keyboard.type("spa");
  await page.locator(".cm-tooltip-autocomplete").getByText("space.key").waitFor();
  await page.keyboard.press("Escape");
  await page.keyboard.type("ce = ENG and");
  await page.locator(".cm-lintRange-error").waitFor();
  await shot("rules-error");
  await page.keyboard.type(" type = page");
  await page.getByTestId("rules-preview").getByText(/documents would be synced/).waitFor();
  await page.locator(".cm-cql-keyword").first().waitFor();
  await shot("rules-preview");
  await page.getByTestId("rules-tab-basic").click();
  await page.getByTestId("basic-add").click();
  await page.getByTestId("basic-add").click();
  await page.getByLabel("Value of rule 1").fill("attachment");
  await page.getByLabel("Move rule 1 down").click();
  assert.equal(await page.getByLabel("Value of rule 2").inputValue(), "attachment");
  await shot("rules-basic");
});

test("deletions: a narrowing rule shows the removal count, and the full sync asks once before removing", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("cql-add").click();
  await page.locator("[data-testid=cql-rule-0] .cm-content").click();
  await page.keyboard.type("space = ENG and type = page");
  const narrowed = fixture("deletion_preview-narrowed").preview;
  assert.equal(narrowed.needs_confirmation, true, "the recorded rule narrows the scope past the threshold");
  const removal = new RegExp(`This will remove ${narrowed.removed} of ${narrowed.indexed} documents from the index \\(advanced rules changed\\)`);
  await page.getByTestId("rules-deletions").getByText(removal).waitFor();
  await shot("rules-deletions");
  await page.getByTestId("rules-activate").click();
  await page.getByText(/Activated version 1/).waitFor();

  await page.getByTestId("nav-dashboard").click();
  await page.getByTestId("deletion-notice").getByText(removal).waitFor();
  const starts = () => page.evaluate(() => window.__calls.filter((c) => c.cmd === "start_sync").map((c) => c.args));
  const before = (await starts()).length;
  await page.getByTestId("sync-full").click();
  const dialog = page.getByTestId("confirm-deletions");
  await dialog.waitFor();
  assert.match(await dialog.textContent(), removal);
  await shot("dashboard-confirm-deletions");
  // Declining starts nothing.
  await page.getByTestId("confirm-deletions-no").click();
  assert.equal(await dialog.count(), 0);
  assert.equal((await starts()).length, before);
  // Confirming starts the full sync with the deletions allowed, once.
  await page.getByTestId("sync-full").click();
  await page.getByTestId("confirm-deletions-yes").click();
  await page.getByTestId("sync-outcome").getByText(`${narrowed.removed} deleted`).waitFor();
  const after = await starts();
  assert.equal(after.length, before + 1);
  assert.deepEqual(after.at(-1), { id: after.at(-1).id, jobType: "full", allowDeletions: true });
  // The index now reflects the rules: nothing more to confirm.
  await page.getByTestId("deletion-notice").waitFor({ state: "detached" });
  await shot("dashboard-after-deletions");
  assert.deepEqual(page.errors, []);
});

test("schedules: an invalid cron is refused at its field, and saved schedules stay after leaving the screen", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-schedules").click();
  await page.getByTestId("schedule-enabled-full").check();
  await page.getByTestId("schedule-spec-full").fill("every 15m");
  await page.getByTestId("schedule-enabled-access_control").check();
  await page.getByTestId("schedule-spec-access_control").fill("0 3 * *");
  // Every kind of sync can be scheduled, the incremental one included.
  assert.equal(await page.getByTestId("schedule-enabled-incremental").isDisabled(), false);
  await page.getByTestId("schedules-save").click();
  const problem = page.locator("[data-field=schedule-access_control]").getByTestId("schedule-problem-access_control");
  await problem.getByText(/not a valid cron expression/).waitFor();
  assert.match(await problem.textContent(), /0 3 \* \* \*/);
  // The refused row keeps what was typed; the valid one is saved with its next run.
  assert.equal(await page.getByTestId("schedule-spec-access_control").inputValue(), "0 3 * *");
  assert.match(await page.getByTestId("schedule-next-full").textContent(), /\(in 15 min\)/);
  await shot("schedules-invalid");
  await page.getByTestId("schedule-spec-access_control").fill("0 3 * * *");
  await page.getByTestId("schedules-save").click();
  await page.getByTestId("schedules-saved").waitFor();
  assert.equal(await problem.count(), 0);
  await shot("schedules-saved");

  // Leave the screen: the dashboard and the connections list show the next run.
  await page.getByTestId("nav-dashboard").click();
  await page.getByTestId("next-run").getByText(/Next scheduled run: Full content sync, .* \(in 15 min\)/).waitFor();
  await shot("dashboard-next-run");
  await page.locator(".sidebar .nav-item").first().click();
  await page.getByTestId("next-run-cell").getByText(/Full content/).waitFor();
  await shot("connections-next-run");
  // Come back: the saved schedules are still there.
  await page.getByRole("button", { name: "Sandbox" }).first().click();
  await page.getByTestId("nav-schedules").click();
  await page.getByTestId("schedule-spec-full").waitFor();
  assert.equal(await page.getByTestId("schedule-spec-full").inputValue(), "every 15m");
  assert.equal(await page.getByTestId("schedule-enabled-full").isChecked(), true);
  assert.equal(await page.getByTestId("schedule-spec-access_control").inputValue(), "0 3 * * *");
  assert.equal(await page.getByTestId("schedule-enabled-access_control").isChecked(), true);
  assert.deepEqual(page.errors, []);
});

test("a sync the command-line tool runs: a start is refused in the engine's words, then it shows live without Cancel", async () => {
  await sandboxSynced();
  const id = await page.evaluate(() => window.__calls.find((c) => c.cmd === "start_sync").args.id);
  // The sandbox's access-control sync follows its full sync: wait until both ended.
  await page.waitForFunction(() => !document.querySelector("[data-testid=sync-full]").disabled);
  // The CLI starts a sync just before the user clicks "Full sync" (in the same task, so the
  // dashboard has not polled in between).
  await page.evaluate((id) => {
    window.__externalSync(id, 120);
    document.querySelector("[data-testid=sync-full]").click();
  }, id);
  const busy = fixture("start_sync-busy").message;
  const [, pid, host] = busy.match(/by process (\d+) on (\S+) \(job/);
  await page.getByRole("alert").getByText(`Could not start the sync: ${busy}`).waitFor();
  const live = page.getByTestId("sync-live");
  await live.getByText(`Started by another process (cli): pid ${pid} on ${host}.`).waitFor();
  assert.equal(await page.getByTestId("sync-cancel").isDisabled(), true);
  assert.equal(await page.getByTestId("sync-full").isDisabled(), true);
  // Its counters follow the heartbeats.
  await page.evaluate((id) => window.__externalSync(id, 245), id);
  await live.getByText("245", { exact: true }).waitFor();
  await shot("dashboard-other-process");
  await page.evaluate((id) => window.__externalSyncEnds(id), id);
  await live.waitFor({ state: "detached" });
  assert.equal(await page.getByTestId("sync-full").isDisabled(), false);
  // The refusal goes with the sync it was about.
  assert.equal(await page.getByRole("alert").count(), 0);
  assert.deepEqual(page.errors, []);
});

test("incremental sync: offered with its tooltip; the outcome, the history and the job's details show what changed and the cursor", async () => {
  await sandboxSynced();
  // The sandbox's access-control sync follows its full sync: wait until both ended.
  await page.waitForFunction(() => !document.querySelector("[data-testid=sync-incremental]").disabled);
  const button = page.getByTestId("sync-incremental");
  assert.equal(await button.getAttribute("title"), "Fetch only what changed since the last sync; the first one runs a full sync");
  await button.click();
  const [job] = fixture("list_jobs-incremental");
  const c = job.counters;
  const outcome = page.getByTestId("sync-outcome");
  await outcome.getByText(/Incremental content sync completed/).waitFor();
  assert.match(
    await outcome.textContent(),
    new RegExp(
      `${c.indexed_document_count} documents indexed \\(${c.created} new, ${c.updated} changed\\), ${c.moved} moved, ${c.deleted_document_count} deleted, ` +
        `${c.permissions_updated} permissions updated, ${c.unchanged} unchanged, ${c.failed} failed`,
    ),
  );
  const cql = `\\(CQL lastmodified >= "${job.delta.since_literal}" in ${job.delta.time_zone}, ${job.delta.overlap_s} s overlap\\)`;
  assert.match(await page.getByTestId("outcome-cursor").textContent(), new RegExp(`It fetched the changes since .* ${cql}`));
  const row = page.getByTestId("history-table").locator("tbody tr").first();
  assert.match(await row.textContent(), /Incremental content/);
  assert.match(await row.getByTestId("job-since").textContent(), /^changes since \d+ Dec 2026, \d\d:\d\d$/);
  for (const key of ["created", "updated", "moved", "deleted_document_count", "permissions_updated", "unchanged"]) {
    assert.equal(await row.getByTestId(`job-${key}`).textContent(), String(c[key]), key);
  }
  await row.getByRole("button", { name: "Details" }).click();
  assert.match(await page.getByTestId("job-cursor").textContent(), new RegExp(`Changes since .* ${cql}`));
  assert.match(await page.getByTestId("job-reconciled").textContent(), /^Reconciliation ran/);
  await shot("dashboard-incremental");
  assert.deepEqual(page.errors, []);
});

test("a job's notes show on its row as information, not as an error", async () => {
  await sandboxSynced();
  const id = await page.evaluate(() => window.__calls.find((c) => c.cmd === "start_sync").args.id);
  await page.waitForFunction(() => !document.querySelector("[data-testid=sync-full]").disabled);
  // The command-line tool's `sync --kind incremental` that ran as a full sync, and said so.
  const [, ranAsFull] = fixture("list_jobs-incremental");
  await page.evaluate((id) => window.__externalSync(id, 10), id);
  await page.getByTestId("sync-live").waitFor();
  await page.evaluate(([id, job]) => window.__externalSyncEnds(id, job), [id, ranAsFull]);
  const notes = page.getByTestId("job-notes");
  await notes.getByText(ranAsFull.notes[0]).waitFor();
  assert.equal(await notes.count(), 1);
  assert.equal(await notes.getAttribute("role"), "note");
  assert.equal(await page.getByRole("alert").count(), 0);
  // Neutral: not the red of errors, not the amber of warnings.
  const color = await notes.evaluate((el) => getComputedStyle(el).color);
  assert.ok(!["rgb(164, 0, 15)", "rgb(138, 83, 0)", "rgb(122, 46, 0)"].includes(color), color);
  await shot("dashboard-job-notes");
  assert.deepEqual(page.errors, []);
});

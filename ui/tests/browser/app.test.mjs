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
  assert.match(await page.getByTestId("test-results").textContent(), /signed in to/);
  // The result as a whole, in words, colour and icon.
  const summary = page.getByTestId("test-summary");
  assert.equal(await summary.getAttribute("data-tone"), "success");
  assert.match(await summary.textContent(), /✔\s*Connection test passed: every check succeeded\./);
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
  const [user] = fixture("acl_users");
  await page.getByTestId("acl-users").locator("button").first().click();
  await page.getByTestId("acl-user-view").getByText(/May read \d+ documents/).waitFor();
  assert.equal(await page.getByTestId("acl-user-name").textContent(), `${user.name} (${user.id})`);
  await shot("acl-user");
  await page.getByTestId("acl-readable").locator("button").first().click();
  // The document by its title, type and space; its derivation and readers.
  const explained = fixture("acl_explain_document");
  await page.getByTestId("acl-doc-title").getByText(`${explained.title} (${explained.type}, ${explained.space_key})`).waitFor();
  await page.getByTestId("acl-doc-view").getByRole("heading", { name: "How it was derived" }).waitFor();
  assert.match(await page.getByTestId("acl-doc-view").textContent(), new RegExp(`Readers \\(${explained.readers.length}\\)`));
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

// ---------------------------------------------------------------------------------------------
// The app as an admin meets it in the first hour (issue 16): come back to a screen after saving,
// read a failure, leave a form half-edited, use the dialogs and the sidebar with the keyboard.

/** Whether `locator`'s box lies inside the 1280x800 window. */
async function inView(locator) {
  const box = await locator.boundingBox();
  return !!box && box.y >= 0 && box.y + box.height <= 800 && box.x >= 0 && box.x + box.width <= 1280;
}

/** The RGB channels of a computed colour. */
const rgb = (color) => color.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);

test("sync rules stay after leaving the screen: after Save draft and after Activate, not 'unsaved', no error", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("cql-add").click();
  await page.locator("[data-testid=cql-rule-0] .cm-content").click();
  const query = "space = ENG and type = page";
  await page.keyboard.type(query);
  await page.getByTestId("rules-tab-basic").click();
  await page.getByTestId("basic-add").click();
  await page.getByLabel("Value of rule 1").fill("attachment");
  await page.getByTestId("rules-save").click();
  await page.getByText(/Draft saved/).waitFor();

  const comeBack = async () => {
    await page.getByTestId("nav-dashboard").click();
    await page.locator("#dashboard-title").waitFor();
    assert.equal(await page.getByTestId("leave-dialog").count(), 0, "nothing unsaved to ask about");
    await page.getByTestId("nav-rules").click();
    await page.getByTestId("rules-stored").waitFor();
    await page.getByTestId("rules-tab-advanced").getByText("Advanced rules (CQL) · 1").waitFor();
    assert.equal(await page.getByTestId("rules-tab-basic").textContent(), "Basic rules · 1");
    assert.equal(await page.getByTestId("rules-unsaved").count(), 0);
    assert.equal(await page.getByRole("alert").count(), 0);
    assert.equal(await page.locator("[data-testid=cql-rule-0] .cm-content").textContent(), query);
    await page.getByTestId("rules-tab-basic").click();
    assert.equal(await page.getByLabel("Value of rule 1").inputValue(), "attachment");
  };
  await comeBack();
  assert.match(await page.getByTestId("rules-stored").textContent(), /Draft: version 1/);
  await shot("rules-after-return");

  await page.getByTestId("rules-activate").click();
  await page.getByText(/Activated version 1/).waitFor();
  // What was activated is the rule set on screen, not an empty one.
  const saved = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "save_draft_rules").at(-1).args.rules);
  assert.equal(saved.advanced[0].query, query);
  assert.equal(saved.basic.find((r) => r.id !== "DEFAULT").value, "attachment");
  await comeBack();
  assert.match(await page.getByTestId("rules-stored").textContent(), /Active: version 1/);
  assert.doesNotMatch(await page.getByTestId("rules-stored").textContent(), /Draft/);
  assert.deepEqual(page.errors, []);
});

test("a failed sync reads as a failure on the dashboard: red, ✖, what failed and what to do", async () => {
  await sandboxSynced();
  await page.waitForFunction(() => !document.querySelector("[data-testid=sync-full]").disabled);
  const outcome = page.getByTestId("sync-outcome");
  const success = {
    tone: await outcome.getAttribute("data-tone"),
    background: await outcome.evaluate((el) => getComputedStyle(el).backgroundColor),
    icon: await outcome.locator(".banner-icon").textContent(),
  };
  assert.deepEqual([success.tone, success.icon], ["success", "✔"]);

  // The engine's answer for an unreachable host (recorded with the CLI).
  const [unreachable] = fixture("list_jobs-failed");
  await page.evaluate((job) => window.__nextSyncFails(job), unreachable);
  await page.getByTestId("sync-full").click();
  await outcome.getByText("Full content sync failed").waitFor();
  assert.equal(await outcome.getAttribute("role"), "alert");
  assert.equal(await outcome.getAttribute("data-tone"), "failure");
  assert.equal(await outcome.locator(".banner-icon").textContent(), "✖");
  const background = await outcome.evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(background, success.background);
  const [r, g, b] = rgb(background);
  assert.ok(r > g + 10 && r > b + 10, `a red background, not ${background}`);
  const text = await outcome.textContent();
  assert.match(text, /What failed: The host name in the Confluence URL could not be found\./);
  assert.match(text, /What to do: Check the Confluence URL for typos/);
  // The engine's words; what it quotes in backticks shows as code, without them.
  assert.ok(text.includes(unreachable.errors[0].message.replaceAll("`", "")), "the engine's message, on the main screen");
  assert.doesNotMatch(text, /0 failed|completed/);
  assert.ok(await inView(outcome), "the banner is in view");
  // The history says it too, in words, colour and icon.
  const status = page.getByTestId("history-table").locator("tbody tr").first().locator(".status");
  assert.equal(await status.textContent(), "Failed");
  assert.equal(await status.evaluate((el) => getComputedStyle(el).color), "rgb(164, 0, 15)");
  assert.match(await status.evaluate((el) => getComputedStyle(el, "::before").content), /✖/);
  await shot("dashboard-failed-sync");
  // The next step is one click away.
  await outcome.getByRole("button", { name: "Open the configuration" }).click();
  await page.locator("#config-title").waitFor();
  assert.deepEqual(page.errors, []);
});

test("a failed save (no OS keyring) shows its cause and next step by the button, in view and focused", async () => {
  await page.getByTestId("new-connection").first().click();
  await page.locator("#connection-name").fill("Acme wiki");
  await page.locator("#field-data_source").selectOption("confluence_cloud");
  await page.locator("#field-confluence_url").fill("https://acme.atlassian.net");
  await page.locator("#field-account_email").fill("admin@acme.test");
  await page.locator("#field-api_token").fill("not-stored-anywhere");
  const save = page.getByTestId("save-connection");
  // The admin scrolled down to the button: it sits at the bottom edge of the window.
  await save.evaluate((el) => el.scrollIntoView({ block: "end" }));
  await save.click();
  const failure = page.getByTestId("config-failure");
  await failure.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "config-failure");
  assert.ok(await inView(failure), "the failure is in view");
  const failureBox = await failure.boundingBox();
  const saveBox = await save.boundingBox();
  const gap = saveBox.y - (failureBox.y + failureBox.height);
  assert.ok(gap >= 0 && gap < 80, `right above the button (${gap} px), with at most its own action between`);
  const text = await failure.textContent();
  assert.match(text, /Could not create the connection/);
  assert.match(text, /What failed: The OS keyring/);
  assert.match(text, /What to do: Start and unlock the desktop's keyring/);
  assert.ok(text.includes(fixture("save_connection-keyring").message.replaceAll("`", "")));
  assert.equal(await page.locator("#config-title").textContent(), "New connection");
  await shot("configuration-save-failed");
});

test("sidebar: stays in view on a long page, long names end in … with the full name as a tooltip, readable on hover", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-documents").click();
  await page.getByTestId("doc-hits").locator("button").first().waitFor();
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  assert.ok((await page.evaluate(() => window.scrollY)) > 500, "a long page");
  for (const id of ["nav-dashboard", "nav-acl"]) assert.ok(await inView(page.getByTestId(id)), `${id} stays in view`);
  await shot("sidebar-long-page");

  const name = page.getByTestId("nav-connection");
  const full = fixture("list_connections")[0].name;
  assert.equal(await name.getAttribute("title"), full);
  const cut = await name.evaluate((el) => ({ cut: el.scrollWidth > el.clientWidth, overflow: getComputedStyle(el).textOverflow }));
  assert.deepEqual(cut, { cut: true, overflow: "ellipsis" });

  // Every item, hovered: light text on a dark background (WCAG AA contrast, 4.5:1).
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  for (const item of await page.locator(".sidebar button").all()) {
    await item.hover();
    const { color, background } = await item.evaluate((el) => {
      let bg = getComputedStyle(el).backgroundColor;
      for (let n = el; n && /rgba\(.*, 0\)|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
      return { color: getComputedStyle(el).color, background: bg };
    });
    const [a, b] = [luminance(rgb(color)), luminance(rgb(background))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    assert.ok(ratio >= 4.5, `${await item.textContent()}: ${color} on ${background} (${ratio.toFixed(1)}:1)`);
  }
});

test("basic rules at 1280 px: every select shows its longest choice, the table fits", async () => {
  await sandboxSynced();
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rules-tab-basic").click();
  await page.getByTestId("basic-add").click();
  await page.getByTestId("basic-add").click();
  await page.getByLabel("Comparison of rule 1").selectOption("regex");
  await page.getByLabel("Policy of rule 2").selectOption("include");
  const problems = await page.evaluate(() => {
    const out = [];
    const ctx = document.createElement("canvas").getContext("2d");
    for (const sel of document.querySelectorAll("[data-testid=basic-rules] select")) {
      const cs = getComputedStyle(sel);
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const widest = Math.max(...[...sel.options].map((o) => ctx.measureText(o.text).width));
      // The text's room: the box without its padding and the arrow (about 16 px).
      const room = sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16;
      if (room < widest) out.push(`${sel.getAttribute("aria-label")}: ${room.toFixed(0)} px for ${widest.toFixed(0)} px of text`);
    }
    const table = document.querySelector("[data-testid=basic-rules]");
    const column = table.closest(".rules-layout > div") ?? table.parentElement;
    if (table.getBoundingClientRect().right > column.getBoundingClientRect().right + 1) out.push("the table is wider than its column");
    for (const el of table.querySelectorAll("input, select, button")) {
      if (el.getBoundingClientRect().right > column.getBoundingClientRect().right + 1) out.push(`${el.getAttribute("aria-label") ?? el.textContent} sticks out`);
    }
    return out;
  });
  assert.deepEqual(problems, []);
  await shot("rules-basic-1280");
  assert.deepEqual(page.errors, []);
});

test("basic rules: the engine's problems name the row and the part of the rule, never an internal id or the regex library's report", async () => {
  await sandboxSynced();
  // A draft saved earlier, its rules stored out of order (the table sorts them).
  const draft = fixture("rules-invalid-draft");
  await page.evaluate((rules) => window.__draftRules(rules), draft);
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rules-tab-basic").getByText("Basic rules · 4").waitFor();
  await page.getByTestId("rules-tab-basic").click();
  assert.equal(await page.getByLabel("Value of rule 1").inputValue(), "(Draft");
  await page.getByTestId("rules-validate").click();
  const panel = page.getByTestId("rules-problems");
  await panel.waitFor();
  const items = (await panel.locator("li").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
  assert.deepEqual(items, [
    "Basic rule 1: the value “(Draft” is not a valid regular expression: unclosed group",
    "Basic rule 3: rules 3 and 4 test the same field, comparison and value: only the first can ever decide; remove one of them",
    "Basic rule 4: rules 3 and 4 test the same field, comparison and value: only the first can ever decide; remove one of them",
  ]);
  // Under the row, at its Value.
  assert.match(await page.getByTestId("basic-problems-0").textContent(), /^Rule 1: the value “\(Draft” is not a valid regular expression/);
  assert.equal(await page.getByLabel("Value of rule 1").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByTestId("basic-problems-1").count(), 0);
  const text = await page.locator("main").textContent();
  for (const id of draft.basic.map((r) => r.id)) assert.ok(!text.includes(id), `no internal id ${id}`);
  assert.doesNotMatch(text, /regex parse error|\^\(\?:/);
  await shot("rules-basic-problems");
  assert.deepEqual(page.errors, []);
});

test("leaving a form with unsaved changes asks first: keep editing keeps them, discard leaves", async () => {
  await sandboxSynced();
  const dialog = page.getByTestId("leave-dialog");

  // The configuration.
  await page.getByTestId("nav-config").click();
  await page.locator("[data-field=spaces]").waitFor();
  await page.locator("#field-spaces").fill("ENG");
  await page.getByTestId("nav-dashboard").click();
  await dialog.waitFor();
  assert.equal(await dialog.evaluate((d) => d.matches(":modal")), true);
  assert.match(await dialog.textContent(), /You changed the configuration without saving/);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "leave-stay");
  await shot("leave-dialog");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.locator("#field-spaces").inputValue(), "ENG");
  assert.equal(await page.locator("#dashboard-title").count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "nav-dashboard", "focus back on what was clicked");
  await page.getByTestId("nav-documents").click();
  await page.getByTestId("leave-discard").click();
  await page.getByTestId("doc-hits").waitFor();

  // The sync rules.
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("rules-tab-basic").click();
  await page.getByTestId("basic-add").click();
  await page.getByTestId("nav-schedules").click();
  await page.getByTestId("leave-stay").click();
  assert.equal(await page.getByTestId("rules-tab-basic").textContent(), "Basic rules · 1");
  await page.getByTestId("nav-schedules").click();
  await page.getByTestId("leave-discard").click();
  await page.getByTestId("schedule-spec-full").waitFor();

  // The schedules.
  await page.getByTestId("schedule-enabled-full").check();
  await page.getByTestId("schedule-spec-full").fill("every 1h");
  await page.locator(".sidebar .nav-item").first().click();
  await dialog.getByText(/You changed the schedules without saving/).waitFor();
  await page.getByTestId("leave-discard").click();
  await page.locator("#connections-title").waitFor();
  // Discarded means not saved.
  assert.equal(await page.evaluate(() => window.__calls.filter((c) => c.cmd === "save_schedule").length), 0);
  assert.deepEqual(page.errors, []);
});

test("the delete dialog is modal: backdrop, focus inside and kept there, Escape closes, focus returns to Delete", async () => {
  await sandboxSynced();
  await page.locator(".sidebar .nav-item").first().click();
  const remove = page.getByTestId("delete-connection");
  await remove.click();
  const dialog = page.getByTestId("confirm-delete");
  await dialog.waitFor();
  assert.equal(await dialog.evaluate((d) => d.matches(":modal")), true);
  const backdrop = await dialog.evaluate((d) => getComputedStyle(d, "::backdrop").backgroundColor);
  assert.notEqual(backdrop, "rgba(0, 0, 0, 0)", "a visible backdrop");
  const focusInside = () => page.evaluate(() => document.querySelector("[data-testid=confirm-delete]").contains(document.activeElement));
  assert.equal(await focusInside(), true);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Keep it");
  await shot("connections-delete-dialog");
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press("Tab");
    const outside = await page.evaluate(() => {
      const a = document.activeElement;
      return a && a !== document.body && !document.querySelector("[data-testid=confirm-delete]").contains(a) ? a.outerHTML.slice(0, 80) : null;
    });
    assert.equal(outside, null, "Tab never reaches the page behind");
  }
  // Clicks on the page behind do nothing.
  await page.getByTestId("new-connection").first().click({ force: true, timeout: 2000 }).catch(() => {});
  assert.equal(await page.locator("#connections-title").count(), 1);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "delete-connection");
  assert.equal(await page.getByTestId("connections-table").locator("tbody tr").count(), 1, "Escape deletes nothing");
  // Deleting for real.
  await remove.click();
  await page.getByTestId("confirm-delete-yes").click();
  await page.getByTestId("connections-empty").waitFor();
  assert.deepEqual(page.errors, []);
});

test("without a keyring: the failed save offers the environment variables, and the connection saves with them", async () => {
  await page.getByTestId("new-connection").first().click();
  await page.locator("#connection-name").fill("Acme wiki");
  await page.locator("#field-data_source").selectOption("confluence_cloud");
  await page.locator("#field-confluence_url").fill("https://acme.atlassian.net");
  await page.locator("#field-account_email").fill("admin@acme.test");
  await page.locator("#field-api_token").fill("not-stored-anywhere");
  await page.getByTestId("save-connection").click();
  await page.getByTestId("config-failure").waitFor();
  await page.getByTestId("use-env-secrets").click();
  // The secret inputs give way to the variables' name; it has the focus.
  await page.locator("[data-field=secrets_env_name]").waitFor();
  assert.equal(await page.locator("[data-field=api_token]").count(), 0);
  assert.equal(await page.locator("#field-secrets_from_env").isChecked(), true);
  assert.match(await page.getByTestId("secret-source").textContent(), /CONFLUENCE_CONNECTOR_<NAME>_API_TOKEN/);
  await page.waitForFunction(() => document.activeElement?.id === "field-secrets_env_name");
  await page.keyboard.type("ACME_WIKI");
  await shot("configuration-env-secrets");
  await page.getByTestId("save-connection").click();
  await page.locator("#dashboard-title").waitFor();
  const saved = await page.evaluate(() => window.__calls.filter((c) => c.cmd === "save_connection").at(-1).args.draft);
  assert.equal(saved.values.secrets_from_env, true);
  assert.equal(saved.values.secrets_env_name, "ACME_WIKI");
  assert.deepEqual(saved.secrets, {}, "no typed secret leaves the form");
  assert.deepEqual(page.errors, []);
});

test("settings and logs: data folder, log file and its last lines, version, keyring, simulator; the log folder opens", async () => {
  const settings = fixture("app_settings");
  await page.getByTestId("nav-settings").click();
  await page.locator("#settings-title").waitFor();
  assert.equal(await page.getByTestId("settings-version").textContent(), settings.version);
  assert.equal(await page.getByTestId("settings-data-dir").textContent(), settings.data_dir);
  assert.equal(await page.getByTestId("settings-log-file").textContent(), settings.log_file);
  assert.equal(await page.getByTestId("settings-log").textContent(), settings.log_lines.join("\n"));
  assert.match(await page.getByTestId("settings-keyring").textContent(), /The OS keyring is not available/);
  const simulator = await page.getByTestId("settings-simulator").textContent();
  assert.ok(simulator.includes("Running") && simulator.includes(settings.simulator.url), simulator);
  assert.equal(await page.getByTestId("nav-settings").getAttribute("aria-current"), "page");
  // Nothing overflows its box at 1280x800.
  const overflowing = await page.evaluate(() =>
    [...document.querySelectorAll("main *")].filter((el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === "visible").map((el) => el.outerHTML.slice(0, 60)),
  );
  assert.deepEqual(overflowing, []);
  await shot("settings");
  await page.getByTestId("open-log-folder").click();
  await page.getByText("The log folder opens in your file manager.").waitFor();
  assert.equal(await page.evaluate(() => window.__calls.filter((c) => c.cmd === "open_log_folder").length), 1);
  assert.deepEqual(page.errors, []);
});

test("live dashboard: phase, counts, bar and ETA follow the documents, not the spaces; the list shows the index's count apart from the last job", async () => {
  await page.getByTestId("try-sandbox").click();
  const live = page.getByTestId("sync-live");
  // The recorded sandbox sync: 389 documents in 6 spaces. Midway, no space has finished, yet the
  // bar, the counts and the ETA move with the documents written.
  await live.getByText("Crawling: listing, fetching, downloading, extracting and writing content").waitFor();
  await page.waitForFunction(() => {
    const bar = document.querySelector("[data-testid=docs-bar]");
    const created = document.querySelector("[data-testid=live-count-created] .stat");
    const n = Number(created?.textContent?.replace(/,/g, ""));
    return bar && Number(bar.getAttribute("aria-valuenow")) > 0 && n > 0 && n < 389;
  });
  assert.match(await page.getByTestId("docs-count").textContent(), /^\d+ of 389 documents · spaces \d of 6/);
  await live.getByText(/about \d+ s left/).waitFor();
  assert.match(await page.getByTestId("sync-activity").textContent(), /^Now /);
  // The history does not tell the admin to start a sync while the first one runs.
  assert.equal(await page.getByTestId("history-empty").textContent(), "The first sync is running; it appears here when it ends.");
  await shot("dashboard-live-documents");
  await page.getByTestId("history-table").getByText("Completed").first().waitFor();
  // The access-control sync the sandbox runs next wrote 27 identities: the index still holds 389.
  await page.waitForFunction(() => !document.querySelector("[data-testid=sync-full]").disabled);
  assert.match(await page.getByTestId("index-count").textContent(), /In the index: 389 documents/);
  assert.match(await page.getByTestId("index-count").textContent(), /Last content sync: Full content sync completed: 389 new, 0 changed, 0 deleted/);
  await page.getByRole("button", { name: "Connections", exact: true }).click();
  const cell = page.getByTestId("index-count-cell");
  await cell.getByText("389 documents").waitFor();
  assert.match(await cell.textContent(), /Last content sync: Full content sync completed: 389 new/);
  assert.doesNotMatch(await page.getByTestId("connections-table").textContent(), /27 documents/);
  // The rules preview says what it counts and how it compares with the index.
  await page.getByTestId("nav-connection").click();
  await page.getByTestId("nav-rules").click();
  await page.getByTestId("cql-add").click();
  await page.locator("[data-testid=cql-rule-0] .cm-content").click();
  await page.keyboard.type("space = ENG and type = page");
  const preview = fixture("preview_rules");
  await page.getByTestId("preview-total").getByText(`about ${preview.total} documents would be synced: ${preview.counts}.`).waitFor();
  assert.equal(await page.getByTestId("preview-index").textContent(), preview.difference);
  assert.deepEqual(page.errors, []);
});

// A visual check of every screen of the real app in WebKit at 1280x800, with the sandbox synced:
// on each screen no button, select or input is clipped by its container or the window, no
// control is narrower than its own text, and no text overflows its box (measured through
// WebDriver: element boxes, scrollWidth against clientWidth). Each screen is saved as
// target/e2e-screenshots/<screen>.png (and <screen>-end.png, scrolled to the bottom, when the
// screen is taller than the window).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MEASURE_LAYOUT, application, helpers } from "./flows.mjs";
import { Session, startDriver } from "./webdriver.mjs";

let driver;
let session;
let h;
let sandbox;

before(async () => {
  process.env.CONFLUENCE_CONNECTOR_DATA_DIR = mkdtempSync(join(tmpdir(), "cc-e2e-visual-"));
  driver = await startDriver();
  session = await Session.start(driver.url, application);
  h = helpers(session);
});

after(async () => {
  await session?.end();
  driver?.stop();
});

/** Fails listing every layout problem of `screen`. */
function assertClean(screen, problems) {
  assert.deepEqual(problems, [], `layout problems on the ${screen} screen at 1280x800:\n${problems.join("\n")}`);
}

/** Measures the screen shown, saves its screenshots, and fails listing every layout problem. */
async function check(screen) {
  assertClean(screen, await measure(screen));
}

/** Measures the screen shown and saves its screenshots; returns its layout problems. */
async function measure(screen) {
  await session.execute("window.scrollTo(0, 0); document.activeElement?.blur?.();");
  const size = await session.execute("return [window.innerWidth, window.innerHeight];");
  assert.deepEqual(size, [1280, 800], "the window is 1280x800");
  const problems = await session.execute(MEASURE_LAYOUT);
  await session.screenshot(screen);
  if (await session.execute("return document.documentElement.scrollHeight > window.innerHeight + 20;")) {
    await session.execute("window.scrollTo(0, document.documentElement.scrollHeight);");
    problems.push(...(await session.execute(MEASURE_LAYOUT)).filter((p) => !problems.includes(p)));
    await session.screenshot(`${screen}-end`);
    await session.execute("window.scrollTo(0, 0);");
  }
  return problems;
}

test("first start: the empty connections screen", async () => {
  await session.find("[data-testid=connections-empty]");
  await check("connections-first-start");
});

test("the sandbox syncs (setup of the screens below)", async () => {
  sandbox = await h.startSandbox();
});

test("sync dashboard", async () => {
  await h.visit("dashboard");
  await session.find("[data-testid=history-table]");
  await session.waitFor(() => h.exists("[data-testid=index-count]"), "the index count", 10000);
  // One job's details open, as an admin would look at them.
  await h.click("[data-testid=history-table] tbody tr button");
  await session.find(".job-details");
  await check("dashboard");
});

test("configuration", async () => {
  await h.visit("config");
  await session.find("[data-field=confluence_url]");
  await session.waitFor(() => h.exists("[data-field=retry_count]"), "the form", 10000);
  await h.click("[data-testid=test-connection]");
  await session.waitFor(async () => (await session.findAll("[data-check]")).length > 0, "test connection results", 30000);
  // Every section open, as an admin going through the settings would have them.
  await h.click(".config-form > details.advanced > summary");
  await session.waitFor(() => h.exists("#field-retry_count"), "the advanced settings", 5000);
  await check("configuration");
});

test("sync rules, advanced (CQL)", async () => {
  await h.visit("rules");
  await session.find("#rules-title");
  await h.click("[data-testid=cql-add]");
  const editor = await session.find("[data-testid=cql-rule-0] .cm-content");
  await session.click(editor);
  await session.command("POST", `/element/${editor}/value`, { text: "space = ENG and type = page" });
  await session.execute(`document.activeElement?.blur?.();`);
  await session.waitFor(async () => /matches/.test((await h.maybeText("[data-testid=rules-preview]")) ?? ""), "the preview", 20000);
  await check("sync-rules-advanced");
});

test("sync rules, basic (the rules table)", async () => {
  await h.click("[data-testid=rules-tab-basic]");
  await h.click("[data-testid=basic-add]");
  await h.click("[data-testid=basic-add]");
  await session.type(await session.find("[aria-label='Value of rule 1']"), "attachment");
  await session.type(await session.find("[aria-label='Field of rule 2']"), "title");
  await session.execute(
    `const s = document.querySelector("[aria-label='Comparison of rule 2']"); s.value = "starts_with"; s.dispatchEvent(new Event("change", { bubbles: true }));`,
  );
  await session.type(await session.find("[aria-label='Value of rule 2']"), "Draft");
  const problems = await measure("sync-rules-basic");
  // Leave the rules unsaved behind: discard them.
  await h.visit("schedules");
  let dialog = [];
  if (await h.leaveDialogOpen()) {
    dialog = (await measure("leave-dialog")).map((p) => `(the leave dialog) ${p}`);
    await h.click("[data-testid=leave-discard]");
  }
  assertClean("sync-rules-basic", [...problems, ...dialog]);
});

test("schedules", async () => {
  if (!(await h.exists("[data-testid=schedules-table]"))) await h.visit("schedules");
  await session.find("[data-testid=schedules-table]");
  await check("schedules");
});

test("documents", async () => {
  await h.visit("documents");
  await session.waitFor(async () => (await session.findAll("[data-testid=doc-hits] button")).length > 1, "documents", 20000);
  const hits = await session.findAll("[data-testid=doc-hits] button");
  await session.click(hits[1]);
  await session.waitFor(async () => /Fields/.test(await h.textOf("[data-testid=doc-view]")), "the document view", 10000);
  await check("documents");
});

test("ACL inspector", async () => {
  await h.visit("acl");
  await session.find("#acl-title");
  await session.waitFor(async () => (await session.findAll("[data-testid=acl-users] button")).length > 0, "users", 10000);
  await session.click((await session.findAll("[data-testid=acl-users] button"))[0]);
  await session.waitFor(async () => /May read/.test(await h.textOf("[data-testid=acl-user-view]")), "a user's access", 10000);
  const readable = await session.findAll("[data-testid=acl-readable] button");
  if (readable.length > 0) {
    await session.click(readable[Math.min(3, readable.length - 1)]);
    await session.waitFor(async () => /How it was derived/.test(await h.textOf("[data-testid=acl-doc-view]")), "a document's ACL", 10000);
  }
  await check("acl-inspector");
});

test("connections list, and its delete dialog", async () => {
  await h.click(".sidebar .nav-item");
  await session.find("[data-testid=connections-table]");
  const problems = await measure("connections-list");
  await h.click("[data-testid=delete-connection]");
  await session.find("[data-testid=confirm-delete]");
  const dialog = (await measure("delete-dialog")).map((p) => `(the delete dialog) ${p}`);
  await h.click("[data-testid=confirm-delete-no]");
  assertClean("connections-list", [...problems, ...dialog]);
});

test("new connection", async () => {
  await h.click("[data-testid=new-connection]");
  await session.find("#connection-name");
  await session.waitFor(() => h.exists("[data-field=confluence_url]"), "the form", 10000);
  const problems = await measure("new-connection");
  await h.click(".sidebar .nav-item");
  if (await h.leaveDialogOpen()) await h.click("[data-testid=leave-discard]");
  assertClean("new-connection", problems);
});

test("settings and logs", async () => {
  await h.click("[data-testid=nav-settings]");
  await session.waitFor(() => h.exists("[data-testid=settings-facts]"), "the settings", 10000);
  await check("settings");
});

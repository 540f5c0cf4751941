// Browser tests of the built UI (ui/dist) in Debian's Chromium, with the Tauri IPC mocked from the
// engine answers the end-to-end test recorded (ui/tests/fixtures/). Screenshots of every screen
// go to target/browser-screenshots/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, beforeEach, test } from "node:test";
import { chromium } from "playwright-core";
import { serve } from "./server.mjs";

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

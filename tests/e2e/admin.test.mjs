// An admin's first hour with the sandbox, in the real app: what is saved stays saved when the
// admin goes to another screen and comes back (sync rules, basic and CQL, as a draft and once
// active; the configuration; the schedules), and a narrowing CQL rule, once active and synced,
// leaves only its space's documents in the index, which the dashboard and the documents browser
// count alike. Screenshots go to target/e2e-screenshots/.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { KEY, application, helpers } from "./flows.mjs";
import { Session, startDriver } from "./webdriver.mjs";

const SPACE = "ENG";
const CQL = `space = ${SPACE}`;
// A basic rule that excludes nothing of the sandbox: the CQL rule alone narrows the scope.
const BASIC = { policy: "exclude", field: "title", rule: "contains", value: "zz-no-such-title" };

let driver;
let session;
let h;
let sandbox;

before(async () => {
  process.env.CONFLUENCE_CONNECTOR_DATA_DIR = mkdtempSync(join(tmpdir(), "cc-e2e-admin-"));
  driver = await startDriver();
  session = await Session.start(driver.url, application);
  h = helpers(session);
});

after(async () => {
  await session?.end();
  driver?.stop();
});

/** Leaves the open screen for `screen` and fails if the app asks to discard unsaved changes. */
async function leaveFor(screen, why) {
  await h.visit(screen);
  // The guard's dialog would appear at once; give the page a frame to show it.
  await session.execute("return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))));");
  if (await h.leaveDialogOpen()) {
    const text = await h.textOf("[data-testid=leave-dialog]");
    await h.press(KEY.ESCAPE);
    assert.fail(`leaving after ${why} asked "${text.replace(/\s+/g, " ")}": the app thinks the saved ${why} is unsaved`);
  }
}

/** What the rules screen shows: its state line, failure, tab counts, the CQL queries and the basic rules table. */
async function rulesScreen() {
  return session.execute(`
    const text = (s) => document.querySelector(s)?.innerText.trim() ?? null;
    const rows = [...document.querySelectorAll("[data-testid=basic-rules] tbody tr[data-testid^=basic-rule-]")].map((tr) => ({
      policy: tr.querySelector("select[aria-label^=Policy]")?.value,
      field: tr.querySelector("input[aria-label^=Field]")?.value,
      rule: tr.querySelector("select[aria-label^=Comparison]")?.value,
      value: tr.querySelector("input[aria-label^=Value]")?.value,
    }));
    return {
      stored: text("[data-testid=rules-stored]"),
      unsaved: !!document.querySelector("[data-testid=rules-unsaved]"),
      failure: text("[data-testid=rules-failure]"),
      advancedTab: text("[data-testid=rules-tab-advanced]"),
      basicTab: text("[data-testid=rules-tab-basic]"),
      queries: [...document.querySelectorAll("[data-testid^=cql-rule-] .cm-content")].map((e) => e.innerText.trim()),
      basic: rows,
    };`);
}

async function openRules() {
  await h.visit("rules");
  await session.find("#rules-title");
  return session.waitFor(async () => {
    const s = await rulesScreen();
    return s.stored || s.failure ? s : null;
  }, "the sync rules to load", 15000);
}

/** Selects the option whose value is `value` in the select `selector`, as a click on it would. */
async function choose(selector, value) {
  const option = await session.find(`${selector} option[value="${value}"]`);
  await session.click(option);
  const now = await session.execute(`return document.querySelector(arguments[0]).value;`, [selector]);
  if (now !== value) {
    // WebKitGTK draws selects as native menus: set the value as the menu would.
    await session.execute(
      `const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event("change", { bubbles: true }));`,
      [selector, value],
    );
  }
}

test("the sandbox's first syncs finish", async () => {
  sandbox = await h.startSandbox();
  assert.equal(sandbox.sandbox, true);
});

test("sync rules saved as a draft, then activated, are still there after leaving the screen and coming back", async () => {
  assert.ok(sandbox, "the sandbox is set up");
  let screen = await openRules();
  assert.equal(screen.failure, null, "the rules screen loads without a failure");
  assert.match(screen.stored, /No active rules/);

  // A basic rule.
  await h.click("[data-testid=rules-tab-basic]");
  await h.click("[data-testid=basic-add]");
  await session.find("[data-testid=basic-rule-0]");
  await choose("[aria-label='Policy of rule 1']", BASIC.policy);
  await session.type(await session.find("[aria-label='Field of rule 1']"), BASIC.field);
  await choose("[aria-label='Comparison of rule 1']", BASIC.rule);
  await session.type(await session.find("[aria-label='Value of rule 1']"), BASIC.value);
  // An advanced (CQL) rule.
  await h.click("[data-testid=rules-tab-advanced]");
  await h.click("[data-testid=cql-add]");
  const editor = await session.find("[data-testid=cql-rule-0] .cm-content");
  await session.click(editor);
  await session.command("POST", `/element/${editor}/value`, { text: CQL });
  await h.press(KEY.ESCAPE);
  await session.waitFor(async () => (await rulesScreen()).queries[0] === CQL, "the CQL query in the editor", 5000);
  assert.equal((await rulesScreen()).unsaved, true, "edited rules show as unsaved before the save");

  // Save the draft.
  await h.click("[data-testid=rules-save]");
  await session.waitFor(async () => /Draft saved/.test((await h.maybeText(".notice")) ?? ""), "the draft to be saved", 15000);
  screen = await rulesScreen();
  assert.equal(screen.unsaved, false, "no unsaved changes right after the save");
  await session.screenshot("admin-01-rules-draft-saved");

  // Another screen, then back.
  await leaveFor("documents", "draft rules");
  await session.find("#documents-title");
  screen = await openRules();
  await session.screenshot("admin-02-rules-draft-after-return");
  assert.equal(screen.failure, null, `no failure after coming back, got: ${screen.failure}`);
  assert.equal(screen.unsaved, false, `the saved draft is not "unsaved" after coming back: ${screen.stored}`);
  assert.match(screen.stored, /Draft: version \d+/);
  assert.match(screen.advancedTab, /· 1$/, `one CQL rule after coming back: ${screen.advancedTab}`);
  assert.match(screen.basicTab, /· 1$/, `one basic rule after coming back: ${screen.basicTab}`);
  assert.deepEqual(screen.queries, [CQL]);
  await h.click("[data-testid=rules-tab-basic]");
  screen = await rulesScreen();
  assert.deepEqual(screen.basic, [BASIC], "the basic rule as saved");
  const draft = await session.invoke("load_rules", { id: sandbox.id });
  assert.deepEqual(draft.draft.rules.advanced, [{ query: CQL }]);

  // Activate, leave, come back: active, the same rules, nothing unsaved, no draft left.
  await h.click("[data-testid=rules-activate]");
  await session.waitFor(async () => /Activated version \d+/.test((await h.maybeText(".notice")) ?? ""), "the rules to be activated", 30000);
  await leaveFor("dashboard", "active rules");
  await session.find("#dashboard-title");
  screen = await openRules();
  await session.screenshot("admin-03-rules-active-after-return");
  assert.equal(screen.failure, null, `no failure after coming back, got: ${screen.failure}`);
  assert.equal(screen.unsaved, false, `the active rules are not "unsaved" after coming back: ${screen.stored}`);
  assert.match(screen.stored, /Active: version \d+/);
  assert.doesNotMatch(screen.stored, /Draft:/);
  assert.deepEqual(screen.queries, [CQL]);
  await h.click("[data-testid=rules-tab-basic]");
  assert.deepEqual((await rulesScreen()).basic, [BASIC]);
  const active = await session.invoke("load_rules", { id: sandbox.id });
  assert.deepEqual(active.active.rules.advanced, [{ query: CQL }]);
  assert.ok(
    active.active.rules.basic.some((r) => r.field === BASIC.field && r.value === BASIC.value),
    "the engine's active rules hold the basic rule",
  );
  // Back to the dashboard without being asked anything.
  await leaveFor("dashboard", "active rules");
});

test("a changed configuration field and a schedule, once saved, survive leaving the screen and coming back", async () => {
  assert.ok(sandbox, "the sandbox is set up");
  // Configuration: the retry count.
  await h.visit("config");
  // The retry count is under "Advanced settings", closed at first.
  await h.click(".config-form > details.advanced > summary");
  const field = await session.find("#field-retry_count");
  await session.waitFor(async () => (await session.execute(`return document.querySelector("#field-retry_count").value;`)) !== "", "the form to load", 10000);
  await session.type(field, "5");
  await session.waitFor(() => h.exists("[data-testid=config-unsaved]"), "the edit to show as unsaved", 5000);
  await h.click("[data-testid=save-connection]");
  await session.waitFor(() => h.maybeText("[data-testid=config-saved]"), "the configuration to be saved", 15000);
  assert.equal(await h.exists("[data-testid=config-failure]"), false);
  await leaveFor("documents", "configuration");
  await session.find("#documents-title");
  await h.visit("config");
  await session.waitFor(async () => (await session.execute(`return document.querySelector("#field-retry_count")?.value ?? "";`)) !== "", "the form to load", 10000);
  assert.equal(await session.execute(`return document.querySelector("#field-retry_count").value;`), "5", "the saved retry count after coming back");
  assert.equal(await h.exists("[data-testid=config-unsaved]"), false, "the saved configuration is not unsaved after coming back");
  const form = await session.invoke("load_connection", { id: sandbox.id });
  assert.equal(Number(form.values.retry_count), 5);
  await session.screenshot("admin-04-configuration-after-return");

  // Schedules: an hourly incremental sync.
  await leaveFor("schedules", "configuration");
  await session.find("[data-testid=schedules-table]");
  await h.click("[data-testid=schedule-enabled-incremental]");
  await session.type(await session.find("[data-testid=schedule-spec-incremental]"), "every 6h");
  await h.click("[data-testid=schedules-save]");
  await session.waitFor(() => h.maybeText("[data-testid=schedules-saved]"), "the schedules to be saved", 10000);
  await leaveFor("dashboard", "schedules");
  await session.find("#dashboard-title");
  await h.visit("schedules");
  await session.find("[data-testid=schedules-table]");
  const row = await session.waitFor(
    () =>
      session.execute(`
        const box = document.querySelector("[data-testid=schedule-enabled-incremental]");
        const spec = document.querySelector("[data-testid=schedule-spec-incremental]");
        return box && spec ? { enabled: box.checked, spec: spec.value, save: document.querySelector("[data-testid=schedules-save]").disabled } : null;`),
    "the schedules to load",
    10000,
  );
  assert.deepEqual(row, { enabled: true, spec: "every 6h", save: true }, "the saved schedule after coming back, with nothing to save");
  // Leave no schedule behind.
  await session.invoke("save_schedule", { id: sandbox.id, jobType: "incremental", enabled: false, spec: "every 6h" });
  await leaveFor("dashboard", "schedules");
});

test(`an active CQL rule (${CQL}) narrows a full sync to that space, and the dashboard counts only its documents`, async () => {
  assert.ok(sandbox, "the sandbox is set up");
  // What the index holds before: every space; the documents of the rule's space among them.
  const before = await h.allDocuments(sandbox.id);
  // A CQL rule selects content (pages, blog posts, attachments, comments): the space's own
  // document is not a search result, so it leaves the index too.
  const inSpace = before.hits.filter((d) => d.source.space_key === SPACE && d.source.type !== "space");
  assert.ok(inSpace.length > 0 && inSpace.length < before.total, `the sandbox has ${SPACE} and other spaces (${inSpace.length} of ${before.total})`);
  const rules = await session.invoke("load_rules", { id: sandbox.id });
  if (rules.active?.rules.advanced?.[0]?.query !== CQL) {
    // The previous test did not get there through the screen: activate the rule as the screen would.
    await session.invoke("save_draft_rules", { id: sandbox.id, rules: { basic: [], advanced: [{ query: CQL }] } });
    await session.invoke("activate_rules", { id: sandbox.id });
  }
  const jobsBefore = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });

  await h.visit("dashboard");
  await session.find("#dashboard-title");
  const fullButton = await session.find("[data-testid=sync-full]");
  await session.waitFor(() => session.command("GET", `/element/${fullButton}/enabled`), "the Full sync button", 20000);
  await session.click(fullButton);
  // Narrowing to one space removes more than the deletion threshold: the admin confirms.
  const confirmed = await session.waitFor(
    async () => {
      if (await h.exists("[data-testid=confirm-deletions]")) {
        const text = await h.textOf("[data-testid=confirm-deletions]");
        await h.click("[data-testid=confirm-deletions-yes]");
        return text;
      }
      return (await session.invoke("list_jobs", { id: sandbox.id, limit: 50 })).length > jobsBefore.length ? "no confirmation asked" : null;
    },
    "the full sync to start (after the deletion confirmation)",
    30000,
  );
  const job = await session.waitFor(
    async () => {
      const jobs = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });
      return jobs.length > jobsBefore.length && jobs[0].job_type === "full" && jobs[0].status !== "running" ? jobs[0] : null;
    },
    "the narrowed full sync to finish",
    90000,
  );
  assert.equal(job.status, "completed", `the narrowed sync completed: ${JSON.stringify(job.errors)}`);
  await h.idle();
  await session.waitFor(() => h.exists("[data-testid=index-count]"), "the index count on the dashboard", 10000);
  const indexLine = await session.waitFor(
    async () => {
      const text = await h.maybeText("[data-testid=index-count]");
      return text && /In the index: [\d,]+ documents?/.test(text) && text.includes("Last content sync") ? text : null;
    },
    "the dashboard's index count after the narrowed sync",
    15000,
  );
  await session.screenshot("admin-05-dashboard-narrowed-sync");
  const shown = Number(indexLine.match(/In the index: ([\d,]+)/)[1].replace(/,/g, ""));
  const tone = await session.execute(`return document.querySelector("[data-testid=sync-outcome]")?.dataset.tone ?? null;`);

  // The index now holds the rule's space only; the browser counts what the dashboard says.
  const after = await h.allDocuments(sandbox.id);
  const outside = after.hits.filter((d) => d.source.space_key !== SPACE);
  // The rules screen's preview of the active rules counts what the sync indexed.
  await h.visit("rules");
  const previewText = await session.waitFor(
    async () => {
      const text = await h.maybeText("[data-testid=preview-total]");
      return text && !(await h.maybeText("[data-testid=rules-preview] h2"))?.includes("updating") ? text : null;
    },
    "the rules preview",
    20000,
  );
  await h.visit("documents");
  const range = await session.waitFor(() => h.maybeText("[data-testid=doc-range]"), "the documents browser", 15000);
  await session.screenshot("admin-06-documents-narrowed");
  const browserTotal = Number(range.match(/of ([\d,]+)/)[1].replace(/,/g, ""));

  assert.deepEqual(
    outside.map((d) => `${d.source.type} ${d.source.space_key} ${d.source.title}`).slice(0, 10),
    [],
    `only ${SPACE} documents are left in the index (${outside.length} of ${after.total} are not)`,
  );
  assert.equal(browserTotal, after.total, "the documents browser counts the index");
  assert.equal(shown, after.total, `the dashboard's "In the index" (${indexLine}) is the index's count`);
  const kept = new Set(after.hits.map((d) => d.id));
  const lost = inSpace.filter((d) => !kept.has(d.id)).map((d) => `${d.source.type} "${d.source.title}" (${d.id})`);
  assert.deepEqual(lost, [], `the sync kept every ${SPACE} document the full crawl had indexed (${inSpace.length})`);
  assert.equal(after.total, inSpace.length, `as many documents as the full crawl indexed in ${SPACE}`);
  assert.equal(job.counters.deleted_document_count, before.total - after.total, "the job deleted the other spaces' documents");
  assert.match(indexLine, new RegExp(`${job.counters.deleted_document_count} deleted`), "the dashboard's last content sync says how many it deleted");
  const previewCount = Number((previewText.match(/([\d,]+) documents? would be synced/)?.[1] ?? "NaN").replace(/,/g, ""));
  assert.equal(previewCount, after.total, `the rules preview ("${previewText}") counts what the sync indexed`);
  assert.equal(tone, "success", `the dashboard announces the narrowed sync as a success (${confirmed})`);
});

/** Ctrl+A in the focused field. */
async function selectAllKeys() {
  await session.command("POST", "/actions", {
    actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value: "\uE009" }, { type: "keyDown", value: "a" }, { type: "keyUp", value: "a" }, { type: "keyUp", value: "\uE009" }] }],
  });
  await session.command("DELETE", "/actions");
}

/** The value of the element matching `selector`. */
function valueOf(selector) {
  return session.execute(`return document.querySelector(arguments[0])?.value ?? null;`, [selector]);
}

test("a schedule and a basic sync rule are filled and saved with the keyboard alone", async () => {
  assert.ok(sandbox, "the sandbox is set up");
  // Schedules: the full sync every 12 hours.
  await h.visit("schedules");
  await session.find("[data-testid=schedules-table]");
  await session.waitFor(() => h.exists("[data-testid=schedule-enabled-full]"), "the schedules to load", 10000);
  await h.tabTo("[data-testid=schedule-enabled-full]", 40);
  await h.press(KEY.SPACE);
  await h.tabTo("[data-testid=schedule-spec-full]");
  await selectAllKeys();
  await h.typeKeys("every 12h");
  await h.tabTo("[data-testid=schedules-save]", 40);
  await h.press(KEY.ENTER);
  await session.waitFor(() => h.maybeText("[data-testid=schedules-saved]"), "the schedules to be saved", 10000);
  const schedules = await session.invoke("list_schedules", { id: sandbox.id });
  const full = schedules.find((s) => s.job_type === "full");
  assert.deepEqual({ enabled: full?.enabled, spec: full?.spec }, { enabled: true, spec: "every 12h" }, JSON.stringify(schedules));
  await session.invoke("save_schedule", { id: sandbox.id, jobType: "full", enabled: false, spec: "every 12h" });

  // Sync rules: a new basic rule, every control reached with Tab and set with keys.
  const before = (await session.invoke("load_rules", { id: sandbox.id })).active?.rules.basic.length ?? 0;
  await openRules();
  await h.tabTo("[data-testid=rules-tab-basic]", 40);
  await h.press(KEY.ENTER);
  await h.tabTo("[data-testid=basic-add]", 40);
  await h.press(KEY.ENTER);
  const n = before + 1;
  await session.find(`[aria-label='Policy of rule ${n}']`);
  await h.tabTo(`[aria-label='Policy of rule ${n}']`, 40);
  const policy = await valueOf(`[aria-label='Policy of rule ${n}']`);
  await h.press(policy === "include" ? KEY.DOWN : KEY.UP);
  const newPolicy = await valueOf(`[aria-label='Policy of rule ${n}']`);
  assert.notEqual(newPolicy, policy, "an arrow key changes the Policy select");
  await h.tabTo(`[aria-label='Field of rule ${n}']`);
  await h.typeKeys("title");
  await h.tabTo(`[aria-label='Comparison of rule ${n}']`);
  const op = await valueOf(`[aria-label='Comparison of rule ${n}']`);
  await h.press(KEY.DOWN);
  const newOp = await valueOf(`[aria-label='Comparison of rule ${n}']`);
  assert.notEqual(newOp, op, "an arrow key changes the Comparison select");
  await h.tabTo(`[aria-label='Value of rule ${n}']`);
  await h.typeKeys("keyboard-only");
  await session.screenshot("admin-07-basic-rule-keyboard");
  await h.tabTo("[data-testid=rules-save]", 40);
  await h.press(KEY.ENTER);
  await session.waitFor(async () => /Draft saved/.test((await h.maybeText(".notice")) ?? ""), "the draft to be saved", 15000);
  const draft = await session.invoke("load_rules", { id: sandbox.id });
  assert.ok(
    draft.draft.rules.basic.some((r) => r.policy === newPolicy && r.field === "title" && r.rule === newOp && r.value === "keyboard-only"),
    `the draft holds the rule typed with the keyboard: ${JSON.stringify(draft.draft.rules.basic)}`,
  );
  await leaveFor("dashboard", "the keyboard's draft rules");
});

// The first start of the real app, end to end: a new user starts the sandbox from the empty
// connections screen, watches the full sync finish on the dashboard, browses the documents and
// inspects access. Every screen is saved as a PNG under target/e2e-screenshots/.
//
// With RECORD_FIXTURES=1 the engine's answers seen on the way are written to ui/tests/fixtures/,
// which the browser tests replay.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Session, repoRoot, startDriver } from "./webdriver.mjs";

const application = process.env.APP_BINARY ?? join(repoRoot, "target", "debug", "confluence-desktop");
const fixtures = join(repoRoot, "ui", "tests", "fixtures");
const recording = Boolean(process.env.RECORD_FIXTURES);
let driver;
let session;

function record(name, value) {
  if (!recording) return;
  mkdirSync(fixtures, { recursive: true });
  writeFileSync(join(fixtures, `${name}.json`), `${JSON.stringify(value, null, 2)}\n`);
}

async function click(selector) {
  await session.click(await session.find(selector));
}

async function textOf(selector) {
  return session.text(await session.find(selector));
}

before(async () => {
  process.env.CONFLUENCE_CONNECTOR_DATA_DIR = mkdtempSync(join(tmpdir(), "cc-e2e-sandbox-"));
  driver = await startDriver();
  session = await Session.start(driver.url, application);
});

after(async () => {
  await session?.end();
  driver?.stop();
});

test("a new user reaches a finished sandbox sync, its documents and their ACLs", async () => {
  // First start: nothing configured, the sandbox is offered.
  await session.find("[data-testid=connections-empty]");
  await session.screenshot("01-first-start");
  if (recording) record("list_connections-empty", await session.invoke("list_connections"));
  // Record the sync's events as the window receives them.
  await session.execute(`
    window.__recorded = [];
    const internals = window.__TAURI_INTERNALS__;
    const handler = internals.transformCallback((e) => window.__recorded.push(e.payload));
    internals.invoke("plugin:event|listen", { event: "sync-event", target: { kind: "Any" }, handler });
  `);

  await click("[data-testid=try-sandbox]");

  // The dashboard shows the sync live, then its result in the history.
  await session.find("#dashboard-title");
  const live = await session
    .waitFor(async () => (await session.findAll("[data-testid=sync-live]")).length > 0, "the live panel", 10000)
    .catch(() => false);
  if (live) {
    await session.waitFor(
      async () => /docs\/s/.test(await textOf("[data-testid=sync-live]")) && /spaces/i.test(await textOf("[data-testid=sync-live]")),
      "live progress",
      20000,
    );
    await session.screenshot("02-dashboard-live");
  }
  // The first start runs a full sync, then an access-control sync.
  const history = await session.waitFor(
    async () => {
      const table = await session.findAll("[data-testid=history-table]");
      if (table.length === 0) return null;
      const text = await session.text(table[0]);
      return (text.match(/Completed/g) ?? []).length >= 2 ? text : null;
    },
    "a completed full sync and access-control sync in the history",
    120000,
  );
  assert.match(history, /Full content/);
  assert.match(history, /Access control/);
  const outcome = await session.findAll("[data-testid=sync-outcome]");
  if (outcome.length > 0) assert.match(await session.text(outcome[0]), /indexed/);
  await session.screenshot("03-dashboard-finished");

  const [sandbox] = await session.invoke("list_connections");
  assert.equal(sandbox.sandbox, true);
  assert.equal(sandbox.last_sync.status, "completed");
  const jobs = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });
  const full = jobs.find((j) => j.job_type === "full");
  assert.ok(full.counters.indexed_document_count > 100, "the full sync indexed the simulated site");
  if (recording) {
    record("list_connections", [sandbox]);
    record("sync_kinds", await session.invoke("sync_kinds"));
    record("list_jobs", await session.invoke("list_jobs", { id: sandbox.id, limit: 50 }));
    record("config_form", await session.invoke("config_form"));
    record("load_connection-new", await session.invoke("load_connection", { id: null }));
    record("sync_events", await session.execute("return window.__recorded;"));
  }

  // Job details: the configuration and rules the job used.
  await click("[data-testid=history-table] tbody tr button");
  await session.find(".job-details");
  await session.screenshot("04-dashboard-job-details");

  // Configuration of the sandbox.
  await click("[data-testid=nav-config]");
  await session.find("[data-field=confluence_url]");
  // The per-connection deletion threshold comes from the engine's field descriptions.
  await session.find("[data-field=deletion_threshold_percent]");
  await click("[data-testid=test-connection]");
  await session.waitFor(async () => (await session.findAll("[data-check]")).length > 0, "test connection results", 30000);
  const checks = await textOf("[data-testid=test-results]");
  assert.match(checks, /signed in to/);
  assert.match(checks, /passed/);
  await session.screenshot("05-configuration");
  if (recording) {
    const form = await session.invoke("load_connection", { id: sandbox.id });
    record("load_connection-sandbox", form);
    record(
      "test_connection-sandbox",
      await session.invoke("test_connection", {
        draft: { id: sandbox.id, name: form.name, values: form.values, secrets: {} },
      }),
    );
  }

  // Documents: search, open one, see its ACL.
  await click("[data-testid=nav-documents]");
  await session.waitFor(async () => (await session.findAll("[data-testid=doc-hits] button")).length > 0, "documents", 20000);
  assert.match(await textOf("[data-testid=doc-range]"), /of \d+/);
  const hits = await session.findAll("[data-testid=doc-hits] button");
  await session.click(hits[1] ?? hits[0]);
  await session.waitFor(async () => /Fields/.test(await textOf("[data-testid=doc-view]")), "the document view", 10000);
  await session.screenshot("06-documents");
  if (recording) {
    const page = await session.invoke("search_documents", {
      id: sandbox.id,
      query: { query: "", doc_type: null, from: 0, size: 20 },
    });
    record("search_documents", page);
    record("get_document", await session.invoke("get_document", { id: sandbox.id, docId: page.hits[1].id }));
  }

  // Sync rules: a CQL query with completion, highlighting and a live preview.
  await click("[data-testid=nav-rules]");
  await session.find("#rules-title");
  await click("[data-testid=cql-add]");
  const editor = await session.find("[data-testid=cql-rule-0] .cm-content");
  await session.click(editor);
  await session.command("POST", `/element/${editor}/value`, { text: "spa" });
  await session.waitFor(async () => (await session.findAll(".cm-tooltip-autocomplete li")).length > 0, "CQL completions", 10000);
  await session.screenshot("07-sync-rules-completion");
  await session.command("POST", `/element/${editor}/value`, { text: "ce = ENG and type = page" });
  await session.waitFor(
    async () => /space = ENG and type = page — \d+ matches/.test(await textOf("[data-testid=rules-preview]")),
    "the live preview of the query",
    20000,
  );
  await session.waitFor(async () => (await session.findAll(".cm-cql-field")).length > 0, "highlighting", 5000);
  const preview = await textOf("[data-testid=rules-preview]");
  assert.match(preview, /\d+ documents would be synced/);
  // The rule narrows the synced scope: the preview says what the next full sync removes.
  const removal = await session.waitFor(
    async () => {
      const found = await session.findAll("[data-testid=rules-deletions]");
      return found.length > 0 ? session.text(found[0]) : null;
    },
    "the removal count of the draft rules",
    30000,
  );
  assert.match(removal, /This will remove \d+ of \d+ documents from the index \(advanced rules changed\)/);
  await session.screenshot("07-sync-rules");
  if (recording) {
    const rules = { basic: [], advanced: [{ query: "space = ENG and type = page" }] };
    record("preview_rules", await session.invoke("preview_rules", { id: sandbox.id, rules }));
    record("cql_tokens", await session.invoke("cql_tokens", { text: rules.advanced[0].query }));
    record("cql_complete", await session.invoke("cql_complete", { id: sandbox.id, text: "spa", cursor: 3 }));
    record("cql_problems", await session.invoke("cql_problems", { id: sandbox.id, text: "space = ENG and" }));
    record("load_rules", await session.invoke("load_rules", { id: sandbox.id }));
    record("deletion_preview-narrowed", await session.invoke("deletion_preview", { id: sandbox.id, rules }));
    record("deletion_preview-none", await session.invoke("deletion_preview", { id: sandbox.id, rules: null }));
    record("validate_rules-valid", await session.invoke("validate_rules", { id: sandbox.id, rules, remote: true }));
    const refused = await session.invokeResult("save_schedule", { id: sandbox.id, jobType: "access_control", enabled: true, spec: "0 3 * *" });
    assert.equal(refused.err?.kind, "invalid");
    record("save_schedule-invalid", refused.err);
  }

  // ACL inspector: a user's identities and readable documents, then one document's derivation.
  // The rules typed above were not saved: the app asks before leaving them; discard them.
  await click("[data-testid=nav-acl]");
  await click("[data-testid=leave-dialog] [data-testid=leave-discard]");
  await session.find("#acl-title");
  await session.waitFor(async () => (await session.findAll("[data-testid=acl-users] button")).length > 0, "users", 10000);
  const users = await session.findAll("[data-testid=acl-users] button");
  await session.click(users[0]);
  await session.waitFor(async () => /May read \d+ documents/.test(await textOf("[data-testid=acl-user-view]")), "a user's access", 10000);
  assert.match(await textOf("[data-testid=acl-user-view]"), /Identities \(\d+\)/);
  await session.screenshot("08-acl-inspector-user");
  if (recording) {
    const aclUsers = await session.invoke("acl_users", { id: sandbox.id });
    record("acl_users", aclUsers);
    record("acl_user_access", await session.invoke("acl_user_access", { id: sandbox.id, user: aclUsers[0].id }));
  }
  const readable = await session.findAll("[data-testid=acl-readable] button");
  await session.click(readable[Math.min(5, readable.length - 1)]);
  await session.waitFor(async () => /How it was derived/.test(await textOf("[data-testid=acl-doc-view]")), "a document's ACL", 10000);
  assert.match(await textOf("[data-testid=acl-doc-view]"), /Readers \(\d+\)/);
  await session.screenshot("08-acl-inspector-document");
  if (recording) {
    const docId = await session.text(readable[Math.min(5, readable.length - 1)]).catch(() => null);
    if (docId) record("acl_explain_document", await session.invoke("acl_explain_document", { id: sandbox.id, docId }));
    const jobs = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });
    record("list_jobs", jobs);
    record("acl_diff", await session.invoke("acl_diff", { from: jobs[1].id, to: jobs[0].id }));
  }

  // The connections list with the sandbox's last sync, and a new connection's form.
  await click(".sidebar .nav-item");
  await session.find("[data-testid=connections-table]");
  assert.match(await textOf("[data-testid=connections-table]"), /Completed/);
  await session.screenshot("09-connections");

  await click("[data-testid=new-connection]");
  await session.find("#connection-name");
  await session.type(await session.find("#connection-name"), "Acme Cloud");
  await click("[data-testid=test-connection]");
  // A failed test (the form's problems first; without an OS keyring, also where secrets are kept).
  await session.waitFor(async () => (await session.findAll("[data-testid=test-summary][data-tone=failure]")).length > 0, "validation problems", 10000);
  assert.match(await textOf("[data-field=confluence_url]"), /URL is required/);
  await session.screenshot("10-new-connection-validation");
  if (recording) {
    const form = await session.invoke("load_connection", { id: null });
    record("test_connection-new", await session.invoke("test_connection", { draft: { id: null, name: "Acme Cloud", values: form.values, secrets: {} } }));
  }
});

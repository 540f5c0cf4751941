// Schedules and syncs of other processes, in the real app: a user schedules the sandbox's full
// sync every 10 s, the app runs it while open and the job lands in the history as `scheduled`;
// then the command-line tool syncs the same connection on the same data, and the dashboard shows
// that sync live and refuses a second start in the engine's words.
//
// With RECORD_FIXTURES=1 the engine's refusal of a second start is written to
// ui/tests/fixtures/start_sync-busy.json, which the browser tests replay.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Session, repoRoot, startDriver } from "./webdriver.mjs";

const application = process.env.APP_BINARY ?? join(repoRoot, "target", "debug", "confluence-desktop");
const cli = process.env.CLI_BINARY ?? join(repoRoot, "target", "debug", "confluence-connector");
const recording = Boolean(process.env.RECORD_FIXTURES);
let dataDir;
let driver;
let session;
let cliChild;

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

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "cc-e2e-schedules-"));
  process.env.CONFLUENCE_CONNECTOR_DATA_DIR = dataDir;
  driver = await startDriver();
  session = await Session.start(driver.url, application);
});

after(async () => {
  if (cliChild && cliChild.exitCode === null) {
    cliChild.kill("SIGCONT");
    cliChild.kill();
  }
  await session?.end();
  driver?.stop();
});

test("a full sync scheduled every 10 s runs while the app is open and lands in the history as scheduled", async () => {
  await session.find("[data-testid=connections-empty]");
  await click("[data-testid=try-sandbox]");
  await session.find("#dashboard-title");
  // The first start runs a full sync, then an access-control sync.
  await session.waitFor(
    async () => ((await maybeText("[data-testid=history-table]"))?.match(/Completed/g) ?? []).length >= 2,
    "the sandbox's first syncs",
    120000,
  );
  const [sandbox] = await session.invoke("list_connections");
  assert.match(await textOf("[data-testid=next-run]"), /No schedule/);

  // Schedules: an invalid cron expression is refused at its field with the engine's message.
  await click("[data-testid=nav-schedules]");
  await session.find("[data-testid=schedules-table]");
  await click("[data-testid=schedule-enabled-access_control]");
  await session.type(await session.find("[data-testid=schedule-spec-access_control]"), "0 3 * *");
  await click("[data-testid=schedule-enabled-full]");
  await session.type(await session.find("[data-testid=schedule-spec-full]"), "every 10s");
  await click("[data-testid=schedules-save]");
  const problem = await session.waitFor(
    () => maybeText("[data-field=schedule-access_control] [data-testid=schedule-problem-access_control]"),
    "the engine's message at the cron field",
    10000,
  );
  assert.match(problem, /`0 3 \* \*` is not a valid cron expression/);
  assert.match(problem, /0 3 \* \* \*/);
  // The valid full-sync schedule was saved with its next run.
  await session.waitFor(async () => /\(in \d+ s\)|\(now\)/.test(await textOf("[data-testid=schedule-next-full]")), "the next run", 10000);
  await session.screenshot("11-schedules-invalid-cron");
  // Leave the access-control sync unscheduled (the refused spec is not saved).
  await click("[data-testid=schedule-enabled-access_control]");
  const saved = await session.invoke("list_schedules", { id: sandbox.id });
  assert.deepEqual(
    saved.map((s) => [s.job_type, s.enabled, s.spec]),
    [["full", true, "every 10s"]],
  );

  // The dashboard shows the next run; the scheduler starts the sync, which shows live and then
  // lands in the history as `scheduled`.
  // The refused access-control spec is still typed, unsaved: the app asks before leaving it; discard it.
  await click("[data-testid=nav-dashboard]");
  await click("[data-testid=leave-dialog] [data-testid=leave-discard]");
  assert.match(await textOf("[data-testid=next-run]"), /Next scheduled run: Full content sync, .*\((in \d+ s|now)\)/);
  await session.screenshot("12-dashboard-next-run");
  const sawLive = await session
    .waitFor(async () => /Started by its schedule/.test((await maybeText("[data-testid=sync-live]")) ?? ""), "the scheduled sync live", 30000)
    .then(() => true)
    .catch(() => false);
  if (sawLive) await session.screenshot("13-dashboard-scheduled-live");
  const scheduledRow = await session.waitFor(
    async () => {
      const rows = await session.findAll("[data-testid=history-table] tbody tr");
      for (const row of rows) {
        const text = await session.text(row);
        if (/scheduled/.test(text) && /Completed/.test(text)) return text;
      }
      return null;
    },
    "a completed scheduled sync in the history",
    90000,
  );
  assert.match(scheduledRow, /Full content/);
  await session.screenshot("14-dashboard-scheduled-history");
  const jobs = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });
  const scheduled = jobs.filter((j) => j.trigger === "scheduled");
  assert.ok(scheduled.length >= 1, "a job with trigger `scheduled`");
  assert.ok(scheduled.some((j) => j.job_type === "full" && j.status === "completed"));
  assert.ok(sawLive, "the scheduled sync showed live on the dashboard");
  // The schedule moved on: its last run is recorded and its next run is after it.
  const [full] = await session.invoke("list_schedules", { id: sandbox.id });
  assert.ok(full.last_run_at && Date.parse(full.next_run_at) > Date.parse(full.last_run_at));

  // The connections list shows the next run.
  await click(".sidebar .nav-item");
  await session.find("[data-testid=connections-table]");
  assert.match(await textOf("[data-testid=next-run-cell]"), /Full content/);
  await session.screenshot("15-connections-next-run");

  // Off again: no more scheduled runs.
  await session.invoke("save_schedule", { id: sandbox.id, jobType: "full", enabled: false, spec: "every 10s" });
  await click(".sidebar .nav-name");
  await session.waitFor(async () => !(await session.findAll("[data-testid=sync-live]")).length, "the last scheduled sync to end", 60000);
});

test("a sync the command-line tool runs on the same data shows live, and a second start is refused", async () => {
  assert.ok(existsSync(cli), `the command-line tool is built at ${cli} (cargo build -p confluence-connector-cli)`);
  const [sandbox] = await session.invoke("list_connections");
  await session.find("#dashboard-title");
  cliChild = spawn(cli, ["sync", "--connection", sandbox.id], {
    env: { ...process.env, CONFLUENCE_CONNECTOR_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  cliChild.stdout.on("data", (d) => (output += d));
  cliChild.stderr.on("data", (d) => (output += d));
  const exited = new Promise((ok) => cliChild.on("exit", ok));

  // The sandbox syncs in about a second from the command line: once its lease shows up, pause
  // the CLI (SIGSTOP) so the sync stays "running" while the dashboard is looked at; its lease
  // stays live (the process exists) until it is resumed.
  const seen = await session.command("POST", "/execute/async", {
    script: `const [pid, done] = [arguments[0], arguments[arguments.length - 1]];
      const deadline = Date.now() + 20000;
      (async () => {
        while (Date.now() < deadline) {
          const running = await window.__TAURI_INTERNALS__.invoke("running_syncs", {});
          if (running.some((r) => !r.own && r.pid === pid)) return done(true);
          await new Promise((r) => setTimeout(r, 10));
        }
        done(false);
      })();`,
    args: [cliChild.pid],
  });
  if (seen) process.kill(cliChild.pid, "SIGSTOP");
  assert.ok(seen, `running_syncs reports the CLI's sync; the CLI (exit ${cliChild.exitCode}) said: ${output}`);
  const live = await session.waitFor(
    async () => {
      const text = await maybeText("[data-testid=sync-live]");
      return text && /Started by another process/.test(text) ? text : null;
    },
    "the CLI's sync on the dashboard",
    10000,
  );
  assert.match(live, new RegExp(`pid ${cliChild.pid}`));
  const cancel = await session.find("[data-testid=sync-cancel]");
  assert.equal(await session.command("GET", `/element/${cancel}/enabled`), false);
  await session.screenshot("16-dashboard-cli-sync");
  // A second start is refused in the engine's words.
  const refused = await session.invokeResult("start_sync", { id: sandbox.id, jobType: "full", allowDeletions: false });
  assert.equal(refused.err?.kind, "busy");
  assert.match(refused.err.message, new RegExp(`already running since .*, by process ${cliChild.pid} on `));
  if (recording) writeFileSync(join(repoRoot, "ui", "tests", "fixtures", "start_sync-busy.json"), `${JSON.stringify(refused.err, null, 2)}\n`);

  process.kill(cliChild.pid, "SIGCONT");
  const code = await exited;
  assert.equal(code, 0, `the CLI's sync: ${output}`);
  await session.waitFor(async () => (await session.findAll("[data-testid=sync-live]")).length === 0, "the CLI's sync to leave the dashboard", 10000);
  const jobs = await session.invoke("list_jobs", { id: sandbox.id, limit: 50 });
  assert.equal(jobs[0].trigger, "cli");
  assert.notEqual(jobs[0].status, "running");
  await session.screenshot("17-dashboard-after-cli-sync");
});

// Connections of an admin's own, in the real app, against the Confluence simulator's binary
// serving a slow Data Center site (every answer delayed): the admin creates the connection with
// the keyboard alone; its full sync shows counts that move while it runs; and syncs that fail on
// purpose (a host where nothing answers, a wrong password) are announced as failures that say
// what failed and what to do. Secrets come from the connections' environment variables (the
// documented way without an OS keyring). Screenshots go to target/e2e-screenshots/.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { KEY, application, helpers, startSimulator } from "./flows.mjs";
import { Session, startDriver } from "./webdriver.mjs";

// Per request; with the engine's concurrency this makes the small site's full sync last a few
// seconds, long enough to read the dashboard several times.
const LATENCY = process.env.E2E_SLOW_LATENCY ?? "250ms";
const SLOW = { name: "Slow Data Center", env: "SLOW_DATA_CENTER", index: "slow-dc" };
const DOWN = { name: "Nothing there", env: "NOTHING_THERE", index: "nothing-there", url: "http://127.0.0.1:9" };
const BAD = { name: "Wrong password", env: "WRONG_PASSWORD", index: "wrong-password" };
const UNKNOWN = { name: "Unknown host", env: "UNKNOWN_HOST", index: "unknown-host", url: "https://confluence.acme.invalid" };

let sim;
let driver;
let session;
let h;
let slowId;

before(async () => {
  process.env.CONFLUENCE_CONNECTOR_DATA_DIR = mkdtempSync(join(tmpdir(), "cc-e2e-sites-"));
  sim = await startSimulator(["--flavor", "datacenter", "--size", "small", "--latency", LATENCY]);
  // The connections' secrets, as an admin without a keyring would start the app.
  process.env[`CONFLUENCE_CONNECTOR_${SLOW.env}_DC_PASSWORD`] = sim.password;
  process.env[`CONFLUENCE_CONNECTOR_${DOWN.env}_DC_PASSWORD`] = "any-password";
  process.env[`CONFLUENCE_CONNECTOR_${BAD.env}_DC_PASSWORD`] = `not-${sim.password}`;
  process.env[`CONFLUENCE_CONNECTOR_${UNKNOWN.env}_DC_PASSWORD`] = "any-password";
  driver = await startDriver();
  session = await Session.start(driver.url, application);
  h = helpers(session);
});

after(async () => {
  await session?.end();
  driver?.stop();
  sim?.stop();
});

/** A Data Center connection saved the way the form saves it, secrets from its variables. */
async function saveConnection({ name, env, index, url }) {
  const form = await session.invoke("load_connection", { id: null });
  const values = {
    ...form.values,
    data_source: "confluence_data_center",
    data_center_auth_method: "basic",
    data_center_username: sim.username,
    confluence_url: url ?? sim.base_url,
    index_name: index,
    secrets_from_env: true,
    secrets_env_name: env,
  };
  return session.invoke("save_connection", { draft: { id: null, name, values, secrets: {} } });
}

/** What the dashboard's live panel shows now, or null when no sync is live. */
function liveReading() {
  return session.execute(`
    const live = document.querySelector("[data-testid=sync-live]");
    if (!live) return null;
    const num = (s) => { const t = document.querySelector(s)?.innerText ?? ""; const m = t.replace(/,/g, "").match(/[\\d.]+/); return m ? Number(m[0]) : null; };
    const bar = document.querySelector("[data-testid=docs-bar]");
    const stat = (label) => [...live.querySelectorAll(".stats > div")].find((d) => d.innerText.trim().endsWith(label))?.querySelector(".stat")?.innerText ?? null;
    return {
      at: Date.now(),
      phase: live.querySelector(".live-head strong")?.innerText ?? null,
      head: live.querySelector(".live-head .muted")?.innerText ?? null,
      docs: document.querySelector("[data-testid=docs-count]")?.innerText ?? null,
      bar: bar ? Number(bar.getAttribute("aria-valuenow") ?? NaN) : null,
      created: num("[data-testid=live-count-created] .stat"),
      seen: stat("seen"),
      indexedBytes: stat("indexed"),
      text: live.innerText.replace(/\\s+/g, " ").slice(0, 400),
    };`);
}

/** The banner of the last finished sync, as the admin sees it. */
function outcomeBanner() {
  return session.execute(`
    const b = document.querySelector("[data-testid=sync-outcome]");
    if (!b) return null;
    const t = (s) => b.querySelector(s)?.innerText.trim() ?? null;
    return {
      tone: b.dataset.tone ?? null,
      className: b.className,
      role: b.getAttribute("role"),
      background: getComputedStyle(b).backgroundColor,
      title: t("[data-testid=outcome-title]"),
      cause: t("[data-testid=outcome-cause]"),
      next: t("[data-testid=outcome-next]"),
      message: t("[data-testid=outcome-message]"),
      text: b.innerText.replace(/\\s+/g, " "),
    };`);
}

test("an admin creates a Data Center connection with the keyboard alone", async () => {
  await session.find("[data-testid=connections-empty]");
  // From the top of the page, Tab to "New connection", Enter.
  await h.tabTo("[data-testid=connections-empty] [data-testid=new-connection]");
  await h.press(KEY.ENTER);
  await session.find("#connection-name");
  await session.waitFor(() => session.execute(`return !!document.querySelector("#field-data_source");`), "the form", 10000);

  await h.tabTo("#connection-name");
  await h.typeKeys(SLOW.name);
  // Secrets from the connection's environment variables: Space turns the switch on.
  await h.tabTo("#field-secrets_from_env");
  await h.press(KEY.SPACE);
  await session.waitFor(() => session.execute(`return !!document.querySelector("#field-secrets_env_name");`), "the variables' name field", 5000);
  await h.tabTo("#field-secrets_env_name");
  await h.typeKeys(SLOW.env);
  // Data Center: from Confluence Server (the default), one down in the list.
  await h.tabTo("#field-data_source");
  await h.press(KEY.DOWN);
  const source = await session.execute(`return document.querySelector("#field-data_source").value;`);
  assert.equal(source, "confluence_data_center", "the arrow key changes the Data source select");
  await session.waitFor(() => session.execute(`return !!document.querySelector("#field-data_center_username");`), "the Data Center fields", 5000);
  await h.tabTo("#field-data_center_username");
  await h.typeKeys(sim.username);
  await h.tabTo("#field-confluence_url");
  await h.typeKeys(sim.base_url);
  // The index: select the default name and type another.
  await h.tabTo("#field-index_name", 40);
  await session.command("POST", "/actions", {
    actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value: "\uE009" }, { type: "keyDown", value: "a" }, { type: "keyUp", value: "a" }, { type: "keyUp", value: "\uE009" }] }],
  });
  await session.command("DELETE", "/actions");
  await h.typeKeys(SLOW.index);
  await session.screenshot("sites-01-new-connection-keyboard");
  // Enter in a text field submits the form: the connection is created and its dashboard opens.
  await h.press(KEY.ENTER);
  const failure = await session
    .waitFor(async () => (await h.exists("#dashboard-title")) || (await h.maybeText("[data-testid=config-failure]")), "the dashboard of the new connection", 15000)
    .catch((err) => err);
  if (failure !== true) {
    await session.screenshot("sites-01-new-connection-keyboard-failed");
    assert.fail(`Enter did not create the connection: ${failure?.message ?? failure}`);
  }
  assert.match(await h.textOf("#dashboard-title"), new RegExp(`^${SLOW.name} · Sync dashboard`));
  const [saved] = await session.invoke("list_connections");
  slowId = saved.id;
  const form = await session.invoke("load_connection", { id: saved.id });
  assert.equal(form.name, SLOW.name);
  assert.equal(form.values.data_source, "confluence_data_center");
  assert.equal(form.values.data_center_username, sim.username);
  assert.equal(form.values.confluence_url, sim.base_url);
  assert.equal(form.values.index_name, SLOW.index);
  assert.equal(form.values.secrets_from_env, true);
  assert.equal(form.values.secrets_env_name, SLOW.env);
});

test("a full sync of a slow site shows counts that move while it runs", async (t) => {
  if (!slowId) slowId = (await saveConnection(SLOW)).id;
  const [connection] = (await session.invoke("list_connections")).filter((c) => c.id === slowId);
  if (!(await h.exists("#dashboard-title"))) await h.click(`[data-testid=nav-connection][title="${connection.name}"]`);
  await session.find("#dashboard-title");
  const full = await session.find("[data-testid=sync-full]");
  await session.waitFor(() => session.command("GET", `/element/${full}/enabled`), "the Full sync button", 20000);
  await session.click(full);

  // Read the live panel over and over until the engine says the sync ended.
  const readings = [];
  let gaps = 0;
  const deadline = Date.now() + 120000;
  await session.waitFor(() => h.exists("[data-testid=sync-live]"), "the live panel", 20000);
  let shot = false;
  let job;
  for (;;) {
    const r = await liveReading();
    if (r) readings.push(r);
    else {
      [job] = await session.invoke("list_jobs", { id: slowId, limit: 5 });
      if (job && job.status !== "running") break;
      gaps += 1;
    }
    if (!shot && r?.created > 0) {
      await session.screenshot("sites-02-dashboard-slow-sync-live");
      shot = true;
    }
    assert.ok(Date.now() < deadline, "the slow sync ends within 2 minutes");
    await new Promise((ok) => setTimeout(ok, 200));
  }
  assert.equal(job.status, "completed", `the slow sync completed: ${JSON.stringify(job.errors)}`);
  const summary = readings.map((r) => `${((r.at - readings[0].at) / 1000).toFixed(1)}s ${r.phase} | ${r.docs} | bar ${r.bar} | new ${r.created} | seen ${r.seen} | ${r.indexedBytes}`);
  const distinct = (key) => [...new Set(readings.map((r) => r[key]))];
  const why = `the live readings:\n${summary.join("\n")}`;
  t.diagnostic(`${gaps} reads without the live panel while the sync ran; ${readings.length} readings over ${((readings.at(-1).at - readings[0].at) / 1000).toFixed(1)} s; first: ${summary[0]}; last: ${summary.at(-1)}`);
  assert.ok(readings.length >= 3, `the sync ran long enough to be read three times (${readings.length}; latency ${LATENCY}); ${why}`);
  // While it ran, the number of new documents rose, more than once, and before the end.
  const created = readings.map((r) => r.created ?? 0);
  const rises = created.filter((c, i) => i > 0 && c > created[i - 1]).length;
  assert.ok(rises >= 2, `the "new" count rose at least twice while the sync ran; ${why}`);
  assert.ok(created.at(-1) > 0 && created[0] < created.at(-1), `"new" moved from ${created[0]} to ${created.at(-1)}; ${why}`);
  assert.ok(created.at(-1) <= job.counters.created, `the live count never passes what the job recorded (${job.counters.created})`);
  // The document count and the bar move too; the phase is not stuck on listing.
  assert.ok(distinct("docs").length >= 3, `the "n of N documents" line changed while the sync ran; ${why}`);
  assert.ok(readings.some((r) => r.bar > 0 && r.bar < 100), `the progress bar stood between 0 and 100 at some point; ${why}`);
  assert.ok(distinct("indexedBytes").length >= 2, `the indexed volume moved; ${why}`);
  // The phase names what is under way: while documents flow it is the crawl (or the writing
  // after it), never the space listing (how long the short phases around it last depends on
  // the machine; the engine's order of phases is tested in crates/connector/tests/it/progress.rs).
  // Documents flow from the first one seen until the last: the final readings, with every
  // document seen, may already show the finishing phase.
  const seen = (r) => Number(String(r.seen ?? "0").replace(/,/g, ""));
  const allSeen = seen(readings.at(-1));
  const flowing = readings.filter((r) => seen(r) > 0 && seen(r) < allSeen);
  const wrong = flowing.filter((r) => !/^(Crawling|Writing)/.test(r.phase ?? ""));
  assert.deepEqual(wrong.map((r) => r.phase), [], `while documents flow the phase is the crawl or the writing; ${why}`);
  assert.ok(readings.some((r) => /left/.test(r.head ?? "")), `an estimate of the time left appeared; ${why}`);
  await session.waitFor(() => h.exists("[data-testid=sync-outcome]"), "the outcome", 10000);
  const banner = await outcomeBanner();
  assert.equal(banner.tone, "success", banner.text);
  assert.match(banner.text, new RegExp(`${job.counters.created} new`));
});

for (const broken of [
  {
    who: DOWN,
    what: "a host where nothing answers",
    cause: /nothing answered|could not reach|not reachable|unreachable/i,
    next: /check the (confluence )?url|network/i,
  },
  {
    who: UNKNOWN,
    what: "a host name that does not exist",
    cause: /host name|does not resolve|could not be found|unknown host/i,
    next: /check the (confluence )?url|typo/i,
  },
  {
    who: BAD,
    what: "a wrong password",
    cause: /refused the (credentials|password|token)|credentials|password/i,
    next: /password|token|user name/i,
  },
]) {
  test(`a sync against ${broken.what} is announced as a failure that says what failed and what to do`, async () => {
    const connection = await saveConnection(broken.who);
    // The connections screen lists it (and the sidebar, from then on).
    await h.click(".sidebar .nav-item");
    await h.click(`[data-testid=connections-table] button.link[title="${broken.who.name}"]`);
    await session.waitFor(async () => (await h.maybeText("#dashboard-title"))?.startsWith(broken.who.name), "its dashboard", 10000);
    const full = await session.find("[data-testid=sync-full]");
    await session.waitFor(() => session.command("GET", `/element/${full}/enabled`), "the Full sync button", 60000);
    await session.click(full);
    const ended = await session.waitFor(
      async () => {
        const banner = await outcomeBanner();
        if (banner) return { banner };
        const error = await h.maybeText("section[aria-labelledby=dashboard-title] > p.error");
        const jobs = await session.invoke("list_jobs", { id: connection.id, limit: 5 });
        if (error && !(await h.exists("[data-testid=sync-live]"))) return { error, jobs };
        return null;
      },
      "the sync to end with a banner",
      90000,
    );
    await session.screenshot(`sites-03-failed-sync-${broken.who.index}`);
    const jobs = await session.invoke("list_jobs", { id: connection.id, limit: 5 });
    assert.ok(ended.banner, `a banner announces the end of the sync; the dashboard shows only: ${ended.error} (jobs: ${JSON.stringify(jobs.map((j) => j.status))})`);
    const b = ended.banner;
    const why = JSON.stringify(b, null, 1);
    assert.equal(jobs[0]?.status, "failed", `the engine recorded a failed job: ${JSON.stringify(jobs[0])}`);
    // It looks like a failure: its tone, class, role and colour; its title says "failed".
    assert.equal(b.tone, "failure", why);
    assert.match(b.className, /\bbanner-failure\b/, why);
    assert.doesNotMatch(b.className, /\bbanner-success\b/, why);
    assert.equal(b.role, "alert", why);
    assert.notEqual(b.background, "rgb(232, 244, 236)", `not the success banner's green; ${why}`);
    assert.match(b.title ?? "", /failed/i, why);
    assert.doesNotMatch(b.text, /\b0 failed\b/, `a failure does not read "0 failed"; ${why}`);
    // What failed, in an admin's words, and what to do.
    assert.match(b.cause ?? "", broken.cause, `what failed; ${why}`);
    assert.match(b.next ?? "", broken.next, `what to do; ${why}`);
    for (const jargon of [/client error \(Connect\)/, /tcp connect error/i, /error sending request/i, /dns error/i, /\bhyper\b/, /reqwest/i, /`/, /X-[A-Z][a-z]+-/, /\/rest\/api\//, /^What failed: confluence:/]) {
      assert.doesNotMatch(`${b.title} ${b.cause} ${b.next}`, jargon, `the admin-facing words carry no developer jargon; ${why}`);
    }
    // The history says it too.
    const status = await session.execute(`return document.querySelector("[data-testid=history-table] tbody tr:first-child .status")?.className ?? null;`);
    assert.match(status ?? "", /status-failed/);
  });
}

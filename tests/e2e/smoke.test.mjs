// Smoke test of the real desktop app: it starts, its main window shows the connections screen
// fed by the engine, and a screenshot of it is saved under target/e2e-screenshots/.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Session, repoRoot, startDriver } from "./webdriver.mjs";

const application = process.env.APP_BINARY ?? join(repoRoot, "target", "debug", "confluence-desktop");
let driver;
let session;

before(async () => {
  // A fresh data directory: the app must show a first start, not a developer's leftovers.
  process.env.CONFLUENCE_CONNECTOR_DATA_DIR = mkdtempSync(join(tmpdir(), "cc-e2e-"));
  driver = await startDriver();
  session = await Session.start(driver.url, application);
});

after(async () => {
  await session?.end();
  driver?.stop();
});

test("the main window opens on the connections screen, fed by the engine", async () => {
  assert.equal(await session.title(), "Confluence Connector");
  const heading = await session.find("#connections-title");
  assert.equal(await session.text(heading), "Connections");
  // This element is only rendered after the `list_connections` command answered with an empty
  // list, so finding it proves the path UI -> command -> engine -> UI.
  const empty = await session.find("[data-testid=connections-empty]");
  assert.equal(await session.displayed(empty), true);
  assert.match(await session.text(empty), /No connection yet/);

  const path = await session.screenshot("connections");
  const png = readFileSync(path);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "the screenshot is a PNG");
  assert.ok(png.length > 2000, "the screenshot is not empty");
});

// A small W3C WebDriver client for driving the real desktop app through tauri-driver, plus the
// fixtures the end-to-end tests share: start tauri-driver, open a session on the app binary, take
// screenshots, close everything.
//
// Node's fetch keeps connections alive, which tauri-driver needs (it sometimes resets a
// connection that the client closes after each request).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const screenshotDir = join(repoRoot, "target", "e2e-screenshots");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Starts tauri-driver on free ports and resolves once it answers. */
export async function startDriver() {
  const port = await freePort();
  const nativePort = await freePort();
  const child = spawn(
    process.env.TAURI_DRIVER ?? "tauri-driver",
    ["--port", String(port), "--native-port", String(nativePort)],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with ${child.exitCode}`);
    try {
      await fetch(`${url}/status`);
      return { url, stop: () => child.kill() };
    } catch {
      await sleep(100);
    }
  }
  child.kill();
  throw new Error("tauri-driver did not answer within 10 s");
}

/** One WebDriver session on the app. */
export class Session {
  constructor(driverUrl, id) {
    this.base = `${driverUrl}/session/${id}`;
  }

  static async start(driverUrl, application) {
    const res = await fetch(`${driverUrl}/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        capabilities: { alwaysMatch: { "tauri:options": { application } } },
      }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`new session failed: ${JSON.stringify(body)}`);
    return new Session(driverUrl, body.value.sessionId);
  }

  async command(method, path, payload) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: payload ? { "content-type": "application/json" } : undefined,
      body: payload ? JSON.stringify(payload) : undefined,
    });
    const body = await res.json();
    if (!res.ok) {
      const err = new Error(`${method} ${path}: ${body.value?.error ?? res.status}: ${body.value?.message ?? ""}`);
      err.webdriverError = body.value?.error;
      throw err;
    }
    return body.value;
  }

  /** Waits for an element matching a CSS selector and returns its id. */
  async find(selector, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const found = await this.command("POST", "/element", { using: "css selector", value: selector });
        return Object.values(found)[0];
      } catch (err) {
        if (err.webdriverError !== "no such element" || Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  }

  /** Every element matching a CSS selector (possibly none), without waiting. */
  async findAll(selector) {
    const found = await this.command("POST", "/elements", { using: "css selector", value: selector });
    return found.map((f) => Object.values(f)[0]);
  }

  /** Waits until `predicate` (an async function) returns a truthy value, and returns it. */
  async waitFor(predicate, what, timeoutMs = 60000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await predicate().catch(() => undefined);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(250);
    }
  }

  /** Types `text` into an element (after clearing it). */
  async type(elementId, text) {
    await this.command("POST", `/element/${elementId}/clear`, {});
    return this.command("POST", `/element/${elementId}/value`, { text });
  }

  /** Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value. */
  execute(script, args = []) {
    return this.command("POST", "/execute/sync", { script, args });
  }

  /** Calls an app command through the page's IPC, as the UI would, and returns its answer. */
  invoke(command, args = {}) {
    return this.command("POST", "/execute/async", {
      script:
        "const done = arguments[arguments.length - 1];" +
        "window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((v) => done({ ok: v }), (e) => done({ err: e }));",
      args: [command, args],
    }).then((r) => {
      if (r && "err" in r) throw new Error(`${command}: ${JSON.stringify(r.err)}`);
      return r?.ok;
    });
  }

  /** As `invoke`, but resolves to `{ ok: value }` or `{ err: CommandError }` instead of throwing. */
  invokeResult(command, args = {}) {
    return this.command("POST", "/execute/async", {
      script:
        "const done = arguments[arguments.length - 1];" +
        "window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((v) => done({ ok: v }), (e) => done({ err: e }));",
      args: [command, args],
    });
  }

  text(elementId) {
    return this.command("GET", `/element/${elementId}/text`);
  }

  click(elementId) {
    return this.command("POST", `/element/${elementId}/click`, {});
  }

  displayed(elementId) {
    return this.command("GET", `/element/${elementId}/displayed`);
  }

  title() {
    return this.command("GET", "/title");
  }

  /** Saves a PNG of the window under target/e2e-screenshots/ and returns its path. */
  async screenshot(name) {
    // A screenshot taken right after an action can show the previous frame: let the page paint
    // two frames first, then give the compositor a moment.
    await this.command("POST", "/execute/async", {
      script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
      args: [],
    });
    await sleep(500);
    const png = Buffer.from(await this.command("GET", "/screenshot"), "base64");
    mkdirSync(screenshotDir, { recursive: true });
    const path = join(screenshotDir, `${name}.png`);
    writeFileSync(path, png);
    return path;
  }

  async end() {
    await fetch(this.base, { method: "DELETE" }).catch(() => {});
    // Give WebKitWebDriver a moment to close the app before tauri-driver is stopped: stopped at
    // once, it can leave the app running, which keeps the test runner waiting on its output.
    await sleep(1500);
  }
}

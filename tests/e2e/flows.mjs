// What the admin-flow tests share on top of webdriver.mjs: finding and reading elements, the
// keyboard, the sandbox's first syncs, a simulated Confluence site of its own (the simulator's
// binary, e.g. a slow Data Center), and the layout measurements of the visual check.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./webdriver.mjs";

export const application = process.env.APP_BINARY ?? join(repoRoot, "target", "debug", "confluence-desktop");
export const simulatorBinary = process.env.SIM_BINARY ?? join(repoRoot, "target", "debug", "confluence-sim");

export const KEY = { TAB: "\uE004", ENTER: "\uE007", SPACE: "\uE00D", ESCAPE: "\uE00C", DOWN: "\uE015", UP: "\uE013", SHIFT: "\uE008" };

/** Helpers bound to one session. */
export function helpers(session) {
  const h = {
    async click(selector) {
      await session.click(await session.find(selector));
    },
    async textOf(selector) {
      return session.text(await session.find(selector));
    },
    /** The text of the first element matching `selector`, or `null` when there is none. */
    async maybeText(selector) {
      const found = await session.findAll(selector);
      return found.length > 0 ? session.text(found[0]).catch(() => null) : null;
    },
    async exists(selector) {
      return (await session.findAll(selector)).length > 0;
    },
    /** Presses keys (WebDriver key actions: the focused element receives them, as from a keyboard). */
    async press(...keys) {
      const actions = [];
      for (const k of keys) actions.push({ type: "keyDown", value: k }, { type: "keyUp", value: k });
      await session.command("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions }] });
      await session.command("DELETE", "/actions");
    },
    /** Types `text` on the keyboard into whatever has the focus. */
    async typeKeys(text) {
      const actions = [];
      for (const ch of text) actions.push({ type: "keyDown", value: ch }, { type: "keyUp", value: ch });
      await session.command("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions }] });
      await session.command("DELETE", "/actions");
    },
    /** A short description of the focused element. */
    focused() {
      return session.execute(`
        const e = document.activeElement;
        if (!e || e === document.body) return "body";
        return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.dataset.testid ? "[data-testid=" + e.dataset.testid + "]" : "") +
          (e.getAttribute("aria-label") ? "[aria-label=" + e.getAttribute("aria-label") + "]" : "") +
          (e.tagName === "BUTTON" || e.tagName === "SUMMARY" ? " '" + e.innerText.trim().slice(0, 40) + "'" : "");`);
    },
    /**
     * Presses Tab until the focused element matches `selector` (at most `max` presses) and
     * returns the elements the focus went through; fails naming them when it never gets there.
     */
    async tabTo(selector, max = 25) {
      const path = [];
      for (let i = 0; i < max; i++) {
        if (await session.execute(`return !!document.activeElement?.matches(arguments[0]);`, [selector])) return path;
        await h.press(KEY.TAB);
        path.push(await h.focused());
      }
      if (await session.execute(`return !!document.activeElement?.matches(arguments[0]);`, [selector])) return path;
      throw new Error(`Tab never reached ${selector} in ${max} presses; the focus went through: ${path.join(" → ")}`);
    },
    /** Clicks a sidebar entry of the open connection (`dashboard`, `config`, `rules`, ...). */
    async visit(screen) {
      await h.click(`[data-testid=nav-${screen}]`);
    },
    /** Whether the "leave without saving?" dialog is open. */
    leaveDialogOpen() {
      return h.exists("[data-testid=leave-dialog]");
    },
    /** Waits for the sandbox's first start (full sync, then access-control sync) to finish. */
    async startSandbox() {
      await session.find("[data-testid=connections-empty]");
      await h.click("[data-testid=try-sandbox]");
      await session.find("#dashboard-title");
      await session.waitFor(
        async () => ((await h.maybeText("[data-testid=history-table]"))?.match(/Completed/g) ?? []).length >= 2,
        "the sandbox's first syncs (full, then access control) to complete",
        120000,
      );
      await h.idle();
      const [sandbox] = await session.invoke("list_connections");
      return sandbox;
    },
    /** Waits until no sync runs on the dashboard shown. */
    async idle(timeoutMs = 60000) {
      await session.waitFor(async () => !(await h.exists("[data-testid=sync-live]")), "no sync running", timeoutMs);
      await session.waitFor(async () => (await session.invoke("running_syncs")).length === 0, "the engine to report no running sync", timeoutMs);
    },
    /** Every document of connection `id` in its index, through the documents browser's command. */
    async allDocuments(id) {
      const out = [];
      for (let from = 0; ; from += 100) {
        const page = await session.invoke("search_documents", { id, query: { query: "", doc_type: null, from, size: 100 } });
        out.push(...page.hits);
        if (page.hits.length === 0 || out.length >= Number(page.total)) return { total: Number(page.total), hits: out };
      }
    },
  };
  return h;
}

/**
 * Starts the Confluence simulator's binary (`args` after `serve`) and resolves with what it
 * prints first (`base_url` and credentials) and a `stop()`.
 */
export async function startSimulator(args) {
  if (!existsSync(simulatorBinary)) throw new Error(`the simulator is built at ${simulatorBinary} (cargo build -p confluence-sim)`);
  const child = spawn(simulatorBinary, ["serve", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const info = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`the simulator printed nothing in 20 s: ${out}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n")) {
        clearTimeout(timer);
        try {
          ok(JSON.parse(line));
        } catch (err) {
          fail(err);
        }
      }
    });
    child.on("exit", (code) => fail(new Error(`the simulator exited with ${code}: ${out}`)));
  });
  child.stdout.resume();
  return { ...info, stop: () => child.exitCode === null && child.kill("SIGINT") };
}

/**
 * Measures the page's layout, in the page: controls clipped by a container that hides overflow
 * or by the window, controls narrower than their own text (a select cut to "E›", a button's
 * label spilling out), text overflowing its box (cut by `overflow: hidden` without a tooltip
 * saying the whole text, or spilling out of a block), and a page wider than the window.
 * Returns one line per problem.
 */
export const MEASURE_LAYOUT = `
  const problems = [];
  const W = window.innerWidth;
  const canvas = document.createElement("canvas").getContext("2d");
  const textWidth = (text, style) => { canvas.font = style.font || (style.fontWeight + " " + style.fontSize + " " + style.fontFamily); return canvas.measureText(text).width; };
  const visible = (e) => {
    const r = e.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    const s = getComputedStyle(e);
    if (s.visibility === "hidden" || s.display === "none" || s.opacity === "0") return false;
    if (e.closest(".visually-hidden, [hidden], [aria-hidden=true]")) return false;
    return true;
  };
  const name = (e) => {
    const label = e.getAttribute("aria-label") || e.id || e.dataset.testid || (e.innerText || e.value || e.placeholder || "").trim().slice(0, 40);
    return e.tagName.toLowerCase() + (label ? " \\"" + label.replace(/\\s+/g, " ") + "\\"" : "") + (e.className && typeof e.className === "string" ? " ." + e.className.trim().split(/\\s+/).join(".") : "");
  };
  const px = (v) => parseFloat(v) || 0;
  if (document.documentElement.scrollWidth > W + 1) problems.push("the page is wider than the window: " + document.documentElement.scrollWidth + " > " + W);
  const controls = [...document.querySelectorAll("button, select, input:not([type=hidden]), textarea, a[href], summary")].filter(visible);
  for (const c of controls) {
    const r = c.getBoundingClientRect();
    if (r.right > W + 1 || r.left < -1) problems.push("window cuts " + name(c) + " (left " + Math.round(r.left) + ", right " + Math.round(r.right) + ", window " + W + ")");
    for (let a = c.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      const ar = a.getBoundingClientRect();
      const hides = (o) => o === "hidden" || o === "clip";
      const scrolls = (o) => o === "auto" || o === "scroll";
      if (hides(s.overflowX) && (r.left < ar.left - 1 || r.right > ar.right + 1))
        problems.push(name(a) + " cuts " + name(c) + " horizontally (" + Math.round(r.left) + ".." + Math.round(r.right) + " in " + Math.round(ar.left) + ".." + Math.round(ar.right) + ")");
      if (hides(s.overflowY) && (r.top < ar.top - 1 || r.bottom > ar.bottom + 1))
        problems.push(name(a) + " cuts " + name(c) + " vertically (" + Math.round(r.top) + ".." + Math.round(r.bottom) + " in " + Math.round(ar.top) + ".." + Math.round(ar.bottom) + ")");
      if (scrolls(s.overflowX) && (r.right > ar.right + 1 || r.left < ar.left - 1))
        problems.push(name(c) + " is out of view in the horizontally scrolling " + name(a));
    }
    const s = getComputedStyle(c);
    const inner = c.clientWidth - px(s.paddingLeft) - px(s.paddingRight);
    if (c.tagName === "SELECT") {
      const text = c.selectedOptions[0]?.text ?? "";
      // The closed select shows its text and an arrow (about 16 px in WebKitGTK).
      const need = textWidth(text, s) + 16;
      if (need > inner + 1) problems.push(name(c) + " is too narrow for \\"" + text + "\\": " + Math.round(inner) + " px of text room for " + Math.round(need));
    } else if (c.tagName === "INPUT" && ["text", "search", "url", "email", "password", ""].includes(c.type) && c.placeholder) {
      const need = textWidth(c.placeholder, s);
      if (!c.value && need > inner + 1) problems.push(name(c) + " cuts its placeholder \\"" + c.placeholder + "\\": " + Math.round(inner) + " px for " + Math.round(need));
    } else if (c.tagName === "BUTTON" || c.tagName === "A" || c.tagName === "SUMMARY") {
      // Cut on purpose with an ellipsis is fine when the tooltip holds the whole text.
      const label = (c.innerText || "").trim();
      const ellipsis = s.textOverflow === "ellipsis" && (c.getAttribute("title") || "").trim() === label;
      if (c.scrollWidth > c.clientWidth + 1 && c.clientWidth > 0 && !ellipsis)
        problems.push(name(c) + " overflows its box" + (s.textOverflow === "ellipsis" ? " (cut with an ellipsis, no tooltip of the whole)" : "") + ": " + c.scrollWidth + " > " + c.clientWidth);
    }
  }
  // Text in a box: cut without a tooltip, or spilling out of a block.
  for (const e of document.querySelectorAll("body *")) {
    if (["SCRIPT", "STYLE", "SVG", "svg", "path", "polyline", "rect", "OPTION", "DATALIST", "TEXTAREA", "INPUT", "SELECT", "CANVAS"].includes(e.tagName)) continue;
    if (e.closest("svg, .cm-editor, select, datalist")) continue;
    if (!visible(e)) continue;
    const s = getComputedStyle(e);
    if (s.display.startsWith("inline") && s.display !== "inline-block" && s.display !== "inline-flex") continue;
    if (e.scrollWidth <= e.clientWidth + 1 || e.clientWidth === 0) continue;
    const hidden = s.overflowX === "hidden" || s.overflowX === "clip";
    const scrolling = s.overflowX === "auto" || s.overflowX === "scroll";
    const text = (e.innerText || "").trim().replace(/\\s+/g, " ");
    if (hidden) {
      const tooltip = e.getAttribute("title") || e.closest("[title]")?.getAttribute("title");
      if (!tooltip || !text || !tooltip.includes(text.replace(/…$/, "").slice(0, 20)))
        problems.push(name(e) + " cuts its text (" + e.scrollWidth + " > " + e.clientWidth + ") without a tooltip of the whole: \\"" + text.slice(0, 60) + "\\"");
    } else if (scrolling) {
      if (e.tagName !== "PRE" && !e.matches("main, .table-scroll, pre, code, .code")) problems.push(name(e) + " scrolls sideways: " + e.scrollWidth + " > " + e.clientWidth);
      else if (e.matches(".table-scroll")) problems.push(name(e) + " (a table) needs a sideways scroll at this width: " + e.scrollWidth + " > " + e.clientWidth);
    } else if (!e.matches("main, body, .shell")) {
      // Only what a child spills out of this box itself (the child is reported too, once).
      const blockish = (k) => { const d = getComputedStyle(k).display; return !d.startsWith("inline") || d === "inline-block" || d === "inline-flex"; };
      const kids = [...e.children].filter((k) => blockish(k) && k.getBoundingClientRect().right > e.getBoundingClientRect().right + 1 && visible(k));
      const own = kids.length === 0;
      if (own) problems.push(name(e) + " spills its text out of its box (" + e.scrollWidth + " > " + e.clientWidth + "): \\"" + text.slice(0, 60) + "\\"");
    }
  }
  return [...new Set(problems)];
`;

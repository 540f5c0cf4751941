// A static server for the browser tests: the built UI (ui/dist) with the Tauri IPC mocked.
import { createServer } from "node:http";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { extname, join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ui = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TYPES = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json", ".svg": "image/svg+xml" };

function fixtures() {
  const dir = join(ui, "tests", "fixtures");
  const out = {};
  for (const f of readdirSync(dir)) if (f.endsWith(".json")) out[f.slice(0, -5)] = JSON.parse(readFileSync(join(dir, f), "utf8"));
  return out;
}

/** Starts the server on a free port; resolves to its URL and a `close` function. */
export function serve() {
  const dist = join(ui, "dist");
  if (!existsSync(join(dist, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` first");
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    let file;
    let body;
    if (path === "/" || path === "/index.html") {
      body = readFileSync(join(dist, "index.html"), "utf8").replace(
        /<script type="module"/,
        '<script type="module" src="/__mock/backend.js"></script>\n    <script type="module"',
      );
      file = "index.html";
    } else if (path === "/__mock/backend.js") {
      body = `const FIXTURES = ${JSON.stringify(fixtures())};\n${readFileSync(join(ui, "tests", "browser", "mock-backend.js"), "utf8")}`;
      file = "x.js";
    } else if (path.startsWith("/__tauri/")) {
      file = join(ui, "node_modules", "@tauri-apps", "api", path.slice("/__tauri/".length));
    } else {
      file = join(dist, path);
    }
    try {
      body ??= readFileSync(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((ok) =>
    server.listen(0, "127.0.0.1", () => ok({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })),
  );
}

// Dashboard first render: from navigation to the fleet view showing 50 agents (the page loads,
// opens its WebSocket, registers, lists the agents and renders them), in headless Chromium
// (Debian's), against loading a static page of the same size (the fleet's final HTML, saved
// from the page, served by a raw node:http server) in the same browser, same run. Also the
// gzipped size of the page's JavaScript. Goals: ≤ 2× the static page; ≤ 150 KB of gzipped JS.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { emit, median } from "./lib.ts";
import { benchClient, KEY, startSrv } from "./srv.ts";

const AGENTS = 50;
const ROUNDS = 7;
const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));
if (CHROMIUM === undefined) throw new Error("Chromium is not installed (Debian: apt-get install chromium)");

const srv = await startSrv();
const web = `http://${srv.estart.web}`;
const { socket, call, tabId } = await benchClient(srv.pipe, process.pid);
for (let i = 0; i < AGENTS; i++) {
  const meta = { view: "agent", "agent:provider": "claude", "agent:name": `agent-${i}`, "agent:cwd": "/tmp" };
  await call({ cmd: "create_block", tab_id: tabId, meta, tile: {}, req_id: `a${i}` }, `a${i}`);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const context = await browser.newContext();
const link = async () => {
  const res = await fetch(`${web}/api/v1/login-token`, { method: "POST", headers: { "x-authkey": KEY } });
  return `${web}${((await res.json()) as { path: string }).path}`;
};
// Log in once; every measured load then starts from a navigation with the session cookie.
const page = await context.newPage();
await page.goto(await link());
await page.waitForFunction((n) => document.querySelectorAll('[data-testid="agent-row"]').length === n, AGENTS);
const html = await page.content();

// The baseline: the same final HTML as a static page (its scripts removed, its CSS kept).
const css = readdirSync(join(import.meta.dirname, "..", "apps", "web", "dist", "assets")).find((f) =>
  f.endsWith(".css"),
);
const cssText = css ? readFileSync(join(import.meta.dirname, "..", "apps", "web", "dist", "assets", css)) : "";
const staticHtml = html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, "");
const server = createServer((req, res) => {
  if (req.url?.endsWith(".css")) res.writeHead(200, { "content-type": "text/css" }).end(cssText);
  else res.writeHead(200, { "content-type": "text/html" }).end(staticHtml);
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const staticUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

/** ms from navigation to 50 agent rows on screen, in a fresh tab of the logged-in context. */
async function timeToRows(url: string): Promise<number> {
  const p = await context.newPage();
  const start = performance.now();
  await p.goto(url, { waitUntil: "commit" });
  await p.waitForFunction((n) => document.querySelectorAll('[data-testid="agent-row"]').length === n, AGENTS, {
    polling: "raf",
  });
  const ms = performance.now() - start;
  await p.close();
  return ms;
}

const dash: number[] = [];
const stat: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Interleaved, so that machine noise hits both alike.
  dash.push(await timeToRows(`${web}/`));
  stat.push(await timeToRows(staticUrl));
}
const assets = join(import.meta.dirname, "..", "apps", "web", "dist", "assets");
const jsGzip = readdirSync(assets)
  .filter((f) => f.endsWith(".js"))
  .reduce((sum, f) => sum + gzipSync(readFileSync(join(assets, f))).length, 0);

await browser.close();
server.close();
socket.destroy();
await srv.stop();

const d = median(dash);
const s = median(stat);
emit({
  bench: "dashboard.first_render_ms_50_agents",
  value: d,
  unit: "ms",
  baseline: "a static page of the same final HTML, same browser",
  baseline_value: s,
  ratio: d / s,
  goal: "ratio<=2 && js_gzip_kb<=150",
  pass: d / s <= 2 && jsGzip <= 150 * 1024,
  js_gzip_kb: Math.round(jsGzip / 102.4) / 10,
});

// The dashboard's agent view under a lot of output, in headless Chromium (Debian's):
//  - a 100k-line transcript: navigation → its last line on screen, DOM nodes on the page, and
//    the longest task while loading and while scrolling back through the whole history;
//    baseline: the same transcript read whole by a raw WebSocket client in node;
//  - an agent printing 1,000 lines/s for 10 s: lag from the line's write to its text on screen
//    (p99), and the longest task meanwhile; baseline: the same stamped lines pushed at the same
//    rate by a raw `ws` server to a bare page that appends each line.
// Goals: ≤ ~2k DOM nodes, and no task over 50 ms while scrolling back through the whole history;
// lag p99 ≤ 100 ms with no task over 50 ms.
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import WebSocket, { WebSocketServer } from "ws";
import { emit } from "./lib.ts";
import { benchClient, cleanup, KEY, percentile, startSrv } from "./srv.ts";

const LINES = 100_000;
const RATE = 1000;
const SECONDS = 10;
const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));
if (CHROMIUM === undefined) throw new Error("Chromium is not installed (Debian: apt-get install chromium)");

const work = mkdtempSync(join(tmpdir(), "bench-transcript-"));
const cli = join(work, "fake-cli");
// Speaks enough stream-json for srv's claude adapter: assistant text lines "L<n>@<ms>", either
// as fast as the pipe takes them ("flood <n>") or <rate> a second for <s> seconds ("rate").
writeFileSync(
  cli,
  `#!${process.execPath}
const sid = "bench-" + process.pid;
const line = (text) => JSON.stringify({ type: "assistant", session_id: sid, message: { role: "assistant", content: [{ type: "text", text }] } }) + "\\n";
const write = (s) => process.stdout.write(s) || new Promise((r) => process.stdout.once("drain", r));
process.stdout.write(JSON.stringify({ type: "system", subtype: "init", session_id: sid }) + "\\n");
async function turn(input) {
  const [kind, a, b] = (input.match(/(flood|rate) (\\d+)(?: (\\d+))?/) ?? []).slice(1);
  if (kind === "flood") {
    let chunk = "";
    for (let n = 0; n < Number(a); n++) {
      chunk += line("L" + n + "@" + Date.now());
      if (chunk.length > 65536) { await write(chunk); chunk = ""; }
    }
    await write(chunk);
  } else if (kind === "rate") {
    const perTick = Number(a) / 100, ticks = Number(b) * 100, start = Date.now();
    for (let t = 0; t < ticks; t++) {
      let chunk = "";
      for (let i = 0; i < perTick; i++) chunk += line("L" + (t * perTick + i) + "@" + Date.now());
      await write(chunk);
      const next = start + (t + 1) * 10;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  }
  await write(JSON.stringify({ type: "result", subtype: "success", is_error: false, session_id: sid, usage: { input_tokens: 1, output_tokens: 1 } }) + "\\n");
}
let buf = "", queue = Promise.resolve();
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1); queue = queue.then(() => turn(l)); }
});
`,
);
chmodSync(cli, 0o755);

/** Watches the page: long tasks, and (lag mode) the lag of every stamped line that appears. */
const WATCH = `
window.__long = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); }).observe({ type: "longtask", buffered: true });
window.__lags = [];
new MutationObserver((records) => {
  const now = Date.now();
  for (const r of records) for (const n of r.addedNodes) {
    const text = n.textContent || "";
    for (const m of text.matchAll(/L\\d+@(\\d{13})/g)) window.__lags.push(now - Number(m[1]));
  }
}).observe(document, { childList: true, subtree: true, characterData: true });
`;

const maxOf = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);

async function watched(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(WATCH);
  return context.newPage();
}

const srv = await startSrv(undefined, []);
const web = `http://${srv.estart.web}`;
const listeners = new Set<(e: Record<string, unknown>) => void>();
const { socket, call, tabId } = await benchClient(srv.pipe, process.pid, (e) => {
  for (const l of listeners) l(e);
});
const agent = async (name: string) =>
  (await call(
    {
      cmd: "create_block",
      tab_id: tabId,
      meta: { view: "agent", "agent:provider": "claude", "agent:name": name, "agent:cwd": work, "agent:command": cli },
      tile: {},
      req_id: name,
    },
    name,
  )) as { block_id: string };
/** Sends a turn to an agent; resolves once the turn it started is over. */
const turnDone = (id: string, send: string) =>
  new Promise<void>((resolve) => {
    let running = false;
    const on = (e: Record<string, unknown>) => {
      if (e.event !== "agent_status" || e.block_id !== id) return;
      if (e.turn_active) running = true;
      else if (running) {
        listeners.delete(on);
        resolve();
      }
    };
    listeners.add(on);
    socket.write(`${JSON.stringify({ cmd: "agent_send", block_id: id, message: send })}\n`);
  });
const link = async () => {
  const res = await fetch(`${web}/api/v1/login-token`, { method: "POST", headers: { "x-authkey": KEY } });
  return `${web}${((await res.json()) as { path: string }).path}`;
};

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

// --- 100k lines ----------------------------------------------------------------
const big = await agent("big");
await turnDone(big.block_id, `flood ${LINES}`);
// Baseline: the whole transcript read by a raw WebSocket client, page by page.
const rawStart = performance.now();
{
  const ws = new WebSocket(`ws://${srv.estart.ws}/ws`, { headers: { "x-authkey": KEY } });
  await new Promise((r) => ws.once("open", r));
  ws.send(JSON.stringify({ cmd: "register", kind: "tool", pid: process.pid + 1, version: "bench" }));
  let offset = 0;
  for (;;) {
    const reply = new Promise<{ data: string; offset: number }>((resolve) => {
      const on = (m: WebSocket.RawData) => {
        const e = JSON.parse(String(m)) as { event: string; req_id?: string; data: string; offset: number };
        if (e.req_id === `r${offset}`) {
          ws.off("message", on);
          resolve(e);
        }
      };
      ws.on("message", on);
    });
    ws.send(
      JSON.stringify({ cmd: "get_block_output", block_id: big.block_id, offset, limit: 65536, req_id: `r${offset}` }),
    );
    const page = await reply;
    if (page.data === "") break;
    offset = page.offset + Buffer.byteLength(page.data);
  }
  ws.close();
}
const rawMs = performance.now() - rawStart;

const page = await watched(browser);
await page.goto(await link());
await page.waitForSelector('[data-testid="connection"]');
const loadStart = performance.now();
await page.goto(`${web}/#/agent/${big.block_id}`);
await page.waitForFunction((n) => document.body.textContent?.includes(`L${n - 1}@`), LINES, { timeout: 600_000 });
const loadMs = performance.now() - loadStart;
const domNodes = await page.evaluate(() => document.getElementsByTagName("*").length);
const loadLong = maxOf(await page.evaluate(() => (window as unknown as { __long: number[] }).__long));
await page.evaluate(() => {
  (window as unknown as { __long: number[] }).__long = [];
});
// Scroll up through the whole history (the page reads it back from srv as it goes) until the
// first line is on screen.
const readFrom = Number(await page.getByTestId("transcript").getAttribute("data-from"));
let scrolls = 0;
let reachedStart = false;
for (; scrolls < 20_000 && !reachedStart; scrolls++) {
  await page.mouse.wheel(0, -20_000);
  reachedStart = await page.evaluate(() => /L0@\d/.test(document.body.textContent ?? ""));
}
const scrollTasks = (await page.evaluate(() => (window as unknown as { __long: number[] }).__long)).sort(
  (a, b) => b - a,
);
const scrollLong = maxOf(scrollTasks);
const domAfter = await page.evaluate(() => document.getElementsByTagName("*").length);
await page.context().close();

emit({
  bench: "dashboard.transcript_100k_lines_load_ms",
  value: loadMs,
  unit: "ms",
  baseline: "the same transcript read whole by a raw WebSocket client (node)",
  baseline_value: rawMs,
  ratio: loadMs / rawMs,
  goal: "dom_nodes<=2000 && longest_task_ms_scrolling_back<=50 && reached_first_line",
  pass: Math.max(domNodes, domAfter) <= 2000 && scrollLong <= 50 && reachedStart,
  dom_nodes: domNodes,
  dom_nodes_after_scrolling_back: domAfter,
  first_read_from_byte: readFrom,
  scrolls,
  reached_first_line: reachedStart,
  longest_task_ms_scrolling_back: Math.round(scrollLong),
  long_tasks_scrolling_back_ms: scrollTasks.slice(0, 5).map(Math.round),
  // For information: loading includes the page's own start (its script), measured from navigation.
  longest_task_ms_loading: Math.round(loadLong),
});

// --- 1,000 lines/s ---------------------------------------------------------------
const live = await agent("live");
await turnDone(live.block_id, "rate 1 1"); // the session is up before the clock starts
const livePage = await watched(browser);
await livePage.goto(await link());
await livePage.goto(`${web}/#/agent/${live.block_id}`);
await livePage.waitForSelector('[data-testid="transcript"]', { state: "attached" });
await livePage.evaluate(() => {
  const w = window as unknown as { __long: number[]; __lags: number[] };
  w.__long = [];
  w.__lags = [];
});
await turnDone(live.block_id, `rate ${RATE} ${SECONDS}`);
await livePage.waitForFunction((n) => document.body.textContent?.includes(`L${n - 1}@`), RATE * SECONDS, {
  timeout: 60_000,
});
const lags = (await livePage.evaluate(() => (window as unknown as { __lags: number[] }).__lags)).sort((a, b) => a - b);
const liveLong = maxOf(await livePage.evaluate(() => (window as unknown as { __long: number[] }).__long));
await livePage.context().close();

// Baseline: a raw `ws` server pushing the same stamped lines at the same rate to a bare page.
const script = `const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onmessage = (m) => { const d = document.createElement("div"); d.textContent = m.data; document.body.append(d); };`;
const http = createServer((req, res) => {
  if (req.url === "/app.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
  else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script src="/app.js"></script>');
});
const wss = new WebSocketServer({ server: http, path: "/ws" });
await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
const basePage = await watched(browser);
const connected = new Promise<WebSocket>((r) => wss.once("connection", r));
await basePage.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
const peer = await connected;
await basePage.evaluate(() => {
  (window as unknown as { __lags: number[] }).__lags = [];
});
const start = Date.now();
for (let t = 0; t < SECONDS * 100; t++) {
  for (let i = 0; i < RATE / 100; i++) peer.send(`L${t * (RATE / 100) + i}@${Date.now()}`);
  await new Promise((r) => setTimeout(r, Math.max(0, start + (t + 1) * 10 - Date.now())));
}
await basePage.waitForFunction((n) => document.body.textContent?.includes(`L${n - 1}@`), RATE * SECONDS);
const baseLags = (await basePage.evaluate(() => (window as unknown as { __lags: number[] }).__lags)).sort(
  (a, b) => a - b,
);
await basePage.context().close();
wss.close();
http.close();

const p99 = percentile(lags, 99);
const baseP99 = percentile(baseLags, 99);
emit({
  bench: "dashboard.live_1000_lines_per_s_lag_p99_ms",
  value: p99,
  unit: "ms",
  baseline: "a raw ws server pushing the same lines at the same rate to a bare page",
  baseline_value: baseP99,
  ratio: p99 / Math.max(1, baseP99),
  goal: "value<=100 && longest_task_ms<=50",
  pass: p99 <= 100 && liveLong <= 50,
  lines_seen: lags.length,
  lag_p50_ms: percentile(lags, 50),
  longest_task_ms: Math.round(liveLong),
});

await browser.close();
socket.destroy();
await srv.stop();
cleanup(work);

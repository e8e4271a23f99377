// Agents in srv, three figures, each against a baseline measured in the same run:
//  - spawn overhead: agent_send → first transcript line at a subscriber, against spawning the
//    same child directly and reading its first line;
//  - output throughput: a child printing 1M short JSON lines through the controller, the
//    transcript and one WebSocket subscriber, against `child | cat > /dev/null`; plus the p99
//    latency of stamped lines from the child's write to the subscriber;
//  - memory: srv RSS with 20 idle agent sessions minus srv with none, per session.
// The agent is a tiny stand-in CLI (a model cannot run here); srv runs it as a claude agent.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { emit, median } from "./lib.ts";
import { cleanup, KEY, onLines, percentile, startSrv } from "./srv.ts";

const LINES = 1_000_000;
const work = mkdtempSync(join(tmpdir(), "bench-agents-"));
const cli = join(work, "fake-cli");
// Speaks just enough stream-json: an init line at once, then per user line either a flood of
// lines ("flood") or one answer, each turn closed by a result line. It writes the way a
// well-behaved CLI does, waiting for "drain" when the pipe is full: without that its own write
// queue (not the reader) would hold the lines, and their latency would measure that queue.
writeFileSync(
  cli,
  `#!${process.execPath}
const sid = "bench-" + process.pid;
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const write = (s) => process.stdout.write(s) || new Promise((r) => process.stdout.once("drain", r));
out({ type: "system", subtype: "init", session_id: sid });
async function turn(line) {
  if (line.includes("flood")) {
    let chunk = "";
    for (let n = 0; n < ${LINES}; n++) {
      chunk += n % 1000 === 0 ? '{"type":"x","n":' + n + ',"t":' + (performance.timeOrigin + performance.now()) + '}\\n' : '{"type":"x","n":' + n + '}\\n';
      if (chunk.length > 65536) { await write(chunk); chunk = ""; }
    }
    await write(chunk);
  }
  out({ type: "result", subtype: "success", is_error: false, session_id: sid, usage: { input_tokens: 1, output_tokens: 1 } });
}
let buf = "";
let work = Promise.resolve();
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    work = work.then(() => turn(line));
  }
});
// At stdin EOF it exits once its work is written (nothing else keeps it alive).
`,
);
chmodSync(cli, 0o755);

/** NDJSON client over the Unix socket. */
async function pipeClient(path: string) {
  const socket: Socket = connect(path);
  await new Promise((r) => socket.once("connect", r));
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] =
    [];
  onLines(socket, (line) => {
    const ev = JSON.parse(line) as Record<string, unknown>;
    const i = waiters.findIndex((w) => w.pred(ev));
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(ev);
  });
  const send = (cmd: object) => socket.write(`${JSON.stringify(cmd)}\n`);
  const wait = (pred: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => waiters.push({ pred, resolve }));
  send({ cmd: "register", kind: "tool", pid: process.pid, version: "bench" });
  await wait((e) => e.event === "registered");
  // A workspace with one tab to put agent blocks in.
  send({ cmd: "create_workspace", name: "bench" });
  const ws = await wait((e) => e.event === "workspace_created");
  send({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "t" });
  const tab = await wait((e) => e.event === "tab_created");
  const newAgent = async (): Promise<string> => {
    const meta = { view: "agent", "agent:provider": "claude", "agent:cwd": work, "agent:command": cli };
    send({ cmd: "create_block", tab_id: tab.tab_id, meta });
    return (await wait((e) => e.event === "block_created")).block_id as string;
  };
  return { socket, send, wait, newAgent };
}

const srv = await startSrv();
const c = await pipeClient(srv.pipe);
const newAgent = c.newAgent;

// --- spawn overhead ---------------------------------------------------------------------------
const ROUNDS = 15;
const viaSrv: number[] = [];
const direct: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const id = await newAgent();
  c.send({ cmd: "subscribe_output", block_ids: [id] });
  const t0 = performance.now();
  c.send({ cmd: "agent_send", block_id: id, message: "hello" });
  await c.wait((e) => e.event === "block_output" && e.block_id === id);
  viaSrv.push(performance.now() - t0);
  c.send({ cmd: "agent_stop", block_id: id, force: true });

  const t1 = performance.now();
  const child = spawn(cli, [], { stdio: ["pipe", "pipe", "ignore"] });
  child.stdin.write(`${JSON.stringify({ type: "user", message: { role: "user", content: "hello" } })}\n`);
  await new Promise((r) => child.stdout.once("data", r));
  direct.push(performance.now() - t1);
  child.kill("SIGKILL");
}
const added = median(viaSrv) - median(direct);
emit({
  bench: "agents.spawn_overhead_ms",
  value: added,
  unit: "ms",
  baseline: "spawn the same child directly, first stdout line",
  baseline_value: median(direct),
  ratio: median(viaSrv) / median(direct),
  goal: "added<=50ms",
  pass: added <= 50,
  via_srv_ms: median(viaSrv),
});

// --- output throughput ----------------------------------------------------------------------
const raw: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  execFileSync("sh", ["-c", `echo '{"message":"flood"}' | ${cli} | cat > /dev/null`]);
  raw.push(performance.now() - t0);
}
const id = await newAgent();
const sub = new WebSocket(`ws://${srv.estart.ws}/ws`, { headers: { "x-authkey": KEY } });
await new Promise((r) => sub.once("open", r));
const latencies: number[] = [];
let bytes = 0;
let finished: () => void = () => {};
const done = new Promise<void>((r) => {
  finished = r;
});
sub.on("message", (data) => {
  const ev = JSON.parse(data.toString()) as { event: string; data?: string };
  if (ev.event !== "block_output" || ev.data === undefined) return;
  bytes += Buffer.byteLength(ev.data);
  const now = performance.timeOrigin + performance.now();
  for (const m of ev.data.matchAll(/"t":([0-9.]+)/g)) latencies.push(now - Number(m[1]));
  if (ev.data.includes(`"n":${LINES - 1}}`)) finished();
});
sub.send(JSON.stringify({ cmd: "register", kind: "tool", pid: process.pid + 1, version: "bench" }));
sub.send(JSON.stringify({ cmd: "subscribe_output", block_ids: [id] }));
c.send({ cmd: "agent_send", block_id: id, message: "warm up" });
await c.wait(
  (e) => e.event === "agent_status" && e.block_id === id && e.turn_active === false && e.status === "running",
);
const t0 = performance.now();
c.send({ cmd: "agent_send", block_id: id, message: "flood" });
await done;
const srvMs = performance.now() - t0;
latencies.sort((a, b) => a - b);
const rate = LINES / (srvMs / 1000);
const rawRate = LINES / (median(raw) / 1000);
emit({
  bench: "agents.output_lines_per_s",
  value: rate,
  unit: "lines/s",
  baseline: "child | cat > /dev/null",
  baseline_value: rawRate,
  ratio: rate / rawRate,
  goal: "ratio>=0.5 and p99<=10ms",
  pass: rate / rawRate >= 0.5 && percentile(latencies, 99) <= 10,
  p99_line_latency_ms: percentile(latencies, 99),
  p50_line_latency_ms: percentile(latencies, 50),
  transcript_mb: bytes / 1e6,
});
sub.close();

// --- memory per idle session ---------------------------------------------------------------
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}
await srv.stop();
const fresh = await startSrv();
const m = await pipeClient(fresh.pipe);
// Settle, then read the baseline: srv with no agent.
await new Promise((r) => setTimeout(r, 500));
const pid = fresh.child.pid as number;
const before = rssMb(pid);
for (let i = 0; i < 20; i++) {
  const b = await m.newAgent();
  m.send({ cmd: "agent_send", block_id: b, message: "hi" });
  await m.wait(
    (e) => e.event === "agent_status" && e.block_id === b && e.turn_active === false && e.status === "running",
  );
}
await new Promise((r) => setTimeout(r, 500));
const after = rssMb(pid);
const perSession = (after - before) / 20;
emit({
  bench: "agents.rss_per_idle_session_mb",
  value: perSession,
  unit: "MB",
  baseline: "srv RSS with no agents",
  baseline_value: before,
  ratio: after / before,
  goal: "<=2MB per session",
  pass: perSession <= 2,
});
await fresh.stop();
m.socket.destroy();
c.socket.destroy();
cleanup(work);
cleanup(srv.dataDir);
cleanup(fresh.dataDir);

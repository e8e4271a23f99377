// Catch-up: a client asks get_events{since: 0} on a srv whose log holds 100k
// events (far past the in-memory ring) and reads every event_list page over
// the Unix socket. Baseline in the same run: reading the same rows straight
// from the SQLite event log with better-sqlite3 and parsing their JSON.
import net from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { emit, median } from "./lib.ts";
import { cleanup, onLines, startSrv } from "./srv.ts";

const EVENTS = 100_000;
const ROUNDS = 3;

const srv = await startSrv();
const socket = net.connect(srv.pipe);
await new Promise((r) => socket.once("connect", r));
let waiting: ((line: string) => void) | undefined;
onLines(socket, (l) => waiting?.(l));
const until = (pred: (l: string) => boolean) =>
  new Promise<string>((resolve) => {
    waiting = (l) => {
      if (pred(l)) resolve(l);
    };
  });

socket.write(`${JSON.stringify({ cmd: "register", kind: "tool", pid: 4242, version: "bench" })}\n`);
await until((l) => l.includes('"registered"'));
process.stderr.write(`filling the log with ${EVENTS} events…\n`);
for (let sent = 0; sent < EVENTS; sent += 1000) {
  const last = sent + 999;
  socket.write(Array.from({ length: 1000 }, (_, i) => `{"cmd":"ping","nonce":${sent + i}}\n`).join(""));
  await until((l) => l.includes(`"nonce":${last},`));
}

async function catchUp(): Promise<{ ms: number; count: number }> {
  let count = 0;
  const start = performance.now();
  const done = new Promise<void>((resolve) => {
    waiting = (l) => {
      if (!l.startsWith('{"event":"event_list"')) return;
      const page = JSON.parse(l) as { events: unknown[]; more: boolean };
      count += page.events.length;
      if (!page.more) resolve();
    };
  });
  socket.write('{"cmd":"get_events","since":0}\n');
  await done;
  return { ms: performance.now() - start, count };
}

function raw(): number {
  const db = new Database(join(srv.dataDir, "db", "objects.db"), { readonly: true });
  const start = performance.now();
  let n = 0;
  for (const row of db.prepare("SELECT data FROM event_log WHERE version > 0 ORDER BY version").iterate()) {
    JSON.parse((row as { data: string }).data);
    n++;
  }
  const ms = performance.now() - start;
  db.close();
  if (n < EVENTS) throw new Error(`only ${n} events logged`);
  return ms;
}

const ours: number[] = [];
const base: number[] = [];
let count = 0;
for (let r = 0; r < ROUNDS; r++) {
  base.push(raw());
  const run = await catchUp();
  ours.push(run.ms);
  count = run.count;
}
if (count < EVENTS) throw new Error(`caught up ${count} events`);
emit({
  bench: "srv.catchup_ms_100k_events",
  value: median(ours),
  unit: "ms",
  baseline: "raw better-sqlite3 read + JSON.parse of the same log rows",
  baseline_value: median(base),
  ratio: median(ours) / median(base),
  goal: "value<=1000",
  pass: median(ours) <= 1000,
  events: count,
});
socket.destroy();
await srv.stop();
cleanup(srv.dataDir);

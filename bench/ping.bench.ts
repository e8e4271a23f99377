// ping → pong round trip, one at a time, over srv's Unix socket and over its
// WebSocket, against raw echo servers (node:net NDJSON, ws) running in a
// separate process, measured in the same run. A srv ping is a full command:
// parsed, decided, persisted (a pong consumes a version and is logged) and
// published.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { emit } from "./lib.ts";
import { cleanup, KEY, onLines, percentile, startSrv } from "./srv.ts";

const N = 3000;
const WARMUP = 500;
const ROUNDS = 3;

/** Round-trip times (µs) of `N` sequential request/answer pairs over a line-oriented channel. */
async function measure(
  send: (line: string) => void,
  onLine: (cb: (line: string) => void) => void,
  make: (i: number) => string,
) {
  const times: number[] = [];
  let resolveNext: (() => void) | undefined;
  onLine(() => resolveNext?.());
  for (let i = 0; i < N + WARMUP; i++) {
    const start = process.hrtime.bigint();
    await new Promise<void>((r) => {
      resolveNext = r;
      send(make(i));
    });
    if (i >= WARMUP) times.push(Number(process.hrtime.bigint() - start) / 1e3);
  }
  return times.sort((a, b) => a - b);
}

function pipeChannel(path: string) {
  return new Promise<{ send: (l: string) => void; onLine: (cb: (l: string) => void) => void; close: () => void }>(
    (resolve) => {
      const socket = net.connect(path, () => {
        let listener: (l: string) => void = () => {};
        onLines(socket, (l) => listener(l));
        resolve({
          send: (l) => socket.write(`${l}\n`),
          onLine: (cb) => (listener = cb),
          close: () => socket.destroy(),
        });
      });
    },
  );
}

function wsChannel(url: string) {
  return new Promise<{ send: (l: string) => void; onLine: (cb: (l: string) => void) => void; close: () => void }>(
    (resolve) => {
      const ws = new WebSocket(url, { headers: { "x-authkey": KEY } });
      ws.on("open", () => {
        let listener: (l: string) => void = () => {};
        ws.on("message", (d) => listener(d.toString()));
        resolve({ send: (l) => ws.send(l), onLine: (cb) => (listener = cb), close: () => ws.terminate() });
      });
    },
  );
}

async function echoServer(kind: "unix" | "ws", path?: string) {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "echo-servers.mjs"), kind, ...(path ? [path] : [])],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const address = await new Promise<string>((r) =>
    child.stdout.once("data", (d) => r(String(d).trim().split(" ")[1] as string)),
  );
  return { address, stop: () => child.kill() };
}

const ping = (i: number) => JSON.stringify({ cmd: "ping", nonce: i });
const srv = await startSrv();
const rawDir = mkdtempSync(join(tmpdir(), "bench-echo-"));
const rawUnix = await echoServer("unix", join(rawDir, "echo.sock"));
const rawWs = await echoServer("ws");

async function srvChannel(open: () => ReturnType<typeof pipeChannel>, pid: number) {
  const ch = await open();
  await new Promise<void>((r) => {
    ch.onLine((l) => {
      if (l.includes('"registered"')) r();
    });
    ch.send(JSON.stringify({ cmd: "register", kind: "tool", pid, version: "bench" }));
  });
  return ch;
}

for (const [name, openSrv, openRaw, rawName] of [
  [
    "ipc.ping_rtt",
    () => srvChannel(() => pipeChannel(srv.pipe), 901),
    () => pipeChannel(rawUnix.address),
    "raw node:net NDJSON echo (separate process)",
  ],
  [
    "ws.ping_rtt",
    () => srvChannel(() => wsChannel(`ws://${srv.estart.ws}/ws`), 902),
    () => wsChannel(rawWs.address),
    "raw ws echo (separate process)",
  ],
] as const) {
  const ours: number[][] = [];
  const raws: number[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const raw = await openRaw();
    raws.push(await measure(raw.send, raw.onLine, ping));
    raw.close();
    const mine = await openSrv();
    ours.push(await measure(mine.send, mine.onLine, ping));
    mine.close();
  }
  const all = (xs: number[][]) => xs.flat().sort((a, b) => a - b);
  for (const p of [50, 99]) {
    const value = percentile(all(ours), p);
    const baseline = percentile(all(raws), p);
    emit({
      bench: `${name}_p${p}`,
      value,
      unit: "us",
      baseline: rawName,
      baseline_value: baseline,
      ratio: value / baseline,
      goal: p === 50 ? "ratio<=1.3" : "report",
      pass: p === 50 ? value / baseline <= 1.3 : true,
    });
  }
}
rawUnix.stop();
rawWs.stop();
await srv.stop();
cleanup(srv.dataDir);
cleanup(rawDir);

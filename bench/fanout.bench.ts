// Fan-out: 50 WebSocket clients subscribed while one client sends commands
// (pings, pipelined) as fast as srv takes them. Figure: events/s delivered
// to each client, with every client checked for drops (a contiguous run of
// versions). Baseline in the same run: a raw `ws` server (separate process)
// relaying the same number of same-sized messages from one client to 50.
import { spawn } from "node:child_process";
import { join } from "node:path";
import WebSocket from "ws";
import { emit, median } from "./lib.ts";
import { cleanup, KEY, startSrv } from "./srv.ts";

const CLIENTS = 50;
const EVENTS = 20_000;
const WINDOW = 2000;
const ROUNDS = 3;

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

interface Result {
  perClient: number;
  drops: number;
}

/** Counts `expected` messages on each subscriber; resolves with the slowest client's rate. */
async function run(
  url: string,
  headers: Record<string, string>,
  driver: (send: (t: string) => void, acked: () => number) => Promise<void>,
  isEvent: (text: string) => number | undefined,
): Promise<Result> {
  const subs = await Promise.all(Array.from({ length: CLIENTS }, () => open(url, headers)));
  const seen = subs.map(() => [] as number[]);
  const done = subs.map(
    (ws, i) =>
      new Promise<number>((resolve) => {
        ws.on("message", (data) => {
          const v = isEvent(data.toString());
          if (v === undefined) return;
          (seen[i] as number[]).push(v);
          if ((seen[i] as number[]).length === EVENTS) resolve(performance.now());
        });
      }),
  );
  const source = await open(url, headers);
  const start = performance.now();
  // Flow control for both servers alike: how many the first subscriber has received.
  await driver(
    (t) => source.send(t),
    () => (seen[0] as number[]).length,
  );
  const ends = await Promise.all(done);
  const slowest = Math.max(...ends) - start;
  let drops = 0;
  for (const vs of seen) {
    for (let k = 1; k < vs.length; k++) if ((vs[k] as number) !== (vs[k - 1] as number) + 1) drops++;
  }
  for (const ws of [...subs, source]) ws.terminate();
  return { perClient: EVENTS / (slowest / 1000), drops };
}

/** Sends `EVENTS` messages keeping at most WINDOW unanswered (so neither side is flooded blindly). */
async function pump(send: (t: string) => void, acked: () => number, make: (i: number) => string): Promise<void> {
  for (let i = 0; i < EVENTS; i++) {
    while (i - acked() >= WINDOW) await new Promise((r) => setImmediate(r));
    send(make(i));
  }
}

const srv = await startSrv();
const relay = spawn(process.execPath, [join(import.meta.dirname, "echo-servers.mjs"), "fanout"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const relayUrl = await new Promise<string>((r) =>
  relay.stdout.once("data", (d) => r(String(d).trim().split(" ")[1] as string)),
);

const pongVersion = (text: string) => {
  if (!text.startsWith('{"event":"pong"')) return undefined;
  return (JSON.parse(text) as { version: number }).version;
};
const sample = JSON.stringify({ event: "pong", nonce: 12345, version: 100000 });
const relayVersion = (text: string) =>
  text.startsWith('{"event":"pong"') ? (JSON.parse(text) as { version: number }).version : undefined;

const ours: Result[] = [];
const raws: Result[] = [];
for (let r = 0; r < ROUNDS; r++) {
  raws.push(
    await run(
      relayUrl,
      {},
      (send, acked) => pump(send, acked, (i) => sample.replace("100000", String(i + 1))),
      relayVersion,
    ),
  );
  let pid = 7000 + r;
  ours.push(
    await run(
      `ws://${srv.estart.ws}/ws`,
      { "x-authkey": KEY },
      async (send, acked) => {
        send(JSON.stringify({ cmd: "register", kind: "tool", pid: pid++, version: "bench" }));
        await pump(send, acked, (i) => `{"cmd":"ping","nonce":${i}}`);
      },
      pongVersion,
    ),
  );
}
const value = median(ours.map((o) => o.perClient));
const baseline = median(raws.map((o) => o.perClient));
const drops = ours.reduce((n, o) => n + o.drops, 0);
emit({
  bench: "ws.fanout_events_per_s_per_client",
  value,
  unit: "events/s/client",
  baseline: `raw ws relay to ${CLIENTS} clients (separate process)`,
  baseline_value: baseline,
  ratio: value / baseline,
  goal: "value>=20000 && drops==0",
  pass: value >= 20_000 && drops === 0,
  drops,
});
relay.kill();
await srv.stop();
cleanup(srv.dataDir);

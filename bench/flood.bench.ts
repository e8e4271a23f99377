// Fairness under a flood: one client sends malformed frames as fast as srv takes
// them while another pings one at a time over the Unix socket. The figure is the
// pinger's p99 round trip during the flood; the baseline is its p99 in the same
// run with no flood. srv handles each connection's frames in slices, so the
// flood costs the pinger at most a few slices, not the flood's length.
import net from "node:net";
import { emit } from "./lib.ts";
import { onLines, percentile, startSrv } from "./srv.ts";

const PINGS = 400;
const WARMUP = 50;
const BURST = 10_000;

function connect(path: string): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect(path, () => resolve(s));
  });
}

async function registered(path: string, pid: number) {
  const socket = await connect(path);
  let listener: (l: string) => void = () => {};
  onLines(socket, (l) => listener(l));
  await new Promise<void>((r) => {
    listener = (l) => {
      if (l.includes('"registered"')) r();
    };
    socket.write(`${JSON.stringify({ cmd: "register", kind: "tool", pid, version: "bench" })}\n`);
  });
  return { socket, onLine: (cb: (l: string) => void) => (listener = cb) };
}

/** Sequential ping round trips (µs), sorted. */
async function pings(client: Awaited<ReturnType<typeof registered>>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < PINGS + WARMUP; i++) {
    const start = process.hrtime.bigint();
    await new Promise<void>((r) => {
      client.onLine((l) => {
        if (l.includes('"pong"')) r();
      });
      client.socket.write(`${JSON.stringify({ cmd: "ping", nonce: i })}\n`);
    });
    if (i >= WARMUP) times.push(Number(process.hrtime.bigint() - start) / 1e3);
  }
  return times.sort((a, b) => a - b);
}

const srv = await startSrv();
const pinger = await registered(srv.pipe, 951);
const quiet = await pings(pinger);

// The flooder keeps srv's queue for it full: a new burst whenever the last one is half answered.
const flooder = await registered(srv.pipe, 952);
const burst = '{"cmd":"no_such_command"}\n'.repeat(BURST);
let answered = 0;
let sent = 0;
let flooding = true;
flooder.onLine(() => {
  answered++;
  if (flooding && sent - answered < BURST / 2) {
    sent += BURST;
    flooder.socket.write(burst);
  }
});
sent += BURST;
flooder.socket.write(burst);
const loud = await pings(pinger);
flooding = false;

const value = percentile(loud, 99);
const baseline = percentile(quiet, 99);
emit({
  bench: "ipc.ping_under_flood_p99",
  value: value / 1000,
  unit: "ms",
  baseline: "the same client's ping p99 with no flood (same run)",
  baseline_value: baseline / 1000,
  ratio: value / baseline,
  goal: "value<=20ms",
  pass: value / 1000 <= 20,
  flood_frames_answered: answered,
  p50_ms: percentile(loud, 50) / 1000,
});
pinger.socket.destroy();
flooder.socket.destroy();
await srv.stop();

// Relay message latency: sender → relay → target, one message at a time, p50 and p99.
//
// A real RelayServer (on a Unix socket, hosted as srv hosts it) with `MemoryMailbox`, then again
// with srv's StoreMailbox on a real SQLite file (opened as srv opens it: WAL, synchronous NORMAL,
// automatic checkpoints off), so the second figure includes the commit that acknowledges a send.
// The sender is a RelayClient in a child process (agents are separate processes), sending sync
// chats to "bob" one at a time.
//
// What is timed: from the moment the child calls `send` until the child reads the message's body
// back on a raw Unix socket. bob's transport "echoes": its `deliver` writes the body, at once,
// on a second Unix socket that the child opened to this process, then reports `delivered`.
// Why an out-of-band socket and not the sync send's answer: the answer comes only after the relay
// has settled the delivery in the mailbox and framed a chat response, so it times the
// acknowledgement, not the moment the target has the message (it is reported too, as `ack_*`).
// Why not a promise the sender waits on: the sender is another process, as an agent is. The echo
// costs exactly one raw one-way hop back, the same as the return half of the baseline's round
// trip, so the comparison is: one hop there through the relay + one raw hop back, against one raw
// hop there + one raw hop back.
//
// Baseline, measured in the same run by the same child: a raw NDJSON echo round trip over a Unix
// socket to a trivial server in this process (the process hosting the relay, so both share one
// event loop), with a line the size of the relay's request frame. Raw and relay trips take turns in
// blocks of 250.
//
// `node relay-latency.bench.ts client <relay socket> <echo socket> <raw socket>` is the sender; it
// prints one JSON line with its samples (µs). `node relay-latency.bench.ts memory` (or `store`) runs
// one of the two set-ups only, e.g. under `--cpu-prof` (the sender inherits the flag).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  BUILTIN_CONTROLS,
  bundlePaths,
  type DeliveryOutcome,
  hostRelay,
  type Mailbox,
  MemoryMailbox,
  RelayClient,
  RelayServer,
  secureBundleDir,
  staticDirectory,
  type Transport,
} from "@agentmux/relay";
import { openStore } from "@agentmux/store";
import { StoreMailbox } from "../apps/srv/src/relay/mailbox.ts";
import { emit } from "./lib.ts";
import { onLines, percentile } from "./srv.ts";

const MESSAGES = 6000;
const WARMUP = 1000;
/** Trips per turn of each path (WARMUP and MESSAGES are multiples of it). */
const BLOCK = 250;
const GOAL_RATIO = 2;
const BODY = "please review the branch fix/relay-latency when you get a moment; the tests pass locally.";
/**
 * Message `i`, stamped with the sender's clock when it called `send`. `process.hrtime` reads
 * CLOCK_MONOTONIC, one clock for every process on the machine, so the target can tell how long
 * the message took to reach it (a diagnostic, `to_target_*`; the figure itself is one process's).
 */
const body = (i: number, sentAt: bigint) => `${BODY} #${i} sent@${sentAt}`;
const SENT_AT = / sent@(\d+)$/;

interface Samples {
  /** Raw NDJSON echo round trips (µs). */
  raw: number[];
  /** send → body echoed by the target's transport (µs). */
  relay: number[];
  /** send → the sync send's answer (µs). */
  ack: number[];
}

interface Line {
  readonly text: string;
  /** When it was read off the socket. */
  readonly at: bigint;
}

/** A line-oriented connection whose next line can be awaited (one waiter at a time). */
async function lineChannel(path: string): Promise<{ socket: Socket; next: () => Promise<Line> }> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const lines: Line[] = [];
  let waiter: ((line: Line) => void) | undefined;
  onLines(socket, (text) => {
    const line = { text, at: process.hrtime.bigint() };
    const w = waiter;
    waiter = undefined;
    if (w === undefined) lines.push(line);
    else w(line);
  });
  const next = () => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise<Line>((resolve) => {
      waiter = resolve;
    });
  };
  return { socket, next };
}

const micros = (start: bigint, end = process.hrtime.bigint()) => Number(end - start) / 1e3;

/** The sender, in its own process: raw and relay trips in turns, then its samples on stdout. */
async function client(relaySocket: string, echoSocket: string, rawSocket: string): Promise<void> {
  const ada = await RelayClient.connect({
    socketPath: relaySocket,
    bundleName: "bench",
    sessionId: "ada",
    clientClass: "agent",
  });
  const echo = await lineChannel(echoSocket);
  const raw = await lineChannel(rawSocket);
  // The same bytes a RelayClient writes for such a send, so both paths carry lines of one size.
  const frame = (i: number, sentAt: bigint) =>
    JSON.stringify({
      frame: "request",
      request_id: `ada-${i}`,
      request: {
        operation: "chat",
        message: body(i, sentAt),
        targets: ["bob"],
        broadcast: false,
        delivery_mode: "sync",
      },
    });
  const samples: Samples = { raw: [], relay: [], ack: [] };
  const rawTrip = async (i: number) => {
    const start = process.hrtime.bigint();
    const line = frame(i, start);
    raw.socket.write(`${line}\n`);
    const echoed = await raw.next();
    if (echoed.text !== line) throw new Error("the raw echo answered something else");
    if (i >= WARMUP) samples.raw.push(micros(start, echoed.at));
  };
  const relayTrip = async (i: number) => {
    const start = process.hrtime.bigint();
    const message = body(i, start);
    const sent = ada.send({ message, targets: ["bob"], deliveryMode: "sync" });
    const echoed = await echo.next();
    const res = await sent;
    const acked = micros(start);
    if (echoed.text !== message) throw new Error(`bob got ${JSON.stringify(echoed.text)}, expected message ${i}`);
    if (res.status !== "success") throw new Error(`sync send not delivered: ${res.status}`);
    if (i >= WARMUP) {
      samples.relay.push(micros(start, echoed.at));
      samples.ack.push(acked);
    }
  };
  // Blocks of raw round trips and of relay messages take turns: load that comes and goes on a
  // shared machine weighs on both alike, and each path still runs back to back, in its steady
  // state (alternating single trips measured each path right after the other's work, cold).
  for (let block = 0; block < WARMUP + MESSAGES; block += BLOCK) {
    for (let i = block; i < block + BLOCK; i++) await rawTrip(i);
    for (let i = block; i < block + BLOCK; i++) await relayTrip(i);
  }
  process.stdout.write(`${JSON.stringify(samples)}\n`);
  await ada.close();
  echo.socket.destroy();
  raw.socket.destroy();
}

function listen(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onConnection);
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** The trivial baseline server: every line straight back. */
function rawEcho(socket: Socket): void {
  onLines(socket, (line) => socket.write(`${line}\n`));
}

const DELIVERED: DeliveryOutcome = Object.freeze({ outcome: "delivered" });

/** What bob's transport notes per message (µs), warm-up included. */
interface AtTarget {
  /** The request's bytes read off ada's stream → this `deliver` call: the relay's own share. */
  readonly residence: number[];
  /** The sender's `send` call → this `deliver` call (see `body`). */
  readonly toTarget: number[];
}

/** bob's transport: hands the body back to the sender at once, on the sender's echo connection. */
function echoTransport(sink: () => Socket | undefined, arrived: () => bigint, noted: AtTarget): Transport {
  return {
    kind: "session",
    deliver: async (delivery) => {
      const now = process.hrtime.bigint();
      noted.residence.push(micros(arrived(), now));
      noted.toTarget.push(micros(BigInt(SENT_AT.exec(delivery.body)?.[1] ?? now), now));
      const socket = sink();
      if (socket === undefined) return { outcome: "failed", reason: "the sender's echo socket is not connected" };
      socket.write(`${delivery.body}\n`);
      return DELIVERED;
    },
    look: async () => ({ format: "lines", lines: [] }),
  };
}

/** ada never receives anything in this bench. */
const nowhere: Transport = {
  kind: "session",
  deliver: async () => DELIVERED,
  look: async () => ({ format: "lines", lines: [] }),
};

/** The sender's samples and the target's, warm-up excluded. */
type Measured = Samples & AtTarget;

async function run(dir: string, rawSocket: string, mailbox: Mailbox): Promise<Measured> {
  mkdirSync(dir);
  let echoSink: Socket | undefined;
  const echoSocket = join(dir, "echo.sock");
  const echoServer = await listen(echoSocket, (socket) => {
    echoSink = socket;
  });
  let arrived = process.hrtime.bigint();
  const noted: AtTarget = { residence: [], toTarget: [] };
  const bob = echoTransport(
    () => echoSink,
    () => arrived,
    noted,
  );
  const members = [
    { id: "ada", transport: nowhere, controls: BUILTIN_CONTROLS },
    { id: "bob", transport: bob, controls: BUILTIN_CONTROLS },
  ];
  const relay = new RelayServer({ bundleName: "bench", directory: staticDirectory({ members, uis: [] }), mailbox });
  const paths = bundlePaths(join(dir, "state"), "bench");
  const uid = process.getuid?.() ?? 0;
  secureBundleDir(paths.dir, { uid });
  const hosted = await hostRelay({
    paths,
    uid,
    bundleName: "bench",
    onConnection: (socket) => {
      // Registered before the relay's own listener, so it runs first for every chunk. One message
      // is in flight at a time, so the last chunk read is the current message's request.
      socket.on("data", () => {
        arrived = process.hrtime.bigint();
      });
      relay.handleConnection(socket);
    },
  });
  if (hosted.outcome !== "hosted") throw new Error(`relay not hosted: ${hosted.reason}`);

  const child: ChildProcess = spawn(
    process.execPath,
    // The parent's flags too: run the bench with `--cpu-prof` and the sender is profiled as well.
    [...process.execArgv, import.meta.filename, "client", paths.socket, echoSocket, rawSocket],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  let samples: Samples | undefined;
  if (child.stdout === null) throw new Error("no stdout from the sender");
  for await (const line of createInterface({ input: child.stdout })) samples = JSON.parse(line) as Samples;
  if ((await exited) !== 0 || samples === undefined) throw new Error("the sender failed");
  await relay.close();
  await hosted.close();
  echoSink?.destroy();
  await close(echoServer);
  if (noted.residence.length !== WARMUP + MESSAGES) throw new Error(`bob got ${noted.residence.length} messages`);
  return { ...samples, residence: noted.residence.slice(WARMUP), toTarget: noted.toTarget.slice(WARMUP) };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function report(name: string, mailbox: string, measured: Measured): void {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const relay = sorted(measured.relay);
  const raw = sorted(measured.raw);
  const ack = sorted(measured.ack);
  const residence = sorted(measured.residence);
  const toTarget = sorted(measured.toTarget);
  for (const p of [50, 99]) {
    const value = percentile(relay, p);
    const baseline = percentile(raw, p);
    const goal = p === 50;
    emit({
      bench: `${name}_p${p}_us`,
      value,
      unit: "us",
      baseline: "raw NDJSON echo round trip over a Unix socket, same child, server in the relay's process",
      baseline_value: baseline,
      ratio: value / baseline,
      goal: goal ? `p50<=${GOAL_RATIO}x raw` : "report",
      pass: goal ? value / baseline <= GOAL_RATIO : true,
      mailbox,
      messages: relay.length,
      // The sync send's answer, as the sender sees it (after the delivery is settled).
      [`ack_p${p}_us`]: round1(percentile(ack, p)),
      // Of the figure: send → bob's `deliver`, and of that, the time spent in the relay's process.
      [`to_target_p${p}_us`]: round1(percentile(toTarget, p)),
      [`in_relay_p${p}_us`]: round1(percentile(residence, p)),
    });
  }
}

async function main(only: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-relay-latency-"));
  const rawSocket = join(dir, "raw.sock");
  const rawServer = await listen(rawSocket, rawEcho);
  try {
    if (only !== "store") {
      report("relay.latency", "MemoryMailbox", await run(join(dir, "memory"), rawSocket, new MemoryMailbox()));
    }
    if (only === "memory") return;
    const store = await openStore({ dataDir: join(dir, "data"), synchronous: "normal", walAutoCheckpoint: 0 });
    await store.migrate();
    const mailbox = new StoreMailbox(store.mail);
    const samples = await run(join(dir, "store"), rawSocket, mailbox);
    await mailbox.flush();
    const owed = (await store.mail.pending()).length;
    await store.close();
    if (owed !== 0) throw new Error(`${owed} messages still pending in the store`);
    report("relay.latency_store_mailbox", "StoreMailbox (SQLite, synchronous NORMAL)", samples);
  } finally {
    await close(rawServer);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "client") {
  const [relaySocket = "", echoSocket = "", rawSocket = ""] = process.argv.slice(3);
  await client(relaySocket, echoSocket, rawSocket);
} else {
  await main(process.argv[2]);
}

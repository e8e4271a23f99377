// The durable relay mailbox: async sends acknowledged per second, each one committed to SQLite
// before its acknowledgement. A real RelayServer (on a Unix socket, hosted as srv hosts it) with
// srv's StoreMailbox on a real file, opened as srv opens it (WAL, automatic checkpoints off), and a
// transport that delivers at once, so every message is also settled (a second write). The sender
// is a RelayClient in a child process (as an agent's MCP server is), keeping 64 sends in flight,
// 20k messages.
//
// Baseline, measured in the same run: raw better-sqlite3 prepared inserts of the same rows into
// the same table (same schema, indexes, WAL and synchronous mode), group-committed in
// transactions of the size the mailbox's group commit reached for accepts in the relay run.
//
// Figures:
// - relay.mailbox_acked_per_s: the goal (>= 10k messages/s acknowledged), synchronous NORMAL
//   (srv's default: a commit survives a crash of srv).
// - relay.mailbox_acked_per_s_sync_full: the same with synchronous FULL (also survives power
//   loss: every commit waits for an fsync); for information.
// - store.mail_accept_per_s: the mail store alone, 64 callers accepting one record at a time,
//   without the relay: what the mailbox costs by itself.
//
// `node relay-mailbox.bench.ts client <socket> <warmup> <messages> <concurrency>` is the sender.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  BUILTIN_CONTROLS,
  bundlePaths,
  type DeliveryOutcome,
  hostRelay,
  RelayClient,
  RelayServer,
  secureBundleDir,
  staticDirectory,
  type Transport,
} from "@agentmux/relay";
import { type NewMail, openStore, type Store, type Synchronous } from "@agentmux/store";
import Database from "better-sqlite3";
import { StoreMailbox } from "../apps/srv/src/relay/mailbox.ts";
import { emit, median } from "./lib.ts";

const MESSAGES = 20_000;
const WARMUP = 1_000;
const CONCURRENCY = 64;
const ROUNDS = 3;
const GOAL = 10_000;
const BODY = "please review the branch fix/relay-mailbox when you get a moment; the tests pass locally.";

/** Runs `count` calls of `fn`, at most `concurrency` at a time. */
async function pool(count: number, concurrency: number, fn: () => Promise<unknown>): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started++;
        await fn();
      }
    }),
  );
}

/** The sender, in its own process: warms up, says "start", sends, says how long the acks took. */
async function client(socketPath: string, warmup: number, messages: number, concurrency: number): Promise<void> {
  const ada = await RelayClient.connect({ socketPath, bundleName: "bench", sessionId: "ada", clientClass: "agent" });
  const send = async () => {
    const res = await ada.send({ message: BODY, targets: ["bob"], deliveryMode: "async" });
    if (res.status !== "accepted") throw new Error(`send not accepted: ${res.status}`);
  };
  await pool(warmup, concurrency, send);
  process.stdout.write("start\n");
  const start = process.hrtime.bigint();
  await pool(messages, concurrency, send);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${JSON.stringify({ seconds })}\n`);
  await ada.close();
}

const DELIVERED: DeliveryOutcome = Object.freeze({ outcome: "delivered" });
/** Delivers at once: the figure is the relay and its mailbox, not a target. */
const instant: Transport = {
  kind: "session",
  deliver: async () => DELIVERED,
  look: async () => ({ format: "lines", lines: [] }),
};

interface Run {
  /** Messages acknowledged per second (as the sender saw them). */
  acked: number;
  /** Messages acknowledged and settled (`delivered` committed) per second. */
  settled: number;
  /** Accepted records per transaction that carried any. */
  acceptBatch: number;
  /** Transactions per message (accepts and settles). */
  commitsPerMessage: number;
}

/** As srv opens it: WAL checkpoints are the owner's (srv runs them when quiet), never inside a commit. */
async function migrated(dir: string, synchronous: Synchronous): Promise<Store> {
  const store = await openStore({ dataDir: dir, synchronous, walAutoCheckpoint: 0 });
  await store.migrate();
  return store;
}

async function relayRun(synchronous: Synchronous): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "bench-relay-mailbox-"));
  const store = await migrated(join(dir, "data"), synchronous);
  const mailbox = new StoreMailbox(store.mail);
  const members = ["ada", "bob"].map((id) => ({ id, transport: instant, controls: BUILTIN_CONTROLS }));
  const relay = new RelayServer({ bundleName: "bench", directory: staticDirectory({ members, uis: [] }), mailbox });
  const paths = bundlePaths(join(dir, "state"), "bench");
  const uid = process.getuid?.() ?? 0;
  secureBundleDir(paths.dir, { uid });
  const hosted = await hostRelay({
    paths,
    uid,
    bundleName: "bench",
    onConnection: (socket) => relay.handleConnection(socket),
  });
  if (hosted.outcome !== "hosted") throw new Error(`relay not hosted: ${hosted.reason}`);

  const child = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      import.meta.filename,
      "client",
      paths.socket,
      String(WARMUP),
      String(MESSAGES),
      String(CONCURRENCY),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  let started: bigint | undefined;
  let before = store.mail.stats;
  let ackSeconds: number | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === "start") {
      started = process.hrtime.bigint();
      before = store.mail.stats;
    } else ackSeconds = (JSON.parse(line) as { seconds: number }).seconds;
  }
  if ((await exited) !== 0 || started === undefined || ackSeconds === undefined) throw new Error("the sender failed");
  while (relay.queueDepth > 0) await new Promise((r) => setTimeout(r, 1));
  const settledSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.mail.idle();
  const after = store.mail.stats;

  // Every acknowledged message is in the file, and delivered.
  const owed = (await store.mail.pending()).length;
  await relay.close();
  await hosted.close();
  await store.close();
  const raw = new Database(join(dir, "data", "db", "objects.db"), { readonly: true });
  const stored = raw.prepare("SELECT count(*) FROM mail WHERE state = 'delivered'").pluck().get();
  raw.close();
  rmSync(dir, { recursive: true, force: true });
  if (owed !== 0 || stored !== MESSAGES + WARMUP) {
    throw new Error(`expected ${MESSAGES + WARMUP} delivered records, found ${String(stored)} (${owed} still owed)`);
  }
  return {
    acked: MESSAGES / ackSeconds,
    settled: MESSAGES / settledSeconds,
    acceptBatch: (after.records - before.records) / (after.acceptCommits - before.acceptCommits),
    commitsPerMessage: (after.commits - before.commits) / MESSAGES,
  };
}

/** One record per message, as the relay writes it. */
function mailFor(n: number): NewMail[] {
  const createdAt = new Date().toISOString();
  return Array.from({ length: n }, () => ({
    messageId: randomUUID(),
    bundleName: "bench",
    senderSession: "ada",
    targetSession: "bob",
    ccSessions: [],
    body: BODY,
    createdAt,
  }));
}

/** The mail store alone: `CONCURRENCY` callers, one record per accept. */
async function storeRun(synchronous: Synchronous): Promise<{ accepted: number; recordsPerCommit: number }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-mail-store-"));
  const store = await migrated(dir, synchronous);
  const records = mailFor(MESSAGES);
  let next = 0;
  const before = store.mail.stats;
  const start = process.hrtime.bigint();
  await pool(MESSAGES, CONCURRENCY, () => store.mail.accept([records[next++] as NewMail]));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = store.mail.stats;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    accepted: MESSAGES / seconds,
    recordsPerCommit: (after.records - before.records) / (after.commits - before.commits),
  };
}

/** Raw better-sqlite3: the same rows into the same (migrated) table, `batch` rows per transaction. */
async function raw(synchronous: Synchronous, batch: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "bench-mail-raw-"));
  await (await migrated(dir, synchronous)).close(); // the store's schema and indexes, nothing else
  const db = new Database(join(dir, "db", "objects.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.pragma(`synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
  const insert = db.prepare(
    `INSERT INTO mail (message_id, seq, bundle_name, sender_session, target_session, cc_sessions, body,
       created_at, state, outcome, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL, ?)
     ON CONFLICT (message_id) DO NOTHING`,
  );
  const records = mailFor(MESSAGES);
  let seq = 0;
  const many = db.transaction((slice: NewMail[]) => {
    const now = new Date().toISOString();
    for (const r of slice) {
      insert.run(
        r.messageId,
        ++seq,
        r.bundleName,
        r.senderSession,
        r.targetSession,
        JSON.stringify(r.ccSessions),
        r.body,
        r.createdAt,
        now,
      );
    }
  });
  const size = Math.max(1, Math.round(batch));
  const start = process.hrtime.bigint();
  for (let i = 0; i < records.length; i += size) many(records.slice(i, i + size));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return records.length / seconds;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const baselineText = (batch: number) =>
  `raw better-sqlite3 inserts of the same rows, same table and mode, ${Math.max(1, Math.round(batch))} per transaction (the accept batch the group commit reached)`;

async function main(): Promise<void> {
  for (const synchronous of ["normal", "full"] as const) {
    const runs: Run[] = [];
    const base: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const run = await relayRun(synchronous);
      runs.push(run);
      base.push(await raw(synchronous, run.acceptBatch));
    }
    const value = median(runs.map((r) => r.acked));
    const baseline = median(base);
    const batch = median(runs.map((r) => r.acceptBatch));
    const goal = synchronous === "normal";
    emit({
      bench: `relay.mailbox_acked_per_s${goal ? "" : "_sync_full"}`,
      value,
      unit: "messages/s",
      baseline: baselineText(batch),
      baseline_value: baseline,
      ratio: value / baseline,
      goal: goal ? `>= ${GOAL} messages/s acknowledged` : "report",
      pass: goal ? value >= GOAL : true,
      synchronous,
      messages: MESSAGES,
      concurrency: CONCURRENCY,
      settled_per_s: Math.round(median(runs.map((r) => r.settled))),
      accept_batch: round1(batch),
      commits_per_message: round1(median(runs.map((r) => r.commitsPerMessage)) * 100) / 100,
    });
  }

  const mine: number[] = [];
  const batches: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const run = await storeRun("normal");
    mine.push(run.accepted);
    batches.push(run.recordsPerCommit);
    base.push(await raw("normal", run.recordsPerCommit));
  }
  const value = median(mine);
  const baseline = median(base);
  const batch = median(batches);
  emit({
    bench: "store.mail_accept_per_s",
    value,
    unit: "records/s",
    baseline: baselineText(batch),
    baseline_value: baseline,
    ratio: value / baseline,
    goal: `>= ${GOAL} records/s`,
    pass: value >= GOAL,
    synchronous: "normal",
    concurrency: CONCURRENCY,
    accept_batch: round1(batch),
  });
}

if (process.argv[2] === "client") {
  const [socketPath = "", warmup, messages, concurrency] = process.argv.slice(3);
  await client(socketPath, Number(warmup), Number(messages), Number(concurrency));
} else {
  await main();
}

// Saga overhead per step: journaling intent and result around a dispatch to a
// no-op dispatcher, at synchronous NORMAL and FULL. The same-run baseline is
// the floor of any durable step journal: two raw better-sqlite3 autocommit
// writes (insert the intent, update it with the result) per step, same mode.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BusEvent } from "@agentmux/common-ipc";
import { SagaLog, SagaRunner } from "@agentmux/saga";
import Database from "better-sqlite3";
import { emit, median } from "./lib.ts";

const STEPS_PER_SAGA = 10;
const ROUNDS = 5;

function sagasFor(sync: "normal" | "full"): number {
  return sync === "normal" ? 300 : 60;
}

async function ours(sync: "normal" | "full"): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "bench-saga-"));
  const log = await SagaLog.open(join(dir, "sagas.db"), { synchronous: sync });
  await log.migrate();
  const noop = async (): Promise<BusEvent[]> => [];
  const runner = await SagaRunner.create({ log, dispatch: noop, publish: () => {} });
  const steps = Array.from({ length: STEPS_PER_SAGA }, (_, i) => () => ({ cmd: "ping" as const, nonce: i }));
  const sagas = sagasFor(sync);
  const start = process.hrtime.bigint();
  for (let s = 0; s < sagas; s++) await runner.run({ name: "bench", steps });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return ms / (sagas * STEPS_PER_SAGA);
}

function raw(sync: "normal" | "full"): number {
  const dir = mkdtempSync(join(tmpdir(), "bench-saga-raw-"));
  const db = new Database(join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync.toUpperCase()}`);
  db.exec("CREATE TABLE step (saga INTEGER, idx INTEGER, state TEXT, cmd TEXT, out TEXT, PRIMARY KEY (saga, idx))");
  const intent = db.prepare("INSERT INTO step (saga, idx, state, cmd) VALUES (?, ?, 'pending', ?)");
  const result = db.prepare("UPDATE step SET state = 'succeeded', out = ? WHERE saga = ? AND idx = ?");
  const sagas = sagasFor(sync);
  const start = process.hrtime.bigint();
  for (let s = 0; s < sagas; s++) {
    for (let i = 0; i < STEPS_PER_SAGA; i++) {
      intent.run(s, i, `{"cmd":"ping","nonce":${i}}`);
      result.run("[]", s, i);
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return ms / (sagas * STEPS_PER_SAGA);
}

for (const sync of ["normal", "full"] as const) {
  const mine: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    base.push(raw(sync));
    mine.push(await ours(sync));
  }
  const value = median(mine);
  const baseline = median(base);
  emit({
    bench: `saga.step_overhead_ms_${sync}`,
    value,
    unit: "ms/step",
    baseline: "two raw better-sqlite3 autocommit writes per step (intent + result), same synchronous mode",
    baseline_value: baseline,
    ratio: value / baseline,
    goal: sync === "normal" ? "value<=1" : "report",
    pass: sync === "normal" ? value <= 1 : true,
  });
}

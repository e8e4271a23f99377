// Boot: rebuild the reducer state from a store holding 100k objects and 1M
// logged events, starting from the newest snapshot and replaying the 10k
// events after it. The same-run baseline is the same rebuild from a store
// with the same 100k objects and the same 10k-event tail but only ~110k
// events of history: equal times mean boot grows with the events since the
// snapshot, not with total history. A third figure replays a 100k-event tail
// from the big store (for information: that is what grows).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BusEvent } from "@agentmux/common-ipc";
import { type ReducerState, stateFromJson, stateToJson } from "@agentmux/reducer";
import { openStore } from "@agentmux/store";
import { emit, median, mulberry32 } from "./lib.ts";
import { EventSource } from "./world.ts";

const OBJECTS = 100_000;
const ROUNDS = 3;

function clone(state: ReducerState): ReducerState {
  const r = stateFromJson(stateToJson(state));
  if (!r.ok) throw new Error(r.error);
  return r.state;
}

/** A store with 100k blocks, then `updates` meta updates; snapshots taken `tails` events before the end. */
async function build(updates: number, tail: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "bench-boot-"));
  const store = await openStore({ dataDir: dir });
  await store.migrate();
  const src = new EventSource();
  let pending: BusEvent[] = [];
  const flush = async () => {
    await store.objects.applyEvents(pending);
    pending = [];
  };
  const push = async (events: BusEvent[]) => {
    pending.push(...events);
    if (pending.length >= 5000) await flush();
  };
  const blocks: string[] = [];
  for (let w = 0; w < OBJECTS / 1000; w++) {
    for (const tab of src.workspace(10)) {
      for (let b = 0; b < 100; b++) {
        const events = src.run({ cmd: "create_block", tab_id: tab, meta: { view: "agent", n: b } });
        blocks.push((events[0] as { block_id: string }).block_id);
        await push(events);
      }
    }
  }
  const rand = mulberry32(11);
  let snapshot: ReducerState | undefined;
  for (let i = 0; i < updates; i++) {
    if (i === updates - tail) snapshot = clone(src.state);
    const block = blocks[Math.floor(rand() * blocks.length)] as string;
    await push(src.run({ cmd: "update_block_meta", block_id: block, meta_patch: { "session:turn": i } }));
  }
  await flush();
  await store.objects.writeSnapshot(snapshot ?? src.state, { retainEvents: Number.MAX_SAFE_INTEGER });
  await store.close();
  return dir;
}

async function boot(dir: string): Promise<number> {
  const start = process.hrtime.bigint();
  const store = await openStore({ dataDir: dir });
  const state = await store.objects.loadState();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (state.blocks.size !== OBJECTS) throw new Error(`rebuilt ${state.blocks.size} blocks`);
  await store.close();
  return ms;
}

process.stderr.write("building stores (1M events)…\n");
const big = await build(1_000_000 - OBJECTS, 10_000);
const small = await build(10_000, 10_000);
const bigLongTail = await build(1_000_000 - OBJECTS, 100_000);
const bigTimes: number[] = [];
const smallTimes: number[] = [];
const tailTimes: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  smallTimes.push(await boot(small));
  bigTimes.push(await boot(big));
  tailTimes.push(await boot(bigLongTail));
}
const value = median(bigTimes);
const baseline = median(smallTimes);
emit({
  bench: "store.boot_ms_1m_events_10k_tail",
  value,
  unit: "ms",
  baseline: "same 100k objects and 10k tail, ~110k events of history",
  baseline_value: baseline,
  ratio: value / baseline,
  goal: "value<=1000 && ratio<=1.5",
  pass: value <= 1000 && value / baseline <= 1.5,
});
emit({
  bench: "store.boot_ms_1m_events_100k_tail",
  value: median(tailTimes),
  unit: "ms",
  baseline: "the 10k-tail boot of the same history",
  baseline_value: value,
  ratio: median(tailTimes) / value,
  goal: "report",
  pass: true,
});
for (const d of [big, small, bigLongTail]) rmSync(d, { recursive: true, force: true });

// Cold start: process spawn to the AGENTMUXSRV-ESTART line, against `node -e 0`
// spawned the same way in the same run. Three cases: a new data dir (create
// the databases, migrate, initial data), a restart on an existing empty
// store, and a restart on a store holding 1M logged events.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BusEvent } from "@agentmux/common-ipc";
import { openStore } from "@agentmux/store";
import { emit, median } from "./lib.ts";
import { cleanup, startSrv } from "./srv.ts";
import { EventSource } from "./world.ts";

const RUNS = 9;

async function nodeBaseline(): Promise<number> {
  const start = process.hrtime.bigint();
  await new Promise((r) => spawn(process.execPath, ["-e", "0"], { stdio: "ignore" }).once("exit", r));
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function startOnce(dataDir?: string): Promise<number> {
  const srv = await startSrv(dataDir);
  await srv.stop();
  if (dataDir === undefined) cleanup(srv.dataDir);
  return srv.startMs;
}

/**
 * A data dir whose store holds 100k blocks and `events` logged events in all
 * (the rest are meta updates), with a snapshot near the end, as srv writes them.
 */
async function bigStore(events: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "bench-cold-"));
  const store = await openStore({ dataDir: dir });
  await store.migrate();
  await store.objects.ensureInitialData({ newId: () => crypto.randomUUID(), now: "t" });
  const src = new EventSource();
  src.state = await store.objects.loadState();
  const tabs = src.workspace(100);
  const blocks: string[] = [];
  let batch: BusEvent[] = [];
  const flush = async () => {
    await store.objects.applyEvents(batch);
    batch = [];
  };
  for (let i = 0; src.state.version < events; i++) {
    const events_ =
      blocks.length < 100_000
        ? src.run({ cmd: "create_block", tab_id: tabs[i % tabs.length] as string, meta: { n: i } })
        : src.run({ cmd: "update_block_meta", block_id: blocks[i % blocks.length] as string, meta_patch: { n: i } });
    for (const ev of events_) if (ev.event === "block_created") blocks.push(ev.block_id);
    batch.push(...events_);
    if (batch.length >= 5000) await flush();
  }
  await flush();
  await store.objects.writeSnapshot(src.state, { retainEvents: Number.MAX_SAFE_INTEGER });
  await store.close();
  return dir;
}

const baseline: number[] = [];
const fresh: number[] = [];
const restart: number[] = [];
const big: number[] = [];
const emptyDir = mkdtempSync(join(tmpdir(), "bench-cold-empty-"));
await startOnce(emptyDir); // create and migrate once
process.stderr.write("building a store with 1M events…\n");
const bigDir = await bigStore(1_000_000);
for (let r = 0; r < RUNS; r++) {
  baseline.push(await nodeBaseline());
  fresh.push(await startOnce());
  restart.push(await startOnce(emptyDir));
  big.push(await startOnce(bigDir));
}
const base = median(baseline);
emit({
  bench: "srv.cold_start_ms_new_data_dir",
  value: median(fresh),
  unit: "ms",
  baseline: "node -e 0",
  baseline_value: base,
  ratio: median(fresh) / base,
  goal: "value<=134",
  pass: median(fresh) <= 134,
});
emit({
  bench: "srv.cold_start_ms_empty_store",
  value: median(restart),
  unit: "ms",
  baseline: "node -e 0",
  baseline_value: base,
  ratio: median(restart) / base,
  goal: "value<=134",
  pass: median(restart) <= 134,
});
emit({
  bench: "srv.cold_start_ms_1m_events",
  value: median(big),
  unit: "ms",
  baseline: "the empty-store start, same run",
  baseline_value: median(restart),
  ratio: median(big) / median(restart),
  goal: "ratio<=2",
  pass: median(big) / median(restart) <= 2,
});
cleanup(emptyDir);
cleanup(bigDir);

// Event persistence: events/s through ObjectStore.applyEvents at batch sizes
// 1, 16 and 256, against raw better-sqlite3 prepared inserts of the same
// event JSON, one transaction per batch, in the same run and the same mode
// (WAL, synchronous NORMAL).
//
// The workload is what a busy srv writes: agent status updates on the blocks
// of the 20 most recent agents (40%), agents opened (10%) and closed (10%)
// so that each of the 10 tabs holds a screenful of at most 8 blocks, pings
// (20%), tab renames and active-tab switches (20%). A second figure sends
// the meta updates to blocks picked uniformly from all blocks ever created:
// every update then dirties its own B-tree page, which no database escapes;
// it is reported for information.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BusEvent } from "@agentmux/common-ipc";
import { openStore } from "@agentmux/store";
import Database from "better-sqlite3";
import { emit, median, mulberry32 } from "./lib.ts";
import { EventSource } from "./world.ts";

const EVENTS = 40_000;
const ROUNDS = 7;

function workload(hot: boolean): BusEvent[] {
  const src = new EventSource();
  const tabs = src.workspace(10);
  const rand = mulberry32(3);
  const blocks: string[] = [];
  const events: BusEvent[] = [];
  while (events.length < EVENTS) {
    const tab = tabs[Math.floor(rand() * tabs.length)] as string;
    const r = rand();
    const inTab = src.state.tabs.get(tab)?.blockIds ?? [];
    if (blocks.length === 0 || r < 0.1 || (r < 0.2 && inTab.length >= 8)) {
      if (inTab.length >= 8)
        events.push(...src.run({ cmd: "delete_block", tab_id: tab, block_id: inTab[0] as string }));
      const [ev] = src.run({ cmd: "create_block", tab_id: tab, meta: { view: "agent", "agent:provider": "claude" } });
      if (ev?.event === "block_created") blocks.push(ev.block_id);
      events.push(ev as BusEvent);
    } else if (r < 0.2) {
      const [victim] = inTab;
      events.push(
        ...(victim
          ? src.run({ cmd: "delete_block", tab_id: tab, block_id: victim })
          : src.run({ cmd: "ping", nonce: 0 })),
      );
    } else if (r < 0.6) {
      const live = blocks.filter((b) => src.state.blocks.has(b));
      const pool = hot ? live.slice(-20) : live;
      const block = pool[Math.floor(rand() * pool.length)] as string;
      events.push(
        ...src.run({ cmd: "update_block_meta", block_id: block, meta_patch: { "session:turn": events.length } }),
      );
    } else if (r < 0.8) {
      events.push(...src.run({ cmd: "ping", nonce: events.length }));
    } else if (r < 0.9) {
      events.push(...src.run({ cmd: "rename_tab", tab_id: tab, name: `t${events.length}` }));
    } else {
      const ws = src.state.tabs.get(tab)?.workspaceId as string;
      events.push(...src.run({ cmd: "set_active_tab", workspace_id: ws, tab_id: tab }));
    }
  }
  return events;
}

async function ours(events: BusEvent[], batch: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "bench-persist-"));
  const store = await openStore({ dataDir: dir });
  await store.migrate();
  const start = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += batch) await store.objects.applyEvents(events.slice(i, i + batch));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return events.length / seconds;
}

function raw(events: BusEvent[], batch: number): number {
  const dir = mkdtempSync(join(tmpdir(), "bench-raw-"));
  const db = new Database(join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE event_log (version INTEGER PRIMARY KEY, kind TEXT NOT NULL, data TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO event_log (version, kind, data) VALUES (?, ?, ?)");
  const many = db.transaction((slice: BusEvent[]) => {
    for (const e of slice) insert.run(e.version, e.event, JSON.stringify(e));
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += batch) many(events.slice(i, i + batch));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return events.length / seconds;
}

for (const [variant, events] of [
  ["", workload(true)],
  ["_uniform", workload(false)],
] as const) {
  for (const batch of variant === "" ? [1, 16, 256] : [256]) {
    const mine: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      base.push(raw(events, batch));
      mine.push(await ours(events, batch));
    }
    const value = median(mine);
    const baseline = median(base);
    const goal = batch === 256 && variant === "";
    emit({
      bench: `store.apply_events_per_s_batch_${batch}${variant}`,
      value,
      unit: "events/s",
      baseline: "raw better-sqlite3 prepared inserts of the same event JSON, one transaction per batch",
      baseline_value: baseline,
      ratio: value / baseline,
      goal: goal ? "ratio>=0.5" : "report",
      pass: goal ? value / baseline >= 0.5 : true,
    });
  }
}

// Run a multi-step operation as a saga over real stores, then make one fail and watch it undo itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decide, evolve } from "@agentmux/reducer";
import { compensateUnresolved, SagaLog, SagaRunner } from "@agentmux/saga";
import { openStore } from "@agentmux/store";

const dataDir = mkdtempSync(join(tmpdir(), "agentmux-saga-example-"));
const store = await openStore({ dataDir });
await store.migrate();
const log = await SagaLog.open(join(dataDir, "db", "sagas.db"));
await log.migrate();

let n = 0;
const ctx = { now: new Date().toISOString(), newId: () => `id-${++n}`, registeredPid: null };
await store.objects.ensureInitialData(ctx);
const state = await store.objects.loadState();

// The dispatcher the saga steps go through: decide, persist, then apply.
async function dispatch(cmd) {
  const events = decide(state, cmd, ctx);
  await store.objects.applyEvents(events);
  for (const ev of events) evolve(state, ev);
  return events;
}
const publish = (draft) => console.log("  event:", draft.event); // srv versions and broadcasts these

// Boot-time recovery first (nothing to do on a fresh data dir).
console.log(
  "recovered:",
  (await compensateUnresolved({ log, dispatch, findEvents: (r) => store.objects.eventsByReqId(r) })).length,
);

const runner = await SagaRunner.create({ log, dispatch, publish });
const [tabId] = state.tabs.keys();
const tearOff = (blockId) => ({
  name: "tear_off_block",
  steps: [
    () => ({ cmd: "create_workspace", name: "" }),
    ([ws]) => ({ cmd: "create_tab", workspace_id: ws[0].workspace_id, name: "" }),
    ([, tab]) => ({ cmd: "move_block", block_id: blockId, src_tab_id: tabId, dst_tab_id: tab[0].tab_id, dst_index: 0 }),
  ],
});

const [created] = await dispatch({ cmd: "create_block", tab_id: tabId, meta: null });
const ok = await runner.run(tearOff(created.block_id));
console.log("saga", ok.sagaId, ok.state, "workspaces:", state.workspaces.size);

const bad = await runner.run(tearOff("no-such-block"));
console.log("saga", bad.sagaId, bad.state, "-", bad.reason, "workspaces:", state.workspaces.size);
for (const s of await log.steps(bad.sagaId)) console.log(`  step ${s.step_index} ${s.name}: ${s.state}`);

await log.close();
await store.close();
rmSync(dataDir, { recursive: true, force: true });

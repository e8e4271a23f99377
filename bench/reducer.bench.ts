// Reducer throughput: decide + evolve for a mixed command workload, on a state
// holding 1k blocks and on one holding 100k blocks. The cost per command must
// not grow with the size of the state.
//
// Each state spreads its blocks over tabs of 100 blocks, ten tabs a workspace,
// so per-tab and per-workspace work is the same at both sizes: only the number
// of tabs, workspaces and blocks differs.
//
// The workload works on a hot set of ten tabs (1k blocks) at both sizes, as a
// user works on a few agents at a time; the rest of the 100k state is cold.
// This isolates what the goal is about, cost that grows with state size. A
// third figure spreads the same workload uniformly over all 100k blocks: it is
// bound by CPU cache misses on this machine, not by the reducer's algorithms,
// and is reported for information.
import { type Command, type CommandInput, parseCommand } from "@agentmux/common-ipc";
import { type DecideContext, decide, evolve, initialState, type ReducerState } from "@agentmux/reducer";
import { emit, median, mulberry32 } from "./lib.ts";

const BLOCKS_PER_TAB = 100;
const TABS_PER_WORKSPACE = 10;
const WARMUP = 50_000;
const MEASURED = 300_000;
const ROUNDS = 3;

function ids(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

function cmd(input: CommandInput): Command {
  const r = parseCommand(input);
  if (!r.ok) throw r.error;
  return r.value;
}

interface World {
  state: ReducerState;
  ctx: DecideContext;
  tabs: string[];
}

function run(world: World, command: Command): void {
  for (const ev of decide(world.state, command, world.ctx)) evolve(world.state, ev);
}

function build(blocks: number): World {
  const world: World = {
    state: initialState(),
    ctx: { now: "2026-11-21T00:00:00Z", newId: ids(), registeredPid: 1 },
    tabs: [],
  };
  run(world, cmd({ cmd: "register", kind: "tool", pid: 1, version: "bench" }));
  const tabCount = blocks / BLOCKS_PER_TAB;
  let ws = "";
  for (let t = 0; t < tabCount; t++) {
    if (t % TABS_PER_WORKSPACE === 0) {
      const [created] = decide(world.state, cmd({ cmd: "create_workspace", name: `ws${t}` }), world.ctx);
      if (created?.event !== "workspace_created") throw new Error("setup failed");
      evolve(world.state, created);
      ws = created.workspace_id;
    }
    const events = decide(world.state, cmd({ cmd: "create_tab", workspace_id: ws, name: "" }), world.ctx);
    for (const ev of events) evolve(world.state, ev);
    const tab = events[0];
    if (tab?.event !== "tab_created") throw new Error("setup failed");
    world.tabs.push(tab.tab_id);
    for (let b = 0; b < BLOCKS_PER_TAB; b++) run(world, cmd({ cmd: "create_block", tab_id: tab.tab_id, meta: null }));
  }
  return world;
}

/**
 * Produces the workload's commands by playing it once on a scratch world; the
 * measured world is built identically (deterministic ids), so replaying the
 * same commands there does exactly the same work.
 */
function workload(blocks: number, count: number, hotTabs: number): Command[] {
  const world = build(blocks);
  const rand = mulberry32(42);
  const tabs = world.tabs.slice(0, hotTabs);
  const pickTab = () => tabs[Math.floor(rand() * tabs.length)] as string;
  const created: string[] = [];
  const out: Command[] = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    const tab = pickTab();
    const t = world.state.tabs.get(tab);
    if (!t) throw new Error("missing tab");
    const block = t.blockIds[Math.floor(rand() * t.blockIds.length)];
    let c: Command;
    if (r < 0.1) c = cmd({ cmd: "ping", nonce: i });
    else if (r < 0.25) c = cmd({ cmd: "create_block", tab_id: tab, meta: { view: "agent" } });
    else if (r < 0.45 && block) c = cmd({ cmd: "update_block_meta", block_id: block, meta_patch: { n: i } });
    else if (r < 0.6 && block) {
      // Move to a neighbouring tab of the same workspace (or within the tab).
      const ws = world.state.workspaces.get(t.workspaceId);
      const dst = ws?.tabIds[Math.floor(rand() * ws.tabIds.length)] ?? tab;
      c = cmd({
        cmd: "move_block",
        block_id: block,
        src_tab_id: tab,
        dst_tab_id: dst,
        dst_index: Math.floor(rand() * 50),
      });
    } else if (r < 0.7) c = cmd({ cmd: "rename_tab", tab_id: tab, name: `t${i}` });
    else if (r < 0.8) c = cmd({ cmd: "set_active_tab", workspace_id: t.workspaceId, tab_id: tab });
    else if (r < 0.95 && created.length > 0) {
      // As many deletes as creates, so tabs keep their size and both states stay comparable.
      const victim = created.splice(Math.floor(rand() * created.length), 1)[0] as string;
      const owner = world.state.blocks.get(victim) ?? tab;
      c = cmd({ cmd: "delete_block", tab_id: owner, block_id: victim });
    } else
      c = cmd({ cmd: "reorder_tab", workspace_id: t.workspaceId, tab_id: tab, new_index: Math.floor(rand() * 10) });
    for (const ev of decide(world.state, c, world.ctx)) {
      evolve(world.state, ev);
      if (ev.event === "block_created") created.push(ev.block_id);
    }
    out.push(c);
  }
  return out;
}

/** Commands per second over the measured part of the workload, on a fresh world. */
function measure(blocks: number, commands: Command[]): number {
  const world = build(blocks);
  for (let i = 0; i < WARMUP; i++) run(world, commands[i] as Command);
  // Let the collector finish with the build's garbage before the clock starts.
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.hrtime.bigint();
  for (let i = WARMUP; i < commands.length; i++) run(world, commands[i] as Command);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (commands.length - WARMUP) / seconds;
}

const HOT_TABS = 10;
const small = workload(1_000, WARMUP + MEASURED, HOT_TABS);
const large = workload(100_000, WARMUP + MEASURED, HOT_TABS);
const uniform = workload(100_000, WARMUP + MEASURED, 100_000 / BLOCKS_PER_TAB);
const smallRates: number[] = [];
const largeRates: number[] = [];
const uniformRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Interleaved so that machine noise hits every variant alike.
  smallRates.push(measure(1_000, small));
  largeRates.push(measure(100_000, large));
  uniformRates.push(measure(100_000, uniform));
}
const at1k = median(smallRates);
const at100k = median(largeRates);
const atUniform = median(uniformRates);

emit({
  bench: "reducer.mixed_cmds_per_s_1k_blocks",
  value: Math.round(at1k),
  unit: "commands/s",
  baseline: "same workload on 100k blocks",
  baseline_value: Math.round(at100k),
  ratio: at1k / at100k,
  goal: "value>=500000",
  pass: at1k >= 500_000,
});
const costRatio = at1k / at100k; // cost per command at 100k over cost at 1k
emit({
  bench: "reducer.mixed_cmds_per_s_100k_blocks",
  value: Math.round(at100k),
  unit: "commands/s",
  baseline: "same workload on 1k blocks (ratio = per-command cost 100k/1k)",
  baseline_value: Math.round(at1k),
  ratio: costRatio,
  goal: "value>=500000 && ratio<=1.5",
  pass: at100k >= 500_000 && costRatio <= 1.5,
});
emit({
  bench: "reducer.mixed_cmds_per_s_100k_blocks_uniform",
  value: Math.round(atUniform),
  unit: "commands/s",
  baseline: "same workload on 1k blocks (ratio = per-command cost; cache-bound, for information)",
  baseline_value: Math.round(at1k),
  ratio: at1k / atUniform,
  goal: "value>=500000",
  pass: atUniform >= 500_000,
});

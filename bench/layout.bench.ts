// Layout throughput: decide + evolve for layout commands on a tab whose tree holds 64 tiles
// (a mix of inserts, splits, resizes, moves and deletes that keeps it at 63-64 leaves),
// against the reducer's non-layout commands (block meta, renames, active tab, create and
// delete of blocks, pings) on a state of the same size, measured in the same run, rounds
// interleaved so that machine noise hits both alike. Goal: layout ≥ 0.5× the non-layout rate.
import { type Command, type CommandInput, parseCommand } from "@agentmux/common-ipc";
import { type DecideContext, decide, evolve, initialState, layout, type ReducerState } from "@agentmux/reducer";
import { emit, median, mulberry32 } from "./lib.ts";

const LEAVES = 64;
const WARMUP = 20_000;
const MEASURED = 100_000;
const ROUNDS = 5;

function cmd(input: CommandInput): Command {
  const r = parseCommand(input);
  if (!r.ok) throw r.error;
  return r.value;
}

interface World {
  state: ReducerState;
  ctx: DecideContext;
  tab: string;
  workspace: string;
}

function run(world: World, command: Command): void {
  for (const ev of decide(world.state, command, world.ctx)) evolve(world.state, ev);
}

/** One workspace, one tab with 64 blocks, each with its tile (ids are deterministic). */
function build(): World {
  let n = 0;
  const world: World = {
    state: initialState(),
    ctx: { now: "2026-11-30T00:00:00Z", newId: () => `id-${++n}`, registeredPid: 1 },
    tab: "",
    workspace: "",
  };
  const [ws] = decide(world.state, cmd({ cmd: "create_workspace", name: "w" }), world.ctx);
  if (ws?.event !== "workspace_created") throw new Error("setup failed");
  evolve(world.state, ws);
  world.workspace = ws.workspace_id;
  const events = decide(world.state, cmd({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" }), world.ctx);
  for (const ev of events) evolve(world.state, ev);
  const tab = events[0];
  if (tab?.event !== "tab_created") throw new Error("setup failed");
  world.tab = tab.tab_id;
  for (let i = 0; i < LEAVES; i++) run(world, cmd({ cmd: "create_block", tab_id: world.tab, tile: {} }));
  if (layout.leaves(world.state.layouts.get(world.tab)?.tree ?? null).length !== LEAVES)
    throw new Error("setup failed");
  return world;
}

/** The layout workload, played once on a scratch world so that each command is valid where it runs. */
function layoutWorkload(count: number): Command[] {
  const world = build();
  const rand = mulberry32(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const out: Command[] = [];
  let fresh = 0;
  /** A block whose tile was deleted, waiting to be put back by an insert or a split. */
  let loose: string | null = null;
  while (out.length < count) {
    const tree = world.state.layouts.get(world.tab)?.tree ?? null;
    const nodes = [...layout.walk(tree)];
    const leaves = nodes.filter(layout.isLeaf);
    const groups = nodes.filter(layout.isGroup);
    const r = rand();
    let c: Command;
    if (loose !== null) {
      const node = { id: `f${++fresh}`, flexDirection: "row" as const, size: 10, data: { blockId: loose } };
      c =
        r < 0.5
          ? cmd({ cmd: "layout_insert_node", tab_id: world.tab, node, focus_after: false, magnify_after: false })
          : cmd({
              cmd: r < 0.75 ? "layout_split_horizontal" : "layout_split_vertical",
              tab_id: world.tab,
              target_id: pick(leaves).id,
              new_node: node,
              position: r < 0.6 ? "before" : "after",
              focus_after: true,
            });
      loose = null;
    } else if (r < 0.35) {
      const leaf = pick(leaves);
      loose = leaf.data?.blockId ?? null;
      c = cmd({ cmd: "layout_delete_node", tab_id: world.tab, node_id: leaf.id });
    } else if (r < 0.7) {
      const ops = [pick(nodes), pick(nodes)].map((n) => ({ node_id: n.id, size: 5 + Math.floor(rand() * 30) }));
      c = cmd({ cmd: "layout_resize_nodes", tab_id: world.tab, ops });
    } else {
      const leaf = pick(leaves);
      const parent = pick(groups);
      c = cmd({ cmd: "layout_move_node", tab_id: world.tab, node_id: leaf.id, new_parent_id: parent.id, index: 0 });
    }
    const events = decide(world.state, c, world.ctx);
    if (events.some((e) => e.event === "error")) {
      if (c.cmd === "layout_delete_node") loose = null;
      continue; // e.g. a move into the node's own subtree: not part of the workload
    }
    for (const ev of events) evolve(world.state, ev);
    out.push(c);
  }
  return out;
}

/** The non-layout workload on the same world: no tiles involved. */
function plainWorkload(count: number): Command[] {
  const world = build();
  const rand = mulberry32(42);
  const made: string[] = [];
  const out: Command[] = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    const blocks = world.state.tabs.get(world.tab)?.blockIds ?? [];
    let c: Command;
    if (r < 0.15) c = cmd({ cmd: "ping", nonce: i });
    else if (r < 0.3) c = cmd({ cmd: "create_block", tab_id: world.tab, meta: { view: "agent" } });
    else if (r < 0.6)
      c = cmd({
        cmd: "update_block_meta",
        block_id: blocks[Math.floor(rand() * blocks.length)] ?? "",
        meta_patch: { n: i },
      });
    else if (r < 0.75) c = cmd({ cmd: "rename_tab", tab_id: world.tab, name: `t${i}` });
    else if (r < 0.85 || made.length === 0)
      c = cmd({ cmd: "set_active_tab", workspace_id: world.workspace, tab_id: world.tab });
    else c = cmd({ cmd: "delete_block", tab_id: world.tab, block_id: made.splice(0, 1)[0] as string });
    for (const ev of decide(world.state, c, world.ctx)) {
      evolve(world.state, ev);
      if (ev.event === "block_created") made.push(ev.block_id);
    }
    out.push(c);
  }
  return out;
}

/** Commands per second over the measured part, on a fresh world. */
function measure(commands: Command[]): number {
  const world = build();
  for (let i = 0; i < WARMUP; i++) run(world, commands[i] as Command);
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.hrtime.bigint();
  for (let i = WARMUP; i < commands.length; i++) run(world, commands[i] as Command);
  return (commands.length - WARMUP) / (Number(process.hrtime.bigint() - start) / 1e9);
}

const layoutCmds = layoutWorkload(WARMUP + MEASURED);
const plainCmds = plainWorkload(WARMUP + MEASURED);
const layoutRates: number[] = [];
const plainRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  layoutRates.push(measure(layoutCmds));
  plainRates.push(measure(plainCmds));
}
const rate = median(layoutRates);
const base = median(plainRates);
const mix = Object.fromEntries(
  Object.entries(
    layoutCmds.slice(WARMUP).reduce<Record<string, number>>((acc, c) => {
      acc[c.cmd] = (acc[c.cmd] ?? 0) + 1;
      return acc;
    }, {}),
  ).map(([k, v]) => [`mix_${k}`, v]),
);
emit({
  bench: "layout.ops_per_s_64_leaves",
  value: Math.round(rate),
  unit: "commands/s",
  baseline: "the reducer's non-layout commands on the same state",
  baseline_value: Math.round(base),
  ratio: rate / base,
  goal: "ratio>=0.5",
  pass: rate / base >= 0.5,
  ...mix,
});

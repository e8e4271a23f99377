import { type BusEvent, type CommandInput, type LayoutNode, parseEvent } from "@agentmux/common-ipc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkInvariants,
  decide,
  evolve,
  evolveAll,
  initialState,
  type ReducerState,
  stateFromJson,
  stateToJson,
} from "../src/index.js";
import * as layout from "../src/layout/index.js";
import { command, counterIds, deepFreeze } from "./harness.js";

/** An abstract step: which command, and numbers used to pick ids from the state at run time. */
const step = fc.record({
  kind: fc.constantFrom(
    "register",
    "goodbye",
    "ping",
    "get_srv_snapshot",
    "create_workspace",
    "create_workspace",
    "delete_workspace",
    "rename_workspace",
    "update_workspace_meta",
    "create_tab",
    "create_tab",
    "create_tab",
    "create_tab",
    "delete_tab",
    "set_active_tab",
    "reorder_tab",
    "reorder_tabs_bulk",
    "rename_tab",
    "update_tab_meta",
    "move_tab",
    "move_tab",
    "create_block",
    "create_block",
    "create_block",
    "create_block",
    "delete_block",
    "update_block_meta",
    "move_block",
    "move_block",
    "create_window",
    "close_window_internal",
    "switch_workspace",
    "update_window_meta",
    "layout_clear",
    // The layout vocabulary, weighted so that tabs grow real trees.
    "create_block_with_tile",
    "create_block_with_tile",
    "create_block_with_tile",
    "layout_insert_node",
    "layout_insert_node",
    "layout_insert_node_at_index",
    "set_focused_node",
    "set_magnified_node",
    "layout_delete_node",
    "layout_delete_node_by_block",
    "layout_move_node",
    "layout_move_node",
    "layout_swap_nodes",
    "layout_resize_nodes",
    "layout_replace_node",
    "layout_split_horizontal",
    "layout_split_vertical",
    "layout_set_tree",
    "layout_queue_backend_actions",
  ),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  flag: fc.boolean(),
  name: fc.constantFrom("", "x", "Main", "ü 🎉"),
  unknown: fc.integer({ min: 0, max: 9 }),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function pick(ids: string[], n: number, unknown: number): string {
  // One time in ten refer to something that does not exist.
  if (ids.length === 0 || unknown === 0) return `missing-${n % 3}`;
  return ids[n % ids.length] as string;
}

function toCommand(state: ReducerState, s: Step): CommandInput {
  const ws = [...state.workspaces.keys()];
  const tabs = [...state.tabs.keys()];
  const blocks = [...state.blocks.keys()];
  const windows = [...state.windows.keys()];
  const W = (n: number) => pick(ws, n, s.unknown);
  const T = (n: number) => pick(tabs, n, s.unknown);
  const B = (n: number) => pick(blocks, n, s.unknown);
  const pid = 100 + (s.a % 4);
  switch (s.kind) {
    case "register":
      return { cmd: "register", kind: "tool", pid, version: "v" };
    case "goodbye":
    case "ping":
      return s.kind === "ping" ? { cmd: "ping", nonce: s.a } : { cmd: "goodbye" };
    case "get_srv_snapshot":
      return { cmd: "get_srv_snapshot" };
    case "create_workspace":
      return { cmd: "create_workspace", name: s.name };
    case "delete_workspace":
      return { cmd: "delete_workspace", workspace_id: W(s.a), force: s.flag };
    case "rename_workspace":
      return { cmd: "rename_workspace", workspace_id: W(s.a), name: s.name };
    case "update_workspace_meta":
      return { cmd: "update_workspace_meta", workspace_id: W(s.a), meta_patch: { k: s.b } };
    case "create_tab":
      return { cmd: "create_tab", workspace_id: W(s.a), name: s.name };
    case "delete_tab": {
      const tab = T(s.b);
      const owner = state.tabs.get(tab)?.workspaceId;
      return { cmd: "delete_tab", workspace_id: s.flag && owner ? owner : W(s.a), tab_id: tab, force: s.c % 2 === 0 };
    }
    case "set_active_tab": {
      const tab = T(s.b);
      return { cmd: "set_active_tab", workspace_id: state.tabs.get(tab)?.workspaceId ?? W(s.a), tab_id: tab };
    }
    case "reorder_tab": {
      const tab = T(s.b);
      return {
        cmd: "reorder_tab",
        workspace_id: state.tabs.get(tab)?.workspaceId ?? W(s.a),
        tab_id: tab,
        new_index: s.c % 6,
      };
    }
    case "reorder_tabs_bulk": {
      const w = W(s.a);
      const list = [...(state.workspaces.get(w)?.tabIds ?? [])];
      // A rotation (valid), or a corrupted list (invalid) when flag is false.
      const rotated = list.length > 0 ? [...list.slice(s.b % list.length), ...list.slice(0, s.b % list.length)] : list;
      const tab_ids = s.flag ? rotated : [...rotated, T(s.c)];
      return { cmd: "reorder_tabs_bulk", workspace_id: w, tab_ids };
    }
    case "rename_tab":
      return { cmd: "rename_tab", tab_id: T(s.a), name: s.name };
    case "update_tab_meta":
      return { cmd: "update_tab_meta", tab_id: T(s.a), meta_patch: { k: null } };
    case "move_tab": {
      const tab = T(s.a);
      const src = s.flag ? (state.tabs.get(tab)?.workspaceId ?? W(s.b)) : W(s.b);
      return { cmd: "move_tab", tab_id: tab, src_workspace_id: src, dst_workspace_id: W(s.c), dst_index: s.b % 5 };
    }
    case "create_block":
      return { cmd: "create_block", tab_id: T(s.a), meta: s.flag ? { view: "agent" } : null };
    case "delete_block": {
      const block = B(s.a);
      return { cmd: "delete_block", tab_id: s.flag ? (state.blocks.get(block) ?? T(s.b)) : T(s.b), block_id: block };
    }
    case "update_block_meta":
      return { cmd: "update_block_meta", block_id: B(s.a), meta_patch: { "p:*": true } };
    case "move_block": {
      const block = B(s.a);
      const src = s.flag ? (state.blocks.get(block) ?? T(s.b)) : T(s.b);
      return { cmd: "move_block", block_id: block, src_tab_id: src, dst_tab_id: T(s.c), dst_index: s.b % 5 };
    }
    case "create_window":
      return { cmd: "create_window", window_id: `win-${s.a % 4}`, workspace_id: W(s.b) };
    case "close_window_internal":
      return { cmd: "close_window_internal", window_id: pick(windows, s.a, s.unknown) };
    case "switch_workspace":
      return { cmd: "switch_workspace", window_id: pick(windows, s.a, s.unknown), workspace_id: W(s.b) };
    case "update_window_meta":
      return { cmd: "update_window_meta", window_id: pick(windows, s.a, s.unknown), meta_patch: {} };
    case "layout_clear":
      return { cmd: "layout_clear", tab_id: T(s.a) };
    default:
      return layoutCommand(state, s, T);
  }
}

/** A layout command on tab T(a): node ids picked from its tree, new tiles for its blocks that have none. */
function layoutCommand(state: ReducerState, s: Step, T: (n: number) => string): CommandInput {
  // Mostly a tab that already has a tree, so that trees grow deep enough for moves and swaps.
  const tiled = [...state.layouts.keys()];
  const tab_id = s.unknown >= 4 && tiled.length > 0 ? pick(tiled, s.a, 9) : T(s.a);
  const tree = state.layouts.get(tab_id)?.tree ?? null;
  const nodes = [...layout.walk(tree)].map((n) => n.id);
  const N = (n: number) => pick(nodes, n, s.unknown);
  const shown = new Set(layout.leafBlockIds(tree));
  const untiled = (state.tabs.get(tab_id)?.blockIds ?? []).filter((b) => !shown.has(b));
  // A fresh node for a block of the tab without a tile (or, now and then, for any block: refused).
  const blockId = s.unknown === 1 ? pick([...state.blocks.keys()], s.c, 9) : pick(untiled, s.c, s.unknown);
  const fresh: LayoutNode = {
    id: `n${state.version}-${s.c % 7}`,
    flexDirection: "row",
    size: 1 + (s.b % 20),
    data: { blockId },
  };
  const focus = { focus_after: s.flag, magnify_after: s.b % 5 === 0 };
  const group = nodes.find((id) => layout.isGroup(layout.findNode(tree, id) as LayoutNode));
  switch (s.kind) {
    case "create_block_with_tile": {
      const parent_id = s.unknown === 2 ? N(s.b) : s.unknown === 3 ? (group ?? null) : null;
      return { cmd: "create_block", tab_id, tile: { parent_id, index: parent_id === null ? null : s.c % 4, ...focus } };
    }
    case "layout_insert_node":
      return s.unknown === 3 && group !== undefined
        ? { cmd: "layout_insert_node", tab_id, node: fresh, parent_id: group, index: s.b % 4, ...focus }
        : { cmd: "layout_insert_node", tab_id, node: fresh, ...focus };
    case "layout_insert_node_at_index":
      return {
        cmd: "layout_insert_node_at_index",
        tab_id,
        node: fresh,
        index_arr: tree === null ? [] : [s.b % 3, s.c % 3].slice(0, 1 + (s.a % 2)),
        ...focus,
      };
    case "set_focused_node":
      return { cmd: "set_focused_node", tab_id, node_id: s.flag ? N(s.b) : "" };
    case "set_magnified_node":
      return { cmd: "set_magnified_node", tab_id, node_id: s.flag ? N(s.b) : "" };
    case "layout_delete_node":
      return { cmd: "layout_delete_node", tab_id, node_id: N(s.b) };
    case "layout_delete_node_by_block":
      return { cmd: "layout_delete_node_by_block", tab_id, block_id: pick([...shown], s.b, s.unknown) };
    case "layout_move_node":
      return { cmd: "layout_move_node", tab_id, node_id: N(s.b), new_parent_id: N(s.c), index: s.a % 4 };
    case "layout_swap_nodes":
      return { cmd: "layout_swap_nodes", tab_id, node1_id: N(s.b), node2_id: N(s.c) };
    case "layout_resize_nodes":
      return { cmd: "layout_resize_nodes", tab_id, ops: [{ node_id: N(s.b), size: s.c % 101 }] };
    case "layout_replace_node":
      return { cmd: "layout_replace_node", tab_id, target_id: N(s.b), new_node: fresh, focus_after: s.flag };
    case "layout_split_horizontal":
    case "layout_split_vertical":
      return {
        cmd: s.kind,
        tab_id,
        target_id: N(s.b),
        new_node: fresh,
        position: s.flag ? "before" : "after",
        focus_after: s.c % 2 === 0,
      };
    case "layout_set_tree": {
      // The current tree plus a leaf for a block that may be live, gone or elsewhere: set_tree prunes.
      const extra: LayoutNode = { ...fresh, data: { blockId: s.unknown < 3 ? `gone-${s.c}` : blockId } };
      const given =
        tree === null || !s.flag
          ? s.flag
            ? extra
            : null
          : { id: `r${state.version}`, flexDirection: "row" as const, size: 1, children: [tree, extra] };
      return {
        cmd: "layout_set_tree",
        tab_id,
        new_tree: given,
        slices: {
          focused_node_id: N(s.b),
          magnified_node_id: s.c % 3 === 0 ? N(s.c) : undefined,
          pending_backend_actions: s.a % 2 ? [s.a] : undefined,
        },
      };
    }
    case "layout_queue_backend_actions":
      return { cmd: "layout_queue_backend_actions", tab_id, actions: [{ n: s.b }] };
    default:
      throw new Error(`no command for step ${s.kind}`);
  }
}

interface Run {
  state: ReducerState;
  events: BusEvent[];
}

/** Runs steps; every decide sees a deep-frozen copy of the state, so any mutation throws. */
function runSteps(steps: Step[], check: (state: ReducerState, events: BusEvent[]) => void): Run {
  const state = initialState();
  const all: BusEvent[] = [];
  const newId = counterIds("u");
  let registeredPid: number | null = null;
  for (const s of steps) {
    const cmd = command(toCommand(state, s));
    if (cmd.cmd === "register") registeredPid = cmd.pid;
    const frozen = deepFreeze(structuredClone(state));
    const events = decide(frozen, cmd, { now: "2026-11-21T00:00:00Z", newId, registeredPid });
    for (const ev of events) evolve(state, ev);
    all.push(...events);
    check(state, events);
  }
  return { state, events: all };
}

// Long enough sequences that workspaces fill with tabs and blocks before they are moved and deleted.
const steps = fc.array(step, { minLength: 1, maxLength: 200, size: "max" });

describe("reducer properties over random command sequences", () => {
  it("versions rise by exactly 1 per event, and state.version is the last one", () => {
    fc.assert(
      fc.property(steps, (s) => {
        const { state, events } = runSteps(s, () => {});
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        expect(state.version).toBe(events.length);
      }),
      { numRuns: 300 },
    );
  });

  it("invariants hold after every command", () => {
    fc.assert(
      fc.property(steps, (s) => {
        runSteps(s, (state) => {
          expect(checkInvariants(state)).toEqual([]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("folding the emitted events with evolve from the initial state reproduces the state", () => {
    fc.assert(
      fc.property(steps, (s) => {
        const { state, events } = runSteps(s, () => {});
        const rebuilt = evolveAll(initialState(), structuredClone(events));
        expect(rebuilt).toEqual(state);
        // Map order matters for nothing the wire shows, but list order does: compare the lists exactly.
        for (const [id, ws] of state.workspaces) expect(rebuilt.workspaces.get(id)?.tabIds).toEqual(ws.tabIds);
        for (const [id, t] of state.tabs) expect(rebuilt.tabs.get(id)?.blockIds).toEqual(t.blockIds);
      }),
      { numRuns: 300 },
    );
  });

  it("layouts are folded from the events alone: with every new_tree left out, the state is the same", () => {
    let trees = 0;
    fc.assert(
      fc.property(steps, (s) => {
        const { state, events } = runSteps(s, () => {});
        trees += [...state.layouts.values()].filter((l) => l.tree !== null).length;
        const stripped = events.map((ev) =>
          "new_tree" in ev && ev.event !== "layout_tree_replaced" ? { ...ev, new_tree: null } : ev,
        );
        expect(evolveAll(initialState(), structuredClone(stripped)).layouts).toEqual(state.layouts);
      }),
      { numRuns: 300 },
    );
    // The generator must really build trees for this to mean anything.
    expect(trees).toBeGreaterThan(100);
  });

  it("every emitted event is a valid wire event", () => {
    fc.assert(
      fc.property(steps, (s) => {
        runSteps(s, (_state, events) => {
          for (const ev of events) {
            const r = parseEvent(JSON.parse(JSON.stringify(ev)));
            expect(r).toEqual({ ok: true, value: ev });
          }
        });
      }),
      { numRuns: 100 },
    );
  });

  it("the frozen-state guard really catches mutation", () => {
    const frozen = deepFreeze(structuredClone(initialState()));
    expect(() => frozen.workspaces.set("x", { name: "", tabIds: [], activeTabId: null })).toThrow(TypeError);
    expect(() => {
      frozen.version = 3;
    }).toThrow(TypeError);
  });
});

describe("state serialization", () => {
  it("stateFromJson(stateToJson(s)) rebuilds the same state, through JSON text", () => {
    fc.assert(
      fc.property(steps, (s) => {
        const { state } = runSteps(s, () => {});
        const back = stateFromJson(JSON.parse(JSON.stringify(stateToJson(state))));
        expect(back).toEqual({ ok: true, state });
      }),
      { numRuns: 100 },
    );
    expect(stateFromJson({ lifecycle: "running" }).ok).toBe(false);
    const good = stateToJson(initialState());
    expect(stateFromJson({ ...good, blocks: [["b", ""]] }).ok).toBe(false);
    expect(stateFromJson({ ...good, blocks: [["b"]] }).ok).toBe(false);
    expect(stateFromJson({ ...good, windows: "x" }).ok).toBe(false);
    expect(stateFromJson({ ...good, tabs: [["t", { workspaceId: "w", name: "", blockIds: [1] }]] }).ok).toBe(false);
    expect(stateFromJson({ ...good, blocks: [["b", "t"]] }).ok).toBe(true);
  });
});

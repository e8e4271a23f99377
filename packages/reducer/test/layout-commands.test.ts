import { type BusEvent, type CommandInput, type LayoutNode, serialize } from "@agentmux/common-ipc";
import { describe, expect, it } from "vitest";
import { decide, layout, stateFromJson, stateToJson } from "../src/index.js";
import { command, deepFreeze, Harness } from "./harness.js";

/** A tab with blocks b1…bN, each shown by a leaf n1…nN placed by plain inserts (a row of tiles). */
function tabWithTiles(n: number): { h: Harness; tab: string; blocks: string[] } {
  const h = new Harness();
  const tab = h.tab(h.workspace());
  const blocks: string[] = [];
  for (let i = 1; i <= n; i++) {
    const b = h.block(tab);
    blocks.push(b);
    h.run({ cmd: "layout_insert_node", tab_id: tab, node: tile(`n${i}`, b), focus_after: false, magnify_after: false });
  }
  return { h, tab, blocks };
}

function tile(id: string, blockId: string, size = 10): LayoutNode {
  return { id, flexDirection: "row", size, data: { blockId } };
}

function treeOf(h: Harness, tab: string): layout.LayoutTree {
  return h.state.layouts.get(tab)?.tree ?? null;
}

function sketch(tree: layout.LayoutTree): string {
  if (tree === null) return "∅";
  const s = (n: LayoutNode): string =>
    n.children === undefined ? n.id : `${n.flexDirection === "row" ? "r" : "c"}(${n.children.map(s).join(" ")})`;
  return s(tree);
}

function kinds(events: BusEvent[]): string[] {
  return events.map((e) => e.event);
}

function errorOf(events: BusEvent[]): string {
  const e = events[0];
  if (events.length !== 1 || e?.event !== "error") throw new Error(`expected one error, got ${JSON.stringify(events)}`);
  return e.message;
}

const EVERY_LAYOUT_COMMAND: ((tab: string) => CommandInput)[] = [
  (t) => ({ cmd: "set_focused_node", tab_id: t, node_id: "n" }),
  (t) => ({ cmd: "set_magnified_node", tab_id: t, node_id: "n" }),
  (t) => ({ cmd: "layout_insert_node", tab_id: t, node: tile("n", "b"), focus_after: false, magnify_after: false }),
  (t) => ({
    cmd: "layout_insert_node_at_index",
    tab_id: t,
    node: tile("n", "b"),
    index_arr: [],
    focus_after: false,
    magnify_after: false,
  }),
  (t) => ({ cmd: "layout_delete_node", tab_id: t, node_id: "n" }),
  (t) => ({ cmd: "layout_delete_node_by_block", tab_id: t, block_id: "b" }),
  (t) => ({ cmd: "layout_move_node", tab_id: t, node_id: "n", new_parent_id: "p", index: 0 }),
  (t) => ({ cmd: "layout_swap_nodes", tab_id: t, node1_id: "a", node2_id: "b" }),
  (t) => ({ cmd: "layout_resize_nodes", tab_id: t, ops: [] }),
  (t) => ({ cmd: "layout_replace_node", tab_id: t, target_id: "n", new_node: tile("m", "b"), focus_after: false }),
  (t) => ({
    cmd: "layout_split_horizontal",
    tab_id: t,
    target_id: "n",
    new_node: tile("m", "b"),
    position: "after",
    focus_after: false,
  }),
  (t) => ({
    cmd: "layout_split_vertical",
    tab_id: t,
    target_id: "n",
    new_node: tile("m", "b"),
    position: "before",
    focus_after: false,
  }),
  (t) => ({ cmd: "layout_clear", tab_id: t }),
  (t) => ({ cmd: "layout_set_tree", tab_id: t }),
  (t) => ({ cmd: "layout_queue_backend_actions", tab_id: t, actions: [{ actiontype: "insert" }] }),
];

describe("layout commands (srv-protocol §2)", () => {
  it("every layout command on an unknown tab is an error naming the tab", () => {
    const h = new Harness();
    for (const make of EVERY_LAYOUT_COMMAND) {
      const input = make("no-such-tab");
      expect(errorOf(h.run(input))).toBe(`${input.cmd}: tab not found: no-such-tab`);
    }
    expect(h.state.layouts.size).toBe(0);
  });

  it("inserting into an empty tree makes the node the root, and takes no parent_id or index", () => {
    const h = new Harness();
    const tab = h.tab(h.workspace());
    const b = h.block(tab);
    const node = tile("n1", b);
    expect(
      errorOf(
        h.run({
          cmd: "layout_insert_node",
          tab_id: tab,
          node,
          parent_id: "x",
          focus_after: false,
          magnify_after: false,
        }),
      ),
    ).toBe("layout_insert_node: inserting into an empty tree takes no parent_id or index");
    expect(
      errorOf(
        h.run({ cmd: "layout_insert_node", tab_id: tab, node, index: 0, focus_after: false, magnify_after: false }),
      ),
    ).toBe("layout_insert_node: inserting into an empty tree takes no parent_id or index");
    const events = h.run({ cmd: "layout_insert_node", tab_id: tab, node, focus_after: false, magnify_after: false });
    expect(kinds(events)).toEqual(["layout_node_inserted"]);
    expect(treeOf(h, tab)).toEqual(node);
  });

  it("an explicit parent must be a group that is not minimize-locked", () => {
    const { h, tab, blocks } = tabWithTiles(2);
    const b3 = h.block(tab);
    const root = treeOf(h, tab);
    const into = (parent_id: string) =>
      h.run({
        cmd: "layout_insert_node",
        tab_id: tab,
        node: tile("n3", b3),
        parent_id,
        focus_after: false,
        magnify_after: false,
      });
    expect(errorOf(into("n1"))).toBe("layout_insert_node: layout node is a leaf, not a group: n1");
    expect(errorOf(into("nope"))).toBe("layout_insert_node: layout node not found: nope");
    // Lock the root group the way the frontend's minimize does, then try again.
    const locked = { ...(root as LayoutNode), minimizedSize: 20 };
    h.run({ cmd: "layout_set_tree", tab_id: tab, new_tree: locked });
    expect(errorOf(into(locked.id))).toBe(`layout_insert_node: layout node is minimize-locked: ${locked.id}`);
    expect(layout.leafBlockIds(treeOf(h, tab))).toEqual(blocks);
  });

  it("a leaf may only show a block of its own tab", () => {
    const { h, tab } = tabWithTiles(1);
    const other = h.tab(h.state.tabs.get(tab)?.workspaceId ?? "");
    const elsewhere = h.block(other);
    const insert = (node: LayoutNode) =>
      h.run({ cmd: "layout_insert_node", tab_id: tab, node, focus_after: false, magnify_after: false });
    expect(errorOf(insert(tile("x", elsewhere)))).toBe(`layout_insert_node: block ${elsewhere} is not in tab ${tab}`);
    expect(errorOf(insert(tile("y", "never-made")))).toBe(`layout_insert_node: block never-made is not in tab ${tab}`);
    const b = h.block(tab);
    expect(errorOf(insert(tile("n1", b)))).toBe("layout_insert_node: layout node id already in the tree: n1");
  });

  it("magnify implies focus: set_magnified_node and magnify_after also move the focus", () => {
    const { h, tab } = tabWithTiles(2);
    const events = h.run({ cmd: "set_magnified_node", tab_id: tab, node_id: "n2" });
    expect(events.map((e) => [e.event, "node_id" in e ? e.node_id : null])).toEqual([
      ["focused_node_changed", "n2"],
      ["magnified_node_changed", "n2"],
    ]);
    expect(h.state.layouts.get(tab)).toMatchObject({ focusedNodeId: "n2", magnifiedNodeId: "n2" });
    // Un-magnifying leaves the focus where it is.
    expect(kinds(h.run({ cmd: "set_magnified_node", tab_id: tab, node_id: "" }))).toEqual(["magnified_node_changed"]);
    expect(h.state.layouts.get(tab)).toMatchObject({ focusedNodeId: "n2", magnifiedNodeId: null });
    const b3 = h.block(tab);
    const inserted = h.run({
      cmd: "layout_insert_node",
      tab_id: tab,
      node: tile("n3", b3),
      focus_after: false,
      magnify_after: true,
    });
    expect(kinds(inserted)).toEqual(["layout_node_inserted", "focused_node_changed", "magnified_node_changed"]);
    expect(h.state.layouts.get(tab)).toMatchObject({ focusedNodeId: "n3", magnifiedNodeId: "n3" });
  });

  it("focus: an unknown node is refused, the same node is a no-op, an empty id clears", () => {
    const { h, tab } = tabWithTiles(2);
    expect(errorOf(h.run({ cmd: "set_focused_node", tab_id: tab, node_id: "zz" }))).toBe(
      "set_focused_node: layout node not found: zz",
    );
    expect(kinds(h.run({ cmd: "set_focused_node", tab_id: tab, node_id: "n1" }))).toEqual(["focused_node_changed"]);
    expect(h.run({ cmd: "set_focused_node", tab_id: tab, node_id: "n1" })).toEqual([]);
    expect(kinds(h.run({ cmd: "set_focused_node", tab_id: tab, node_id: "" }))).toEqual(["focused_node_changed"]);
    expect(h.state.layouts.get(tab)?.focusedNodeId).toBeNull();
    expect(errorOf(h.run({ cmd: "set_magnified_node", tab_id: tab, node_id: "zz" }))).toBe(
      "set_magnified_node: layout node not found: zz",
    );
  });

  it("structural operations balance the tree and clear focus and magnify ids that no longer resolve", () => {
    const { h, tab } = tabWithTiles(2);
    const b3 = h.block(tab);
    // Split n2 across the row: n2 and n3 form a column group.
    h.run({
      cmd: "layout_split_vertical",
      tab_id: tab,
      target_id: "n2",
      new_node: tile("n3", b3),
      position: "after",
      focus_after: false,
    });
    const tree = treeOf(h, tab);
    expect(sketch(tree)).toBe("r(n1 c(n2 n3))");
    const groupId = tree?.children?.[1]?.id ?? "";
    h.run({ cmd: "set_magnified_node", tab_id: tab, node_id: groupId });
    // Deleting n3 leaves the group with one child: balance replaces it by n2, so the group id is gone.
    const events = h.run({ cmd: "layout_delete_node", tab_id: tab, node_id: "n3" });
    expect(kinds(events)).toEqual(["layout_node_deleted"]);
    expect(events[0]).toMatchObject({ was_focused: false, was_magnified: false, tree_cleared: false });
    expect(sketch(treeOf(h, tab))).toBe("r(n1 n2)");
    expect(h.state.layouts.get(tab)).toMatchObject({ focusedNodeId: null, magnifiedNodeId: null });
  });

  it("deleting the root empties the tree (tree_cleared); delete on an empty tree is a silent no-op", () => {
    const { h, tab } = tabWithTiles(1);
    h.run({ cmd: "set_focused_node", tab_id: tab, node_id: "n1" });
    const events = h.run({ cmd: "layout_delete_node", tab_id: tab, node_id: "n1" });
    expect(events[0]).toMatchObject({
      event: "layout_node_deleted",
      new_tree: null,
      tree_cleared: true,
      was_focused: true,
      was_magnified: false,
    });
    expect(h.state.layouts.has(tab)).toBe(false);
    expect(h.run({ cmd: "layout_delete_node", tab_id: tab, node_id: "n1" })).toEqual([]);
  });

  it("delete of a node that is not in a non-empty tree is an error", () => {
    const { h, tab } = tabWithTiles(1);
    expect(errorOf(h.run({ cmd: "layout_delete_node", tab_id: tab, node_id: "zz" }))).toBe(
      "layout_delete_node: layout node not found: zz",
    );
  });

  it("layout_delete_node_by_block removes the block's leaf, and is a silent no-op when there is none", () => {
    const { h, tab, blocks } = tabWithTiles(2);
    const events = h.run({ cmd: "layout_delete_node_by_block", tab_id: tab, block_id: blocks[0] ?? "" });
    expect(events[0]).toMatchObject({ event: "layout_node_deleted", node_id: "n1" });
    expect(sketch(treeOf(h, tab))).toBe("n2");
    expect(h.run({ cmd: "layout_delete_node_by_block", tab_id: tab, block_id: blocks[0] ?? "" })).toEqual([]);
    expect(h.run({ cmd: "layout_delete_node_by_block", tab_id: tab, block_id: "never" })).toEqual([]);
  });

  it("move, swap and resize emit the resulting tree; algebra errors are refused with the node named", () => {
    const { h, tab } = tabWithTiles(3);
    expect(sketch(treeOf(h, tab))).toBe("r(n1 n2 n3)");
    const root = treeOf(h, tab)?.id ?? "";
    const moved = h.run({ cmd: "layout_move_node", tab_id: tab, node_id: "n3", new_parent_id: root, index: 0 });
    expect(kinds(moved)).toEqual(["layout_node_moved"]);
    expect(sketch(treeOf(h, tab))).toBe("r(n3 n1 n2)");
    h.run({ cmd: "layout_swap_nodes", tab_id: tab, node1_id: "n1", node2_id: "n2" });
    expect(sketch(treeOf(h, tab))).toBe("r(n3 n2 n1)");
    const resized = h.run({ cmd: "layout_resize_nodes", tab_id: tab, ops: [{ node_id: "n3", size: 40 }] });
    expect(resized[0]).toMatchObject({ event: "layout_nodes_resized", ops: [{ node_id: "n3", size: 40 }] });
    expect(treeOf(h, tab)?.children?.[0]?.size).toBe(40);
    expect(h.run({ cmd: "layout_resize_nodes", tab_id: tab, ops: [] })).toEqual([]);
    expect(errorOf(h.run({ cmd: "layout_swap_nodes", tab_id: tab, node1_id: "n1", node2_id: "n1" }))).toBe(
      "layout_swap_nodes: cannot swap a node with itself: n1",
    );
    expect(errorOf(h.run({ cmd: "layout_move_node", tab_id: tab, node_id: root, new_parent_id: "n1", index: 0 }))).toBe(
      "layout_move_node: the root cannot be moved",
    );
  });

  it("replace and split focus the new node when asked", () => {
    const { h, tab } = tabWithTiles(2);
    const [b3, b4] = [h.block(tab), h.block(tab)];
    const split = h.run({
      cmd: "layout_split_horizontal",
      tab_id: tab,
      target_id: "n1",
      new_node: tile("n3", b3),
      position: "before",
      focus_after: true,
    });
    expect(kinds(split)).toEqual(["layout_split_horizontal_applied", "focused_node_changed"]);
    expect(sketch(treeOf(h, tab))).toBe("r(n3 n1 n2)");
    const replaced = h.run({
      cmd: "layout_replace_node",
      tab_id: tab,
      target_id: "n3",
      new_node: tile("n4", b4),
      focus_after: true,
    });
    expect(kinds(replaced)).toEqual(["layout_node_replaced", "focused_node_changed"]);
    expect(sketch(treeOf(h, tab))).toBe("r(n4 n1 n2)");
    expect(h.state.layouts.get(tab)?.focusedNodeId).toBe("n4");
  });

  it("layout_clear empties the tree and the focus; on an empty tree it is a no-op", () => {
    const { h, tab } = tabWithTiles(2);
    h.run({ cmd: "set_magnified_node", tab_id: tab, node_id: "n1" });
    expect(kinds(h.run({ cmd: "layout_clear", tab_id: tab }))).toEqual(["layout_cleared"]);
    expect(h.state.layouts.has(tab)).toBe(false);
    expect(h.run({ cmd: "layout_clear", tab_id: tab })).toEqual([]);
  });

  it("layout_set_tree prunes leaves whose block is not live in the tab, snaps locked sizes and applies the slices", () => {
    const { h, tab, blocks } = tabWithTiles(1);
    const other = h.block(h.tab(h.state.tabs.get(tab)?.workspaceId ?? ""));
    const [b1] = blocks as [string];
    const b2 = h.block(tab);
    const given: LayoutNode = {
      id: "root",
      flexDirection: "row",
      size: 10,
      children: [
        tile("a", b1),
        { ...tile("b", b2, 50), minimizedSize: 20, minimizedLockedSize: 15 },
        tile("gone", "deleted-long-ago"),
        tile("foreign", other),
      ],
    };
    const events = h.run({
      cmd: "layout_set_tree",
      tab_id: tab,
      new_tree: given,
      slices: { focused_node_id: "gone", magnified_node_id: "b", pending_backend_actions: [{ x: 1 }] },
    });
    const ev = events[0];
    expect(ev?.event).toBe("layout_tree_replaced");
    if (ev?.event !== "layout_tree_replaced") return;
    expect(sketch(ev.new_tree)).toBe("r(a b)");
    expect(ev.new_tree?.children?.[1]?.size).toBe(15);
    // The focus named a pruned leaf: magnify implies focus, so the magnified node has it.
    expect(ev.slices).toEqual({ focused_node_id: "b", magnified_node_id: "b", pending_backend_actions: [{ x: 1 }] });
    expect(h.state.layouts.get(tab)).toMatchObject({ tree: ev.new_tree, focusedNodeId: "b", magnifiedNodeId: "b" });
  });

  it("layout_set_tree with a null tree clears focus and magnify; slices replace, they never merge", () => {
    const { h, tab } = tabWithTiles(2);
    h.run({
      cmd: "layout_set_tree",
      tab_id: tab,
      new_tree: treeOf(h, tab),
      slices: { leaforder: [1], focused_node_id: "n1" },
    });
    expect(h.state.layouts.get(tab)).toMatchObject({ leafOrder: [1], focusedNodeId: "n1" });
    h.run({ cmd: "layout_set_tree", tab_id: tab, new_tree: treeOf(h, tab), slices: { magnified_node_id: "n2" } });
    expect(h.state.layouts.get(tab)).toMatchObject({ leafOrder: null, focusedNodeId: "n2", magnifiedNodeId: "n2" });
    const events = h.run({ cmd: "layout_set_tree", tab_id: tab, slices: { focused_node_id: "n1", leaforder: [2] } });
    expect(events[0]).toMatchObject({ new_tree: null, slices: { leaforder: [2] } });
    expect(h.state.layouts.get(tab)).toMatchObject({ tree: null, focusedNodeId: null, magnifiedNodeId: null });
  });

  it("layout_set_tree refuses a malformed tree", () => {
    const { h, tab, blocks } = tabWithTiles(1);
    const twice: LayoutNode = {
      id: "r",
      flexDirection: "row",
      size: 1,
      children: [tile("a", blocks[0] ?? ""), tile("a", "x")],
    };
    expect(errorOf(h.run({ cmd: "layout_set_tree", tab_id: tab, new_tree: twice }))).toBe(
      "layout_set_tree: layout node id already in the tree: a",
    );
  });

  it("layout_queue_backend_actions appends to the queue", () => {
    const { h, tab } = tabWithTiles(1);
    h.run({ cmd: "layout_queue_backend_actions", tab_id: tab, actions: [{ n: 1 }, { n: 2 }] });
    h.run({ cmd: "layout_queue_backend_actions", tab_id: tab, actions: [{ n: 3 }] });
    expect(h.state.layouts.get(tab)?.pendingBackendActions).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});

describe("blocks and their tiles stay consistent", () => {
  it("delete_block removes the block's leaf in the same command's events, before the block goes", () => {
    const { h, tab, blocks } = tabWithTiles(2);
    const events = h.run({ cmd: "delete_block", tab_id: tab, block_id: blocks[1] ?? "" });
    expect(kinds(events)).toEqual(["layout_node_deleted", "block_deleted"]);
    expect(sketch(treeOf(h, tab))).toBe("n1");
  });

  it("move_block to another tab removes its leaf from the source tab; a move within the tab keeps it", () => {
    const { h, tab, blocks } = tabWithTiles(2);
    const [b1, b2] = blocks as [string, string];
    const within = h.run({ cmd: "move_block", block_id: b2, src_tab_id: tab, dst_tab_id: tab, dst_index: 0 });
    expect(kinds(within)).toEqual(["block_moved"]);
    const dst = h.tab(h.state.tabs.get(tab)?.workspaceId ?? "");
    const moved = h.run({ cmd: "move_block", block_id: b1, src_tab_id: tab, dst_tab_id: dst, dst_index: 0 });
    expect(kinds(moved)).toEqual(["layout_node_deleted", "block_moved"]);
    expect(layout.leafBlockIds(treeOf(h, tab))).toEqual([b2]);
    expect(treeOf(h, dst)).toBeNull();
  });

  it("deleting a tab or a workspace drops its layout", () => {
    const { h, tab } = tabWithTiles(2);
    const ws = h.state.tabs.get(tab)?.workspaceId ?? "";
    const second = h.tab(ws);
    h.run({
      cmd: "layout_insert_node",
      tab_id: second,
      node: tile("m", h.block(second)),
      focus_after: false,
      magnify_after: false,
    });
    h.run({ cmd: "delete_tab", workspace_id: ws, tab_id: tab });
    expect(h.state.layouts.has(tab)).toBe(false);
    h.run({ cmd: "delete_workspace", workspace_id: ws });
    expect(h.state.layouts.size).toBe(0);
  });

  it("create_block{tile} creates the block and its tile in one command", () => {
    const { h, tab } = tabWithTiles(1);
    const events = h.run({ cmd: "create_block", tab_id: tab, tile: { focus_after: true } });
    expect(kinds(events)).toEqual(["block_created", "layout_node_inserted", "focused_node_changed"]);
    const created = events[0];
    if (created?.event !== "block_created") throw new Error("no block");
    const leaf = layout.findLeafByBlock(treeOf(h, tab), created.block_id);
    expect(leaf).toBeDefined();
    expect(h.state.layouts.get(tab)?.focusedNodeId).toBe(leaf?.id);
  });

  it("create_block{tile} with a placement the tree refuses creates nothing", () => {
    const { h, tab } = tabWithTiles(1);
    const before = h.state.tabs.get(tab)?.blockIds.length;
    expect(errorOf(h.run({ cmd: "create_block", tab_id: tab, tile: { parent_id: "n1" } }))).toBe(
      "create_block: tile: layout node is a leaf, not a group: n1",
    );
    expect(h.state.tabs.get(tab)?.blockIds.length).toBe(before);
  });
});

describe("layout events on the wire", () => {
  /** Runs a command on a fresh two-tile tab with fixed ids and returns the wire text of its events. */
  function wire(make: (tab: string, blocks: string[]) => CommandInput, prepare?: (h: Harness, tab: string) => void) {
    const { h, tab, blocks } = tabWithTiles(2);
    prepare?.(h, tab);
    return h.run(make(tab, blocks)).map((e) => serialize(e));
  }
  // tabWithTiles(2): ids id1 (workspace), id2 (tab), id3 and id4 (blocks); tiles n1 and n2 in a row.
  const row = (kids: string) => `{"id":"n1~g","flexDirection":"row","size":10,"children":[${kids}]}`;
  const leafText = (id: string, block: string, size = 10, dir = "column") =>
    `{"id":"${id}","flexDirection":"${dir}","size":${size},"data":{"blockId":"${block}"}}`;

  it("layout_insert_node → layout_node_inserted (no tree: folding re-runs the insert)", () => {
    const text = wire(
      (t) => ({
        cmd: "layout_insert_node",
        tab_id: t,
        node: tile("n3", "id5"),
        focus_after: true,
        magnify_after: false,
        correlation_id: "c1",
        req_id: "r1",
      }),
      (h, t) => h.block(t),
    );
    expect(text).toEqual([
      `{"event":"layout_node_inserted","tab_id":"id2","node":{"id":"n3","flexDirection":"row","size":10,"data":{"blockId":"id5"}},"parent_id":null,"index":null,"correlation_id":"c1","version":9,"req_id":"r1"}`,
      `{"event":"focused_node_changed","tab_id":"id2","node_id":"n3","version":10,"req_id":"r1"}`,
    ]);
  });

  it("the structural events carry the resulting tree, sizes whole numbers written as integers", () => {
    expect(wire((t) => ({ cmd: "layout_delete_node", tab_id: t, node_id: "n2" }))).toEqual([
      `{"event":"layout_node_deleted","tab_id":"id2","node_id":"n2","new_tree":${leafText("n1", "id3")},"tree_cleared":false,"was_focused":false,"was_magnified":false,"correlation_id":"","version":8}`,
    ]);
    expect(wire((t) => ({ cmd: "layout_swap_nodes", tab_id: t, node1_id: "n1", node2_id: "n2" }))).toEqual([
      `{"event":"layout_nodes_swapped","tab_id":"id2","node1_id":"n1","node2_id":"n2","new_tree":${row(`${leafText("n2", "id4")},${leafText("n1", "id3")}`)},"correlation_id":"","version":8}`,
    ]);
    expect(wire((t) => ({ cmd: "layout_resize_nodes", tab_id: t, ops: [{ node_id: "n1", size: 30 }] }))).toEqual([
      `{"event":"layout_nodes_resized","tab_id":"id2","ops":[{"node_id":"n1","size":30}],"new_tree":${row(`${leafText("n1", "id3", 30)},${leafText("n2", "id4")}`)},"correlation_id":"","version":8}`,
    ]);
    expect(
      wire((t) => ({ cmd: "layout_move_node", tab_id: t, node_id: "n2", new_parent_id: "n1~g", index: 0 })),
    ).toEqual([
      `{"event":"layout_node_moved","tab_id":"id2","node_id":"n2","new_parent_id":"n1~g","index":0,"new_tree":${row(`${leafText("n2", "id4")},${leafText("n1", "id3")}`)},"correlation_id":"","version":8}`,
    ]);
  });

  it("the remaining layout events, exactly", () => {
    expect(
      wire(
        (t) => ({
          cmd: "layout_insert_node_at_index",
          tab_id: t,
          node: tile("n3", "id5"),
          index_arr: [0],
          focus_after: false,
          magnify_after: false,
        }),
        (h, t) => h.block(t),
      ),
    ).toEqual([
      `{"event":"layout_node_inserted_at_index","tab_id":"id2","node":{"id":"n3","flexDirection":"row","size":10,"data":{"blockId":"id5"}},"index_arr":[0],"new_tree":${row(`${leafText("n1", "id3")},${leafText("n3", "id5")},${leafText("n2", "id4")}`)},"correlation_id":"","version":9}`,
    ]);
    expect(wire((t) => ({ cmd: "layout_clear", tab_id: t, correlation_id: "c2" }))).toEqual([
      `{"event":"layout_cleared","tab_id":"id2","correlation_id":"c2","version":8}`,
    ]);
    expect(
      wire((t) => ({ cmd: "layout_queue_backend_actions", tab_id: t, actions: [{ actiontype: "insert" }] })),
    ).toEqual([
      `{"event":"layout_backend_actions_queued","tab_id":"id2","actions":[{"actiontype":"insert"}],"correlation_id":"","version":8}`,
    ]);
    expect(wire((t) => ({ cmd: "layout_set_tree", tab_id: t, slices: { leaforder: ["x"] } }))).toEqual([
      `{"event":"layout_tree_replaced","tab_id":"id2","new_tree":null,"slices":{"leaforder":["x"]},"correlation_id":"","version":8}`,
    ]);
    expect(wire((t) => ({ cmd: "set_magnified_node", tab_id: t, node_id: "n2" }))).toEqual([
      `{"event":"focused_node_changed","tab_id":"id2","node_id":"n2","version":8}`,
      `{"event":"magnified_node_changed","tab_id":"id2","node_id":"n2","version":9}`,
    ]);
    expect(
      wire(
        (t) => ({
          cmd: "layout_split_vertical",
          tab_id: t,
          target_id: "n2",
          new_node: tile("n3", "id5"),
          position: "after",
          focus_after: false,
        }),
        (h, t) => h.block(t),
      ),
    ).toEqual([
      `{"event":"layout_split_vertical_applied","tab_id":"id2","target_id":"n2","new_node":{"id":"n3","flexDirection":"row","size":10,"data":{"blockId":"id5"}},"position":"after","new_tree":${row(`${leafText("n1", "id3")},{"id":"n2~g","flexDirection":"column","size":10,"children":[${leafText("n2", "id4", 10, "row")},${leafText("n3", "id5", 10, "row")}]}`)},"correlation_id":"","version":9}`,
    ]);
    expect(
      wire(
        (t) => ({
          cmd: "layout_replace_node",
          tab_id: t,
          target_id: "n2",
          new_node: tile("n3", "id5"),
          focus_after: false,
        }),
        (h, t) => h.block(t),
      ),
    ).toEqual([
      `{"event":"layout_node_replaced","tab_id":"id2","target_id":"n2","new_node":{"id":"n3","flexDirection":"row","size":10,"data":{"blockId":"id5"}},"new_tree":${row(`${leafText("n1", "id3")},${leafText("n3", "id5")}`)},"correlation_id":"","version":9}`,
    ]);
  });
});

describe("layout state", () => {
  it("decide never mutates a frozen state with layouts", () => {
    const { h, tab } = tabWithTiles(3);
    const frozen = deepFreeze(h.state);
    const ctx = h.ctx();
    for (const input of [
      { cmd: "layout_delete_node", tab_id: tab, node_id: "n1" },
      { cmd: "set_magnified_node", tab_id: tab, node_id: "n2" },
      { cmd: "layout_set_tree", tab_id: tab },
      { cmd: "delete_block", tab_id: tab, block_id: h.state.tabs.get(tab)?.blockIds[0] ?? "" },
    ] satisfies CommandInput[]) {
      expect(decide(frozen, command(input), ctx).length).toBeGreaterThan(0);
    }
  });

  it("a snapshot round-trips every tab's layout", () => {
    const { h, tab } = tabWithTiles(3);
    h.run({ cmd: "set_magnified_node", tab_id: tab, node_id: "n3" });
    h.run({ cmd: "set_focused_node", tab_id: tab, node_id: "n1" });
    h.run({ cmd: "layout_queue_backend_actions", tab_id: tab, actions: ["a"] });
    const back = stateFromJson(JSON.parse(JSON.stringify(stateToJson(h.state))));
    if (!back.ok) throw new Error(back.error);
    expect(back.state.layouts).toEqual(h.state.layouts);
  });
});

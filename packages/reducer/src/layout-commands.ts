import type { Command, CommandOf, LayoutNode, TilePlacement } from "@agentmux/common-ipc";
import type { Emitter } from "./emit.js";
import * as layout from "./layout/index.js";
import type { DecideContext, ReducerState } from "./state.js";
import { EMPTY_TAB_LAYOUT, fromSlices, slicesOf, type TabLayout, withTree } from "./tab-layout.js";

export type Handler<N extends Command["cmd"]> = (
  state: Readonly<ReducerState>,
  cmd: CommandOf<N>,
  ctx: DecideContext,
  out: Emitter,
) => void;

/** A tab's layout (the empty one when the state keeps none for it). */
export function layoutOf(state: Readonly<ReducerState>, tabId: string): TabLayout {
  return state.layouts.get(tabId) ?? EMPTY_TAB_LAYOUT;
}

type TabCommand = Extract<Command, { tab_id: string }>;

/** The tab's layout, or undefined after rejecting the command (unknown tab). */
function tabLayout(state: Readonly<ReducerState>, cmd: TabCommand, out: Emitter): TabLayout | undefined {
  if (!state.tabs.has(cmd.tab_id)) {
    out.reject(`${cmd.cmd}: tab not found: ${cmd.tab_id}`);
    return undefined;
  }
  return layoutOf(state, cmd.tab_id);
}

/** The tree of a successful algebra result, or undefined after rejecting the command with its error. */
function treeOf(cmd: Command, r: layout.LayoutResult, out: Emitter): layout.LayoutTree | undefined {
  if (r.ok) return r.tree;
  out.reject(`${cmd.cmd}: ${r.error.message}`);
  return undefined;
}

/**
 * Why a node may not be placed in this tab: a leaf must show a block of the tab (a tile for a
 * block elsewhere, or for none, would outlive or precede it), or null.
 */
function foreignBlock(state: Readonly<ReducerState>, tabId: string, node: LayoutNode): string | null {
  for (const n of layout.walk(node)) {
    const blockId = n.data?.blockId;
    if (blockId !== undefined && state.blocks.get(blockId) !== tabId) return `block ${blockId} is not in tab ${tabId}`;
  }
  return null;
}

/**
 * After a structural change to `after`, focus (and with `magnify`, magnify) `nodeId`, emitting
 * only what changes; magnify implies focus.
 */
function focusAfter(out: Emitter, tabId: string, after: TabLayout, nodeId: string, focus: boolean, magnify: boolean) {
  if ((focus || magnify) && after.focusedNodeId !== nodeId) {
    out.emit({ event: "focused_node_changed", tab_id: tabId, node_id: nodeId });
  }
  if (magnify && after.magnifiedNodeId !== nodeId) {
    out.emit({ event: "magnified_node_changed", tab_id: tabId, node_id: nodeId });
  }
}

// --- focus and magnify -------------------------------------------------------

const setFocusedNode: Handler<"set_focused_node"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const nodeId = cmd.node_id === "" ? null : cmd.node_id;
  const r = layout.focus({ tree: l.tree, focusedNodeId: l.focusedNodeId, magnifiedNodeId: l.magnifiedNodeId }, nodeId);
  if (!r.ok) return out.reject(`set_focused_node: ${r.error.message}`);
  if (r.view.focusedNodeId === l.focusedNodeId) return;
  out.emit({ event: "focused_node_changed", tab_id: cmd.tab_id, node_id: cmd.node_id });
};

const setMagnifiedNode: Handler<"set_magnified_node"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  if (cmd.node_id === "") {
    if (l.magnifiedNodeId !== null) out.emit({ event: "magnified_node_changed", tab_id: cmd.tab_id, node_id: "" });
    return;
  }
  if (layout.findNode(l.tree, cmd.node_id) === undefined) {
    return out.reject(`set_magnified_node: layout node not found: ${cmd.node_id}`);
  }
  focusAfter(out, cmd.tab_id, l, cmd.node_id, true, true);
};

// --- structural operations -----------------------------------------------------

const insertNode: Handler<"layout_insert_node"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const foreign = foreignBlock(state, cmd.tab_id, cmd.node);
  if (foreign !== null) return out.reject(`layout_insert_node: ${foreign}`);
  const tree = treeOf(cmd, layout.insertNode(l.tree, cmd.node, { parentId: cmd.parent_id, index: cmd.index }), out);
  if (tree === undefined) return;
  const { tab_id, node, parent_id, index, correlation_id } = cmd;
  out.emit({ event: "layout_node_inserted", tab_id, node, parent_id, index, correlation_id });
  focusAfter(out, tab_id, withTree(l, tree), node.id, cmd.focus_after, cmd.magnify_after);
};

const insertNodeAtIndex: Handler<"layout_insert_node_at_index"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const foreign = foreignBlock(state, cmd.tab_id, cmd.node);
  if (foreign !== null) return out.reject(`layout_insert_node_at_index: ${foreign}`);
  const tree = treeOf(cmd, layout.insertNodeAtIndex(l.tree, cmd.node, cmd.index_arr), out);
  if (tree === undefined) return;
  const { tab_id, node, index_arr, correlation_id } = cmd;
  out.emit({ event: "layout_node_inserted_at_index", tab_id, node, index_arr, new_tree: tree, correlation_id });
  focusAfter(out, tab_id, withTree(l, tree), node.id, cmd.focus_after, cmd.magnify_after);
};

/** Emits the deletion of `nodeId` from the tab's tree (which holds it). */
function emitDelete(out: Emitter, tabId: string, l: TabLayout, nodeId: string, correlationId: string): boolean {
  const r = layout.deleteNode(l.tree, nodeId);
  if (!r.ok) return false;
  const inside = (id: string | null) => id !== null && layout.contains(l.tree, nodeId, id);
  out.emit({
    event: "layout_node_deleted",
    tab_id: tabId,
    node_id: nodeId,
    new_tree: r.tree,
    tree_cleared: r.tree === null,
    was_focused: inside(l.focusedNodeId),
    was_magnified: inside(l.magnifiedNodeId),
    correlation_id: correlationId,
  });
  return true;
}

const deleteNode: Handler<"layout_delete_node"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined || l.tree === null) return;
  if (layout.findNode(l.tree, cmd.node_id) === undefined) {
    return out.reject(`layout_delete_node: layout node not found: ${cmd.node_id}`);
  }
  emitDelete(out, cmd.tab_id, l, cmd.node_id, cmd.correlation_id);
};

const deleteNodeByBlock: Handler<"layout_delete_node_by_block"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const leaf = layout.findLeafByBlock(l.tree, cmd.block_id);
  if (leaf !== undefined) emitDelete(out, cmd.tab_id, l, leaf.id, cmd.correlation_id);
};

const moveNode: Handler<"layout_move_node"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const tree = treeOf(cmd, layout.moveNode(l.tree, cmd.node_id, cmd.new_parent_id, cmd.index), out);
  if (tree === undefined) return;
  const { tab_id, node_id, new_parent_id, index, correlation_id } = cmd;
  out.emit({ event: "layout_node_moved", tab_id, node_id, new_parent_id, index, new_tree: tree, correlation_id });
};

const swapNodes: Handler<"layout_swap_nodes"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const tree = treeOf(cmd, layout.swapNodes(l.tree, cmd.node1_id, cmd.node2_id), out);
  if (tree === undefined) return;
  const { tab_id, node1_id, node2_id, correlation_id } = cmd;
  out.emit({ event: "layout_nodes_swapped", tab_id, node1_id, node2_id, new_tree: tree, correlation_id });
};

const resizeNodes: Handler<"layout_resize_nodes"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const tree = treeOf(cmd, layout.resizeNodes(l.tree, cmd.ops), out);
  if (tree === undefined || cmd.ops.length === 0) return;
  const { tab_id, ops, correlation_id } = cmd;
  out.emit({ event: "layout_nodes_resized", tab_id, ops, new_tree: tree, correlation_id });
};

const replaceNode: Handler<"layout_replace_node"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined) return;
  const foreign = foreignBlock(state, cmd.tab_id, cmd.new_node);
  if (foreign !== null) return out.reject(`layout_replace_node: ${foreign}`);
  const tree = treeOf(cmd, layout.replaceNode(l.tree, cmd.target_id, cmd.new_node), out);
  if (tree === undefined) return;
  const { tab_id, target_id, new_node, correlation_id } = cmd;
  out.emit({ event: "layout_node_replaced", tab_id, target_id, new_node, new_tree: tree, correlation_id });
  focusAfter(out, tab_id, withTree(l, tree), new_node.id, cmd.focus_after, false);
};

type SplitCommand = CommandOf<"layout_split_horizontal" | "layout_split_vertical">;

function split(direction: "row" | "column") {
  return (state: Readonly<ReducerState>, cmd: SplitCommand, _ctx: DecideContext, out: Emitter) => {
    const l = tabLayout(state, cmd, out);
    if (l === undefined) return;
    const foreign = foreignBlock(state, cmd.tab_id, cmd.new_node);
    if (foreign !== null) return out.reject(`${cmd.cmd}: ${foreign}`);
    const tree = treeOf(cmd, layout.splitNode(l.tree, cmd.target_id, cmd.new_node, cmd.position, direction), out);
    if (tree === undefined) return;
    const { tab_id, target_id, new_node, position, correlation_id } = cmd;
    const event = direction === "row" ? "layout_split_horizontal_applied" : "layout_split_vertical_applied";
    out.emit({ event, tab_id, target_id, new_node, position, new_tree: tree, correlation_id });
    focusAfter(out, tab_id, withTree(l, tree), new_node.id, cmd.focus_after, false);
  };
}

const clear: Handler<"layout_clear"> = (state, cmd, _ctx, out) => {
  const l = tabLayout(state, cmd, out);
  if (l === undefined || l.tree === null) return;
  out.emit({ event: "layout_cleared", tab_id: cmd.tab_id, correlation_id: cmd.correlation_id });
};

/** The block ids of a tab, as a set (a tree may show only these). */
function blocksOf(state: Readonly<ReducerState>, tabId: string): Set<string> {
  return new Set(state.tabs.get(tabId)?.blockIds);
}

const setTree: Handler<"layout_set_tree"> = (state, cmd, _ctx, out) => {
  if (tabLayout(state, cmd, out) === undefined) return;
  let tree: layout.LayoutTree = null;
  if (cmd.new_tree !== null) {
    const bad = layout.checkNewNode(null, cmd.new_tree);
    if (bad !== null) return out.reject(`layout_set_tree: ${bad.message}`);
    tree = layout.balance(layout.prune(cmd.new_tree, blocksOf(state, cmd.tab_id)));
  }
  const given = fromSlices(tree, cmd.slices);
  // Magnify implies focus: a magnified node with no focus given takes it.
  const after = given.focusedNodeId === null ? { ...given, focusedNodeId: given.magnifiedNodeId } : given;
  out.emit({
    event: "layout_tree_replaced",
    tab_id: cmd.tab_id,
    new_tree: tree,
    slices: slicesOf(after),
    correlation_id: cmd.correlation_id,
  });
};

const queueBackendActions: Handler<"layout_queue_backend_actions"> = (state, cmd, _ctx, out) => {
  if (tabLayout(state, cmd, out) === undefined) return;
  const { tab_id, actions, correlation_id } = cmd;
  out.emit({ event: "layout_backend_actions_queued", tab_id, actions, correlation_id });
};

export const layoutHandlers = {
  set_focused_node: setFocusedNode,
  set_magnified_node: setMagnifiedNode,
  layout_insert_node: insertNode,
  layout_insert_node_at_index: insertNodeAtIndex,
  layout_delete_node: deleteNode,
  layout_delete_node_by_block: deleteNodeByBlock,
  layout_move_node: moveNode,
  layout_swap_nodes: swapNodes,
  layout_resize_nodes: resizeNodes,
  layout_replace_node: replaceNode,
  layout_split_horizontal: split("row"),
  layout_split_vertical: split("column"),
  layout_clear: clear,
  layout_set_tree: setTree,
  layout_queue_backend_actions: queueBackendActions,
} satisfies { [N in Command["cmd"]]?: Handler<N> };

// --- blocks and their tiles -------------------------------------------------------

/** A block's tile leaves the tab's tree (before the block itself leaves the tab). */
export function removeTile(state: Readonly<ReducerState>, tabId: string, blockId: string, out: Emitter): void {
  const l = layoutOf(state, tabId);
  const leaf = layout.findLeafByBlock(l.tree, blockId);
  if (leaf !== undefined) emitDelete(out, tabId, l, leaf.id, "");
}

/** A new block's tile, and the tree it makes (see {@link emitTile}). */
export interface TilePlan {
  node: LayoutNode;
  tree: layout.LayoutTree;
}

/**
 * Where `create_block{tile}` puts the new block's tile (a leaf showing it), decided before the
 * block is created so that a refused placement refuses the whole command: no block is ever
 * made without the tile it asked for. Returns the plan, or the reason it cannot be placed.
 */
export function planTile(
  state: Readonly<ReducerState>,
  tabId: string,
  blockId: string,
  nodeId: string,
  tile: TilePlacement,
): TilePlan | string {
  const node: LayoutNode = { id: nodeId, flexDirection: "row", size: layout.DEFAULT_NODE_SIZE, data: { blockId } };
  const r = layout.insertNode(layoutOf(state, tabId).tree, node, { parentId: tile.parent_id, index: tile.index });
  return r.ok ? { node, tree: r.tree } : r.error.message;
}

/** Emits the insert of a planned tile, and the focus it asks for. */
export function emitTile(
  state: Readonly<ReducerState>,
  tabId: string,
  plan: TilePlan,
  tile: TilePlacement,
  out: Emitter,
): void {
  const { parent_id, index } = tile;
  out.emit({ event: "layout_node_inserted", tab_id: tabId, node: plan.node, parent_id, index, correlation_id: "" });
  const after = withTree(layoutOf(state, tabId), plan.tree);
  focusAfter(out, tabId, after, plan.node.id, tile.focus_after, tile.magnify_after);
}

import type { BusEvent, JsonValue, LayoutClientSlices } from "@agentmux/common-ipc";
import * as layout from "./layout/index.js";

/**
 * A tab's layout as srv keeps it: the tile tree, which node has focus and which is magnified
 * (both resolve to nodes of the tree or are null), and the two slices clients own and srv only
 * stores: the leaf order they render and the backend actions queued for them.
 */
export interface TabLayout {
  readonly tree: layout.LayoutTree;
  readonly focusedNodeId: string | null;
  readonly magnifiedNodeId: string | null;
  readonly leafOrder: readonly JsonValue[] | null;
  readonly pendingBackendActions: readonly JsonValue[];
}

export const EMPTY_TAB_LAYOUT: TabLayout = Object.freeze({
  tree: null,
  focusedNodeId: null,
  magnifiedNodeId: null,
  leafOrder: null,
  pendingBackendActions: Object.freeze([]) as readonly JsonValue[],
});

/** True for a layout that holds nothing (the state keeps no entry for such a tab). */
export function isEmptyLayout(l: TabLayout): boolean {
  return (
    l.tree === null &&
    l.focusedNodeId === null &&
    l.magnifiedNodeId === null &&
    l.leafOrder === null &&
    l.pendingBackendActions.length === 0
  );
}

/** The layout's slices on the wire (`layout_tree_replaced`, `layout_state`): only those that are set. */
export function slicesOf(l: TabLayout): LayoutClientSlices {
  const s: LayoutClientSlices = {};
  if (l.leafOrder !== null && l.leafOrder.length > 0) s.leaforder = [...l.leafOrder];
  if (l.focusedNodeId !== null) s.focused_node_id = l.focusedNodeId;
  if (l.magnifiedNodeId !== null) s.magnified_node_id = l.magnifiedNodeId;
  if (l.pendingBackendActions.length > 0) s.pending_backend_actions = [...l.pendingBackendActions];
  return s;
}

/**
 * The layout a tree and slices describe (REPLACE semantics: an absent or empty slice is
 * cleared). Focus and magnify that do not resolve in the tree are dropped.
 */
export function fromSlices(tree: layout.LayoutTree, slices: LayoutClientSlices | null): TabLayout {
  const resolve = (id: string | undefined) =>
    id !== undefined && id !== "" && layout.findNode(tree, id) !== undefined ? id : null;
  const leafOrder = slices?.leaforder ?? null;
  return {
    tree,
    focusedNodeId: resolve(slices?.focused_node_id),
    magnifiedNodeId: resolve(slices?.magnified_node_id),
    leafOrder: leafOrder !== null && leafOrder.length > 0 ? leafOrder : null,
    pendingBackendActions: slices?.pending_backend_actions ?? [],
  };
}

/** The layout showing `tree`, with focus and magnify kept only where they still resolve. */
export function withTree(l: TabLayout, tree: layout.LayoutTree): TabLayout {
  const view = layout.withTree(
    { tree: l.tree, focusedNodeId: l.focusedNodeId, magnifiedNodeId: l.magnifiedNodeId },
    tree,
  );
  return { ...l, tree, focusedNodeId: view.focusedNodeId, magnifiedNodeId: view.magnifiedNodeId };
}

/** The tab a layout event is about, or undefined for every other event. */
export function layoutEventTab(ev: BusEvent): string | undefined {
  switch (ev.event) {
    case "focused_node_changed":
    case "magnified_node_changed":
    case "layout_node_inserted":
    case "layout_node_inserted_at_index":
    case "layout_node_deleted":
    case "layout_node_moved":
    case "layout_nodes_swapped":
    case "layout_nodes_resized":
    case "layout_node_replaced":
    case "layout_split_horizontal_applied":
    case "layout_split_vertical_applied":
    case "layout_cleared":
    case "layout_tree_replaced":
    case "layout_backend_actions_queued":
      return ev.tab_id;
    default:
      return undefined;
  }
}

/**
 * The tree a structural event leads to. Events carry the resulting tree (`new_tree`), and
 * that is what a fold adopts. `layout_node_inserted` carries none: the insert is run again,
 * which gives the same tree (the algebra is deterministic; srv mints no group ids). An event
 * from a sender that left `new_tree` out is folded the same way, by running its operation
 * (a delete empties the tree only when it says `tree_cleared`).
 */
function treeAfter(tree: layout.LayoutTree, ev: BusEvent): layout.LayoutTree {
  const rerun = (r: layout.LayoutResult) => (r.ok ? r.tree : tree);
  switch (ev.event) {
    case "layout_node_inserted":
      return rerun(layout.insertNode(tree, ev.node, { parentId: ev.parent_id, index: ev.index }));
    case "layout_node_inserted_at_index":
      return ev.new_tree ?? rerun(layout.insertNodeAtIndex(tree, ev.node, ev.index_arr));
    case "layout_node_deleted":
      if (ev.new_tree !== null || ev.tree_cleared) return ev.new_tree;
      return rerun(layout.deleteNode(tree, ev.node_id));
    case "layout_node_moved":
      return ev.new_tree ?? rerun(layout.moveNode(tree, ev.node_id, ev.new_parent_id, ev.index));
    case "layout_nodes_swapped":
      return ev.new_tree ?? rerun(layout.swapNodes(tree, ev.node1_id, ev.node2_id));
    case "layout_nodes_resized":
      return ev.new_tree ?? rerun(layout.resizeNodes(tree, ev.ops));
    case "layout_node_replaced":
      return ev.new_tree ?? rerun(layout.replaceNode(tree, ev.target_id, ev.new_node));
    case "layout_split_horizontal_applied":
      return ev.new_tree ?? rerun(layout.splitNode(tree, ev.target_id, ev.new_node, ev.position, "row"));
    case "layout_split_vertical_applied":
      return ev.new_tree ?? rerun(layout.splitNode(tree, ev.target_id, ev.new_node, ev.position, "column"));
    default:
      return tree;
  }
}

/**
 * Folds one layout event into a tab's layout (the input is not mutated). Other events give
 * the layout back unchanged. Used by the reducer's `evolve` and by the store, so the two can
 * never disagree on what an event means.
 */
export function applyLayoutEvent(l: TabLayout, ev: BusEvent): TabLayout {
  if (layoutEventTab(ev) === undefined) return l;
  switch (ev.event) {
    case "focused_node_changed":
      return { ...l, focusedNodeId: ev.node_id === "" ? null : ev.node_id };
    case "magnified_node_changed":
      return { ...l, magnifiedNodeId: ev.node_id === "" ? null : ev.node_id };
    case "layout_cleared":
      return withTree(l, null);
    case "layout_tree_replaced":
      return fromSlices(ev.new_tree, ev.slices);
    case "layout_backend_actions_queued":
      return { ...l, pendingBackendActions: [...l.pendingBackendActions, ...ev.actions] };
    default:
      return withTree(l, treeAfter(l.tree, ev));
  }
}

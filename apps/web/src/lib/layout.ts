// A tab's tile layout as the page shows it: `get_layout`, then the layout events after it.
import type { Event, LayoutNode, ResizeOp } from "@agentmux/common-ipc";

export interface TabLayout {
  tree: LayoutNode | null;
  focused: string | null;
  magnified: string | null;
  /** The state version the layout reflects: layout events at or below it are already in. */
  version: number;
  loaded: boolean;
}

export function emptyLayout(): TabLayout {
  return { tree: null, focused: null, magnified: null, version: 0, loaded: false };
}

/** The tab a layout event is about (undefined for other events). */
export function layoutTab(ev: Event): string | undefined {
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
      return ev.tab_id;
    default:
      return undefined;
  }
}

export function findNode(node: LayoutNode | null, id: string): LayoutNode | undefined {
  if (node === null) return undefined;
  if (node.id === id) return node;
  for (const kid of node.children ?? []) {
    const found = findNode(kid, id);
    if (found) return found;
  }
  return undefined;
}

/** Focus and magnify only where they still name a node of the tree. */
function withTree(l: TabLayout, tree: LayoutNode | null): TabLayout {
  const keep = (id: string | null) => (id !== null && findNode(tree, id) ? id : null);
  return { ...l, tree, focused: keep(l.focused), magnified: keep(l.magnified) };
}

/**
 * Folds one layout event. Returns null when the event does not carry the tree it leads to
 * (`layout_node_inserted`, or a sender that left `new_tree` out): the caller asks srv again.
 */
export function foldLayout(l: TabLayout, ev: Event): TabLayout | null {
  const next = foldTree(l, ev);
  return next === null ? null : { ...next, version: ev.version };
}

function foldTree(l: TabLayout, ev: Event): TabLayout | null {
  switch (ev.event) {
    case "focused_node_changed":
      return { ...l, focused: ev.node_id === "" ? null : ev.node_id };
    case "magnified_node_changed":
      return { ...l, magnified: ev.node_id === "" ? null : ev.node_id };
    case "layout_cleared":
      return withTree(l, null);
    case "layout_tree_replaced":
    case "layout_state":
      return fromSlices(ev.new_tree, ev.slices ?? null, l.version);
    case "layout_node_deleted":
      if (ev.new_tree !== null || ev.tree_cleared) return withTree(l, ev.new_tree);
      return null;
    case "layout_node_inserted":
      return null;
    case "layout_node_inserted_at_index":
    case "layout_node_moved":
    case "layout_nodes_swapped":
    case "layout_nodes_resized":
    case "layout_node_replaced":
    case "layout_split_horizontal_applied":
    case "layout_split_vertical_applied":
      return ev.new_tree === null ? null : withTree(l, ev.new_tree);
    default:
      return l;
  }
}

/** A whole layout (`layout_state`, `layout_tree_replaced`): the slices replace focus and magnify. */
export function fromSlices(
  tree: LayoutNode | null,
  slices: { focused_node_id?: string | undefined; magnified_node_id?: string | undefined } | null,
  version: number,
): TabLayout {
  const keep = (id: string | undefined) => (id !== undefined && id !== "" && findNode(tree, id) ? id : null);
  return {
    tree,
    focused: keep(slices?.focused_node_id),
    magnified: keep(slices?.magnified_node_id),
    version,
    loaded: true,
  };
}

/** The tree with these sizes set (the page shows a resize before srv confirms it). */
export function resized(node: LayoutNode, ops: readonly ResizeOp[]): LayoutNode {
  const op = ops.find((o) => o.node_id === node.id);
  const kids = node.children?.map((k) => resized(k, ops));
  return { ...node, ...(op ? { size: op.size } : {}), ...(kids ? { children: kids } : {}) };
}

/** The block a leaf shows. */
export function blockOf(node: LayoutNode): string | null {
  const id = node.data?.blockId;
  return typeof id === "string" && id !== "" ? id : null;
}

export function isLeaf(node: LayoutNode): boolean {
  return node.children === undefined || node.children.length === 0;
}

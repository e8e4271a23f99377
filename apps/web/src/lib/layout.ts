// A tab's tile layout as the page shows it: `get_layout`, then the layout events after it,
// folded by the reducer's own fold (`@agentmux/reducer/layout`, no schemas at run time), so
// the page and srv can never disagree on what an event means.
import type { BusEvent, Event, LayoutNode, ResizeOp } from "@agentmux/common-ipc";
import {
  applyLayoutEvent,
  EMPTY_TAB_LAYOUT,
  fromSlices,
  type TabLayout as Layout,
  layout,
  layoutEventTab,
} from "@agentmux/reducer/layout";

export const { findNode, isLeaf } = layout;

export interface TabLayout extends Layout {
  /** The state version the layout reflects: layout events at or below it are already in. */
  version: number;
  loaded: boolean;
}

export function emptyLayout(): TabLayout {
  return { ...EMPTY_TAB_LAYOUT, version: 0, loaded: false };
}

/** The tab a layout event is about (undefined for other events). */
export function layoutTab(ev: Event): string | undefined {
  return layoutEventTab(ev as BusEvent);
}

/** Folds `get_layout`'s reply (the whole layout) or one layout event after it. */
export function foldLayout(l: TabLayout, ev: Event): TabLayout {
  const next =
    ev.event === "layout_state" ? fromSlices(ev.new_tree, ev.slices ?? null) : applyLayoutEvent(l, ev as BusEvent);
  return { ...next, version: ev.version, loaded: true };
}

/** The tree with these sizes set (the page shows a resize before srv confirms it). */
export function resized(l: TabLayout, ops: readonly ResizeOp[]): TabLayout {
  const r = layout.resizeNodes(l.tree, ops);
  return r.ok ? { ...l, tree: r.tree } : l;
}

/** The block a leaf shows. */
export function blockOf(node: LayoutNode): string | null {
  const id = node.data?.blockId;
  return typeof id === "string" && id !== "" ? id : null;
}

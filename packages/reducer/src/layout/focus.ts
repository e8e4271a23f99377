import { findNode } from "./tree.js";
import { type LayoutError, type LayoutTree, layoutError } from "./types.js";

/**
 * A tab's layout as every client renders it: the tree plus which tile has focus and which
 * is magnified (shown over the others). Both ids resolve to a node of the tree or are null.
 */
export interface LayoutView {
  readonly tree: LayoutTree;
  readonly focusedNodeId: string | null;
  readonly magnifiedNodeId: string | null;
}

export const EMPTY_VIEW: LayoutView = Object.freeze({ tree: null, focusedNodeId: null, magnifiedNodeId: null });

export type ViewResult = { ok: true; view: LayoutView } | { ok: false; error: LayoutError };

function resolves(tree: LayoutTree, id: string | null): boolean {
  return id !== null && findNode(tree, id) !== undefined;
}

/** The view with the focus and magnify ids that no longer resolve cleared (the input itself when both do). */
export function reconcile(view: LayoutView): LayoutView {
  const focusedNodeId = resolves(view.tree, view.focusedNodeId) ? view.focusedNodeId : null;
  const magnifiedNodeId = resolves(view.tree, view.magnifiedNodeId) ? view.magnifiedNodeId : null;
  if (focusedNodeId === view.focusedNodeId && magnifiedNodeId === view.magnifiedNodeId) return view;
  return { ...view, focusedNodeId, magnifiedNodeId };
}

/** The view showing `tree`, with focus and magnify kept where they still resolve. */
export function withTree(view: LayoutView, tree: LayoutTree): LayoutView {
  return reconcile({ ...view, tree });
}

/** Focus a node (`null` clears the focus). An id that is not in the tree is refused. */
export function focus(view: LayoutView, nodeId: string | null): ViewResult {
  if (nodeId !== null && !resolves(view.tree, nodeId)) {
    return layoutError("node_not_found", `layout node not found: ${nodeId}`);
  }
  return { ok: true, view: view.focusedNodeId === nodeId ? view : { ...view, focusedNodeId: nodeId } };
}

/**
 * Magnify a node, which also focuses it (`null` un-magnifies and leaves the focus). An id that
 * is not in the tree is refused.
 */
export function magnify(view: LayoutView, nodeId: string | null): ViewResult {
  if (nodeId === null) {
    return { ok: true, view: view.magnifiedNodeId === null ? view : { ...view, magnifiedNodeId: null } };
  }
  if (!resolves(view.tree, nodeId)) return layoutError("node_not_found", `layout node not found: ${nodeId}`);
  if (view.magnifiedNodeId === nodeId && view.focusedNodeId === nodeId) return { ok: true, view };
  return { ok: true, view: { ...view, focusedNodeId: nodeId, magnifiedNodeId: nodeId } };
}

import type { LayoutNode } from "@agentmux/common-ipc";

/** A tab's tile tree: `null` is the empty tree (no tiles). */
export type LayoutTree = LayoutNode | null;

/** Size given to a node that gets a new slot (a moved node, a wrapped leaf, a split half in a new group). */
export const DEFAULT_NODE_SIZE = 10;
/** A group takes at most this many children before `insertNode` (without a parent) looks deeper. */
export const MAX_CHILDREN = 5;
/** Node sizes are flex weights within their parent, kept within these bounds (a `ResizeOp`'s range). */
export const MIN_NODE_SIZE = 0;
export const MAX_NODE_SIZE = 100;

export type LayoutErrorCode =
  /** No node has that id (or the tree is empty). */
  | "node_not_found"
  /** A node given to the algebra is malformed: empty id, both `data` and `children`, or neither. */
  | "invalid_node"
  /** A node given to the algebra reuses an id already in the tree. */
  | "duplicate_id"
  /** A leaf given to the algebra shows a block another leaf already shows. */
  | "duplicate_block"
  /** The operation needs a tile to act on and the tree is empty. */
  | "empty_tree"
  /** A position (`parent_id`, `index`, a non-empty index path) was given for an empty tree. */
  | "position_on_empty_tree"
  /** An index path is empty, or an index was given without a parent. */
  | "invalid_index_path"
  /** The explicit parent is a leaf, not a group. */
  | "not_a_group"
  /** The node is minimize-locked (minimized, slipped or dissolved): restore it first. */
  | "node_locked"
  /** The root cannot be moved or swapped. */
  | "root_not_allowed"
  /** A node cannot be swapped with itself. */
  | "self_swap"
  /** The destination lies inside the node being moved or swapped. */
  | "would_cycle"
  /** A resize size outside [MIN_NODE_SIZE, MAX_NODE_SIZE]. */
  | "invalid_size";

export interface LayoutError {
  code: LayoutErrorCode;
  /** A sentence for humans, naming the node involved. */
  message: string;
}

/**
 * The outcome of a tree operation. On success `tree` is a new tree (the input is never
 * mutated); an operation that changes nothing returns the input tree itself, so
 * `result.tree === input` tells a caller it has nothing to emit.
 */
export type LayoutResult = { ok: true; tree: LayoutTree } | { ok: false; error: LayoutError };

export interface LayoutOptions {
  /**
   * Mints the id of a group the algebra creates (wrapping a leaf to insert next to it, or a
   * split in a new direction). srv passes its `ctx.newId`. Without it, or when it returns an
   * id already in the tree, the id is derived from the wrapped node's (`<id>~g`, `<id>~g2`, …),
   * so the algebra stays deterministic.
   */
  newId?: () => string;
}

export function layoutError(code: LayoutErrorCode, message: string): { ok: false; error: LayoutError } {
  return { ok: false, error: { code, message } };
}

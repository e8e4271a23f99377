import type { FlexDirection, LayoutNode, ResizeOp, SplitPosition } from "@agentmux/common-ipc";
import { balance, clampSize } from "./balance.js";
import {
  childrenOf,
  findNode,
  freshId,
  hasId,
  insertAt,
  isGroup,
  isLocked,
  isWithin,
  type NodePath,
  nodeAt,
  pathOfBlock,
  pathOfId,
  reverseDirection,
  updateAt,
  walk,
} from "./tree.js";
import {
  DEFAULT_NODE_SIZE,
  type LayoutError,
  type LayoutOptions,
  type LayoutResult,
  type LayoutTree,
  layoutError,
  MAX_CHILDREN,
  MAX_NODE_SIZE,
  MIN_NODE_SIZE,
} from "./types.js";

function ok(tree: LayoutTree): LayoutResult {
  return { ok: true, tree };
}

function notFound(id: string): { ok: false; error: LayoutError } {
  return layoutError("node_not_found", `layout node not found: ${id}`);
}

function locked(id: string): { ok: false; error: LayoutError } {
  return layoutError("node_locked", `layout node is minimize-locked: ${id}`);
}

/**
 * Why `node` cannot join `tree` (with the subtree at `except` gone, for a replace), or null.
 * Every node needs a non-empty id and must be a leaf (`data`, no children) or a non-empty
 * group (children, no `data`); ids and leaf block ids must stay unique in the tree.
 */
export function checkNewNode(tree: LayoutTree, node: LayoutNode, except: NodePath | null = null): LayoutError | null {
  const rest = tree === null || except === null ? tree : updateAt(tree, except, () => null);
  const ids = new Set<string>();
  const blocks = new Set<string>();
  for (const n of walk(node)) {
    if (typeof n.id !== "string" || n.id === "") return { code: "invalid_node", message: "layout node without an id" };
    if (isGroup(n) === (n.data !== undefined)) {
      return { code: "invalid_node", message: `layout node ${n.id} must have either data or children` };
    }
    if (ids.has(n.id) || hasId(rest, n.id)) {
      return { code: "duplicate_id", message: `layout node id already in the tree: ${n.id}` };
    }
    ids.add(n.id);
    if (n.data !== undefined) {
      if (blocks.has(n.data.blockId) || pathOfBlock(rest, n.data.blockId) !== null) {
        return { code: "duplicate_block", message: `block already has a tile: ${n.data.blockId}` };
      }
      blocks.add(n.data.blockId);
    }
  }
  return null;
}

/** Every id in the tree and in the node joining it (a minted group id must avoid both). */
function idsOf(tree: LayoutTree, node: LayoutNode): { has(id: string): boolean } {
  const own = new Set(walk(node).map((n) => n.id));
  return { has: (id) => own.has(id) || hasId(tree, id) };
}

/**
 * The leaf turned into a group holding it and `node` (at `index` 0 or 1), laid out across its
 * parent's direction (a leaf at the root keeps its own), so the leaf's tile is split in two.
 */
function wrapLeaf(
  tree: LayoutNode,
  leaf: LayoutNode,
  parent: LayoutNode | undefined,
  node: LayoutNode,
  index: number,
  opts: LayoutOptions,
): LayoutNode {
  const inner = { ...leaf, size: DEFAULT_NODE_SIZE };
  return {
    id: freshId(idsOf(tree, node), leaf.id, opts.newId),
    flexDirection: parent === undefined ? leaf.flexDirection : reverseDirection(parent.flexDirection),
    size: leaf.size,
    children: index <= 0 ? [node, inner] : [inner, node],
  };
}

/** `node` placed in the group or leaf at `path`, at child `index` (clamped). */
function placeAt(tree: LayoutNode, path: NodePath, node: LayoutNode, index: number, opts: LayoutOptions): LayoutTree {
  const parent = path.length === 0 ? undefined : nodeAt(tree, path.slice(0, -1));
  return updateAt(tree, path, (target) =>
    isGroup(target)
      ? { ...target, children: insertAt(childrenOf(target), index, node) }
      : wrapLeaf(tree, target, parent, node, index, opts),
  );
}

interface Where {
  /** The group to insert into; it must be a group that is not minimize-locked. */
  parentId?: string | null;
  /** Index among the parent's children (clamped; default: append). Needs `parentId`. */
  index?: number | null;
}

/**
 * Insert `node` (a leaf or a whole subtree). Into an empty tree it becomes the root, and no
 * position may be given. With `parentId` it goes into that group at `index`; without, into
 * the shallowest free slot (groups with fewer than MAX_CHILDREN children, or next to a leaf,
 * preferring shallow places and low indexes, never inside a locked node), a leaf being
 * wrapped into a new group with the node.
 */
export function insertNode(
  tree: LayoutTree,
  node: LayoutNode,
  where: Where = {},
  opts: LayoutOptions = {},
): LayoutResult {
  const parentId = where.parentId ?? null;
  const index = where.index ?? null;
  const bad = checkNewNode(tree, node);
  if (bad !== null) return { ok: false, error: bad };
  if (tree === null) {
    if (parentId !== null || index !== null) {
      return layoutError("position_on_empty_tree", "inserting into an empty tree takes no parent_id or index");
    }
    return ok(balance(node));
  }
  if (parentId === null) {
    if (index !== null) return layoutError("invalid_index_path", "an index needs a parent_id");
    const slot = nextInsertLocation(tree);
    if (slot === null) return locked(tree.id);
    return ok(balance(placeAt(tree, slot.path, node, slot.index, opts)));
  }
  const path = pathOfId(tree, parentId);
  const parent = path === null ? undefined : nodeAt(tree, path);
  if (path === null || parent === undefined) return notFound(parentId);
  if (!isGroup(parent)) return layoutError("not_a_group", `layout node is a leaf, not a group: ${parentId}`);
  if (isLocked(parent)) return locked(parentId);
  return ok(balance(placeAt(tree, path, node, index ?? childrenOf(parent).length, opts)));
}

interface Slot {
  path: number[];
  index: number;
}

/**
 * Where an insert without a parent goes: every unlocked group with room (at its end) and
 * every unlocked leaf (next to it) is a candidate scored depth^(index + MAX_CHILDREN), the
 * lowest winning (ties: the first found, children visited last to first). Shallow places
 * win, so tiles fill the top level before nesting.
 */
function nextInsertLocation(tree: LayoutNode): Slot | null {
  let best: Slot | null = null;
  let bestScore = Number.POSITIVE_INFINITY;
  const path: number[] = [];
  const visit = (node: LayoutNode, depth: number): void => {
    if (isLocked(node)) return;
    const kids = childrenOf(node);
    let index: number | null = null;
    if (!isGroup(node)) index = 1;
    else if (kids.length < MAX_CHILDREN) index = kids.length;
    if (index !== null) {
      const score = depth ** (index + MAX_CHILDREN);
      if (best === null || score < bestScore) {
        best = { path: [...path], index };
        bestScore = score;
      }
    }
    for (let i = kids.length - 1; i >= 0; i--) {
      const kid = kids[i];
      if (kid === undefined) continue;
      path.push(i);
      visit(kid, depth + 1);
      path.pop();
    }
  };
  visit(tree, 1);
  return best;
}

/**
 * Insert `node` after the node an index path leads to (`[0, 2]`: the root's first child's
 * third child). Each index is clamped to the children there, and the walk stops at a leaf
 * (which is wrapped into a group with the node), so a stale path from a client still lands
 * somewhere sensible. Into an empty tree only an empty path is accepted (the node becomes
 * the root).
 */
export function insertNodeAtIndex(
  tree: LayoutTree,
  node: LayoutNode,
  indexArr: readonly number[],
  opts: LayoutOptions = {},
): LayoutResult {
  const bad = checkNewNode(tree, node);
  if (bad !== null) return { ok: false, error: bad };
  if (tree === null) {
    if (indexArr.length > 0)
      return layoutError("position_on_empty_tree", "inserting into an empty tree takes no index");
    return ok(balance(node));
  }
  if (indexArr.length === 0) return layoutError("invalid_index_path", "the index path is empty");
  const path: number[] = [];
  let cur: LayoutNode = tree;
  let at = 0;
  for (let k = 0; k < indexArr.length; k++) {
    const kids = childrenOf(cur);
    if (!isGroup(cur)) {
      at = 0;
      break;
    }
    at = Math.max(0, Math.min(indexArr[k] ?? 0, kids.length - 1));
    const next = kids[at];
    if (k === indexArr.length - 1 || next === undefined) break;
    path.push(at);
    cur = next;
  }
  if (isLocked(cur)) return locked(cur.id);
  return ok(balance(placeAt(tree, path, node, at + 1, opts)));
}

/**
 * Split the target's tile in two along `direction` (`row`: side by side, a horizontal split;
 * `column`: stacked), `node` going before or after it. When the target's parent already runs
 * in that direction the two share the target's slot equally; otherwise they form a new group
 * in the target's slot.
 */
export function splitNode(
  tree: LayoutTree,
  targetId: string,
  node: LayoutNode,
  position: SplitPosition,
  direction: FlexDirection,
  opts: LayoutOptions = {},
): LayoutResult {
  if (tree === null) return layoutError("empty_tree", "cannot split in an empty tree");
  const path = pathOfId(tree, targetId);
  const target = path === null ? undefined : nodeAt(tree, path);
  if (path === null || target === undefined) return notFound(targetId);
  if (isLocked(target)) return locked(targetId);
  const bad = checkNewNode(tree, node);
  if (bad !== null) return { ok: false, error: bad };
  const parentPath = path.slice(0, -1);
  const parent = path.length > 0 ? nodeAt(tree, parentPath) : undefined;
  const i = path[path.length - 1] ?? 0;
  if (parent !== undefined && parent.flexDirection === direction) {
    const half = target.size / 2;
    const pair = [
      { ...target, size: half },
      { ...node, size: half },
    ];
    const ordered = position === "before" ? [pair[1], pair[0]] : pair;
    return ok(
      balance(
        updateAt(tree, parentPath, (p) => {
          const kids = childrenOf(p);
          return { ...p, children: [...kids.slice(0, i), ...(ordered as LayoutNode[]), ...kids.slice(i + 1)] };
        }),
      ),
    );
  }
  const a = { ...target, size: DEFAULT_NODE_SIZE };
  const b = { ...node, size: DEFAULT_NODE_SIZE };
  const group: LayoutNode = {
    id: freshId(idsOf(tree, node), target.id, opts.newId),
    flexDirection: direction,
    size: target.size,
    children: position === "before" ? [b, a] : [a, b],
  };
  return ok(balance(updateAt(tree, path, () => group)));
}

/**
 * Delete a node and its subtree. Deleting the root empties the tree; deleting from an empty
 * tree changes nothing (the input is returned).
 */
export function deleteNode(tree: LayoutTree, nodeId: string): LayoutResult {
  if (tree === null) return ok(tree);
  const path = pathOfId(tree, nodeId);
  if (path === null) return notFound(nodeId);
  if (path.length === 0) return ok(null);
  return ok(balance(updateAt(tree, path, () => null)));
}

/** Delete the leaf showing `blockId`; changes nothing (returns the input) when no leaf shows it. */
export function deleteNodeByBlock(tree: LayoutTree, blockId: string): LayoutResult {
  const path = pathOfBlock(tree, blockId);
  const leaf = path === null ? undefined : nodeAt(tree, path);
  return leaf === undefined ? ok(tree) : deleteNode(tree, leaf.id);
}

/**
 * Move a node under `newParentId` at child `index` (clamped). A leaf parent is wrapped into
 * a group first. The moved node keeps its size within the same parent (where `index` counts
 * positions before the move), else takes DEFAULT_NODE_SIZE in its new slot.
 */
export function moveNode(
  tree: LayoutTree,
  nodeId: string,
  newParentId: string,
  index: number,
  opts: LayoutOptions = {},
): LayoutResult {
  if (tree === null) return layoutError("empty_tree", "cannot move in an empty tree");
  const from = pathOfId(tree, nodeId);
  const node = from === null ? undefined : nodeAt(tree, from);
  if (from === null || node === undefined) return notFound(nodeId);
  if (from.length === 0) return layoutError("root_not_allowed", "the root cannot be moved");
  if (isLocked(node)) return locked(nodeId);
  const to = pathOfId(tree, newParentId);
  const dest = to === null ? undefined : nodeAt(tree, to);
  if (to === null || dest === undefined) return notFound(newParentId);
  if (isLocked(dest)) return locked(newParentId);
  if (isWithin(to, from)) return layoutError("would_cycle", `cannot move ${nodeId} into its own subtree`);
  const current = from[from.length - 1] ?? 0;
  const sameParent = to.length === from.length - 1 && isWithin(from, to);
  const moved = sameParent ? node : { ...node, size: DEFAULT_NODE_SIZE };
  const at = sameParent && index > current ? index - 1 : index;
  const detached = updateAt(tree, from, () => null);
  const newTo = pathOfId(detached, newParentId);
  if (detached === null || newTo === null) return notFound(newParentId);
  return ok(balance(placeAt(detached, newTo, moved, at, opts)));
}

/** Swap two nodes' places; each slot keeps its size. Neither may be the root, locked, or inside the other. */
export function swapNodes(tree: LayoutTree, node1Id: string, node2Id: string): LayoutResult {
  if (tree === null) return layoutError("empty_tree", "cannot swap in an empty tree");
  if (node1Id === node2Id) return layoutError("self_swap", `cannot swap a node with itself: ${node1Id}`);
  const p1 = pathOfId(tree, node1Id);
  const p2 = pathOfId(tree, node2Id);
  const n1 = p1 === null ? undefined : nodeAt(tree, p1);
  const n2 = p2 === null ? undefined : nodeAt(tree, p2);
  if (p1 === null || n1 === undefined) return notFound(node1Id);
  if (p2 === null || n2 === undefined) return notFound(node2Id);
  if (p1.length === 0 || p2.length === 0) return layoutError("root_not_allowed", "the root cannot be swapped");
  if (isLocked(n1)) return locked(node1Id);
  if (isLocked(n2)) return locked(node2Id);
  if (isWithin(p1, p2) || isWithin(p2, p1)) {
    return layoutError("would_cycle", `cannot swap ${node1Id} with ${node2Id}: one contains the other`);
  }
  const once = updateAt(tree, p1, () => ({ ...n2, size: n1.size }));
  if (once === null) return notFound(node1Id);
  return ok(balance(updateAt(once, p2, () => ({ ...n1, size: n2.size }))));
}

/**
 * Set node sizes, all or nothing: every size must lie in [MIN_NODE_SIZE, MAX_NODE_SIZE] and
 * every node exist and not be minimize-locked (a locked node's size is pinned).
 */
export function resizeNodes(tree: LayoutTree, ops: readonly ResizeOp[]): LayoutResult {
  const sizes = new Map<string, number>();
  for (const op of ops) {
    if (!Number.isFinite(op.size) || op.size < MIN_NODE_SIZE || op.size > MAX_NODE_SIZE) {
      return layoutError(
        "invalid_size",
        `size ${op.size} for ${op.node_id} is outside [${MIN_NODE_SIZE}, ${MAX_NODE_SIZE}]`,
      );
    }
    const node = findNode(tree, op.node_id);
    if (node === undefined) return notFound(op.node_id);
    if (isLocked(node)) return locked(op.node_id);
    sizes.set(op.node_id, op.size);
  }
  if (tree === null || sizes.size === 0) return ok(tree);
  return ok(balance(resized(tree, sizes)));
}

function resized(node: LayoutNode, sizes: ReadonlyMap<string, number>): LayoutNode {
  const size = sizes.get(node.id);
  const withSize = size === undefined ? node : { ...node, size: clampSize(size) };
  if (!isGroup(node)) return withSize;
  return { ...withSize, children: childrenOf(node).map((k) => resized(k, sizes)) };
}

/** Replace the target (and its subtree) with `node`, which takes the target's size. The root may be replaced. */
export function replaceNode(tree: LayoutTree, targetId: string, node: LayoutNode): LayoutResult {
  if (tree === null) return layoutError("empty_tree", "cannot replace in an empty tree");
  const path = pathOfId(tree, targetId);
  const target = path === null ? undefined : nodeAt(tree, path);
  if (path === null || target === undefined) return notFound(targetId);
  const bad = checkNewNode(tree, node, path);
  if (bad !== null) return { ok: false, error: bad };
  return ok(balance(updateAt(tree, path, () => ({ ...node, size: target.size }))));
}

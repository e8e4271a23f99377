import type { FlexDirection, LayoutNode } from "@agentmux/common-ipc";
import type { LayoutTree } from "./types.js";

/** A path from the root: the child index taken at each level (`[]` is the root). */
export type NodePath = readonly number[];

/** A leaf shows one block (`data.blockId`) and has no children. */
export function isLeaf(node: LayoutNode): boolean {
  return node.data !== undefined && (node.children === undefined || node.children.length === 0);
}

/** A group arranges its children along its `flexDirection`. */
export function isGroup(node: LayoutNode): boolean {
  return node.children !== undefined && node.children.length > 0;
}

/**
 * Minimize-locked: a minimized leaf (`minimizedSize`), a slipped header (`slipMinimize`) or a
 * dissolved column (`columnDissolve`). Such a node keeps its place and size until the client
 * restores it, so the algebra never splits, moves, swaps, resizes or inserts into it.
 */
export function isLocked(node: LayoutNode): boolean {
  return node.minimizedSize !== undefined || node.slipMinimize !== undefined || node.columnDissolve !== undefined;
}

/** The size a locked node is pinned to (`minimizedLockedSize`), or null when it records none. */
export function lockedSize(node: LayoutNode): number | null {
  const v = node.minimizedLockedSize;
  return isLocked(node) && typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A group the client marked as a slip anchor keeps a single child (the minimize subsystem relies on it). */
export function isSlipAnchor(node: LayoutNode): boolean {
  return node._slipAnchor === true;
}

export function reverseDirection(dir: FlexDirection): FlexDirection {
  return dir === "row" ? "column" : "row";
}

export function childrenOf(node: LayoutNode): readonly LayoutNode[] {
  return node.children ?? [];
}

/** The path of the first node (depth first, pre-order) matching `pred`, or null. */
export function findPath(tree: LayoutTree, pred: (node: LayoutNode) => boolean): number[] | null {
  if (tree === null) return null;
  if (pred(tree)) return [];
  const kids = childrenOf(tree);
  for (let i = 0; i < kids.length; i++) {
    const kid = kids[i];
    if (kid === undefined) continue;
    const sub = findPath(kid, pred);
    if (sub !== null) return [i, ...sub];
  }
  return null;
}

// The two lookups every operation makes, as plain recursive walks that allocate nothing but the
// result path (one stack of child indexes). Trees are small, a few hundred nodes at most: an
// index kept per tree costs more in garbage than these walks.

function idPath(node: LayoutNode, id: string, stack: number[]): boolean {
  if (node.id === id) return true;
  const kids = node.children;
  if (kids === undefined) return false;
  for (let i = 0; i < kids.length; i++) {
    stack.push(i);
    if (idPath(kids[i] as LayoutNode, id, stack)) return true;
    stack.pop();
  }
  return false;
}

function blockPath(node: LayoutNode, blockId: string, stack: number[]): boolean {
  const kids = node.children;
  if (kids === undefined || kids.length === 0) return node.data?.blockId === blockId;
  for (let i = 0; i < kids.length; i++) {
    stack.push(i);
    if (blockPath(kids[i] as LayoutNode, blockId, stack)) return true;
    stack.pop();
  }
  return false;
}

export function pathOfId(tree: LayoutTree, id: string): NodePath | null {
  const stack: number[] = [];
  return tree !== null && idPath(tree, id, stack) ? stack : null;
}

/** True when the tree has a node with this id. */
export function hasId(tree: LayoutTree, id: string): boolean {
  return tree !== null && idPath(tree, id, []);
}

/** The path of the leaf showing this block, or null. */
export function pathOfBlock(tree: LayoutTree, blockId: string): NodePath | null {
  const stack: number[] = [];
  return tree !== null && blockPath(tree, blockId, stack) ? stack : null;
}

export function nodeAt(tree: LayoutTree, path: NodePath): LayoutNode | undefined {
  let cur: LayoutNode | undefined = tree ?? undefined;
  for (const i of path) cur = cur === undefined ? undefined : childrenOf(cur)[i];
  return cur;
}

/** The node with this id, or undefined. */
export function findNode(tree: LayoutTree, id: string): LayoutNode | undefined {
  const path = pathOfId(tree, id);
  return path === null ? undefined : nodeAt(tree, path);
}

/** The leaf showing this block, or undefined. */
export function findLeafByBlock(tree: LayoutTree, blockId: string): LayoutNode | undefined {
  const path = pathOfBlock(tree, blockId);
  return path === null ? undefined : nodeAt(tree, path);
}

/** True when node `id` is node `ancestorId` or lies below it. */
export function contains(tree: LayoutTree, ancestorId: string, id: string): boolean {
  const outer = pathOfId(tree, ancestorId);
  const inner = pathOfId(tree, id);
  return outer !== null && inner !== null && isWithin(inner, outer);
}

/** Every node, depth first, pre-order. */
export function walk(tree: LayoutTree): LayoutNode[] {
  const out: LayoutNode[] = [];
  const visit = (node: LayoutNode): void => {
    out.push(node);
    const kids = node.children;
    if (kids !== undefined) for (const kid of kids) visit(kid);
  };
  if (tree !== null) visit(tree);
  return out;
}

/** Every leaf, in display order (depth first). */
export function leaves(tree: LayoutTree): LayoutNode[] {
  return walk(tree).filter(isLeaf);
}

export function nodeIds(tree: LayoutTree): Set<string> {
  return new Set(walk(tree).map((n) => n.id));
}

/** The block ids the leaves show. */
export function leafBlockIds(tree: LayoutTree): string[] {
  const out: string[] = [];
  for (const leaf of leaves(tree)) if (leaf.data !== undefined) out.push(leaf.data.blockId);
  return out;
}

/**
 * A copy of the tree with the node at `path` replaced by `f(node)`; `null` removes it from
 * its parent (or empties the tree when `path` is the root). Only the nodes along the path
 * are copied; everything else is shared with the input, which is never mutated.
 */
export function updateAt(tree: LayoutNode, path: NodePath, f: (node: LayoutNode) => LayoutNode | null): LayoutTree {
  const [head, ...rest] = path;
  if (head === undefined) return f(tree);
  const kids = childrenOf(tree);
  const kid = kids[head];
  if (kid === undefined) return tree;
  const next = updateAt(kid, rest, f);
  const children = next === null ? kids.filter((_, i) => i !== head) : kids.map((k, i) => (i === head ? next : k));
  return { ...tree, children };
}

/** `items` with `item` inserted at `index` (clamped to the ends). */
export function insertAt<T>(items: readonly T[], index: number, item: T): T[] {
  const i = Math.max(0, Math.min(index, items.length));
  return [...items.slice(0, i), item, ...items.slice(i)];
}

/** A new group id: the caller's, when it is fresh, else one derived from `hint` that is. */
export function freshId(taken: { has(id: string): boolean }, hint: string, newId?: () => string): string {
  const minted = newId?.();
  if (minted !== undefined && minted !== "" && !taken.has(minted)) return minted;
  let id = `${hint}~g`;
  for (let n = 2; taken.has(id); n++) id = `${hint}~g${n}`;
  return id;
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: NodePath, outer: NodePath): boolean {
  return inner.length >= outer.length && outer.every((v, i) => inner[i] === v);
}

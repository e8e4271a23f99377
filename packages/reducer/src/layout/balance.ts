import type { FlexDirection, LayoutNode } from "@agentmux/common-ipc";
import { childrenOf, isGroup, isLeaf, isLocked, isSlipAnchor, leaves, lockedSize, reverseDirection } from "./tree.js";
import { type LayoutTree, MAX_NODE_SIZE, MIN_NODE_SIZE } from "./types.js";

/** Locked sizes closer than this to their pin count as honoured (sizes are floats). */
const SIZE_EPSILON = 1e-9;

export function clampSize(size: number): number {
  if (!Number.isFinite(size)) return MIN_NODE_SIZE;
  return Math.min(MAX_NODE_SIZE, Math.max(MIN_NODE_SIZE, size));
}

/**
 * The canonical form every structural operation ends with, so that every client that folds
 * the same operations renders the same tiles:
 * - groups left without children disappear (an emptied root gives the empty tree);
 * - a group with one child is replaced by that child, which takes the group's slot size
 *   (a group the client marked `_slipAnchor` keeps its single child);
 * - an unlocked group laid out in the same direction as its parent is dissolved into the
 *   parent, its children's sizes scaled to share its slot, so nothing moves on screen;
 * - an unlocked leaf takes the direction opposite its parent's (directions alternate by depth);
 * - sizes are clamped to [MIN_NODE_SIZE, MAX_NODE_SIZE] and minimize-locked sizes snapped
 *   back to their pin (see `snapLockedSizes`).
 * Idempotent. The input is never mutated.
 */
export function balance(tree: LayoutTree): LayoutTree {
  if (tree === null) return null;
  const shaped = shape(tree, null);
  return shaped === null ? null : snapLockedSizes(shaped);
}

// shape() and snapLockedSizes() give back the very node when it is already in canonical form,
// so a balanced tree costs one walk and no copies: only the nodes an operation touched change.
function shape(node: LayoutNode, parentDir: FlexDirection | null): LayoutNode | null {
  const size = clampSize(node.size);
  if (!isGroup(node)) {
    if (node.data === undefined) return null; // an empty group
    const flexDirection = parentDir === null || isLocked(node) ? node.flexDirection : reverseDirection(parentDir);
    if (size === node.size && flexDirection === node.flexDirection && !("children" in node)) return node;
    const { children: _drop, ...leaf } = node; // `children: []` on a leaf is dropped
    return { ...leaf, size, flexDirection };
  }
  const kids = childrenOf(node);
  let children: LayoutNode[] | null = null; // copied on the first change
  for (let i = 0; i < kids.length; i++) {
    const kid = kids[i] as LayoutNode;
    const k = shape(kid, node.flexDirection);
    const dissolves = k !== null && dissolvesInto(k, node.flexDirection);
    if (children === null && k === kid && !dissolves) continue;
    children ??= kids.slice(0, i);
    if (k === null) continue;
    if (dissolves) children.push(...scaled(childrenOf(k), k.size));
    else children.push(k);
  }
  const list = children ?? kids;
  if (list.length === 0) return null;
  const only = list[0];
  if (list.length === 1 && only !== undefined && !isSlipAnchor(node)) {
    // The single child takes this group's slot; a leaf re-aligns to the slot's parent.
    const flexDirection =
      isLeaf(only) && parentDir !== null && !isLocked(only) ? reverseDirection(parentDir) : only.flexDirection;
    return { ...only, size, flexDirection };
  }
  if (children === null && size === node.size) return node;
  return { ...node, size, children: list as LayoutNode[] };
}

function dissolvesInto(node: LayoutNode, parentDir: FlexDirection): boolean {
  return isGroup(node) && node.flexDirection === parentDir && !isLocked(node) && !isSlipAnchor(node);
}

/** `nodes` resized so their sizes keep their proportions and add up to `slot`. */
function scaled(nodes: readonly LayoutNode[], slot: number): LayoutNode[] {
  const total = nodes.reduce((s, n) => s + n.size, 0);
  return nodes.map((n) => ({ ...n, size: clampSize(total > 0 ? (slot * n.size) / total : slot / nodes.length) }));
}

/**
 * Snap every minimize-locked node's size back to its `minimizedLockedSize`, handing the
 * difference to the nearest unlocked sibling (the next one, else the previous one, floored
 * at 1) so the parent's flex budget is kept. With no unlocked sibling the difference is
 * dropped: sizes are relative, so the locked siblings' shares stay right.
 */
export function snapLockedSizes(node: LayoutNode): LayoutNode {
  if (!isGroup(node)) return node;
  const given = childrenOf(node);
  let kids: LayoutNode[] | null = null; // copied on the first change
  for (let i = 0; i < given.length; i++) {
    const kid = given[i] as LayoutNode;
    const snapped = snapLockedSizes(kid);
    if (snapped !== kid) {
      kids ??= [...given];
      kids[i] = snapped;
    }
  }
  for (let i = 0; i < given.length; i++) {
    const kid = (kids ?? given)[i];
    const pin = kid === undefined ? null : lockedSize(kid);
    if (kid === undefined || pin === null) continue;
    const target = clampSize(pin);
    const delta = kid.size - target;
    if (Math.abs(delta) <= SIZE_EPSILON) continue;
    kids ??= [...given];
    kids[i] = { ...kid, size: target };
    const j = beneficiary(kids, i);
    const b = j === null ? undefined : kids[j];
    if (j !== null && b !== undefined) kids[j] = { ...b, size: Math.min(MAX_NODE_SIZE, Math.max(1, b.size + delta)) };
  }
  return kids === null ? node : { ...node, children: kids };
}

function beneficiary(kids: readonly LayoutNode[], i: number): number | null {
  for (let j = i + 1; j < kids.length; j++) {
    const k = kids[j];
    if (k !== undefined && !isLocked(k)) return j;
  }
  for (let j = i - 1; j >= 0; j--) {
    const k = kids[j];
    if (k !== undefined && !isLocked(k)) return j;
  }
  return null;
}

/**
 * The tree without the leaves whose block is not in `liveBlockIds`, balanced (a tab's tree
 * may only show blocks that exist). Returns the input itself when every leaf is live.
 */
export function prune(tree: LayoutTree, liveBlockIds: ReadonlySet<string>): LayoutTree {
  const dead = leaves(tree).filter((l) => l.data !== undefined && !liveBlockIds.has(l.data.blockId));
  if (tree === null || dead.length === 0) return tree;
  const gone = new Set(dead.map((l) => l.id));
  return balance(dropLeaves(tree, gone));
}

function dropLeaves(node: LayoutNode, gone: ReadonlySet<string>): LayoutNode | null {
  if (!isGroup(node)) return gone.has(node.id) ? null : node;
  const children: LayoutNode[] = [];
  for (const kid of childrenOf(node)) {
    const k = dropLeaves(kid, gone);
    if (k !== null) children.push(k);
  }
  return { ...node, children };
}

import type { LayoutNode } from "@agentmux/common-ipc";
import type { LayoutView } from "./focus.js";
import { childrenOf, findNode, isGroup, isLocked, isSlipAnchor, lockedSize } from "./tree.js";
import { type LayoutTree, MAX_NODE_SIZE, MIN_NODE_SIZE } from "./types.js";

/**
 * Every way the tree breaks the algebra's invariants, as messages (empty when sound): each
 * node is a leaf or a non-empty group (the empty tree is `null`), no group keeps a single
 * child (bar a slip anchor), no unlocked group runs in its parent's direction, sizes are
 * finite and within bounds, locked sizes honour their pin, node ids and leaf block ids are
 * unique. Every operation's result passes; a client can check a tree it received.
 */
export function checkTree(tree: LayoutTree): string[] {
  const out: string[] = [];
  if (tree === null) return out;
  const ids = new Set<string>();
  const blocks = new Set<string>();
  const visit = (node: LayoutNode, parent: LayoutNode | null): void => {
    const group = isGroup(node);
    if (node.id === "") out.push("a node has an empty id");
    if (ids.has(node.id)) out.push(`node id ${node.id} appears twice`);
    ids.add(node.id);
    if (group && node.data !== undefined) out.push(`node ${node.id} has both data and children`);
    if (!group && node.data === undefined) out.push(`node ${node.id} is an empty group`);
    if (node.data !== undefined) {
      if (blocks.has(node.data.blockId)) out.push(`block ${node.data.blockId} has two tiles`);
      blocks.add(node.data.blockId);
    }
    if (!Number.isFinite(node.size) || node.size < MIN_NODE_SIZE || node.size > MAX_NODE_SIZE) {
      out.push(`node ${node.id} has size ${node.size}, outside [${MIN_NODE_SIZE}, ${MAX_NODE_SIZE}]`);
    }
    const pin = lockedSize(node);
    if (
      parent !== null &&
      pin !== null &&
      Math.abs(node.size - Math.min(MAX_NODE_SIZE, Math.max(MIN_NODE_SIZE, pin))) > 1e-9
    ) {
      out.push(`locked node ${node.id} has size ${node.size}, not its pinned ${pin}`);
    }
    if (group && childrenOf(node).length === 1 && !isSlipAnchor(node)) out.push(`group ${node.id} has a single child`);
    if (
      parent !== null &&
      group &&
      node.flexDirection === parent.flexDirection &&
      !isLocked(node) &&
      !isSlipAnchor(node)
    ) {
      out.push(`group ${node.id} runs in its parent's direction (${node.flexDirection})`);
    }
    for (const kid of childrenOf(node)) visit(kid, node);
  };
  visit(tree, null);
  return out;
}

/** `checkTree`, plus: the focused and magnified ids resolve to nodes of the tree or are null. */
export function checkView(view: LayoutView): string[] {
  const out = checkTree(view.tree);
  if (view.focusedNodeId !== null && findNode(view.tree, view.focusedNodeId) === undefined) {
    out.push(`focused node ${view.focusedNodeId} is not in the tree`);
  }
  if (view.magnifiedNodeId !== null && findNode(view.tree, view.magnifiedNodeId) === undefined) {
    out.push(`magnified node ${view.magnifiedNodeId} is not in the tree`);
  }
  return out;
}

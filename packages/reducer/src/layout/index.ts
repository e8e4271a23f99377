/**
 * The tile-layout algebra: a tab's tree of tiles (blocks in nested rows and columns) and the
 * operations on it. Pure: no I/O, no clock, no randomness (ids of groups it creates come from
 * `options.newId` or are derived), and immutable: inputs are never mutated. Every structural
 * operation ends with `balance`, so its result is in canonical form.
 */
export { balance, prune, snapLockedSizes } from "./balance.js";
export { EMPTY_VIEW, focus, type LayoutView, magnify, reconcile, type ViewResult, withTree } from "./focus.js";
export {
  checkNewNode,
  deleteNode,
  deleteNodeByBlock,
  insertNode,
  insertNodeAtIndex,
  moveNode,
  replaceNode,
  resizeNodes,
  splitNode,
  swapNodes,
} from "./ops.js";
export {
  contains,
  findLeafByBlock,
  findNode,
  isGroup,
  isLeaf,
  isLocked,
  leafBlockIds,
  leaves,
  lockedSize,
  type NodePath,
  nodeIds,
  walk,
} from "./tree.js";
export {
  DEFAULT_NODE_SIZE,
  type LayoutError,
  type LayoutErrorCode,
  type LayoutOptions,
  type LayoutResult,
  type LayoutTree,
  MAX_CHILDREN,
  MAX_NODE_SIZE,
  MIN_NODE_SIZE,
} from "./types.js";
export { checkTree, checkView } from "./validate.js";

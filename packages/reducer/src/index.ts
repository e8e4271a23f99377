export type { AgentTag } from "./agent-names.js";
export { decide, notForReducer } from "./decide.js";
export type { DraftEvent } from "./emit.js";
export { evolve, evolveAll } from "./evolve.js";
export { checkInvariants } from "./invariants.js";
/** The tile-layout tree algebra, usable on its own: `layout.insertNode(tree, node)`, … */
export * as layout from "./layout/index.js";
export { DEFAULT_RING_CAPACITY, EventRing, type EventsSince } from "./ring.js";
export { type StateJson, stateFromJson, stateToJson } from "./serialize.js";
export { type SnapshotData, snapshot } from "./snapshot.js";
export {
  type DecideContext,
  initialState,
  type ProcessRecord,
  type ReducerState,
  startSession,
  type TabState,
  type WorkspaceState,
} from "./state.js";
export {
  applyLayoutEvent,
  EMPTY_TAB_LAYOUT,
  fromSlices,
  isEmptyLayout,
  layoutEventTab,
  slicesOf,
  type TabLayout,
} from "./tab-layout.js";

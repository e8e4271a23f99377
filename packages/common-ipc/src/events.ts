import * as z from "zod/mini";
import { literalValue } from "./literal.js";
import {
  AgentFault,
  AgentInputRequest,
  AgentRunStatus,
  AgentUsage,
  ClientKind,
  ErrorCode,
  I32,
  JsonValue,
  LayoutClientSlices,
  LayoutNode,
  LifecyclePhase,
  Meta,
  ReqId,
  ResizeOp,
  SplitPosition,
  U32,
  U64,
} from "./primitives.js";

// Field schemas every variant has are built once and shared (schemas are immutable): each
// instance costs start-up time in every process that loads the package.
const optionalReqId = z.optional(ReqId);
/** A string on the wire, as in the original (`""` when the command carried none). */
const correlationId = z._default(z.string(), "");

/** One event variant: `{event: name, ...fields, version, req_id?}`, unknown keys rejected. */
function event<const N extends string, S extends z.core.$ZodShape>(name: N, shape: S) {
  return z.strictObject({ event: z.literal(name), ...shape, version: U64, req_id: optionalReqId });
}

function layoutEvent<const N extends string, S extends z.core.$ZodShape>(name: N, shape: S) {
  return event(name, { ...shape, correlation_id: correlationId });
}

const id = z.string().check(z.minLength(1));
const ids = z._default(z.array(id), []);
const optionalId = z._default(z.nullable(z.string()), null);
const newTree = z._default(z.nullable(LayoutNode), null);
const pair = z.tuple([z.string(), z.string()]);

// --- session ---------------------------------------------------------------
export const Registered = event("registered", {
  client_id: U64,
  launcher_pid: U32,
  launcher_version: z.string(),
});
export const Pong = event("pong", { nonce: U64 });
export const ErrorEvent = event("error", { code: ErrorCode, message: z.string(), fatal: z.boolean() });
export const ProcessSpawned = event("process_spawned", { pid: U32, kind: ClientKind, client_version: z.string() });
export const ProcessExited = event("process_exited", { pid: U32, code: I32 });
export const LifecyclePhaseChanged = event("lifecycle_phase_changed", { from: LifecyclePhase, to: LifecyclePhase });
export const SrvSnapshot = event("srv_snapshot", {
  lifecycle: LifecyclePhase,
  workspaces: z._default(z.array(pair), []),
  tabs: z._default(z.array(z.tuple([z.string(), z.string(), z.string()])), []),
  active_tabs: z._default(z.array(pair), []),
  blocks: z._default(z.array(pair), []),
});

// --- workspace ---------------------------------------------------------------
export const WorkspaceCreated = event("workspace_created", { workspace_id: id, name: z.string() });
export const WorkspaceDeleted = event("workspace_deleted", { workspace_id: id, block_ids: ids });
export const WorkspaceRenamed = event("workspace_renamed", { workspace_id: id, name: z.string() });
export const WorkspaceMetaUpdated = event("workspace_meta_updated", { workspace_id: id, meta_patch: Meta });

// --- tab -------------------------------------------------------------------
export const TabCreated = event("tab_created", { workspace_id: id, tab_id: id, name: z.string() });
export const TabDeleted = event("tab_deleted", { workspace_id: id, tab_id: id, block_ids: ids });
export const ActiveTabChanged = event("active_tab_changed", { workspace_id: id, tab_id: optionalId });
export const TabReordered = event("tab_reordered", { workspace_id: id, tab_id: id, new_index: U32 });
export const TabsReorderedBulk = event("tabs_reordered_bulk", { workspace_id: id, tab_ids: z.array(id) });
export const TabRenamed = event("tab_renamed", { tab_id: id, name: z.string() });
export const TabMetaUpdated = event("tab_meta_updated", { tab_id: id, meta_patch: Meta });
export const TabMoved = event("tab_moved", {
  tab_id: id,
  src_workspace_id: id,
  dst_workspace_id: id,
  dst_index: U32,
  new_src_active_tab_id: optionalId,
  new_dst_active_tab_id: optionalId,
});

// --- block -----------------------------------------------------------------
export const BlockCreated = event("block_created", {
  tab_id: id,
  block_id: id,
  meta: z._default(z.nullable(Meta), null),
});
export const BlockDeleted = event("block_deleted", { tab_id: id, block_id: id });
export const BlockMetaUpdated = event("block_meta_updated", { block_id: id, meta_patch: Meta });
export const BlockMoved = event("block_moved", { block_id: id, src_tab_id: id, dst_tab_id: id, dst_index: U32 });

// --- window ----------------------------------------------------------------
export const SrvWindowOpened = event("srv_window_opened", { window_id: id, workspace_id: id });
export const SrvWindowClosed = event("srv_window_closed", { window_id: id });
export const SrvWindowWorkspaceChanged = event("srv_window_workspace_changed", { window_id: id, workspace_id: id });
export const WindowMetaUpdated = event("window_meta_updated", { window_id: id, meta_patch: Meta });

// --- layout ----------------------------------------------------------------
export const FocusedNodeChanged = event("focused_node_changed", { tab_id: id, node_id: z.string() });
export const MagnifiedNodeChanged = event("magnified_node_changed", { tab_id: id, node_id: z.string() });
export const LayoutNodeInserted = layoutEvent("layout_node_inserted", {
  tab_id: id,
  node: LayoutNode,
  parent_id: optionalId,
  index: z._default(z.nullable(U32), null),
});
export const LayoutNodeInsertedAtIndex = layoutEvent("layout_node_inserted_at_index", {
  tab_id: id,
  node: LayoutNode,
  index_arr: z.array(U32),
  new_tree: newTree,
});
export const LayoutNodeDeleted = layoutEvent("layout_node_deleted", {
  tab_id: id,
  node_id: id,
  new_tree: newTree,
  tree_cleared: z._default(z.boolean(), false),
  was_focused: z.boolean(),
  was_magnified: z._default(z.boolean(), false),
});
export const LayoutNodeMoved = layoutEvent("layout_node_moved", {
  tab_id: id,
  node_id: id,
  new_parent_id: id,
  index: U32,
  new_tree: newTree,
});
export const LayoutNodesSwapped = layoutEvent("layout_nodes_swapped", {
  tab_id: id,
  node1_id: id,
  node2_id: id,
  new_tree: newTree,
});
export const LayoutNodesResized = layoutEvent("layout_nodes_resized", {
  tab_id: id,
  ops: z.array(ResizeOp),
  new_tree: newTree,
});
export const LayoutNodeReplaced = layoutEvent("layout_node_replaced", {
  tab_id: id,
  target_id: id,
  new_node: LayoutNode,
  new_tree: newTree,
});
const splitApplied = { tab_id: id, target_id: id, new_node: LayoutNode, position: SplitPosition, new_tree: newTree };
export const LayoutSplitHorizontalApplied = layoutEvent("layout_split_horizontal_applied", splitApplied);
export const LayoutSplitVerticalApplied = layoutEvent("layout_split_vertical_applied", splitApplied);
export const LayoutCleared = layoutEvent("layout_cleared", { tab_id: id });
export const LayoutTreeReplaced = layoutEvent("layout_tree_replaced", {
  tab_id: id,
  new_tree: newTree,
  slices: z._default(z.nullable(LayoutClientSlices), null),
});
export const LayoutBackendActionsQueued = layoutEvent("layout_backend_actions_queued", {
  tab_id: id,
  actions: z.array(JsonValue).check(z.minLength(1)),
});

// --- saga ------------------------------------------------------------------
export const SagaStarted = event("saga_started", { saga_id: U64, name: z.string() });
export const SagaCompleted = event("saga_completed", { saga_id: U64 });
export const SagaFailed = event("saga_failed", { saga_id: U64, reason: z.string() });

// --- agents (agentmux extension) --------------------------------------------
export const AgentStatus = event("agent_status", {
  block_id: id,
  status: AgentRunStatus,
  pid: z._default(z.nullable(U32), null),
  exit_code: z._default(z.nullable(I32), null),
  turn_active: z.boolean(),
  session_id: z._default(z.nullable(z.string()), null),
  needs_input: z._default(z.boolean(), false),
  usage: z._default(z.nullable(AgentUsage), null),
  requests: z._default(z.array(AgentInputRequest), []),
  fault: z._default(z.nullable(AgentFault), null),
});
export const BlockOutput = event("block_output", { block_id: id, offset: U64, data: z.string() });

/** Every event except `event_list` (the events a bus, a ring or a log may carry). */
export const BusEvent = z.discriminatedUnion("event", [
  Registered,
  Pong,
  ErrorEvent,
  ProcessSpawned,
  ProcessExited,
  LifecyclePhaseChanged,
  SrvSnapshot,
  WorkspaceCreated,
  WorkspaceDeleted,
  WorkspaceRenamed,
  WorkspaceMetaUpdated,
  TabCreated,
  TabDeleted,
  ActiveTabChanged,
  TabReordered,
  TabsReorderedBulk,
  TabRenamed,
  TabMetaUpdated,
  TabMoved,
  BlockCreated,
  BlockDeleted,
  BlockMetaUpdated,
  BlockMoved,
  SrvWindowOpened,
  SrvWindowClosed,
  SrvWindowWorkspaceChanged,
  WindowMetaUpdated,
  FocusedNodeChanged,
  MagnifiedNodeChanged,
  LayoutNodeInserted,
  LayoutNodeInsertedAtIndex,
  LayoutNodeDeleted,
  LayoutNodeMoved,
  LayoutNodesSwapped,
  LayoutNodesResized,
  LayoutNodeReplaced,
  LayoutSplitHorizontalApplied,
  LayoutSplitVerticalApplied,
  LayoutCleared,
  LayoutTreeReplaced,
  LayoutBackendActionsQueued,
  SagaStarted,
  SagaCompleted,
  SagaFailed,
  AgentStatus,
  BlockOutput,
]);
export type BusEvent = z.output<typeof BusEvent>;

/**
 * The private reply to `get_events`. agentmux extensions: `truncated`
 * (default false) is true when events after `since` were no longer available;
 * `more` (default false) is true when another `event_list` page follows (a
 * long catch-up is sent in pages that each fit a frame).
 */
export const EventList = event("event_list", {
  events: z.array(BusEvent),
  truncated: z._default(z.boolean(), false),
  more: z._default(z.boolean(), false),
});

/**
 * The private reply to `list_agents` (agentmux extension): every agent block
 * as of `version` (the state version it was taken at), with its whole meta
 * and its last `agent_status` (null: srv has not run it since it started).
 * Events after `version` bring it up to date.
 */
export const AgentList = event("agent_list", {
  agents: z.array(
    z.strictObject({
      block_id: id,
      tab_id: id,
      workspace_id: id,
      meta: Meta,
      status: z.nullable(z.omit(AgentStatus, { version: true, req_id: true })),
    }),
  ),
});

/**
 * The private reply to `get_layout` (agentmux extension): a tab's whole layout as of
 * `version`, in the shape of `layout_tree_replaced` (the tree, and the slices that are set:
 * focus, magnify, leaf order, queued backend actions), so a client folds it the same way.
 * Layout events after `version` bring it up to date.
 */
export const LayoutState = event("layout_state", {
  tab_id: id,
  new_tree: newTree,
  slices: LayoutClientSlices,
});

/**
 * The private reply to `list_messages` (agentmux extension): the newest messages between agents
 * (and people) that srv's relay accepted, newest first, one record per target, with where each
 * is: `pending` (accepted), `delivering` (being handed over), `delivered`, `read` or `failed`
 * (`outcome` says why, or how it ended).
 */
export const MessageList = event("message_list", {
  messages: z.array(
    z.strictObject({
      message_id: id,
      from: z.string(),
      to: z.string(),
      cc: z.array(z.string()),
      body: z.string(),
      created_at: z.string(),
      state: z.enum(["pending", "delivering", "delivered", "read", "failed"]),
      outcome: z.nullable(z.record(z.string(), JsonValue)),
      updated_at: z.string(),
    }),
  ),
});

export const Event = z.discriminatedUnion("event", [
  ...BusEvent.def.options,
  EventList,
  AgentList,
  LayoutState,
  MessageList,
]);

/** A parsed event (defaults applied). */
export type Event = z.output<typeof Event>;
export type EventInput = z.input<typeof Event>;
export type EventName = Event["event"];
export type EventOf<N extends EventName> = Extract<Event, { event: N }>;

export const EVENT_NAMES: readonly EventName[] = Event.def.options.map((o) => literalValue(o.shape.event));

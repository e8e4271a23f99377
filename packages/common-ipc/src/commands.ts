import * as z from "zod/mini";
import { literalValue } from "./literal.js";
import {
  ClientKind,
  JsonValue,
  LayoutClientSlices,
  LayoutNode,
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
/**
 * The original types `correlation_id` as a plain string, so it is always written as one;
 * a client may leave it out (read as `""`, "no correlation").
 */
const correlationId = z._default(z.string(), "");

/** One command variant: `{cmd: name, ...fields, req_id?}`, unknown keys rejected. */
function command<const N extends string, S extends z.core.$ZodShape>(name: N, shape: S) {
  return z.strictObject({ cmd: z.literal(name), ...shape, req_id: optionalReqId });
}

/** Layout commands also carry the caller's `correlation_id` (`""` when absent), echoed on their events. */
function layoutCommand<const N extends string, S extends z.core.$ZodShape>(name: N, shape: S) {
  return command(name, { ...shape, correlation_id: correlationId });
}

const id = z.string().check(z.minLength(1));
const name = z.string();
const force = z._default(z.boolean(), false);

// --- session ---------------------------------------------------------------
export const Register = command("register", { kind: ClientKind, pid: U32, version: z.string() });
export const Ping = command("ping", { nonce: U64 });
export const Goodbye = command("goodbye", {});
export const GetSrvSnapshot = command("get_srv_snapshot", {});
export const GetEvents = command("get_events", { since: U64 });
/** agentmux extension: the newest relay messages, answered privately with `message_list`. */
export const ListMessages = command("list_messages", {
  limit: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
});
/** agentmux extension: a tab's whole layout, answered privately with `layout_state`. */
export const GetLayout = command("get_layout", { tab_id: z.string().check(z.minLength(1)) });

// --- workspace ---------------------------------------------------------------
export const CreateWorkspace = command("create_workspace", { name });
export const DeleteWorkspace = command("delete_workspace", { workspace_id: id, force });
export const RenameWorkspace = command("rename_workspace", { workspace_id: id, name });
export const UpdateWorkspaceMeta = command("update_workspace_meta", { workspace_id: id, meta_patch: Meta });

// --- tab -------------------------------------------------------------------
export const CreateTab = command("create_tab", { workspace_id: id, name });
export const DeleteTab = command("delete_tab", { workspace_id: id, tab_id: id, force });
export const SetActiveTab = command("set_active_tab", { workspace_id: id, tab_id: id });
export const ReorderTab = command("reorder_tab", { workspace_id: id, tab_id: id, new_index: U32 });
export const ReorderTabsBulk = command("reorder_tabs_bulk", { workspace_id: id, tab_ids: z.array(id) });
export const RenameTab = command("rename_tab", { tab_id: id, name });
export const UpdateTabMeta = command("update_tab_meta", { tab_id: id, meta_patch: Meta });
export const MoveTab = command("move_tab", {
  tab_id: id,
  src_workspace_id: id,
  dst_workspace_id: id,
  dst_index: U32,
});

// --- block -----------------------------------------------------------------
/**
 * agentmux extension on `create_block`: also give the new block a tile in its tab's layout,
 * in the same command (one commit: the block never exists without its tile, or the reverse).
 * The fields mean what they mean on `layout_insert_node`.
 */
export const TilePlacement = z.strictObject({
  parent_id: z._default(z.nullable(z.string()), null),
  index: z._default(z.nullable(U32), null),
  focus_after: z._default(z.boolean(), false),
  magnify_after: z._default(z.boolean(), false),
});
export type TilePlacement = z.output<typeof TilePlacement>;
export const CreateBlock = command("create_block", {
  tab_id: id,
  meta: z._default(z.nullable(Meta), null),
  tile: z.optional(TilePlacement),
});
export const DeleteBlock = command("delete_block", { tab_id: id, block_id: id });
export const UpdateBlockMeta = command("update_block_meta", { block_id: id, meta_patch: Meta });
export const MoveBlock = command("move_block", {
  block_id: id,
  src_tab_id: id,
  dst_tab_id: id,
  dst_index: U32,
});

// --- window ----------------------------------------------------------------
export const CreateWindow = command("create_window", { window_id: id, workspace_id: id });
export const CloseWindowInternal = command("close_window_internal", { window_id: id });
export const SwitchWorkspace = command("switch_workspace", { window_id: id, workspace_id: id });
export const UpdateWindowMeta = command("update_window_meta", { window_id: id, meta_patch: Meta });

// --- layout ----------------------------------------------------------------
const focusFlags = { focus_after: z.boolean(), magnify_after: z.boolean() };
export const SetFocusedNode = command("set_focused_node", { tab_id: id, node_id: z.string() });
export const SetMagnifiedNode = command("set_magnified_node", { tab_id: id, node_id: z.string() });
export const LayoutInsertNode = layoutCommand("layout_insert_node", {
  tab_id: id,
  node: LayoutNode,
  parent_id: z._default(z.nullable(z.string()), null),
  index: z._default(z.nullable(U32), null),
  ...focusFlags,
});
export const LayoutInsertNodeAtIndex = layoutCommand("layout_insert_node_at_index", {
  tab_id: id,
  node: LayoutNode,
  index_arr: z.array(U32),
  ...focusFlags,
});
export const LayoutDeleteNode = layoutCommand("layout_delete_node", { tab_id: id, node_id: id });
export const LayoutDeleteNodeByBlock = layoutCommand("layout_delete_node_by_block", { tab_id: id, block_id: id });
export const LayoutMoveNode = layoutCommand("layout_move_node", {
  tab_id: id,
  node_id: id,
  new_parent_id: id,
  index: U32,
});
export const LayoutSwapNodes = layoutCommand("layout_swap_nodes", { tab_id: id, node1_id: id, node2_id: id });
export const LayoutResizeNodes = layoutCommand("layout_resize_nodes", { tab_id: id, ops: z.array(ResizeOp) });
export const LayoutReplaceNode = layoutCommand("layout_replace_node", {
  tab_id: id,
  target_id: id,
  new_node: LayoutNode,
  focus_after: z.boolean(),
});
const split = { tab_id: id, target_id: id, new_node: LayoutNode, position: SplitPosition, focus_after: z.boolean() };
export const LayoutSplitHorizontal = layoutCommand("layout_split_horizontal", split);
export const LayoutSplitVertical = layoutCommand("layout_split_vertical", split);
export const LayoutClear = layoutCommand("layout_clear", { tab_id: id });
export const LayoutSetTree = layoutCommand("layout_set_tree", {
  tab_id: id,
  new_tree: z._default(z.nullable(LayoutNode), null),
  slices: z._default(z.nullable(LayoutClientSlices), null),
});
export const LayoutQueueBackendActions = layoutCommand("layout_queue_backend_actions", {
  tab_id: id,
  actions: z.array(JsonValue).check(z.minLength(1)),
});

// --- agents (agentmux extension) --------------------------------------------
export const AgentSend = command("agent_send", { block_id: id, message: z.string().check(z.minLength(1)) });
export const AgentInterrupt = command("agent_interrupt", { block_id: id });
export const AgentStop = command("agent_stop", { block_id: id, force });
export const AgentRespond = command("agent_respond", {
  block_id: id,
  request_id: id,
  decision: z.enum(["allow", "deny"]),
  message: z.optional(z.string().check(z.maxLength(4096))),
});
/** Every agent block with its meta and last status, in one reply (`agent_list`): no history fold needed. */
export const ListAgents = command("list_agents", {});
/**
 * A page of a block's transcript: `limit` bytes from `offset`, or (extension) with `before`, the
 * `limit` bytes that end at `before` (at most the transcript's length), read backwards; a
 * client reads the end of a long transcript first with `before: Number.MAX_SAFE_INTEGER`.
 */
export const GetBlockOutput = command("get_block_output", {
  block_id: id,
  offset: z._default(U64, 0),
  limit: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(16 * 1024 * 1024)), 64 * 1024),
  before: z.optional(U64),
});
export const SubscribeOutput = command("subscribe_output", { block_ids: z._default(z.array(id), []) });

// --- sagas (agentmux extension: multi-step operations srv runs as sagas) -----
export const TearOffTab = command("tear_off_tab", { tab_id: id });
export const TearOffBlock = command("tear_off_block", { block_id: id });
export const PromoteBlockToTab = command("promote_block_to_tab", { block_id: id });

export const Command = z.discriminatedUnion("cmd", [
  Register,
  Ping,
  Goodbye,
  GetSrvSnapshot,
  GetEvents,
  GetLayout,
  ListMessages,
  CreateWorkspace,
  DeleteWorkspace,
  RenameWorkspace,
  UpdateWorkspaceMeta,
  CreateTab,
  DeleteTab,
  SetActiveTab,
  ReorderTab,
  ReorderTabsBulk,
  RenameTab,
  UpdateTabMeta,
  MoveTab,
  CreateBlock,
  DeleteBlock,
  UpdateBlockMeta,
  MoveBlock,
  CreateWindow,
  CloseWindowInternal,
  SwitchWorkspace,
  UpdateWindowMeta,
  SetFocusedNode,
  SetMagnifiedNode,
  LayoutInsertNode,
  LayoutInsertNodeAtIndex,
  LayoutDeleteNode,
  LayoutDeleteNodeByBlock,
  LayoutMoveNode,
  LayoutSwapNodes,
  LayoutResizeNodes,
  LayoutReplaceNode,
  LayoutSplitHorizontal,
  LayoutSplitVertical,
  LayoutClear,
  LayoutSetTree,
  LayoutQueueBackendActions,
  AgentSend,
  AgentInterrupt,
  AgentStop,
  AgentRespond,
  GetBlockOutput,
  ListAgents,
  SubscribeOutput,
  TearOffTab,
  TearOffBlock,
  PromoteBlockToTab,
]);

/** A parsed command (defaults applied). */
export type Command = z.output<typeof Command>;
/** A command as a client may write it (defaulted fields optional). */
export type CommandInput = z.input<typeof Command>;
export type CommandName = Command["cmd"];
export type CommandOf<N extends CommandName> = Extract<Command, { cmd: N }>;

export const COMMAND_NAMES: readonly CommandName[] = Command.def.options.map((o) => literalValue(o.shape.cmd));

const LAYOUT_COMMAND_NAMES = new Set<string>(
  COMMAND_NAMES.filter((n) => n.startsWith("layout_") || n === "set_focused_node" || n === "set_magnified_node"),
);

/** True for the layout vocabulary (`layout_*`, `set_focused_node`, `set_magnified_node`). */
export function isLayoutCommand(cmd: Command): boolean {
  return LAYOUT_COMMAND_NAMES.has(cmd.cmd);
}

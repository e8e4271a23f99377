import { type BusEvent, type Command, routeOf } from "@agentmux/common-ipc";
import { agentName, nameTaken, tagAfter } from "./agent-names.js";
import { Emitter } from "./emit.js";
import { emitTile, type Handler, layoutHandlers, planTile, removeTile } from "./layout-commands.js";
import { snapshot } from "./snapshot.js";
import type { DecideContext, ReducerState } from "./state.js";

/** Removes the element at `index`, returning a new array. */
function without<T>(list: readonly T[], index: number): T[] {
  return [...list.slice(0, index), ...list.slice(index + 1)];
}

// --- session ---------------------------------------------------------------

const register: Handler<"register"> = (state, cmd, _ctx, out) => {
  const known = state.processes.get(cmd.pid);
  if (known?.status === "running") {
    out.reject(`pid ${cmd.pid} is already registered`, "already_registered");
    return;
  }
  out.emit({ event: "process_spawned", pid: cmd.pid, kind: cmd.kind, client_version: cmd.version });
  if (state.lifecycle === "starting") {
    out.emit({ event: "lifecycle_phase_changed", from: "starting", to: "running" });
  }
  // Sentinel identity: the server fills in its own pid and version before publishing.
  out.emit({ event: "registered", client_id: state.nextClientId, launcher_pid: 0, launcher_version: "" });
};

const goodbye: Handler<"goodbye"> = (state, _cmd, ctx, out) => {
  const pid = ctx.registeredPid;
  if (pid === null || state.processes.get(pid)?.status !== "running") return;
  out.emit({ event: "process_exited", pid, code: 0 });
};

const ping: Handler<"ping"> = (_state, cmd, _ctx, out) => {
  out.emit({ event: "pong", nonce: cmd.nonce });
};

const getSrvSnapshot: Handler<"get_srv_snapshot"> = (state, _cmd, _ctx, out) => {
  out.emit({ event: "srv_snapshot", ...snapshot(state) });
};

// --- workspace ---------------------------------------------------------------

const createWorkspace: Handler<"create_workspace"> = (_state, cmd, ctx, out) => {
  out.emit({ event: "workspace_created", workspace_id: ctx.newId(), name: cmd.name });
};

const deleteWorkspace: Handler<"delete_workspace"> = (state, cmd, _ctx, out) => {
  const ws = state.workspaces.get(cmd.workspace_id);
  if (!ws) return;
  const blockIds = ws.tabIds.flatMap((t) => state.tabs.get(t)?.blockIds ?? []);
  out.emit({ event: "workspace_deleted", workspace_id: cmd.workspace_id, block_ids: blockIds });
  const windows = [...state.windows].filter(([, w]) => w === cmd.workspace_id).map(([id]) => id);
  for (const windowId of windows.sort()) out.emit({ event: "srv_window_closed", window_id: windowId });
};

const renameWorkspace: Handler<"rename_workspace"> = (state, cmd, _ctx, out) => {
  const ws = state.workspaces.get(cmd.workspace_id);
  if (!ws) return out.reject(`rename_workspace: workspace not found: ${cmd.workspace_id}`);
  if (ws.name === cmd.name) return;
  out.emit({ event: "workspace_renamed", workspace_id: cmd.workspace_id, name: cmd.name });
};

const updateWorkspaceMeta: Handler<"update_workspace_meta"> = (state, cmd, _ctx, out) => {
  if (!state.workspaces.has(cmd.workspace_id)) {
    return out.reject(`update_workspace_meta: workspace not found: ${cmd.workspace_id}`);
  }
  out.emit({ event: "workspace_meta_updated", workspace_id: cmd.workspace_id, meta_patch: cmd.meta_patch });
};

// --- tab -------------------------------------------------------------------

const createTab: Handler<"create_tab"> = (state, cmd, ctx, out) => {
  const ws = state.workspaces.get(cmd.workspace_id);
  if (!ws) return out.reject(`create_tab: workspace not found: ${cmd.workspace_id}`);
  const tabId = ctx.newId();
  const name = cmd.name === "" ? `Tab ${ws.tabIds.length + 1}` : cmd.name;
  out.emit({ event: "tab_created", workspace_id: cmd.workspace_id, tab_id: tabId, name });
  if (ws.tabIds.length === 0) out.emit({ event: "active_tab_changed", workspace_id: cmd.workspace_id, tab_id: tabId });
};

const deleteTab: Handler<"delete_tab"> = (state, cmd, _ctx, out) => {
  const ws = state.workspaces.get(cmd.workspace_id);
  const index = ws ? ws.tabIds.indexOf(cmd.tab_id) : -1;
  if (!ws || index < 0) return;
  if (!cmd.force && ws.tabIds.length === 1) {
    return out.reject(`delete_tab: cannot delete the last tab of workspace ${cmd.workspace_id} without force`);
  }
  const blockIds = [...(state.tabs.get(cmd.tab_id)?.blockIds ?? [])];
  out.emit({ event: "tab_deleted", workspace_id: cmd.workspace_id, tab_id: cmd.tab_id, block_ids: blockIds });
  if (ws.activeTabId === cmd.tab_id) {
    const remaining = without(ws.tabIds, index);
    const next = remaining[index] ?? remaining[index - 1] ?? null;
    out.emit({ event: "active_tab_changed", workspace_id: cmd.workspace_id, tab_id: next });
  }
};

const setActiveTab: Handler<"set_active_tab"> = (state, cmd, _ctx, out) => {
  const ws = state.workspaces.get(cmd.workspace_id);
  if (!ws) return out.reject(`set_active_tab: workspace not found: ${cmd.workspace_id}`);
  if (!ws.tabIds.includes(cmd.tab_id)) {
    return out.reject(`set_active_tab: tab ${cmd.tab_id} is not in workspace ${cmd.workspace_id}`);
  }
  if (ws.activeTabId === cmd.tab_id) return;
  out.emit({ event: "active_tab_changed", workspace_id: cmd.workspace_id, tab_id: cmd.tab_id });
};

const reorderTab: Handler<"reorder_tab"> = (state, cmd, _ctx, out) => {
  const ws = state.workspaces.get(cmd.workspace_id);
  if (!ws) return out.reject(`reorder_tab: workspace not found: ${cmd.workspace_id}`);
  const index = ws.tabIds.indexOf(cmd.tab_id);
  if (index < 0) return out.reject(`reorder_tab: tab ${cmd.tab_id} is not in workspace ${cmd.workspace_id}`);
  const newIndex = Math.min(cmd.new_index, ws.tabIds.length - 1);
  if (newIndex === index) return;
  out.emit({ event: "tab_reordered", workspace_id: cmd.workspace_id, tab_id: cmd.tab_id, new_index: newIndex });
};

const reorderTabsBulk: Handler<"reorder_tabs_bulk"> = (state, cmd, _ctx, out) => {
  const ws = state.workspaces.get(cmd.workspace_id);
  if (!ws) return out.reject(`reorder_tabs_bulk: workspace not found: ${cmd.workspace_id}`);
  const current = new Set(ws.tabIds);
  const given = new Set(cmd.tab_ids);
  if (cmd.tab_ids.length !== ws.tabIds.length || given.size !== cmd.tab_ids.length) {
    return out.reject(
      `reorder_tabs_bulk: expected a permutation of the ${ws.tabIds.length} tabs of workspace ${cmd.workspace_id}`,
    );
  }
  const unknown = cmd.tab_ids.find((t) => !current.has(t));
  if (unknown !== undefined) {
    return out.reject(`reorder_tabs_bulk: tab ${unknown} is not in workspace ${cmd.workspace_id}`);
  }
  if (cmd.tab_ids.every((t, i) => ws.tabIds[i] === t)) return;
  out.emit({ event: "tabs_reordered_bulk", workspace_id: cmd.workspace_id, tab_ids: [...cmd.tab_ids] });
};

const renameTab: Handler<"rename_tab"> = (state, cmd, _ctx, out) => {
  const tab = state.tabs.get(cmd.tab_id);
  if (!tab) return out.reject(`rename_tab: tab not found: ${cmd.tab_id}`);
  if (tab.name === cmd.name) return;
  out.emit({ event: "tab_renamed", tab_id: cmd.tab_id, name: cmd.name });
};

const updateTabMeta: Handler<"update_tab_meta"> = (state, cmd, _ctx, out) => {
  if (!state.tabs.has(cmd.tab_id)) return out.reject(`update_tab_meta: tab not found: ${cmd.tab_id}`);
  out.emit({ event: "tab_meta_updated", tab_id: cmd.tab_id, meta_patch: cmd.meta_patch });
};

const moveTab: Handler<"move_tab"> = (state, cmd, _ctx, out) => {
  if (cmd.src_workspace_id === cmd.dst_workspace_id) {
    return out.reject("move_tab: source and destination workspace are the same");
  }
  const src = state.workspaces.get(cmd.src_workspace_id);
  if (!src) return out.reject(`move_tab: workspace not found: ${cmd.src_workspace_id}`);
  const dst = state.workspaces.get(cmd.dst_workspace_id);
  if (!dst) return out.reject(`move_tab: workspace not found: ${cmd.dst_workspace_id}`);
  if (!state.tabs.has(cmd.tab_id)) return out.reject(`move_tab: tab not found: ${cmd.tab_id}`);
  const index = src.tabIds.indexOf(cmd.tab_id);
  if (index < 0) return out.reject(`move_tab: tab ${cmd.tab_id} is not in workspace ${cmd.src_workspace_id}`);
  const moving = new Set(state.tabs.get(cmd.tab_id)?.blockIds);
  for (const blockId of moving) {
    const taken = nameTaken(state, cmd.dst_workspace_id, agentName(state.agentTags.get(blockId)), moving);
    if (taken) return out.reject(`move_tab: ${taken}`);
  }
  const remaining = without(src.tabIds, index);
  const newSrcActive = src.activeTabId === cmd.tab_id ? (remaining[0] ?? null) : src.activeTabId;
  out.emit({
    event: "tab_moved",
    tab_id: cmd.tab_id,
    src_workspace_id: cmd.src_workspace_id,
    dst_workspace_id: cmd.dst_workspace_id,
    dst_index: Math.min(cmd.dst_index, dst.tabIds.length),
    new_src_active_tab_id: newSrcActive,
    new_dst_active_tab_id: cmd.tab_id,
  });
};

// --- block -----------------------------------------------------------------

const createBlock: Handler<"create_block"> = (state, cmd, ctx, out) => {
  const tab = state.tabs.get(cmd.tab_id);
  if (!tab) return out.reject(`create_block: tab not found: ${cmd.tab_id}`);
  const taken = nameTaken(state, tab.workspaceId, agentName(tagAfter(undefined, cmd.meta)));
  if (taken) return out.reject(`create_block: ${taken}`);
  const blockId = ctx.newId();
  const plan = cmd.tile === undefined ? undefined : planTile(state, cmd.tab_id, blockId, ctx.newId(), cmd.tile);
  if (typeof plan === "string") return out.reject(`create_block: tile: ${plan}`);
  out.emit({ event: "block_created", tab_id: cmd.tab_id, block_id: blockId, meta: cmd.meta });
  if (plan !== undefined && cmd.tile !== undefined) emitTile(state, cmd.tab_id, plan, cmd.tile, out);
};

const deleteBlock: Handler<"delete_block"> = (state, cmd, _ctx, out) => {
  if (state.blocks.get(cmd.block_id) !== cmd.tab_id) return;
  removeTile(state, cmd.tab_id, cmd.block_id, out);
  out.emit({ event: "block_deleted", tab_id: cmd.tab_id, block_id: cmd.block_id });
};

const updateBlockMeta: Handler<"update_block_meta"> = (state, cmd, _ctx, out) => {
  const tabId = state.blocks.get(cmd.block_id);
  if (tabId === undefined) return out.reject(`update_block_meta: block not found: ${cmd.block_id}`);
  // Only a patch that names or un-names an agent is checked (srv's own session keys never are).
  if ("view" in cmd.meta_patch || "agent:name" in cmd.meta_patch) {
    const name = agentName(tagAfter(state.agentTags.get(cmd.block_id), cmd.meta_patch));
    const taken = nameTaken(state, state.tabs.get(tabId)?.workspaceId, name, new Set([cmd.block_id]));
    if (taken) return out.reject(`update_block_meta: ${taken}`);
  }
  out.emit({ event: "block_meta_updated", block_id: cmd.block_id, meta_patch: cmd.meta_patch });
};

const moveBlock: Handler<"move_block"> = (state, cmd, _ctx, out) => {
  const src = state.tabs.get(cmd.src_tab_id);
  if (!src) return out.reject(`move_block: tab not found: ${cmd.src_tab_id}`);
  const dst = state.tabs.get(cmd.dst_tab_id);
  if (!dst) return out.reject(`move_block: tab not found: ${cmd.dst_tab_id}`);
  const owner = state.blocks.get(cmd.block_id);
  if (owner === undefined) return out.reject(`move_block: block not found: ${cmd.block_id}`);
  if (owner !== cmd.src_tab_id) return out.reject(`move_block: block ${cmd.block_id} is not in tab ${cmd.src_tab_id}`);
  if (dst.workspaceId !== src.workspaceId) {
    const taken = nameTaken(
      state,
      dst.workspaceId,
      agentName(state.agentTags.get(cmd.block_id)),
      new Set([cmd.block_id]),
    );
    if (taken) return out.reject(`move_block: ${taken}`);
  }
  const sameTab = cmd.src_tab_id === cmd.dst_tab_id;
  // A same-tab move removes the block first, then clamps against the shortened list.
  const dstLength = sameTab ? dst.blockIds.length - 1 : dst.blockIds.length;
  const dstIndex = Math.min(cmd.dst_index, dstLength);
  if (sameTab && dstIndex === src.blockIds.indexOf(cmd.block_id)) return;
  if (!sameTab) removeTile(state, cmd.src_tab_id, cmd.block_id, out);
  out.emit({
    event: "block_moved",
    block_id: cmd.block_id,
    src_tab_id: cmd.src_tab_id,
    dst_tab_id: cmd.dst_tab_id,
    dst_index: dstIndex,
  });
};

// --- window ----------------------------------------------------------------

const createWindow: Handler<"create_window"> = (state, cmd, _ctx, out) => {
  if (!state.workspaces.has(cmd.workspace_id)) {
    return out.reject(`create_window: workspace not found: ${cmd.workspace_id}`);
  }
  if (state.windows.get(cmd.window_id) === cmd.workspace_id) return;
  out.emit({ event: "srv_window_opened", window_id: cmd.window_id, workspace_id: cmd.workspace_id });
};

const closeWindowInternal: Handler<"close_window_internal"> = (state, cmd, _ctx, out) => {
  if (!state.windows.has(cmd.window_id)) return;
  out.emit({ event: "srv_window_closed", window_id: cmd.window_id });
};

const switchWorkspace: Handler<"switch_workspace"> = (state, cmd, _ctx, out) => {
  const current = state.windows.get(cmd.window_id);
  if (current === undefined) return out.reject(`switch_workspace: window not found: ${cmd.window_id}`);
  if (!state.workspaces.has(cmd.workspace_id)) {
    return out.reject(`switch_workspace: workspace not found: ${cmd.workspace_id}`);
  }
  if (current === cmd.workspace_id) return;
  out.emit({ event: "srv_window_workspace_changed", window_id: cmd.window_id, workspace_id: cmd.workspace_id });
};

const updateWindowMeta: Handler<"update_window_meta"> = (state, cmd, _ctx, out) => {
  if (!state.windows.has(cmd.window_id)) return out.reject(`update_window_meta: window not found: ${cmd.window_id}`);
  out.emit({ event: "window_meta_updated", window_id: cmd.window_id, meta_patch: cmd.meta_patch });
};

const handlers: { [N in Command["cmd"]]?: Handler<N> } = {
  register,
  goodbye,
  ping,
  get_srv_snapshot: getSrvSnapshot,
  create_workspace: createWorkspace,
  delete_workspace: deleteWorkspace,
  rename_workspace: renameWorkspace,
  update_workspace_meta: updateWorkspaceMeta,
  create_tab: createTab,
  delete_tab: deleteTab,
  set_active_tab: setActiveTab,
  reorder_tab: reorderTab,
  reorder_tabs_bulk: reorderTabsBulk,
  rename_tab: renameTab,
  update_tab_meta: updateTabMeta,
  move_tab: moveTab,
  create_block: createBlock,
  delete_block: deleteBlock,
  update_block_meta: updateBlockMeta,
  move_block: moveBlock,
  create_window: createWindow,
  close_window_internal: closeWindowInternal,
  switch_workspace: switchWorkspace,
  update_window_meta: updateWindowMeta,
  ...layoutHandlers,
};

/** The reason `decide` refuses a command it does not own, or undefined when it owns it. */
export function notForReducer(cmd: Command): string | undefined {
  switch (routeOf(cmd)) {
    case "catch_up":
      return `${cmd.cmd} is answered from srv's history and state, not by the reducer`;
    case "agent":
    case "stream":
      return `${cmd.cmd} is served by the agent runtime, not the reducer`;
    case "saga":
      return `${cmd.cmd} runs as a saga in srv, not in the reducer`;
    default:
      // "reducer", and "session" (register and goodbye change the reducer's session state).
      return undefined;
  }
}

/**
 * Decides the events a command causes. Pure: it reads `state` and `ctx`
 * only, never mutates `state`, and reads no clock or randomness. Events are
 * numbered from `state.version + 1`, one version each, in emission order,
 * and carry the command's `req_id`. A no-op returns `[]`; a rejected command
 * returns one broadcast `error` event.
 */
export function decide(state: Readonly<ReducerState>, cmd: Command, ctx: DecideContext): BusEvent[] {
  const out = new Emitter(state.version, cmd.req_id);
  const refusal = notForReducer(cmd);
  if (refusal !== undefined) {
    out.reject(refusal);
    return out.events;
  }
  const handler = handlers[cmd.cmd] as Handler<Command["cmd"]> | undefined;
  if (handler === undefined) out.reject(`${cmd.cmd}: not handled by the reducer`);
  else handler(state, cmd, ctx, out);
  return out.events;
}

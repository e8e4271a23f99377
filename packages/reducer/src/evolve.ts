import type { BusEvent } from "@agentmux/common-ipc";
import { type AgentTag, tagAfter } from "./agent-names.js";
import type { ReducerState, TabState, WorkspaceState } from "./state.js";
import { applyLayoutEvent, EMPTY_TAB_LAYOUT, isEmptyLayout, layoutEventTab } from "./tab-layout.js";

function removeFrom(list: string[], id: string): number {
  const index = list.indexOf(id);
  if (index >= 0) list.splice(index, 1);
  return index;
}

function insertAt(list: string[], index: number, id: string): void {
  list.splice(Math.min(index, list.length), 0, id);
}

function dropTab(state: ReducerState, tabId: string): void {
  const tab = state.tabs.get(tabId);
  if (!tab) return;
  for (const b of tab.blockIds) {
    state.blocks.delete(b);
    state.agentTags.delete(b);
  }
  state.tabs.delete(tabId);
  state.layouts.delete(tabId);
}

/** Folds a layout event into its tab's layout (events about a tab that is gone change nothing). */
function evolveLayout(state: ReducerState, tabId: string, ev: BusEvent): void {
  if (!state.tabs.has(tabId)) return;
  const next = applyLayoutEvent(state.layouts.get(tabId) ?? EMPTY_TAB_LAYOUT, ev);
  if (isEmptyLayout(next)) state.layouts.delete(tabId);
  else state.layouts.set(tabId, next);
}

function setTag(state: ReducerState, blockId: string, tag: AgentTag | undefined): void {
  if (tag === undefined) state.agentTags.delete(blockId);
  else state.agentTags.set(blockId, tag);
}

function workspace(state: ReducerState, id: string): WorkspaceState | undefined {
  return state.workspaces.get(id);
}

function tab(state: ReducerState, id: string): TabState | undefined {
  return state.tabs.get(id);
}

/**
 * Applies one event to `state` **in place** and returns it. The caller owns
 * the state: never hand `evolve` a state someone else is still reading.
 * Events that carry no state (pong, errors, snapshots, saga and agent
 * events) only advance `state.version`. Applying the
 * events `decide` returned, in order, is the only way state changes.
 */
export function evolve(state: ReducerState, ev: BusEvent): ReducerState {
  switch (ev.event) {
    case "registered":
      state.nextClientId = Math.max(state.nextClientId, ev.client_id + 1);
      break;
    case "process_spawned":
      state.processes.set(ev.pid, {
        kind: ev.kind,
        clientVersion: ev.client_version,
        status: "running",
        exitCode: null,
      });
      break;
    case "process_exited": {
      const p = state.processes.get(ev.pid);
      if (p) state.processes.set(ev.pid, { ...p, status: "exited", exitCode: ev.code });
      break;
    }
    case "lifecycle_phase_changed":
      state.lifecycle = ev.to;
      break;
    case "workspace_created":
      state.workspaces.set(ev.workspace_id, { name: ev.name, tabIds: [], activeTabId: null });
      break;
    case "workspace_deleted": {
      const ws = workspace(state, ev.workspace_id);
      if (!ws) break;
      for (const t of ws.tabIds) dropTab(state, t);
      state.workspaces.delete(ev.workspace_id);
      break;
    }
    case "workspace_renamed": {
      const ws = workspace(state, ev.workspace_id);
      if (ws) ws.name = ev.name;
      break;
    }
    case "tab_created": {
      const ws = workspace(state, ev.workspace_id);
      if (!ws) break;
      state.tabs.set(ev.tab_id, { workspaceId: ev.workspace_id, name: ev.name, blockIds: [] });
      ws.tabIds.push(ev.tab_id);
      break;
    }
    case "tab_deleted": {
      // When the tab was active, decide emits the successor's active_tab_changed right after.
      const ws = workspace(state, ev.workspace_id);
      if (ws) removeFrom(ws.tabIds, ev.tab_id);
      dropTab(state, ev.tab_id);
      break;
    }
    case "active_tab_changed": {
      const ws = workspace(state, ev.workspace_id);
      if (ws) ws.activeTabId = ev.tab_id;
      break;
    }
    case "tab_reordered": {
      const ws = workspace(state, ev.workspace_id);
      if (ws && removeFrom(ws.tabIds, ev.tab_id) >= 0) insertAt(ws.tabIds, ev.new_index, ev.tab_id);
      break;
    }
    case "tabs_reordered_bulk": {
      const ws = workspace(state, ev.workspace_id);
      if (ws) ws.tabIds = [...ev.tab_ids];
      break;
    }
    case "tab_renamed": {
      const t = tab(state, ev.tab_id);
      if (t) t.name = ev.name;
      break;
    }
    case "tab_moved": {
      const src = workspace(state, ev.src_workspace_id);
      const dst = workspace(state, ev.dst_workspace_id);
      const t = tab(state, ev.tab_id);
      if (!src || !dst || !t) break;
      removeFrom(src.tabIds, ev.tab_id);
      src.activeTabId = ev.new_src_active_tab_id;
      insertAt(dst.tabIds, ev.dst_index, ev.tab_id);
      t.workspaceId = ev.dst_workspace_id;
      if (ev.new_dst_active_tab_id !== null) dst.activeTabId = ev.new_dst_active_tab_id;
      break;
    }
    case "block_created": {
      const t = tab(state, ev.tab_id);
      if (!t) break;
      t.blockIds.push(ev.block_id);
      state.blocks.set(ev.block_id, ev.tab_id);
      setTag(state, ev.block_id, tagAfter(undefined, ev.meta));
      break;
    }
    case "block_meta_updated":
      if (state.blocks.has(ev.block_id))
        setTag(state, ev.block_id, tagAfter(state.agentTags.get(ev.block_id), ev.meta_patch));
      break;
    case "block_deleted": {
      const t = tab(state, ev.tab_id);
      if (t) removeFrom(t.blockIds, ev.block_id);
      state.blocks.delete(ev.block_id);
      state.agentTags.delete(ev.block_id);
      break;
    }
    case "block_moved": {
      const src = tab(state, ev.src_tab_id);
      const dst = tab(state, ev.dst_tab_id);
      if (!src || !dst) break;
      removeFrom(src.blockIds, ev.block_id);
      insertAt(dst.blockIds, ev.dst_index, ev.block_id);
      state.blocks.set(ev.block_id, ev.dst_tab_id);
      break;
    }
    case "srv_window_opened":
    case "srv_window_workspace_changed":
      state.windows.set(ev.window_id, ev.workspace_id);
      break;
    case "srv_window_closed":
      state.windows.delete(ev.window_id);
      break;
    default: {
      const tabId = layoutEventTab(ev);
      if (tabId !== undefined) evolveLayout(state, tabId, ev);
      break;
    }
  }
  if (ev.version > state.version) state.version = ev.version;
  return state;
}

/** Applies events in order (see {@link evolve}). */
export function evolveAll(state: ReducerState, events: Iterable<BusEvent>): ReducerState {
  for (const ev of events) evolve(state, ev);
  return state;
}

import type { EventOf } from "@agentmux/common-ipc";
import type { ReducerState } from "./state.js";

export type SnapshotData = Omit<EventOf<"srv_snapshot">, "event" | "version" | "req_id">;

function byFirst<T extends readonly [string, ...string[]]>(rows: T[]): T[] {
  return rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The lists of an `srv_snapshot` event, each sorted by its first element. */
export function snapshot(state: Readonly<ReducerState>): SnapshotData {
  const workspaces: [string, string][] = [];
  const activeTabs: [string, string][] = [];
  for (const [id, ws] of state.workspaces) {
    workspaces.push([id, ws.name]);
    if (ws.activeTabId !== null) activeTabs.push([id, ws.activeTabId]);
  }
  const tabs: [string, string, string][] = [];
  for (const [id, t] of state.tabs) tabs.push([id, t.workspaceId, t.name]);
  const blocks: [string, string][] = [...state.blocks];
  return {
    lifecycle: state.lifecycle,
    workspaces: byFirst(workspaces),
    tabs: byFirst(tabs),
    active_tabs: byFirst(activeTabs),
    blocks: byFirst(blocks),
  };
}

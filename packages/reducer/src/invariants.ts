import * as layout from "./layout/index.js";
import type { ReducerState } from "./state.js";

/**
 * Checks the structural invariants of a state and returns every violation
 * (an empty list means the state is sound):
 * every tab's workspace exists and lists it exactly once (and lists no other
 * tab), every block's tab exists and lists it exactly once, an active tab
 * belongs to its workspace, every window points at an existing workspace, and
 * every layout belongs to an existing tab, is sound (`layout.checkView`) and
 * shows only blocks of that tab.
 */
export function checkInvariants(state: Readonly<ReducerState>): string[] {
  const problems: string[] = [];
  for (const [wsId, ws] of state.workspaces) {
    const seen = new Set<string>();
    for (const t of ws.tabIds) {
      if (seen.has(t)) problems.push(`workspace ${wsId} lists tab ${t} twice`);
      seen.add(t);
      if (state.tabs.get(t)?.workspaceId !== wsId)
        problems.push(`workspace ${wsId} lists tab ${t}, which is not its own`);
    }
    if (ws.activeTabId !== null && !seen.has(ws.activeTabId)) {
      problems.push(`workspace ${wsId} has active tab ${ws.activeTabId}, which it does not list`);
    }
  }
  for (const [tabId, tab] of state.tabs) {
    const ws = state.workspaces.get(tab.workspaceId);
    if (!ws) problems.push(`tab ${tabId} belongs to missing workspace ${tab.workspaceId}`);
    else if (ws.tabIds.filter((t) => t === tabId).length !== 1) {
      problems.push(`tab ${tabId} is not listed exactly once by workspace ${tab.workspaceId}`);
    }
    const seen = new Set<string>();
    for (const b of tab.blockIds) {
      if (seen.has(b)) problems.push(`tab ${tabId} lists block ${b} twice`);
      seen.add(b);
      if (state.blocks.get(b) !== tabId) problems.push(`tab ${tabId} lists block ${b}, which is not its own`);
    }
  }
  for (const [blockId, tabId] of state.blocks) {
    const tab = state.tabs.get(tabId);
    if (!tab) problems.push(`block ${blockId} belongs to missing tab ${tabId}`);
    else if (!tab.blockIds.includes(blockId)) problems.push(`block ${blockId} is not listed by tab ${tabId}`);
  }
  for (const [windowId, wsId] of state.windows) {
    if (!state.workspaces.has(wsId)) problems.push(`window ${windowId} points at missing workspace ${wsId}`);
  }
  for (const [tabId, l] of state.layouts) {
    if (!state.tabs.has(tabId)) problems.push(`layout of missing tab ${tabId}`);
    const view = { tree: l.tree, focusedNodeId: l.focusedNodeId, magnifiedNodeId: l.magnifiedNodeId };
    for (const p of layout.checkView(view)) problems.push(`layout of tab ${tabId}: ${p}`);
    for (const b of layout.leafBlockIds(l.tree)) {
      if (state.blocks.get(b) !== tabId) problems.push(`layout of tab ${tabId} shows block ${b}, which is not in it`);
    }
  }
  return problems;
}

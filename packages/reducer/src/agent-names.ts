import type { Meta } from "@agentmux/common-ipc";
import type { ReducerState } from "./state.js";

/**
 * The two keys of a block's meta the reducer keeps (meta is otherwise not state): enough to keep
 * agent names unique per workspace as a pure rule, without reading any store.
 */
export interface AgentTag {
  view: unknown;
  name: unknown;
}

/** The tag after a meta patch (`null` deletes a key); undefined once neither key is set. */
export function tagAfter(tag: AgentTag | undefined, patch: Meta | null | undefined): AgentTag | undefined {
  if (!patch || (!("view" in patch) && !("agent:name" in patch))) return tag;
  const next: AgentTag = { view: tag?.view ?? null, name: tag?.name ?? null };
  if ("view" in patch) next.view = patch.view ?? null;
  if ("agent:name" in patch) next.name = patch["agent:name"] ?? null;
  return next.view === null && next.name === null ? undefined : next;
}

/** The agent name a tag gives its block: only an agent block (`view: "agent"`) has one. */
export function agentName(tag: AgentTag | undefined): string | null {
  return tag?.view === "agent" && typeof tag.name === "string" ? tag.name : null;
}

function workspaceOf(state: Readonly<ReducerState>, blockId: string): string | undefined {
  const tabId = state.blocks.get(blockId);
  return tabId === undefined ? undefined : state.tabs.get(tabId)?.workspaceId;
}

/** The block in `workspaceId` (other than those in `except`) whose agent is called `name`, if any. */
export function agentNamed(
  state: Readonly<ReducerState>,
  workspaceId: string,
  name: string,
  except: ReadonlySet<string> = new Set(),
): string | undefined {
  for (const [blockId, tag] of state.agentTags) {
    if (except.has(blockId) || agentName(tag) !== name) continue;
    if (workspaceOf(state, blockId) === workspaceId) return blockId;
  }
  return undefined;
}

/** Why an agent called `name` may not be in `workspaceId`, or undefined when it may. */
export function nameTaken(
  state: Readonly<ReducerState>,
  workspaceId: string | undefined,
  name: string | null,
  except?: ReadonlySet<string>,
): string | undefined {
  if (name === null || workspaceId === undefined) return undefined;
  const other = agentNamed(state, workspaceId, name, except);
  return other === undefined ? undefined : `agent name "${name}" is already used by block ${other} in this workspace`;
}

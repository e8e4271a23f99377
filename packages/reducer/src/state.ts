import type { ClientKind, LifecyclePhase } from "@agentmux/common-ipc";
import type { AgentTag } from "./agent-names.js";
import type { TabLayout } from "./tab-layout.js";

export interface ProcessRecord {
  kind: ClientKind;
  clientVersion: string;
  status: "running" | "exited";
  /** Exit code once `status` is `exited`. */
  exitCode: number | null;
}

export interface WorkspaceState {
  name: string;
  /** Tab ids in display order. */
  tabIds: string[];
  activeTabId: string | null;
}

export interface TabState {
  workspaceId: string;
  name: string;
  /** Block ids in order. */
  blockIds: string[];
}

/**
 * The reducer's state. Owned by one caller (srv's dispatcher); `evolve`
 * mutates it in place. Meta maps are not held here: meta commands only
 * check that the entity exists and pass the patch through to the store.
 */
export interface ReducerState {
  lifecycle: LifecyclePhase;
  /** Version of the last event applied (0 before any). */
  version: number;
  nextClientId: number;
  processes: Map<number, ProcessRecord>;
  workspaces: Map<string, WorkspaceState>;
  tabs: Map<string, TabState>;
  /** block id -> tab id */
  blocks: Map<string, string>;
  /** window id -> workspace id */
  windows: Map<string, string>;
  /** block id -> the block's `view` and `agent:name` meta, for blocks that set either (see agent-names.ts). */
  agentTags: Map<string, AgentTag>;
  /** tab id -> the tab's layout, for tabs whose layout is not empty (see tab-layout.ts). */
  layouts: Map<string, TabLayout>;
}

export function initialState(): ReducerState {
  return {
    lifecycle: "starting",
    version: 0,
    nextClientId: 1,
    processes: new Map(),
    workspaces: new Map(),
    tabs: new Map(),
    blocks: new Map(),
    windows: new Map(),
    agentTags: new Map(),
    layouts: new Map(),
  };
}

/**
 * The state a new server process starts from, given what the store holds:
 * workspaces, tabs, blocks and windows persist, while the session facts of the
 * previous process (its lifecycle phase and the clients registered with it)
 * do not (srv-protocol §7.3: the first `register` of every run moves the
 * lifecycle `starting` → `running`). Versions and client ids keep counting up,
 * so nothing of the earlier run is ever reissued.
 */
export function startSession(state: ReducerState): ReducerState {
  return { ...state, lifecycle: "starting", processes: new Map() };
}

/** What `decide` needs from the outside world, injected so that it stays pure. */
export interface DecideContext {
  /** The caller's clock reading (RFC 3339); the reducer never reads a clock itself. */
  now: string;
  /** Mints a fresh id for a created entity (srv passes `crypto.randomUUID`). */
  newId: () => string;
  /** The pid the calling connection registered with, if any (HTTP passes none). */
  registeredPid: number | null;
}

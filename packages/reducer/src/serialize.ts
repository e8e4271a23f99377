import { ClientKind, LayoutClientSlices, LayoutNode, LifecyclePhase } from "@agentmux/common-ipc";
import { z } from "zod";
import type { ReducerState } from "./state.js";
import { fromSlices, slicesOf, type TabLayout } from "./tab-layout.js";

const Id = z.string().min(1);

const isId = (v: unknown): v is string => typeof v === "string" && v.length > 0;

// The two lists that grow with the state (every block) are checked by plain loops:
// just as strict, several times faster than element-by-element schemas on 100k entries.
const IdList = z.custom<string[]>((v) => Array.isArray(v) && v.every(isId), "expected a list of ids");
const IdPairs = z.custom<[string, string][]>(
  (v) => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && isId(p[0]) && isId(p[1])),
  "expected a list of [id, id] pairs",
);

// A tab's layout is written as the wire writes it (`layout_state`): the tree and its slices.
const Tree = z.custom<LayoutNode>((v) => LayoutNode.safeParse(v).success, "expected a layout tree");
const Slices = z.custom<LayoutClientSlices>((v) => LayoutClientSlices.safeParse(v).success, "expected layout slices");
const LayoutJson = z.strictObject({ tree: Tree.nullable(), slices: Slices });

const StateJson = z.strictObject({
  lifecycle: LifecyclePhase,
  version: z.number().int().min(0),
  nextClientId: z.number().int().min(1),
  processes: z.array(
    z.tuple([
      z.number().int().min(0),
      z.strictObject({
        kind: ClientKind,
        clientVersion: z.string(),
        status: z.enum(["running", "exited"]),
        exitCode: z.number().int().nullable(),
      }),
    ]),
  ),
  workspaces: z.array(
    z.tuple([Id, z.strictObject({ name: z.string(), tabIds: z.array(Id), activeTabId: Id.nullable() })]),
  ),
  tabs: z.array(z.tuple([Id, z.strictObject({ workspaceId: Id, name: z.string(), blockIds: IdList })])),
  blocks: IdPairs,
  windows: IdPairs,
  /** Absent in snapshots from before agent names were indexed: read as none. */
  agentTags: z.array(z.tuple([Id, z.strictObject({ view: z.unknown(), name: z.unknown() })])).optional(),
  /** Absent in snapshots from before layouts: read as every tab's layout empty. */
  layouts: z.array(z.tuple([Id, LayoutJson])).optional(),
});

function layoutToJson(l: TabLayout): z.infer<typeof LayoutJson> {
  return { tree: l.tree, slices: slicesOf(l) };
}

function layoutFromJson(j: z.infer<typeof LayoutJson>): TabLayout {
  return fromSlices(j.tree, j.slices);
}
export type StateJson = z.infer<typeof StateJson>;

/** A JSON-ready copy of the state (Maps as entry arrays), e.g. for a snapshot. */
export function stateToJson(state: Readonly<ReducerState>): StateJson {
  return {
    lifecycle: state.lifecycle,
    version: state.version,
    nextClientId: state.nextClientId,
    processes: [...state.processes],
    workspaces: [...state.workspaces],
    tabs: [...state.tabs],
    blocks: [...state.blocks],
    windows: [...state.windows],
    agentTags: [...state.agentTags],
    layouts: [...state.layouts].map(([id, l]) => [id, layoutToJson(l)]),
  };
}

/** Rebuilds a state from {@link stateToJson} output; returns an error message when it does not validate. */
export function stateFromJson(json: unknown): { ok: true; state: ReducerState } | { ok: false; error: string } {
  const r = StateJson.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, error: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` };
  }
  const s = r.data;
  return {
    ok: true,
    state: {
      lifecycle: s.lifecycle,
      version: s.version,
      nextClientId: s.nextClientId,
      processes: new Map(s.processes),
      workspaces: new Map(s.workspaces),
      tabs: new Map(s.tabs),
      blocks: new Map(s.blocks),
      windows: new Map(s.windows),
      agentTags: new Map(
        (s.agentTags ?? []).map(([id, tag]) => [id, { view: tag.view ?? null, name: tag.name ?? null }]),
      ),
      layouts: new Map((s.layouts ?? []).map(([id, l]) => [id, layoutFromJson(l)])),
    },
  };
}

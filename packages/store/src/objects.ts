import { LayoutClientSlices, LayoutNode, type Meta as MetaMap } from "@agentmux/common-ipc";
import { z } from "zod";
import type { OType } from "./schema.js";

const Id = z.string().min(1);

/**
 * Stored meta maps come out of JSON.parse, so their values are JSON already:
 * reads check the structure, not every nested value again.
 */
const Meta = z.record(z.string(), z.unknown()) as unknown as z.ZodType<MetaMap>;

// Layout trees and slices are checked with the wire's own schemas.
const Tree = z.custom<LayoutNode>((v) => LayoutNode.safeParse(v).success, "expected a layout tree");
const Slices = z.custom<LayoutClientSlices>((v) => LayoutClientSlices.safeParse(v).success, "expected layout slices");

/** Stored object shapes (the `data` column), validated on every read. */
export const ObjectShapes = {
  client: z.object({ otype: z.literal("client"), windowids: z.array(Id), meta: Meta }),
  window: z.object({ otype: z.literal("window"), workspaceid: Id, meta: Meta }),
  workspace: z.object({
    otype: z.literal("workspace"),
    name: z.string(),
    tabids: z.array(Id),
    /** "" when the workspace has no active tab. */
    activetabid: z.string(),
    meta: Meta,
  }),
  tab: z.object({ otype: z.literal("tab"), name: z.string(), workspaceid: Id, blockids: z.array(Id), meta: Meta }),
  block: z.object({ otype: z.literal("block"), parentoref: z.string().startsWith("tab:"), meta: Meta }),
  /** A tab's layout (oid = the tab's id), as `layout_state` shows it: the tree and the slices that are set. */
  layout: z.object({ otype: z.literal("layout"), tree: Tree.nullable(), slices: Slices }),
} as const;

export type ObjectData<T extends OType> = z.infer<(typeof ObjectShapes)[T]>;
export type ClientObject = ObjectData<"client">;
export type WindowObject = ObjectData<"window">;
export type WorkspaceObject = ObjectData<"workspace">;
export type TabObject = ObjectData<"tab">;
export type BlockObject = ObjectData<"block">;
export type LayoutObject = ObjectData<"layout">;

/** An object as read: its data plus its id and per-object version. */
export type StoredObject<T extends OType> = ObjectData<T> & { oid: string; version: number };

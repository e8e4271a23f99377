import { type FlexDirection, LayoutNode } from "@agentmux/common-ipc";
import { expect } from "vitest";
import { layout } from "../src/index.js";
import { deepFreeze } from "./harness.js";

/** A leaf showing block `b<id>` unless told otherwise. */
export function leaf(id: string, size = 10, extra: Record<string, unknown> = {}): LayoutNode {
  return { id, flexDirection: "row", size, data: { blockId: `b-${id}` }, ...extra };
}

export function group(
  id: string,
  flexDirection: FlexDirection,
  children: LayoutNode[],
  size = 10,
  extra: Record<string, unknown> = {},
): LayoutNode {
  return { id, flexDirection, size, children, ...extra };
}

/** A minimize-locked leaf pinned at `pin`. */
export function lockedLeaf(id: string, pin: number): LayoutNode {
  return leaf(id, pin, { minimizedSize: 33, minimizedLockedSize: pin });
}

/** The tree of a successful result (fails the test on an error). */
export function must(r: layout.LayoutResult): layout.LayoutTree {
  if (!r.ok) throw new Error(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r.tree;
}

export function errorCode(r: layout.LayoutResult | layout.ViewResult): string | null {
  return r.ok ? null : r.error.code;
}

/** Freezes every input so any mutation throws, and clones it to compare afterwards. */
export function frozen<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

/** The compact shape of a tree: `id` for a leaf, `id(dir: kids…)` for a group, sizes in brackets. */
export function sketch(tree: layout.LayoutTree): string {
  if (tree === null) return "∅";
  const s = (n: LayoutNode): string =>
    n.children === undefined || n.children.length === 0
      ? `${n.id}[${round(n.size)}]`
      : `${n.id}[${round(n.size)}](${n.flexDirection === "row" ? "r" : "c"}: ${n.children.map(s).join(" ")})`;
  return s(tree);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The tree is sound, and survives the wire schema unchanged. */
export function expectSound(tree: layout.LayoutTree): void {
  expect(layout.checkTree(tree)).toEqual([]);
  if (tree !== null) {
    const parsed = LayoutNode.safeParse(JSON.parse(JSON.stringify(tree)));
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(tree);
  }
}

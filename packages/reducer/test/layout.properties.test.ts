import type { LayoutNode } from "@agentmux/common-ipc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { layout } from "../src/index.js";
import { deepFreeze } from "./harness.js";
import { expectSound } from "./layout-helpers.js";

const BLOCKS = 24;

/** One abstract step; the numbers pick nodes, blocks and places from the view at run time. */
const step = fc.record({
  kind: fc.constantFrom(
    "insert",
    "insert",
    "insert",
    "insert_parent",
    "insert_parent",
    "insert_at",
    "insert_at",
    "split",
    "split",
    "delete",
    "delete_block",
    "move",
    "swap",
    "resize",
    "replace",
    "prune",
    "lock",
    "focus",
    "magnify",
  ),
  a: fc.nat(64),
  b: fc.nat(64),
  c: fc.nat(8),
  path: fc.array(fc.nat(6), { maxLength: 4 }),
  size: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: -5, max: 110, noNaN: true })),
  flag: fc.boolean(),
  /** Rarely, aim at an id that is not in the tree. */
  unknown: fc.nat(9).map((n) => n === 0),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function pick<T>(items: readonly T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length];
}

/** Runs one step; returns the next view (the input when the step was refused). */
function apply(view: layout.LayoutView, s: Step, fresh: () => string): layout.LayoutView {
  const tree = view.tree;
  const nodes = [...layout.walk(tree)];
  const groups = nodes.filter(layout.isGroup);
  const id = (n: number): string => (s.unknown ? "missing" : (pick(nodes, n)?.id ?? "missing"));
  const newLeaf = (): LayoutNode => ({
    id: fresh(),
    flexDirection: "row",
    size: (s.a % 20) + 1,
    data: { blockId: `b${s.b % BLOCKS}` },
  });
  const opts = { newId: s.flag ? fresh : undefined };
  let r: layout.LayoutResult | null = null;
  switch (s.kind) {
    case "insert":
      r = layout.insertNode(tree, newLeaf(), {}, opts);
      break;
    case "insert_parent":
      r = layout.insertNode(tree, newLeaf(), { parentId: pick(groups, s.a)?.id ?? id(s.a), index: s.c }, opts);
      break;
    case "insert_at":
      r = layout.insertNodeAtIndex(tree, newLeaf(), s.path, opts);
      break;
    case "split":
      r = layout.splitNode(tree, id(s.a), newLeaf(), s.flag ? "before" : "after", s.c % 2 ? "row" : "column", opts);
      break;
    case "delete":
      r = layout.deleteNode(tree, id(s.a));
      break;
    case "delete_block":
      r = layout.deleteNodeByBlock(tree, `b${s.b % BLOCKS}`);
      break;
    case "move":
      r = layout.moveNode(tree, id(s.a), id(s.b), s.c, opts);
      break;
    case "swap":
      r = layout.swapNodes(tree, id(s.a), id(s.b));
      break;
    case "resize":
      r = layout.resizeNodes(tree, [
        { node_id: id(s.a), size: s.size },
        { node_id: id(s.b), size: Math.abs(s.size) % 100 },
      ]);
      break;
    case "replace":
      r = layout.replaceNode(tree, id(s.a), newLeaf());
      break;
    case "prune": {
      // The blocks of a tab change a little at a time: one or two go.
      const gone = new Set([`b${s.a % BLOCKS}`, s.flag ? `b${s.b % BLOCKS}` : ""]);
      const live = new Set(Array.from({ length: BLOCKS }, (_, i) => `b${i}`).filter((b) => !gone.has(b)));
      r = { ok: true, tree: layout.prune(tree, live) };
      break;
    }
    case "lock": {
      // A client marks a leaf minimized (pinned at a small size), through a balanced replace of the tree.
      const target = pick(layout.leaves(tree), s.a);
      if (tree === null || target === undefined) break;
      const mark = (n: LayoutNode): LayoutNode =>
        n.id === target.id
          ? { ...n, minimizedSize: 30, minimizedLockedSize: s.c + 1 }
          : n.children === undefined
            ? n
            : { ...n, children: n.children.map(mark) };
      r = { ok: true, tree: layout.balance(mark(tree)) };
      break;
    }
    case "focus": {
      const f = layout.focus(view, s.flag ? null : id(s.a));
      return f.ok ? f.view : view;
    }
    case "magnify": {
      const m = layout.magnify(view, s.flag ? null : id(s.a));
      return m.ok ? m.view : view;
    }
  }
  if (r === null || !r.ok) return view;
  return layout.withTree(view, r.tree);
}

describe("layout algebra properties", () => {
  it("over random operation sequences the view stays sound and no operation mutates its input", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 80 }), (steps) => {
        let n = 0;
        const fresh = () => `n${n++}`;
        let view: layout.LayoutView = layout.EMPTY_VIEW;
        for (const s of steps) {
          const before = structuredClone(view);
          deepFreeze(view);
          const next = apply(view, s, fresh);
          expect(view).toEqual(before); // frozen, so a mutation would have thrown; also unchanged
          expect(layout.checkView(next)).toEqual([]);
          if (next.magnifiedNodeId !== null && next !== view && s.kind === "magnify") {
            expect(next.focusedNodeId).toBe(next.magnifiedNodeId);
          }
          view = next;
        }
        expectSound(view.tree);
        expect(layout.balance(view.tree)).toEqual(view.tree); // results are canonical
      }),
      { numRuns: 300 },
    );
  });

  it("balance and prune keep every live leaf exactly once and drop the rest", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 60 }), fc.nat(1 << BLOCKS), (steps, mask) => {
        let n = 0;
        const fresh = () => `n${n++}`;
        let view: layout.LayoutView = layout.EMPTY_VIEW;
        for (const s of steps) view = apply(view, s, fresh);
        const tree = deepFreeze(view.tree);
        const live = new Set(Array.from({ length: BLOCKS }, (_, i) => `b${i}`).filter((_, i) => (mask >> i) & 1));
        const pruned = layout.prune(tree, live);
        expectSound(pruned);
        const kept = layout.leafBlockIds(pruned).sort();
        expect(kept).toEqual(
          layout
            .leafBlockIds(tree)
            .filter((b) => live.has(b))
            .sort(),
        );
      }),
      { numRuns: 200 },
    );
  });
});

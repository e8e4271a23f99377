import { describe, expect, it } from "vitest";
import { layout } from "../src/index.js";
import { errorCode, expectSound, frozen, group, leaf, lockedLeaf, must, sketch } from "./layout-helpers.js";

const { DEFAULT_NODE_SIZE } = layout;

/** Three tiles: a | (b / c). */
function abc(): layout.LayoutTree {
  return frozen(group("root", "row", [leaf("a", 50), group("g", "column", [leaf("b", 30), leaf("c", 70)], 50)]));
}

describe("layout: insert", () => {
  it("makes the node the root of an empty tree", () => {
    const tree = must(layout.insertNode(null, frozen(leaf("a", 1))));
    expect(sketch(tree)).toBe("a[1]");
    expect(must(layout.insertNodeAtIndex(null, frozen(leaf("a")), []))).toEqual(leaf("a"));
  });

  it("refuses a parent or an index for an empty tree", () => {
    expect(errorCode(layout.insertNode(null, leaf("a"), { parentId: "x" }))).toBe("position_on_empty_tree");
    expect(errorCode(layout.insertNode(null, leaf("a"), { index: 0 }))).toBe("position_on_empty_tree");
    expect(errorCode(layout.insertNodeAtIndex(null, leaf("a"), [0]))).toBe("position_on_empty_tree");
  });

  it("inserts into an explicit group at an index, clamped, or appends", () => {
    const t = abc();
    expect(sketch(must(layout.insertNode(t, frozen(leaf("d", 5)), { parentId: "g", index: 1 })))).toBe(
      "root[10](r: a[50] g[50](c: b[30] d[5] c[70]))",
    );
    expect(sketch(must(layout.insertNode(t, leaf("d", 5), { parentId: "g", index: 99 })))).toBe(
      "root[10](r: a[50] g[50](c: b[30] c[70] d[5]))",
    );
    expect(sketch(must(layout.insertNode(t, leaf("d", 5), { parentId: "root" })))).toBe(
      "root[10](r: a[50] g[50](c: b[30] c[70]) d[5])",
    );
  });

  it("only inserts into a group that exists and is not minimize-locked", () => {
    const t = abc();
    expect(errorCode(layout.insertNode(t, leaf("d"), { parentId: "a" }))).toBe("not_a_group");
    expect(errorCode(layout.insertNode(t, leaf("d"), { parentId: "nope" }))).toBe("node_not_found");
    expect(errorCode(layout.insertNode(t, leaf("d"), { index: 0 }))).toBe("invalid_index_path");
    const dissolved = frozen(
      group("root", "row", [
        leaf("a", 50),
        group("col", "column", [lockedLeaf("x", 3), lockedLeaf("y", 3)], 50, { columnDissolve: true }),
      ]),
    );
    expect(errorCode(layout.insertNode(dissolved, leaf("d"), { parentId: "col" }))).toBe("node_locked");
  });

  it("without a parent fills the top level first, then nests next to a leaf, never in a locked node", () => {
    // A lone leaf is wrapped into a group with the new node (the group id comes from newId).
    const one = frozen(leaf("a", 100));
    expect(sketch(must(layout.insertNode(one, leaf("b", 10), {}, { newId: () => "G" })))).toBe(
      "G[100](r: a[10] b[10])",
    );
    // Without newId the group id is derived, so the algebra stays deterministic.
    expect(must(layout.insertNode(one, leaf("b")))?.id).toBe("a~g");
    // A root group with room takes the node at its end.
    expect(sketch(must(layout.insertNode(abc(), leaf("d", 10))))).toBe(
      "root[10](r: a[50] g[50](c: b[30] c[70]) d[10])",
    );
    // A full root (MAX_CHILDREN) sends it next to a leaf one level down (the last one first).
    const full = frozen(
      group(
        "root",
        "row",
        ["p", "q", "r", "s", "t"].map((id) => leaf(id)),
      ),
    );
    expect(sketch(must(layout.insertNode(full, leaf("u"), {}, { newId: () => "G" })))).toBe(
      "root[10](r: p[10] q[10] r[10] s[10] G[10](c: t[10] u[10]))",
    );
    const lockedLast = frozen(group("root", "row", [leaf("p"), leaf("q"), leaf("r"), leaf("s"), lockedLeaf("t", 2)]));
    expect(sketch(must(layout.insertNode(lockedLast, leaf("u"), {}, { newId: () => "G" })))).toBe(
      "root[10](r: p[10] q[10] r[10] G[10](c: s[10] u[10]) t[2])",
    );
  });

  it("refuses malformed nodes, reused ids and a block that already has a tile", () => {
    const t = abc();
    expect(errorCode(layout.insertNode(t, leaf("a")))).toBe("duplicate_id");
    expect(errorCode(layout.insertNode(t, { ...leaf("z"), data: { blockId: "b-a" } }))).toBe("duplicate_block");
    expect(errorCode(layout.insertNode(t, { id: "z", flexDirection: "row", size: 1 }))).toBe("invalid_node");
    expect(errorCode(layout.insertNode(t, { ...leaf("z"), id: "" }))).toBe("invalid_node");
    expect(errorCode(layout.insertNode(t, { ...leaf("z"), children: [leaf("y")] }))).toBe("invalid_node");
  });
});

describe("layout: insert at an index path", () => {
  it("inserts after the node the path leads to", () => {
    expect(sketch(must(layout.insertNodeAtIndex(abc(), leaf("d", 5), [1, 0])))).toBe(
      "root[10](r: a[50] g[50](c: b[30] d[5] c[70]))",
    );
    expect(sketch(must(layout.insertNodeAtIndex(abc(), leaf("d", 5), [0])))).toBe(
      "root[10](r: a[50] d[5] g[50](c: b[30] c[70]))",
    );
  });

  it("clamps indexes and stops at a leaf, which it wraps", () => {
    expect(sketch(must(layout.insertNodeAtIndex(abc(), leaf("d", 5), [9, 9])))).toBe(
      "root[10](r: a[50] g[50](c: b[30] c[70] d[5]))",
    );
    expect(sketch(must(layout.insertNodeAtIndex(abc(), leaf("d", 5), [0, 3, 1], { newId: () => "G" })))).toBe(
      "root[10](r: G[50](c: a[10] d[5]) g[50](c: b[30] c[70]))",
    );
  });

  it("refuses an empty path on a tree and a locked target", () => {
    expect(errorCode(layout.insertNodeAtIndex(abc(), leaf("d"), []))).toBe("invalid_index_path");
    const t = frozen(group("root", "row", [leaf("a"), lockedLeaf("m", 2)]));
    expect(errorCode(layout.insertNodeAtIndex(t, leaf("d"), [1, 0]))).toBe("node_locked");
  });
});

describe("layout: split", () => {
  it("shares the target's slot equally when the parent already runs in that direction", () => {
    expect(sketch(must(layout.splitNode(abc(), "b", leaf("d"), "after", "column")))).toBe(
      "root[10](r: a[50] g[50](c: b[15] d[15] c[70]))",
    );
    expect(sketch(must(layout.splitNode(abc(), "b", leaf("d"), "before", "column")))).toBe(
      "root[10](r: a[50] g[50](c: d[15] b[15] c[70]))",
    );
  });

  it("makes a new group in the target's slot for the other direction", () => {
    expect(sketch(must(layout.splitNode(abc(), "b", leaf("d"), "after", "row", { newId: () => "G" })))).toBe(
      "root[10](r: a[50] g[50](c: G[30](r: b[10] d[10]) c[70]))",
    );
    expect(sketch(must(layout.splitNode(frozen(leaf("a", 100)), "a", leaf("d"), "before", "column")))).toBe(
      "a~g[100](c: d[10] a[10])",
    );
  });

  it("refuses a locked target, an unknown one and an empty tree", () => {
    const t = frozen(group("root", "row", [leaf("a"), lockedLeaf("m", 2)]));
    expect(errorCode(layout.splitNode(t, "m", leaf("d"), "after", "row"))).toBe("node_locked");
    expect(errorCode(layout.splitNode(t, "zz", leaf("d"), "after", "row"))).toBe("node_not_found");
    expect(errorCode(layout.splitNode(null, "a", leaf("d"), "after", "row"))).toBe("empty_tree");
  });
});

describe("layout: delete", () => {
  it("collapses a group left with one child into that child, which takes its slot", () => {
    expect(sketch(must(layout.deleteNode(abc(), "b")))).toBe("root[10](r: a[50] c[50])");
    expect(sketch(must(layout.deleteNode(abc(), "g")))).toBe("a[10]");
  });

  it("empties the tree when the root goes", () => {
    expect(must(layout.deleteNode(abc(), "root"))).toBeNull();
  });

  it("is a no-op on an empty tree and refuses an unknown node", () => {
    const r = layout.deleteNode(null, "x");
    expect(r).toEqual({ ok: true, tree: null });
    expect(errorCode(layout.deleteNode(abc(), "x"))).toBe("node_not_found");
  });

  it("deletes by block, and changes nothing when no leaf shows the block", () => {
    const t = abc();
    expect(sketch(must(layout.deleteNodeByBlock(t, "b-c")))).toBe("root[10](r: a[50] b[50])");
    const same = layout.deleteNodeByBlock(t, "b-none");
    expect(same.ok && same.tree).toBe(t);
    expect(must(layout.deleteNodeByBlock(null, "b-a"))).toBeNull();
  });
});

describe("layout: move and swap", () => {
  it("moves into another group with a default size, and reorders within a parent keeping the size", () => {
    expect(sketch(must(layout.moveNode(abc(), "a", "g", 1)))).toBe(`g[10](c: b[30] a[${DEFAULT_NODE_SIZE}] c[70])`);
    const row = frozen(group("root", "row", [leaf("p", 1), leaf("q", 2), leaf("r", 3)]));
    // Within the parent, the index counts positions before the move (as the frontend does).
    expect(sketch(must(layout.moveNode(row, "p", "root", 2)))).toBe("root[10](r: q[2] p[1] r[3])");
    expect(sketch(must(layout.moveNode(row, "r", "root", 0)))).toBe("root[10](r: r[3] p[1] q[2])");
  });

  it("wraps a leaf destination into a group", () => {
    const row = frozen(group("root", "row", [leaf("p"), leaf("q"), leaf("r")]));
    expect(sketch(must(layout.moveNode(row, "p", "q", 1, { newId: () => "G" })))).toBe(
      "root[10](r: G[10](c: q[10] p[10]) r[10])",
    );
  });

  it("refuses the root, a move into its own subtree and locked nodes", () => {
    expect(errorCode(layout.moveNode(abc(), "root", "g", 0))).toBe("root_not_allowed");
    expect(errorCode(layout.moveNode(abc(), "g", "b", 0))).toBe("would_cycle");
    expect(errorCode(layout.moveNode(abc(), "g", "g", 0))).toBe("would_cycle");
    const t = frozen(group("root", "row", [leaf("a"), leaf("b"), lockedLeaf("m", 2)]));
    expect(errorCode(layout.moveNode(t, "m", "root", 0))).toBe("node_locked");
    expect(errorCode(layout.moveNode(t, "a", "m", 0))).toBe("node_locked");
  });

  it("swaps two nodes, each slot keeping its size", () => {
    expect(sketch(must(layout.swapNodes(abc(), "a", "c")))).toBe("root[10](r: c[50] g[50](c: b[30] a[70]))");
    expect(errorCode(layout.swapNodes(abc(), "a", "a"))).toBe("self_swap");
    expect(errorCode(layout.swapNodes(abc(), "root", "a"))).toBe("root_not_allowed");
    expect(errorCode(layout.swapNodes(abc(), "g", "b"))).toBe("would_cycle");
  });
});

describe("layout: resize", () => {
  it("sets sizes within bounds, all or nothing", () => {
    const t = abc();
    expect(
      sketch(
        must(
          layout.resizeNodes(t, [
            { node_id: "b", size: 60 },
            { node_id: "c", size: 40 },
          ]),
        ),
      ),
    ).toBe("root[10](r: a[50] g[50](c: b[60] c[40]))");
    expect(errorCode(layout.resizeNodes(t, [{ node_id: "b", size: 101 }]))).toBe("invalid_size");
    expect(errorCode(layout.resizeNodes(t, [{ node_id: "b", size: -1 }]))).toBe("invalid_size");
    expect(
      errorCode(
        layout.resizeNodes(t, [
          { node_id: "b", size: 50 },
          { node_id: "zz", size: 50 },
        ]),
      ),
    ).toBe("node_not_found");
  });

  it("keeps minimize-locked sizes pinned", () => {
    const t = frozen(group("root", "column", [leaf("a", 40), lockedLeaf("m", 2), leaf("b", 58)]));
    expect(errorCode(layout.resizeNodes(t, [{ node_id: "m", size: 30 }]))).toBe("node_locked");
    expect(sketch(must(layout.resizeNodes(t, [{ node_id: "a", size: 20 }])))).toBe("root[10](c: a[20] m[2] b[58])");
  });
});

describe("layout: replace", () => {
  it("puts the new node in the target's slot, the root included", () => {
    expect(sketch(must(layout.replaceNode(abc(), "b", leaf("d", 1))))).toBe("root[10](r: a[50] g[50](c: d[30] c[70]))");
    expect(sketch(must(layout.replaceNode(abc(), "root", leaf("d", 1))))).toBe("d[10]");
    // The replaced subtree's ids and blocks are free again.
    expect(sketch(must(layout.replaceNode(abc(), "b", { ...leaf("b2"), data: { blockId: "b-b" } })))).toBe(
      "root[10](r: a[50] g[50](c: b2[30] c[70]))",
    );
    expect(errorCode(layout.replaceNode(abc(), "b", { ...leaf("d"), data: { blockId: "b-a" } }))).toBe(
      "duplicate_block",
    );
  });
});

describe("layout: balance", () => {
  it("drops empty groups, collapses single children and dissolves same-direction groups keeping proportions", () => {
    const messy = frozen(
      group("root", "row", [
        group("empty", "column", []),
        group("solo", "column", [leaf("a", 7)], 40),
        group("same", "row", [leaf("b", 1), leaf("c", 3)], 60),
      ]),
    );
    const t = layout.balance(messy);
    expect(sketch(t)).toBe("root[10](r: a[40] b[15] c[45])");
    expectSound(t);
    expect(layout.balance(t)).toEqual(t);
  });

  it("alternates directions by depth, normalizes leaves and clamps sizes", () => {
    const t = layout.balance(
      frozen(
        group("root", "row", [{ ...leaf("a", 500), children: [] }, group("g", "column", [leaf("b", -3), leaf("c")])]),
      ),
    );
    expect(t).toEqual(
      group("root", "row", [
        { ...leaf("a", 100), flexDirection: "column" },
        group("g", "column", [leaf("b", 0), leaf("c", 10)]),
      ]),
    );
  });

  it("snaps minimize-locked sizes back, giving the difference to the next unlocked sibling (else the previous)", () => {
    const drifted = frozen(
      group("root", "column", [
        leaf("a", 40),
        leaf("x", 10, { minimizedSize: 1, minimizedLockedSize: 2 }),
        leaf("b", 50),
      ]),
    );
    expect(sketch(layout.balance(drifted))).toBe("root[10](c: a[40] x[2] b[58])");
    const last = frozen(
      group("root", "column", [leaf("a", 40), leaf("x", 10, { slipMinimize: true, minimizedLockedSize: 2 })]),
    );
    expect(sketch(layout.balance(last))).toBe("root[10](c: a[48] x[2])");
  });

  it("keeps a slip anchor's single child and a dissolved column's direction", () => {
    const t = frozen(
      group("root", "column", [
        leaf("a", 50),
        group("anchor", "row", [leaf("b")], 30, { _slipAnchor: true }),
        group("col", "column", [lockedLeaf("x", 2), lockedLeaf("y", 2)], 20, { columnDissolve: true }),
      ]),
    );
    // Only b re-aligns (across its anchor); the anchor keeps its single child, the column its direction.
    expect(layout.balance(t)).toEqual({
      ...t,
      children: [
        leaf("a", 50),
        group("anchor", "row", [{ ...leaf("b"), flexDirection: "column" }], 30, { _slipAnchor: true }),
        t.children?.[2],
      ],
    });
  });
});

describe("layout: prune", () => {
  it("removes the leaves whose block is gone and rebalances", () => {
    expect(sketch(layout.prune(abc(), new Set(["b-a", "b-c"])))).toBe("root[10](r: a[50] c[50])");
    expect(layout.prune(abc(), new Set())).toBeNull();
    const t = abc();
    expect(layout.prune(t, new Set(["b-a", "b-b", "b-c", "b-extra"]))).toBe(t);
  });
});

describe("layout: focus and magnify", () => {
  const view = (): layout.LayoutView => frozen({ tree: abc(), focusedNodeId: "a", magnifiedNodeId: null });

  it("focuses a node of the tree and refuses an unknown one", () => {
    const r = layout.focus(view(), "c");
    expect(r.ok && r.view.focusedNodeId).toBe("c");
    expect(errorCode(layout.focus(view(), "nope"))).toBe("node_not_found");
    const cleared = layout.focus(view(), null);
    expect(cleared.ok && cleared.view.focusedNodeId).toBeNull();
  });

  it("magnify implies focus; un-magnify leaves the focus", () => {
    const r = layout.magnify(view(), "b");
    expect(r.ok && [r.view.focusedNodeId, r.view.magnifiedNodeId]).toEqual(["b", "b"]);
    if (!r.ok) return;
    const off = layout.magnify(frozen(r.view), null);
    expect(off.ok && [off.view.focusedNodeId, off.view.magnifiedNodeId]).toEqual(["b", null]);
    expect(errorCode(layout.magnify(view(), "nope"))).toBe("node_not_found");
  });

  it("clears ids that no longer resolve after a structural operation", () => {
    const v = frozen({ tree: abc(), focusedNodeId: "b", magnifiedNodeId: "g" });
    const next = layout.withTree(v, must(layout.deleteNode(v.tree, "c")));
    // Deleting c collapses g into b: b still resolves, g does not.
    expect([next.focusedNodeId, next.magnifiedNodeId]).toEqual(["b", null]);
    expect(layout.checkView(next)).toEqual([]);
    expect(layout.reconcile(v)).toBe(v);
    expect(layout.withTree(v, null)).toEqual({ tree: null, focusedNodeId: null, magnifiedNodeId: null });
  });
});

describe("layout: results are sound wire trees", () => {
  it("every example result passes checkTree and round-trips through the wire schema", () => {
    for (const r of [
      layout.insertNode(abc(), leaf("d")),
      layout.insertNodeAtIndex(abc(), leaf("d"), [1, 1]),
      layout.splitNode(abc(), "a", leaf("d"), "after", "column"),
      layout.moveNode(abc(), "c", "root", 0),
      layout.swapNodes(abc(), "a", "b"),
      layout.deleteNode(abc(), "a"),
      layout.replaceNode(abc(), "g", group("h", "row", [leaf("x"), leaf("y")])),
    ]) {
      expectSound(must(r));
    }
  });
});

import { parseEvent } from "@agentmux/common-ipc";
import { describe, expect, it } from "vitest";
import { decide, EventRing, initialState, startSession, stateFromJson, stateToJson } from "../src/index.js";
import { command, counterIds, Harness } from "./harness.js";

const REGISTER = { cmd: "register", kind: "tool", pid: 100, version: "1.0" } as const;

describe("srv-protocol §7 acceptance checks (reducer level)", () => {
  it("§7.1 emitted events are valid wire events with snake_case tags, and echo req_id", () => {
    const h = new Harness();
    const events = [
      ...h.run({ ...REGISTER, req_id: "r1" }),
      ...h.run({ cmd: "create_workspace", name: "Main", req_id: "r2" }),
    ];
    for (const ev of events) expect(parseEvent(JSON.parse(JSON.stringify(ev)))).toEqual({ ok: true, value: ev });
    expect(events.map((e) => e.req_id)).toEqual(["r1", "r1", "r1", "r2"]);
  });

  it("§7.2 (reducer part) goodbye from a caller that never registered emits nothing", () => {
    const h = new Harness();
    expect(h.run({ cmd: "goodbye" })).toEqual([]);
    h.registeredPid = 4242;
    expect(h.run({ cmd: "goodbye" })).toEqual([]);
  });

  it("§7.3 first register: process_spawned(v), lifecycle_phase_changed(v+1), registered(v+2) with sentinel identity", () => {
    const h = new Harness();
    h.run({ cmd: "ping", nonce: 1 });
    expect(h.run(REGISTER)).toEqual([
      { event: "process_spawned", pid: 100, kind: "tool", client_version: "1.0", version: 2 },
      { event: "lifecycle_phase_changed", from: "starting", to: "running", version: 3 },
      { event: "registered", client_id: 1, launcher_pid: 0, launcher_version: "", version: 4 },
    ]);
    expect(h.state.lifecycle).toBe("running");
    // A second client: no lifecycle change, next client id.
    expect(h.run({ ...REGISTER, pid: 101 }).map((e) => e.event)).toEqual(["process_spawned", "registered"]);
    expect(h.log.at(-1)).toMatchObject({ client_id: 2 });
  });

  it("§7.3 a new server process starts its session fresh: lifecycle starting, no clients; objects and versions kept", () => {
    const h = new Harness();
    h.run(REGISTER);
    const ws = h.one({ cmd: "create_workspace", name: "kept" }, "workspace_created");
    const version = h.state.version;
    h.state = startSession(h.state);
    expect(h.state.lifecycle).toBe("starting");
    expect(h.state.processes.size).toBe(0);
    expect(h.state.workspaces.has(ws.workspace_id)).toBe(true);
    // The same pid registers again as a first client: the lifecycle moves again, versions continue.
    expect(h.run(REGISTER).map((e) => [e.event, e.version])).toEqual([
      ["process_spawned", version + 1],
      ["lifecycle_phase_changed", version + 2],
      ["registered", version + 3],
    ]);
    expect(h.log.at(-1)).toMatchObject({ client_id: 2 });
  });

  it("§7.4 registering a still-running pid is a broadcast, versioned already_registered", () => {
    const h = new Harness();
    h.run(REGISTER);
    expect(h.run(REGISTER)).toEqual([
      {
        event: "error",
        code: "already_registered",
        message: "pid 100 is already registered",
        fatal: false,
        version: 4,
      },
    ]);
  });

  it("§7.5 goodbye exits the caller's process with code 0 and the pid may register again", () => {
    const h = new Harness();
    h.run(REGISTER);
    h.registeredPid = 100;
    expect(h.run({ cmd: "goodbye" })).toEqual([{ event: "process_exited", pid: 100, code: 0, version: 4 }]);
    expect(h.run({ cmd: "goodbye" })).toEqual([]);
    expect(h.run(REGISTER).map((e) => e.event)).toEqual(["process_spawned", "registered"]);
    expect(h.state.processes.get(100)?.status).toBe("running");
  });

  it("§7.6 versions rise by exactly 1 per event, pong, snapshot and errors included; no-ops emit nothing", () => {
    const h = new Harness();
    h.run(REGISTER);
    h.run({ cmd: "ping", nonce: 9 });
    h.run({ cmd: "get_srv_snapshot" });
    h.run({ cmd: "rename_tab", tab_id: "nope", name: "x" });
    const ws = h.workspace();
    expect(h.run({ cmd: "delete_workspace", workspace_id: "unknown" })).toEqual([]);
    expect(h.run({ cmd: "rename_workspace", workspace_id: ws, name: "W" })).toEqual([]);
    expect(h.log.map((e) => e.version)).toEqual(h.log.map((_, i) => i + 1));
    expect(h.log.map((e) => e.event)).toEqual([
      "process_spawned",
      "lifecycle_phase_changed",
      "registered",
      "pong",
      "srv_snapshot",
      "error",
      "workspace_created",
    ]);
    expect(h.state.version).toBe(7);
  });

  it("§7.10 create_tab on an empty workspace names it Tab 1 and makes it active; a second tab does not", () => {
    const h = new Harness();
    const ws = h.workspace();
    const first = h.run({ cmd: "create_tab", workspace_id: ws, name: "" });
    expect(first).toEqual([
      { event: "tab_created", workspace_id: ws, tab_id: "id2", name: "Tab 1", version: 2 },
      { event: "active_tab_changed", workspace_id: ws, tab_id: "id2", version: 3 },
    ]);
    const second = h.run({ cmd: "create_tab", workspace_id: ws, name: "" });
    expect(second).toEqual([{ event: "tab_created", workspace_id: ws, tab_id: "id3", name: "Tab 2", version: 4 }]);
    expect(h.activeOf(ws)).toBe("id2");
    expect(h.run({ cmd: "create_tab", workspace_id: "missing", name: "x" })[0]).toMatchObject({
      event: "error",
      message: "create_tab: workspace not found: missing",
    });
  });

  it("§7.11 last-tab delete needs force; deleting the active tab activates the next, else the previous", () => {
    const h = new Harness();
    const ws = h.workspace();
    const [a, b, c] = [h.tab(ws), h.tab(ws), h.tab(ws)];
    h.run({ cmd: "set_active_tab", workspace_id: ws, tab_id: b });
    // Active b at index 1 -> the tab now at index 1 is c.
    expect(h.run({ cmd: "delete_tab", workspace_id: ws, tab_id: b }).map((e) => e.event)).toEqual([
      "tab_deleted",
      "active_tab_changed",
    ]);
    expect(h.activeOf(ws)).toBe(c);
    // Active c is last -> previous (a).
    h.run({ cmd: "delete_tab", workspace_id: ws, tab_id: c });
    expect(h.activeOf(ws)).toBe(a);
    // Last tab: refused without force.
    expect(h.run({ cmd: "delete_tab", workspace_id: ws, tab_id: a })[0]).toMatchObject({
      event: "error",
      code: "invalid_command",
    });
    expect(h.tabsOf(ws)).toEqual([a]);
    const block = h.block(a as string);
    const forced = h.run({ cmd: "delete_tab", workspace_id: ws, tab_id: a, force: true });
    expect(forced.map(({ version: _v, ...rest }) => rest)).toEqual([
      { event: "tab_deleted", workspace_id: ws, tab_id: a, block_ids: [block] },
      { event: "active_tab_changed", workspace_id: ws, tab_id: null },
    ]);
    expect(h.state.blocks.size).toBe(0);
    // Deleting a non-active tab emits no active change; unknown tab or workspace is silent.
    const d = h.tab(ws);
    const e = h.tab(ws);
    expect(h.run({ cmd: "delete_tab", workspace_id: ws, tab_id: e }).map((x) => x.event)).toEqual(["tab_deleted"]);
    expect(h.activeOf(ws)).toBe(d);
    expect(h.run({ cmd: "delete_tab", workspace_id: ws, tab_id: "zz" })).toEqual([]);
    expect(h.run({ cmd: "delete_tab", workspace_id: "zz", tab_id: d })).toEqual([]);
  });

  it("§7.12 delete_workspace cascades blocks and closes its windows; unknown id is silent", () => {
    const h = new Harness();
    const ws = h.workspace();
    const other = h.workspace("Other");
    const t1 = h.tab(ws);
    const t2 = h.tab(ws);
    const blocks = [h.block(t1), h.block(t2), h.block(t2)];
    h.run({ cmd: "create_window", window_id: "win-b", workspace_id: ws });
    h.run({ cmd: "create_window", window_id: "win-a", workspace_id: ws });
    h.run({ cmd: "create_window", window_id: "win-c", workspace_id: other });
    const events = h.run({ cmd: "delete_workspace", workspace_id: ws, force: false });
    expect(events.map(({ version: _v, ...rest }) => rest)).toEqual([
      { event: "workspace_deleted", workspace_id: ws, block_ids: blocks },
      { event: "srv_window_closed", window_id: "win-a" },
      { event: "srv_window_closed", window_id: "win-b" },
    ]);
    expect(h.state.tabs.size).toBe(0);
    expect([...h.state.windows.keys()]).toEqual(["win-c"]);
    expect(h.run({ cmd: "delete_workspace", workspace_id: ws })).toEqual([]);
  });

  it("§7.13 reorder_tabs_bulk rejects duplicates, unknown ids and wrong length; identical order is a no-op", () => {
    const h = new Harness();
    const ws = h.workspace();
    const [a, b, c] = [h.tab(ws), h.tab(ws), h.tab(ws)];
    const bulk = (tab_ids: string[]) => h.run({ cmd: "reorder_tabs_bulk", workspace_id: ws, tab_ids });
    expect(bulk([a, a, b])[0]).toMatchObject({ event: "error" });
    expect(bulk([a, b, "x"])[0]).toMatchObject({ event: "error", message: expect.stringMatching(/tab x is not in/) });
    expect(bulk([a, b])[0]).toMatchObject({ event: "error" });
    expect(bulk([a, b, c, c])[0]).toMatchObject({ event: "error" });
    expect(bulk([a, b, c])).toEqual([]);
    expect(bulk([c, a, b]).map((e) => e.event)).toEqual(["tabs_reordered_bulk"]);
    expect(h.tabsOf(ws)).toEqual([c, a, b]);
  });

  it("§7.14 move_tab rejects same-workspace and wrong-source moves, clamps the index and updates both actives", () => {
    const h = new Harness();
    const src = h.workspace("src");
    const dst = h.workspace("dst");
    const [a, b] = [h.tab(src), h.tab(src)];
    const [x, y] = [h.tab(dst), h.tab(dst)];
    const move = (tab_id: string, s: string, d: string, dst_index: number) =>
      h.run({ cmd: "move_tab", tab_id, src_workspace_id: s, dst_workspace_id: d, dst_index });
    expect(move(a, src, src, 0)[0]).toMatchObject({ event: "error" });
    expect(move(x, src, dst, 0)[0]).toMatchObject({
      event: "error",
      message: expect.stringMatching(/not in workspace/),
    });
    expect(move(a, src, "nope", 0)[0]).toMatchObject({ event: "error" });
    expect(move("nope", src, dst, 0)[0]).toMatchObject({ event: "error" });
    // a is src's active: src's active becomes its first remaining tab; a becomes dst's active at the clamped end.
    expect(move(a, src, dst, 99)).toEqual([
      {
        event: "tab_moved",
        tab_id: a,
        src_workspace_id: src,
        dst_workspace_id: dst,
        dst_index: 2,
        new_src_active_tab_id: b,
        new_dst_active_tab_id: a,
        version: expect.any(Number),
      },
    ]);
    expect(h.tabsOf(src)).toEqual([b]);
    expect(h.tabsOf(dst)).toEqual([x, y, a]);
    expect(h.activeOf(src)).toBe(b);
    expect(h.activeOf(dst)).toBe(a);
    expect(h.state.tabs.get(a)?.workspaceId).toBe(dst);
    // Moving the last tab out leaves the source without an active tab (no last-tab guard in the reducer).
    move(b, src, dst, 0);
    expect(h.activeOf(src)).toBeNull();
    expect(h.tabsOf(dst)).toEqual([b, x, y, a]);
  });

  it("§7.15 srv_snapshot lists are sorted and match the state as of their version", () => {
    const h = new Harness();
    const ws2 = h.workspace("second");
    const ws1 = h.workspace("first");
    const t = h.tab(ws1);
    const b = h.block(t);
    const named = h.tab(ws2, "named");
    const [snap] = h.run({ cmd: "get_srv_snapshot" });
    expect(snap).toEqual({
      event: "srv_snapshot",
      lifecycle: "starting",
      workspaces: [
        [ws1, "first"],
        [ws2, "second"],
      ].sort(),
      tabs: [
        [t, ws1, "Tab 1"],
        [named, ws2, "named"],
      ],
      active_tabs: [
        [ws1, t],
        [ws2, named],
      ].sort(),
      blocks: [[b, t]],
      version: h.state.version,
    });
  });
});

describe("agent names are unique per workspace (a pure rule over an index of agent blocks)", () => {
  const agent = (name: string, extra: Record<string, string> = {}) => ({ view: "agent", "agent:name": name, ...extra });
  function twoWorkspaces() {
    const h = new Harness();
    const a = h.one({ cmd: "create_workspace", name: "a" }, "workspace_created").workspace_id;
    const b = h.one({ cmd: "create_workspace", name: "b" }, "workspace_created").workspace_id;
    const tabA = h.run({ cmd: "create_tab", workspace_id: a, name: "" })[0] as { tab_id: string };
    const tabB = h.run({ cmd: "create_tab", workspace_id: b, name: "" })[0] as { tab_id: string };
    return { h, a, b, tabA: tabA.tab_id, tabB: tabB.tab_id };
  }
  const refusal = (events: { event: string }[]) => (events[0] as { message?: string }).message;

  it("create_block with a name another agent of the workspace has is refused; elsewhere, or not an agent, it is not", () => {
    const { h, tabA, tabB } = twoWorkspaces();
    const alice = h.one({ cmd: "create_block", tab_id: tabA, meta: agent("alice") }, "block_created").block_id;
    expect(refusal(h.run({ cmd: "create_block", tab_id: tabA, meta: agent("alice") }))).toBe(
      `create_block: agent name "alice" is already used by block ${alice} in this workspace`,
    );
    expect(h.run({ cmd: "create_block", tab_id: tabB, meta: agent("alice") })[0]?.event).toBe("block_created");
    expect(h.run({ cmd: "create_block", tab_id: tabA, meta: { "agent:name": "alice" } })[0]?.event).toBe(
      "block_created",
    );
  });

  it("renaming into a taken name is refused; srv's session keys on a block are never checked; deleting frees the name", () => {
    const { h, tabA } = twoWorkspaces();
    const alice = h.one({ cmd: "create_block", tab_id: tabA, meta: agent("alice") }, "block_created").block_id;
    const bob = h.one({ cmd: "create_block", tab_id: tabA, meta: agent("bob") }, "block_created").block_id;
    expect(refusal(h.run({ cmd: "update_block_meta", block_id: bob, meta_patch: { "agent:name": "alice" } }))).toMatch(
      /already used by block/,
    );
    expect(h.run({ cmd: "update_block_meta", block_id: bob, meta_patch: { "session:active_pid": 7 } })[0]?.event).toBe(
      "block_meta_updated",
    );
    h.run({ cmd: "delete_block", tab_id: tabA, block_id: alice });
    expect(h.run({ cmd: "update_block_meta", block_id: bob, meta_patch: { "agent:name": "alice" } })[0]?.event).toBe(
      "block_meta_updated",
    );
    expect(h.state.agentTags.get(bob)).toEqual({ view: "agent", name: "alice" });
  });

  it("moving a block or a tab into a workspace where its agent's name is taken is refused", () => {
    const { h, a, b, tabA, tabB } = twoWorkspaces();
    h.one({ cmd: "create_block", tab_id: tabA, meta: agent("alice") }, "block_created");
    const other = h.one({ cmd: "create_block", tab_id: tabB, meta: agent("alice") }, "block_created").block_id;
    expect(
      refusal(h.run({ cmd: "move_block", block_id: other, src_tab_id: tabB, dst_tab_id: tabA, dst_index: 0 })),
    ).toMatch(/^move_block: agent name "alice" is already used/);
    h.run({ cmd: "create_tab", workspace_id: b, name: "" });
    expect(
      refusal(h.run({ cmd: "move_tab", tab_id: tabB, src_workspace_id: b, dst_workspace_id: a, dst_index: 0 })),
    ).toMatch(/^move_tab: agent name "alice" is already used/);
  });

  it("the index survives a snapshot round trip, and an old snapshot without it reads as empty", () => {
    const { h, tabA } = twoWorkspaces();
    h.one({ cmd: "create_block", tab_id: tabA, meta: agent("alice") }, "block_created");
    const json = JSON.parse(JSON.stringify(stateToJson(h.state)));
    const back = stateFromJson(json);
    expect(back.ok && back.state.agentTags).toEqual(h.state.agentTags);
    delete json.agentTags;
    const old = stateFromJson(json);
    expect(old.ok && old.state.agentTags.size).toBe(0);
  });
});

describe("other command semantics", () => {
  it("set_active_tab errors on unknown workspace or foreign tab, no-op when already active", () => {
    const h = new Harness();
    const ws = h.workspace();
    const [a, b] = [h.tab(ws), h.tab(ws)];
    expect(h.run({ cmd: "set_active_tab", workspace_id: ws, tab_id: a })).toEqual([]);
    expect(h.run({ cmd: "set_active_tab", workspace_id: "zz", tab_id: a })[0]).toMatchObject({ event: "error" });
    expect(h.run({ cmd: "set_active_tab", workspace_id: ws, tab_id: "zz" })[0]).toMatchObject({ event: "error" });
    expect(h.run({ cmd: "set_active_tab", workspace_id: ws, tab_id: b }).map((e) => e.event)).toEqual([
      "active_tab_changed",
    ]);
  });

  it("reorder_tab clamps to the end and is a no-op when unchanged", () => {
    const h = new Harness();
    const ws = h.workspace();
    const [a, b, c] = [h.tab(ws), h.tab(ws), h.tab(ws)];
    expect(h.run({ cmd: "reorder_tab", workspace_id: ws, tab_id: c, new_index: 50 })).toEqual([]);
    expect(h.one({ cmd: "reorder_tab", workspace_id: ws, tab_id: a, new_index: 50 }, "tab_reordered").new_index).toBe(
      2,
    );
    expect(h.tabsOf(ws)).toEqual([b, c, a]);
    h.run({ cmd: "reorder_tab", workspace_id: ws, tab_id: a, new_index: 0 });
    expect(h.tabsOf(ws)).toEqual([a, b, c]);
    expect(h.run({ cmd: "reorder_tab", workspace_id: ws, tab_id: "zz", new_index: 0 })[0]).toMatchObject({
      event: "error",
    });
  });

  it("move_block validates tabs and ownership; a same-tab move clamps against the shortened list", () => {
    const h = new Harness();
    const ws = h.workspace();
    const [t1, t2] = [h.tab(ws), h.tab(ws)];
    const [b1, b2, b3] = [h.block(t1), h.block(t1), h.block(t1)];
    const move = (block_id: string, src_tab_id: string, dst_tab_id: string, dst_index: number) =>
      h.run({ cmd: "move_block", block_id, src_tab_id, dst_tab_id, dst_index });
    expect(move(b1, t2, t1, 0)[0]).toMatchObject({ event: "error", message: expect.stringMatching(/not in tab/) });
    expect(move(b1, "zz", t1, 0)[0]).toMatchObject({ event: "error" });
    expect(move(b1, t1, "zz", 0)[0]).toMatchObject({ event: "error" });
    expect(move("zz", t1, t2, 0)[0]).toMatchObject({ event: "error" });
    expect(move(b3, t1, t1, 99)).toEqual([]);
    expect(move(b1, t1, t1, 99)[0]).toMatchObject({ event: "block_moved", dst_index: 2 });
    expect(h.state.tabs.get(t1)?.blockIds).toEqual([b2, b3, b1]);
    expect(move(b2, t1, t2, 5)[0]).toMatchObject({ event: "block_moved", dst_index: 0 });
    expect(h.state.blocks.get(b2)).toBe(t2);
  });

  it("delete_block is silent on a missing tab or block, or a block of another tab", () => {
    const h = new Harness();
    const ws = h.workspace();
    const [t1, t2] = [h.tab(ws), h.tab(ws)];
    const b = h.block(t1);
    expect(h.run({ cmd: "delete_block", tab_id: t2, block_id: b })).toEqual([]);
    expect(h.run({ cmd: "delete_block", tab_id: "zz", block_id: b })).toEqual([]);
    expect(h.run({ cmd: "delete_block", tab_id: t1, block_id: b }).map((e) => e.event)).toEqual(["block_deleted"]);
    expect(h.run({ cmd: "delete_block", tab_id: t1, block_id: b })).toEqual([]);
  });

  it("windows: create, re-point, switch, close, meta", () => {
    const h = new Harness();
    const [w1, w2] = [h.workspace(), h.workspace()];
    expect(h.run({ cmd: "create_window", window_id: "win", workspace_id: "zz" })[0]).toMatchObject({ event: "error" });
    expect(h.run({ cmd: "create_window", window_id: "win", workspace_id: w1 }).map((e) => e.event)).toEqual([
      "srv_window_opened",
    ]);
    expect(h.run({ cmd: "create_window", window_id: "win", workspace_id: w1 })).toEqual([]);
    expect(h.run({ cmd: "create_window", window_id: "win", workspace_id: w2 }).map((e) => e.event)).toEqual([
      "srv_window_opened",
    ]);
    expect(h.run({ cmd: "switch_workspace", window_id: "win", workspace_id: w2 })).toEqual([]);
    expect(h.run({ cmd: "switch_workspace", window_id: "win", workspace_id: w1 })[0]).toMatchObject({
      event: "srv_window_workspace_changed",
      workspace_id: w1,
    });
    expect(h.run({ cmd: "switch_workspace", window_id: "nope", workspace_id: w1 })[0]).toMatchObject({
      event: "error",
    });
    expect(h.run({ cmd: "switch_workspace", window_id: "win", workspace_id: "zz" })[0]).toMatchObject({
      event: "error",
    });
    expect(h.run({ cmd: "update_window_meta", window_id: "nope", meta_patch: {} })[0]).toMatchObject({
      event: "error",
    });
    expect(h.run({ cmd: "update_window_meta", window_id: "win", meta_patch: { x: 1 } })[0]).toMatchObject({
      event: "window_meta_updated",
      meta_patch: { x: 1 },
    });
    expect(h.run({ cmd: "close_window_internal", window_id: "win" }).map((e) => e.event)).toEqual([
      "srv_window_closed",
    ]);
    expect(h.run({ cmd: "close_window_internal", window_id: "win" })).toEqual([]);
  });

  it("meta commands pass the patch through and error on unknown entities", () => {
    const h = new Harness();
    const ws = h.workspace();
    const t = h.tab(ws);
    const b = h.block(t);
    const patch = { color: "red", gone: null, "p:*": true };
    expect(h.run({ cmd: "update_workspace_meta", workspace_id: ws, meta_patch: patch })[0]).toMatchObject({
      event: "workspace_meta_updated",
      meta_patch: patch,
    });
    expect(h.run({ cmd: "update_tab_meta", tab_id: t, meta_patch: patch })[0]).toMatchObject({ meta_patch: patch });
    expect(h.run({ cmd: "update_block_meta", block_id: b, meta_patch: patch })[0]).toMatchObject({ meta_patch: patch });
    for (const cmd of [
      { cmd: "update_workspace_meta", workspace_id: "zz", meta_patch: {} },
      { cmd: "update_tab_meta", tab_id: "zz", meta_patch: {} },
      { cmd: "update_block_meta", block_id: "zz", meta_patch: {} },
    ] as const) {
      expect(h.run(cmd)[0]).toMatchObject({ event: "error", code: "invalid_command" });
    }
  });

  it("renames error on unknown ids and are no-ops when unchanged", () => {
    const h = new Harness();
    const ws = h.workspace("a");
    const t = h.tab(ws, "t");
    expect(h.run({ cmd: "rename_workspace", workspace_id: ws, name: "b" })[0]).toMatchObject({
      event: "workspace_renamed",
    });
    expect(h.run({ cmd: "rename_tab", tab_id: t, name: "t" })).toEqual([]);
    expect(h.run({ cmd: "rename_tab", tab_id: t, name: "u" })[0]).toMatchObject({ event: "tab_renamed", name: "u" });
    expect(h.run({ cmd: "rename_workspace", workspace_id: "zz", name: "b" })[0]).toMatchObject({ event: "error" });
    expect(h.state.workspaces.get(ws)?.name).toBe("b");
    expect(h.state.tabs.get(t)?.name).toBe("u");
  });

  it("commands served outside the reducer get a clear error", () => {
    const h = new Harness();
    expect(h.run({ cmd: "get_events", since: 0 })[0]).toMatchObject({
      event: "error",
      message: "get_events is answered from srv's history and state, not by the reducer",
    });
    expect(h.run({ cmd: "agent_send", block_id: "b", message: "hi" })[0]).toMatchObject({
      event: "error",
      message: "agent_send is served by the agent runtime, not the reducer",
    });
  });

  it("decide reads ids only from ctx.newId", () => {
    const state = initialState();
    const newId = counterIds("fixed-");
    const events = decide(state, command({ cmd: "create_workspace", name: "x" }), {
      now: "t",
      newId,
      registeredPid: null,
    });
    expect(events[0]).toMatchObject({ workspace_id: "fixed-1" });
    expect(state.workspaces.size).toBe(0);
  });
});

describe("EventRing", () => {
  const pong = (version: number) => ({ event: "pong" as const, nonce: version, version });

  it("§7.9 after 4096+5 appends keeps the newest 4096; since = oldest-2 reports truncation", () => {
    const ring = new EventRing();
    for (let v = 1; v <= 4096 + 5; v++) ring.push(pong(v));
    expect(ring.size).toBe(4096);
    expect(ring.oldestVersion).toBe(6);
    const all = ring.eventsSince(0);
    expect(all.events.map((e) => e.version)).toEqual(Array.from({ length: 4096 }, (_, i) => i + 6));
    expect(ring.eventsSince(6 - 2).truncated).toBe(true);
    expect(ring.eventsSince(6 - 1)).toMatchObject({ truncated: false });
    expect(ring.eventsSince(6 - 1).events).toHaveLength(4096);
    expect(ring.eventsSince(4101)).toEqual({ events: [], truncated: false });
    expect(ring.eventsSince(Number.MAX_SAFE_INTEGER)).toEqual({ events: [], truncated: false });
  });

  it("returns version > since, ascending, and skips snapshots, lists and errors", () => {
    const ring = new EventRing(8);
    ring.push(pong(1));
    ring.push({ event: "error", code: "invalid_command", message: "x", fatal: false, version: 2 });
    ring.push({
      event: "srv_snapshot",
      lifecycle: "running",
      workspaces: [],
      tabs: [],
      active_tabs: [],
      blocks: [],
      version: 3,
    });
    ring.push(pong(4));
    expect(ring.eventsSince(0)).toEqual({ events: [pong(1), pong(4)], truncated: false });
    expect(ring.eventsSince(1).events).toEqual([pong(4)]);
  });

  it("refuses versions that go backwards", () => {
    const ring = new EventRing(4);
    ring.push(pong(5));
    expect(() => ring.push(pong(5))).toThrow(RangeError);
  });
});

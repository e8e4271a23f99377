import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BusEvent } from "@agentmux/common-ipc";
import { checkInvariants, initialState, layout } from "@agentmux/reducer";
import { tempDir } from "@agentmux/testkit";
import Database from "better-sqlite3";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CorruptObjectError,
  DiskFullError,
  formatORef,
  mergeMeta,
  NotFoundError,
  objectMigrations,
  openStore,
  parseORef,
  SqliteFile,
  STARTER_WORKSPACE,
  StoreError,
} from "../src/index.js";
import { Driver, freshStore } from "./helpers.js";

async function world() {
  const store = await freshStore();
  const d = new Driver(store);
  const [ws] = await d.run({ cmd: "create_workspace", name: "W" });
  if (ws?.event !== "workspace_created") throw new Error("setup");
  const [tab] = await d.run({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" });
  if (tab?.event !== "tab_created") throw new Error("setup");
  return { store, d, ws: ws.workspace_id, tab: tab.tab_id };
}

describe("objects through applyEvents", () => {
  it("writes workspaces, tabs and blocks with per-object versions", async () => {
    const { store, d, ws, tab } = await world();
    const [block] = await d.run({ cmd: "create_block", tab_id: tab, meta: { view: "agent" } });
    if (block?.event !== "block_created") throw new Error("setup");
    expect(await store.objects.get("workspace", ws)).toEqual({
      otype: "workspace",
      oid: ws,
      name: "W",
      tabids: [tab],
      activetabid: tab,
      meta: {},
      // created (1), then tab_created and active_tab_changed in the same batch: one bump per update
      version: 3,
    });
    expect(await store.objects.get("block", block.block_id)).toEqual({
      otype: "block",
      oid: block.block_id,
      parentoref: `tab:${tab}`,
      meta: { view: "agent" },
      version: 1,
    });
    await d.run({ cmd: "update_block_meta", block_id: block.block_id, meta_patch: { "agent:name": "alice" } });
    await d.run({ cmd: "update_block_meta", block_id: block.block_id, meta_patch: { view: null } });
    expect(await store.objects.get("block", block.block_id)).toMatchObject({
      meta: { "agent:name": "alice" },
      version: 3,
    });
    await d.run({ cmd: "delete_tab", workspace_id: ws, tab_id: tab, force: true });
    expect(await store.objects.get("block", block.block_id)).toBeUndefined();
    expect(await store.objects.get("tab", tab)).toBeUndefined();
    expect(await store.objects.get("workspace", ws)).toMatchObject({ tabids: [], activetabid: "" });
    await store.close();
  });

  it("is idempotent: applying the same batch twice changes nothing", async () => {
    const { store, d, tab } = await world();
    const events = d.decide({ cmd: "create_block", tab_id: tab });
    events.push(...d.decide({ cmd: "rename_tab", tab_id: tab, name: "renamed" }));
    const first = await store.objects.applyEvents(events);
    const tabAfter = await store.objects.get("tab", tab);
    const logAfter = await store.objects.eventsSince(0);
    const second = await store.objects.applyEvents(events);
    expect(first.applied).toBe(2);
    expect(second).toEqual({ applied: 0, head: first.head });
    expect(await store.objects.get("tab", tab)).toEqual(tabAfter);
    expect(await store.objects.eventsSince(0)).toEqual(logAfter);
    await store.close();
  });

  it("refuses a batch whose versions do not rise, writing none of it", async () => {
    const { store, d, tab } = await world();
    const good = d.decide({ cmd: "create_block", tab_id: tab });
    const head = await store.objects.head();
    const bad = [...good, { ...(good[0] as BusEvent) }];
    await expect(store.objects.applyEvents(bad)).rejects.toBeInstanceOf(StoreError);
    expect(await store.objects.head()).toBe(head);
    expect(await store.objects.getAll("block")).toEqual([]);
    await store.close();
  });

  it("finds the objects whose meta sets a key, and no others", async () => {
    const { store, d, tab } = await world();
    const made = async (meta: Record<string, unknown>) => {
      const [ev] = await d.run({ cmd: "create_block", tab_id: tab, meta: meta as never });
      return (ev as Extract<BusEvent, { event: "block_created" }>).block_id;
    };
    const hit = await made({ "session:active_pid": 42 });
    await made({ note: '"session:active_pid":7 in a value' });
    await made({ "session:activeXpid": 1 }); // "_" in the key is not a wildcard
    const cleared = await made({ "session:active_pid": 9 });
    await d.run({ cmd: "update_block_meta", block_id: cleared, meta_patch: { "session:active_pid": null } });
    const found = await store.objects.withMetaKey("block", "session:active_pid");
    expect(found.map((b) => [b.oid, b.meta["session:active_pid"]])).toEqual([[hit, 42]]);
    await store.close();
  });

  it("logs every replayable event in version order and reads it back from any version", async () => {
    const { store, d, tab } = await world();
    await d.run({ cmd: "ping", nonce: 1 });
    await d.run({ cmd: "rename_tab", tab_id: "missing", name: "x" }); // a broadcast error: versioned, not logged
    await d.run({ cmd: "get_srv_snapshot" }); // versioned, not logged
    await d.run({ cmd: "rename_tab", tab_id: tab, name: "t" });
    const all = await store.objects.eventsSince(0);
    expect(all.events.map((e) => `${e.version}:${e.event}`)).toEqual([
      "1:workspace_created",
      "2:tab_created",
      "3:active_tab_changed",
      "4:pong",
      "7:tab_renamed",
    ]);
    expect(all).toMatchObject({ truncated: false, head: 7 });
    expect((await store.objects.eventsSince(3, 1)).events.map((e) => e.version)).toEqual([4]);
    expect((await store.objects.eventsSince(7)).events).toEqual([]);
    await d.run({ cmd: "create_block", tab_id: tab, req_id: "saga:1:0" });
    expect((await store.objects.eventsByReqId("saga:1:0")).map((e) => e.event)).toEqual(["block_created"]);
    expect(await store.objects.eventsByReqId("saga:1:1")).toEqual([]);
    await store.close();
  });

  it("fails only the corrupt object's read, naming it; getAll fails loudly", async () => {
    const dir = tempDir();
    const store = await freshStore(dir);
    const d = new Driver(store);
    const [w1] = await d.run({ cmd: "create_workspace", name: "one" });
    const [w2] = await d.run({ cmd: "create_workspace", name: "two" });
    if (w1?.event !== "workspace_created" || w2?.event !== "workspace_created") throw new Error("setup");
    const raw = new Database(join(dir, "db", "objects.db"));
    raw.prepare("UPDATE db_workspace SET data = ? WHERE oid = ?").run("{not json", w1.workspace_id);
    raw.close();
    const err = await store.objects.get("workspace", w1.workspace_id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptObjectError);
    expect((err as CorruptObjectError).oref).toBe(`workspace:${w1.workspace_id}`);
    expect(await store.objects.get("workspace", w2.workspace_id)).toMatchObject({ name: "two" });
    await expect(store.objects.getAll("workspace")).rejects.toBeInstanceOf(CorruptObjectError);
    await expect(store.objects.mustGet("tab", "nope")).rejects.toBeInstanceOf(NotFoundError);
    // Valid JSON of the wrong shape is corrupt too.
    const raw2 = new Database(join(dir, "db", "objects.db"));
    raw2.prepare("UPDATE db_workspace SET data = ? WHERE oid = ?").run('{"otype":"workspace"}', w2.workspace_id);
    raw2.close();
    await expect(store.objects.get("workspace", w2.workspace_id)).rejects.toThrow(/workspace:.* is corrupt: name/);
    await store.close();
  });

  it("window records follow the reducer and are listed on the client", async () => {
    const store = await freshStore();
    await store.objects.ensureInitialData({ newId: () => `init-${Math.random()}`, now: "t" });
    const d = new Driver(store);
    d.state = await store.objects.loadState();
    const [ws] = [...d.state.workspaces.keys()];
    await d.run({ cmd: "create_window", window_id: "win-1", workspace_id: ws as string });
    await d.run({ cmd: "update_window_meta", window_id: "win-1", meta_patch: { x: 3 } });
    const [client] = await store.objects.getAll("client");
    expect(client?.windowids).toEqual(["win-1"]);
    expect(await store.objects.get("window", "win-1")).toMatchObject({ workspaceid: ws, meta: { x: 3 } });
    await d.run({ cmd: "delete_workspace", workspace_id: ws as string });
    expect(await store.objects.get("window", "win-1")).toBeUndefined();
    expect((await store.objects.getAll("client"))[0]?.windowids).toEqual([]);
    await store.close();
  });

  it("disk full: writes fail typed, nothing is half-written, and work again once there is room", async () => {
    const { store, d, tab } = await world();
    const big = { blob: "x".repeat(20_000) };
    await store.objects.file.setQuota(256 * 1024);
    let failure: unknown;
    for (let i = 0; i < 100 && failure === undefined; i++) {
      const events = d.decide({ cmd: "create_block", tab_id: tab, meta: big });
      const before = { head: await store.objects.head(), tab: await store.objects.get("tab", tab) };
      failure = await store.objects.applyEvents(events).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (failure !== undefined) {
        expect(failure).toBeInstanceOf(DiskFullError);
        expect(await store.objects.head()).toBe(before.head);
        expect(await store.objects.get("tab", tab)).toEqual(before.tab);
        // Make room without reopening, then the same batch goes through.
        await store.objects.file.setQuota(null);
        expect((await store.objects.applyEvents(events)).applied).toBe(1);
      }
    }
    expect(failure).toBeInstanceOf(DiskFullError);
    expect((await store.objects.loadState()).tabs.get(tab)?.blockIds).toEqual(d.state.tabs.get(tab)?.blockIds);
    await store.close();
  });
});

describe("bootstrap: snapshot + log, and agreement with the object tables", () => {
  it("loadState rebuilds the reducer state, and the object tables agree with it", async () => {
    const commands = fc.array(fc.record({ kind: fc.nat({ max: 14 }), a: fc.nat(), b: fc.nat(), batch: fc.boolean() }), {
      minLength: 5,
      maxLength: 60,
    });
    await fc.assert(
      fc.asyncProperty(commands, async (steps) => {
        const store = await freshStore();
        const d = new Driver(store);
        const pending: BusEvent[] = [];
        for (const s of steps) {
          const ws = [...d.state.workspaces.keys()];
          const tabs = [...d.state.tabs.keys()];
          const blocks = [...d.state.blocks.keys()];
          const W = ws[s.a % Math.max(1, ws.length)] ?? "none";
          const T = tabs[s.b % Math.max(1, tabs.length)] ?? "none";
          const B = blocks[s.a % Math.max(1, blocks.length)] ?? "none";
          const owner = d.state.tabs.get(T)?.workspaceId ?? W;
          const input = [
            { cmd: "create_workspace", name: `w${s.a}` },
            { cmd: "create_tab", workspace_id: W, name: "" },
            { cmd: "create_block", tab_id: T, meta: { n: s.b } },
            { cmd: "delete_tab", workspace_id: owner, tab_id: T, force: s.batch },
            {
              cmd: "move_block",
              block_id: B,
              src_tab_id: d.state.blocks.get(B) ?? T,
              dst_tab_id: T,
              dst_index: s.b % 3,
            },
            { cmd: "move_tab", tab_id: T, src_workspace_id: owner, dst_workspace_id: W, dst_index: s.a % 3 },
            { cmd: "set_active_tab", workspace_id: owner, tab_id: T },
            { cmd: "delete_workspace", workspace_id: W },
            { cmd: "reorder_tab", workspace_id: owner, tab_id: T, new_index: s.a % 4 },
            { cmd: "delete_block", tab_id: d.state.blocks.get(B) ?? T, block_id: B },
            // Layouts: tiles made with their blocks, then split, focused, queued and replaced.
            { cmd: "create_block", tab_id: T, tile: { focus_after: s.batch } },
            {
              cmd: "layout_split_vertical",
              tab_id: T,
              target_id: [...layout.walk(d.state.layouts.get(T)?.tree ?? null)][s.a % 3]?.id ?? "none",
              new_node: { id: `s${s.a}-${d.state.version}`, flexDirection: "row", size: 5, data: { blockId: B } },
              position: "after",
              focus_after: true,
            },
            { cmd: "set_magnified_node", tab_id: T, node_id: d.state.layouts.get(T)?.tree?.id ?? "" },
            { cmd: "layout_queue_backend_actions", tab_id: T, actions: [{ n: s.b }] },
            {
              cmd: "layout_set_tree",
              tab_id: T,
              new_tree: d.state.layouts.get(T)?.tree ?? null,
              slices: { leaforder: [s.a], magnified_node_id: d.state.layouts.get(T)?.tree?.id },
            },
          ][s.kind] as Parameters<Driver["decide"]>[0];
          pending.push(...d.decide(input));
          if (!s.batch) await store.objects.applyEvents(pending.splice(0));
        }
        await store.objects.applyEvents(pending.splice(0));
        const loaded = await store.objects.loadState();
        expect(loaded).toEqual(d.state);
        const model = await store.objects.objectModel();
        expect(model.workspaces).toEqual(d.state.workspaces);
        expect(model.tabs).toEqual(d.state.tabs);
        expect(model.blocks).toEqual(d.state.blocks);
        expect(model.windows).toEqual(d.state.windows);
        expect(model.layouts).toEqual(d.state.layouts);
        expect(checkInvariants(loaded)).toEqual([]);
        await store.close();
      }),
      { numRuns: 40 },
    );
  });

  it("boots from the newest snapshot plus later events; retention drops old events and flags the gap", async () => {
    const { store, d, tab } = await world();
    for (let i = 0; i < 20; i++) await d.run({ cmd: "create_block", tab_id: tab });
    await store.objects.writeSnapshot(d.state, { retainEvents: 5 });
    const snapVersion = d.state.version; // 23
    for (let i = 0; i < 3; i++) await d.run({ cmd: "create_block", tab_id: tab });
    expect(await store.objects.loadState()).toEqual(d.state);

    // Rule: after a snapshot at S, the log keeps the events with version > S - retainEvents.
    const kept = await store.objects.eventsSince(0);
    expect(kept.truncated).toBe(true);
    expect(kept.events[0]?.version).toBe(snapVersion - 5 + 1);
    expect((await store.objects.eventsSince(snapVersion - 5)).truncated).toBe(false);
    expect((await store.objects.eventsSince(snapVersion - 6)).truncated).toBe(true);

    // A snapshot can never be ahead of what the store has applied.
    const ahead = { ...d.state, version: d.state.version + 1 };
    await expect(store.objects.writeSnapshot(ahead)).rejects.toThrow(/ahead of the store/);
    // Even when retention drops every logged event, the head (and so the next version) survives a restart.
    await store.objects.writeSnapshot(d.state, { retainEvents: 0 });
    expect((await store.objects.eventsSince(0)).events).toEqual([]);
    const dir = store.objects.file.path.replace(/\/db\/objects\.db$/, "");
    await store.close();
    const reopened = await openStore({ dataDir: dir });
    expect(await reopened.objects.head()).toBe(d.state.version);
    expect((await reopened.objects.loadState()).version).toBe(d.state.version);
    await reopened.close();
  });

  it("a new store loads as the initial state", async () => {
    const store = await freshStore();
    expect(await store.objects.loadState()).toEqual(initialState());
    await store.close();
  });
});

describe("initial data", () => {
  it("first launch creates the client and one 'Starter workspace' with one tab; later launches add nothing", async () => {
    const dir = tempDir();
    let n = 0;
    const ctx = { newId: () => `uuid-${++n}`, now: "2026-11-21T00:00:00Z" };
    const store = await freshStore(dir);
    const events = await store.objects.ensureInitialData(ctx);
    expect(events.map((e) => e.event)).toEqual(["workspace_created", "tab_created", "active_tab_changed"]);
    await store.close();

    const again = await openStore({ dataDir: dir });
    expect(again.pendingMigrations).toBe(0);
    const state = await again.objects.loadState();
    expect([...state.workspaces.values()].map((w) => w.name)).toEqual([STARTER_WORKSPACE]);
    expect(state.tabs.size).toBe(1);
    // Even with every workspace gone, a second launch adds nothing.
    const d = new Driver(again);
    d.state = state;
    await d.run({ cmd: "delete_workspace", workspace_id: [...state.workspaces.keys()][0] as string });
    expect(await again.objects.ensureInitialData(ctx)).toEqual([]);
    expect(await again.objects.getAll("workspace")).toEqual([]);
    expect(await again.objects.getAll("client")).toHaveLength(1);
    await again.close();
  });
});

describe("meta and object references", () => {
  it("merge: null deletes, 'p:*': true clears the p: keys, anything else overwrites", () => {
    const current = { "p:a": 1, "p:b": 2, "q:c": 3, keep: "x", gone: true };
    expect(mergeMeta(current, { "p:*": true, "p:new": 5, gone: null, keep: "y" })).toEqual({
      "q:c": 3,
      keep: "y",
      "p:new": 5,
    });
    expect(mergeMeta(current, { "p:*": false })).toMatchObject({ "p:a": 1, "p:*": false });
    expect(current).toEqual({ "p:a": 1, "p:b": 2, "q:c": 3, keep: "x", gone: true });
  });

  it("ORef strings round-trip and bad ones are refused", () => {
    expect(parseORef("block:1b2c-3")).toEqual({ otype: "block", oid: "1b2c-3" });
    expect(formatORef("tab", "x:y")).toBe("tab:x:y");
    expect(parseORef("tab:x:y")).toEqual({ otype: "tab", oid: "x:y" });
    for (const bad of ["", "block", "block:", "tree:1", "nope:1", "block: 1"]) {
      expect(() => parseORef(bad)).toThrow(StoreError);
    }
  });
});

describe("tab layouts", () => {
  it("a tab's layout row follows its events: trees replaced, slices replaced, actions appended, gone with the tab", async () => {
    const { store, d, ws, tab } = await world();
    const [created] = await d.run({ cmd: "create_block", tab_id: tab, tile: { focus_after: true } });
    if (created?.event !== "block_created") throw new Error("setup");
    await d.run({ cmd: "create_block", tab_id: tab, tile: {} });
    await d.run({ cmd: "layout_queue_backend_actions", tab_id: tab, actions: [{ n: 1 }] });
    await d.run({ cmd: "layout_queue_backend_actions", tab_id: tab, actions: [{ n: 2 }] });
    const row = await store.objects.mustGet("layout", tab);
    expect(row.tree).toEqual(d.state.layouts.get(tab)?.tree);
    expect(layout.leafBlockIds(row.tree)).toEqual(d.state.tabs.get(tab)?.blockIds);
    expect(row.slices).toEqual({
      focused_node_id: d.state.layouts.get(tab)?.focusedNodeId,
      pending_backend_actions: [{ n: 1 }, { n: 2 }],
    });
    // Slices are replaced whole: the queue and the focus go, the leaf order comes.
    await d.run({ cmd: "layout_set_tree", tab_id: tab, new_tree: row.tree, slices: { leaforder: ["x"] } });
    expect((await store.objects.mustGet("layout", tab)).slices).toEqual({ leaforder: ["x"] });
    await d.run({ cmd: "delete_block", tab_id: tab, block_id: created.block_id });
    expect(layout.leafBlockIds((await store.objects.mustGet("layout", tab)).tree)).toEqual(
      d.state.tabs.get(tab)?.blockIds,
    );
    const [second] = await d.run({ cmd: "create_tab", workspace_id: ws, name: "" });
    if (second?.event !== "tab_created") throw new Error("setup");
    expect((await store.objects.mustGet("layout", second.tab_id)).tree).toBeNull();
    await d.run({ cmd: "delete_tab", workspace_id: ws, tab_id: tab });
    expect(await store.objects.get("layout", tab)).toBeUndefined();
    await d.run({ cmd: "delete_workspace", workspace_id: ws });
    expect(await store.objects.getAll("layout")).toEqual([]);
    expect(await store.objects.loadState()).toEqual(d.state);
    await store.close();
  });

  it("migration 0005 gives every tab made before layouts an empty layout row", async () => {
    const dir = tempDir();
    const before = Object.fromEntries(Object.entries(objectMigrations).filter(([name]) => name < "0005"));
    const path = join(dir, "db", "objects.db");
    mkdirSync(join(dir, "db"), { recursive: true });
    const old = await SqliteFile.open(path, before);
    await old.migrate();
    await old.close();
    const raw = new Database(path);
    raw
      .prepare("insert into db_tab (oid, data) values (?, ?)")
      .run("t-old", JSON.stringify({ otype: "tab", name: "T", workspaceid: "w", blockids: [], meta: {} }));
    raw.close();
    const store = await openStore({ dataDir: dir });
    expect(store.pendingMigrations).toBeGreaterThanOrEqual(1);
    await store.migrate();
    expect(await store.objects.mustGet("layout", "t-old")).toMatchObject({ otype: "layout", tree: null, slices: {} });
    await store.close();
  });

  it("a layout row whose tree is not a layout tree is corrupt, and named", async () => {
    const dir = tempDir();
    const store = await freshStore(dir);
    const d = new Driver(store);
    const [ws] = await d.run({ cmd: "create_workspace", name: "W" });
    if (ws?.event !== "workspace_created") throw new Error("setup");
    const [tab] = await d.run({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" });
    if (tab?.event !== "tab_created") throw new Error("setup");
    const raw = new Database(join(dir, "db", "objects.db"));
    raw
      .prepare("UPDATE db_layout SET data = ? WHERE oid = ?")
      .run('{"otype":"layout","tree":{"id":1},"slices":{}}', tab.tab_id);
    raw.close();
    await expect(store.objects.get("layout", tab.tab_id)).rejects.toThrow(`layout:${tab.tab_id} is corrupt: tree`);
    await store.close();
  });
});

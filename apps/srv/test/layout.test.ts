import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BusEvent, CommandInput, Event, LayoutNode } from "@agentmux/common-ipc";
import {
  applyLayoutEvent,
  EMPTY_TAB_LAYOUT,
  layout,
  layoutEventTab,
  slicesOf,
  type TabLayout,
} from "@agentmux/reducer";
import { openStore } from "@agentmux/store";
import { type EventOf, is, newTab, PipeClient, srvWithClient, until, WsClient } from "@agentmux/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

let reqs = 0;

/** Sends `cmd` with a fresh req_id and returns every event it caused (a ping behind it marks the end). */
async function run(client: PipeClient | WsClient, cmd: CommandInput): Promise<Event[]> {
  const reqId = `r${++reqs}`;
  const end = `end-${reqs}`;
  client.send({ ...cmd, req_id: reqId } as CommandInput);
  client.send({ cmd: "ping", nonce: reqs, req_id: end });
  await client.next(is("pong", (e) => e.req_id === end));
  return client.events.filter((e) => e.req_id === reqId);
}

async function getLayout(client: PipeClient | WsClient, tabId: string): Promise<EventOf<"layout_state">> {
  return (await client.call(
    { cmd: "get_layout", tab_id: tabId, req_id: `get-${++reqs}` },
    is("layout_state", (e) => e.tab_id === tabId),
  )) as EventOf<"layout_state">;
}

function tile(id: string, blockId: string): LayoutNode {
  return { id, flexDirection: "row", size: 10, data: { blockId } };
}

/** The layout a client folds from the events it saw for a tab, from the empty one. */
function fold(events: readonly Event[], tabId: string): TabLayout {
  let l = EMPTY_TAB_LAYOUT;
  for (const ev of events) {
    // Layout events are bus events; the private replies carry no layout change.
    const bus = ev as BusEvent;
    if (layoutEventTab(bus) === tabId) l = applyLayoutEvent(l, bus);
  }
  return l;
}

describe("layout over srv's transports", () => {
  it("socket: a block and its tile in one command, layout events echo req_id, get_layout answers privately", async () => {
    const { srv, client } = await srvWithClient();
    const tab = await newTab(client);
    const created = await run(client, { cmd: "create_block", tab_id: tab, tile: { focus_after: true } });
    expect(created.map((e) => e.event)).toEqual(["block_created", "layout_node_inserted", "focused_node_changed"]);
    const block = (created[0] as EventOf<"block_created">).block_id;
    const state = await getLayout(client, tab);
    expect(state.new_tree).toMatchObject({ data: { blockId: block } });
    expect(state.slices).toEqual({ focused_node_id: state.new_tree?.id });
    // As of srv's version when it answered: the command's events, then the pong that marked their end.
    expect(state.version).toBe((created.at(-1)?.version ?? 0) + 1);
    // A second client sees the layout events, but never the first one's private reply.
    const other = await PipeClient.connect(srv.pipe);
    await other.register(process.pid + 1);
    await run(client, { cmd: "layout_queue_backend_actions", tab_id: tab, actions: [{ actiontype: "x" }] });
    await other.next(is("layout_backend_actions_queued"));
    expect(other.events.some((e) => e.event === "layout_state")).toBe(false);
    // Bad input: a private, typed error; srv goes on.
    const unknown = await run(client, { cmd: "get_layout", tab_id: "no-such-tab" });
    expect(unknown).toMatchObject([
      { event: "error", code: "invalid_command", message: "get_layout: tab not found: no-such-tab", version: 0 },
    ]);
    client.send('{"cmd":"layout_insert_node","tab_id":"x","node":{"id":5}}\n');
    await client.next(is("error", (e) => e.code === "invalid_command" && e.message.includes("node")));
    expect((await getLayout(client, tab)).slices.pending_backend_actions).toEqual([{ actiontype: "x" }]);
  });

  it("HTTP and WebSocket serve the same layout commands", async () => {
    const { srv, client } = await srvWithClient();
    const tab = await newTab(client);
    const made = await srv.http({ cmd: "create_block", tab_id: tab, tile: {}, req_id: "h1" });
    expect(made.status).toBe(200);
    const [createdEv, insertedEv] = made.body.events ?? [];
    expect(made.body.events?.map((e) => e.event)).toEqual(["block_created", "layout_node_inserted"]);
    const block = (createdEv as EventOf<"block_created">).block_id;
    const split = await srv.http({
      cmd: "layout_split_vertical",
      tab_id: tab,
      target_id: (insertedEv as EventOf<"layout_node_inserted">).node.id,
      new_node: tile("n2", block),
      position: "after",
      focus_after: false,
      correlation_id: "c-1",
    });
    // The block already has a tile: refused, with the reason.
    expect(split.body.events?.[0]).toMatchObject({
      event: "error",
      message: `layout_split_vertical: block already has a tile: ${block}`,
    });
    const ws = await WsClient.connect(srv.wsUrl);
    await ws.register(process.pid + 2);
    const second = await run(ws, { cmd: "create_block", tab_id: tab, tile: { magnify_after: true } });
    expect(second.map((e) => e.event)).toEqual([
      "block_created",
      "layout_node_inserted",
      "focused_node_changed",
      "magnified_node_changed",
    ]);
    const over = await srv.http({ cmd: "get_layout", tab_id: tab });
    const state = over.body.events?.[0] as EventOf<"layout_state">;
    expect(state.event).toBe("layout_state");
    expect(layout.leafBlockIds(state.new_tree)).toHaveLength(2);
    expect(state.slices.magnified_node_id).toBe(state.slices.focused_node_id);
    expect(await getLayout(ws, tab)).toMatchObject({ new_tree: state.new_tree, slices: state.slices });
  });
});

/** One random step on the tab, chosen against the layout the client folded so far. */
const step = fc.record({
  kind: fc.constantFrom(
    "tile",
    "tile",
    "split",
    "move",
    "swap",
    "resize",
    "delete",
    "focus",
    "magnify",
    "drop",
    "queue",
  ),
  a: fc.nat(),
  b: fc.nat(),
  flag: fc.boolean(),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function commandFor(s: Step, tab: string, l: TabLayout, blocks: string[], n: number): CommandInput {
  const nodes = [...layout.walk(l.tree)].map((x) => x.id);
  const node = (k: number) => nodes[k % Math.max(1, nodes.length)] ?? "none";
  const untiled = blocks.filter((b) => layout.findLeafByBlock(l.tree, b) === undefined);
  switch (s.kind) {
    case "tile":
      return { cmd: "create_block", tab_id: tab, tile: { focus_after: s.flag } };
    case "split":
      return {
        cmd: s.flag ? "layout_split_horizontal" : "layout_split_vertical",
        tab_id: tab,
        target_id: node(s.a),
        new_node: tile(`s${n}`, untiled[s.b % Math.max(1, untiled.length)] ?? "none"),
        position: s.flag ? "before" : "after",
        focus_after: true,
      };
    case "move":
      return { cmd: "layout_move_node", tab_id: tab, node_id: node(s.a), new_parent_id: node(s.b), index: s.a % 3 };
    case "swap":
      return { cmd: "layout_swap_nodes", tab_id: tab, node1_id: node(s.a), node2_id: node(s.b) };
    case "resize":
      return { cmd: "layout_resize_nodes", tab_id: tab, ops: [{ node_id: node(s.a), size: s.b % 101 }] };
    case "delete": {
      const leaves = layout.leaves(l.tree).map((x) => x.id);
      return { cmd: "layout_delete_node", tab_id: tab, node_id: leaves[s.a % Math.max(1, leaves.length)] ?? "none" };
    }
    case "focus":
      return { cmd: "set_focused_node", tab_id: tab, node_id: s.flag ? node(s.a) : "" };
    case "magnify":
      return { cmd: "set_magnified_node", tab_id: tab, node_id: s.flag ? node(s.a) : "" };
    case "drop":
      return { cmd: "delete_block", tab_id: tab, block_id: blocks[s.a % Math.max(1, blocks.length)] ?? "none" };
    default:
      return { cmd: "layout_queue_backend_actions", tab_id: tab, actions: [{ n }] };
  }
}

describe("layout durability", () => {
  it("after kill -9 and a restart, every persisted tree equals the reducer's (random command sequences)", async () => {
    let mostLeaves = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 25, maxLength: 40 }), async (random) => {
        // Six tiles first, so that every sequence works on a real tree.
        const steps = [
          ...Array.from({ length: 6 }, () => ({ kind: "tile", a: 0, b: 0, flag: false }) as Step),
          ...random,
        ];
        const { srv, client } = await srvWithClient();
        const tab = await newTab(client);
        const blocks: string[] = [];
        let folded = EMPTY_TAB_LAYOUT;
        for (const [n, s] of steps.entries()) {
          const events = await run(client, commandFor(s, tab, folded, blocks, n));
          for (const ev of events) {
            if (ev.event === "block_created") blocks.push(ev.block_id);
            if (ev.event === "block_deleted") blocks.splice(blocks.indexOf(ev.block_id), 1);
          }
          folded = fold(client.events, tab);
        }
        const before = await getLayout(client, tab);
        mostLeaves = Math.max(mostLeaves, layout.leafBlockIds(before.new_tree).length);
        // What the client folded from the broadcast events is what srv's reducer holds.
        expect({ tree: before.new_tree, slices: before.slices }).toEqual({
          tree: folded.tree,
          slices: slicesOf(folded),
        });
        expect(
          layout.checkView({
            tree: before.new_tree,
            focusedNodeId: folded.focusedNodeId,
            magnifiedNodeId: folded.magnifiedNodeId,
          }),
        ).toEqual([]);
        expect(layout.leafBlockIds(before.new_tree).every((b) => blocks.includes(b))).toBe(true);
        await srv.kill("SIGKILL");
        // The store's layout row (its object projection) agrees, read with srv dead.
        const store = await openStore({ dataDir: srv.dataDir });
        expect(await store.objects.mustGet("layout", tab)).toMatchObject({
          tree: before.new_tree,
          slices: before.slices,
        });
        await store.close();
        const again = await srvWithClient({ dataDir: srv.dataDir });
        const after = await getLayout(again.client, tab);
        expect({ tree: after.new_tree, slices: after.slices }).toEqual({
          tree: before.new_tree,
          slices: before.slices,
        });
        await again.srv.kill("SIGKILL");
      }),
      // A fixed seed: the same four sequences every run, so the check below never rests on luck.
      { numRuns: 4, seed: 20261130 },
    );
    // The sequences must build real trees for the comparison to mean anything.
    expect(mostLeaves).toBeGreaterThanOrEqual(5);
  });

  it("a tree left showing a deleted block is healed at boot, through the dispatcher", async () => {
    const { srv, client } = await srvWithClient();
    const tab = await newTab(client);
    const made = await run(client, { cmd: "create_block", tab_id: tab, tile: {} });
    await run(client, { cmd: "create_block", tab_id: tab, tile: {} });
    const doomed = (made[0] as EventOf<"block_created">).block_id;
    const leaf = (made[1] as EventOf<"layout_node_inserted">).node.id;
    await run(client, { cmd: "set_focused_node", tab_id: tab, node_id: leaf });
    await srv.kill("SIGKILL");
    // Another program deletes the block through the store alone, as an older build would have.
    const store = await openStore({ dataDir: srv.dataDir });
    const head = await store.objects.head();
    await store.objects.applyEvents([{ event: "block_deleted", tab_id: tab, block_id: doomed, version: head + 1 }]);
    await store.close();

    const again = await srvWithClient({ dataDir: srv.dataDir });
    const healed = await getLayout(again.client, tab);
    expect(layout.leafBlockIds(healed.new_tree)).not.toContain(doomed);
    expect(layout.leafBlockIds(healed.new_tree)).toHaveLength(1);
    // The focus was on the pruned tile: it went with it.
    expect(healed.slices.focused_node_id).toBeUndefined();
    // The fix is an event like any other: in the log, after the injected one.
    again.client.send({ cmd: "get_events", since: head + 1 });
    const list = (await again.client.next(is("event_list"))) as EventOf<"event_list">;
    expect(list.events.map((e) => e.event)).toContain("layout_tree_replaced");
    const logFile = join(srv.dataDir, "logs", "srv.log");
    await until("the heal in srv's log", () => readFileSync(logFile, "utf8").includes("healed a tab layout"));
  });
});

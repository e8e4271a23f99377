import { join } from "node:path";
import type { BusEvent, Command } from "@agentmux/common-ipc";
import { checkInvariants } from "@agentmux/reducer";
import { tempDir, until } from "@agentmux/testkit";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { compensateUnresolved, inverseOf, SagaLog, SagaRunner } from "../src/index.js";
import { openWorld, seed, tearOffBlock } from "./fixtures/world.mjs";

type World = Awaited<ReturnType<typeof openWorld>>;

async function setup(hooks: Parameters<typeof openWorld>[1] = {}) {
  const dir = tempDir();
  const world: World = await openWorld(dir, hooks);
  const ids = await seed(world);
  const warnings: string[] = [];
  const runner = await SagaRunner.create({
    log: world.log,
    dispatch: world.dispatch,
    publish: world.publish,
    onWarning: (m: string) => warnings.push(m),
  });
  return { dir, world, ids, runner, warnings };
}

function sagaEvents(world: World): string[] {
  return world.published.filter((e: BusEvent) => e.event.startsWith("saga_")).map((e: BusEvent) => e.event);
}

describe("saga journal", () => {
  it("refuses a step for an unknown saga (foreign key) and never overwrites a saga", async () => {
    const log = await SagaLog.open(join(tempDir(), "sagas.db"));
    await log.migrate();
    await expect(log.intent(42, 0, "ping", "{}", "t")).rejects.toThrow(/FOREIGN KEY/);
    await log.start(1, "x", null, "t");
    await expect(log.start(1, "y", null, "t")).rejects.toThrow(/UNIQUE|PRIMARY/);
    expect((await log.saga(1))?.name).toBe("x");
    await log.close();
  });
});

describe("SagaRunner", () => {
  it("happy path: every step pending → succeeded with its events; saga completed; started then completed published", async () => {
    const { world, ids, runner } = await setup();
    const outcome = await runner.run(tearOffBlock(ids.blockId, ids.tabId), { block: ids.blockId });
    expect(outcome.state).toBe("completed");
    const saga = await world.log.saga(outcome.sagaId);
    expect(saga).toMatchObject({ name: "tear_off_block", state: "completed", failure_reason: null });
    expect(saga?.terminal_at).not.toBeNull();
    const steps = await world.log.steps(outcome.sagaId);
    expect(steps.map((s) => [s.step_index, s.name, s.state])).toEqual([
      [0, "create_workspace", "succeeded"],
      [1, "create_tab", "succeeded"],
      [2, "move_block", "succeeded"],
    ]);
    expect(JSON.parse(steps[2]?.output_json ?? "[]")[0]).toMatchObject({
      event: "block_moved",
      req_id: `saga:${outcome.sagaId}:2`,
    });
    expect(sagaEvents(world)).toEqual(["saga_started", "saga_completed"]);
    // The block now lives in a new workspace's tab.
    const newTab = world.state.blocks.get(ids.blockId);
    expect(newTab).not.toBe(ids.tabId);
    expect(world.state.workspaces.size).toBe(2);
    await world.close();
  });

  it("a refused step: failed with {error}, inverses at the next indexes, originals compensated, saga compensated", async () => {
    const { world, ids, runner } = await setup();
    const outcome = await runner.run(tearOffBlock("no-such-block", ids.tabId));
    expect(outcome.state).toBe("compensated");
    expect(outcome.reason).toMatch(/block not found/);
    const steps = await world.log.steps(outcome.sagaId);
    expect(steps.map((s) => [s.step_index, s.name, s.state, s.compensates])).toEqual([
      [0, "create_workspace", "compensated", null],
      [1, "create_tab", "compensated", null],
      [2, "move_block", "failed", null],
      [3, "delete_tab", "compensated", 1],
      [4, "delete_workspace", "compensated", 0],
    ]);
    expect(JSON.parse(steps[2]?.output_json ?? "{}")).toEqual({ error: "move_block: block not found: no-such-block" });
    expect(world.state.workspaces.size).toBe(1);
    expect(checkInvariants(world.state)).toEqual([]);
    expect(sagaEvents(world)).toEqual(["saga_started", "saga_failed"]);
    expect(await world.log.unresolved()).toEqual([]);
    await world.close();
  });

  it("times out: saga failed, steps left succeeded, and boot recovery undoes them", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { world, ids } = await setup({
      beforeDispatch: async (cmd: Command) => {
        if (cmd.cmd === "move_block") await gate;
      },
    });
    const runner = await SagaRunner.create({
      log: world.log,
      dispatch: world.dispatch,
      publish: world.publish,
      timeoutMs: 100,
    });
    const outcome = await runner.run(tearOffBlock(ids.blockId, ids.tabId));
    expect(outcome).toMatchObject({ state: "failed", reason: "timed out after 100 ms" });
    expect((await world.log.steps(outcome.sagaId)).map((s) => s.state)).toEqual(["succeeded", "succeeded", "pending"]);
    expect(sagaEvents(world)).toEqual(["saga_started", "saga_failed"]);
    release();
    // Let the late step land, as it would before a restart.
    await until("the late step", async () => (await world.log.steps(outcome.sagaId))[2]?.state === "succeeded", 5000);
    const reports = await compensateUnresolved({
      log: world.log,
      dispatch: world.dispatch,
      findEvents: world.findEvents,
    });
    expect(reports).toMatchObject([{ sagaId: outcome.sagaId, state: "compensated" }]);
    expect(world.state.blocks.get(ids.blockId)).toBe(ids.tabId);
    expect(world.state.workspaces.size).toBe(1);
    await world.close();
  });

  it("ids continue after the highest one in the log, across a restart", async () => {
    const { dir, world, ids, runner } = await setup();
    const first = await runner.run(tearOffBlock(ids.blockId, ids.tabId));
    const second = await runner.run({ name: "noop", steps: [] });
    expect(second.sagaId).toBe(first.sagaId + 1);
    await world.close();
    const again = await openWorld(dir);
    const runner2 = await SagaRunner.create({ log: again.log, dispatch: again.dispatch, publish: again.publish });
    expect((await runner2.run({ name: "noop", steps: [] })).sagaId).toBe(second.sagaId + 1);
    await again.close();
  });

  it("a journal that cannot record steps warns but the saga still does its work", async () => {
    const { dir, world, ids, runner, warnings } = await setup();
    const raw = new Database(join(dir, "db", "sagas.db"));
    raw.exec("DROP TABLE saga_step");
    raw.close();
    const outcome = await runner.run(tearOffBlock(ids.blockId, ids.tabId));
    expect(outcome.state).toBe("completed");
    expect(warnings.some((w) => w.includes("intent failed"))).toBe(true);
    expect(world.state.blocks.get(ids.blockId)).not.toBe(ids.tabId);
    await world.close();
  });

  it("a saga that cannot be journaled at all fails before any step runs", async () => {
    const { dir, world, ids, runner } = await setup();
    const raw = new Database(join(dir, "db", "sagas.db"));
    raw.exec("PRAGMA foreign_keys = OFF; DROP TABLE saga_step; DROP TABLE saga;");
    raw.close();
    const before = world.state.version;
    await expect(runner.run(tearOffBlock(ids.blockId, ids.tabId))).rejects.toThrow(/no such table/);
    expect(world.state.version).toBe(before);
    await world.close();
  });
});

describe("compensateUnresolved", () => {
  async function journal(world: World, sagaId: number, steps: { cmd: unknown; state: string; output?: unknown }[]) {
    await world.log.start(sagaId, "manual", null, "t");
    for (const [i, s] of steps.entries()) {
      await world.log.intent(
        sagaId,
        i,
        (s.cmd as { cmd?: string })?.cmd ?? "x",
        typeof s.cmd === "string" ? s.cmd : JSON.stringify(s.cmd),
        "t",
      );
      if (s.state !== "pending") await world.log.finish(sagaId, i, s.state as "succeeded", s.output ?? [], "t");
    }
  }

  it("zero steps → compensated; no inverse → failed row no_inverse_for_*; corrupt step skipped, the rest still undone", async () => {
    const { world, ids } = await setup();
    await journal(world, 10, []);
    const created = await world.run({ cmd: "create_block", tab_id: ids.tabId });
    await journal(world, 11, [
      { cmd: { cmd: "create_block", tab_id: ids.tabId, meta: null }, state: "succeeded", output: created },
      { cmd: "{corrupt", state: "succeeded" },
      { cmd: { cmd: "rename_tab", tab_id: ids.tabId, name: "x" }, state: "succeeded" },
    ]);
    const reports = await compensateUnresolved({
      log: world.log,
      dispatch: world.dispatch,
      findEvents: world.findEvents,
    });
    expect(reports.map((r) => [r.sagaId, r.state])).toEqual([
      [10, "compensated"],
      [11, "failed_compensation"],
    ]);
    expect(reports[1]?.problems.join("\n")).toMatch(/corrupt command, skipped/);
    expect(reports[1]?.problems.join("\n")).toMatch(/no_inverse_for_rename_tab/);
    const steps = await world.log.steps(11);
    expect(steps.map((s) => [s.step_index, s.name, s.state])).toEqual([
      [0, "create_block", "compensated"],
      [1, "x", "succeeded"],
      [2, "rename_tab", "succeeded"],
      [3, "no_inverse_for_rename_tab", "failed"],
      [4, "delete_block", "compensated"],
    ]);
    expect(world.state.blocks.has((created[0] as { block_id: string }).block_id)).toBe(false);
    expect(await world.log.unresolved()).toEqual([]);
    await world.close();
  });

  it("an in-flight step without a way to look it up → failed_compensation, nothing dispatched", async () => {
    const { world, ids } = await setup();
    await journal(world, 20, [{ cmd: { cmd: "create_block", tab_id: ids.tabId, meta: null }, state: "pending" }]);
    const before = world.state.version;
    const [report] = await compensateUnresolved({ log: world.log, dispatch: world.dispatch });
    expect(report).toMatchObject({ sagaId: 20, state: "failed_compensation" });
    expect(world.state.version).toBe(before);
    expect((await world.log.steps(20))[0]?.state).toBe("pending");
    await world.close();
  });

  it("inverses: creates are deleted, moves swap source and destination at index 0, windows close", () => {
    const cmd = (c: object) => c as Command;
    expect(
      inverseOf(cmd({ cmd: "create_tab", workspace_id: "w", name: "" }), [
        { event: "tab_created", workspace_id: "w", tab_id: "t", name: "Tab 1", version: 3 },
      ]),
    ).toEqual({ ok: true, command: { cmd: "delete_tab", workspace_id: "w", tab_id: "t", force: true } });
    expect(
      inverseOf(cmd({ cmd: "create_workspace", name: "" }), [
        { event: "workspace_created", workspace_id: "w", name: "", version: 1 },
      ]),
    ).toEqual({
      ok: true,
      command: { cmd: "delete_workspace", workspace_id: "w", force: false },
    });
    expect(
      inverseOf(cmd({ cmd: "move_tab", tab_id: "t", src_workspace_id: "a", dst_workspace_id: "b", dst_index: 4 }), []),
    ).toEqual({
      ok: true,
      command: { cmd: "move_tab", tab_id: "t", src_workspace_id: "b", dst_workspace_id: "a", dst_index: 0 },
    });
    expect(
      inverseOf(cmd({ cmd: "move_block", block_id: "k", src_tab_id: "a", dst_tab_id: "b", dst_index: 2 }), []),
    ).toEqual({
      ok: true,
      command: { cmd: "move_block", block_id: "k", src_tab_id: "b", dst_tab_id: "a", dst_index: 0 },
    });
    expect(inverseOf(cmd({ cmd: "create_window", window_id: "x", workspace_id: "w" }), [])).toEqual({
      ok: true,
      command: { cmd: "close_window_internal", window_id: "x" },
    });
    for (const name of ["delete_block", "rename_workspace", "set_active_tab", "update_block_meta"]) {
      expect(inverseOf(cmd({ cmd: name }), [])).toEqual({ ok: false, reason: `no_inverse_for_${name}` });
    }
    expect(inverseOf(cmd({ cmd: "create_block", tab_id: "t", meta: null }), []).ok).toBe(false);
  });
});

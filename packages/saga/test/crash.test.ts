import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";

const CHILD = join(import.meta.dirname, "fixtures", "crash-child.mjs");

interface Result {
  reports: { state: string; problems: string[] }[];
  dispatched: number;
  invariants: string[];
  workspaces: number;
  blocks: [string, string][];
  unresolved: number;
  sagas: string[];
  steps: string[];
}

/** Collects stdout lines; resolves when a line starting with `prefix` appears. */
function waitFor(child: ChildProcess, prefix: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`no "${prefix}" line from the child; got: ${buf}`)), timeoutMs);
    child.stdout?.on("data", (d: Buffer) => {
      buf += d;
      const line = buf.split("\n").find((l) => l.startsWith(prefix));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line.slice(prefix.length).trim());
      }
    });
    child.on("exit", (code) => {
      if (!buf.split("\n").some((l) => l.startsWith(prefix))) {
        clearTimeout(timer);
        reject(new Error(`child exited (${code}) before "${prefix}": ${buf}`));
      }
    });
  });
}

/** Starts the child, waits until it is parked at `point`, and SIGKILLs it there. */
async function parkAndKill(dir: string, args: string[], point: string, onSpawn?: (child: ChildProcess) => void) {
  const child = spawn(process.execPath, [CHILD, dir, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  onSpawn?.(child);
  await waitFor(child, `AT ${point}`);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

async function killAt(
  dir: string,
  args: string[],
  point: string,
): Promise<{ seed: { tabId: string; blockId: string } }> {
  let seedLine: Promise<string> | undefined;
  await parkAndKill(dir, args, point, (child) => {
    seedLine = waitFor(child, "SEED");
  });
  if (seedLine === undefined) throw new Error("the child never started");
  return { seed: JSON.parse(await seedLine) };
}

async function recover(dir: string, point?: string): Promise<Result> {
  const child = spawn(process.execPath, [CHILD, dir, "recover", ...(point ? [point] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(await waitFor(child, "RESULT"));
}

/** After recovery nothing is half done: the block is back home, the extra workspace gone, the log resolved. */
function expectConsistent(result: Result, seed: { tabId: string; blockId: string }) {
  expect(result.invariants).toEqual([]);
  expect(result.unresolved).toBe(0);
  expect(result.sagas).toEqual(["compensated"]);
  expect(result.workspaces).toBe(1);
  expect(result.blocks).toEqual([[seed.blockId, seed.tabId]]);
}

describe("SIGKILL at every step boundary of tear_off_block, then recovery on the next start", () => {
  for (const [point, expectedSteps] of [
    // Killed after journaling step 0's intent, before dispatch: nothing happened.
    ["intent:0", ["0:create_workspace:failed"]],
    // Killed after step 0's result: undo the workspace.
    ["result:0", ["0:create_workspace:compensated", "1:delete_workspace:compensated<0"]],
    // Killed with step 1 in flight: it never ran.
    ["intent:1", ["0:create_workspace:compensated", "1:create_tab:failed", "2:delete_workspace:compensated<0"]],
    [
      "result:1",
      [
        "0:create_workspace:compensated",
        "1:create_tab:compensated",
        "2:delete_tab:compensated<1",
        "3:delete_workspace:compensated<0",
      ],
    ],
    [
      "intent:2",
      [
        "0:create_workspace:compensated",
        "1:create_tab:compensated",
        "2:move_block:failed",
        "3:delete_tab:compensated<1",
        "4:delete_workspace:compensated<0",
      ],
    ],
  ] as const) {
    it(`killed at ${point}`, async () => {
      const dir = tempDir();
      const { seed } = await killAt(dir, ["run", point], point);
      const result = await recover(dir);
      expectConsistent(result, seed);
      expect(result.steps).toEqual(expectedSteps);
      // A second start finds nothing to do and dispatches nothing.
      const again = await recover(dir);
      expect(again.reports).toEqual([]);
      expect(again.dispatched).toBe(0);
    }, 60_000);
  }

  it("killed mid-compensation (first inverse in flight after a refused step)", async () => {
    const dir = tempDir();
    const { seed } = await killAt(dir, ["run", "intent:3", "fail"], "intent:3");
    const result = await recover(dir);
    expectConsistent(result, seed);
    expect(result.steps).toEqual([
      "0:create_workspace:compensated",
      "1:create_tab:compensated",
      "2:move_block:failed",
      "3:delete_tab:failed<1",
      "4:delete_tab:compensated<1",
      "5:delete_workspace:compensated<0",
    ]);
  }, 60_000);

  it("killed during recovery right after an inverse was applied: the next start does not apply it again", async () => {
    const dir = tempDir();
    const { seed } = await killAt(dir, ["run", "result:1"], "result:1");
    // First recovery dies right after delete_tab (step 2) was persisted, before it was journaled.
    await parkAndKill(dir, ["recover", "after:2"], "after:2");
    const result = await recover(dir);
    expectConsistent(result, seed);
    // The in-flight inverse was found in the event log and recorded, not dispatched again.
    expect(result.steps).toEqual([
      "0:create_workspace:compensated",
      "1:create_tab:compensated",
      "2:delete_tab:compensated<1",
      "3:delete_workspace:compensated<0",
    ]);
  }, 60_000);
});

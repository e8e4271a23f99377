// The guardian, with real processes: an owner is SIGKILLed and its guarded process groups die
// with it; a group registered under another start time (a reused pid) is left alone; a guardian
// killed while its owner lives is replaced; a clean close kills nothing.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { groupMembers, isRunning, until } from "@agentmux/testkit";
import { afterEach, describe, expect, it } from "vitest";

const OWNER = join(import.meta.dirname, "guardian-owner.mjs");

const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

interface Started {
  owner: ChildProcess;
  lines: Record<string, unknown>[];
  guardian: number;
  pgid: number;
  impostor: number;
}

async function startOwner(...args: string[]): Promise<Started> {
  const owner = spawn(process.execPath, [OWNER, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: Record<string, unknown>[] = [];
  let buf = "";
  owner.stdout?.on("data", (d: Buffer) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  const first = await until("the owner's pids", () => lines[0], 10_000);
  const started = { owner, lines, ...(first as { guardian: number; pgid: number; impostor: number }) };
  groups.push(started.pgid, started.impostor);
  await until(
    "both groups' two processes",
    () => groupMembers(started.pgid).length === 2 && groupMembers(started.impostor).length === 2,
    10_000,
  );
  return started;
}

describe("Guardian", () => {
  it("an owner SIGKILLed: its guarded group (leader ignoring SIGTERM, and its child) is gone within 2 s", async () => {
    const { owner, pgid, impostor, guardian } = await startOwner();
    owner.kill("SIGKILL");
    await until("the guarded group to die", () => groupMembers(pgid).length === 0, 2000);
    // The guardian did its job and ended; the group registered under another start time lives on.
    await until("the guardian to exit", () => !isRunning(guardian), 2000);
    expect(groupMembers(impostor)).toHaveLength(2);
  }, 20_000);

  it("a guardian killed while its owner lives is replaced, and the replacement still guards", async () => {
    const { owner, lines, pgid, guardian } = await startOwner();
    process.kill(guardian, "SIGKILL");
    const replaced = (await until("the replacement", () => lines.find((l) => "replaced" in l), 5000)) as {
      replaced: number;
      by: number;
      signal: string;
    };
    expect(replaced).toMatchObject({ replaced: guardian, signal: "SIGKILL" });
    expect(replaced.by).not.toBe(guardian);
    // Killing the guardian killed nobody.
    expect(groupMembers(pgid)).toHaveLength(2);
    owner.kill("SIGKILL");
    await until("the guarded group to die", () => groupMembers(pgid).length === 0, 2000);
  }, 20_000);

  it("ignores SIGTERM and SIGINT (a Ctrl-C for its owner must not stop it first)", async () => {
    const { owner, pgid, guardian } = await startOwner();
    process.kill(guardian, "SIGTERM");
    process.kill(guardian, "SIGINT");
    owner.kill("SIGKILL");
    await until("the guarded group to die", () => groupMembers(pgid).length === 0, 2000);
  }, 20_000);

  it("a clean close after release kills nothing, and the guardian exits", async () => {
    const { owner, lines, pgid, guardian } = await startOwner("release");
    await until("the clean close", () => lines.some((l) => l.closed === true), 5000);
    expect(isRunning(guardian)).toBe(false);
    expect(groupMembers(pgid)).toHaveLength(2);
    owner.kill("SIGKILL");
  }, 20_000);
});

import { spawn } from "node:child_process";
import { once } from "node:events";
import { groupMembers, isRunning, standIn, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { isAlive, type ProcessRecord, processStartTime, reapOrphan } from "../src/index.js";

describe("orphan reaping", () => {
  it("stops the survivor of a SIGKILLed owner, and its whole group", async () => {
    const proc = spawn(process.execPath, [standIn("owner")], { stdio: ["ignore", "pipe", "inherit"] });
    const [chunk] = (await once(proc.stdout, "data")) as [Buffer];
    const { pid } = JSON.parse(chunk.toString()) as { pid: number };
    // What the owner would have recorded: read while it (and so its child) still runs.
    const record: ProcessRecord = { pid, startTime: processStartTime(pid) };
    expect(record.startTime).not.toBeNull();
    await until("the orphan's group", () => groupMembers(record.pid).length === 2, 5000);
    proc.kill("SIGKILL");
    await once(proc, "exit");
    expect(isAlive(record)).toBe(true);
    expect(await reapOrphan(record, { termMs: 300 })).toBe("killed");
    await until("the group to be gone", () => groupMembers(record.pid).length === 0, 5000);
    expect(await reapOrphan(record)).toBe("gone");
  });

  it("leaves alone a process whose pid matches but whose start time does not", async () => {
    const bystander = spawn(process.execPath, ["-e", "setInterval(()=>{},1000)"], { detached: true, stdio: "ignore" });
    const pid = bystander.pid as number;
    const actual = processStartTime(pid);
    expect(actual).not.toBeNull();
    expect(await reapOrphan({ pid, startTime: `${Number(actual) - 1}` })).toBe("pid_reused");
    expect(isRunning(pid)).toBe(true);
    bystander.kill("SIGKILL");
  });
});

import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isAlive, type ProcessRecord, processStartTime, reapOrphan } from "../src/index.js";
import { isRunning, until } from "./helpers.js";

const owner = fileURLToPath(new URL("./fixtures/owner.mjs", import.meta.url));

/** Pids of the live members of a process group (Linux). */
function groupMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "latin1");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return fields[0] !== "Z" && Number(fields[2]) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("orphan reaping", () => {
  it("stops the survivor of a SIGKILLed owner, and its whole group", async () => {
    const proc = spawn(process.execPath, [owner], { stdio: ["ignore", "pipe", "inherit"] });
    const [chunk] = (await once(proc.stdout, "data")) as [Buffer];
    const record = JSON.parse(chunk.toString()) as ProcessRecord;
    await until(() => groupMembers(record.pid).length === 2, 5000, "the orphan's group");
    proc.kill("SIGKILL");
    await once(proc, "exit");
    expect(isAlive(record)).toBe(true);
    expect(await reapOrphan(record, { termMs: 300 })).toBe("killed");
    await until(() => groupMembers(record.pid).length === 0, 5000, "the group to be gone");
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

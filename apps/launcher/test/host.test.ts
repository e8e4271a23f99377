// `agentmux start --host CMD`: a program run beside srv with srv's endpoints and key, restarted
// on srv's new endpoints and after its own crashes (3 in 60 s), stopping everything when it is
// stopped itself, and gone with a launcher killed by SIGKILL. A stand-in host records what it got.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { groupMembers, isRunning, tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { RunFile } from "../src/run-file.js";
import { agentmux } from "./helpers.js";

const HOST = join(import.meta.dirname, "fixtures", "standin-host.mjs");

interface HostRecord {
  pid: number;
  env: Record<string, string>;
}

function hostLaunch(mode: string) {
  const log = join(tempDir(), "host.log");
  const l = agentmux(["start", "--host", `${process.execPath} ${HOST}`], {
    env: { STANDIN_HOST_LOG: log, STANDIN_HOST_MODE: mode },
  });
  // Whole lines only: a host may be writing its line while the test reads (an empty file, or half a line).
  const records = (): HostRecord[] =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .slice(0, -1)
          .map((line) => JSON.parse(line) as HostRecord)
      : [];
  const run = () => RunFile.parse(JSON.parse(readFileSync(join(l.dataDir, "launcher", "run.json"), "utf8")));
  return { l, records, run };
}

describe("agentmux start --host", () => {
  it("the host gets srv's endpoints, pid, key and instance; SIGTERM to the launcher stops it", async () => {
    const { l, records, run } = hostLaunch("stay");
    const [host] = await until("the host", () => records().length === 1 && records(), 30_000);
    const r = run();
    expect(host?.env).toEqual({
      AGENTMUX_BACKEND_WS: r.ws,
      AGENTMUX_BACKEND_WEB: r.web,
      AGENTMUX_BACKEND_PID: String(r.srv_pid),
      AGENTMUX_AUTH_KEY: readFileSync(r.key_file, "utf8").trim(),
      AGENTMUX_INSTANCE_ID: r.instance,
    });
    l.child.kill("SIGTERM");
    expect(await l.exit).toBe(0);
    expect(isRunning(host?.pid as number)).toBe(false);
  }, 60_000);

  it("a srv restart restarts the host on the new endpoints", async () => {
    const { l, records, run } = hostLaunch("stay");
    await until("the host", () => records().length === 1, 30_000);
    const first = run();
    process.kill(first.srv_pid, "SIGKILL");
    const [, second] = await until("the host again", () => records().length === 2 && records(), 30_000);
    expect(second?.env.AGENTMUX_BACKEND_PID).toBe(String(run().srv_pid));
    expect(second?.env.AGENTMUX_BACKEND_PID).not.toBe(String(first.srv_pid));
    expect(isRunning(records()[0]?.pid as number)).toBe(false);
    l.child.kill("SIGTERM");
    expect(await l.exit).toBe(0);
  }, 60_000);

  it("a host that keeps crashing is restarted 3 times, then the launcher gives up (exit 1) and stops srv", async () => {
    const { l, records } = hostLaunch("crash");
    expect(await l.exit).toBe(1);
    expect(records()).toHaveLength(4);
    expect(l.stderr()).toContain("the host crashed (exit code 1) 4 times within 60 s; giving up");
    expect(existsSync(join(l.dataDir, "launcher", "run.json"))).toBe(false);
  }, 60_000);

  it("a host stopped by SIGTERM means shut down: the launcher stops srv and exits 0", async () => {
    const { l, records } = hostLaunch("quit");
    expect(await l.exit).toBe(0);
    expect(records()).toHaveLength(1);
  }, 60_000);

  it("kill -9 of the launcher: the host is gone within 2 s", async () => {
    const { l, records } = hostLaunch("stay");
    const [host] = await until("the host", () => records().length === 1 && records(), 30_000);
    const pgid = host?.pid as number;
    l.child.kill("SIGKILL");
    await until("the host to be gone", () => !isRunning(pgid) && groupMembers(pgid).length === 0, 2000);
  }, 60_000);
});

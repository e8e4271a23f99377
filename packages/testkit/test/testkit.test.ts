// The testkit's own promises: what the other suites rely on without checking.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  claudeBinary,
  groupMembers,
  is,
  isRunning,
  onCleanup,
  SRV_BIN,
  STAND_INS,
  standIn,
  startFakeAnthropic,
  tempDir,
  UntilTimeoutError,
  until,
} from "../src/index.js";

describe("until", () => {
  it("resolves with the first answer that is not undefined, null or false (0 counts)", async () => {
    const answers = [undefined, null, false, 0, 7];
    expect(await until("an answer", () => answers.shift())).toBe(0);
    expect(await until("an async answer", async () => "yes")).toBe("yes");
  });

  it("fails at the deadline with an error naming what it waited for", async () => {
    const started = Date.now();
    const err = await until("the impossible", () => false, 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntilTimeoutError);
    expect(err).toMatchObject({ code: "UNTIL_TIMEOUT", message: "timed out after 50 ms waiting for the impossible" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it("passes on what the check throws, without retrying", async () => {
    let calls = 0;
    const failing = () => {
      calls++;
      throw new Error("broken check");
    };
    await expect(until("anything", failing)).rejects.toThrow("broken check");
    expect(calls).toBe(1);
  });
});

describe("temp dirs and cleanups", () => {
  let fileScoped: string;
  let testScoped: string;
  const order: string[] = [];

  beforeAll(() => {
    fileScoped = tempDir();
  });

  it("makes a new empty directory each time", () => {
    testScoped = tempDir("agentmux-testkit-");
    expect(existsSync(testScoped)).toBe(true);
    expect(testScoped).not.toBe(tempDir());
    writeFileSync(join(testScoped, "file"), "x");
    onCleanup(() => order.push("first"));
    onCleanup(() => order.push("second"));
  });

  it("removed the previous test's directories after it, newest cleanup first; a beforeAll's stays for the file", () => {
    expect(existsSync(testScoped)).toBe(false);
    expect(order).toEqual(["second", "first"]);
    expect(existsSync(fileScoped)).toBe(true);
  });
});

describe("process liveness", () => {
  it("a running process runs; one that exited does not", async () => {
    expect(isRunning(process.pid)).toBe(true);
    const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    const pid = child.pid as number;
    await once(child, "exit");
    expect(isRunning(pid)).toBe(false);
    expect(isRunning(-1)).toBe(false);
  });

  it.runIf(process.platform === "linux")("a zombie counts as exited", async () => {
    // The background sleep's parent execs a sleep that never waits for it: it stays a zombie.
    const parent = spawn("sh", ["-c", "sleep 0.1 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    onCleanup(() => parent.kill("SIGKILL"));
    const [out] = (await once(parent.stdout, "data")) as [Buffer];
    const zombie = Number(out.toString().trim());
    const state = () => readFileSync(`/proc/${zombie}/stat`, "latin1").split(") ")[1]?.[0];
    await until("the zombie", () => state() === "Z", 5000);
    expect(isRunning(zombie)).toBe(false);
  });

  it.runIf(process.platform === "linux")("groupMembers lists a process group's live members", async () => {
    const leader = spawn(
      process.execPath,
      ["-e", "require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); setInterval(() => {}, 1000)"],
      { detached: true, stdio: "ignore" },
    );
    const pgid = leader.pid as number;
    onCleanup(() => {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {}
    });
    const members = await until("two members", () => {
      const m = groupMembers(pgid);
      return m.length === 2 && m;
    });
    expect(members).toContain(pgid);
    expect(members).not.toContain(process.pid);
    process.kill(-pgid, "SIGKILL");
    await until("the group to be gone", () => groupMembers(pgid).length === 0, 5000);
  });
});

describe("stand-in agent CLIs", () => {
  it.each(STAND_INS)("%s is an executable node script", (name) => {
    const file = standIn(name);
    accessSync(file, constants.X_OK);
    expect(readFileSync(file, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });

  it("runs as a child process (failing-cli: a reason on stderr, exit 1)", () => {
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync(standIn("failing-cli"), { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      failure = err as typeof failure;
    }
    expect(failure.status).toBe(1);
    expect(failure.stderr).toContain("error: invalid api key");
  });
});

describe("the fake Messages API", () => {
  it("answers a scripted turn and records the request", async () => {
    const fake = await startFakeAnthropic();
    onCleanup(() => fake.close());
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "reply hello there" }] }),
    });
    expect(await res.json()).toMatchObject({ role: "assistant", content: [{ type: "text", text: "hello there" }] });
    const failing = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "error 429" }] }),
    });
    expect(failing.status).toBe(429);
    expect(fake.requests).toHaveLength(2);
  });

  it("the pinned claude CLI's native binary is there", () => {
    accessSync(claudeBinary(), constants.X_OK);
  });
});

describe("srv harness", () => {
  it("SRV_BIN is the bin srv's package.json declares", () => {
    const srvDir = dirname(dirname(SRV_BIN));
    const pkg = JSON.parse(readFileSync(join(srvDir, "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(join(srvDir, pkg.bin["agentmux-srv"] ?? "")).toBe(SRV_BIN);
  });

  it("is() matches an event kind, then the predicate", () => {
    const pong = { event: "pong", nonce: 1, version: 0 } as const;
    expect(is("pong")(pong)).toBe(true);
    expect(is("pong", (e) => e.nonce === 2)(pong)).toBe(false);
    expect(is("registered")(pong)).toBe(false);
  });
});

import { spawn } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { FileLock, LockHeldError } from "../src/index.js";

describe("FileLock", () => {
  it("is exclusive, names its holder, and can be taken again once released", async () => {
    const path = join(tempDir(), "srv.lock");
    const first = await FileLock.acquire(path, "pid 111");
    const err = await FileLock.acquire(path, "pid 222").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).holder).toBe("pid 111");
    await first.release();
    const second = await FileLock.acquire(path, "pid 222");
    await second.release();
  });

  it("is released by the kernel when the holder is SIGKILLed", async () => {
    const path = join(tempDir(), "srv.lock");
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "lock-child.mjs"), path]);
    await new Promise((r) => child.stdout.once("data", r));
    const held = await FileLock.acquire(path, "me").catch((e: unknown) => e);
    expect(held).toBeInstanceOf(LockHeldError);
    expect((held as LockHeldError).holder).toBe(`pid ${child.pid}`);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const mine = await FileLock.acquire(path, "me");
    await mine.release();
  });
});

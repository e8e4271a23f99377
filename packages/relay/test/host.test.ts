// relay.md §2, relay side: one relay per bundle behind relay.lock, its socket private, its files
// left clean. Acceptance checks 3 (socket), 4 (host side), 12 and the socket/lock half of 13,
// plus the lock itself across real processes.

import { once } from "node:events";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { isRunning, tempDir, until } from "@agentmux/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { RelayError } from "../src/errors.js";
import { type HostedRelay, type HostResult, hostRelay } from "../src/host.js";
import { RuntimeLock } from "../src/lock.js";
import { type BundlePaths, bundlePaths } from "../src/paths.js";
import { killRelay, pidFileValue, request, startHost } from "./fixtures/runtime/harness.js";

const FOREIGN_UID = 12345;
const uid = process.geteuid?.() ?? 0;
const mode = (path: string) => statSync(path).mode & 0o777;

/** Echoes every line, like the host fixture, from inside the test process. */
function echo(socket: Socket): void {
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    for (const line of chunk.split("\n").filter((l) => l !== "")) socket.write(`echo:${process.pid}:${line}\n`);
  });
}

const hosted: HostedRelay[] = [];
afterEach(async () => {
  await Promise.all(hosted.splice(0).map((h) => h.close()));
});

async function host(paths: BundlePaths, options: { onConnection?: (s: Socket) => void } = {}): Promise<HostResult> {
  const result = await hostRelay({ paths, uid, bundleName: paths.bundle, onConnection: options.onConnection ?? echo });
  if (result.outcome === "hosted") hosted.push(result);
  return result;
}

async function hostOrFail(paths: BundlePaths): Promise<HostedRelay> {
  const result = await host(paths);
  if (result.outcome !== "hosted") throw new Error(`expected hosted, got ${result.outcome}`);
  return result;
}

async function rejection(promise: Promise<unknown>): Promise<RelayError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RelayError) return err;
    throw err;
  }
  throw new Error("expected a RelayError, the promise resolved");
}

describe("RuntimeLock", () => {
  it("is exclusive within a process and free again after release", () => {
    const path = `${tempDir()}/x.lock`;
    expect(RuntimeLock.isHeld(path)).toBe(false);
    expect(existsSync(path)).toBe(false); // a probe creates nothing
    const lock = RuntimeLock.tryAcquire(path);
    expect(lock).toBeDefined();
    expect(RuntimeLock.tryAcquire(path)).toBeUndefined();
    // Probing from the holder's own process neither takes nor drops the lock.
    expect(RuntimeLock.isHeld(path)).toBe(true);
    expect(RuntimeLock.isHeld(path)).toBe(true);
    expect(RuntimeLock.tryAcquire(path)).toBeUndefined();
    // The journal of the never-committed transaction stays in memory: nothing is left beside the lock.
    expect(existsSync(`${path}-journal`)).toBe(false);
    lock?.release();
    lock?.release(); // twice is harmless
    expect(RuntimeLock.isHeld(path)).toBe(false);
    const again = RuntimeLock.tryAcquire(path);
    expect(again).toBeDefined();
    again?.release();
    expect(mode(path)).toBe(0o600);
  });

  it("is seen held by other processes, and the kernel drops it when the holder is SIGKILLed", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const holder = await startHost(state, "b", "never-bind");
    expect(holder.status).toBe("locked");
    expect(pidFileValue(paths.pid)).toBe(holder.pid);
    expect(RuntimeLock.isHeld(paths.lock)).toBe(true);
    expect(RuntimeLock.tryAcquire(paths.lock)).toBeUndefined();
    // A second process sees it held too.
    const second = await startHost(state, "b", "never-bind");
    expect(second.status).toBe("skipped lock_held");

    process.kill(holder.pid, "SIGKILL");
    await until("the holder to die", () => !isRunning(holder.pid));
    await until("the lock to be free", () => !RuntimeLock.isHeld(paths.lock));
    const lock = RuntimeLock.tryAcquire(paths.lock, { pidFile: paths.pid, pid: 4242 });
    expect(lock).toBeDefined();
    expect(readFileSync(paths.pid, "utf8")).toBe("4242\n");
    lock?.release();
    expect(readFileSync(paths.pid, "utf8")).toBe("");
  });
});

describe("3. modes: the socket", () => {
  it("3. the socket is 0600 in a 0700 bundle dir, even when the dir was 0755 before", async () => {
    const paths = bundlePaths(tempDir(), "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o755 });
    chmodSync(paths.dir, 0o755);
    await hostOrFail(paths);
    expect(lstatSync(paths.socket).isSocket()).toBe(true);
    expect(mode(paths.socket)).toBe(0o600);
    expect(mode(paths.dir)).toBe(0o700);
    expect(mode(paths.lock)).toBe(0o600);
    expect(mode(paths.pid)).toBe(0o600);
    expect(await request(paths.socket, "hi")).toBe(`echo:${process.pid}:hi`);
  });
});

describe("4. foreign owner: the host", () => {
  it("4. a foreign-owned socket is refused and not unlinked; the lock is given back", async () => {
    const paths = bundlePaths(tempDir(), "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const foreign = createServer();
    await new Promise<void>((resolve) => foreign.listen(paths.socket, resolve));
    try {
      chownSync(paths.socket, FOREIGN_UID, FOREIGN_UID);
      const inode = lstatSync(paths.socket).ino;
      const err = await rejection(host(paths));
      expect(err.code).toBe("runtime_insecure_path");
      expect(err.message).toBe(`runtime artifact ${paths.socket} is owned by uid ${FOREIGN_UID}, expected uid ${uid}`);
      expect(err.details).toEqual({ path: paths.socket, owner_uid: FOREIGN_UID, expected_uid: uid });
      expect(lstatSync(paths.socket).ino).toBe(inode);
      expect(RuntimeLock.isHeld(paths.lock)).toBe(false);
      expect(readFileSync(paths.pid, "utf8")).toBe("");
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it("4. a foreign-owned relay.lock is refused before it is opened", async () => {
    const paths = bundlePaths(tempDir(), "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.lock, "");
    chownSync(paths.lock, FOREIGN_UID, FOREIGN_UID);
    const err = await rejection(host(paths));
    expect(err.code).toBe("runtime_insecure_path");
    expect(err.message).toBe(`runtime artifact ${paths.lock} is owned by uid ${FOREIGN_UID}, expected uid ${uid}`);
    expect(existsSync(paths.socket)).toBe(false);
  });

  it("4. a host that expects another uid refuses our bundle dir", async () => {
    const paths = bundlePaths(tempDir(), "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const err = await rejection(
      hostRelay({ paths, uid: uid + 1, bundleName: "b", onConnection: echo }).then((r) => {
        if (r.outcome === "hosted") hosted.push(r);
      }),
    );
    expect(err.message).toBe(`runtime directory ${paths.dir} is owned by uid ${uid}, expected uid ${uid + 1}`);
  });
});

describe("12. second host", () => {
  it("12. a second host process for the bundle is skipped/lock_held; the first keeps its socket and serves", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const first = await startHost(state, "b");
    expect(first.status).toBe("hosted");
    const inode = lstatSync(paths.socket).ino;
    expect(await request(paths.socket, "one")).toBe(`echo:${first.pid}:one`);

    const second = await startHost(state, "b");
    expect(second.status).toBe("skipped lock_held");
    await until("the second host to exit", () => !isRunning(second.pid));

    expect(lstatSync(paths.socket).ino).toBe(inode);
    expect(pidFileValue(paths.pid)).toBe(first.pid);
    expect(await request(paths.socket, "two")).toBe(`echo:${first.pid}:two`);
  });

  it("12. a second hostRelay in the same process is skipped too, with the reason", async () => {
    const paths = bundlePaths(tempDir(), "b");
    await hostOrFail(paths);
    const second = await host(paths);
    expect(second).toEqual({
      outcome: "skipped",
      reasonCode: "lock_held",
      reason: "relay already running for bundle b",
    });
    expect(pidFileValue(paths.pid)).toBe(process.pid);
    expect(await request(paths.socket, "still")).toBe(`echo:${process.pid}:still`);
  });
});

describe("13. shutdown: socket and lock", () => {
  it("13. close() removes the socket, releases the lock and truncates relay.pid", async () => {
    const paths = bundlePaths(tempDir(), "b");
    const relay = await hostOrFail(paths);
    // An open connection does not keep close() waiting.
    const accepted = once(relay.server, "connection");
    const client = connect(paths.socket);
    client.on("error", () => {});
    const [open] = (await accepted) as [Socket];
    await relay.close();
    await relay.close(); // idempotent
    expect(open.destroyed).toBe(true);
    await until("the client to see the close", () => client.destroyed || client.readableEnded);
    expect(existsSync(paths.socket)).toBe(false);
    expect(readFileSync(paths.pid, "utf8")).toBe("");
    expect(relay.server.listening).toBe(false);
    const lock = RuntimeLock.tryAcquire(paths.lock);
    expect(lock).toBeDefined();
    lock?.release();
    // The bundle can be hosted again at once.
    await hostOrFail(paths);
    expect(await request(paths.socket, "back")).toBe(`echo:${process.pid}:back`);
  });

  it("13. SIGTERM on a host process: socket removed, lock released, relay.pid truncated", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const relay = await startHost(state, "b");
    expect(pidFileValue(paths.pid)).toBe(relay.pid);
    process.kill(relay.pid, "SIGTERM");
    const code = await until("the host to exit", () => relay.child.exitCode ?? relay.child.signalCode ?? undefined);
    expect(code).toBe(0);
    expect(existsSync(paths.socket)).toBe(false);
    expect(readFileSync(paths.pid, "utf8")).toBe("");
    expect(RuntimeLock.isHeld(paths.lock)).toBe(false);
  });

  it("13. after a SIGKILL the socket stays behind, and the next host unlinks it and serves", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const dead = await startHost(state, "b");
    await killRelay(dead.pid, paths.socket);
    expect(lstatSync(paths.socket).isSocket()).toBe(true);
    await expect(request(paths.socket, "x")).rejects.toThrow(/ECONNREFUSED/);
    expect(pidFileValue(paths.pid)).toBe(dead.pid); // a SIGKILL leaves it; the next holder overwrites it
    await hostOrFail(paths);
    expect(await request(paths.socket, "y")).toBe(`echo:${process.pid}:y`);
    expect(pidFileValue(paths.pid)).toBe(process.pid);
  });
});

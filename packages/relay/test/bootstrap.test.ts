// relay.md §2, client side: bootstrapRelay against real relay processes (test/fixtures/runtime/
// host.mjs) and real racing clients (bootstrap-worker.mjs). Acceptance checks 4 (client side),
// 5, 6, 7, 8, 9, 10 and 11.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chownSync, existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { isRunning, tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { type BootstrapOptions, bootstrapRelay } from "../src/bootstrap.js";
import { RelayClient } from "../src/client.js";
import { RelayError } from "../src/errors.js";
import { RuntimeLock } from "../src/lock.js";
import { type BundlePaths, bundlePaths } from "../src/paths.js";
import {
  heldDeliveries,
  hostSpawner,
  killRelay,
  pidFileValue,
  request,
  spawnLogPids,
  startHost,
  startWorker,
  type Worker,
  type WorkerResult,
} from "./fixtures/runtime/harness.js";

const FOREIGN_UID = 12345;
const uid = process.geteuid?.() ?? 0;
/** Generous: relays are real Node processes started on a loaded 2-core machine. */
const STARTUP_MS = 15_000;

async function rejection(promise: Promise<unknown>): Promise<RelayError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RelayError) return err;
    throw err;
  }
  throw new Error("expected a RelayError, the promise resolved");
}

/** A spawn that must not happen: counts calls and starts nothing. */
function forbiddenSpawn() {
  const calls: number[] = [];
  return { spawn: () => void calls.push(Date.now()), calls };
}

function bootstrap(paths: BundlePaths, options: Partial<BootstrapOptions> & Pick<BootstrapOptions, "spawn">) {
  return bootstrapRelay({ paths, uid, startupTimeoutMs: STARTUP_MS, ...options });
}

describe("4. foreign owner: bootstrap", () => {
  it("4. a foreign-owned socket is a security error naming path and uids; it is not unlinked, nothing spawns", async () => {
    const paths = bundlePaths(tempDir(), "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const foreign = createServer();
    await new Promise<void>((resolve) => foreign.listen(paths.socket, resolve));
    try {
      chownSync(paths.socket, FOREIGN_UID, FOREIGN_UID);
      const inode = lstatSync(paths.socket).ino;
      const never = forbiddenSpawn();
      const err = await rejection(bootstrap(paths, { spawn: never.spawn }));
      expect(err.code).toBe("runtime_insecure_path");
      expect(err.message).toBe(`runtime artifact ${paths.socket} is owned by uid ${FOREIGN_UID}, expected uid ${uid}`);
      expect(lstatSync(paths.socket).ino).toBe(inode);
      expect(never.calls).toEqual([]);
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it("4. a foreign-owned stale socket file is not removed either, even with relay.lock free", async () => {
    const paths = bundlePaths(tempDir(), "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.socket, "stale");
    chownSync(paths.socket, FOREIGN_UID, FOREIGN_UID);
    const never = forbiddenSpawn();
    const err = await rejection(bootstrap(paths, { spawn: never.spawn }));
    expect(err.code).toBe("runtime_insecure_path");
    expect(err.details).toEqual({ path: paths.socket, owner_uid: FOREIGN_UID, expected_uid: uid });
    expect(existsSync(paths.socket)).toBe(true);
    expect(never.calls).toEqual([]);
  });

  it("4. a foreign-owned relay.lock or spawn lock stops the winner before it removes anything", async () => {
    for (const which of ["lock", "spawnLock"] as const) {
      const paths = bundlePaths(tempDir(), "b");
      mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
      writeFileSync(paths.socket, "stale");
      writeFileSync(paths[which], "");
      chownSync(paths[which], FOREIGN_UID, FOREIGN_UID);
      const never = forbiddenSpawn();
      const err = await rejection(bootstrap(paths, { spawn: never.spawn }));
      expect(err.message).toBe(`runtime artifact ${paths[which]} is owned by uid ${FOREIGN_UID}, expected uid ${uid}`);
      expect(existsSync(paths.socket)).toBe(true);
      expect(never.calls).toEqual([]);
    }
  });

  it("4. a foreign-owned bundle dir (or an injected uid that is not the owner) fails before anything else", async () => {
    const paths = bundlePaths(tempDir(), "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const never = forbiddenSpawn();
    const err = await rejection(bootstrapRelay({ paths, uid: uid + 7, spawn: never.spawn }));
    expect(err.message).toBe(`runtime directory ${paths.dir} is owned by uid ${uid}, expected uid ${uid + 7}`);
    chownSync(paths.dir, FOREIGN_UID, FOREIGN_UID);
    const err2 = await rejection(bootstrap(paths, { spawn: never.spawn }));
    expect(err2.details).toEqual({ path: paths.dir, owner_uid: FOREIGN_UID, expected_uid: uid });
    expect(never.calls).toEqual([]);
  });
});

describe("5. live relay", () => {
  it("5. a live relay: bootstrap returns spawned=false and never spawns", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const relay = await startHost(state, "b");
    expect(relay.status).toBe("hosted");
    const never = forbiddenSpawn();
    for (const autoStart of [true, false]) {
      expect(await bootstrap(paths, { spawn: never.spawn, autoStart })).toEqual({
        spawned: false,
        socket: paths.socket,
      });
    }
    expect(never.calls).toEqual([]);
    expect(await request(paths.socket, "ping")).toBe(`echo:${relay.pid}:ping`);
  });
});

describe("6. auto-start disabled", () => {
  it("6. relay down and auto-start off → relay_autostart_disabled with the --state-directory hint; nothing touched", async () => {
    const paths = bundlePaths(tempDir(), "b");
    const never = forbiddenSpawn();
    const err = await rejection(bootstrap(paths, { spawn: never.spawn, autoStart: false }));
    expect(err.code).toBe("relay_autostart_disabled");
    expect(err.message).toBe(
      `relay unavailable at ${paths.socket}; start agentmux host relay with matching --state-directory`,
    );
    // A stale file is left alone too: without auto-start the client removes nothing.
    writeFileSync(paths.socket, "stale");
    expect((await rejection(bootstrap(paths, { spawn: never.spawn, autoStart: false }))).code).toBe(
      "relay_autostart_disabled",
    );
    expect(existsSync(paths.socket)).toBe(true);
    expect(existsSync(paths.spawnLock)).toBe(false);
    expect(never.calls).toEqual([]);
  });
});

describe("7. stale socket", () => {
  /** Wraps a spawner to record whether the socket path was empty at the moment of the spawn. */
  function watchingSpawner(state: string, paths: BundlePaths) {
    const spawner = hostSpawner(state, "b");
    const seenAtSpawn: boolean[] = [];
    return {
      pids: spawner.pids,
      seenAtSpawn,
      spawn: async () => {
        seenAtSpawn.push(existsSync(paths.socket));
        await spawner.spawn();
      },
    };
  }

  it("7. a regular file at the socket path, no lock holder: removed before the spawn; spawned=true", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.socket, "not a socket");
    const spawner = watchingSpawner(state, paths);
    expect(await bootstrap(paths, { spawn: spawner.spawn })).toEqual({ spawned: true, socket: paths.socket });
    expect(spawner.seenAtSpawn).toEqual([false]);
    expect(lstatSync(paths.socket).isSocket()).toBe(true);
    const [pid] = spawner.pids;
    expect(pidFileValue(paths.pid)).toBe(pid);
    expect(await request(paths.socket, "hi")).toBe(`echo:${pid}:hi`);
  });

  it("7. a dead socket left by a SIGKILLed relay: removed before the spawn; spawned=true", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const dead = await startHost(state, "b");
    await killRelay(dead.pid, paths.socket);
    expect(lstatSync(paths.socket).isSocket()).toBe(true);
    const spawner = watchingSpawner(state, paths);
    expect(await bootstrap(paths, { spawn: spawner.spawn })).toEqual({ spawned: true, socket: paths.socket });
    expect(spawner.seenAtSpawn).toEqual([false]);
    const [pid] = spawner.pids;
    expect(pid).not.toBe(dead.pid);
    expect(await request(paths.socket, "hi")).toBe(`echo:${pid}:hi`);
  });
});

describe("8. live lock holder", () => {
  it("8. while relay.lock is held by a live relay that is not listening, the socket is not unlinked", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const holder = await startHost(state, "b", "never-bind");
    expect(holder.status).toBe("locked");
    writeFileSync(paths.socket, "the holder's, as far as we know");
    const inode = lstatSync(paths.socket).ino;
    const never = forbiddenSpawn();
    const err = await rejection(bootstrap(paths, { spawn: never.spawn, startupTimeoutMs: 600 }));
    expect(err.code).toBe("relay_startup_timeout");
    expect(lstatSync(paths.socket).ino).toBe(inode);
    // A second relay would only be skipped (lock_held): the winner waits for the holder instead.
    expect(never.calls).toEqual([]);
    expect(isRunning(holder.pid)).toBe(true);
  });

  it("8. when the holder dies while the winner waits, the winner removes the stale socket and spawns", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const holder = await startHost(state, "b", "never-bind");
    writeFileSync(paths.socket, "stale");
    const spawner = hostSpawner(state, "b");
    const result = bootstrap(paths, { spawn: spawner.spawn });
    // The winner is polling, holding the spawn lock, and has not touched the socket.
    await until("the winner to hold the spawn lock", () => RuntimeLock.isHeld(paths.spawnLock));
    expect(existsSync(paths.socket)).toBe(true);
    expect(spawner.pids).toEqual([]);
    process.kill(holder.pid, "SIGKILL");
    expect(await result).toEqual({ spawned: true, socket: paths.socket });
    expect(spawner.pids).toHaveLength(1);
    expect(await request(paths.socket, "hi")).toBe(`echo:${spawner.pids[0]}:hi`);
  });
});

describe("9. racing bootstraps", () => {
  it("9. 8 processes bootstrap one bundle at once, 20 rounds: one relay each round, all succeed", async () => {
    const WORKERS = 8;
    const ROUNDS = 20;
    const state = tempDir();
    const paths = bundlePaths(state, "race");
    const spawnLog = join(tempDir(), "spawns.log");
    const workers: Worker[] = await Promise.all(
      Array.from({ length: WORKERS }, () => startWorker(state, "race", "serve", spawnLog, STARTUP_MS)),
    );

    let relay: number | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      // Every round starts with the relay gone: even rounds from a crash (a stale socket is left),
      // odd rounds from a clean shutdown (no socket); round 0 from nothing at all.
      if (relay !== undefined) {
        if (round % 2 === 0) await killRelay(relay, paths.socket);
        else {
          process.kill(relay, "SIGTERM");
          const gone = relay;
          await until(`relay ${gone} to exit`, () => !isRunning(gone));
        }
      }
      for (const w of workers) w.go();
      const results: WorkerResult[] = await Promise.all(workers.map((w) => w.result(STARTUP_MS + 5_000)));

      const pids = spawnLogPids(spawnLog);
      const context = { round, results, pids };
      expect(
        results.every((r) => r.ok),
        JSON.stringify(context),
      ).toBe(true);
      expect(
        results.filter((r) => r.ok && r.spawned),
        JSON.stringify(context),
      ).toHaveLength(1);
      expect(pids, JSON.stringify(context)).toHaveLength(round + 1);
      relay = pids[round];
      if (relay === undefined) throw new Error("no relay recorded");
      expect(
        pids.filter((p) => isRunning(p)),
        JSON.stringify(context),
      ).toEqual([relay]);
      expect(pidFileValue(paths.pid)).toBe(relay);
      expect(await request(paths.socket, `round ${round}`)).toBe(`echo:${relay}:round ${round}`);
    }
  }, 120_000);
});

describe("10. never binds", () => {
  it("10. a relay that never binds → relay_startup_timeout after about the timeout; a waiter times out too", async () => {
    const TIMEOUT = 1_500;
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const spawnLog = join(tempDir(), "spawns.log");
    const waiter = await startWorker(state, "b", "never-bind", spawnLog, TIMEOUT);
    const spawner = hostSpawner(state, "b", "never-bind", spawnLog);

    const started = performance.now();
    const winner = rejection(bootstrap(paths, { spawn: spawner.spawn, startupTimeoutMs: TIMEOUT }));
    await until("the winner to spawn", () => spawner.pids.length === 1);
    // The spawn lock is held by the winner now: the worker can only wait.
    waiter.go();
    const err = await winner;
    const elapsed = performance.now() - started;
    expect(err.code).toBe("relay_startup_timeout");
    expect(err.message).toBe(`relay startup timed out after ${TIMEOUT}ms while waiting for ${paths.socket}`);
    expect(err.details).toEqual({ socket: paths.socket, startup_timeout_ms: TIMEOUT });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT);
    expect(elapsed).toBeLessThan(TIMEOUT + 3_000);

    const waited = await waiter.result(TIMEOUT + 10_000);
    expect(waited).toEqual({ ok: false, code: "relay_startup_timeout", message: err.message });
    // The waiter never spawned: no takeover.
    await until("the relay to log its start", () => spawnLogPids(spawnLog).length === 1);
    expect(spawnLogPids(spawnLog)).toEqual(spawner.pids);
  });

  it("10. a spawn that throws → relay_spawn_failure naming the command; the spawn lock is released", async () => {
    const paths = bundlePaths(tempDir(), "b");
    const err = await rejection(
      bootstrap(paths, {
        command: "/opt/agentmux/bin/agentmux",
        spawn: () => {
          throw new Error("EACCES: permission denied");
        },
      }),
    );
    expect(err.code).toBe("relay_spawn_failure");
    expect(err.message).toBe("failed to spawn relay command /opt/agentmux/bin/agentmux: EACCES: permission denied");
    expect(RuntimeLock.isHeld(paths.spawnLock)).toBe(false);
  });

  it("10. a real spawn of a missing program → relay_spawn_failure", async () => {
    const paths = bundlePaths(tempDir(), "b");
    const program = "/nonexistent/agentmux";
    const err = await rejection(
      bootstrap(paths, {
        command: program,
        spawn: async () => {
          const child = spawn(program, ["host", "relay"], { detached: true, stdio: "ignore" });
          await once(child, "spawn");
        },
      }),
    );
    expect(err.code).toBe("relay_spawn_failure");
    expect(err.message).toMatch(/^failed to spawn relay command \/nonexistent\/agentmux: .*ENOENT/);
  });
});

describe("11. kill -9", () => {
  it("11. SIGKILL the relay: a RelayClient with a sync send in flight gets relay_unavailable and replays nothing; the next bootstrap respawns and relay.pid holds the new PID", async () => {
    const state = tempDir();
    const paths = bundlePaths(state, "b");
    const spawner = hostSpawner(state, "b", "relay");
    expect(await bootstrap(paths, { spawn: spawner.spawn })).toEqual({ spawned: true, socket: paths.socket });
    const [first] = spawner.pids;
    if (first === undefined) throw new Error("no relay spawned");
    expect(pidFileValue(paths.pid)).toBe(first);

    // A request the relay accepted and has not answered: a sync send that bob's transport holds.
    const as = { socketPath: paths.socket, bundleName: "b", sessionId: "ada", clientClass: "agent" } as const;
    const ada = await RelayClient.connect(as);
    const inFlight = rejection(ada.send({ message: "held by bob", targets: ["bob"], deliveryMode: "sync" }));
    await until("bob's transport to hold the message", () => heldDeliveries(state).length === 1);
    expect(heldDeliveries(state)).toEqual([{ pid: first, body: "held by bob" }]);
    await killRelay(first, paths.socket);
    const err = await inFlight;
    expect(err.code).toBe("relay_unavailable");
    expect(err.details).toMatchObject({ socket_path: paths.socket });
    expect(ada.closed).toBe(true);
    expect(ada.closeReason?.code).toBe("relay_unavailable");

    expect(await bootstrap(paths, { spawn: spawner.spawn })).toEqual({ spawned: true, socket: paths.socket });
    const second = spawner.pids[1];
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(pidFileValue(paths.pid)).toBe(second);
    expect(RuntimeLock.isHeld(paths.lock)).toBe(true);

    // The broken client stays broken: it does not reconnect behind the caller's back, and a new
    // request on it fails at once with the same reason instead of reaching the new relay.
    expect(await rejection(ada.send({ message: "on the dead stream", targets: ["bob"] }))).toBe(ada.closeReason);
    // Reconnected, the caller's next message is the first (and only) thing the new relay gets:
    // the request in flight at the kill was not replayed (bob's lane is FIFO and never finishes,
    // so a replay would be logged, and this message would never reach bob).
    const again = await RelayClient.connect(as);
    try {
      const next = await again.send({ message: "after the restart", targets: ["bob"], deliveryMode: "async" });
      expect(next.status).toBe("accepted");
      await until("the new relay to hand bob the new message", () => heldDeliveries(state).length === 2);
      expect(heldDeliveries(state)).toEqual([
        { pid: first, body: "held by bob" },
        { pid: second, body: "after the restart" },
      ]);
      expect((await again.list()).bundle.sessions.map((s) => s.id)).toEqual(["ada", "bob"]);
      expect(heldDeliveries(state)).toHaveLength(2);
    } finally {
      await again.close();
    }
  });
});

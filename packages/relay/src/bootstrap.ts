/**
 * The client side of relay startup (relay.md §2): make sure a relay listens
 * on a bundle's socket, starting one if needed, such that any number of
 * clients racing to do so start exactly one. The spawn itself is injected:
 * this module decides *whether* to start a relay, the app decides *how*.
 */
import { unlinkSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { RelayError } from "./errors.js";
import { RuntimeLock } from "./lock.js";
import { type BundlePaths, checkOwner, secureBundleDir } from "./paths.js";

export interface BootstrapOptions {
  readonly paths: BundlePaths;
  /** The uid that must own the bundle dir, socket and locks: the effective uid, passed in by the app. */
  readonly uid: number;
  /** Start a relay when none answers (default true); false makes a down relay an error. */
  readonly autoStart?: boolean;
  /** How long to wait for the socket to answer, in ms (default 10 000). */
  readonly startupTimeoutMs?: number;
  /** Time between two connection attempts while waiting, in ms (default 50). */
  readonly pollMs?: number;
  /**
   * Starts the relay process (e.g. `agentmux host relay --state-directory …`,
   * detached). It should return once the process has been started, not wait
   * for it to listen; a throw (or rejection) is reported as `relay_spawn_failure`.
   */
  readonly spawn: () => void | Promise<void>;
  /** How the spawned program is named in errors (e.g. its path). */
  readonly command?: string;
}

export interface BootstrapResult {
  /** True only for the one caller that started the relay. */
  readonly spawned: boolean;
  readonly socket: string;
}

export const BOOTSTRAP_DEFAULTS = Object.freeze({
  autoStart: true,
  startupTimeoutMs: 10_000,
  pollMs: 50,
  command: "(injected spawn)",
});

/**
 * A probe connection that neither connects nor fails within this long counts
 * as not connectable. Connecting to a Unix socket is immediate unless the
 * listener's backlog is full; this only bounds that case.
 */
const CONNECT_PROBE_TIMEOUT_MS = 1_000;

/**
 * Returns once a relay answers on the bundle's socket, spawning one if
 * needed (relay.md §2, client side):
 *
 * 1. secure the bundle dir;
 * 2. a connectable socket → `spawned: false`;
 * 3. auto-start off → `relay_autostart_disabled`;
 * 4. take `relay.spawn.lock` without waiting. A loser polls for the socket
 *    (no takeover if the winner dies: it times out like any waiter). The
 *    winner re-checks (another winner may have finished in between), removes
 *    a stale socket only while nobody holds `relay.lock`, spawns and polls;
 *    it keeps the spawn lock until it returns, so a later winner always finds
 *    the relay already listening.
 *
 * One step beyond the original: while `relay.lock` is held (a relay that is
 * starting, or one that is shutting down), the winner does not spawn, since a
 * second relay would only be skipped. It spawns once the lock comes free, so
 * a relay that was exiting is still replaced.
 *
 * A foreign-owned socket or lock file is a `runtime_insecure_path` error, and
 * is never removed.
 */
export async function bootstrapRelay(options: BootstrapOptions): Promise<BootstrapResult> {
  const { paths, uid } = options;
  const autoStart = options.autoStart ?? BOOTSTRAP_DEFAULTS.autoStart;
  const timeoutMs = options.startupTimeoutMs ?? BOOTSTRAP_DEFAULTS.startupTimeoutMs;
  const pollMs = options.pollMs ?? BOOTSTRAP_DEFAULTS.pollMs;
  const socket = paths.socket;

  secureBundleDir(paths.dir, { uid });
  if (await connectable(socket, uid)) return { spawned: false, socket };
  if (!autoStart) {
    throw new RelayError(
      "relay_autostart_disabled",
      `relay unavailable at ${socket}; start agentmux host relay with matching --state-directory`,
      { socket },
    );
  }

  checkOwner(paths.spawnLock, uid);
  const spawnLock = RuntimeLock.tryAcquire(paths.spawnLock);
  const deadline = performance.now() + timeoutMs;
  if (spawnLock === undefined) {
    await waitConnectable(socket, uid, deadline, timeoutMs, pollMs);
    return { spawned: false, socket };
  }
  try {
    let spawned = false;
    for (;;) {
      if (await connectable(socket, uid)) return { spawned, socket };
      if (!spawned && !relayLockHeld(paths, uid)) {
        removeStaleSocket(socket, uid);
        await spawnRelay(options);
        spawned = true;
      }
      if (performance.now() >= deadline) throw startupTimeout(socket, timeoutMs);
      await sleep(pollMs);
    }
  } finally {
    spawnLock.release();
  }
}

/**
 * Connectable = the socket passes the owner check and `connect()` succeeds.
 * A missing socket is simply not connectable; a foreign-owned one throws.
 */
async function connectable(socket: string, uid: number): Promise<boolean> {
  if (checkOwner(socket, uid) === undefined) return false;
  return new Promise((resolve) => {
    const probe = connect(socket);
    const done = (ok: boolean) => {
      probe.destroy();
      resolve(ok);
    };
    probe.once("connect", () => done(true));
    probe.once("error", () => done(false));
    probe.setTimeout(CONNECT_PROBE_TIMEOUT_MS, () => done(false));
  });
}

async function waitConnectable(
  socket: string,
  uid: number,
  deadline: number,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  for (;;) {
    if (await connectable(socket, uid)) return;
    if (performance.now() >= deadline) throw startupTimeout(socket, timeoutMs);
    await sleep(pollMs);
  }
}

function relayLockHeld(paths: BundlePaths, uid: number): boolean {
  checkOwner(paths.lock, uid);
  return RuntimeLock.isHeld(paths.lock);
}

/**
 * Removes whatever is at the socket path (a dead socket, a regular file).
 * Called only by the spawn-lock winner after seeing `relay.lock` free, so no
 * live relay can own it.
 */
function removeStaleSocket(socket: string, uid: number): void {
  if (checkOwner(socket, uid) === undefined) return;
  try {
    unlinkSync(socket);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

async function spawnRelay(options: BootstrapOptions): Promise<void> {
  const command = options.command ?? BOOTSTRAP_DEFAULTS.command;
  try {
    await options.spawn();
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    throw new RelayError("relay_spawn_failure", `failed to spawn relay command ${command}: ${cause}`, {
      command,
      cause,
    });
  }
}

function startupTimeout(socket: string, timeoutMs: number): RelayError {
  return new RelayError(
    "relay_startup_timeout",
    `relay startup timed out after ${timeoutMs}ms while waiting for ${socket}`,
    { socket, startup_timeout_ms: timeoutMs },
  );
}

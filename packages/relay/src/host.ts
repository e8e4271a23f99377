/**
 * The relay side of startup (relay.md §2): one relay per bundle, proved by
 * holding `relay.lock` for the relay's whole life, listening on the bundle's
 * socket. What is spoken on a connection belongs to the caller
 * (`onConnection`); this module owns only who may listen, where, and how the
 * files are left behind.
 */
import { chmodSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { RuntimeLock } from "./lock.js";
import { type BundlePaths, checkOwner, secureBundleDir } from "./paths.js";

/** A structured log line: an event name and its facts (the app writes them as JSON lines). */
export type RuntimeLog = (event: string, details: Record<string, unknown>) => void;

export interface HostOptions {
  readonly paths: BundlePaths;
  /** The uid that must own the bundle dir, socket and lock: the effective uid, passed in by the app. */
  readonly uid: number;
  readonly bundleName: string;
  /** Called with every accepted connection. */
  readonly onConnection: (socket: Socket) => void;
  readonly log?: RuntimeLog;
  /** The PID written to `relay.pid` (default: this process). */
  readonly pid?: number;
  /**
   * How long a busy `relay.lock` is retried before giving up, in ms (default
   * 250). A bootstrapping client probes the lock with a trial acquire that
   * holds it for an instant; a relay starting at that instant must not take
   * the probe for a running relay and skip its bundle.
   */
  readonly lockGraceMs?: number;
}

export interface HostedRelay {
  readonly outcome: "hosted";
  readonly server: Server;
  /**
   * Stops listening, destroys connections still open (the protocol layer
   * ends its streams gracefully before calling this), removes the socket,
   * truncates `relay.pid` and releases `relay.lock`, in that order. Safe to
   * call more than once.
   */
  close(): Promise<void>;
}

export interface SkippedRelay {
  readonly outcome: "skipped";
  readonly reasonCode: "lock_held";
  readonly reason: string;
}

export type HostResult = HostedRelay | SkippedRelay;

export const HOST_DEFAULTS = Object.freeze({ lockGraceMs: 250 });

const SOCKET_MODE = 0o600;
const LOCK_RETRY_MS = 10;

/**
 * Hosts the relay for one bundle: takes `relay.lock` (held by someone else →
 * `skipped`/`lock_held`), writes the PID, owner-checks and then unlinks the
 * socket path unconditionally (whatever is there is stale: only the lock
 * holder binds), binds and chmods the socket to 0600.
 *
 * Why the socket is never reachable with broader modes, without touching
 * `process.umask` (process-global, so not ours to change): `bind` creates the
 * socket with the umask's mode, but inside the bundle dir, which
 * `secureBundleDir` has just made 0700 and owned by us. No other uid can
 * traverse into it to connect to, or even see, the socket before the chmod.
 */
export async function hostRelay(options: HostOptions): Promise<HostResult> {
  const { paths, uid, bundleName } = options;
  const log = options.log ?? (() => {});
  const socketPath = paths.socket;

  secureBundleDir(paths.dir, { uid });
  checkOwner(paths.lock, uid);
  checkOwner(paths.pid, uid);
  const lock = await acquireWithGrace(paths, options.pid, options.lockGraceMs ?? HOST_DEFAULTS.lockGraceMs);
  if (lock === undefined) {
    const reason = `relay already running for bundle ${bundleName}`;
    log("relay.host.skipped", { bundle_name: bundleName, reason_code: "lock_held", reason });
    return { outcome: "skipped", reasonCode: "lock_held", reason };
  }

  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    options.onConnection(socket);
  });
  // An accept failure (e.g. out of descriptors) must not take the whole relay down.
  server.on("error", (err) => log("relay.server.error", { bundle_name: bundleName, error: err.message }));

  let bound = false;
  try {
    checkOwner(socketPath, uid);
    rmSync(socketPath, { force: true });
    await listen(server, socketPath);
    bound = true;
    chmodSync(socketPath, SOCKET_MODE);
  } catch (err) {
    // Only a socket we bound is ours to remove; a foreign one stays where it is.
    if (bound) {
      server.close();
      rmSync(socketPath, { force: true });
    }
    lock.release();
    throw err;
  }
  log("relay.host.listening", { bundle_name: bundleName, socket: socketPath, pid: options.pid ?? process.pid });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await stopped;
      // libuv already unlinks a closed listener's path; this covers a socket that was replaced.
      rmSync(socketPath, { force: true });
      lock.release();
      log("relay.host.closed", { bundle_name: bundleName, socket: socketPath });
    })();
    return closing;
  };
  return { outcome: "hosted", server, close };
}

async function acquireWithGrace(
  paths: BundlePaths,
  pid: number | undefined,
  graceMs: number,
): Promise<RuntimeLock | undefined> {
  const deadline = performance.now() + graceMs;
  const acquireOptions = pid === undefined ? { pidFile: paths.pid } : { pidFile: paths.pid, pid };
  for (;;) {
    const lock = RuntimeLock.tryAcquire(paths.lock, acquireOptions);
    if (lock !== undefined || performance.now() >= deadline) return lock;
    await sleep(LOCK_RETRY_MS);
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(path, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

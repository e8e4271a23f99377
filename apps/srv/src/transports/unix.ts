import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import net from "node:net";
import { dirname } from "node:path";
import { NdjsonDecoder } from "@agentmux/common-ipc";
import { Connection } from "../connection.js";
import { SocketInUseError, SocketUnsafeError } from "../errors.js";
import type { Services } from "../router.js";
import { drained } from "./drain.js";

export const UNIX_DEFAULTS = Object.freeze({
  /** How long a client asked to close may take to read what is queued before it is dropped. */
  endGraceMs: 2000,
});

/** A bound transport. */
export interface Listener {
  address: string;
  /**
   * Stops accepting, asks every client to close, and drops those still there
   * after `graceMs` (a peer that stops reading never lets a close finish).
   */
  close(graceMs: number): Promise<void>;
}

/** Resolves true if something accepts connections at `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** Prepares the socket's directory (0700, ours, not a symlink) and removes a stale socket left by a dead srv. */
async function prepare(path: string): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new SocketUnsafeError(`${dir} is not a directory`);
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
    throw new SocketUnsafeError(`${dir} belongs to another user`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  if (existsSync(path)) {
    if (await isLive(path)) throw new SocketInUseError(path);
    unlinkSync(path);
  }
}

/** Serves NDJSON over a Unix socket (mode 0600). */
export async function listenUnix(path: string, services: Services, nextId: () => number): Promise<Listener> {
  await prepare(path);
  const sockets = new Set<net.Socket>();
  // Half-open: a client may shut its side after sending and still read the answers.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    const decoder = new NdjsonDecoder({ maxFrameBytes: services.maxFrameBytes });
    const conn = new Connection(
      services,
      {
        send: (text) => {
          if (!socket.destroyed) socket.write(`${text}\n`);
        },
        buffered: () => socket.writableLength,
        drained: () => drained(socket),
        close: () => {
          socket.end();
          // A peer that stops reading never lets `end` finish.
          setTimeout(() => socket.destroy(), UNIX_DEFAULTS.endGraceMs).unref();
        },
      },
      nextId(),
      (paused) => (paused ? socket.pause() : socket.resume()),
    );
    const frames = (items: ReturnType<NdjsonDecoder["push"]>) => {
      for (const item of items) {
        if (item.ok) conn.receive(item.frame);
        else conn.reject(item.error, true);
      }
    };
    socket.on("data", (chunk: Buffer) => frames(decoder.push(chunk)));
    socket.on("end", () => {
      frames(decoder.end());
      conn.endOfInput();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      conn.closed();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    address: path,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.end();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, graceMs).unref();
      }),
  };
}

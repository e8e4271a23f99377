import net from "node:net";
import type { BusEvent, CommandInput, Event } from "@agentmux/common-ipc";
import { EXIT, LauncherError } from "./errors.js";
import { type RunFile, readRunFile } from "./run-file.js";

/** Frames are validated with common-ipc's schemas, loaded once the first commands are on their way. */
const wire = () => import("./wire.js");

/**
 * Exactly one connection to srv's Unix socket, registered as a tool, for one verb's run.
 *
 * Start-up is pipelined: `connect` sends `register` and returns without waiting for the connection;
 * the verb's first command follows at once, and while srv answers both, the client loads the
 * schemas that validate the answers (most of a verb's start-up).
 * Every frame from srv is validated (common-ipc's `decodeEvent`) before any listener sees it.
 */
export class SrvClient {
  readonly #socket: net.Socket;
  readonly #listeners = new Set<(ev: Event) => void>();
  /** Rejecters of every call in flight, told when the connection closes. */
  readonly #waiting = new Set<() => void>();
  /** Settles when srv answered `register`: calls report a refused registration rather than what follows. */
  readonly #registered: Promise<void>;
  #ids = 0;
  #closed = false;
  #failure: LauncherError | undefined;

  private constructor(socket: net.Socket, dataDir: string) {
    this.#socket = socket;
    // Bytes that come before the decoder is loaded wait here, in order.
    const early: Buffer[] = [];
    let receive: ((chunk: Buffer) => void) | undefined;
    socket.on("data", (chunk: Buffer) => (receive ? receive(chunk) : early.push(chunk)));
    let connected = false;
    socket.once("connect", () => {
      connected = true;
    });
    // No socket to connect to (a stale run file): every call fails as "not running", exit code 3.
    socket.on("error", () => {
      if (!connected) this.#failure ??= notRunning(dataDir);
    });
    socket.on("close", () => {
      this.#closed = true;
      // Whatever waits on srv learns that it is gone, rather than waiting for ever.
      for (const onGone of this.#waiting) onGone();
    });
    // Written now (the socket holds it until it is connected); the verb's first command follows.
    this.#registered = this.#request(
      { cmd: "register", kind: "tool", pid: process.pid, version: "agentmux-cli" },
      (e) => e.event === "registered",
    ).then(() => {});
    // Awaited by every call; a refusal is reported there, never as an unhandled rejection.
    this.#registered.catch(() => {});
    // Once the verb has written its first command (its synchronous part runs before this), load
    // the schemas while srv answers.
    setImmediate(() =>
      wire().then(
        ({ decodeEvent, NdjsonDecoder }) => {
          const decoder = new NdjsonDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
          receive = (chunk) => {
            for (const frame of decoder.push(chunk)) {
              // Once the verb is done, what srv still sends is not looked at.
              if (!frame.ok || this.#closed) continue;
              const ev = decodeEvent(frame.frame);
              if (ev.ok) for (const listener of this.#listeners) listener(ev.value);
            }
          };
          for (const chunk of early.splice(0)) receive(chunk);
        },
        (e: unknown) => {
          // A bundle missing a file: every call fails with it rather than with "srv stopped".
          this.#failure = new LauncherError("srv_error", `cannot load the protocol's schemas: ${e}`);
          socket.destroy();
        },
      ),
    );
  }

  /**
   * Connects to the srv of the launcher running on `dataDir` and registers, without waiting:
   * calls wait for the registration (and fail with exit code 3 and what to do when nothing
   * listens there), sends do not need to.
   */
  static async connect(dataDir: string): Promise<{ client: SrvClient; run: RunFile }> {
    const run = readRunFile(dataDir);
    if (run?.pipe == null) throw notRunning(dataDir);
    return { client: new SrvClient(net.connect(run.pipe), dataDir), run };
  }

  /** Every event from now on. */
  on(listener: (ev: Event) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Sends a command with a fresh req_id and resolves with the first event that answers it
   * (`done`, default: any event carrying that req_id); an `error` event for it is a LauncherError.
   */
  async call(cmd: CommandInput, done?: (ev: Event) => boolean): Promise<Event> {
    const reply = this.#request(cmd, done);
    reply.catch(() => {}); // reported below, after the registration's own error if there is one
    await this.#registered;
    return reply;
  }

  /** `call` without waiting for the registration (`register` itself goes through here). */
  #request(cmd: CommandInput, done?: (ev: Event) => boolean): Promise<Event> {
    const reqId = `cli-${process.pid}-${++this.#ids}`;
    return this.#wait((resolve, reject) => {
      const off = this.on((ev) => {
        if (ev.event === "error" && ev.req_id === reqId) {
          off();
          reject(new LauncherError("srv_error", `srv: ${ev.code}: ${ev.message}`, EXIT.failed));
        } else if (done ? done(ev) : ev.req_id === reqId) {
          off();
          resolve(ev);
        }
      });
      this.#socket.write(`${JSON.stringify({ ...cmd, req_id: reqId })}\n`);
      return off;
    });
  }

  /** A promise that also rejects (srv went away) if the connection closes first. */
  #wait<T>(start: (resolve: (v: T) => void, reject: (e: unknown) => void) => () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) return reject(this.#failure ?? gone());
      let off = () => {};
      const onGone = () => {
        off();
        reject(this.#failure ?? gone());
      };
      this.#waiting.add(onGone);
      const settle =
        <A>(fn: (a: A) => void) =>
        (a: A) => {
          this.#waiting.delete(onGone);
          fn(a);
        };
      off = start(settle(resolve), settle(reject));
    });
  }

  /** Resolves with `pick`'s first answer among the events from now on (rejects if srv goes away). */
  until<T>(pick: (ev: Event) => T | undefined): Promise<T> {
    return this.#wait((resolve) =>
      this.on((ev) => {
        const value = pick(ev);
        if (value !== undefined) resolve(value);
      }),
    );
  }

  /** Sends without waiting. */
  send(cmd: CommandInput): void {
    this.#socket.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Every logged event after `since`, page by page; `truncated`: srv no longer keeps some of them. */
  async history(since = 0): Promise<{ events: BusEvent[]; truncated: boolean }> {
    await this.#registered;
    const events: BusEvent[] = [];
    const reqId = `cli-${process.pid}-${++this.#ids}`;
    let truncated = false;
    await this.#wait<void>((resolve, reject) => {
      const off = this.on((ev) => {
        if (ev.req_id !== reqId) return;
        if (ev.event === "error") {
          off();
          reject(new LauncherError("srv_error", `srv: ${ev.code}: ${ev.message}`));
        } else if (ev.event === "event_list") {
          events.push(...ev.events);
          truncated ||= ev.truncated;
          if (!ev.more) {
            off();
            resolve();
          }
        }
      });
      this.#socket.write(`${JSON.stringify({ cmd: "get_events", since, req_id: reqId })}\n`);
      return off;
    });
    return { events, truncated };
  }

  /** Says goodbye and closes once that is written, without waiting for srv to close its end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.end(`${JSON.stringify({ cmd: "goodbye" })}\n`, () => this.#socket.destroy());
  }
}

function gone(): LauncherError {
  return new LauncherError("not_running", "the connection to srv closed (srv stopped?)", EXIT.notRunning);
}

function notRunning(dataDir: string): LauncherError {
  return new LauncherError(
    "not_running",
    `agentmux is not running on ${dataDir}; start it with: agentmux start --detach`,
    EXIT.notRunning,
  );
}

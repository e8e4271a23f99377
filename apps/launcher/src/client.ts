import net from "node:net";
import { type BusEvent, type CommandInput, decodeEvent, type Event, NdjsonDecoder } from "@agentmux/common-ipc";
import { EXIT, LauncherError } from "./errors.js";
import { type RunFile, readRunFile } from "./run-file.js";

/** Exactly one connection to srv's Unix socket, registered as a tool, for one verb's run. */
export class SrvClient {
  readonly #socket: net.Socket;
  readonly #listeners = new Set<(ev: Event) => void>();
  /** Rejecters of every call in flight, told when the connection closes. */
  readonly #waiting = new Set<() => void>();
  #ids = 0;
  #closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    const decoder = new NdjsonDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (!frame.ok) continue;
        const ev = decodeEvent(frame.frame);
        if (ev.ok) for (const listener of this.#listeners) listener(ev.value);
      }
    });
    socket.on("close", () => {
      this.#closed = true;
      // Whatever waits on srv learns that it is gone, rather than waiting for ever.
      for (const onGone of this.#waiting) onGone();
    });
    socket.on("error", () => {});
  }

  /** Connects to the srv of the launcher running on `dataDir` (exit code 3 with what to do when there is none). */
  static async connect(dataDir: string): Promise<{ client: SrvClient; run: RunFile }> {
    const run = readRunFile(dataDir);
    if (run?.pipe == null) throw notRunning(dataDir);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(run.pipe as string);
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    }).catch(() => {
      throw notRunning(dataDir);
    });
    const client = new SrvClient(socket);
    await client.call(
      { cmd: "register", kind: "tool", pid: process.pid, version: "agentmux-cli" },
      (e) => e.event === "registered",
    );
    return { client, run };
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
  call(cmd: CommandInput, done?: (ev: Event) => boolean): Promise<Event> {
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
      if (this.#closed) return reject(gone());
      let off = () => {};
      const onGone = () => {
        off();
        reject(gone());
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

  close(): void {
    if (!this.#closed) this.#socket.end(`${JSON.stringify({ cmd: "goodbye" })}\n`);
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

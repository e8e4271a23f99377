import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CommandInput,
  decodeEvent,
  type EstartInfo,
  type Event,
  NdjsonDecoder,
  parseSrvStderrLine,
} from "@agentmux/common-ipc";
import { afterEach } from "vitest";
import WebSocket from "ws";

export const MAIN = join(import.meta.dirname, "..", "dist", "bin.js");
export const AUTH_KEY = "test-key-0123456789-abcdefghij";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "amsrv-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Polls `check` until it returns something other than undefined/false, or fails at the deadline. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SrvOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Start without AGENTMUX_AUTH_KEY, so srv mints a key into <data-dir>/auth.key. */
  mintKey?: boolean;
}

/** A real agentmux-srv process. */
export class Srv {
  readonly stderr: string[] = [];
  estart: EstartInfo | undefined;
  exitCode: number | null | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly pipe: string,
  ) {
    let buf = "";
    child.stderr?.on("data", (d: Buffer) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const l of lines) {
        this.stderr.push(l);
        const parsed = parseSrvStderrLine(l);
        if (parsed.kind === "estart") this.estart = parsed;
      }
    });
    child.on("exit", (code, signal) => {
      this.exitCode = code ?? (signal ? -1 : null);
    });
  }

  /** Spawns srv; resolves once it printed ESTART (or exited). */
  static async start(options: SrvOptions = {}): Promise<Srv> {
    const dir = options.dataDir ?? join(tempDir(), "data");
    const pipe = join(tempDir(), "srv.sock");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AGENTMUX_AUTH_KEY: AUTH_KEY,
      AGENTMUX_SRV_PIPE_PATH: pipe,
      ...options.env,
    };
    if (options.mintKey) delete env.AGENTMUX_AUTH_KEY;
    const child = spawn(process.execPath, [MAIN, "--data-dir", dir, ...(options.args ?? [])], {
      env,
      stdio: ["pipe", "ignore", "pipe"],
    });
    const srv = new Srv(child, dir, pipe);
    cleanups.push(() => srv.kill("SIGKILL"));
    await until("ESTART or exit", () => srv.estart !== undefined || srv.exitCode !== undefined, 20_000);
    return srv;
  }

  get web(): string {
    return `http://${this.estart?.web}`;
  }

  get wsUrl(): string {
    return `ws://${this.estart?.ws}/ws`;
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    if (this.exitCode !== undefined) return Promise.resolve();
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.kill(signal);
    return exited;
  }

  exited(ms = 10_000): Promise<number | null> {
    return until("srv to exit", () => (this.exitCode === undefined ? undefined : { code: this.exitCode }), ms).then(
      (r) => r.code,
    );
  }

  async http(
    cmd: CommandInput | string,
    key: string | null = AUTH_KEY,
  ): Promise<{ status: number; body: { events?: Event[]; error?: string } }> {
    const res = await fetch(`${this.web}/api/v1/command`, {
      method: "POST",
      headers: key === null ? {} : { "x-authkey": key },
      body: typeof cmd === "string" ? cmd : JSON.stringify(cmd),
    });
    return { status: res.status, body: (await res.json()) as { events?: Event[]; error?: string } };
  }
}

/** Collects events from a client and lets a test wait for them. */
abstract class Client {
  readonly events: Event[] = [];
  closed = false;
  #cursor = 0;

  protected push(text: string): void {
    const r = decodeEvent(text);
    if (!r.ok) throw new Error(`srv sent an invalid event: ${r.error.message}: ${text.slice(0, 200)}`);
    this.events.push(r.value);
  }

  abstract send(frame: CommandInput | string): void;

  /** The next event (after those already taken) matching `pred`. */
  async next(pred: (e: Event) => boolean = () => true, ms = 10_000): Promise<Event> {
    return until(
      "an event",
      () => {
        for (let i = this.#cursor; i < this.events.length; i++) {
          const ev = this.events[i] as Event;
          if (pred(ev)) {
            this.#cursor = i + 1;
            return ev;
          }
        }
        return undefined;
      },
      ms,
    );
  }

  /** Sends a command and waits for the event it is answered with. */
  async call(frame: CommandInput, pred: (e: Event) => boolean): Promise<Event> {
    this.send(frame);
    return this.next(pred);
  }

  async register(pid: number): Promise<Event> {
    this.send({ cmd: "register", kind: "tool", pid, version: "test" });
    return this.next((e) => e.event === "registered" || (e.event === "error" && e.code === "already_registered"));
  }

  waitClosed(ms = 10_000): Promise<true> {
    return until("the connection to close", () => this.closed, ms);
  }
}

export class PipeClient extends Client {
  private constructor(readonly socket: net.Socket) {
    super();
    const decoder = new NdjsonDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
    socket.on("data", (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) if (f.ok) this.push(f.frame);
    });
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => {});
  }

  static connect(path: string): Promise<PipeClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      socket.once("connect", () => {
        const c = new PipeClient(socket);
        cleanups.push(() => {
          socket.destroy();
        });
        resolve(c);
      });
      socket.once("error", reject);
    });
  }

  send(frame: CommandInput | string): void {
    this.socket.write(typeof frame === "string" ? frame : `${JSON.stringify(frame)}\n`);
  }
}

export class WsClient extends Client {
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on("message", (data: Buffer) => this.push(data.toString("utf8")));
    ws.on("close", () => {
      this.closed = true;
    });
    ws.on("error", () => {});
  }

  static connect(
    url: string,
    options: WebSocket.ClientOptions = { headers: { "x-authkey": AUTH_KEY } },
  ): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      ws.once("open", () => {
        cleanups.push(() => ws.terminate());
        resolve(new WsClient(ws));
      });
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
  }

  send(frame: CommandInput | string | Buffer): void {
    this.ws.send(typeof frame === "string" || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }
}

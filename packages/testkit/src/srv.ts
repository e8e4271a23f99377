// A harness for the real agentmux-srv: start the built bin as a child process on a temp data dir
// and socket, and talk to it as clients do (Unix socket, WebSocket, HTTP). Everything it starts
// is stopped, and every directory it makes removed, after the test (see ./cleanup.ts).

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CommandInput,
  decodeEvent,
  type EstartInfo,
  type Event,
  NdjsonDecoder,
  parseSrvStderrLine,
} from "@agentmux/common-ipc";
import WebSocket from "ws";
import { claudeBinary } from "./claude-cli.js";
import { onCleanup, tempDir } from "./cleanup.js";
import { until } from "./poll.js";
import { groupMembers } from "./process.js";
import { standIn } from "./stand-ins.js";

/**
 * srv's built bin (apps/srv/dist/bin.js), found from where the testkit sits in the repository
 * (src/ and dist/ are both one level below packages/testkit/). The testkit does not depend on
 * srv — srv's tests depend on the testkit — so the path comes from the layout, not a resolve;
 * `SrvOptions.bin` takes another. srv must be built first (its test task builds it).
 */
export const SRV_BIN = fileURLToPath(new URL("../../../apps/srv/dist/bin.js", import.meta.url));

/** The auth key `Srv.start` gives srv (AGENTMUX_AUTH_KEY) and the clients send by default. */
export const AUTH_KEY = "test-key-0123456789-abcdefghij";

/** The event of one kind, narrowed from the `Event` union. */
export type EventOf<K extends Event["event"]> = Extract<Event, { event: K }>;

/** A predicate for `Client.next`: events of `kind` (and, if given, `pred`). */
export function is<K extends Event["event"]>(
  kind: K,
  pred: (e: EventOf<K>) => boolean = () => true,
): (e: Event) => boolean {
  return (e) => e.event === kind && pred(e as EventOf<K>);
}

/** How `Srv.start` runs srv. */
export interface SrvOptions {
  /** The data dir (`--data-dir`); default a new one in a `tempDir`. Pass a dead srv's to restart it. */
  dataDir?: string;
  /** More srv flags. */
  args?: string[];
  /** Added to (and overriding) this process's environment, AGENTMUX_AUTH_KEY, AGENTMUX_SRV_PIPE_PATH and AGENTMUX_RELAY_DIR. */
  env?: Record<string, string>;
  /** Start without AGENTMUX_AUTH_KEY, so srv mints a key into <data-dir>/auth.key. */
  mintKey?: boolean;
  /** The srv bin to run; default `SRV_BIN`. */
  bin?: string;
}

/** Pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return children;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1");
  } catch {
    return "";
  }
}

/** A new workspace with one tab, made through `client`; returns the tab id. */
export async function newTab(client: Client): Promise<string> {
  const ws = (await client.call(
    { cmd: "create_workspace", name: "w" },
    is("workspace_created"),
  )) as EventOf<"workspace_created">;
  const tab = (await client.call(
    { cmd: "create_tab", workspace_id: ws.workspace_id, name: "t" },
    is("tab_created"),
  )) as EventOf<"tab_created">;
  return tab.tab_id;
}

/** A claude agent block in `tabId` with `meta` on top of `view: "agent"`; returns the block id. */
export async function agentBlock(client: Client, tabId: string, meta: Record<string, unknown>): Promise<string> {
  const created = (await client.call(
    { cmd: "create_block", tab_id: tabId, meta: { view: "agent", "agent:provider": "claude", ...meta } },
    is("block_created"),
  )) as EventOf<"block_created">;
  return created.block_id;
}

/** Starts srv (see `Srv.start`) with one socket client registered as this process. */
export async function srvWithClient(options: SrvOptions = {}): Promise<{ srv: Srv; client: PipeClient }> {
  const srv = await Srv.start(options);
  const client = await PipeClient.connect(srv.pipe);
  await client.register(process.pid);
  return { srv, client };
}

/** A real Claude Code agent named `name` (in a fresh working dir unless given), in `tabId`; its block id. */
export function claudeAgent(client: Client, tabId: string, name: string, cwd = tempDir("agent-cwd-")): Promise<string> {
  return agentBlock(client, tabId, { "agent:cwd": cwd, "agent:name": name, "agent:command": claudeBinary() });
}

/** Client pids `stubbornAgent` registers with (far above any real pid). */
const STUBBORN_CLIENT_PIDS = 900_000_000;
let stubbornClients = 0;

/**
 * Starts the stubborn stand-in (see `standIn`) as an agent of the srv at `pipe`, in the middle of
 * a turn, and waits until its own child runs too. Returns its process group (the leader's pid),
 * that child, and its working directory (where it notes the SIGTERMs it ignores).
 */
export async function stubbornAgent(pipe: string): Promise<{ pgid: number; grandchild: number; cwd: string }> {
  const client = await PipeClient.connect(pipe);
  // A client pid of its own, so several of these can run against one srv.
  await client.register(STUBBORN_CLIENT_PIDS + ++stubbornClients);
  const cwd = tempDir();
  const id = await agentBlock(client, await newTab(client), {
    "agent:cwd": cwd,
    "agent:command": standIn("stubborn-cli"),
  });
  client.send({ cmd: "agent_send", block_id: id, message: "go" });
  const running = (await client.next(
    is("agent_status", (e) => e.block_id === id && e.pid !== null && e.turn_active),
    20_000,
  )) as EventOf<"agent_status">;
  const pgid = running.pid as number;
  const grandchild = await until("the agent's own child", () => {
    const file = join(cwd, "grandchild.pid");
    const pid = existsSync(file) ? Number(readFileSync(file, "utf8")) : 0;
    return pid > 0 && groupMembers(pgid).includes(pid) && pid;
  });
  return { pgid, grandchild, cwd };
}

/** A real agentmux-srv process, SIGKILLed after the test unless it exited. */
export class Srv {
  /** Every stderr line so far. */
  readonly stderr: string[] = [];
  /** What its AGENTMUXSRV-ESTART line said, once it printed one. */
  estart: EstartInfo | undefined;
  /** undefined while it runs; then its exit code (-1 if a signal ended it). */
  exitCode: number | null | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly pipe: string,
    /** The agents' relay socket of the default instance. */
    readonly relaySocket: string,
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

  /** Spawns srv (socket in a `tempDir`); resolves once it printed ESTART, or exited. */
  static async start(options: SrvOptions = {}): Promise<Srv> {
    const srv = Srv.spawn(options);
    await until("ESTART or exit", () => srv.estart !== undefined || srv.exitCode !== undefined, 20_000);
    return srv;
  }

  /** Spawns srv (socket in a `tempDir`) and returns at once, before it is ready. */
  static spawn(options: SrvOptions = {}): Srv {
    const dir = options.dataDir ?? join(tempDir(), "data");
    const pipe = join(tempDir(), "srv.sock");
    const relayDir = join(tempDir(), "relay");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AGENTMUX_AUTH_KEY: AUTH_KEY,
      AGENTMUX_SRV_PIPE_PATH: pipe,
      AGENTMUX_RELAY_DIR: relayDir,
      ...options.env,
    };
    if (options.mintKey) delete env.AGENTMUX_AUTH_KEY;
    const child = spawn(process.execPath, [options.bin ?? SRV_BIN, "--data-dir", dir, ...(options.args ?? [])], {
      env,
      stdio: ["pipe", "ignore", "pipe"],
    });
    const relaySocket = join(env.AGENTMUX_RELAY_DIR ?? relayDir, "bundles", "default", "relay.sock");
    const srv = new Srv(child, dir, pipe, relaySocket);
    onCleanup(() => srv.kill("SIGKILL"));
    return srv;
  }

  /** Its HTTP base URL. */
  get web(): string {
    return `http://${this.estart?.web}`;
  }

  /** Its WebSocket URL. */
  get wsUrl(): string {
    return `ws://${this.estart?.ws}/ws`;
  }

  /** Sends `signal`; resolves once srv exited. */
  kill(signal: NodeJS.Signals): Promise<void> {
    if (this.exitCode !== undefined) return Promise.resolve();
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.kill(signal);
    return exited;
  }

  /** Its exit code once it exits (see `exitCode`); fails after `ms`. */
  exited(ms = 10_000): Promise<number | null> {
    return until("srv to exit", () => (this.exitCode === undefined ? undefined : { code: this.exitCode }), ms).then(
      (r) => r.code,
    );
  }

  /** srv's agent guardian (its child running the guardian script), if it has one now. */
  guardianPid(): number | undefined {
    const pid = this.child.pid;
    return pid === undefined ? undefined : childrenOf(pid).find((c) => cmdline(c).includes("agentmux-guardian"));
  }

  /**
   * Crashes srv so that its agents survive it, as when the guardian was killed too (the OOM
   * killer taking both, say): srv is frozen first, so it cannot replace its guardian, then the
   * guardian and srv are SIGKILLed.
   */
  async crashLeavingAgents(): Promise<void> {
    this.child.kill("SIGSTOP");
    const guardian = this.guardianPid();
    if (guardian !== undefined) process.kill(guardian, "SIGKILL");
    await this.kill("SIGKILL");
  }

  /** POSTs one command to /api/v1/command with `key` (null: no key header). */
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

/** Collects a connection's events and lets a test wait for them. */
export abstract class Client {
  /** Every event received, in order. */
  readonly events: Event[] = [];
  /** True once the connection closed. */
  closed = false;
  #cursor = 0;

  protected push(text: string): void {
    const r = decodeEvent(text);
    if (!r.ok) throw new Error(`srv sent an invalid event: ${r.error.message}: ${text.slice(0, 200)}`);
    this.events.push(r.value);
  }

  /** Sends a command, or raw text as is (a string is not framed or checked). */
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

  /** Registers as a tool with `pid`; resolves with `registered` (or the already_registered error). */
  async register(pid: number): Promise<Event> {
    this.send({ cmd: "register", kind: "tool", pid, version: "test" });
    return this.next((e) => e.event === "registered" || (e.event === "error" && e.code === "already_registered"));
  }

  /** Resolves once srv closed the connection; fails after `ms`. */
  waitClosed(ms = 10_000): Promise<true> {
    return until("the connection to close", () => this.closed, ms);
  }
}

/** A client on srv's Unix socket (NDJSON), destroyed after the test. */
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
        onCleanup(() => {
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

/** A WebSocket client (sends the auth key by default), terminated after the test. */
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
        onCleanup(() => ws.terminate());
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

// Helpers for benchmarks that run a real agentmux-srv process.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EstartInfo, parseSrvStderrLine } from "@agentmux/common-ipc";

/** The srv under test: this checkout's build, or another build's bin.js (to measure a before and an after). */
export const SRV_MAIN =
  process.env.AGENTMUX_BENCH_SRV ?? join(import.meta.dirname, "..", "apps", "srv", "dist", "bin.js");
export const KEY = "bench-key-0123456789abcdef";

export interface RunningSrv {
  child: ChildProcess;
  estart: EstartInfo;
  pipe: string;
  dataDir: string;
  /** Milliseconds from spawn to the ESTART line. */
  startMs: number;
  stop(): Promise<void>;
}

export async function startSrv(
  dataDir = mkdtempSync(join(tmpdir(), "bench-srv-")),
  args: string[] = [],
): Promise<RunningSrv> {
  const pipe = join(mkdtempSync(join(tmpdir(), "bench-sock-")), "s.sock");
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [SRV_MAIN, "--data-dir", dataDir, ...args], {
    env: { ...process.env, AGENTMUX_AUTH_KEY: KEY, AGENTMUX_SRV_PIPE_PATH: pipe },
    stdio: ["pipe", "ignore", "pipe"],
  });
  const estart = await new Promise<EstartInfo>((resolve, reject) => {
    let buf = "";
    child.stderr?.on("data", (d: Buffer) => {
      buf += d;
      for (const line of buf.split("\n")) {
        const p = parseSrvStderrLine(line);
        if (p.kind === "estart") resolve(p);
      }
    });
    child.once("exit", (code) => reject(new Error(`srv exited ${code}: ${buf}`)));
  });
  const startMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    child,
    estart,
    pipe,
    dataDir,
    startMs,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Calls `onLine` for each newline-terminated line arriving on the socket. */
export function onLines(socket: Socket, onLine: (line: string) => void): void {
  let buf = "";
  socket.on("data", (d) => {
    buf += d;
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  });
}

type Frame = Record<string, unknown>;

/**
 * A registered NDJSON client of srv's Unix socket: `call` sends a command and resolves with the
 * first event of the given kind or req_id; `onEvent` sees every event; `tabId` is the starter tab.
 */
export async function benchClient(pipe: string, pid: number, onEvent: (e: Frame) => void = () => {}) {
  const socket = connect(pipe);
  const waiting = new Map<string, (e: Frame) => void>();
  onLines(socket, (line) => {
    const e = JSON.parse(line) as Frame;
    onEvent(e);
    for (const [key, resolve] of waiting) if (e.event === key || e.req_id === key) resolve(e);
  });
  const call = (cmd: Frame, until: string) =>
    new Promise<Frame>((resolve) => {
      waiting.set(until, (e) => {
        waiting.delete(until);
        resolve(e);
      });
      socket.write(`${JSON.stringify(cmd)}\n`);
    });
  await call({ cmd: "register", kind: "tool", pid, version: "bench" }, "registered");
  const snap = await call({ cmd: "get_srv_snapshot" }, "srv_snapshot");
  const tabId = ((snap.tabs as string[][])[0] as string[])[0] as string;
  return { socket, call, tabId };
}

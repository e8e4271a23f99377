import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import net from "node:net";
import { dashboardLink } from "./dashboard.js";
import { EXIT, LauncherError } from "./errors.js";
import { Host } from "./host.js";
import { launcherPaths } from "./paths.js";
import { type RunFile, readRunFile, removeRunFile, writeKeyFile, writeRunFile } from "./run-file.js";
import { findSrv } from "./srv-bin.js";
import { lastLines, type SrvProcess, startSrvProcess } from "./srv-process.js";

export const SUPERVISE_DEFAULTS = Object.freeze({
  /** srv crashes restarted within `restartWindowMs`; one more and the launcher gives up. */
  maxRestarts: 3,
  restartWindowMs: 120_000,
  /** First restart delay, doubled for each further one. */
  backoffMs: 250,
  /**
   * How long srv gets to stop before it is SIGKILLed: longer than srv's own 1.2 s shutdown
   * deadline (its agents' stop ladder, then its clients), so an orderly stop is never cut short;
   * srv kills what is left of its agents at its deadline itself.
   */
  stopGraceMs: 1500,
  /** How long a second launcher waits for the first one's run file. */
  waitForOtherMs: 30_000,
});

export interface StartOptions {
  dataDir: string;
  instance: string;
  env: NodeJS.ProcessEnv;
  readyMs?: number;
  /** A host program to run beside srv (a shell command line; see Host). */
  host?: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Binds the single-instance socket; undefined when another launcher holds it. */
async function holdInstance(path: string): Promise<net.Server | undefined> {
  const bind = () =>
    new Promise<net.Server | "in_use">((resolve, reject) => {
      const server = net.createServer((socket) => socket.end());
      server.once("error", (err: NodeJS.ErrnoException) =>
        err.code === "EADDRINUSE" ? resolve("in_use") : reject(err),
      );
      server.listen(path, () => resolve(server));
    });
  const first = await bind();
  if (first !== "in_use") return first;
  // A socket file (not Linux) may be stale: a dead launcher's. Nobody answering it means it is.
  if (path.startsWith("\0") || (await answers(path))) return undefined;
  unlinkSync(path);
  const second = await bind();
  return second === "in_use" ? undefined : second;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** What a person needs to connect, printed when srv is ready. */
export function describeRun(run: RunFile): string {
  return [
    `agentmux is running (srv ${run.version}, pid ${run.srv_pid}; data dir ${run.data_dir})`,
    "",
    `  HTTP       http://${run.web}`,
    `  WebSocket  ws://${run.ws}/ws`,
    `  Unix       ${run.pipe ?? "(not bound: see the log)"}`,
    `  auth key   ${run.key_file}`,
  ].join("\n");
}

/**
 * `agentmux start` in the foreground: one launcher per data dir; srv started with a fresh key,
 * supervised (a crash is restarted up to 3 times in 120 s, with backoff, then the launcher gives
 * up with srv's last lines), and stopped on SIGINT/SIGTERM/SIGHUP. Resolves with the exit code.
 */
export async function runStart(options: StartOptions): Promise<number> {
  const { dataDir, out, err } = options;
  const paths = launcherPaths(dataDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const lock = await holdInstance(paths.lockSocket);
  if (lock === undefined) {
    const deadline = Date.now() + SUPERVISE_DEFAULTS.waitForOtherMs;
    let run = readRunFile(dataDir);
    while (run === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      run = readRunFile(dataDir);
    }
    out(
      run
        ? `already running (launcher pid ${run.launcher_pid})\n${describeRun(run)}`
        : "another launcher is starting on this data dir",
    );
    return EXIT.ok;
  }
  const bin = findSrv(options.env);
  const authKey = randomBytes(24).toString("base64url");
  const keyFile = writeKeyFile(dataDir, authKey);

  let srv: SrvProcess | undefined;
  let stopping: Promise<void> | undefined;
  /** Aborts a start in progress when a stop comes first. */
  const aborted = new AbortController();
  let stopped!: () => void;
  const stopRequested = new Promise<void>((r) => {
    stopped = r;
  });
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped();
      aborted.abort();
      await host?.stop();
      const current = srv;
      if (current !== undefined && current.child.exitCode === null && current.child.signalCode === null) {
        current.child.stdin?.end();
        current.child.kill("SIGTERM");
        const grace = setTimeout(() => killGroup(current), SUPERVISE_DEFAULTS.stopGraceMs);
        await current.exited;
        clearTimeout(grace);
      }
    })();
    return stopping;
  };
  let hostGaveUp = false;
  const host =
    options.host === undefined
      ? undefined
      : new Host({
          command: options.host,
          authKey,
          env: options.env,
          err,
          onEnd: (end) => {
            hostGaveUp = end === "gave_up";
            void stop();
          },
        });
  const onSignal = () => void stop();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);

  const crashes: number[] = [];
  let code: number = EXIT.ok;
  try {
    for (;;) {
      try {
        srv = await startSrvProcess({
          bin,
          dataDir,
          instance: options.instance,
          authKey,
          env: options.env,
          ...(options.readyMs === undefined ? {} : { readyMs: options.readyMs }),
          onProgress: err,
          signal: aborted.signal,
        });
      } catch (e) {
        if (e instanceof LauncherError && stopping === undefined) {
          err(`agentmux: ${e.message}`);
          code = e.exitCode;
        }
        break;
      }
      const run: RunFile = {
        launcher_pid: process.pid,
        srv_pid: srv.child.pid as number,
        version: srv.estart.version,
        instance: srv.estart.instance,
        web: srv.estart.web,
        ws: srv.estart.ws,
        pipe: srv.estart.pipe ?? null,
        relay: srv.estart.relay ?? null,
        data_dir: dataDir,
        key_file: keyFile,
        started_at: new Date().toISOString(),
      };
      writeRunFile(dataDir, run);
      if (crashes.length === 0) {
        // A link that works once: the browser trades it for a session (`agentmux dashboard` prints a new one).
        const link = await dashboardLink(run, authKey).then(
          (url) => `  dashboard  ${url}`,
          (e: Error) => `  dashboard  (no link: ${e.message})`,
        );
        out(`${describeRun(run)}\n${link}\n\nCtrl-C stops it.`);
      } else out(`srv restarted (pid ${run.srv_pid})`);
      // The host runs on srv's current endpoints: (re)started after every srv start.
      await host?.start(run);
      const ended = await Promise.race([srv.exited, stopRequested.then(() => undefined)]);
      if (ended === undefined || stopping !== undefined) break;
      if (ended.code === 0) break; // srv stopped by itself, cleanly
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && now - (crashes[0] as number) > SUPERVISE_DEFAULTS.restartWindowMs) crashes.shift();
      const how = ended.signal ? `signal ${ended.signal}` : `exit code ${ended.code}`;
      if (crashes.length > SUPERVISE_DEFAULTS.maxRestarts) {
        err(
          `agentmux: srv crashed (${how}) ${crashes.length} times within ${SUPERVISE_DEFAULTS.restartWindowMs / 1000} s; giving up${lastLines(srv.tail())}`,
        );
        code = EXIT.failed;
        break;
      }
      err(`agentmux: srv crashed (${how}); restarting${lastLines(srv.tail())}`);
      await Promise.race([
        new Promise((r) => setTimeout(r, SUPERVISE_DEFAULTS.backoffMs * 2 ** (crashes.length - 1))),
        stopRequested,
      ]);
      if (stopping !== undefined) break;
    }
  } finally {
    await stop();
    if (hostGaveUp) code = EXIT.failed;
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, onSignal);
    removeRunFile(dataDir, process.pid);
    lock.close();
    if (!paths.lockSocket.startsWith("\0") && existsSync(paths.lockSocket)) unlinkSync(paths.lockSocket);
  }
  return code;
}

function killGroup(srv: SrvProcess): void {
  const pid = srv.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    srv.child.kill("SIGKILL");
  }
}

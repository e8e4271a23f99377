import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type EstartInfo, parseSrvStderrLine } from "@agentmux/common-ipc";
import { LauncherError } from "./errors.js";

export const SRV_PROCESS_DEFAULTS = Object.freeze({
  /** srv must print ESTART within this… */
  readyMs: 30_000,
  /** …or, once it said it is migrating, within this. */
  migratingMs: 30 * 60_000,
  /** How often a progress line is printed while migrations run. */
  progressMs: 10_000,
  /** srv's last stderr lines kept, for the reason of a failure. */
  tailLines: 20,
});

export interface SrvStartOptions {
  bin: string;
  dataDir: string;
  instance: string;
  authKey: string;
  env: NodeJS.ProcessEnv;
  readyMs?: number;
  /** Told what to show a person while srv starts (migrations and their progress). */
  onProgress?: (line: string) => void;
  /** A stop asked for while srv starts: srv is killed and the start fails at once. */
  signal?: AbortSignal;
}

/** A running srv, ready (it printed ESTART). */
export interface SrvProcess {
  child: ChildProcess;
  estart: EstartInfo;
  /** srv's last stderr lines (log text, not protocol lines). */
  tail(): string[];
  /** Settles when srv has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns srv with the data dir, instance and auth key, its stdin held open for as long as the
 * launcher lives (srv stops when it closes, so a launcher killed by SIGKILL takes srv along), and
 * reads srv's stderr line protocol until it is ready: ESTART within `readyMs`; after MIGRATING
 * within 30 min, with a progress line; MIGRATION-FAILED fails at once with srv's reason; stderr
 * ending first fails. On every failure srv is SIGKILLed and waited for, so it never holds the
 * data-dir lock after the launcher gave up.
 */
export async function startSrvProcess(options: SrvStartOptions): Promise<SrvProcess> {
  // A data dir srv has never opened is set up, not migrated: the progress line says which.
  const fresh = !existsSync(join(options.dataDir, "db"));
  const child = spawn(process.execPath, [options.bin, "--data-dir", options.dataDir, "--instance", options.instance], {
    env: { ...options.env, AGENTMUX_AUTH_KEY: options.authKey },
    stdio: ["pipe", "ignore", "pipe"],
    // Its own process group: a terminal's Ctrl-C reaches the launcher, which stops srv in order.
    detached: true,
  });
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  child.stdin?.on("error", () => {});
  const tail: string[] = [];
  let buffer = "";
  let settle: { resolve: (e: EstartInfo) => void; reject: (e: LauncherError) => void } | undefined;
  const ready = new Promise<EstartInfo>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let migratingSince: number | undefined;
  let progress: NodeJS.Timeout | undefined;
  const fail = (err: LauncherError) => settle?.reject(err);
  let deadline = setTimeout(
    () =>
      fail(
        new LauncherError(
          "srv_start_timeout",
          `srv was not ready within ${(options.readyMs ?? SRV_PROCESS_DEFAULTS.readyMs) / 1000} s`,
        ),
      ),
    options.readyMs ?? SRV_PROCESS_DEFAULTS.readyMs,
  );
  const onLine = (line: string) => {
    const parsed = parseSrvStderrLine(line);
    switch (parsed.kind) {
      case "estart":
        return settle?.resolve(parsed);
      case "migrating": {
        clearTimeout(deadline);
        deadline = setTimeout(
          () => fail(new LauncherError("srv_start_timeout", "srv's migrations did not finish within 30 min")),
          SRV_PROCESS_DEFAULTS.migratingMs,
        );
        migratingSince = Date.now();
        const count = `${parsed.migrations} migration${parsed.migrations === 1 ? "" : "s"}`;
        options.onProgress?.(`${fresh ? "setting up" : "migrating"} the data dir (${count})…`);
        progress = setInterval(() => {
          options.onProgress?.(`still migrating (${Math.round((Date.now() - (migratingSince ?? 0)) / 1000)} s)…`);
        }, SRV_PROCESS_DEFAULTS.progressMs);
        return;
      }
      case "migration_failed":
        return fail(new LauncherError("srv_migration_failed", `srv's migration failed: ${parsed.error}`));
      default:
        if (line.trim() === "") return;
        tail.push(line);
        if (tail.length > SRV_PROCESS_DEFAULTS.tailLines) tail.shift();
    }
  };
  const onAbort = () => fail(new LauncherError("srv_exited_before_ready", "stopped while srv was starting"));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text: string) => {
    buffer += text;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
  child.stderr?.on("end", () => {
    if (buffer !== "") onLine(buffer);
    buffer = "";
    fail(new LauncherError("srv_exited_before_ready", `srv stopped before it was ready${lastLines(tail)}`));
  });
  try {
    const estart = await ready;
    return { child, estart, tail: () => [...tail], exited };
  } catch (err) {
    // Never leave srv holding the data dir after giving up on it.
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }
    await exited;
    throw err;
  } finally {
    clearTimeout(deadline);
    clearInterval(progress);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** `: <last lines>` of srv's stderr, indented, or nothing. */
export function lastLines(tail: readonly string[]): string {
  return tail.length === 0 ? "" : `; its last words:\n${tail.map((l) => `  ${l}`).join("\n")}`;
}

import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as z from "zod/mini";
import { launcherPaths } from "./paths.js";

/**
 * The run file, `<data-dir>/launcher/run.json`: what the running launcher and its srv are, for
 * the other verbs and other tools. The auth key is not in it but in its own 0600 file.
 */
export const RunFile = z.object({
  launcher_pid: z.number().check(z.int(), z.positive()),
  srv_pid: z.number().check(z.int(), z.positive()),
  version: z.string(),
  instance: z.string(),
  /** `host:port` of srv's HTTP listener. */
  web: z.string(),
  /** `host:port` of srv's WebSocket listener. */
  ws: z.string(),
  /** srv's Unix socket (null when it could not bind one). */
  pipe: z.nullable(z.string()),
  /** The agents' relay socket (absent: this srv hosts none). */
  relay: z.optional(z.nullable(z.string())),
  data_dir: z.string(),
  key_file: z.string(),
  started_at: z.string(),
});
export type RunFile = z.infer<typeof RunFile>;

/** Writes the run file atomically (a reader sees the old one or the new one, never half of one). */
export function writeRunFile(dataDir: string, info: RunFile): void {
  const { dir, runFile } = launcherPaths(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${runFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(tmp, runFile);
}

/** Writes this run's key (0600). */
export function writeKeyFile(dataDir: string, key: string): string {
  const { dir, keyFile } = launcherPaths(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return keyFile;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes (Linux: state Z in /proc/<pid>/stat).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return true;
  }
}

/** The run file of a live launcher, or undefined (none, unreadable, or its launcher is gone). */
export function readRunFile(dataDir: string): RunFile | undefined {
  let text: string;
  try {
    text = readFileSync(launcherPaths(dataDir).runFile, "utf8");
  } catch {
    return undefined;
  }
  let parsed: ReturnType<typeof RunFile.safeParse>;
  try {
    parsed = RunFile.safeParse(JSON.parse(text));
  } catch {
    return undefined;
  }
  if (!parsed.success || !isAlive(parsed.data.launcher_pid)) return undefined;
  return parsed.data;
}

/** Removes the run file if it still names this launcher. */
export function removeRunFile(dataDir: string, launcherPid: number): void {
  const { runFile } = launcherPaths(dataDir);
  try {
    const current = RunFile.safeParse(JSON.parse(readFileSync(runFile, "utf8")));
    if (current.success && current.data.launcher_pid !== launcherPid) return;
  } catch {
    // unreadable: ours to remove
  }
  rmSync(runFile, { force: true });
}

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * A live process as recorded for later: its pid and its start time. A later process uses both
 * to tell a survivor of a crash from an unrelated process that reused the pid.
 */
export interface ProcessRecord {
  pid: number;
  /** Opaque start time (Linux: clock ticks since boot, from /proc/<pid>/stat); null if unknown. */
  startTime: string | null;
}

/** The start time of a live process, or null if it does not exist (or cannot be read). */
export function processStartTime(pid: number): string | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  if (process.platform === "linux") {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    } catch {
      return null;
    }
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields from 3 on; starttime is field 22.
    return fields[19] ?? null;
  }
  try {
    const out = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return out === "" ? null : out;
  } catch {
    return null;
  }
}

/** Signals a whole process group; false if it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export type ReapOutcome = "gone" | "pid_reused" | "terminated" | "killed";

export interface ReapOptions {
  /** How long the group gets to exit after SIGTERM before SIGKILL. Default 2000 ms. */
  termMs?: number;
}

/**
 * Stops a process that an earlier (crashed) owner started, and its process group, but only if
 * the pid still names that process: a pid whose start time differs belongs to someone else and
 * is left alone.
 */
export async function reapOrphan(record: ProcessRecord, options: ReapOptions = {}): Promise<ReapOutcome> {
  const now = processStartTime(record.pid);
  if (now === null) return "gone";
  if (record.startTime === null || now !== record.startTime) return "pid_reused";
  if (!isAlive(record)) return "gone";
  signalGroup(record.pid, "SIGTERM");
  const deadline = Date.now() + (options.termMs ?? 2000);
  while (Date.now() < deadline) {
    if (!isAlive(record)) return "terminated";
    await new Promise((r) => setTimeout(r, 20));
  }
  signalGroup(record.pid, "SIGKILL");
  // SIGKILL cannot be ignored; the pid goes once the kernel has torn the process down.
  while (isAlive(record)) await new Promise((r) => setTimeout(r, 10));
  return "killed";
}

/**
 * True while the recorded process runs. A zombie keeps its /proc entry until its parent reaps
 * it, but it is already dead for our purposes.
 */
export function isAlive(record: ProcessRecord): boolean {
  if (record.startTime === null || processStartTime(record.pid) !== record.startTime) return false;
  if (process.platform !== "linux") return true;
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

// Whether processes run, read the way the tests need it: a zombie has exited. Read from /proc on
// Linux (where the process-group tests run); elsewhere a signal-0 probe, which cannot tell a
// zombie from a live process.
import { readdirSync, readFileSync } from "node:fs";

interface ProcStat {
  /** One letter: R running, S sleeping, Z zombie, … */
  state: string;
  pgrp: number;
}

/** The fields of /proc/<pid>/stat the tests use, or null if there is no such process. */
function procStat(pid: number | string): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ')': the fields
  // after the last ')' are state (3), ppid (4), pgrp (5), …
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0] ?? "", pgrp: Number(rest[2]) };
}

/**
 * True while `pid` runs. A zombie counts as exited: an orphan whose parent died may never be
 * reaped by anyone the test can wait for, yet it runs no code.
 */
export function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (process.platform === "linux") {
    const stat = procStat(pid);
    return stat !== null && stat.state !== "Z";
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pids of the live (non-zombie) processes in process group `pgid`, in /proc order. Linux only. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry); // null: gone while we looked
    if (stat !== null && stat.pgrp === pgid && stat.state !== "Z") members.push(Number(entry));
  }
  return members;
}

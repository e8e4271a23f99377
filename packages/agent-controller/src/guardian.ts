import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from "node:child_process";
import type { ProcessRecord } from "./process.js";

/**
 * The guardian: a small shell process that holds a pipe from its owner and, when
 * that pipe closes — the owner exited, crashed or was SIGKILLed — SIGKILLs every
 * process group still registered with it, then exits. Node has neither Linux's
 * PDEATHSIG nor Windows' job objects; an inherited pipe's EOF is what the kernel
 * gives every process when its peer dies, however it died.
 *
 * Protocol (one line each, on its stdin): `+ <pgid> <start time>` registers a
 * group whose leader had that start time (`-` when unknown); `- <pgid>` forgets it.
 * A group is killed only when its leader is gone (a group outlives its leader's pid:
 * the kernel never hands out a pid that still names a live group) or its leader has
 * the recorded start time; a leader pid now held by another process is a reused pid,
 * and its group is left alone. It ignores SIGINT, SIGTERM, SIGHUP and SIGQUIT (a
 * Ctrl-C aimed at its owner must not stop it before its owner's agents), so only
 * EOF or SIGKILL ends it. It is POSIX sh (about 1 MB of memory, not a second Node).
 */
export const GUARDIAN_SCRIPT = `
trap '' INT TERM HUP QUIT
groups=''
start_of() {
  if [ -d /proc/self ]; then
    [ -r "/proc/$1/stat" ] || return 0
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    rest=\${stat##*") "}
    set -- $rest
    shift 19
    printf '%s' "$1"
  else
    set -- $(ps -o lstart= -p "$1" 2>/dev/null)
    IFS=_
    printf '%s' "$*"
  fi
}
while IFS=' ' read -r op pgid start; do
  case "$op" in
    +) groups="$groups
$pgid $start" ;;
    -) groups=$(printf '%s\\n' "$groups" | while IFS=' ' read -r g s; do [ "$g" = "$pgid" ] || printf '%s %s\\n' "$g" "$s"; done) ;;
  esac
done
printf '%s\\n' "$groups" | while IFS=' ' read -r pgid start; do
  [ -n "$pgid" ] || continue
  now=$(start_of "$pgid")
  if [ -z "$now" ] || [ "$start" = "-" ] || [ "$now" = "$start" ]; then kill -s KILL -- "-$pgid" 2>/dev/null; fi
done
exit 0
`;

/** What replaced a guardian that died while its owner lived. */
export interface GuardianReplaced {
  /** The guardian that died. */
  pid: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its replacement (already told every registered group). */
  replacement: number | null;
}

export interface GuardianOptions {
  /** Starts the guardian process (default `child_process.spawn`). */
  spawn?: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
  /** The POSIX shell that runs the guardian (default `/bin/sh`). */
  shell?: string;
  /** Told when a guardian died while its owner lived, and was replaced. */
  onReplaced?: (info: GuardianReplaced) => void;
}

/**
 * Owner side of the guardian (see GUARDIAN_SCRIPT): keeps the registered groups and
 * a guardian process running. A guardian that dies while its owner lives (killed by
 * hand, say) is replaced at once and told every group again, so protection lapses
 * only for that moment. The process and its pipe do not keep the owner's event loop
 * alive. One per owner process; pass it to sessions (`SessionOptions.guardian`).
 */
export class Guardian {
  readonly #options: GuardianOptions;
  /** pgid → the leader's start time ("-" when unknown). */
  readonly #groups = new Map<number, string>();
  #child: ChildProcess | null = null;
  #closed = false;
  #exit: Promise<void> = Promise.resolve();

  constructor(options: GuardianOptions = {}) {
    this.#options = options;
    this.#start();
  }

  /** The current guardian process (null if it could not be started). */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Process groups registered now. */
  get guarded(): number {
    return this.#groups.size;
  }

  /** Registers the process group led by `record.pid`: it dies with the owner from now on. */
  guard(record: ProcessRecord): void {
    if (this.#closed) return;
    // One token on the wire: words joined by "_" (ps's start times have spaces), as the script reads them.
    const start = record.startTime === null ? "-" : record.startTime.trim().split(/\s+/).join("_") || "-";
    this.#groups.set(record.pid, start);
    this.#send(`+ ${record.pid} ${start}\n`);
  }

  /** Forgets a group (its leader exited and the group was killed, or it was stopped). */
  release(pgid: number): void {
    if (this.#groups.delete(pgid)) this.#send(`- ${pgid}\n`);
  }

  /**
   * Ends the guardian: it kills the groups still registered (none, after a clean stop of
   * every agent) and exits. Resolves when it has.
   */
  close(): Promise<void> {
    this.#closed = true;
    // Waiting for it must keep the owner's event loop alive (the process is unref'd otherwise).
    this.#child?.ref();
    this.#child?.stdin?.end();
    return this.#exit;
  }

  #send(line: string): void {
    const stdin = this.#child?.stdin;
    if (stdin?.writable) stdin.write(line);
  }

  #start(): void {
    const spawn = this.#options.spawn ?? nodeSpawn;
    let child: ChildProcess;
    try {
      child = spawn(this.#options.shell ?? "/bin/sh", ["-c", GUARDIAN_SCRIPT, "agentmux-guardian"], {
        // Its own process group: a signal to the owner's group (a terminal's Ctrl-C) does not reach it.
        detached: true,
        stdio: ["pipe", "ignore", "ignore"],
      });
    } catch {
      this.#child = null;
      return;
    }
    this.#child = child;
    child.stdin?.on("error", () => {}); // a dead guardian is replaced on its exit
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.#exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        resolve();
        if (this.#closed || this.#child !== child) return;
        this.#start();
        for (const [pgid, start] of this.#groups) this.#send(`+ ${pgid} ${start}\n`);
        this.#options.onReplaced?.({ pid: child.pid ?? null, code, signal, replacement: this.pid });
      });
      child.once("error", () => resolve());
    });
  }
}

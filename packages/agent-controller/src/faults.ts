import type { AgentErrorCode } from "./errors.js";
import { type AgentFault, classifyErrorText } from "./providers/types.js";

/** A fault as a session reports it: what went wrong, and what the agent said on stderr. */
export interface SessionFault extends AgentFault {
  /**
   * The agent process's last stderr lines when the fault was recorded, oldest first (most recent
   * last; empty when it printed none). Bounded by `stderrLimits`.
   */
  stderr: string[];
  /** The stable code of the error behind this fault, when it is one of this package's (a failed spawn). */
  code?: AgentErrorCode;
}

/** How a process ended. */
export interface ProcessExit {
  code: number;
  signal: NodeJS.Signals | null;
  /** A turn was running when it exited. */
  midTurn: boolean;
}

/** A stderr line that looks like the reason, when no line classifies more precisely. */
const TELLING = /error|fatal|panic|exception|invalid|denied|unauthori[sz]ed|forbidden|not found|failed|cannot|can't/i;

/**
 * What an exit nobody asked for means (a crash, a CLI that refused its key or a flag). The kind
 * comes from stderr only when a line names credentials or a rate limit: stack traces are full of
 * numbers that would read as HTTP statuses, so nothing else is inferred from them. The message
 * quotes the line that most likely says why.
 */
export function exitFault(exit: ProcessExit, stderr: readonly string[]): AgentFault {
  let classified: AgentFault | null = null;
  let telling: string | undefined;
  for (let i = stderr.length - 1; i >= 0 && classified === null; i--) {
    const line = stderr[i] as string;
    const fault = classifyErrorText(line);
    if (fault.kind === "auth" || fault.kind === "rate_limit") {
      classified = fault;
      telling = line;
    }
  }
  telling ??= stderr.findLast((l) => TELLING.test(l)) ?? stderr.at(-1);
  const how =
    exit.signal !== null
      ? `was killed by ${exit.signal}`
      : exit.code !== 0
        ? `exited with code ${exit.code}`
        : "exited";
  const message = `the agent ${how}${exit.midTurn ? " in the middle of a turn" : ""}${telling ? `: ${telling}` : ""}`;
  if (classified !== null) return { ...classified, message };
  // A signal from outside (the OOM killer, a user) may not happen again; a CLI that exits non-zero
  // on its own usually objects to its setup and will again.
  return { kind: "error", fatal: exit.signal === null && exit.code !== 0, message };
}
